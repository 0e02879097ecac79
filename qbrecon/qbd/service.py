"""The Web Connector service: the SOAP operations and the session they drive.

The QuickBooks Web Connector (QBWC) on the customer's Windows machine calls in on a
schedule. One *session* (an "update" in QBWC's words) goes::

    serverVersion, clientVersion, authenticate           -> ticket, or "none" / "nvu" / "busy"
    sendRequestXML  -> qbXML request   \
    receiveResponseXML -> 0..99 / 100   >  repeated until 100 (or < 0: getLastError)
    closeConnection -> one-line summary

and does, in order:

1. **recover**: entries left ``pending`` by a lost response, and queued entries this
   ledger has no record of (``check_quickbooks``), are looked up in QuickBooks
   (TimeTracking query by date, ExternalGUIDs matched here): found ones are marked sent,
   the lost ones not found are queued again, so nothing is entered twice;
2. **stage the lists**: employees, vendors, customers (paged with an iterator), service
   items (paged), payroll wage items, classes, all active and inactive; the raw responses
   are kept in the ledger (:func:`staged_lists` loads them);
3. **deliver** the queued entries as ``TimeTrackingAddRq`` chunks (one request id and one
   ExternalGUID per entry), recording the intent before each request and each entry's
   status after it.

The first session of a company file is a *test sync*: lists only, nothing delivered.
A user bound to a company file is only ever served that file; a user bound to none is
served whichever file has work, one per update (``authenticate`` names the file for the
Web Connector to open, and ``sendRequestXML`` checks that QuickBooks has it open).
All state lives in the ledger's SQLite file, so several worker processes can serve one
ledger; every exchange is written to the integration log (never passwords or tickets).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import os
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from .. import schema as S
from ..errors import InputError, QbreconError, SettingsError
from ..formats.qbxml import external_guid, message_set, time_tracking_add_requests
from ..ledger import Ledger, now, request_id_for
from . import messages as M
from . import store
from ._xmlsafe import XMLRejected
from .auth import WebConnectorUser, check_login, make_users
from .queue import payload_frame, target_for
from .soap import SoapCall, SoapFault

log = logging.getLogger("qbrecon")

#: entries whose request may be retried automatically at most this many times
MAX_ATTEMPTS = 3
#: the ExternalGUID generations looked for when an entry this ledger never saw is searched
#: for in QuickBooks (another ledger may have sent a later generation)
_GENERATIONS_SEARCHED = 8
#: queued entries whose requests are built in one go (then sent chunk by chunk)
_BLOCK = 1000
_LOG_TEXT_LIMIT = 2_000_000  # characters of request/response text kept per log row


@dataclass(frozen=True)
class WebConnectorSettings:
    """How the Web Connector service behaves. Every field has a sensible default.

    Attributes:
        ticket_ttl: seconds without a call after which a session's ticket expires.
        max_failures: failed logins of one user name within ``failure_window`` seconds
            that lock it for ``lockout`` seconds.
        failure_window: see ``max_failures``.
        lockout: see ``max_failures``.
        max_body: the largest request accepted, in bytes (larger: HTTP 413).
        chunk_size: TimeTrackingAdd requests per ``sendRequestXML``.
        page_size: records per page of an iterator query (``MaxReturned``).
        default_service_item: the service item for billable time whose batch row has
            none: a name (full name) or ListID, or a mapping of company file ("" for the
            open file) to one. Checked against the staged items before use.
        stage_lists: stage the lists in every session that has work (else only in the
            test sync, when asked with :func:`request_list_staging`, or when stale).
        lists_max_age: seconds after which the staged lists are refreshed even when
            nothing is queued (None: never for age alone).
        test_sync: the first session of a company file stages lists and sends nothing.
        takeover_after: seconds a session must have been idle before a new login for the
            same company file replaces it (a Web Connector that crashed mid-update);
            before that the new login gets ``busy``. Entries the old session left in
            flight are confirmed against QuickBooks by the new one.
        qbxml_version: the highest qbXML version spoken (lowered to what QuickBooks
            reports; 6.0 at least, ExternalGUID needs 9.0).
        min_client_version: Web Connector versions below this get a warning.
        check_quickbooks: before the first delivery of entries this ledger has no record
            of for the company file (a new or mistyped ledger, say), look for their
            ExternalGUIDs in QuickBooks (one paged TimeTracking query over their dates):
            entries found there are recorded as sent and not delivered again. Turn it off
            only when this ledger is known to hold every earlier delivery.
    """

    ticket_ttl: float = 1800.0
    max_failures: int = 5
    failure_window: float = 900.0
    lockout: float = 900.0
    max_body: int = 10 * 1024 * 1024
    chunk_size: int = 50
    page_size: int = 500
    default_service_item: str | Mapping[str, str] | None = None
    stage_lists: bool = True
    lists_max_age: float | None = 24 * 3600.0
    test_sync: bool = True
    takeover_after: float = 120.0
    qbxml_version: str = "13.0"
    min_client_version: str = "2.1"
    check_quickbooks: bool = True

    def __post_init__(self) -> None:
        problems = []
        for name in ("ticket_ttl", "failure_window", "lockout", "takeover_after"):
            if not getattr(self, name) > 0:
                problems.append(f"{name} must be more than 0 seconds")
        for name, low, high in (("max_failures", 1, 1000), ("chunk_size", 1, 500),
                                ("page_size", 1, 10000), ("max_body", 1024, 1 << 31)):
            v = getattr(self, name)
            if not isinstance(v, int) or not low <= v <= high:
                problems.append(f"{name} must be a whole number from {low} to {high}")
        v = M.version_tuple(self.qbxml_version)
        if v is None or v < (6, 0):
            problems.append("qbxml_version must be 6.0 or later, like '13.0'")
        if self.lists_max_age is not None and not self.lists_max_age > 0:
            problems.append("lists_max_age must be more than 0 seconds, or None")
        if problems:
            raise SettingsError("Web Connector settings: " + "; ".join(problems),
                                setting="WebConnectorSettings")

    def default_item_for(self, company_file: str) -> str:
        d = self.default_service_item
        if d is None:
            return ""
        if isinstance(d, str):
            return d.strip()
        return str(d.get(company_file, d.get("", "")) or "").strip()


def _ticket_hash(ticket: str) -> str:
    return hashlib.sha256(ticket.encode("utf-8")).hexdigest()


def _prefix(ticket: str) -> str:
    return ticket[:8] + "…" if ticket else "-"


def _clip(text: str | None) -> str | None:
    if text is None or len(text) <= _LOG_TEXT_LIMIT:
        return text
    return text[:_LOG_TEXT_LIMIT] + f"\n… ({len(text) - _LOG_TEXT_LIMIT:,} more characters)"


@dataclass
class _Session:
    ticket_hash: str
    prefix: str
    user: str
    target: str
    company_file: str
    run_id: str
    expires_at: float
    closed_at: float | None
    state: dict[str, Any] = field(default_factory=dict)


def _session(r: Any) -> _Session:
    return _Session(r["ticket_hash"], r["ticket_prefix"], r["user_name"], r["target"],
                    r["company_file"], r["run_id"], r["expires_at"], r["closed_at"],
                    json.loads(r["state"]))


class WebConnectorService:
    """The operations of the Web Connector, each a method named as in the WSDL.

    Use :func:`webconnector_app` for the WSGI app; this class is its engine, callable
    directly (tests, notebooks) with :meth:`call`.

    Args:
        ledger: the ledger (path or object). Each worker process opens its own
            connection to the file.
        users: Web Connector user names mapped to a password, or to a mapping with
            ``password`` (or ``password_hash``) and ``company_file``; see
            :func:`qbrecon.qbd.auth.make_users`. Only salted hashes are kept.
        settings: a :class:`WebConnectorSettings`.
        clock: seconds since the epoch (for tests); defaults to :func:`time.time`.
    """

    def __init__(
        self,
        *,
        ledger: Ledger | str | os.PathLike[str],
        users: Mapping[str, Any],
        settings: WebConnectorSettings | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.users: dict[str, WebConnectorUser] = make_users(users)
        self.settings = settings if settings is not None else WebConnectorSettings()
        self._clock = clock or time.time
        self._given = ledger if isinstance(ledger, Ledger) else None
        self._path = Path(ledger.path if isinstance(ledger, Ledger) else ledger)
        self._led: Ledger | None = None
        self._pid: int | None = None
        self._local = threading.local()
        self.ledger  # noqa: B018 - open now: a bad ledger fails at start, not at first call

    # ----------------------------------------------------------------- plumbing
    @property
    def ledger(self) -> Ledger:
        """This process's connection to the ledger (reopened after a fork)."""
        pid = os.getpid()
        if self._led is None or self._pid != pid:
            if self._given is not None and self._pid is None:
                self._led = self._given
            else:
                self._led = Ledger(self._path)
            self._pid = pid
            store.ensure(self._led)
        return self._led

    def call(self, call: SoapCall) -> str | int | list[str]:
        """Run one parsed SOAP call and return its result value."""
        try:
            return self._dispatch(call)
        finally:
            self._flush()

    def _dispatch(self, call: SoapCall) -> str | int | list[str]:
        p = call.params
        op = call.operation
        if op == "serverVersion":
            return self.serverVersion()
        if op == "clientVersion":
            return self.clientVersion(p["strVersion"])
        if op == "authenticate":
            return self.authenticate(p["strUserName"], p["strPassword"])
        if op == "sendRequestXML":
            return self.sendRequestXML(p["ticket"], p["strHCPResponse"], p["strCompanyFileName"],
                                       p["qbXMLCountry"], p["qbXMLMajorVers"], p["qbXMLMinorVers"])
        if op == "receiveResponseXML":
            return self.receiveResponseXML(p["ticket"], p["response"], p["hresult"], p["message"])
        if op == "connectionError":
            return self.connectionError(p["ticket"], p["hresult"], p["message"])
        if op == "getLastError":
            return self.getLastError(p["ticket"])
        if op == "closeConnection":
            return self.closeConnection(p["ticket"])
        if op == "getInteractiveURL":
            return self.getInteractiveURL(p["wcTicket"], p["sessionID"])
        if op == "interactiveDone":
            return self.interactiveDone(p["wcTicket"])
        if op == "interactiveRejected":
            return self.interactiveRejected(p["wcTicket"], p["reason"])
        raise SoapFault(f"unknown operation {op!r}")

    # Log rows of one call are buffered and written in the transaction that saves the
    # session (or at the end of the call): one commit per call instead of one per row.
    def _buffer(self) -> list[dict[str, Any]]:
        buf = getattr(self._local, "rows", None)
        if buf is None:
            buf = self._local.rows = []
        return buf

    def _log(self, event: str, s: _Session | None = None, *, level: str = "info",
             message: str = "", **kw: Any) -> None:
        self._buffer().append({
            "event": event, "level": level, "message": message,
            "run_id": s.run_id if s else kw.pop("run_id", None),
            "target": s.target if s else kw.pop("target", None), **kw})

    def _log_rows(self, rows: list[dict[str, Any]]) -> None:
        self._buffer().extend(rows)

    def _later(self, sql: str, params: tuple[Any, ...]) -> None:
        """Run ``sql`` in the transaction that next saves the session (or ends the call)."""
        if getattr(self._local, "sql", None) is None:
            self._local.sql = []
        self._local.sql.append((sql, params))

    def _take(self) -> tuple[list[tuple[str, tuple[Any, ...]]], list[dict[str, Any]]]:
        sql, rows = getattr(self._local, "sql", None) or [], self._buffer()
        self._local.sql, self._local.rows = [], []
        return sql, rows

    def _flush(self) -> None:
        sql, rows = self._take()
        if sql or rows:
            with self.ledger.transaction() as cur:
                for stmt, params in sql:
                    cur.execute(stmt, params)
                store.log_rows(cur, rows)

    def _load(self, ticket: str) -> _Session | None:
        if not ticket:
            return None
        rows = store.query(self.ledger, "SELECT * FROM qbwc_sessions WHERE ticket_hash = ?",
                           (_ticket_hash(ticket),))
        if not rows:
            return None
        return _session(rows[0])

    def _live(self, ticket: str, op: str) -> _Session | None:
        """The open, unexpired session of ``ticket``, its expiry pushed back; else None."""
        s = self._load(ticket)
        t = self._clock()
        if s is None:
            self._log("wc_bad_ticket", level="warning",
                      message=f"{op}: unknown ticket {_prefix(ticket)}")
            return None
        if s.closed_at is not None:
            self._log("wc_bad_ticket", s, level="warning",
                      message=f"{op}: ticket {s.prefix} belongs to a closed session")
            return None
        if s.expires_at <= t:
            self._expire(s)
            self._log("wc_bad_ticket", s, level="warning",
                      message=f"{op}: ticket {s.prefix} expired")
            return None
        s.expires_at = t + self.settings.ticket_ttl
        return s

    def _save(self, s: _Session) -> None:
        sql, rows = self._take()
        with self.ledger.transaction() as cur:
            for stmt, params in sql:
                cur.execute(stmt, params)
            cur.execute(
                "UPDATE qbwc_sessions SET state = ?, expires_at = ?, closed_at = ? "
                "WHERE ticket_hash = ?",
                (json.dumps(s.state), s.expires_at, s.closed_at, s.ticket_hash),
            )
            store.log_rows(cur, rows)

    def _expire(self, s: _Session) -> None:
        if s.closed_at is None:
            s.closed_at = self._clock()
            self._later("DELETE FROM qbwc_prepared WHERE ticket_hash = ?", (s.ticket_hash,))
            s.state["last_error"] = s.state.get("last_error") or (
                "The session expired before it finished; the next update continues where it "
                "stopped.")
            self._save(s)
            self.ledger.finish_run(s.run_id, status="expired", summary=s.state.get("counts", {}))

    # ---------------------------------------------------------------- versions
    def serverVersion(self, strVersion: str = "") -> str:
        from .. import __version__

        self._log("wc_server_version", message=f"serverVersion: qbrecon {__version__}")
        return f"qbrecon {__version__}"

    def clientVersion(self, strVersion: str) -> str:
        have = tuple(int(x) for x in strVersion.split(".") if x.isdigit())
        want = tuple(int(x) for x in self.settings.min_client_version.split(".") if x.isdigit())
        answer = ""
        if have and have < want:
            answer = (f"W:This Web Connector ({strVersion}) is older than qbrecon is tested "
                      f"with ({self.settings.min_client_version}); please upgrade it.")
        self._log("wc_client_version", message=f"clientVersion {strVersion or '?'}: "
                  f"{answer or 'accepted'}")
        return answer

    # ----------------------------------------------------------- authenticate
    def authenticate(self, strUserName: str, strPassword: str) -> list[str]:
        name = (strUserName or "").strip()
        shown = name[:60] or "(empty)"
        t = self._clock()
        led = self.ledger
        if len(name) > 200 or not name:  # no such user; not worth a row in the lockout table
            self._log("wc_authenticate", level="warning",
                      message=f"user {shown}: refused (not a user name)")
            return ["", "nvu"]
        rows = store.query(led, "SELECT * FROM qbwc_auth WHERE user_name = ?", (name,))
        auth = dict(rows[0]) if rows else {}
        user = check_login(self.users, name, strPassword)  # always costs one hash
        locked_until = auth.get("locked_until")
        if locked_until and locked_until > t:
            until = datetime.fromtimestamp(locked_until, UTC).isoformat(timespec="seconds")
            self._log("wc_authenticate", level="warning",
                      message=f"user {shown}: refused (locked after repeated failures until {until})")
            return ["", "nvu"]
        if user is None:
            failures = int(auth.get("failures") or 0)
            first = auth.get("first_failure")
            if first is None or t - first > self.settings.failure_window:
                failures, first = 0, t
            failures += 1
            lock = t + self.settings.lockout if failures >= self.settings.max_failures else None
            with led.transaction() as cur:
                cur.execute(
                    "INSERT INTO qbwc_auth (user_name, failures, first_failure, locked_until) "
                    "VALUES (?,?,?,?) ON CONFLICT (user_name) DO UPDATE SET "
                    "failures = excluded.failures, first_failure = excluded.first_failure, "
                    "locked_until = excluded.locked_until", (name, failures, first, lock))
            note = (f"; locked for {self.settings.lockout / 60:.0f} min" if lock else
                    f" ({failures} of {self.settings.max_failures} before a lockout)")
            self._log("wc_authenticate", level="warning",
                      message=f"user {shown}: refused (wrong user name or password){note}")
            return ["", "nvu"]
        if auth:
            with led.transaction() as cur:
                cur.execute("DELETE FROM qbwc_auth WHERE user_name = ?", (name,))
        if user.company_file:  # bound: this file only
            company, waiting = user.company_file, []
        else:  # unbound: whichever company file has work, one per update
            company, waiting = self._pick_company_file()
        target = target_for(company)
        self._close_stale(target)
        work = self._work(target)
        if not any(work.values()):
            self._log("wc_authenticate", target=target,
                      message=f"user {shown}: nothing to do (none queued, lists current)")
            return ["", "none"]
        ticket = secrets.token_hex(16)
        ticket = f"{ticket[:8]}-{ticket[8:12]}-{ticket[12:16]}-{ticket[16:20]}-{ticket[20:]}"
        run_id = f"webconnector-{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"
        lists = bool(work["test_sync"] or work["lists_due"] or
                     (self.settings.stage_lists and (work["queued"] or work["pending"])))
        state = {
            "stage": "recover", "started": False, "test_sync": bool(work["test_sync"]),
            "lists_todo": list(M.LIST_QUERIES) if lists else [], "list": None,
            "iterator_id": None, "page": 0, "remaining": None, "recover": None,
            "inflight": None, "next": None, "version": None, "seq": 0, "done": 0,
            "last_error": "", "staged": {}, "list_errors": {}, "default_item": None,
            "waiting": waiting,
            "counts": {"sent": 0, "refused": 0, "retry": 0, "recovered": 0, "requeued": 0,
                       "unconfirmed": 0, "warnings": 0, "found": 0, "elsewhere": 0,
                       "held": 0, "not_checked": 0},
        }
        idle_since = t - self.settings.takeover_after
        with led.transaction() as cur:
            live = cur.execute(
                "SELECT ticket_prefix, expires_at, ticket_hash FROM qbwc_sessions WHERE target = ? "
                "AND closed_at IS NULL AND expires_at > ?", (target, t)).fetchone()
            stale = None
            if live is not None and live[1] - self.settings.ticket_ttl <= idle_since:
                stale, live = live, None  # idle long enough: the Web Connector gave up on it
            if live is None:
                cur.execute(
                    "INSERT INTO runs (run_id, target, kind, started_at, summary) "
                    "VALUES (?,?,?,?,?)",
                    (run_id, target, "webconnector", now(), json.dumps({"user": name})))
                cur.execute(
                    "INSERT INTO qbwc_sessions (ticket_hash, ticket_prefix, user_name, target, "
                    "company_file, run_id, created_at, expires_at, state) VALUES (?,?,?,?,?,?,?,?,?)",
                    (_ticket_hash(ticket), _prefix(ticket), name, target, company,
                     run_id, t, t + self.settings.ticket_ttl, json.dumps(state)))
        if stale is not None:
            old = _session(store.query(led, "SELECT * FROM qbwc_sessions WHERE ticket_hash = ?",
                                       (stale[2],))[0])
            old.state["last_error"] = ("A new update replaced this session after it had been "
                                       "idle; entries it left in flight are confirmed by the "
                                       "new one.")
            self._end(old, "abandoned")
            self._log("wc_session_replaced", old, level="warning",
                      message=f"session {old.prefix} was idle and is replaced by a new login")
        if live is not None:
            self._log("wc_authenticate", target=target, level="warning",
                      message=f"user {shown}: busy (session {live[0]} for this company file "
                      "is still running)")
            return ["", "busy"]
        what = ("test sync: lists only" if work["test_sync"] else
                f"{work['queued']} queued, {work['pending']} to confirm"
                + (", lists" if lists else ""))
        if waiting:
            self._log("wc_company_files", target=target, run_id=run_id, message=(
                f"user {shown}: {len(waiting) + 1} company files have work; this update "
                f"serves {company or 'the open company file'} (oldest queue first), then "
                + ", ".join(w or "the open company file" for w in waiting)
                + " in the next update(s)"))
        opens = f"; the Web Connector is told to open {company}" if company else ""
        self._log("wc_authenticate", target=target, run_id=run_id,
                  message=f"user {shown}: accepted, ticket {_prefix(ticket)}; {what}{opens}")
        # a path makes the Web Connector open that company file; "" uses the open one
        return [ticket, company]

    def _pick_company_file(self) -> tuple[str, list[str]]:
        """For a user bound to no company file: the file this update serves, and the
        others that have work (served in the next updates).

        Work queued or waiting to be confirmed comes first, the file whose work has waited
        longest first; a file whose last update ended in an error, or that another update
        is still working on, goes behind the others, so one that cannot be opened does not
        hold up the rest. Asked-for list staging counts as work too. Without any, the open
        company file (its test sync and list refreshes, as for a user bound to it).
        """
        rows = store.query(
            self.ledger,
            "SELECT target, MIN(updated_at) FROM deliveries WHERE target LIKE 'qbd:%' "
            "AND state IN ('queued', 'pending') GROUP BY target")
        since = {r[0]: r[1] for r in rows}
        for r in store.query(
                self.ledger,
                "SELECT target, lists_requested_at FROM qbwc_files WHERE lists_requested_at "
                "IS NOT NULL AND (staged_at IS NULL OR lists_requested_at > staged_at)"):
            since[r[0]] = min(since.get(r[0], r[1]), r[1])
        if not since:
            return "", []
        failed = {r[0] for r in store.query(
            self.ledger,
            "SELECT r.target FROM runs r WHERE r.kind = 'webconnector' AND r.status = 'error' "
            "AND r.started_at = (SELECT MAX(started_at) FROM runs WHERE kind = 'webconnector' "
            "AND target = r.target)")}
        t = self._clock()
        busy = {r[0] for r in store.query(
            self.ledger,
            "SELECT target FROM qbwc_sessions WHERE closed_at IS NULL AND expires_at > ? "
            "AND expires_at > ?",
            (t, t - self.settings.takeover_after + self.settings.ticket_ttl))}
        order = sorted(since, key=lambda tg: (tg in busy, tg in failed, since[tg], tg))
        files = [tg[4:] for tg in order]
        return files[0], files[1:]

    def _work(self, target: str) -> dict[str, Any]:
        counts = dict(store.query(
            self.ledger,
            "SELECT state, COUNT(*) FROM deliveries WHERE target = ? AND state IN "
            "('queued', 'pending') GROUP BY state", (target,)))
        info = store.file_info(self.ledger, target)
        test_sync = self.settings.test_sync and not info.get("test_sync_at")
        lists_due = bool(info.get("lists_requested_at") and
                         (not info.get("staged_at") or info["lists_requested_at"] > info["staged_at"]))
        if self.settings.lists_max_age is not None:
            staged = info.get("staged_at")
            age = (datetime.now(UTC) - datetime.fromisoformat(staged)).total_seconds() if staged else None
            lists_due = lists_due or age is None or age > self.settings.lists_max_age
        return {"queued": counts.get("queued", 0), "pending": counts.get("pending", 0),
                "test_sync": test_sync, "lists_due": lists_due}

    def _close_stale(self, target: str) -> None:
        t = self._clock()
        rows = store.query(self.ledger, "SELECT ticket_hash FROM qbwc_sessions WHERE target = ? "
                           "AND closed_at IS NULL AND expires_at <= ?", (target, t))
        for r in rows:
            s = _session(store.query(self.ledger, "SELECT * FROM qbwc_sessions WHERE "
                                     "ticket_hash = ?", (r[0],))[0])
            self._expire(s)
            self._log("wc_session_expired", s, level="warning",
                      message=f"session {s.prefix} ended without closeConnection")

    # --------------------------------------------------------- sendRequestXML
    def sendRequestXML(self, ticket: str, strHCPResponse: str, strCompanyFileName: str,
                       qbXMLCountry: str, qbXMLMajorVers: str, qbXMLMinorVers: str) -> str:
        s = self._live(ticket, "sendRequestXML")
        if s is None:
            return ""
        st = s.state
        try:
            if not st["started"]:
                if not self._start(s, strHCPResponse, strCompanyFileName, qbXMLCountry,
                                   qbXMLMajorVers, qbXMLMinorVers):
                    self._save(s)
                    return ""
                st["started"] = True
                st["next"] = self._prepare(s)
            if st["inflight"] is not None:
                # QBWC asked again without answering the last request: its outcome is
                # unknown, so stop; the next session confirms it against QuickBooks
                st["last_error"] = ("The Web Connector did not return QuickBooks' response to "
                                    "the last request; the next update confirms it.")
                self._log("wc_error", s, level="error", message=st["last_error"])
                self._save(s)
                return ""
            nxt = st["next"]
            if nxt is None:
                st["last_error"] = st["last_error"] or "Nothing more to send."
                self._save(s)
                return ""
            if nxt["kind"] == "add":
                self._record_intent(s, nxt)
            st["inflight"], st["next"] = nxt, None
            self._save(s)
            self._log("wc_send", s, message=nxt["what"], request=_clip(nxt["xml"]),
                      request_id=nxt.get("request_id"))
            return nxt["xml"]
        except Exception:
            self._save(s)
            raise

    def _start(self, s: _Session, hcp: str, company: str, country: str, major: str,
               minor: str) -> bool:
        st = s.state
        try:
            host = M.read_hcp(hcp)
        except XMLRejected as exc:
            self._log("wc_hcp", s, level="warning", message=f"HCP response unreadable: {exc}")
            host = M.HostInfo()
        bound = s.company_file  # the file authenticate told the Web Connector to open
        if bound and company and _norm_path(company) != _norm_path(bound):
            user = self.users.get(s.user)
            if user is not None and user.company_file:
                st["last_error"] = (f"This Web Connector user may only reach {bound!r}, but "
                                    f"QuickBooks has {company!r} open. Open the right company "
                                    "file, or use the .qwc file made for this one.")
            else:
                st["last_error"] = (f"This update was for {bound!r}, which has work queued, but "
                                    f"QuickBooks has {company!r} open; nothing was sent. Open "
                                    f"{bound!r} (or close QuickBooks) and update again.")
            self._log("wc_wrong_company_file", s, level="error", message=st["last_error"])
            return False
        v = M.choose_version(highest=self.settings.qbxml_version, major=major, minor=minor,
                             supported=host.versions)
        if v < (6, 0):
            st["last_error"] = (f"QuickBooks speaks qbXML {v[0]}.{v[1]}; qbrecon needs 6.0 or "
                                "later (QuickBooks 2004 or newer).")
            self._log("wc_error", s, level="error", message=st["last_error"])
            return False
        st["version"] = f"{v[0]}.{v[1]}"
        st["class_tracking"] = host.class_tracking
        # the file this session delivers to: what an entry queued for "" went into
        st["open_file"] = (company or bound or "").strip()
        if st["open_file"]:
            self._later("INSERT OR REPLACE INTO qbwc_open_files (run_id, target, company_path, "
                        "at) VALUES (?,?,?,?)", (s.run_id, s.target, st["open_file"], now()))
        store.update_file(self.ledger, s.target, company_path=company or None,
                          product=host.product or None, qbxml_version=st["version"],
                          file_mode=host.file_mode or None,
                          class_tracking=None if host.class_tracking is None else int(host.class_tracking),
                          last_seen_at=now())
        self._log("wc_host", s, message=(
            f"{host.product or 'QuickBooks'} ({host.file_mode or 'mode ?'}), company file "
            f"{company or '(open file)'}, country {country or '?'}, qbXML {st['version']}"
            + (" (no ExternalGUID below 9.0: unknown outcomes are matched by a Notes marker)"
               if v < (9, 0) else "")))
        return True

    def _record_intent(self, s: _Session, nxt: dict[str, Any]) -> None:
        rows = store.query(
            self.ledger,
            f"SELECT entry_id, generation, fingerprint, payload FROM deliveries WHERE target = ? "
            f"AND entry_id IN ({','.join('?' * len(nxt['entry_ids']))})",
            [s.target, *nxt["entry_ids"]])
        by_id = {r[0]: r for r in rows}
        items = []
        for e, rid in zip(nxt["entry_ids"], nxt["request_ids"], strict=True):
            r = by_id[e]
            items.append({S.ENTRY_ID: e, "request_id": rid, "generation": r[1],
                          S.FINGERPRINT: r[2], "payload": r[3]})
        self.ledger.record_intent(s.target, items, run_id=s.run_id)

    # ------------------------------------------------------------- preparing
    def _rid(self, s: _Session, kind: str) -> str:
        s.state["seq"] += 1
        return f"{kind}-{s.state['seq']}"

    def _prepare(self, s: _Session) -> dict[str, Any] | None:
        """The next request of the session, or None when it is done."""
        st = s.state
        version = tuple(int(x) for x in st["version"].split("."))
        while True:
            if st["stage"] == "recover":
                rec = st["recover"]
                if rec is None:
                    pending = self._pending(s.target)
                    unseen = self._claim_unseen(s)
                    look = pd.concat([pending, unseen], ignore_index=True)
                    if look.empty:
                        st["stage"] = "lists"
                        continue
                    emp = look[S.EMPLOYEE_ID].unique()
                    rec = st["recover"] = {
                        "from": look[S.TXN_DATE].min().strftime("%Y-%m-%d"),
                        "to": look[S.TXN_DATE].max().strftime("%Y-%m-%d"),
                        "entity": str(emp[0]) if len(emp) == 1 and emp[0] else None,
                        "iterator_id": None, "page": 0, "entries": len(pending),
                        "unseen": len(unseen)}
                    if len(unseen):
                        self._log("wc_checking", s, message=(
                            f"looking in QuickBooks for the ExternalGUIDs of {len(unseen)} "
                            f"queued entries this ledger has no record of for "
                            f"{s.company_file or 'the open company file'}, before their first "
                            "delivery"))
                rid = self._rid(s, "recover")
                xml = message_set([M.time_tracking_query(
                    rid, from_date=rec["from"], to_date=rec["to"], entity_id=rec["entity"],
                    page_size=self.settings.page_size, iterator_id=rec["iterator_id"],
                    external_guid=version >= (9, 0))], version=st["version"])
                why = ", ".join(w for w in (
                    f"confirming {rec['entries']} unknown outcome(s)" if rec["entries"] else "",
                    f"checking {rec.get('unseen', 0)} entries before their first delivery"
                    if rec.get("unseen") else "") if w)
                return {"kind": "recover", "xml": xml, "request_id": rid,
                        "what": f"TimeTrackingQueryRq {rec['from']}..{rec['to']} (page "
                                f"{rec['page'] + 1}): {why}"}
            if st["stage"] == "lists":
                if st["list"] is None:
                    if not st["lists_todo"]:
                        st["stage"] = "deliver"
                        if st["staged"] or st["list_errors"]:
                            self._finish_staging(s)
                        continue
                    st["list"] = st["lists_todo"].pop(0)
                    st["iterator_id"], st["page"], st["remaining"] = None, 0, None
                rid = self._rid(s, "list")
                rq, _ = M.LIST_QUERIES[st["list"]]
                xml = message_set([M.list_query(st["list"], rid, page_size=self.settings.page_size,
                                                iterator_id=st["iterator_id"])],
                                  version=st["version"])
                return {"kind": "list", "xml": xml, "request_id": rid, "list": st["list"],
                        "what": f"{rq} ({st['list']}, page {st['page'] + 1})"}
            if st["stage"] == "deliver":
                if st["test_sync"]:
                    st["stage"] = "done"
                    continue
                if st["default_item"] is None:
                    self._precheck(s)
                nxt = self._next_chunk(s, version)
                if nxt is None:
                    st["stage"] = "done"
                    continue
                return nxt
            return None

    def _pending(self, target: str) -> pd.DataFrame:
        rows = store.query(self.ledger, "SELECT entry_id, request_id, generation, payload FROM "
                           "deliveries WHERE target = ? AND state = 'pending' ORDER BY entry_id",
                           (target,))
        frame = payload_frame([r[3] for r in rows])
        frame.insert(0, S.ENTRY_ID, [r[0] for r in rows])
        frame.insert(1, "request_id", [r[1] for r in rows])
        frame.insert(2, "generation", [int(r[2]) for r in rows])
        return frame

    def _claim_unseen(self, s: _Session) -> pd.DataFrame:
        """Queued entries this ledger has no record of for the company file (never tried,
        never looked for), claimed by this session for the search before their first
        delivery. Empty when ``check_quickbooks`` is off or in a test sync."""
        if not self.settings.check_quickbooks or s.state["test_sync"]:
            return self._unseen(s)[:0]
        with self.ledger.transaction() as cur:
            cur.execute(
                "INSERT INTO qbwc_checked (target, entry_id, run_id, checked_at) "
                "SELECT d.target, d.entry_id, ?, NULL FROM deliveries d WHERE d.target = ? "
                "AND d.state = 'queued' AND d.generation = 0 AND d.attempts = 0 AND NOT EXISTS "
                "(SELECT 1 FROM qbwc_checked c WHERE c.target = d.target AND "
                "c.entry_id = d.entry_id AND c.checked_at IS NOT NULL) "
                "ON CONFLICT (target, entry_id) DO UPDATE SET run_id = excluded.run_id",
                (s.run_id, s.target))
        return self._unseen(s)

    def _unseen(self, s: _Session) -> pd.DataFrame:
        """The entries this session claimed for the search and has not finished with."""
        rows = store.query(
            self.ledger,
            "SELECT d.entry_id, d.generation, d.payload FROM deliveries d JOIN qbwc_checked c "
            "ON c.target = d.target AND c.entry_id = d.entry_id WHERE d.target = ? AND "
            "c.run_id = ? AND c.checked_at IS NULL AND d.state = 'queued' ORDER BY d.entry_id",
            (s.target, s.run_id))
        frame = payload_frame([r[2] for r in rows])
        frame.insert(0, S.ENTRY_ID, [r[0] for r in rows])
        frame.insert(1, "generation", [int(r[1]) for r in rows])
        return frame

    def _queued(self, s: _Session, limit: int | None, *,
                unprepared: bool = False) -> tuple[list[Any], pd.DataFrame]:
        sql = ("SELECT entry_id, request_id, payload, generation, (generation = 0 AND attempts = 0 "
               "AND NOT EXISTS (SELECT 1 FROM qbwc_checked c WHERE c.target = d.target AND "
               "c.entry_id = d.entry_id AND c.checked_at IS NOT NULL)) FROM deliveries d "
               "WHERE target = ? AND state = 'queued' AND COALESCE(run_id, '') <> ?")
        params: list[Any] = [s.target, s.run_id]
        if unprepared:
            sql += (" AND NOT EXISTS (SELECT 1 FROM qbwc_prepared p WHERE p.ticket_hash = ? AND "
                    "p.entry_id = d.entry_id AND p.request_id = d.request_id)")
            params.append(s.ticket_hash)
        sql += " ORDER BY created_at, entry_id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        rows = store.query(self.ledger, sql, params)
        frame = payload_frame([r[2] for r in rows])
        frame.insert(0, S.ENTRY_ID, pd.array([r[0] for r in rows], dtype=S.STRING))
        frame.insert(1, "request_id", pd.array([r[1] for r in rows], dtype=S.STRING))
        frame["generation"] = [int(r[3]) for r in rows]
        frame["unchecked"] = pd.array([bool(r[4]) for r in rows], dtype=bool)
        return rows, frame

    def _needs_item(self, frame: pd.DataFrame) -> pd.Series:
        return ((frame[S.BILLABLE_STATUS] == "Billable") & (frame[S.ITEM_ID].fillna("") == "")
                & (frame[S.ITEM_NAME].fillna("") == ""))

    def _precheck(self, s: _Session) -> None:
        """Resolve the default service item once, and refuse the billable entries that have
        no item when there is none, before anything is sent (so progress stays honest)."""
        st = s.state
        wanted = self.settings.default_item_for(s.company_file)
        st["default_item"] = {"id": "", "name": "", "problem": ""}
        _, queued = self._queued(s, None)
        needs = self._needs_item(queued)
        if not needs.any():
            return
        problem = ""
        if not wanted:
            problem = ("billable time needs a service item: the batch row has none and no "
                       "default_service_item is set")
        else:
            item, problem = self._resolve_item(s, wanted)
            if item is not None:
                st["default_item"] = {"id": item[0], "name": item[1], "problem": ""}
                self._log("wc_default_item", s, message=f"billable entries without an item use "
                          f"service item {item[1]!r} ({item[0]})")
                return
        st["default_item"]["problem"] = problem
        self._refuse_locally(s, queued[needs], problem)

    def _resolve_item(self, s: _Session, wanted: str) -> tuple[tuple[str, str] | None, str]:
        from .staging import staged_lists

        try:
            items = staged_lists(self.ledger, s.company_file, _target=s.target).items
        except QbreconError as exc:  # no staging yet, or unreadable: say so, send nothing billable
            return None, (f"the default service item {wanted!r} cannot be checked: no usable "
                          f"staged item list ({exc})")
        key = wanted.casefold()
        hit = items[(items[S.QB_ID] == wanted) | (items[S.FULL_NAME].str.casefold() == key)]
        if S.ITEM_TYPE in hit:
            hit = hit[hit[S.ITEM_TYPE].fillna("Service").isin(["Service", ""])]
        if hit.empty:
            return None, (f"the default service item {wanted!r} is not a service item in "
                          "QuickBooks (checked against the staged item list)")
        if not bool(hit[S.ACTIVE].iloc[0]):
            return None, f"the default service item {wanted!r} is inactive in QuickBooks"
        return (str(hit[S.QB_ID].iloc[0]), str(hit[S.FULL_NAME].iloc[0])), ""

    def _refuse_locally(self, s: _Session, frame: pd.DataFrame, problem: Any) -> None:
        """Mark entries failed without sending them; ``problem`` is one text or one per row."""
        if frame.empty:
            return
        ids = frame[S.ENTRY_ID].tolist()
        why = [problem] * len(ids) if isinstance(problem, str) else [str(p) for p in problem]
        self.ledger.record_outcomes(s.target, [
            {S.ENTRY_ID: e, "state": "failed", S.ERROR_CODE: "qbrecon", S.MESSAGE: w}
            for e, w in zip(ids, why, strict=True)])
        s.state["counts"]["refused"] += len(ids)
        self._log_rows([
            {"event": "refused", "level": "error", "run_id": s.run_id, "target": s.target,
             "entry_id": e, "message": f"not sent: {w}"} for e, w in zip(ids, why, strict=True)])

    def _hold_back(self, s: _Session, frame: pd.DataFrame) -> pd.DataFrame:
        """The queued entries of ``frame`` that may be delivered now; the others are held
        back for this session (an empty prepared request marks them) or recorded sent.

        * not yet looked for in QuickBooks (``check_quickbooks``: the search failed, or
          they were queued after it ran): held back for the next update;
        * sent to the same company file through another queue (``""`` and the file's
          path): recorded sent here too, with that TxnID, and not delivered again;
        * on their way to the same company file through another queue: held back until
          that outcome is known.
        """
        st = s.state
        hold = frame["unchecked"].to_numpy(dtype=bool) if self.settings.check_quickbooks else (
            pd.Series(False, index=frame.index).to_numpy())
        open_file = st.get("open_file", s.company_file) or ""
        other = store.same_file_holds(self.ledger, s.target, open_file,
                                      frame.loc[~hold, S.ENTRY_ID])
        sent = other[other["state"] == "sent"].drop_duplicates(S.ENTRY_ID)
        on_way = set(other.loc[other["state"] == "pending", S.ENTRY_ID]) - set(sent[S.ENTRY_ID])
        ids = frame[S.ENTRY_ID]
        if len(sent):
            into = open_file or "the open company file"
            via = sent["target"].str[4:].where(sent["target"] != "qbd:", "the open company file")
            self.ledger.record_outcomes(s.target, [
                {S.ENTRY_ID: e, "state": "sent", "external_id": txn, "external_version": ver,
                 S.MESSAGE: f"already in {into}: sent there through the queue for {v}"}
                for e, txn, ver, v in zip(sent[S.ENTRY_ID], sent["external_id"],
                                          sent["external_version"], via, strict=True)])
            st["counts"]["elsewhere"] = st["counts"].get("elsewhere", 0) + len(sent)
            self._log_rows([
                {"event": "already_sent", "level": "warning", "run_id": s.run_id,
                 "target": s.target, "entry_id": e,
                 "message": f"not sent: already in {into} (TxnID {txn or '?'}), sent through "
                            f"the queue for {v}"}
                for e, txn, v in zip(sent[S.ENTRY_ID], sent["external_id"], via, strict=True)])
        held = hold | ids.isin(on_way).to_numpy()
        if held.any():
            st["counts"]["held"] = st["counts"].get("held", 0) + int(held.sum())
            with self.ledger.transaction() as cur:
                cur.executemany(
                    "INSERT OR REPLACE INTO qbwc_prepared (ticket_hash, target, entry_id, "
                    "request_id, xml) VALUES (?,?,?,?,'')",
                    [(s.ticket_hash, s.target, e, r) for e, r in
                     zip(ids[held], frame.loc[held, "request_id"], strict=True)])
            if on_way:
                self._log_rows([
                    {"event": "held", "level": "warning", "run_id": s.run_id,
                     "target": s.target, "entry_id": e,
                     "message": "not sent yet: on its way to the same company file through "
                                "another queue; sent (or recorded sent) once that is known"}
                    for e in sorted(on_way)])
            if hold.any():
                self._log("held", s, level="warning", message=(
                    f"{int(hold.sum())} queued entries were not looked for in QuickBooks "
                    "before their first delivery (queued during this update, or the search "
                    "failed): they wait for the next update"))
        return frame[~held & ~ids.isin(sent[S.ENTRY_ID]).to_numpy()]

    def _next_chunk(self, s: _Session, version: tuple[int, ...]) -> dict[str, Any] | None:
        """The next TimeTrackingAdd message set: up to ``chunk_size`` prepared requests.

        Requests are built a block at a time (one vectorized call for many chunks) and kept
        in the ledger until sent; a prepared request is used only while its entry is still
        queued with the same request id, so nothing stale is ever sent.
        """
        st = s.state
        while True:
            rows = store.query(
                self.ledger,
                "SELECT p.entry_id, p.request_id, p.xml FROM qbwc_prepared p JOIN deliveries d "
                "ON d.target = p.target AND d.entry_id = p.entry_id AND d.request_id = p.request_id "
                "WHERE p.ticket_hash = ? AND d.state = 'queued' AND p.xml <> '' "
                "ORDER BY p.seq LIMIT ?",
                (s.ticket_hash, self.settings.chunk_size))
            if rows:
                return {"kind": "add",
                        "xml": message_set([r[2] for r in rows], version=st["version"]),
                        "entry_ids": [r[0] for r in rows], "request_ids": [r[1] for r in rows],
                        "what": f"TimeTrackingAddRq × {len(rows)}"}
            if not self._prepare_block(s, version):
                return None

    def _prepare_block(self, s: _Session, version: tuple[int, ...]) -> bool:
        """Build the requests of the next block of queued entries; False when none is left."""
        st = s.state
        _, frame = self._queued(s, max(self.settings.chunk_size, _BLOCK), unprepared=True)
        if frame.empty:
            return False
        frame = self._hold_back(s, frame)
        if frame.empty:
            return True  # all held back or already in the company file: the next block
        needs = self._needs_item(frame)
        item = st["default_item"]
        if needs.any() and not item["id"]:
            # queued during this session, after the check: refuse them the same way
            self._refuse_locally(s, frame[needs], item["problem"] or
                                 "billable time needs a service item")
            frame, needs = frame[~needs], needs[~needs]
        frame = frame.assign(**{S.ITEM_ID: frame[S.ITEM_ID].where(~needs, item["id"]),
                                S.ITEM_NAME: frame[S.ITEM_NAME].where(~needs, item["name"])})
        frame = frame.reset_index(drop=True)
        while len(frame):
            try:
                rqs = time_tracking_add_requests(
                    frame, version=st["version"], request_ids=frame["request_id"],
                    generations=frame["generation"],
                    return_elements=("TxnID", "EditSequence", "ExternalGUID")
                    if version >= (9, 0) else ("TxnID", "EditSequence"))
                break
            except InputError as exc:
                # rows the builder refuses (a name over its limit, a character XML cannot
                # carry...) are refused here in its words; the rest of the block goes
                bad = sorted({p.row - 1 for p in exc.problems if p.row is not None})
                if not bad:
                    raise
                why = pd.Series({pos: "; ".join(str(p.message) for p in exc.problems
                                                if p.row == pos + 1) for pos in bad})
                self._refuse_locally(s, frame.iloc[bad], why.to_numpy())
                frame = frame.drop(index=bad).reset_index(drop=True)
        else:
            return True  # everything in the block was refused: look at the next one
        with self.ledger.transaction() as cur:
            cur.executemany(
                "INSERT OR REPLACE INTO qbwc_prepared (ticket_hash, target, entry_id, request_id, "
                "xml) VALUES (?,?,?,?,?)",
                [(s.ticket_hash, s.target, e, r, x) for e, r, x in
                 zip(rqs[S.ENTRY_ID], rqs["request_id"], rqs["xml"], strict=True)])
        return True

    # ----------------------------------------------------- receiveResponseXML
    def receiveResponseXML(self, ticket: str, response: str, hresult: str, message: str) -> int:
        s = self._live(ticket, "receiveResponseXML")
        if s is None:
            return -1
        st = s.state
        inflight = st["inflight"]
        if inflight is None:
            st["last_error"] = "QuickBooks' response arrived for no request; update again."
            self._log("wc_error", s, level="error", message=st["last_error"])
            self._save(s)
            return -1
        try:
            if not (response or "").strip():
                return self._com_error(s, inflight, hresult, message)
            try:
                rs = M.read_response(response)
            except (XMLRejected, ValueError) as exc:
                return self._com_error(s, inflight, "", f"unreadable response: {exc}")
            st["inflight"] = None
            st["done"] += 1
            kind = inflight["kind"]
            keep = _clip(response) if kind != "list" else None
            if kind == "list":
                self._receive_list(s, inflight, rs, response)
            elif kind == "recover":
                self._receive_recover(s, rs)
            else:
                self._receive_add(s, inflight, rs)
            self._log("wc_receive", s, message=f"response to {inflight['what']}",
                      response=keep, request_id=inflight.get("request_id"))
            st["next"] = self._prepare(s)
            pct = self._percent(s)
            self._save(s)
            return pct
        except Exception:
            self._save(s)
            raise

    def _com_error(self, s: _Session, inflight: dict[str, Any], hresult: str, message: str) -> int:
        st = s.state
        text = M.hresult_text(hresult, message)
        st["inflight"] = None
        if inflight["kind"] == "add":
            ids = inflight["entry_ids"]
            if (hresult or "").strip().lower() == "0x80040400":
                # QuickBooks parses a whole message set before running any of it: nothing
                # was entered, and the same request would fail again
                self.ledger.record_outcomes(s.target, [
                    {S.ENTRY_ID: e, "state": "failed", S.ERROR_CODE: hresult.strip(),
                     S.MESSAGE: text} for e in ids])
                st["counts"]["refused"] += len(ids)
                event = "refused"
            else:
                st["counts"]["unconfirmed"] += len(ids)
                event = "unconfirmed"
            self._log_rows([
                {"event": event, "level": "error", "run_id": s.run_id, "target": s.target,
                 "entry_id": e, "message": text} for e in ids])
        st["last_error"] = f"QuickBooks could not run {inflight['what']}: {text}"
        self._log("wc_error", s, level="error", message=st["last_error"])
        self._save(s)
        return -1

    def _receive_list(self, s: _Session, inflight: dict[str, Any], rs: list[M.Rs],
                      text: str) -> None:
        st = s.state
        name = inflight["list"]
        r = next((x for x in rs if x.request_id == inflight["request_id"]), rs[0] if rs else None)
        if r is None or not r.ok:
            why = f"{r.code} {r.message}" if r is not None else "no response element"
            st["list_errors"][name] = why
            self._log("wc_list_error", s, level="warning",
                      message=f"{name} could not be staged: {why}")
            st["list"] = None
            return
        records = sum(1 for el in r.element if el.tag.endswith("Ret"))
        # committed together with the session's move to the next page
        self._later("INSERT OR REPLACE INTO qbwc_staged (target, run_id, list, page, "
                    "staged_at, response) VALUES (?,?,?,?,?,?)",
                    (s.target, s.run_id, name, st["page"], now(), text))
        self._log_rows([{"event": "wc_staged", "run_id": s.run_id, "target": s.target,
                         "message": f"{name} page {st['page'] + 1}: {records} record(s)"
                         + (f", {r.remaining} to go" if r.remaining else "")}])
        st["staged"][name] = st["staged"].get(name, 0) + records
        if r.remaining and r.iterator_id:
            st["iterator_id"], st["page"], st["remaining"] = r.iterator_id, st["page"] + 1, r.remaining
        else:
            st["list"] = None

    def _finish_staging(self, s: _Session) -> None:
        st = s.state
        counts = {"records": st["staged"], "errors": st["list_errors"]}
        t = now()
        with self.ledger.transaction() as cur:
            cur.execute("INSERT OR REPLACE INTO qbwc_stagings (target, run_id, completed_at, "
                        "counts) VALUES (?,?,?,?)", (s.target, s.run_id, t, json.dumps(counts)))
        values: dict[str, Any] = {"staged_at": t}
        if st["test_sync"]:
            values["test_sync_at"] = t
        store.update_file(self.ledger, s.target, **values)
        summary = ", ".join(f"{v} {k}" for k, v in st["staged"].items())
        self._log("wc_lists_staged", s, message=f"lists staged: {summary or 'none'}"
                  + (f"; not staged: {', '.join(st['list_errors'])}" if st["list_errors"] else "")
                  + ("; test sync complete" if st["test_sync"] else ""))

    def _receive_recover(self, s: _Session, rs: list[M.Rs]) -> None:
        st = s.state
        rec = st["recover"]
        r = rs[0] if rs else None
        pending = self._pending(s.target)
        unseen = self._unseen(s)
        if r is None or not r.ok:
            why = f"{r.code} {r.message}" if r is not None else "no response element"
            st["last_error"] = ""
            if len(pending):
                self._log("wc_recover_error", s, level="warning",
                          message=f"unknown outcomes could not be confirmed ({why}); "
                          f"{len(pending)} entries stay unconfirmed and are not sent again")
            if len(unseen):
                st["counts"]["not_checked"] = st["counts"].get("not_checked", 0) + len(unseen)
                self._log("not_checked", s, level="warning", message=(
                    f"{len(unseen)} queued entries this ledger has no record of could not be "
                    f"looked for in QuickBooks first ({why}); they may be there already, so "
                    "they stay queued for the next update (or turn the search off with "
                    "check_quickbooks=False if this ledger holds every earlier delivery)"))
            st["stage"], st["recover"] = "lists", None
            return
        rets = pd.DataFrame(M.time_tracking_rets(r),
                            columns=["TxnID", "EditSequence", "ExternalGUID", "Notes", "TxnDate"])
        old = (M.version_tuple(st["version"]) or (13, 0)) < (9, 0)
        found = _in_quickbooks(pending, rets, notes=old)
        if len(found):
            self.ledger.record_outcomes(s.target, [
                {S.ENTRY_ID: e, "state": "sent", "external_id": txn, "external_version": ver,
                 S.MESSAGE: "confirmed in QuickBooks after a lost response"}
                for e, txn, ver in zip(found[S.ENTRY_ID], found["TxnID"], found["EditSequence"],
                                       strict=True)])
            st["counts"]["recovered"] += len(found)
            self._log_rows([
                {"event": "recovered", "run_id": s.run_id, "target": s.target, "entry_id": e,
                 "message": f"already in QuickBooks (TxnID {txn}); not sent again"}
                for e, txn in zip(found[S.ENTRY_ID], found["TxnID"], strict=True)])
        # entries this ledger never saw: any generation's GUID (another ledger may have
        # refused or undone an earlier one)
        there = _in_quickbooks(unseen, rets, notes=old, generations=_GENERATIONS_SEARCHED)
        if len(there):
            self.ledger.record_outcomes(s.target, [
                {S.ENTRY_ID: e, "state": "sent", "external_id": txn, "external_version": ver,
                 S.MESSAGE: "already in QuickBooks (found by its ExternalGUID before the first "
                            "delivery from this ledger); not sent again"}
                for e, txn, ver in zip(there[S.ENTRY_ID], there["TxnID"], there["EditSequence"],
                                       strict=True)])
            st["counts"]["found"] = st["counts"].get("found", 0) + len(there)
            self._log_rows([
                {"event": "found", "level": "warning", "run_id": s.run_id, "target": s.target,
                 "entry_id": e, "message": f"already in QuickBooks as TxnID {txn} although this "
                 "ledger has no record of sending it (a new or another ledger?); not sent again"}
                for e, txn in zip(there[S.ENTRY_ID], there["TxnID"], strict=True)])
        if r.remaining and r.iterator_id:
            rec["iterator_id"], rec["page"] = r.iterator_id, rec["page"] + 1
            return
        rest = self._pending(s.target)
        if len(rest):
            self.ledger.record_outcomes(s.target, [
                {S.ENTRY_ID: e, "state": "queued",
                 S.MESSAGE: "not found in QuickBooks after a lost response; queued again"}
                for e in rest[S.ENTRY_ID]])
            st["counts"]["requeued"] += len(rest)
            self._log_rows([
                {"event": "requeued", "run_id": s.run_id, "target": s.target, "entry_id": e,
                 "message": "not in QuickBooks: the request never arrived; queued again"}
                for e in rest[S.ENTRY_ID]])
        checked = 0
        if rec.get("unseen"):
            with self.ledger.transaction() as cur:
                checked = cur.execute(
                    "UPDATE qbwc_checked SET checked_at = ? WHERE target = ? AND run_id = ? "
                    "AND checked_at IS NULL", (now(), s.target, s.run_id)).rowcount
        parts = []
        if rec["entries"]:
            parts.append(f"unknown outcomes: {st['counts']['recovered']} found in QuickBooks, "
                         f"{len(rest)} queued again")
        if rec.get("unseen"):
            parts.append(f"entries this ledger had no record of: {st['counts'].get('found', 0)} "
                         f"already in QuickBooks (not sent again), {checked} not there (sent "
                         "now)")
        self._log("wc_recovered", s, message="; ".join(parts))
        st["stage"], st["recover"] = "lists", None

    def _receive_add(self, s: _Session, inflight: dict[str, Any], rs: list[M.Rs]) -> None:
        st = s.state
        by_rid = {r.request_id: r for r in rs}
        attempts = dict(store.query(
            self.ledger,
            f"SELECT entry_id, attempts FROM deliveries WHERE target = ? AND entry_id IN "
            f"({','.join('?' * len(inflight['entry_ids']))})", [s.target, *inflight["entry_ids"]]))
        outcomes, logs, requeue = [], [], []
        base = {"run_id": s.run_id, "target": s.target}
        for e, rid in zip(inflight["entry_ids"], inflight["request_ids"], strict=True):
            r = by_rid.get(rid)
            if r is None:
                st["counts"]["unconfirmed"] += 1
                logs.append({**base, "event": "unconfirmed", "level": "warning", "entry_id": e,
                             "request_id": rid, "message": "QuickBooks returned no status for "
                             "this entry; the next update confirms it"})
                continue
            if r.ok:
                ret = next(r.element.iter("TimeTrackingRet"), None)
                txn = (ret.findtext("TxnID") or "").strip() if ret is not None else ""
                ver = (ret.findtext("EditSequence") or "").strip() if ret is not None else ""
                note = "" if r.code == 0 else f" (QuickBooks: {r.code} {r.message})"
                outcomes.append({S.ENTRY_ID: e, "state": "sent", "external_id": txn or None,
                                 "external_version": ver or None,
                                 S.ERROR_CODE: None if r.code == 0 else str(r.code),
                                 S.MESSAGE: None if r.code == 0 else r.message})
                st["counts"]["sent"] += 1
                if r.code:
                    st["counts"]["warnings"] += 1
                logs.append({**base, "event": "sent", "level": "warning" if r.code else "info",
                             "entry_id": e, "request_id": rid,
                             "message": f"in QuickBooks as TxnID {txn or '?'}{note}"})
                continue
            retry = r.code in M.RETRYABLE_CODES and int(attempts.get(e, 1)) < MAX_ATTEMPTS
            outcomes.append({S.ENTRY_ID: e, "state": "failed", S.ERROR_CODE: str(r.code),
                             S.MESSAGE: r.message})
            if retry:
                requeue.append(e)
                st["counts"]["retry"] += 1
            else:
                st["counts"]["refused"] += 1
            logs.append({**base, "event": "retry" if retry else "refused",
                         "level": "warning" if retry else "error", "entry_id": e,
                         "request_id": rid,
                         "message": f"QuickBooks {r.code}: {r.message}"
                         + ("; queued for the next update" if retry else "")})
        self.ledger.record_outcomes(s.target, outcomes)
        if requeue:
            rows = store.query(
                self.ledger,
                f"SELECT entry_id, generation, fingerprint, payload FROM deliveries WHERE "
                f"target = ? AND entry_id IN ({','.join('?' * len(requeue))})",
                [s.target, *requeue])
            self.ledger.record_queued(s.target, [
                {S.ENTRY_ID: r[0], "generation": r[1],
                 "request_id": request_id_for(s.target, r[0], r[1]),
                 S.FINGERPRINT: r[2], "payload": r[3]} for r in rows], run_id=s.run_id)
        self._log_rows(logs)

    def _percent(self, s: _Session) -> int:
        """Work done / (done + left), as an integer below 100 until nothing is left."""
        st = s.state
        nxt = st["next"]
        if nxt is None:
            return 100
        remaining = 1  # the request prepared for the next sendRequestXML
        if st["stage"] in ("recover", "lists"):
            remaining += len(st["lists_todo"])
            if st["list"] is not None and st["remaining"]:
                remaining += math.ceil(st["remaining"] / self.settings.page_size) - 1
        if not st["test_sync"]:
            queued = store.query(self.ledger, "SELECT COUNT(*) FROM deliveries WHERE target = ? "
                                 "AND state = 'queued' AND COALESCE(run_id, '') <> ?",
                                 (s.target, s.run_id))[0][0]
            # the prepared chunk is still queued until its intent is recorded
            remaining += max(0, math.ceil(queued / self.settings.chunk_size)
                             - (1 if nxt["kind"] == "add" else 0))
        done = st["done"]
        return max(0, min(99, math.floor(100 * done / (done + remaining))))

    # ------------------------------------------------------ errors and the end
    def connectionError(self, ticket: str, hresult: str, message: str) -> str:
        s = self._load(ticket)
        text = M.hresult_text(hresult, message)
        if s is None:
            self._log("wc_connection_error", level="error",
                      message=f"QuickBooks could not be opened (ticket {_prefix(ticket)}): {text}")
            return "done"
        s.state["last_error"] = f"QuickBooks could not be opened: {text}"
        self._log("wc_connection_error", s, level="error", message=s.state["last_error"])
        self._end(s, "error")
        return "done"

    def getLastError(self, ticket: str) -> str:
        s = self._load(ticket)
        if s is None:
            text = ("qbrecon: this session is unknown or has expired; run Update Selected "
                    "again.")
        else:
            text = s.state.get("last_error") or "qbrecon: nothing more to do."
        self._log("wc_last_error", s, level="warning" if s is None or
                  s.state.get("last_error") else "info", message=f"getLastError: {text}")
        return text

    def closeConnection(self, ticket: str) -> str:
        s = self._load(ticket)
        if s is None:
            self._log("wc_close", level="warning",
                      message=f"closeConnection for an unknown ticket {_prefix(ticket)}")
            return "qbrecon: unknown or expired session"
        if s.closed_at is not None:
            return s.state.get("summary") or "qbrecon: session already closed"
        st = s.state
        c = st["counts"]
        if st["test_sync"] and st["stage"] == "done":
            queued = self._work(s.target)["queued"]
            text = (f"Test sync complete: lists staged ({_staged_text(st)}). "
                    f"{queued} entries queued go with the next update.")
        else:
            parts = [f"{c['sent']} sent", f"{c['refused']} refused"]
            for key, label in (("recovered", "confirmed after a lost response"),
                               ("found", "already in QuickBooks"),
                               ("elsewhere", "already sent through another queue"),
                               ("requeued", "queued again"), ("retry", "to retry"),
                               ("unconfirmed", "unconfirmed"),
                               ("held", "held back")):
                if c.get(key):
                    parts.append(f"{c[key]} {label}")
            text = "qbrecon: " + ", ".join(parts)
            if st["staged"]:
                text += "; lists staged"
            if st["stage"] != "done":
                text += " (stopped early: see getLastError / the qbrecon log)"
            elif c["refused"]:
                text += " (see the qbrecon log)"
        waiting = st.get("waiting") or []
        if waiting:
            text += (f"; work waits for {len(waiting)} other company file"
                     f"{'s' if len(waiting) > 1 else ''}: the next update")
        st["summary"] = text
        status = "finished" if st["stage"] == "done" and not st["last_error"] else (
            "error" if st["last_error"] else "incomplete")
        self._log("wc_close", s, level="info" if status == "finished" else "warning",
                  message=f"closeConnection: {text}")
        self._end(s, status)
        return text

    def _end(self, s: _Session, status: str) -> None:
        if s.closed_at is None:
            s.closed_at = self._clock()
            self._later("DELETE FROM qbwc_prepared WHERE ticket_hash = ?", (s.ticket_hash,))
            self._save(s)
            self.ledger.finish_run(s.run_id, status=status,
                                   summary={**s.state["counts"], "staged": s.state["staged"]})

    # ------------------------------------------------------ interactive mode
    def getInteractiveURL(self, wcTicket: str, sessionID: str) -> str:
        self._log("wc_interactive", message="getInteractiveURL: qbrecon has no interactive mode")
        return ""

    def interactiveDone(self, wcTicket: str) -> str:
        self._log("wc_interactive", message="interactiveDone")
        return "Done"

    def interactiveRejected(self, wcTicket: str, reason: str) -> str:
        self._log("wc_interactive", message=f"interactiveRejected: {reason[:200]}")
        return "qbrecon does not use interactive mode"


