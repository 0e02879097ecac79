"""Send a batch to QuickBooks Online exactly once; undo a send; create missing names.

How "exactly once" holds (the ledger protocol of :mod:`qbrecon.ledger`, applied):

1. Each entry's TimeActivity carries a marker ``[qbr:<12 hex>]`` at the end of its
   Description, derived from the entry's request id (target, entry id, generation).
2. Before a batch request leaves the machine, its intent is committed to the ledger:
   state ``pending``, with the exact request (its ``requestid``, the item's ``bId`` and
   payload). The outcome (``sent`` with the QuickBooks id, or ``failed``) is committed
   in one transaction after the answer.
3. A request that got no usable answer (timeout, lost connection, 5xx) is not simply
   resent: QuickBooks is first queried for the TimeActivities of those dates, and any
   entry whose marker is found is recorded as sent. Only the rest is sent again; when
   nothing was found the very same request is repeated with the same ``requestid``,
   which QuickBooks answers from its memory if it ran the request after all.
4. A later run first resolves every entry left ``pending`` by an interrupted run the same
   way, then skips what is ``sent`` and sends the rest.

So the sender can be killed at any point and run again: every entry ends in QuickBooks
once. Entries QuickBooks refuses (an inactive employee, closed books, ...) are recorded
``failed`` with the fault, and the rest of the batch carries on.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import sys
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import schema as S
from ..errors import (
    AuthError,
    InputError,
    Problem,
    QbreconError,
    RejectedSendError,
    SettingsError,
    TransientSendError,
)
from ..ids import hash_rows
from ..ledger import DELIVERY_COLUMNS, Ledger, request_id_for
from .client import COMPANY, THROTTLED, UNKNOWN, classify_fault, fault_text, parse_fault
from .limits import RetryPolicy

if TYPE_CHECKING:
    from .client import QBOClient

log = logging.getLogger("qbrecon")

CHUNK_SIZE = 30  # QuickBooks Online's batch limit
MAX_DESCRIPTION = 4000
MARKER_RE = re.compile(r"\[qbr:([0-9a-f]{12})\]")
MARKER_LENGTH = len("[qbr:") + 12 + 1
#: an entry must be shorter than a day (QuickBooks' API would take up to 8760 hours, but a
#: hand-edited 30-hour row is a mistake, as validation's 23:55 and the Desktop queue say)
MAX_MINUTES = 24 * 60

#: rows per page of the TimeActivity searches for markers (QuickBooks' maximum)
LOOKUP_PAGE_SIZE = 1000
#: generations tried when a fresh ledger searches QuickBooks for an entry's marker (an entry
#: refused or undone before was sent again under the next generation's marker)
LOOKUP_GENERATIONS = 8
#: the result message of an entry a fresh ledger found in QuickBooks
FOUND_MESSAGE = "already in QuickBooks (found by its marker), not resent"
#: error_code of a skipped entry that changed after it was sent (fix it in QuickBooks)
CHANGED_SINCE_SENT = "changed_since_sent"
#: a dry run's status of an entry a send would deliver (or, if left open, check then deliver)
WOULD_SEND = "would_send"
#: what a dry run returns: the send result's columns, then what would be sent
DRY_RUN_COLUMNS = [*S.SEND_RESULT_COLUMNS, "action", "request_id", "marker", "chunk", "payload"]
#: the columns of create_missing's proposals (kind and name are required)
PROPOSAL_COLUMNS = [
    S.KIND,
    S.NAME,
    S.PARENT_FULL_NAME,
    S.QB_TYPE,
    S.FIRST_NAME,
    S.LAST_NAME,
    S.EMAIL,
]
CREATE_RESULT_COLUMNS = [
    S.KIND,
    S.NAME,
    S.PARENT_FULL_NAME,
    S.QB_TYPE,
    S.FULL_NAME,
    S.STATUS,
    S.QB_ID,
    S.ERROR_CODE,
    S.MESSAGE,
]


def marker_for(request_id: str) -> str:
    """The Description marker of one delivery attempt generation: ``[qbr:<12 hex>]``.

    Example:
        >>> marker_for(request_id_for("qbo:1", "e1"))[:5]
        '[qbr:'
    """
    return f"[qbr:{request_id[3:15]}]"


def _new_batch_request_id() -> str:
    return "qbrb" + uuid.uuid4().hex  # 36 characters: QuickBooks' batch limit


# ------------------------------------------------------------------ the batch
def prepare_batch(batch: pd.DataFrame, *, file: str | None = None) -> pd.DataFrame:
    """Check a batch for QuickBooks Online and fill the optional columns; the input is not
    modified.

    The checks every batch gets (:func:`qbrecon.batch.check_batch`: ids, dates, minutes,
    statuses...) plus what QuickBooks Online needs: an employee or vendor *id*, a customer
    and a rate on billable entries, less than 24 hours per entry (hours never negative,
    minutes 0 to 59), and room for qbrecon's marker in the 4000-character Description.
    Every problem is reported at once.

    Returns:
        the batch with :data:`~qbrecon.schema.BATCH_COLUMNS` plus ``name_of`` (default
        Employee), ``item_name`` and ``fingerprint`` (a content hash where absent).

    Raises:
        InputError: listing every problem at once, with the entry, row and column.
    """
    from ..batch import check_batch

    if not isinstance(batch, pd.DataFrame):
        raise InputError(
            f"the batch must be a pandas DataFrame, not {type(batch).__name__}", file=file
        )
    first_row = 2 if file is not None else 1  # as check_batch counts rows
    found: list[tuple[int, Problem]] = []
    try:
        b = check_batch(batch, file=file)
    except InputError as exc:
        if not exc.problems or any(p.row is None for p in exc.problems):
            raise  # missing columns or unreadable types: nothing more to check
        found = [(int(p.row) - first_row, p) for p in exc.problems]  # type: ignore[arg-type]
        extras = {c: "" for c in S.BATCH_EXTRA_DTYPES if c not in batch.columns}
        b = S.conform(
            batch.assign(**extras),
            {**S.BATCH_DTYPES, **S.BATCH_EXTRA_DTYPES},
            what="batch",
            file=file,
            extra=False,
        ).reset_index(drop=True)
        for col, dtype in {**S.BATCH_DTYPES, **S.BATCH_EXTRA_DTYPES}.items():
            if dtype == S.STRING:
                b[col] = b[col].fillna("")
    for col in (S.ENTRY_ID, S.EMPLOYEE_ID, S.CUSTOMER_ID, S.ITEM_ID, S.BILLABLE_STATUS, S.NAME_OF):
        b[col] = b[col].str.strip()
    b[S.NAME_OF] = b[S.NAME_OF].replace("", "Employee")
    if (b[S.FINGERPRINT] == "").any():
        content = hash_rows(b, [c for c in S.BATCH_COLUMNS if c != S.ENTRY_ID])
        b[S.FINGERPRINT] = b[S.FINGERPRINT].mask(b[S.FINGERPRINT] == "", content)

    ids = b[S.ENTRY_ID]
    limit = MAX_DESCRIPTION - MARKER_LENGTH - 1
    billable = b[S.BILLABLE_STATUS] == "Billable"
    checks: list[tuple[pd.Series, str, str]] = [
        (b[S.EMPLOYEE_ID] == "", S.EMPLOYEE_ID, "no QuickBooks employee or vendor id"),
        (
            b[S.HOURS] * 60 + b[S.MINUTES] >= MAX_MINUTES,
            S.HOURS,
            "24 hours or more in one entry; a time entry covers part of one day (validation "
            "allows at most 23:55): split it or correct the hours",
        ),
        (billable & (b[S.CUSTOMER_ID] == ""), S.CUSTOMER_ID, "a billable entry needs a customer"),
        (
            billable & b[S.HOURLY_RATE].isna(),
            S.HOURLY_RATE,
            "a billable entry needs an hourly rate",
        ),
        (
            b[S.DESCRIPTION].str.len() > limit,
            S.DESCRIPTION,
            f"longer than {limit} characters (QuickBooks allows {MAX_DESCRIPTION} including "
            "qbrecon's marker)",
        ),
    ]
    own: list[tuple[int, Problem]] = []
    for mask, column, message in checks:
        mask = mask.fillna(False).astype(bool)
        for pos in np.flatnonzero(mask.to_numpy()):
            value = b.at[pos, column]
            problem = Problem(
                f"entry {ids.iat[pos] or '(no id)'}: {message}",
                file=file,
                row=int(pos) + first_row,
                column=column,
                value=None if column == S.DESCRIPTION else (None if pd.isna(value) else value),
            )
            own.append((int(pos), problem))
    # on a cell both flag, the QuickBooks Online reason is the more precise one
    mine = {(pos, p.column) for pos, p in own}
    found = [(pos, p) for pos, p in found if (pos, p.column) not in mine] + own
    if found:
        found.sort(key=lambda t: t[0])  # entry order; stable, so check order within an entry
        raise InputError(
            f"the batch cannot be sent: {len(found)} problem(s) in {len({p for p, _ in found})} "
            f"of {len(b)} entries (nothing was sent)",
            file=file,
            problems=[p for _, p in found],
        )
    return b


def build_payloads(batch: pd.DataFrame, request_ids: pd.Series) -> list[dict[str, Any]]:
    """The TimeActivity create payloads of a prepared batch, one per row, in order.

    ``request_ids`` holds each entry's request id; its marker ends the Description.
    """
    markers = request_ids.map(marker_for).astype(S.STRING)
    desc = batch[S.DESCRIPTION].fillna("").str.strip()
    desc = (desc + " " + markers).str.strip()
    cols = (
        pd.DataFrame(
            {
                "name_of": batch[S.NAME_OF],
                "person": batch[S.EMPLOYEE_ID],
                "person_name": batch[S.EMPLOYEE_NAME],
                "customer": batch[S.CUSTOMER_ID],
                "customer_name": batch[S.CUSTOMER_NAME],
                "item": batch[S.ITEM_ID],
                "item_name": batch[S.ITEM_NAME],
                "date": batch[S.TXN_DATE].dt.strftime("%Y-%m-%d"),
                "status": batch[S.BILLABLE_STATUS],
                "desc": desc,
            }
        )
        .astype(object)
        .where(lambda f: f.notna(), "")
    )
    hours = batch[S.HOURS].to_numpy()
    minutes = batch[S.MINUTES].to_numpy()
    rates = batch[S.HOURLY_RATE].to_numpy()
    out = []
    for i, r in enumerate(cols.to_dict("records")):
        ref: dict[str, Any] = {"value": r["person"]}
        if r["person_name"]:
            ref["name"] = r["person_name"]
        p: dict[str, Any] = {
            "NameOf": r["name_of"],
            f"{r['name_of']}Ref": ref,
            "TxnDate": r["date"],
        }
        if r["customer"]:
            p["CustomerRef"] = {
                "value": r["customer"],
                **({"name": r["customer_name"]} if r["customer_name"] else {}),
            }
        if r["item"]:
            p["ItemRef"] = {
                "value": r["item"],
                **({"name": r["item_name"]} if r["item_name"] else {}),
            }
        p["Hours"] = int(hours[i])
        p["Minutes"] = int(minutes[i])
        p["BillableStatus"] = r["status"]
        if not np.isnan(rates[i]):
            p["HourlyRate"] = float(rates[i])
        p["Description"] = r["desc"]
        out.append(p)
    return out


def _results_frame(ids: Sequence[str], results: Mapping[str, tuple]) -> pd.DataFrame:
    rows = [
        results.get(e, ("failed", None, "not_sent", "not sent: the run stopped first")) for e in ids
    ]
    frame = pd.DataFrame(rows, columns=[S.STATUS, S.QBO_ID, S.ERROR_CODE, S.MESSAGE])
    frame.insert(0, S.ENTRY_ID, list(ids))
    return frame.astype(S.SEND_RESULT_DTYPES)


# ------------------------------------------------------------------ the sender
@dataclass
class _Item:
    entry_id: str
    generation: int
    request_id: str
    payload: dict[str, Any]
    fingerprint: str | None
    stored: dict[str, Any] | None = None  # the envelope of an interrupted request
    in_batch: bool = True
    seen: bool = True  # the ledger has a delivery row for it (any state)

    @property
    def marker(self) -> str:
        return marker_for(self.request_id)

    @property
    def txn_date(self) -> str:
        return str(self.payload.get("TxnDate", ""))


@dataclass
class _Run:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    resolved: int = 0
    unknown: int = 0
    requests: int = 0
    retries: int = 0
    throttled: int = 0
    found: int = 0
    not_checked: int = 0
    searched: int = 0
    extra: list[str] = field(default_factory=list)


def _progress_enabled(progress: bool | None) -> bool:
    if progress is not None:
        return bool(progress)
    if "ipykernel" in sys.modules:
        return True
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


def _progress_bar(total: int, enabled: bool, desc: str):
    if not enabled or total <= CHUNK_SIZE:
        return contextlib.nullcontext(None)
    import warnings

    with warnings.catch_warnings():
        # tqdm.auto warns (once, on import) when a notebook lacks ipywidgets; it then
        # falls back to a text bar, which is fine
        warnings.simplefilter("ignore")
        try:
            from tqdm.auto import tqdm
        except ImportError:  # pragma: no cover - tqdm is a dependency
            return contextlib.nullcontext(None)
        return tqdm(total=total, desc=desc, unit="entry", leave=True)


class _Sender:
    """One send run: state shared by the worker threads."""

    def __init__(
        self,
        client: Any,
        led: Ledger,
        *,
        retry: RetryPolicy,
        concurrency: int,
        progress: bool | None,
    ):
        self.client = client
        self.led = led
        self.target = client.target
        self.retry = retry
        self.concurrency = max(1, int(concurrency))
        self.progress = _progress_enabled(progress)
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.results: dict[str, tuple] = {}
        self.stats = _Run()
        self.run_id = ""
        self.bar: Any = None
        self.buffer_http = True
        self._tl = threading.local()

    # ------------------------------------------------------------- logging
    def log_exchange(self, ex: dict[str, Any]) -> None:
        """The client's exchange hook: one ``http`` log event per attempt.

        The event is held (per thread) and committed in the same transaction as the
        outcomes it leads to, or on its own by :meth:`flush`; it never holds a token.
        """
        params = ex.get("params") or {}
        body = ex.get("body")
        with contextlib.suppress(TypeError, ValueError):
            body = json.loads(body) if body and str(body).lstrip().startswith(("{", "[")) else body
        status = ex.get("status")
        level = (
            "info"
            if status is not None and status < 400
            else ("warning" if status is not None else "error")
        )
        path = str(ex.get("url", "")).split("/company/", 1)[-1]
        shown = status if status is not None else ex.get("error")
        event = {
            "event": "http",
            "run_id": self.run_id,
            "target": self.target,
            "request_id": params.get("requestid"),
            "level": level,
            S.MESSAGE: f"{ex.get('method')} {path} -> {shown} in {ex.get('elapsed_ms')} ms",
            "request": {
                "method": ex.get("method"),
                "url": ex.get("url"),
                "params": params,
                "body": body,
            },
            "response": {
                "status": status,
                "elapsed_ms": ex.get("elapsed_ms"),
                "intuit_tid": ex.get("intuit_tid"),
                "error": ex.get("error"),
                "body": ex.get("response"),
            },
        }
        if self.buffer_http:
            self._stash().append(event)
        else:
            self.led.log_many([event])
        with self.lock:
            self.stats.requests += 1
            if status == 429:
                self.stats.throttled += 1

    def _stash(self) -> list[dict[str, Any]]:
        stash = getattr(self._tl, "stash", None)
        if stash is None:
            stash = self._tl.stash = []
        return stash

    def _take_stash(self) -> list[dict[str, Any]]:
        events = self._stash()
        self._tl.stash = []
        return events

    def flush(self) -> None:
        """Commit this thread's held ``http`` events."""
        events = self._take_stash()
        if events:
            self.led.log_many(events)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.stop.wait(seconds)

    # ------------------------------------------------------------- outcomes
    def _set(self, entry_id: str, in_batch: bool, row: tuple) -> None:
        with self.lock:
            if in_batch:
                self.results[entry_id] = row

    def record(
        self,
        outcomes: list[tuple[_Item, str, dict[str, Any]]],
        request_id: str | None,
        *,
        found: bool = False,
    ) -> None:
        """Commit outcomes (item, state, details), the held ``http`` events and one event per
        entry in one transaction, and keep the results.

        With ``found``, the ``sent`` outcomes are entries that were in QuickBooks before this
        run (a fresh ledger's search): recorded sent, reported "skipped".
        """
        events = self._take_stash()
        for it, state, details in outcomes:
            code = details.get(S.ERROR_CODE)
            message = details.get(S.MESSAGE) or ""
            if state == "sent":
                text = f"QuickBooks TimeActivity {details.get('external_id')}" + (
                    f" ({message})" if message else ""
                )
            else:
                text = message
            events.append(
                {
                    "event": "found" if found and state == "sent" else state,
                    "run_id": self.run_id,
                    "target": self.target,
                    S.ENTRY_ID: it.entry_id,
                    "request_id": request_id,
                    "level": "info" if state == "sent" else "error",
                    S.MESSAGE: text,
                }
            )
        if outcomes:
            rows = [
                {S.ENTRY_ID: it.entry_id, "state": state, **details}
                for it, state, details in outcomes
            ]
            self.led.record_outcomes(self.target, rows, events=events)
        elif events:
            self.led.log_many(events)
        for it, state, details in outcomes:
            if state == "sent":
                row = (
                    "skipped" if found else "sent",
                    details.get("external_id"),
                    None,
                    details.get(S.MESSAGE) or None,
                )
            else:
                code = details.get(S.ERROR_CODE)
                row = (
                    "failed",
                    None,
                    None if code is None else str(code),
                    details.get(S.MESSAGE) or "",
                )
            self._set(it.entry_id, it.in_batch, row)
        with self.lock:
            for _, state, _ in outcomes:
                if state == "sent" and found:
                    self.stats.skipped += 1
                    self.stats.found += 1
                elif state == "sent":
                    self.stats.sent += 1
                else:
                    self.stats.failed += 1
            if self.bar is not None and outcomes:
                self.bar.update(len(outcomes))

    def leave_unknown(self, items: list[_Item], err: Exception | None, attempts: int) -> None:
        """Entries whose outcome is still unknown stay pending: the next run checks them first."""
        why = str(err) if err is not None else "QuickBooks did not confirm them"
        code = (getattr(err, "fault", None) or {}).get("code") or "unknown"
        msg = (
            f"outcome unknown after {attempts} attempt(s) ({why}); it stays pending and the next "
            "send checks QuickBooks for it before sending anything again"
        )
        self.led.log_many(
            self._take_stash()
            + [
                {
                    "event": "unknown",
                    "run_id": self.run_id,
                    "target": self.target,
                    S.ENTRY_ID: it.entry_id,
                    "level": "warning",
                    S.MESSAGE: msg,
                }
                for it in items
            ]
        )
        for it in items:
            self._set(it.entry_id, it.in_batch, ("failed", None, str(code), msg))
        with self.lock:
            self.stats.unknown += len(items)
            if self.bar is not None:
                self.bar.update(len(items))

    # ------------------------------------------------------------- checking
    def settle(self, items: list[_Item], *, why: str) -> tuple[list[_Item], bool]:
        """Look the items' markers up in QuickBooks and record the ones found as sent.

        Returns:
            the items not found, and whether the lookup worked. Only a lookup that
            worked proves an item absent; after a failed one nothing may be resent.
        """
        if not items:
            return [], True
        dates = sorted(it.txn_date for it in items if it.txn_date)
        if len(dates) != len(items):
            return items, False
        try:
            rows = _time_activities_between(self.client, dates[0], dates[-1])
        except (TransientSendError, RejectedSendError) as exc:
            self.flush()
            log.warning(
                "could not check QuickBooks for %d unconfirmed entries: %s", len(items), exc
            )
            return items, False
        found = _records_by_marker(rows)
        hits, rest = [], []
        for it in items:
            recs = found.get(it.marker)
            if not recs:
                rest.append(it)
                continue
            hits.append((it, "sent", _found_details(it, recs, f"found in QuickBooks after {why}")))
        self.record(hits, None)
        with self.lock:
            self.stats.resolved += len(hits)
        return rest, True

    def find_unrecorded(self, items: list[_Item]) -> list[_Item]:
        """The safety net for a new or mistyped ledger: search QuickBooks for the markers of
        entries this ledger has no record of, and record the ones found as sent.

        One paged TimeActivity query over the entries' date range (retried as a send
        would be). Entries found are reported "skipped"; when the search fails, none of
        the entries is sent (each fails with ``not_checked``), since any may be there.

        Returns:
            the items to send (not found in QuickBooks), in their order.
        """
        if not items:
            return []
        try:
            rows = _search_markers(self.client, items, self.retry, sleep=self.sleep, stop=self.stop)
        except (TransientSendError, RejectedSendError) as exc:
            self.flush()
            self._not_checked(items, exc)
            return []
        with self.lock:
            self.stats.searched += len(items)
        hits, rest = _match_markers(items, rows, self.target)
        if hits:
            # the intent first, as for a send: a crash before the outcome leaves it pending,
            # and pending entries are looked up again, never resent unchecked. No run id:
            # this run did not create them, so undoing it must not delete them
            self.led.record_intent(
                self.target,
                [
                    {
                        S.ENTRY_ID: it.entry_id,
                        "request_id": it.request_id,
                        "generation": it.generation,
                        S.FINGERPRINT: it.fingerprint,
                    }
                    for it, _ in hits
                ],
                run_id=None,
            )
            self.record(
                [(it, "sent", _found_details(it, recs, FOUND_MESSAGE)) for it, recs in hits],
                None,
                found=True,
            )
            log.info(
                "%d of %d entries this ledger had no record of were already in QuickBooks "
                "(found by their markers) and are not sent again",
                len(hits),
                len(items),
            )
        else:
            self.flush()
        return rest

    def _not_checked(self, items: list[_Item], err: Exception) -> None:
        msg = (
            f"not sent: QuickBooks could not be searched for its marker first ({err}); the "
            "ledger has no record of this entry, so it may be in QuickBooks already. Send "
            "again later (or, if this ledger is known to hold every earlier send, turn the "
            "search off with check_quickbooks=False / --no-check-quickbooks)"
        )
        self.led.log_many(
            {
                "event": "not_checked",
                "run_id": self.run_id,
                "target": self.target,
                S.ENTRY_ID: it.entry_id,
                "level": "error",
                S.MESSAGE: msg,
            }
            for it in items
        )
        for it in items:
            self._set(it.entry_id, it.in_batch, ("failed", None, "not_checked", msg))
        with self.lock:
            self.stats.failed += len(items)
            self.stats.not_checked += len(items)

    # ------------------------------------------------------------- sending
    def deliver(self, chunk: list[_Item], *, check_first: bool = False) -> None:
        try:
            self._deliver(chunk, check_first=check_first)
        finally:
            self.flush()

    def _deliver(self, chunk: list[_Item], *, check_first: bool = False) -> None:
        """Send one chunk (≤ 30 entries) until every entry is sent, failed or unknown.

        After any request whose outcome is unknown, the entries are looked up in
        QuickBooks before anything is sent again; entries that cannot be looked up
        are never resent in this run (they stay pending for the next one).
        """
        remaining = list(chunk)
        # an interrupted request that is still whole is repeated exactly: same id, same body
        rid = str(remaining[0].stored["requestid"]) if remaining[0].stored is not None else None
        sends = checks = 0
        need_check = check_first
        unclear_seen = check_first
        last_err: Exception | None = None
        why = "an interrupted send" if check_first else "an unanswered request"
        while remaining:
            if self.stop.is_set():
                return
            if need_check:
                checks += 1
                rest, ok = self.settle(remaining, why=why)
                if not ok:
                    if checks >= self.retry.max_attempts:
                        break
                    self.sleep(self.retry.delay(checks))
                    continue
                need_check = False
                if len(rest) != len(remaining):
                    rid = None  # a different set of entries is a different request
                    for it in rest:
                        it.stored = None
                remaining = rest
                if not remaining:
                    return
            if sends >= self.retry.max_attempts:
                break
            sends += 1
            if rid is None:
                rid = _new_batch_request_id()
            items = []
            intents = []
            for i, it in enumerate(remaining):
                body = it.stored["TimeActivity"] if it.stored is not None else it.payload
                bid = str(it.stored["bId"]) if it.stored is not None else f"b{i}"
                items.append({"bId": bid, "operation": "create", "TimeActivity": body})
                envelope = {
                    "requestid": rid,
                    "bId": bid,
                    "size": len(remaining),
                    "TimeActivity": body,
                }
                intents.append(
                    {
                        S.ENTRY_ID: it.entry_id,
                        "request_id": it.request_id,
                        "generation": it.generation,
                        S.FINGERPRINT: it.fingerprint,
                        "payload": envelope,
                    }
                )
            self.led.record_intent(self.target, intents, run_id=self.run_id)
            if sends > 1:
                with self.lock:
                    self.stats.retries += 1
            try:
                answers = self.client.batch(items, request_id=rid)
            except TransientSendError as err:
                self.flush()
                last_err = err
                cls = (err.fault or {}).get("class")
                if cls == THROTTLED and err.retry_after is not None:
                    self.sleep(err.retry_after)
                else:
                    self.sleep(self.retry.delay(sends))
                if cls == UNKNOWN:
                    unclear_seen = need_check = True
                    why = "an unanswered request"
                continue
            except AuthError as err:
                # refused before running: nothing of this request reached the books
                self.record(
                    [
                        (it, "failed", {S.ERROR_CODE: "auth", S.MESSAGE: str(err)})
                        for it in remaining
                    ],
                    rid,
                )
                raise
            except RejectedSendError as err:
                fault = err.fault or {}
                code = fault.get("code") or "rejected"
                self.record(
                    [(it, "failed", {S.ERROR_CODE: code, S.MESSAGE: str(err)}) for it in remaining],
                    rid,
                )
                if fault.get("class") == COMPANY:
                    raise
                return
            done, unclear = self._read_answers(items, remaining, answers)
            self.record(done, rid)
            if not unclear:
                return
            # answered once: whatever is sent again is a new request, after a lookup
            unclear_seen = need_check = True
            why = "an incomplete answer"
            remaining = unclear
            rid = None
            for it in remaining:
                it.stored = None
            self.sleep(self.retry.delay(sends))
        if not remaining:
            return
        if unclear_seen:
            self.leave_unknown(remaining, last_err, sends + checks)
        else:  # every attempt was refused before running (throttled, unreachable)
            fault = getattr(last_err, "fault", None) or {}
            code = fault.get("code") or "transient"
            msg = f"not sent after {sends} attempt(s): {last_err}"
            self.record(
                [(it, "failed", {S.ERROR_CODE: code, S.MESSAGE: msg}) for it in remaining], rid
            )

    def _read_answers(
        self,
        items: list[dict[str, Any]],
        remaining: list[_Item],
        answers: Mapping[str, dict[str, Any]],
    ) -> tuple[list[tuple[_Item, str, dict[str, Any]]], list[_Item]]:
        """Match a batch answer to its entries by bId, trusting a success only with its marker."""
        done: list[tuple[_Item, str, dict[str, Any]]] = []
        unclear: list[_Item] = []
        for item, it in zip(items, remaining, strict=True):
            answer = answers.get(item["bId"])
            if answer is None:
                unclear.append(it)
            elif isinstance(answer.get("TimeActivity"), dict):
                rec = answer["TimeActivity"]
                if it.marker in str(rec.get("Description") or ""):
                    details = {
                        "external_id": str(rec.get("Id")),
                        "external_version": str(rec.get("SyncToken", "")),
                    }
                    done.append((it, "sent", details))
                else:  # an answer that belongs to another request: check, do not trust
                    unclear.append(it)
            elif isinstance(answer.get("Fault"), dict):
                fault = parse_fault(json.dumps({"Fault": answer["Fault"]})) or {}
                text = " ".join(
                    f"{e.get('message')} {e.get('detail')}" for e in fault.get("errors", [])
                )
                cls = classify_fault(None, fault.get("code"), text)
                if cls in (THROTTLED, UNKNOWN):
                    unclear.append(it)
                else:
                    details = {
                        S.ERROR_CODE: fault.get("code") or "rejected",
                        S.MESSAGE: _friendly(fault),
                    }
                    done.append((it, "failed", details))
            else:
                unclear.append(it)
        return done, unclear

    def run_chunks(self, chunks: list[tuple[list[_Item], bool]]) -> None:
        if not chunks:
            return
        if self.concurrency == 1 or len(chunks) == 1:
            for chunk, check in chunks:
                self.deliver(chunk, check_first=check)
            return
        pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="qbo-send")
        try:
            futures = [pool.submit(self.deliver, c, check_first=check) for c, check in chunks]
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            failed = [f for f in done if f.exception() is not None]
            if failed:
                self.stop.set()
                for f in futures:
                    f.cancel()
                wait(futures)
                raise failed[0].exception()  # type: ignore[misc]
        except BaseException:
            self.stop.set()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _time_activities_between(client: Any, first: str, last: str) -> list[dict[str, Any]]:
    """Every TimeActivity dated ``first`` to ``last`` (YYYY-MM-DD), all pages."""
    where = f"TxnDate >= '{first}' AND TxnDate <= '{last}'"
    return client.query_rows("TimeActivity", where, page_size=LOOKUP_PAGE_SIZE)


