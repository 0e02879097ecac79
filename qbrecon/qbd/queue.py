"""Queue a batch for the Web Connector: only what is queued is ever delivered.

QuickBooks Desktop cannot be called; it calls in (the Web Connector polls the
service). So sending to the desktop is two steps: :func:`queue_for_desktop` records
each entry as ``queued`` in the ledger, with the row it will send, and the next Web
Connector session for that company file delivers it.
"""

from __future__ import annotations

import io
import logging
import os

import numpy as np
import pandas as pd

from .. import schema as S
from ..errors import InputError, Problem
from ..ledger import Ledger, request_id_for
from . import store

log = logging.getLogger("qbrecon")

#: columns of the frame :func:`queue_for_desktop` returns
QUEUE_RESULT_COLUMNS = [S.ENTRY_ID, S.STATUS, "state", S.MESSAGE]

#: the batch fields kept with each queued entry (what the session sends later)
PAYLOAD_COLUMNS = [c for c in S.BATCH_COLUMNS if c != S.ENTRY_ID] + [S.NAME_OF, S.ITEM_NAME]

#: qbXML limits (qbXML 13.0 schema and the TimeTrackingAdd reference)
_MAX_LEN = {S.EMPLOYEE_NAME: 209, S.CUSTOMER_NAME: 209, S.ITEM_NAME: 159, S.DESCRIPTION: 4095}


def target_for(company_file: str = "") -> str:
    """The ledger target of a company file: ``qbd:<path>`` ("" = the open file)."""
    return "qbd:" + (company_file or "").strip()


def resolve_company_file(ledger: Ledger, company_file: str) -> str:
    """``company_file`` spelled as a company file the ledger already knows, if it is one.

    Windows paths are case-insensitive, so ``c:\\acme.qbw`` and ``C:\\Acme.QBW`` are the
    same file; queueing under a second spelling would leave the entries undelivered.
    """
    wanted = (company_file or "").strip()
    key = wanted.replace("/", "\\").casefold()
    for target in store.known_targets(ledger):
        known = target[4:]
        if known != wanted and known.replace("/", "\\").casefold() == key:
            log.info("company file %r is known as %r; using that spelling", wanted, known)
            return known
    return wanted


def _held_elsewhere(led: Ledger, target: str, company: str, ids: pd.Series) -> pd.DataFrame:
    """Per entry id: the state and a message for entries held (queued, pending, sent) for
    another Desktop target that may be the same company file as ``company``."""
    found = store.same_file_holds(led, target, company, ids)
    if found.empty:
        return pd.DataFrame({"state": pd.Series(dtype=object), "message": pd.Series(dtype=object)})
    rank = found["state"].map({"sent": 0, "pending": 1, "queued": 2})
    found = found.assign(rank=rank).sort_values(["entry_id", "rank"]).drop_duplicates("entry_id")
    path = found["target"].str[4:]
    there = ("QuickBooks Desktop (" + path.where(path != "", "the open company file") + ")")
    went = found["open_file"].where(found["open_file"] != "", path)
    sure = (went != "") & (company != "")
    same = pd.Series(np.where(sure, "the same company file", "which may be the same company file"),
                     index=found.index)
    txn = (" as TxnID " + found["external_id"].astype(str)).where(found["external_id"].notna(), "")
    text = pd.Series(np.select(
        [found["state"] == "sent", found["state"] == "pending"],
        [("already sent to " + went.where(went != "", "the open company file") + txn).to_numpy(
            dtype=object),
         ("on its way to " + there).to_numpy(dtype=object)],
        default=("already queued for " + there).to_numpy(dtype=object)), index=found.index)
    hint = ("; to enter it into another company file, queue it naming that file" if not company
            else "; not queued again")
    message = text + ", " + same + hint
    return pd.DataFrame({"state": found["state"].to_numpy(), "message": message.to_numpy()},
                        index=pd.Index(found["entry_id"].to_numpy(), name=S.ENTRY_ID))


