"""QuickBooks Desktop qbXML: reading list query responses, building time requests.

A response file holds one ``QBXML`` document, or several written one after another
(the pages of an iterator query: ``iterator="Start"``, then ``"Continue"`` until
``iteratorRemainingCount`` is 0)::

    <?xml version="1.0" ?>
    <QBXML><QBXMLMsgsRs>
      <CustomerQueryRs requestID="1" statusCode="0" statusSeverity="Info" statusMessage="Status OK"
                       iteratorRemainingCount="0" iteratorID="{...}">
        <CustomerRet><ListID>80000002-1729000000</ListID><Name>Website Redesign</Name>
          <FullName>Acme &amp; Sons, LLC:Website Redesign</FullName><IsActive>true</IsActive>
          <ParentRef><ListID>80000001-1729000000</ListID><FullName>Acme &amp; Sons, LLC</FullName></ParentRef>
          <Sublevel>1</Sublevel></CustomerRet>
      </CustomerQueryRs>
    </QBXMLMsgsRs></QBXML>

Read: ``EmployeeQueryRs``, ``VendorQueryRs``, ``CustomerQueryRs``, ``ItemQueryRs`` and
the per-type item queries (``ItemServiceQueryRs``...), ``ClassQueryRs`` and
``PayrollItemWageQueryRs``. ``qb_id`` is the ``ListID``. An item's rate is its
``SalesOrPurchase/Price`` or ``SalesAndPurchase/SalesPrice``; employees and vendors
name a billing rate level (``BillingRateRef``), not an amount, so they have none. Parsing goes through
:func:`qbrecon._xml.parse_xml` (no DTDs, no entities, size limit).

Time out (the last section): reusable pieces for sending time to QuickBooks Desktop, by
file or through the Web Connector. :func:`time_tracking_add_requests` builds one
``TimeTrackingAddRq`` per batch row, with its ``requestID`` (at most 50 characters) and
``ExternalGUID`` (derived from the entry id, so the same entry always carries the same
GUID); :func:`message_set` wraps requests into a ``<QBXML>`` document for a qbXML
version, ``onError="continueOnError"``; :func:`export_qbxml` writes both to a file.
Fields follow the qbXML 13.0 schema order (QuickBooks answers an out-of-order element
with the opaque 0x80040400). Text is escaped, and characters outside ASCII are written
as character references, so the file is plain ASCII.

Example:
    >>> xml = ("<QBXML><QBXMLMsgsRs><EmployeeQueryRs statusCode='0' statusSeverity='Info'>"
    ...        "<EmployeeRet><ListID>8000-1</ListID><Name>Ada Lovelace</Name>"
    ...        "<IsActive>false</IsActive></EmployeeRet></EmployeeQueryRs></QBXMLMsgsRs></QBXML>")
    >>> recs = read_qbxml_lists(xml)
    >>> recs[0].kind, recs[0].frame[["qb_id", "name", "active"]].values.tolist()
    ('employees', [['8000-1', 'Ada Lovelace', False]])
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .. import schema as S
from .._xml import FRAGMENTS_ROOT, MAX_XML_BYTES, local_name, parse_xml
from ..errors import InputError, Problem, SettingsError
from . import PARENT_FULL, ROW, ListRecords, parse_amounts, parse_flags, raw_frame

log = logging.getLogger("qbrecon")

#: ``*Ret`` elements and the list they belong to
RET_LISTS = {
    "EmployeeRet": "employees",
    "VendorRet": "vendors",
    "CustomerRet": "customers",
    "ClassRet": "classes",
    "PayrollItemWageRet": "payroll_items",
}
#: item ``*Ret`` elements and the item type qbrecon reports (QuickBooks Online's words)
ITEM_RETS = {
    "ItemServiceRet": "Service",
    "ItemNonInventoryRet": "NonInventory",
    "ItemOtherChargeRet": "OtherCharge",
    "ItemInventoryRet": "Inventory",
    "ItemInventoryAssemblyRet": "InventoryAssembly",
    "ItemFixedAssetRet": "FixedAsset",
    "ItemSubtotalRet": "Subtotal",
    "ItemDiscountRet": "Discount",
    "ItemPaymentRet": "Payment",
    "ItemSalesTaxRet": "SalesTax",
    "ItemSalesTaxGroupRet": "SalesTaxGroup",
    "ItemGroupRet": "Group",
}
_KIND_OF = {**RET_LISTS, **dict.fromkeys(ITEM_RETS, "items")}


class NotListResponse(Exception):
    """The XML is qbXML-shaped but holds no list query response qbrecon reads."""


def _text(el: ET.Element, path: str) -> str:
    found = el.find(path)
    return "" if found is None or found.text is None else found.text


def _responses(root: ET.Element) -> list[ET.Element]:
    docs = list(root) if local_name(root.tag) == FRAGMENTS_ROOT else [root]
    out = []
    for doc in docs:
        if local_name(doc.tag) != "QBXML":
            continue
        for msgs in doc:
            if local_name(msgs.tag) == "QBXMLMsgsRs":
                out.extend(msgs)
    return out


def is_qbxml(root: ET.Element) -> bool:
    """True when ``root`` (from ``parse_xml(..., fragments=True)`` or not) is qbXML."""
    docs = list(root) if local_name(root.tag) == FRAGMENTS_ROOT else [root]
    return bool(docs) and all(local_name(d.tag) == "QBXML" for d in docs)


def qbxml_list_records(root: ET.Element, *, file: str | None = None) -> list[ListRecords]:
    """The list records in parsed qbXML (see :func:`read_qbxml_lists`).

    Raises:
        NotListResponse: qbXML, but no list query response qbrecon reads (a request
            file, or responses to other queries); the message says what it holds.
        InputError: a response with statusSeverity Error, or a record without a
            ListID or Name; all listed at once.
    """
    responses = _responses(root)
    if not responses:
        docs = list(root) if local_name(root.tag) == FRAGMENTS_ROOT else [root]
        inner = sorted({local_name(m.tag) for d in docs for m in d})
        if "QBXMLMsgsRq" in inner:
            raise NotListResponse("a qbXML request, not a response")
        raise NotListResponse("qbXML without a QBXMLMsgsRs response")
    problems: list[Problem] = []
    rows: dict[str, list[dict]] = {}
    unread: set[str] = set()
    ordinal = 0
    for rs in responses:
        rs_name = local_name(rs.tag)
        severity = rs.get("statusSeverity", "Info")
        if severity == "Error":
            problems.append(Problem(
                f"{rs_name} (requestID {rs.get('requestID', '?')}) failed with status "
                f"{rs.get('statusCode', '?')}: {rs.get('statusMessage', '')}"))
            continue
        if severity == "Warn":
            log.warning("%s: %s status %s: %s", file or "qbXML", rs_name,
                        rs.get("statusCode"), rs.get("statusMessage"))
        for ret in rs:
            tag = local_name(ret.tag)
            kind = _KIND_OF.get(tag)
            if kind is None:
                unread.add(tag if tag.endswith("Ret") else rs_name)
                continue
            ordinal += 1
            rows.setdefault(kind, []).append(_record(ret, tag, ordinal, problems))
        if not len(rs) and not rs_name.endswith("QueryRs"):
            unread.add(rs_name)
    if problems:
        raise InputError("qbXML list responses cannot be read", file=file, problems=problems)
    if not rows:
        if unread:
            raise NotListResponse(f"qbXML responses holding {', '.join(sorted(unread))}")
    elif unread:
        log.info("%s: skipped qbXML elements qbrecon does not read: %s",
                 file or "qbXML", ", ".join(sorted(unread)))
    out = []
    for kind, recs in rows.items():
        frame = pd.DataFrame(recs)
        active, bad = parse_flags(frame[S.ACTIVE])
        if bad.any():
            raise InputError("qbXML list records have a bad IsActive", file=file, problems=[
                Problem(f"record {o}: IsActive must be true or false", row=int(o), column="IsActive",
                        value=v)
                for o, v in zip(frame.loc[bad, ROW], frame.loc[bad, S.ACTIVE], strict=True)])
        cols = {c: frame[c] for c in frame.columns if c not in (S.ACTIVE, ROW, _PRICE)}
        if _PRICE in frame.columns:
            rate, bad_price = parse_amounts(frame[_PRICE].fillna(""))
            if bad_price.any():
                raise InputError("qbXML item records have a bad price", file=file, problems=[
                    Problem(f"record {o}: the price must be an amount", row=int(o),
                            column="Price", value=v)
                    for o, v in zip(frame.loc[bad_price, ROW], frame.loc[bad_price, _PRICE],
                                    strict=True)])
            cols[S.RATE] = rate
        cols[S.ACTIVE] = active.fillna(True)
        cols[ROW] = frame[ROW]
        out.append(ListRecords(kind, raw_frame(cols, len(frame)), file, "qbxml",
                               {S.QB_ID: "ListID", S.NAME: "Name", S.FULL_NAME: "FullName",
                                S.PARENT_ID: "ParentRef", PARENT_FULL: "ParentRef",
                                S.ACTIVE: "IsActive"}))
    return out


def _record(ret: ET.Element, tag: str, ordinal: int, problems: list[Problem]) -> dict:
    # qbXML responses carry no namespace; index children by local name to be safe
    kids = {local_name(c.tag): c for c in ret}

    def text(name: str) -> str:
        el = kids.get(name)
        return "" if el is None or el.text is None else el.text

    list_id, name = text("ListID"), text("Name")
    label = f"{tag} {ordinal}" + (f" ({name!r})" if name else "")
    if not list_id:
        problems.append(Problem(f"{label} has no ListID", row=ordinal, column="ListID"))
    if not name:
        problems.append(Problem(f"{label} has no Name", row=ordinal, column="Name"))
    rec = {
        S.QB_ID: list_id,
        S.NAME: name,
        S.FULL_NAME: text("FullName"),
        S.ACTIVE: text("IsActive"),
        ROW: ordinal,
    }
    parent = kids.get("ParentRef")
    if parent is not None:
        rec[S.PARENT_ID] = _text(parent, "ListID")
        rec[PARENT_FULL] = _text(parent, "FullName")
    if tag in ("EmployeeRet", "VendorRet"):
        rec.update({S.FIRST_NAME: text("FirstName"), S.LAST_NAME: text("LastName"),
                    S.EMAIL: text("Email"),
                    S.NUMBER: text("EmployeeNumber") or text("AccountNumber")})
    elif tag == "CustomerRet":
        rec[S.EMAIL] = text("Email")
    elif tag in ITEM_RETS:
        rec[S.ITEM_TYPE] = ITEM_RETS[tag]
        # one-sided items state SalesOrPurchase/Price; two-sided ones SalesAndPurchase/SalesPrice
        # (a PricePercent, as discount items have, is no rate)
        price = ""
        for block, field_name in (("SalesOrPurchase", "Price"), ("SalesAndPurchase", "SalesPrice")):
            el = kids.get(block)
            if el is not None:
                price = price or next((c.text or "" for c in el if local_name(c.tag) == field_name), "")
        if not price and "SalesPrice" in kids:  # ItemInventoryRet keeps it at the top level
            price = text("SalesPrice")
        rec[_PRICE] = price.strip()
    return rec


_PRICE = "_price"  # the item's price as the response writes it, parsed per list below


def read_qbxml_lists(
    data: bytes | str, *, file: str | None = None, max_bytes: int = MAX_XML_BYTES
) -> list[ListRecords]:
    """The list records in qbXML query responses (one document or several concatenated).

    Args:
        data: the response text or bytes (what ``receiveResponseXML`` delivers, or a file).
        file: where it came from, for error messages.
        max_bytes: refuse larger input.

    Raises:
        InputError: malformed or hostile XML (DOCTYPE, entities), a failed response,
            incomplete records, or qbXML holding no list response qbrecon reads.
    """
    root = parse_xml(data, file=file, max_bytes=max_bytes, fragments=True)
    if not is_qbxml(root):
        tags = sorted({local_name(d.tag) for d in root})
        raise InputError(f"is not qbXML (root element {', '.join(tags) or 'none'}; expected QBXML)",
                         file=file)
    try:
        return qbxml_list_records(root, file=file)
    except NotListResponse as exc:
        raise InputError(
            f"holds {exc}; qbrecon reads Employee, Vendor, Customer, Item, Class and "
            "PayrollItemWage query responses", file=file) from None


# ============================================================ TimeTrackingAdd (time out)
#: the element order of TimeTrackingAdd (qbXML 13.0 schema sequence); IsBillable is the
#: pre-6.0 element that BillableStatus replaced
TIME_TRACKING_ADD_ORDER = (
    "TxnDate",
    "EntityRef",
    "CustomerRef",
    "ItemServiceRef",
    "Rate",
    "Duration",
    "ClassRef",
    "PayrollItemWageRef",
    "Notes",
    "IsBillable",
    "BillableStatus",
    "ExternalGUID",
)
DEFAULT_VERSION = "13.0"
ON_ERROR_CHOICES = ("continueOnError", "stopOnError")
REQUEST_ID_LIMIT = 50
NOTES_LIMIT = 4095
#: FullName limits of the references TimeTrackingAdd uses
NAME_LIMITS = {
    "EntityRef": 209,
    "CustomerRef": 209,
    "ItemServiceRef": 159,
    "ClassRef": 159,
    "PayrollItemWageRef": 31,
}
DEFAULT_RETURN_ELEMENTS = ("TxnID", "EditSequence", "ExternalGUID")
REF_MODES = ("auto", "list_id", "full_name")

_LIST_ID = re.compile(
    r"^[0-9A-Fa-f]{1,8}-\d{1,10}$"
)  # QuickBooks Desktop ListID, e.g. 80000005-1234567890
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:~-]{1,50}$")
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def parse_version(version: str) -> tuple[int, int]:
    """``"13.0"`` → ``(13, 0)``; qbXML 2.0 to 16.0 are accepted.

    Raises:
        SettingsError: not a qbXML version qbrecon can write.
    """
    m = re.fullmatch(r"\s*(\d{1,2})\.(\d)\s*", str(version))
    if not m or not (2, 0) <= (int(m.group(1)), int(m.group(2))) <= (16, 0):
        raise SettingsError(
            f'qbXML version {version!r} is not supported; use one from 2.0 to 16.0, e.g. "13.0"',
            setting="version",
        )
    return int(m.group(1)), int(m.group(2))


def external_guid(entry_id: str, generation: int = 0) -> str:
    """The ``ExternalGUID`` of an entry: ``{8-4-4-4-12}`` hex, the same for the same entry.

    A later ``generation`` (after an undo, say) gives a different GUID.

    Example:
        >>> g = external_guid("clockify-0123456789abcdef")
        >>> g == external_guid("clockify-0123456789abcdef"), len(g), g[0] + g[-1], g[15]
        (True, 38, '{}', '8')
    """
    key = f"qbrecon\x1fExternalGUID\x1f{entry_id}" + (f"\x1f{generation}" if generation else "")
    raw = bytearray(hashlib.blake2b(key.encode("utf-8"), digest_size=16).digest())
    raw[6] = (raw[6] & 0x0F) | 0x80  # version 8: a name-derived, application-defined UUID
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = raw.hex().upper()
    return "{" + f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}" + "}"


def default_request_id(entry_id: str) -> str:
    """The entry id when it fits a ``requestID`` (≤ 50 plain characters), else a 35-character digest."""
    if _SAFE_ID.match(entry_id):
        return entry_id
    return "qbr" + hashlib.blake2b(entry_id.encode("utf-8"), digest_size=16).hexdigest()


def _esc(s: pd.Series) -> pd.Series:
    # line breaks as character references: they survive XML line-end normalization, and the
    # element text stays on one line (message_set indents by lines)
    return (
        s.str.replace("&", "&amp;", regex=False)
        .str.replace("<", "&lt;", regex=False)
        .str.replace(">", "&gt;", regex=False)
        .str.replace("\r", "&#13;", regex=False)
        .str.replace("\n", "&#10;", regex=False)
    )


def _attr(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\r", "&#13;")
        .replace("\n", "&#10;")
    )


def _ascii(text: str) -> str:
    return text.encode("ascii", "xmlcharrefreplace").decode("ascii")


def time_tracking_add_requests(
    batch: pd.DataFrame,
    *,
    version: str = DEFAULT_VERSION,
    request_ids: Sequence[str] | pd.Series | None = None,
    generations: Sequence[int] | pd.Series | None = None,
    refs: str = "auto",
    class_name: str | None = None,
    payroll_item: str | None = None,
    marker: bool = True,
    return_elements: Sequence[str] = DEFAULT_RETURN_ELEMENTS,
    indent: str = "    ",
    default_item: str | None = None,
    missing_item: str = "error",
) -> pd.DataFrame:
    """One ``TimeTrackingAddRq`` per batch row.

    Args:
        batch: a batch from :func:`qbrecon.build_batch`.
        version: the qbXML version the requests are for: ``BillableStatus`` from 6.0
            (``IsBillable`` before), ``ExternalGUID`` from 9.0.
        request_ids: one ``requestID`` per row (≤ 50 characters, unique), e.g. the
            ledger's; default :func:`default_request_id` of the entry id.
        generations: per-row delivery generation for :func:`external_guid` (default 0).
        refs: how to refer to employees, customers and items: ``"auto"`` uses the
            ``ListID`` when the id looks like a QuickBooks Desktop ListID and the
            ``FullName`` otherwise; ``"list_id"`` or ``"full_name"`` force one.
        class_name: a ``ClassRef`` for every row (only with class tracking on).
        payroll_item: a ``PayrollItemWageRef`` for every row (≤ 31 characters).
        marker: end ``Notes`` with `` [qbr:<12 hex>]`` (the start of the ExternalGUID), so
            people and recovery queries can find the entry in QuickBooks; fixed length, so
            validation can leave room for it (see ``qbrecon.rules.MARKER_RESERVE``).
        return_elements: ``IncludeRetElement`` names that trim QuickBooks' answer.
        indent: the indentation unit of the XML text.
        default_item: the ``ItemServiceRef`` (full name) of rows whose batch has none.
        missing_item: billable rows still without a service item, which QuickBooks
            refuses: "error" (default) or "warn" (written without ``ItemServiceRef``).

    Returns:
        A frame with ``entry_id, request_id, external_guid, xml`` (the ``<TimeTrackingAddRq>``
        element as text, ASCII only), in batch order.

    Raises:
        InputError: rows QuickBooks would refuse (no person, billable time without
            customer or service item, a name or Notes too long, characters XML cannot
            carry), every problem at once with its entry id.
        SettingsError: an unknown version or ref mode, or bad request ids.
    """
    from ..batch import check_batch, check_missing_items, with_default_item

    ver = parse_version(version)
    if refs not in REF_MODES:
        raise SettingsError(
            f"refs {refs!r} is not allowed; use one of {', '.join(REF_MODES)}", setting="refs"
        )
    b = with_default_item(check_batch(batch), default_item)
    n = len(b)
    ids = b[S.ENTRY_ID]
    no_item = check_missing_items(b, missing_item, what="qbXML")
    if request_ids is None:
        rids = pd.Series([default_request_id(e) for e in ids], dtype=S.STRING)
    else:
        rids = pd.Series(list(request_ids), dtype=S.STRING)
        if len(rids) != n:
            raise SettingsError(
                f"{len(rids)} request ids for {n} batch rows", setting="request_ids"
            )
        bad = rids.isna() | (rids.str.len() > REQUEST_ID_LIMIT) | (rids == "") | rids.duplicated()
        if bad.any():
            raise SettingsError(
                f"request ids must be unique, non-empty and at most {REQUEST_ID_LIMIT} characters "
                f"(first bad: {rids[bad].iloc[0]!r})",
                setting="request_ids",
            )
    gens = [0] * n if generations is None else [int(g) for g in generations]
    guids = pd.Series([external_guid(e, g) for e, g in zip(ids, gens, strict=True)], dtype=S.STRING)

    problems: list[Problem] = []

    def report(mask, message, column, values=None):
        for i in np.flatnonzero(np.asarray(mask, dtype=bool))[:500]:
            v = None if values is None else values.iat[i]
            problems.append(
                Problem(f"entry {ids.iat[i]}: {message}", row=int(i) + 1, column=column, value=v)
            )

    def ref(tag: str, id_col: str, name_col: str, needed: np.ndarray, what: str) -> pd.Series:
        qid = b[id_col].str.strip()
        name = b[name_col].str.strip()
        use_id = qid.str.match(_LIST_ID).to_numpy(dtype=bool, na_value=False)
        if refs == "list_id":
            use_id = (qid != "").to_numpy()
        elif refs == "full_name":
            use_id = np.zeros(n, dtype=bool)
        use_name = ~use_id & (name != "").to_numpy()
        if refs == "list_id":
            report(needed & ~use_id, f"{what} has no QuickBooks Desktop ListID ({id_col})", id_col)
        else:
            hint = "" if refs == "full_name" else " nor a QuickBooks Desktop ListID"
            report(
                needed & ~use_id & ~use_name,
                f"{what} has no QuickBooks name ({name_col}){hint}",
                name_col,
                qid,
            )
        limit = NAME_LIMITS[tag]
        report(
            use_name & (name.str.len() > limit).to_numpy(),
            f"the {what} name is over {limit} characters",
            name_col,
            name,
        )
        inner = pd.Series("", index=b.index, dtype=S.STRING)
        inner = inner.where(~use_id, "<ListID>" + _esc(qid) + "</ListID>")
        inner = inner.where(~use_name, "<FullName>" + _esc(name) + "</FullName>")
        text = "<" + tag + ">" + inner + "</" + tag + ">"
        return text.where(use_id | use_name, "")

    billable = (b[S.BILLABLE_STATUS] == "Billable").to_numpy()
    entity = ref(
        "EntityRef",
        S.EMPLOYEE_ID,
        S.EMPLOYEE_NAME,
        np.ones(n, dtype=bool),
        "the employee or vendor",
    )
    customer = ref(
        "CustomerRef", S.CUSTOMER_ID, S.CUSTOMER_NAME, billable, "billable time's customer"
    )
    item_needed = billable & ~no_item if missing_item == "warn" else billable
    item = ref("ItemServiceRef", S.ITEM_ID, S.ITEM_NAME, item_needed, "billable time's service item")

    notes = b[S.DESCRIPTION].fillna("")
    if marker:
        tags = (
            "[qbr:" + guids.str.slice(1, 9).str.lower() + guids.str.slice(10, 14).str.lower() + "]"
        )
        notes = (notes + " " + tags).str.lstrip()
    report(
        notes.str.len() > NOTES_LIMIT,
        f"Notes would be over {NOTES_LIMIT:,} characters "
        f"(description{' plus the [qbr:...] marker' if marker else ''})",
        S.DESCRIPTION,
        notes.str.len().astype(str) + " characters",
    )
    for column, values in (
        (S.DESCRIPTION, notes),
        (S.EMPLOYEE_NAME, b[S.EMPLOYEE_NAME]),
        (S.CUSTOMER_NAME, b[S.CUSTOMER_NAME]),
        (S.ITEM_NAME, b[S.ITEM_NAME]),
    ):
        report(
            values.str.contains(_XML_ILLEGAL).to_numpy(dtype=bool, na_value=False),
            "contains control characters XML cannot carry",
            column,
        )
    for tag, value in (("ClassRef", class_name), ("PayrollItemWageRef", payroll_item)):
        if value is not None and (not value.strip() or len(value) > NAME_LIMITS[tag]):
            problems.append(
                Problem(
                    f"{tag} name must have 1 to {NAME_LIMITS[tag]} characters",
                    column=tag,
                    value=value,
                )
            )
    if problems:
        problems.sort(key=lambda p: p.row or 0)
        raise InputError(
            f"the batch cannot be written as qbXML ({len(problems)} problem(s))", problems=problems
        )

    i1, i2 = indent, indent * 2
    nl = "\n"
    duration = "PT" + b[S.HOURS].astype(str) + "H" + b[S.MINUTES].astype(str) + "M0S"
    parts = {
        "TxnDate": i2
        + "<TxnDate>"
        + b[S.TXN_DATE].dt.strftime("%Y-%m-%d").astype(S.STRING)
        + "</TxnDate>"
        + nl,
        "EntityRef": i2 + entity + nl,
        "CustomerRef": (i2 + customer + nl).where(customer != "", ""),
        "ItemServiceRef": (i2 + item + nl).where(item != "", ""),
        "Duration": i2 + "<Duration>" + duration.astype(S.STRING) + "</Duration>" + nl,
    }
    if class_name:
        parts["ClassRef"] = f"{i2}<ClassRef><FullName>{_attr(class_name)}</FullName></ClassRef>{nl}"
    if payroll_item:
        parts["PayrollItemWageRef"] = (
            f"{i2}<PayrollItemWageRef><FullName>{_attr(payroll_item)}"
            f"</FullName></PayrollItemWageRef>{nl}"
        )
    parts["Notes"] = (i2 + "<Notes>" + _esc(notes) + "</Notes>" + nl).where(notes != "", "")
    if ver >= (6, 0):
        parts["BillableStatus"] = (
            i2 + "<BillableStatus>" + b[S.BILLABLE_STATUS] + "</BillableStatus>" + nl
        )
    else:
        parts["IsBillable"] = pd.Series(
            np.where(
                billable,
                f"{i2}<IsBillable>true</IsBillable>{nl}",
                f"{i2}<IsBillable>false</IsBillable>{nl}",
            ),
            dtype=S.STRING,
        )
    if ver >= (9, 0):
        parts["ExternalGUID"] = i2 + "<ExternalGUID>" + guids + "</ExternalGUID>" + nl
    body = pd.Series("", index=b.index, dtype=S.STRING)
    for tag in TIME_TRACKING_ADD_ORDER:
        if tag in parts:
            body = body + parts[tag]
    rets = (
        "".join(
            f"{i1}<IncludeRetElement>{_attr(r)}</IncludeRetElement>{nl}" for r in return_elements
        )
        if ver >= (4, 0)
        else ""
    )
    xml = (
        '<TimeTrackingAddRq requestID="'
        + rids.map(_attr).astype(S.STRING)
        + '">'
        + nl
        + i1
        + "<TimeTrackingAdd>"
        + nl
        + body
        + i1
        + "</TimeTrackingAdd>"
        + nl
        + rets
        + "</TimeTrackingAddRq>"
    )
    xml = xml.map(_ascii)
    return pd.DataFrame(
        {
            S.ENTRY_ID: ids.to_numpy(),
            "request_id": rids.to_numpy(),
            "external_guid": guids.to_numpy(),
            "xml": xml.to_numpy(dtype=object),
        }
    ).astype(S.STRING)


def message_set(
    requests: Iterable[str],
    *,
    version: str = DEFAULT_VERSION,
    on_error: str = "continueOnError",
    indent: str = "    ",
) -> str:
    """A complete qbXML request document holding ``requests`` (element texts).

    Example:
        >>> print(message_set(['<HostQueryRq requestID="1"/>'], version="13.0"))
        <?xml version="1.0" encoding="utf-8"?>
        <?qbxml version="13.0"?>
        <QBXML>
            <QBXMLMsgsRq onError="continueOnError">
                <HostQueryRq requestID="1"/>
            </QBXMLMsgsRq>
        </QBXML>
        <BLANKLINE>
    """
    major, minor = parse_version(version)
    if on_error not in ON_ERROR_CHOICES:
        raise SettingsError(
            f"onError {on_error!r} is not allowed; use one of "
            f"{', '.join(ON_ERROR_CHOICES)} (QuickBooks refuses rollbackOnError)",
            setting="on_error",
        )
    pad = indent * 2
    body = "".join(pad + r.replace("\n", "\n" + pad) + "\n" for r in requests)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<?qbxml version="{major}.{minor}"?>\n'
        "<QBXML>\n"
        f'{indent}<QBXMLMsgsRq onError="{on_error}">\n'
        f"{body}"
        f"{indent}</QBXMLMsgsRq>\n"
        "</QBXML>\n"
    )


def export_qbxml(
    batch: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    version: str = DEFAULT_VERSION,
    on_error: str = "continueOnError",
    default_item: str | None = None,
    missing_item: str = "warn",
    **options,
) -> Path:
    """Write a batch as one qbXML message set of ``TimeTrackingAddRq`` requests.

    Args:
        batch: a batch from :func:`qbrecon.build_batch`.
        path: the ``.xml`` / ``.qbxml`` file to write (replaced atomically).
        version: the qbXML version (default 13.0).
        on_error: ``"continueOnError"`` (default) or ``"stopOnError"``.
        default_item: the service item of rows whose batch has none.
        missing_item: billable rows still without a service item, which QuickBooks
            refuses: "warn" (default: written without ``ItemServiceRef``, with a
            :class:`~qbrecon.QbreconWarning` naming them) or "error".
        **options: passed to :func:`time_tracking_add_requests` (``refs``,
            ``class_name``, ``payroll_item``, ``marker``, ``request_ids``, ...).

    Returns:
        The path written.

    Raises:
        InputError: rows QuickBooks would refuse (nothing is written then).
        SettingsError: a bad version or option.

    Example:
        >>> import tempfile, os
        >>> from qbrecon.testing import make_entries, make_mapping
        >>> from qbrecon import Rules, build_batch, validate
        >>> batch = build_batch(validate(
        ...     make_entries([{"user": "Ada", "project": "Site", "duration": "1:30"}]),
        ...     make_mapping(employee={"Ada": ("80000005-1234567890", "Lovelace, Ada")},
        ...                  customer={"Site": ("8000000A-1", "Acme & Co:Site")}),
        ...     rules=Rules(target="qbd", default_item="Consulting")))
        >>> text = export_qbxml(batch, os.path.join(tempfile.mkdtemp(), "time.xml")).read_text()
        >>> "<ListID>80000005-1234567890</ListID>" in text, "<Duration>PT1H30M0S</Duration>" in text
        (True, True)
        >>> "<ItemServiceRef><FullName>Consulting</FullName></ItemServiceRef>" in text
        True
    """
    from .._io import atomic_write_bytes

    requests = time_tracking_add_requests(batch, version=version, default_item=default_item,
                                          missing_item=missing_item, **options)
    text = message_set(requests["xml"].tolist(), version=version, on_error=on_error)
    path = Path(path)
    try:
        atomic_write_bytes(path, text.encode("ascii"))
    except OSError as exc:
        raise InputError(
            f"cannot write the qbXML file: {exc.strerror or exc}", file=str(path)
        ) from exc
    log.info("wrote %d TimeTrackingAddRq requests to %s", len(requests), path)
    return path


__all__ = [
    "ITEM_RETS",
    "RET_LISTS",
    "TIME_TRACKING_ADD_ORDER",
    "NotListResponse",
    "default_request_id",
    "export_qbxml",
    "external_guid",
    "is_qbxml",
    "message_set",
    "parse_version",
    "qbxml_list_records",
    "read_qbxml_lists",
    "time_tracking_add_requests",
]