def _search_markers(
    client: Any,
    items: Sequence[_Item],
    retry: RetryPolicy,
    *,
    sleep: Any = time.sleep,
    stop: threading.Event | None = None,
) -> list[dict[str, Any]]:
    """The TimeActivities over the items' date range, retried as a send would be.

    Raises:
        TransientSendError: still failing after ``retry.max_attempts`` attempts.
        RejectedSendError: QuickBooks refused the query (not retried).
    """
    dates = sorted(it.txn_date for it in items)
    attempt = 0
    while True:
        attempt += 1
        try:
            return _time_activities_between(client, dates[0], dates[-1])
        except TransientSendError as exc:
            if attempt >= retry.max_attempts or (stop is not None and stop.is_set()):
                raise
            sleep(exc.retry_after if exc.retry_after is not None else retry.delay(attempt))


def _records_by_marker(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """TimeActivities by the qbrecon markers in their Description, oldest (lowest id) first."""
    found: dict[str, list[dict[str, Any]]] = {}
    for rec in rows:
        for m in MARKER_RE.findall(str(rec.get("Description") or "")):
            found.setdefault(f"[qbr:{m}]", []).append(dict(rec))
    for recs in found.values():
        recs.sort(key=lambda r: int(r["Id"]) if str(r.get("Id", "")).isdigit() else 0)
    return found


def _match_markers(
    items: list[_Item], rows: Sequence[Mapping[str, Any]], target: str
) -> tuple[list[tuple[_Item, list[dict[str, Any]]]], list[_Item]]:
    """Split items into those whose marker QuickBooks holds (with the records) and the rest.

    An item is first looked for under its own marker; when QuickBooks holds markers that
    none of the items has, the rest are also tried under the markers of later generations
    (an entry refused or undone before is sent again under a new one). A hit under another
    generation moves the item to that generation.
    """
    found = _records_by_marker(rows)
    hits: list[tuple[_Item, list[dict[str, Any]]]] = []
    rest: list[_Item] = []
    for it in items:
        recs = found.get(it.marker)
        if recs:
            hits.append((it, recs))
        else:
            rest.append(it)
    others = set(found) - {it.marker for it in items}
    if rest and others:
        still: list[_Item] = []
        for it in rest:
            for gen in range(LOOKUP_GENERATIONS):
                if gen == it.generation:
                    continue
                rid = request_id_for(target, it.entry_id, gen)
                recs = found.get(marker_for(rid))
                if recs:
                    it.generation, it.request_id = gen, rid
                    hits.append((it, recs))
                    break
            else:
                still.append(it)
        rest = still
    order = {id(it): i for i, it in enumerate(items)}
    hits.sort(key=lambda h: order[id(h[0])])
    return hits, rest


def _found_details(it: _Item, recs: list[dict[str, Any]], message: str) -> dict[str, Any]:
    """The ``sent`` outcome of an entry found in QuickBooks (the oldest record with its marker)."""
    if len(recs) > 1:
        ids = ", ".join(str(r.get("Id")) for r in recs)
        message += (
            f"; QuickBooks holds {len(recs)} TimeActivities with its marker "
            f"(ids {ids}): delete the extra ones"
        )
        log.warning(
            "entry %s: %d TimeActivities carry its marker (%s)", it.entry_id, len(recs), ids
        )
    return {
        "external_id": str(recs[0]["Id"]),
        "external_version": str(recs[0].get("SyncToken", "")),
        S.MESSAGE: message,
    }


def _friendly(fault: Mapping[str, Any]) -> str:
    text = fault_text(fault)
    low = text.lower()
    if "account period" in low or "books are" in low:
        return (
            text
            + " — the books are closed for this date: reopen the period in QuickBooks or move the entry"
        )
    if fault.get("code") == "610":
        return (
            text
            + " — a referenced employee, vendor, customer or item is inactive or deleted: re-map it"
        )
    if fault.get("code") == "2500":
        return (
            text + " — a referenced record does not exist: reload the QuickBooks lists and re-map"
        )
    return text


def _envelope(payload: Any) -> dict[str, Any] | None:
    if not payload:
        return None
    try:
        env = json.loads(payload) if isinstance(payload, str) else dict(payload)
    except (TypeError, ValueError):
        return None
    if not isinstance(env, dict) or not isinstance(env.get("TimeActivity"), dict):
        return None
    return env


def _open_ledger(ledger: Ledger | str | os.PathLike[str]) -> tuple[Ledger, bool]:
    if isinstance(ledger, Ledger):
        return ledger, False
    if not isinstance(ledger, str | os.PathLike):
        raise SettingsError("ledger must be a path or a qbrecon.ledger.Ledger", setting="ledger")
    return Ledger(ledger), True


def _plan(
    b: pd.DataFrame, deliveries: pd.DataFrame, pending: pd.DataFrame, target: str
) -> tuple[dict[str, tuple], list[_Item], list[_Item]]:
    """Split a prepared batch: skipped (already sent), interrupted (pending), fresh items."""
    ids = b[S.ENTRY_ID]
    cols = ["state", "generation", "run_id", "updated_at", S.FINGERPRINT, "external_id"]
    if len(deliveries):
        m = (
            deliveries.drop_duplicates(S.ENTRY_ID)
            .set_index(S.ENTRY_ID)[cols]
            .reindex(ids.to_numpy())
        )
    else:
        m = pd.DataFrame({c: [None] * len(b) for c in cols})
    m = m.reset_index(drop=True)
    state = m["state"].astype(object)
    gen = pd.to_numeric(m["generation"], errors="coerce").fillna(0).astype(int)
    sent_mask = (state == "sent").to_numpy()
    skipped: dict[str, tuple] = {}
    if sent_mask.any():
        s = m[sent_mask].astype(object)
        qid = s["external_id"].fillna("?").astype(str)
        msg = (
            "already sent as TimeActivity "
            + qid
            + " on "
            + s["updated_at"].fillna("?").astype(str).str[:10]
            + " (run "
            + s["run_id"].fillna("?").astype(str)
            + ")"
        )
        fp = b[S.FINGERPRINT][sent_mask].to_numpy()
        changed = s[S.FINGERPRINT].notna().to_numpy() & (
            s[S.FINGERPRINT].astype(str).to_numpy() != fp
        )
        # an edit made after sending is never sent on its own (that would duplicate the
        # time): it is named, so that it gets fixed by hand rather than silently lost
        msg = msg.where(
            ~changed,
            msg + ", and changed since in the tracker: it is not sent again; fix it in "
            "QuickBooks (TimeActivity " + qid + "), or undo that run and send again",
        )
        codes = np.where(changed, CHANGED_SINCE_SENT, None)
        skipped = {
            e: ("skipped", q, c, t)
            for e, q, c, t in zip(ids[sent_mask], s["external_id"], codes, msg, strict=True)
        }
    request_ids = pd.Series(
        [request_id_for(target, e, g) for e, g in zip(ids, gen, strict=True)],
        index=b.index,
        dtype=object,
    )
    todo = ~sent_mask
    payloads = build_payloads(b[todo], request_ids[todo]) if todo.any() else []
    pending_env = {}
    if len(pending):
        for eid, payload in zip(pending[S.ENTRY_ID], pending["payload"], strict=True):
            pending_env[eid] = _envelope(payload)
    fresh: list[_Item] = []
    interrupted: list[_Item] = []
    in_batch = set()
    for pos, payload in zip(np.flatnonzero(todo), payloads, strict=True):
        eid = ids.iat[pos]
        in_batch.add(eid)
        it = _Item(eid, int(gen.iat[pos]), request_ids.iat[pos], payload, b[S.FINGERPRINT].iat[pos])
        it.seen = bool(pd.notna(state.iat[pos]))
        if state.iat[pos] == "pending":
            it.stored = pending_env.get(eid)
            interrupted.append(it)
        else:
            fresh.append(it)
    # entries an interrupted run left pending that this batch does not carry: finish them too
    for row in pending.itertuples(index=False) if len(pending) else []:
        eid = getattr(row, S.ENTRY_ID)
        if eid in in_batch or eid in skipped:
            continue
        env = pending_env.get(eid)
        if env is None:
            continue
        interrupted.append(
            _Item(
                eid,
                int(row.generation),
                str(row.request_id),
                env["TimeActivity"],
                row.fingerprint,
                stored=env,
                in_batch=False,
            )
        )
    return skipped, interrupted, fresh


def _chunks(interrupted: list[_Item], fresh: list[_Item]) -> list[tuple[list[_Item], bool]]:
    """Chunks of ≤ 30 and whether each must be looked up in QuickBooks before sending.

    Interrupted requests that are still whole come first (repeated exactly if nothing of
    them is found), then the other interrupted entries, then the fresh ones.
    """
    groups: dict[str, list[_Item]] = {}
    loose: list[_Item] = []
    for it in interrupted:
        env = it.stored
        if env is None or not env.get("requestid"):
            it.stored = None
            loose.append(it)
            continue
        groups.setdefault(str(env["requestid"]), []).append(it)
    out: list[list[_Item]] = []
    for items in groups.values():
        size = int(items[0].stored.get("size", -1)) if items[0].stored else -1
        bids = {str(it.stored.get("bId")) for it in items if it.stored}
        if len(items) == size and len(bids) == size:
            out.append(
                sorted(
                    items, key=lambda it: int(str(it.stored["bId"])[1:] or 0) if it.stored else 0
                )
            )
        else:
            for it in items:
                it.stored = None
            loose.extend(items)
    checked = [(c, True) for c in out]
    checked += [(loose[i : i + CHUNK_SIZE], True) for i in range(0, len(loose), CHUNK_SIZE)]
    checked += [(fresh[i : i + CHUNK_SIZE], False) for i in range(0, len(fresh), CHUNK_SIZE)]
    return checked


def send_to_qbo(
    batch: pd.DataFrame,
    client: QBOClient,
    *,
    ledger: Ledger | str | os.PathLike[str],
    dry_run: bool = False,
    progress: bool | None = None,
    concurrency: int = 2,
    retry: RetryPolicy | None = None,
    note: str = "",
    check_quickbooks: bool = True,
) -> pd.DataFrame:
    """Send a batch of time entries to QuickBooks Online as TimeActivities, exactly once.

    Args:
        batch: rows of :data:`~qbrecon.schema.BATCH_COLUMNS` (from ``build_batch``),
            optionally with ``name_of`` (Employee or Vendor; default Employee),
            ``item_name`` and ``fingerprint``. Not modified.
        client: a connected client (:func:`~qbrecon.connect_qbo`).
        ledger: the ledger file (or a :class:`~qbrecon.ledger.Ledger`); it records
            every attempt, so a re-run skips what was sent and finishes what an
            interrupted run left open.
        dry_run: send nothing and return what a send would do: the result columns first
            (``status`` "skipped", or "would_send" for an entry a send would deliver;
            ``qbo_id`` of what QuickBooks holds already; ``error_code``; ``message`` saying
            what would happen), then the exact payloads (``action``, ``request_id``,
            ``marker``, ``chunk`` = the batch request, ``payload`` as JSON). The ledger is
            only read; QuickBooks is only searched (the ``check_quickbooks`` search).
            ``.attrs["outside_batch"]`` lists entries an interrupted send left open that
            are not in this batch (a send finishes them too).
        progress: show a progress bar (None: when on a terminal or in a notebook).
        concurrency: batch requests in flight at once (QuickBooks allows up to 10).
        retry: how transient failures are retried (:class:`~qbrecon.qbo.limits.RetryPolicy`).
        note: a note stored with the run in the ledger.
        check_quickbooks: before sending entries the ledger has no record of at all (a
            new or mistyped ledger path makes every entry look unsent), search QuickBooks
            for their markers, in one paged TimeActivity query over their date range, and
            skip the ones found ("already in QuickBooks (found by its marker), not
            resent"; recorded sent in this ledger). On by default; turn it off only for a
            ledger known to hold every earlier send to this company.

    Returns:
        one row per batch entry, in batch order: ``entry_id``, ``status`` ("sent",
        "skipped" when it was sent before, "failed"), ``qbo_id`` (the TimeActivity id),
        ``error_code`` and ``message``. ``.attrs["run_id"]`` names the run (for undo).
        A skipped entry that changed in the tracker since it was sent has ``error_code``
        "changed_since_sent" (fix it in QuickBooks); an entry not sent because QuickBooks
        could not be searched for it has "not_checked". With ``dry_run``, the columns
        described there.

    Raises:
        InputError: the batch has problems (all listed); nothing was sent.
        AuthError: QuickBooks refused the credentials; entries sent before stay sent
            (``.results`` on the error holds the rows so far).
        LedgerError: another process is sending to the same company.

    Example (against the local emulator)::

        results = qbrecon.send_to_qbo(batch, client, ledger="ledger.sqlite")
        results.status.value_counts()
    """
    b = prepare_batch(batch)
    retry = retry or RetryPolicy()
    target = client.target
    if dry_run:
        return _dry_run(b, ledger, client, retry=retry, check_quickbooks=check_quickbooks)
    led, owned = _open_ledger(ledger)
    try:
        with led.exclusive(target):
            return _send(
                b,
                client,
                led,
                retry=retry,
                concurrency=concurrency,
                progress=progress,
                note=note,
                check_quickbooks=check_quickbooks,
            )
    finally:
        if owned:
            led.close()


def _send(
    b, client, led: Ledger, *, retry, concurrency, progress, note, check_quickbooks
) -> pd.DataFrame:
    target = client.target
    sender = _Sender(client, led, retry=retry, concurrency=concurrency, progress=progress)
    ids = b[S.ENTRY_ID].tolist()
    led.close_abandoned_runs(target)
    run_id = led.start_run(target=target, kind="send", note=note)
    sender.run_id = run_id
    started = time.monotonic()
    status = "failed"
    try:
        with client.observe(sender.log_exchange):
            deliveries = led.deliveries(target=target, entry_ids=ids)
            pending = led.deliveries(target=target, states=["pending"])
            skipped, interrupted, fresh = _plan(b, deliveries, pending, target)
            sender.results.update(skipped)
            sender.stats.skipped = len(skipped)
            if skipped:
                led.log(
                    "skipped",
                    run_id=run_id,
                    target=target,
                    message=f"{len(skipped)} entries were already sent and are skipped",
                )
            changed = [(e, r) for e, r in skipped.items() if r[2] == CHANGED_SINCE_SENT]
            if changed:
                log.warning(
                    "%d entries changed in the tracker after they were sent; they are not sent "
                    "again: fix them in QuickBooks (error_code %s in the results)",
                    len(changed),
                    CHANGED_SINCE_SENT,
                )
                led.log_many(
                    {
                        "event": "changed",
                        "run_id": run_id,
                        "target": target,
                        S.ENTRY_ID: e,
                        "level": "warning",
                        S.MESSAGE: r[3],
                    }
                    for e, r in changed
                )
            if interrupted:
                log.info(
                    "checking QuickBooks for %d entries an interrupted send left open",
                    len(interrupted),
                )
                led.log(
                    "resolving",
                    run_id=run_id,
                    target=target,
                    message=f"checking QuickBooks for {len(interrupted)} entries an interrupted send left open",
                )
            unseen = [it for it in fresh if not it.seen]
            if check_quickbooks and unseen:
                led.log(
                    "checking",
                    run_id=run_id,
                    target=target,
                    message=f"searching QuickBooks for the markers of {len(unseen)} entries "
                    "this ledger has no record of",
                )
                keep = {id(it) for it in sender.find_unrecorded(unseen)}
                fresh = [it for it in fresh if it.seen or id(it) in keep]
            total = len(interrupted) + len(fresh)
            with _progress_bar(total, sender.progress, "sending to QuickBooks") as bar:
                sender.bar = bar
                sender.run_chunks(_chunks(interrupted, fresh))
        status = "finished"
    except KeyboardInterrupt:
        status = "interrupted"
        sender.stop.set()
        raise
    except QbreconError as exc:
        status = "aborted"
        exc.results = _results_frame(ids, sender.results)  # type: ignore[attr-defined]
        raise
    finally:
        sender.flush()
        st = sender.stats
        summary = {
            "entries": len(ids),
            "sent": st.sent,
            "skipped": st.skipped,
            "failed": st.failed,
            "unknown": st.unknown,
            "confirmed_by_lookup": st.resolved,
            "searched_quickbooks_for": st.searched,
            "found_in_quickbooks": st.found,
            "not_checked": st.not_checked,
            "requests": st.requests,
            "retries": st.retries,
            "throttled": st.throttled,
            "seconds": round(time.monotonic() - started, 3),
        }
        led.finish_run(run_id, status=status, summary=summary)
        log.info("send %s %s: %s", run_id, status, summary)
    frame = _results_frame(ids, sender.results)
    frame.attrs["run_id"] = run_id
    return frame


def _dry_run(
    b: pd.DataFrame, ledger: Any, client: Any, *, retry: RetryPolicy, check_quickbooks: bool
) -> pd.DataFrame:
    """What a send would do, entry by entry; the ledger is only read, QuickBooks only searched."""
    target = client.target
    deliveries = pending = pd.DataFrame(columns=DELIVERY_COLUMNS)
    if isinstance(ledger, Ledger) or Path(ledger).exists():
        led, owned = _open_ledger(ledger)
        try:
            deliveries = led.deliveries(target=target, entry_ids=b[S.ENTRY_ID].tolist())
            pending = led.deliveries(target=target, states=["pending"])
        finally:
            if owned:
                led.close()
    skipped, interrupted, fresh = _plan(b, deliveries, pending, target)
    before = deliveries.drop_duplicates(S.ENTRY_ID).set_index(S.ENTRY_ID)
    rows: dict[str, dict[str, Any]] = {}
    for eid, (status, qid, code, message) in skipped.items():
        rows[eid] = {
            S.STATUS: status,
            S.QBO_ID: qid,
            S.ERROR_CODE: code,
            S.MESSAGE: message,
            "action": "skip",
        }
    unseen = [it for it in fresh if not it.seen]
    searched = False
    lookup_error: Exception | None = None
    if check_quickbooks and unseen:
        try:
            found_rows = _search_markers(client, unseen, retry)
        except (TransientSendError, RejectedSendError) as exc:
            lookup_error = exc
        else:
            searched = True
            hits, _ = _match_markers(unseen, found_rows, target)
            for it, recs in hits:
                details = _found_details(it, recs, FOUND_MESSAGE)
                rows[it.entry_id] = {
                    S.STATUS: "skipped",
                    S.QBO_ID: details["external_id"],
                    S.ERROR_CODE: None,
                    S.MESSAGE: details[S.MESSAGE],
                    "action": "skip",
                }
            hit_ids = {id(it) for it, _ in hits}
            fresh = [it for it in fresh if id(it) not in hit_ids]
    interrupted_ids = {it.entry_id for it in interrupted}
    chunks = _chunks(list(interrupted), list(fresh))
    outside: list[str] = []
    for n, (chunk, _) in enumerate(chunks, start=1):
        for it in chunk:
            if not it.in_batch:
                outside.append(it.entry_id)
                continue
            body = it.stored["TimeActivity"] if it.stored is not None else it.payload
            code = None
            if it.entry_id in interrupted_ids:
                why = (
                    "left open by an interrupted send: QuickBooks is searched for its marker "
                    "first, and it is sent only if it is not there"
                )
            elif it.seen:
                prev = before.loc[it.entry_id] if it.entry_id in before.index else None
                state = "" if prev is None else str(prev["state"])
                if state == "failed":
                    fault = prev[S.ERROR_CODE] if pd.notna(prev[S.ERROR_CODE]) else "?"
                    why = f"would be sent again under a new request id (refused before: {fault})"
                elif state == "undone":
                    why = "would be sent again (its earlier TimeActivity was undone)"
                else:
                    why = "would be sent"
            elif lookup_error is not None:
                code = "not_checked"
                why = (
                    "would be sent if QuickBooks does not hold its marker; the ledger has no "
                    f"record of it, and searching QuickBooks failed just now ({lookup_error})"
                )
            elif searched:
                why = "would be sent (its marker is not in QuickBooks)"
            else:
                why = "would be sent (the ledger has no record of it; QuickBooks not searched)"
            rows[it.entry_id] = {
                S.STATUS: WOULD_SEND,
                S.QBO_ID: None,
                S.ERROR_CODE: code,
                S.MESSAGE: f"{why}; batch request {n} of {len(chunks)}",
                "action": "check, then create" if it.entry_id in interrupted_ids else "create",
                "request_id": it.request_id,
                "marker": it.marker,
                "chunk": n,
                "payload": json.dumps(body, ensure_ascii=False),
            }
    ordered = [{S.ENTRY_ID: e, **rows[e]} for e in b[S.ENTRY_ID]]
    frame = pd.DataFrame(ordered, columns=DRY_RUN_COLUMNS)
    for c in DRY_RUN_COLUMNS:
        frame[c] = frame[c].astype("Int64" if c == "chunk" else S.STRING)
    frame.attrs["outside_batch"] = outside
    frame.attrs["batch_requests"] = len(chunks)
    return frame


# ------------------------------------------------------------------ undo
def undo_send(
    run_id: str,
    client: QBOClient,
    *,
    ledger: Ledger | str | os.PathLike[str],
    dry_run: bool = False,
    retry: RetryPolicy | None = None,
) -> pd.DataFrame:
    """Delete from QuickBooks the TimeActivities that one send run created.

    The deleted entries are recorded ``undone`` in the ledger; they can be sent again
    later (with a new request id and marker). Deleting is idempotent: a TimeActivity
    that is already gone counts as undone.

    Args:
        run_id: the send run (``results.attrs["run_id"]``, or ``qbrecon log --runs``);
            "last" for the latest send to this company.
        client: a connected client.
        ledger: the ledger file or object.
        dry_run: only list what would be deleted.

    Returns:
        one row per entry of the run: ``entry_id, status`` ("undone", "skipped",
        "failed"; "delete" in a dry run), ``qbo_id, error_code, message``.

    Raises:
        SettingsError: the run is unknown, not a send, or was sent to another company.
    """
    retry = retry or RetryPolicy()
    led, owned = _open_ledger(ledger)
    target = client.target
    try:
        runs = led.runs(kind="send")
        if run_id == "last":
            mine = runs[runs["target"] == target]
            if mine.empty:
                raise SettingsError(
                    f"{led.path}: no send to {target} is recorded", setting="run_id"
                )
            run_id = str(mine["run_id"].iloc[-1])
        row = runs[runs["run_id"] == run_id]
        if row.empty:
            raise SettingsError(
                f"{led.path}: no send run {run_id!r} is recorded (see `qbrecon log --runs`)",
                setting="run_id",
            )
        if row["target"].iloc[0] != target:
            raise SettingsError(
                f"run {run_id} sent to {row['target'].iloc[0]}, not to {target}", setting="run_id"
            )
        d = led.deliveries(target=target, run_id=run_id)
        if dry_run:
            act = d["state"].map({"sent": "delete", "pending": "check, then delete"}).fillna("skip")
            out = pd.DataFrame(
                {
                    S.ENTRY_ID: d[S.ENTRY_ID],
                    S.STATUS: act,
                    S.QBO_ID: d["external_id"],
                    S.ERROR_CODE: None,
                    S.MESSAGE: "state " + d["state"],
                }
            )
            return out.astype(S.SEND_RESULT_DTYPES).reset_index(drop=True)
        with led.exclusive(target):
            return _undo(d, run_id, client, led, retry)
    finally:
        if owned:
            led.close()


def _undo(
    d: pd.DataFrame, run_id: str, client: Any, led: Ledger, retry: RetryPolicy
) -> pd.DataFrame:
    target = client.target
    led.close_abandoned_runs(target)
    undo_id = led.start_run(target=target, kind="undo", note=f"undo of {run_id}")
    sender = _Sender(client, led, retry=retry, concurrency=1, progress=False)
    sender.run_id = undo_id
    sender.buffer_http = False
    results: dict[str, tuple] = {}
    ids = d[S.ENTRY_ID].tolist()
    status = "failed"
    counts = {"undone": 0, "skipped": 0, "failed": 0}
    try:
        with client.observe(sender.log_exchange):
            # an entry the send left open may exist in QuickBooks: find it first
            open_items = []
            for row in d[d["state"] == "pending"].itertuples(index=False):
                env = _envelope(row.payload)
                if env:
                    open_items.append(
                        _Item(
                            getattr(row, S.ENTRY_ID),
                            int(row.generation),
                            str(row.request_id),
                            env["TimeActivity"],
                            row.fingerprint,
                        )
                    )
            if open_items:
                absent, ok = sender.settle(open_items, why="an interrupted send")
                if ok and absent:
                    # never reached QuickBooks: cancel them, or a later send would finish them
                    led.record_outcomes(
                        target,
                        [
                            {
                                S.ENTRY_ID: it.entry_id,
                                "state": "undone",
                                S.MESSAGE: f"never reached QuickBooks; cancelled by {undo_id}",
                            }
                            for it in absent
                        ],
                    )
                    for it in absent:
                        results[it.entry_id] = (
                            "undone",
                            None,
                            None,
                            "never reached QuickBooks; cancelled",
                        )
                elif not ok:
                    for it in open_items:
                        results[it.entry_id] = (
                            "failed",
                            None,
                            "unknown",
                            "QuickBooks could not be checked for this interrupted entry; undo again later",
                        )
                d = led.deliveries(target=target, run_id=run_id)
            todo = d[d["state"] == "sent"]
            for row in d[d["state"] != "sent"].itertuples(index=False):
                results.setdefault(
                    getattr(row, S.ENTRY_ID),
                    ("skipped", row.external_id, None, f"nothing to delete (state {row.state})"),
                )
            entries = list(
                zip(
                    todo[S.ENTRY_ID],
                    todo["external_id"],
                    todo["external_version"].fillna("0"),
                    strict=True,
                )
            )
            for i in range(0, len(entries), CHUNK_SIZE):
                _undo_chunk(
                    entries[i : i + CHUNK_SIZE], client, led, undo_id, retry, results, sender
                )
        status = "finished"
    finally:
        for r in results.values():
            counts[r[0] if r[0] in counts else "failed"] += 1
        led.finish_run(undo_id, status=status, summary={"undone_run": run_id, **counts})
    frame = _results_frame(ids, results)
    frame.attrs["run_id"] = undo_id
    return frame


def _undo_chunk(
    entries, client, led: Ledger, undo_id: str, retry: RetryPolicy, results: dict, sender: _Sender
) -> None:
    target = client.target
    remaining = list(entries)  # (entry_id, qbo_id, sync_token)
    attempt = 0
    while remaining:
        attempt += 1
        items = [
            {
                "bId": f"b{i}",
                "operation": "delete",
                "TimeActivity": {"Id": str(q), "SyncToken": str(s)},
            }
            for i, (_, q, s) in enumerate(remaining)
        ]
        rid = _new_batch_request_id()
        try:
            answers = client.batch(items, request_id=rid)
        except TransientSendError as err:
            if attempt >= retry.max_attempts:
                for e, q, _ in remaining:
                    results[e] = (
                        "failed",
                        q,
                        (err.fault or {}).get("code") or "transient",
                        f"not deleted: {err}",
                    )
                return
            sender.sleep(err.retry_after if err.retry_after is not None else retry.delay(attempt))
            continue
        done, again = [], []
        for item, (e, q, s) in zip(items, remaining, strict=True):
            a = answers.get(item["bId"])
            if a is not None and isinstance(a.get("TimeActivity"), dict):
                done.append((e, q, "deleted from QuickBooks"))
            elif a is not None and isinstance(a.get("Fault"), dict):
                fault = parse_fault(json.dumps({"Fault": a["Fault"]})) or {}
                code = fault.get("code")
                if code == "610":
                    done.append((e, q, "already gone from QuickBooks"))
                elif code == "5010" and attempt < retry.max_attempts:
                    try:  # changed in QuickBooks since: delete the current version
                        current = client.read("TimeActivity", q)
                        again.append((e, q, current.get("SyncToken", s)))
                    except RejectedSendError:
                        done.append((e, q, "already gone from QuickBooks"))
                else:
                    results[e] = (
                        "failed",
                        q,
                        code or "rejected",
                        f"not deleted: {fault_text(fault)}",
                    )
            else:
                again.append((e, q, s))
        if done:
            led.record_outcomes(
                target,
                [
                    {S.ENTRY_ID: e, "state": "undone", S.MESSAGE: f"undone by {undo_id}"}
                    for e, _, _ in done
                ],
            )
            led.log_many(
                [
                    {
                        "event": "undone",
                        "run_id": undo_id,
                        "target": target,
                        S.ENTRY_ID: e,
                        "request_id": rid,
                        S.MESSAGE: f"TimeActivity {q}: {m}",
                    }
                    for e, q, m in done
                ]
            )
            for e, q, m in done:
                results[e] = ("undone", q, None, m)
        remaining = again
        if remaining and attempt >= retry.max_attempts:
            for e, q, _ in remaining:
                results[e] = ("failed", q, "unknown", "QuickBooks did not confirm the delete")
            return


# ------------------------------------------------------------------ create missing
def _prepare_proposals(proposals: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(proposals, pd.DataFrame):
        raise InputError(f"proposals must be a pandas DataFrame, not {type(proposals).__name__}")
    missing = [c for c in (S.KIND, S.NAME) if c not in proposals.columns]
    if missing:
        raise InputError(
            "the proposals lack required columns",
            problems=[Problem("missing column", column=c) for c in missing],
        )
    p = pd.DataFrame(index=range(len(proposals)))
    for c in PROPOSAL_COLUMNS:
        col = (
            proposals[c].reset_index(drop=True)
            if c in proposals.columns
            else pd.Series([""] * len(proposals))
        )
        p[c] = col.astype(S.STRING).fillna("").str.strip()
    p[S.KIND] = p[S.KIND].str.lower()
    default_type = p[S.KIND].map({"employee": "Employee", "customer": "Customer"}).fillna("")
    p[S.QB_TYPE] = p[S.QB_TYPE].str.title().mask(p[S.QB_TYPE] == "", default_type)
    bad_chars = p[S.NAME].str.contains(r"[:\t\n]", regex=True)
    checks = [
        (~p[S.KIND].isin(["employee", "customer"]), S.KIND, "must be employee or customer"),
        (p[S.NAME] == "", S.NAME, "the name is empty"),
        (bad_chars, S.NAME, "QuickBooks names cannot contain ':', tabs or line breaks"),
        (
            (p[S.KIND] == "employee") & ~p[S.QB_TYPE].isin(["Employee", "Vendor"]),
            S.QB_TYPE,
            "an employee proposal is created as Employee or Vendor",
        ),
        (
            (p[S.KIND] == "customer") & (p[S.QB_TYPE] != "Customer"),
            S.QB_TYPE,
            "a customer proposal is a Customer",
        ),
        (
            (p[S.KIND] == "employee") & (p[S.PARENT_FULL_NAME] != ""),
            S.PARENT_FULL_NAME,
            "only customers have a parent",
        ),
        (p[S.NAME].str.len() > 100, S.NAME, "longer than QuickBooks allows (100 characters)"),
    ]
    problems = []
    for mask, column, message in checks:
        for pos in np.flatnonzero(mask.fillna(False).to_numpy()):
            problems.append(
                Problem(message, row=int(pos) + 2, column=column, value=p.at[pos, column])
            )
    if problems:
        raise InputError("the proposals cannot be created", problems=problems)
    full = p[S.NAME].where(p[S.PARENT_FULL_NAME] == "", p[S.PARENT_FULL_NAME] + ":" + p[S.NAME])
    p[S.FULL_NAME] = full.astype(S.STRING)
    return p.drop_duplicates([S.QB_TYPE, S.FULL_NAME]).reset_index(drop=True)


def _proposal_payload(row: Mapping[str, Any], parent_id: str | None) -> dict[str, Any]:
    name = row[S.NAME]
    body: dict[str, Any] = {"DisplayName": name}
    if row[S.QB_TYPE] in ("Employee", "Vendor"):
        first, last = row[S.FIRST_NAME], row[S.LAST_NAME]
        if not first and not last:
            first, _, last = name.rpartition(" ")
            if not first:
                first, last = last, ""
        if first:
            body["GivenName"] = first
        if last:
            body["FamilyName"] = last
    elif not parent_id:
        body["CompanyName"] = name  # a job is the parent company's work, not a company
    if parent_id:
        body.update({"ParentRef": {"value": parent_id}, "Job": True, "BillWithParent": False})
    if row[S.EMAIL]:
        body["PrimaryEmailAddr"] = {"Address": row[S.EMAIL]}
    return body


def create_missing(
    proposals: pd.DataFrame,
    client: QBOClient,
    *,
    ledger: Ledger | str | os.PathLike[str],
    dry_run: bool = False,
) -> pd.DataFrame:
    """Create the employees, vendors and customers (with parents) that matching proposed.

    Run it with ``dry_run=True`` first to see the list. Records that already exist in
    QuickBooks (by display name, or by full ``Parent:Child`` path for customers) are
    reported "exists" and not created again; parents are created before their children.
    Each creation follows the ledger protocol, so a re-run after a crash creates nothing
    twice (QuickBooks also refuses a second record with the same display name).

    Args:
        proposals: columns ``kind`` ("employee"/"customer"), ``name`` and optionally
            ``parent_full_name``, ``qb_type`` (Employee/Vendor/Customer),
            ``first_name``, ``last_name``, ``email``.
        client: a connected client.
        ledger: the ledger file or object.
        dry_run: only list what would be created (with the payloads).

    Returns:
        one row per distinct proposal: the proposal columns, ``full_name``, ``status``
        ("created", "exists", "failed"; "would_create" in a dry run), ``qb_id``,
        ``error_code``, ``message`` (and ``payload`` in a dry run).
    """
    from .lists import fetch_qb_records

    p = _prepare_proposals(proposals)
    target = client.target
    records = fetch_qb_records(client, entities=("Employee", "Vendor", "Customer"))
    strip = lambda s: s[: -len(" (deleted)")] if s.endswith(" (deleted)") else s  # noqa: E731
    by_name: dict[str, tuple[str, dict]] = {}
    for ent, rows in records.items():
        for r in rows:
            by_name[strip(str(r.get("DisplayName", ""))).casefold()] = (ent, r)
    by_path = {
        str(r.get("FullyQualifiedName", "")).casefold(): r for r in records.get("Customer", [])
    }
    # parents before children
    p["_depth"] = p[S.FULL_NAME].str.count(":")
    p = p.sort_values("_depth", kind="stable").drop(columns="_depth").reset_index(drop=True)
    out: list[dict[str, Any]] = []
    planned: dict[str, str | None] = {}  # customer full name -> id (None until created)
    led: Ledger | None = None
    owned = False
    if not dry_run:
        led, owned = _open_ledger(ledger)
    try:
        ctx = led.exclusive(target) if led is not None else contextlib.nullcontext()
        with ctx:
            run_id = None
            if led is not None:
                led.close_abandoned_runs(target)
                run_id = led.start_run(target=target, kind="create", note="create missing")
            for row in p.to_dict("records"):
                res = {c: row[c] for c in (*PROPOSAL_COLUMNS, S.FULL_NAME)}
                res.update({S.STATUS: None, S.QB_ID: None, S.ERROR_CODE: None, S.MESSAGE: None})
                key = row[S.FULL_NAME].casefold()
                qb_type = row[S.QB_TYPE]
                existing = by_path.get(key) if qb_type == "Customer" else None
                if existing is None and (qb_type != "Customer" or not row[S.PARENT_FULL_NAME]):
                    hit = by_name.get(row[S.NAME].casefold())
                    if hit is not None and hit[0] == qb_type:
                        existing = hit[1]
                    elif hit is not None:
                        res.update(
                            {
                                S.STATUS: "failed",
                                S.ERROR_CODE: "6240",
                                S.MESSAGE: f"the name is already used by a {hit[0]} (id {hit[1].get('Id')}); "
                                "QuickBooks display names are unique across customers, vendors and employees",
                            }
                        )
                        out.append(res)
                        continue
                if existing is not None:
                    res.update(
                        {
                            S.STATUS: "exists",
                            S.QB_ID: str(existing.get("Id")),
                            S.MESSAGE: "already in QuickBooks"
                            + (
                                ""
                                if existing.get("Active", True)
                                else " (inactive: reactivate it there)"
                            ),
                        }
                    )
                    if qb_type == "Customer":
                        planned[key] = str(existing.get("Id"))
                    out.append(res)
                    continue
                parent_id = None
                if row[S.PARENT_FULL_NAME]:
                    pkey = row[S.PARENT_FULL_NAME].casefold()
                    parent = by_path.get(pkey)
                    parent_id = str(parent["Id"]) if parent is not None else planned.get(pkey)
                    if parent is None and pkey not in planned:
                        res.update(
                            {
                                S.STATUS: "failed",
                                S.ERROR_CODE: "parent",
                                S.MESSAGE: f"the parent customer {row['parent_full_name']!r} is neither in "
                                "QuickBooks nor proposed",
                            }
                        )
                        out.append(res)
                        continue
                payload = _proposal_payload(row, parent_id)
                if dry_run:
                    res.update(
                        {
                            S.STATUS: "would_create",
                            "payload": json.dumps(payload, ensure_ascii=False),
                        }
                    )
                    if qb_type == "Customer":
                        planned[key] = None
                    out.append(res)
                    continue
                if parent_id is None and row[S.PARENT_FULL_NAME]:
                    res.update(
                        {
                            S.STATUS: "failed",
                            S.ERROR_CODE: "parent",
                            S.MESSAGE: f"the parent customer {row['parent_full_name']!r} was not created",
                        }
                    )
                    out.append(res)
                    continue
                assert led is not None
                created = _create_one(client, led, run_id or "", qb_type, row, payload)
                res.update(created)
                if qb_type == "Customer" and created.get(S.QB_ID):
                    planned[key] = created[S.QB_ID]
                out.append(res)
            if led is not None and run_id:
                counts = pd.Series([r[S.STATUS] for r in out]).value_counts().to_dict()
                led.finish_run(run_id, summary={k: int(v) for k, v in counts.items()})
    finally:
        if owned and led is not None:
            led.close()
    cols = CREATE_RESULT_COLUMNS + (["payload"] if dry_run else [])
    frame = pd.DataFrame(out, columns=cols)
    return frame.astype({c: S.STRING for c in cols})


def _create_one(
    client: Any,
    led: Ledger,
    run_id: str,
    qb_type: str,
    row: Mapping[str, Any],
    payload: dict[str, Any],
) -> dict[str, Any]:
    target = client.target
    entry_id = f"create:{qb_type}:{row[S.FULL_NAME]}"
    d = led.deliveries(target=target, entry_ids=[entry_id])
    gen = int(d["generation"].iloc[0]) if len(d) else 0
    rid = request_id_for(target, entry_id, gen)
    led.record_intent(
        target,
        [{S.ENTRY_ID: entry_id, "request_id": rid, "generation": gen, "payload": payload}],
        run_id=run_id,
    )
    with client.observe(
        lambda ex: led.log(
            "http",
            run_id=run_id,
            target=target,
            entry_id=entry_id,
            request_id=rid,
            message=f"{ex.get('method')} -> {ex.get('status')}",
            request={"body": ex.get("body")},
            response={"status": ex.get("status"), "body": ex.get("response")},
        )
    ):
        try:
            rec = client.create(qb_type, payload, request_id=rid)
        except RejectedSendError as err:
            fault = err.fault or {}
            if fault.get("code") == "6240":  # it exists after all (a crash, or a race): use it
                name = payload["DisplayName"].replace("\\", "\\\\").replace("'", "\\'")
                found = client.query_rows(
                    qb_type, f"DisplayName = '{name}' AND Active IN (true, false)"
                )
                if found:
                    qid = str(found[0]["Id"])
                    led.record_outcomes(
                        target, [{S.ENTRY_ID: entry_id, "state": "sent", "external_id": qid}]
                    )
                    return {S.STATUS: "exists", S.QB_ID: qid, S.MESSAGE: "already in QuickBooks"}
            led.record_outcomes(
                target,
                [
                    {
                        S.ENTRY_ID: entry_id,
                        "state": "failed",
                        S.ERROR_CODE: fault.get("code"),
                        S.MESSAGE: str(err),
                    }
                ],
            )
            return {
                S.STATUS: "failed",
                S.ERROR_CODE: fault.get("code") or "rejected",
                S.MESSAGE: str(err),
            }
        except TransientSendError as err:
            return {
                S.STATUS: "failed",
                S.ERROR_CODE: (err.fault or {}).get("code") or "transient",
                S.MESSAGE: f"{err}; run it again: QuickBooks is checked before anything is created twice",
            }
    qid = str(rec.get("Id"))
    led.record_outcomes(
        target,
        [
            {
                S.ENTRY_ID: entry_id,
                "state": "sent",
                "external_id": qid,
                "external_version": str(rec.get("SyncToken", "")),
            }
        ],
    )
    led.log(
        "created",
        run_id=run_id,
        target=target,
        entry_id=entry_id,
        request_id=rid,
        message=f"{qb_type} {qid} {row[S.FULL_NAME]}",
    )
    return {S.STATUS: "created", S.QB_ID: qid, S.MESSAGE: f"created {qb_type} {qid}"}


__all__ = [
    "CHANGED_SINCE_SENT",
    "DRY_RUN_COLUMNS",
    "FOUND_MESSAGE",
    "WOULD_SEND",
    "build_payloads",
    "create_missing",
    "marker_for",
    "prepare_batch",
    "send_to_qbo",
    "undo_send",
]