def check_batch(batch: pd.DataFrame, *, file: str | None = None) -> pd.DataFrame:
    """The batch checked by :func:`qbrecon.batch.check_batch`, then for what QuickBooks
    Desktop needs on top, every problem listed at once.

    Raises:
        InputError: missing columns, bad values, or rows QuickBooks Desktop would refuse
            outright (over 24 hours, billable without a customer, text over the qbXML limits).
    """
    from ..batch import BATCH_ALL_DTYPES
    from ..batch import check_batch as check_any_batch

    b = batch.copy()
    for col, dtype in S.BATCH_EXTRA_DTYPES.items():
        if col not in b.columns:
            b[col] = pd.Series([""] * len(b), index=b.index, dtype=dtype)
    # columns and types first: without them no row can be checked
    b = S.conform(b, BATCH_ALL_DTYPES, what="batch", file=file, extra=False).reset_index(drop=True)
    problems: list[Problem] = []
    try:
        b = check_any_batch(b, file=file)
    except InputError as exc:  # bad values: listed with the desktop's own checks below
        problems.extend(exc.problems)
        for col, dtype in BATCH_ALL_DTYPES.items():
            if dtype == S.STRING:
                b[col] = b[col].fillna("")
    for col in (S.ENTRY_ID, S.EMPLOYEE_ID, S.EMPLOYEE_NAME, S.CUSTOMER_ID, S.CUSTOMER_NAME,
                S.ITEM_ID, S.ITEM_NAME, S.DESCRIPTION, S.FINGERPRINT, S.NAME_OF):
        b[col] = b[col].str.strip()
    first_row = 2 if file is not None else 1  # as check_batch counts rows
    ids = b[S.ENTRY_ID]
    total = b[S.HOURS] * 60 + b[S.MINUTES]
    checks: list[tuple[pd.Series, str, str]] = [
        (total > 24 * 60, S.HOURS, "longer than 24 hours (QuickBooks refuses one entry that long)"),
        ((b[S.BILLABLE_STATUS] == "Billable") & (b[S.CUSTOMER_ID] == "") & (b[S.CUSTOMER_NAME] == ""),
         S.CUSTOMER_ID, "billable time needs a customer"),
    ]
    for col, limit in _MAX_LEN.items():
        checks.append((b[col].str.len() > limit, col, f"longer than {limit} characters"))
    for mask, col, message in checks:
        for i in np.flatnonzero(mask.fillna(False).to_numpy(dtype=bool)):
            value = b[col].iloc[i]
            problems.append(Problem(f"entry {ids.iloc[i]}: {message}", file=file,
                                    row=int(i) + first_row, column=col,
                                    value=None if isinstance(value, str) and len(value) > 60 else value))
    if problems:
        problems.sort(key=lambda p: (p.row or 0))
        raise InputError(f"{len(problems)} problem(s) in the batch: nothing was queued",
                         file=file, problems=problems)
    return b


def payload_json(b: pd.DataFrame) -> list[str]:
    """One JSON text per row with the fields the session sends (vectorized encoding)."""
    p = b.reindex(columns=PAYLOAD_COLUMNS)
    for col in (S.NAME_OF, S.ITEM_NAME):
        p[col] = p[col].astype(S.STRING).fillna("")
    p[S.TXN_DATE] = p[S.TXN_DATE].dt.strftime("%Y-%m-%d")
    p[S.HOURLY_RATE] = p[S.HOURLY_RATE].astype("float64")
    text = p.to_json(orient="records", lines=True, force_ascii=False, double_precision=15)
    return text.rstrip("\n").split("\n") if len(p) else []


def payload_frame(payloads: list[str], index: pd.Index | None = None) -> pd.DataFrame:
    """The batch rows back from their JSON texts (vectorized decoding)."""
    if not payloads:
        out = S.empty_frame({**{c: S.BATCH_DTYPES[c] for c in PAYLOAD_COLUMNS if c in S.BATCH_DTYPES},
                             S.NAME_OF: S.STRING, S.ITEM_NAME: S.STRING})
        return out
    # txn_date is not a name read_json takes for a date: it stays text until parsed below
    df = pd.read_json(io.StringIO("\n".join(payloads)), lines=True, dtype=False)
    out = pd.DataFrame(index=df.index)
    for col in PAYLOAD_COLUMNS:
        s = df[col] if col in df else pd.Series([None] * len(df), index=df.index)
        if col == S.TXN_DATE:
            out[col] = pd.to_datetime(s, format="%Y-%m-%d")
        elif col in (S.HOURS, S.MINUTES):
            out[col] = s.fillna(0).astype("int64")
        elif col == S.HOURLY_RATE:
            out[col] = pd.to_numeric(s, errors="coerce").astype("float64")
        else:
            out[col] = s.astype(S.STRING).fillna("")
    if index is not None:
        out.index = index
    return out