def _staged_text(st: dict[str, Any]) -> str:
    return ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in st["staged"].items()) or "none"


@functools.lru_cache(maxsize=1 << 20)
def _upper_guid(entry_id: str, generation: int) -> str:
    # a search pages through QuickBooks' records and looks for the same entries on every
    # page: each entry's GUIDs are hashed once, not once per page
    return external_guid(entry_id, generation).upper()


def _in_quickbooks(frame: pd.DataFrame, rets: pd.DataFrame, *, notes: bool,
                   generations: int | None = None) -> pd.DataFrame:
    """The rows of ``frame`` (entry_id, generation) whose ExternalGUID is among the
    TimeTracking records ``rets``, with their TxnID and EditSequence.

    With ``generations``, the GUIDs of generations 0 to ``generations - 1`` are all looked
    for, else only the row's own. Below qbXML 9.0 (``notes``) there are no ExternalGUIDs:
    the Notes end with ``[qbr:<the GUID's first 12 hex digits>]``.
    """
    out_cols = [*frame.columns, "TxnID", "EditSequence"]
    if frame.empty or rets.empty:
        return pd.DataFrame(columns=out_cols)
    if generations is None:
        ids, gens = frame[S.ENTRY_ID].tolist(), frame["generation"].astype(int).tolist()
    else:
        ids = [e for e in frame[S.ENTRY_ID].tolist() for _ in range(generations)]
        gens = list(range(generations)) * len(frame)
    guids = [_upper_guid(e, g) for e, g in zip(ids, gens, strict=True)]
    keys = pd.DataFrame({S.ENTRY_ID: ids, "key": guids})
    if notes:
        keys["key"] = [g[1:9].lower() + g[10:14].lower() for g in guids]
        have = rets["Notes"].str.extract(r"\[qbr:([0-9a-f]{12})\]\s*$", expand=False)
    else:
        have = rets["ExternalGUID"].str.upper()
    by_key = rets.assign(key=have).dropna(subset=["key"])
    by_key = by_key[by_key["key"] != ""].drop_duplicates("key")[["key", "TxnID", "EditSequence"]]
    hits = keys.merge(by_key, on="key", how="inner").drop_duplicates(S.ENTRY_ID)
    return frame.merge(hits.drop(columns="key"), on=S.ENTRY_ID, how="inner")[out_cols]


def _norm_path(p: str) -> str:
    return p.strip().replace("/", "\\").casefold()
