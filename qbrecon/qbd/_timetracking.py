"""TimeTrackingAdd requests for a batch, vectorized (one request text per row).

Element order is the qbXML 13.0 schema sequence (an out-of-order element makes
QuickBooks refuse the whole message with HRESULT 0x80040400): TxnDate, EntityRef,
CustomerRef, ItemServiceRef, Duration, ClassRef, PayrollItemWageRef, Notes,
BillableStatus (6.0+), ExternalGUID (9.0+). ``Rate`` is never sent (Online only).
"""

from __future__ import annotations

import pandas as pd

from .. import schema as S


def _esc(s: pd.Series) -> pd.Series:
    s = s.astype(object).where(s.notna(), "").astype(str)
    # & first; no &apos; (QuickBooks trips on it), quotes need no escaping in element text
    return s.str.replace("&", "&amp;", regex=False).str.replace(
        "<", "&lt;", regex=False).str.replace(">", "&gt;", regex=False)


def _ref(tag: str, list_id: pd.Series, full_name: pd.Series) -> pd.Series:
    """``<Tag><ListID>..</ListID></Tag>`` when the id is known, else by FullName, else ""."""
    lid, name = _esc(list_id), _esc(full_name)
    by_id = f"<{tag}><ListID>" + lid + f"</ListID></{tag}>"
    by_name = f"<{tag}><FullName>" + name + f"</FullName></{tag}>"
    return by_id.where(lid != "", by_name.where(name != "", ""))


def external_guid(request_ids: pd.Series) -> pd.Series:
    """The ExternalGUID of each request id: its 32 hex digits as ``{8-4-4-4-12}``."""
    h = request_ids.astype(str).str[-32:].str.upper()
    return ("{" + h.str[:8] + "-" + h.str[8:12] + "-" + h.str[12:16] + "-" + h.str[16:20]
            + "-" + h.str[20:32] + "}")


def time_tracking_add_rqs(
    batch: pd.DataFrame,
    *,
    request_ids: pd.Series,
    version: tuple[int, int] = (13, 0),
    item_ids: pd.Series | None = None,
    item_names: pd.Series | None = None,
) -> pd.Series:
    """One ``TimeTrackingAddRq`` text per batch row (index aligned with ``batch``).

    Args:
        batch: rows with the batch columns (see :data:`qbrecon.schema.BATCH_COLUMNS`).
        request_ids: the qbXML ``requestID`` of each row (at most 50 characters).
        version: the qbXML version QuickBooks speaks; ``BillableStatus`` needs 6.0 and
            ``ExternalGUID`` 9.0 (below 9.0 the Notes carry a ``[qbr:<request id>]`` marker,
            so that a lost response can still be matched).
        item_ids, item_names: the service item of each row when it differs from the
            batch's ``item_id`` (the default service item, resolved by the caller).
    """
    if version < (6, 0):
        raise ValueError("qbXML below 6.0 cannot say whether time is billable")
    rid = request_ids.astype(str)
    date = batch[S.TXN_DATE].dt.strftime("%Y-%m-%d")
    entity = _ref("EntityRef", batch[S.EMPLOYEE_ID], batch[S.EMPLOYEE_NAME])
    customer = _ref("CustomerRef", batch[S.CUSTOMER_ID], batch[S.CUSTOMER_NAME])
    iid = item_ids if item_ids is not None else batch[S.ITEM_ID]
    iname = item_names if item_names is not None else (
        batch[S.ITEM_NAME] if S.ITEM_NAME in batch else pd.Series("", index=batch.index))
    item = _ref("ItemServiceRef", iid, iname)
    hours = batch[S.HOURS].astype("int64") + batch[S.MINUTES].astype("int64") // 60
    minutes = batch[S.MINUTES].astype("int64") % 60
    duration = "<Duration>PT" + hours.astype(str) + "H" + minutes.astype(str) + "M0S</Duration>"
    notes_text = _esc(batch[S.DESCRIPTION])
    if version < (9, 0):
        notes_text = notes_text + " [qbr:" + rid + "]"
    notes = ("<Notes>" + notes_text + "</Notes>").where(notes_text != "", "")
    billable = "<BillableStatus>" + _esc(batch[S.BILLABLE_STATUS]) + "</BillableStatus>"
    guid = ""
    include = "<IncludeRetElement>TxnID</IncludeRetElement><IncludeRetElement>EditSequence</IncludeRetElement>"
    if version >= (9, 0):
        guid = "<ExternalGUID>" + external_guid(rid) + "</ExternalGUID>"
        include += "<IncludeRetElement>ExternalGUID</IncludeRetElement>"
    return (
        '<TimeTrackingAddRq requestID="' + _esc(rid) + '"><TimeTrackingAdd>'
        + "<TxnDate>" + date + "</TxnDate>" + entity + customer + item + duration
        + notes + billable + guid + "</TimeTrackingAdd>" + include + "</TimeTrackingAddRq>"
    )