def queue_for_desktop(
    batch: pd.DataFrame,
    *,
    ledger: Ledger | str | os.PathLike[str],
    company_file: str = "",
) -> pd.DataFrame:
    """Queue a batch for the Web Connector to deliver to QuickBooks Desktop.

    Entries already queued, pending or sent for this company file are left as they are
    (never queued twice); entries that failed or were undone are queued again with a
    new request id. "This company file" is compared the way Windows compares paths
    (case-insensitively, ``/`` as ``\\``, surrounding spaces ignored), and ``""``
    (whichever file is open) may be any of them: an entry held for ``""`` is not queued
    for a named file, nor one held for a named file for ``""`` (skipped, with a message
    saying where it is held), unless the entry went through ``""`` into a file known to
    be another one. To enter the same entries into two company files, name each file. Nothing is sent here: the next Web Connector session for the company
    file delivers what is queued.

    Args:
        batch: the batch (:data:`qbrecon.schema.BATCH_COLUMNS`, plus optionally
            ``name_of``, ``item_name``, ``fingerprint``). Not modified.
        ledger: the ledger (a path or a :class:`~qbrecon.ledger.Ledger`).
        company_file: the full path of the company file as QuickBooks shows it, or ""
            for whichever file QuickBooks has open when the Web Connector runs.

    Returns:
        One row per batch entry: ``entry_id``, ``status`` ("queued" or "skipped"),
        ``state`` (the ledger state now: queued, pending or sent; for an entry held for
        another target that may be the same company file, its state there) and ``message``.

    Raises:
        InputError: the batch lacks columns, or rows that QuickBooks Desktop would refuse
            (no date, no person, zero or > 24 h duration, billable without a customer,
            text over the qbXML limits); every problem is listed and nothing is queued.

    Example:
        >>> import tempfile, os, pandas as pd
        >>> from qbrecon import schema as S
        >>> batch = pd.DataFrame({S.ENTRY_ID: ["e1"], S.TXN_DATE: [pd.Timestamp("2026-11-02")],
        ...     S.EMPLOYEE_ID: ["80000001-1"], S.EMPLOYEE_NAME: ["Ada Lovelace"],
        ...     S.CUSTOMER_ID: ["80000002-1"], S.CUSTOMER_NAME: ["Acme"], S.ITEM_ID: [""],
        ...     S.HOURS: [1], S.MINUTES: [30], S.BILLABLE_STATUS: ["NotBillable"],
        ...     S.HOURLY_RATE: [float("nan")], S.DESCRIPTION: ["Design review"]})
        >>> path = os.path.join(tempfile.mkdtemp(), "ledger.sqlite")
        >>> queue_for_desktop(batch, ledger=path)[["entry_id", "status"]].values.tolist()
        [['e1', 'queued']]
        >>> queue_for_desktop(batch, ledger=path)[["status", "message"]].values.tolist()
        [['skipped', 'already queued for QuickBooks Desktop (open company file)']]
    """
    led = Ledger.open(ledger)
    try:
        store.ensure(led)
        b = check_batch(batch)
        company = resolve_company_file(led, company_file)
        target = target_for(company)
        where = company or "open company file"
        ids = b[S.ENTRY_ID]
        known = led.deliveries(target=target, entry_ids=ids.tolist()).set_index(S.ENTRY_ID)

        def before(col: str) -> pd.Series:  # the ledger's value per batch row (None if new)
            return ids.map(known[col]).astype(object).where(ids.isin(known.index), None)

        state = before("state").fillna("")
        own = state.isin(["queued", "pending", "sent"])
        # held for another Desktop target that may be the same company file ("" is
        # whichever file is open): queueing it here too would enter it twice
        other = _held_elsewhere(led, target, company, ids[~own])
        elsewhere = ids.isin(other.index) & ~own
        held = own | elsewhere
        todo = b[~held.to_numpy()]
        if len(todo):
            gen = before("generation")[~held].fillna(0).astype(int)
            run_id = led.start_run(target=target, kind="queue", note=f"{len(todo)} entries")
            items = [
                {S.ENTRY_ID: e, "request_id": request_id_for(target, e, g), "generation": g,
                 S.FINGERPRINT: f or None, "payload": p}
                for e, g, f, p in zip(todo[S.ENTRY_ID], gen.tolist(), todo[S.FINGERPRINT],
                                      payload_json(todo), strict=True)
            ]
            n = led.record_queued(target, items, run_id=run_id)
            led.finish_run(run_id, summary={"queued": n, "skipped": int(held.sum())})
            log.info("queued %d entries for %s (%d already there)", n, where, int(held.sum()))
        after = led.deliveries(target=target, entry_ids=ids.tolist()).set_index(S.ENTRY_ID)
        txn = before("external_id")
        txn_text = (" (TxnID " + txn.astype(str) + ")").where(txn.notna(), "")
        old_fp = before(S.FINGERPRINT)
        changed = (state == "sent") & old_fp.notna() & (b[S.FINGERPRINT] != "") & (
            old_fp.astype(str) != b[S.FINGERPRINT].astype(str))
        message = pd.Series(np.select(
            [state == "queued", state == "pending", state == "sent", state.isin(["failed", "undone"])],
            [f"already queued for QuickBooks Desktop ({where})",
             f"on its way to QuickBooks Desktop ({where}); its outcome is being confirmed",
             ("already in QuickBooks Desktop" + txn_text).to_numpy(dtype=object),
             (f"queued again for {where} (was " + state + ")").to_numpy(dtype=object)],
            default=f"queued for {where}"), index=b.index)
        message = message.where(~changed, message + "; it has changed since it was sent")
        if elsewhere.any():
            message = message.where(~elsewhere, ids.map(other["message"]).astype(object))
        state_after = ids.map(after["state"]).astype(object).where(
            ~elsewhere, ids.map(other["state"]).astype(object))
        out = pd.DataFrame({
            S.ENTRY_ID: ids.astype(S.STRING),
            S.STATUS: pd.Series(np.where(held, "skipped", "queued"), index=b.index, dtype=S.STRING),
            "state": state_after.astype(S.STRING),
            S.MESSAGE: message.astype(S.STRING),
        }).reset_index(drop=True)
        return out
    finally:
        if led is not ledger:
            led.close()
