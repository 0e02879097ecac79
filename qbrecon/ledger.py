"""The ledger: what was sent where, every attempt, and the integration log.

One SQLite file in WAL mode, created on first use. Senders (QuickBooks Online and
the Web Connector service) follow one protocol so that a crash at any point can be
recovered without a duplicate in QuickBooks:

1. ``record_intent`` commits state ``pending`` (with the request id and payload)
   **before** the request leaves the machine;
2. ``record_outcomes`` commits ``sent`` (with the QuickBooks id) or ``failed`` after it.

An entry found ``pending`` at the start of a later run has an unknown outcome: the
sender must resolve it against QuickBooks (replay the same request id, or query and
match the marker) before anything is sent again.

Delivery states::

    queued   waiting for the Web Connector to collect it (desktop only)
    pending  intent recorded; the request may or may not have reached QuickBooks
    sent     confirmed in QuickBooks (external_id holds its id)
    failed   refused by QuickBooks; a later attempt uses a new request id
    undone   deleted from QuickBooks by an undo; may be sent again (new request id)

A *target* names one QuickBooks company: ``qbo:<realm id>`` or ``qbd:<company file>``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from . import schema as S
from .errors import LedgerError
from .ids import digest

log = logging.getLogger("qbrecon")

APPLICATION = "qbrecon-ledger"
SCHEMA_VERSION = 1

STATES = ("queued", "pending", "sent", "failed", "undone")
#: states in which an entry counts as delivered or on its way (never send it again)
HELD_STATES = ("queued", "pending", "sent")

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id      TEXT PRIMARY KEY,
    target      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    status      TEXT NOT NULL DEFAULT 'running',
    summary     TEXT
);
CREATE TABLE IF NOT EXISTS deliveries (
    target           TEXT NOT NULL,
    entry_id         TEXT NOT NULL,
    state            TEXT NOT NULL,
    generation       INTEGER NOT NULL DEFAULT 0,
    request_id       TEXT,
    fingerprint      TEXT,
    external_id      TEXT,
    external_version TEXT,
    run_id           TEXT,
    payload          TEXT,
    error_code       TEXT,
    message          TEXT,
    attempts         INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    PRIMARY KEY (target, entry_id)
);
CREATE INDEX IF NOT EXISTS deliveries_entry ON deliveries (entry_id);
CREATE INDEX IF NOT EXISTS deliveries_state ON deliveries (target, state);
CREATE INDEX IF NOT EXISTS deliveries_run ON deliveries (run_id);
CREATE TABLE IF NOT EXISTS log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         TEXT NOT NULL,
    run_id     TEXT,
    target     TEXT,
    entry_id   TEXT,
    request_id TEXT,
    event      TEXT NOT NULL,
    level      TEXT NOT NULL DEFAULT 'info',
    message    TEXT,
    request    TEXT,
    response   TEXT
);
CREATE INDEX IF NOT EXISTS log_run ON log (run_id);
CREATE TABLE IF NOT EXISTS locks (
    target      TEXT PRIMARY KEY,
    owner       TEXT NOT NULL,
    host        TEXT NOT NULL,
    pid         INTEGER NOT NULL,
    acquired_at TEXT NOT NULL
);
"""

DELIVERY_COLUMNS = [
    "target",
    S.ENTRY_ID,
    "state",
    "generation",
    "request_id",
    S.FINGERPRINT,
    "external_id",
    "external_version",
    "run_id",
    "payload",
    S.ERROR_CODE,
    S.MESSAGE,
    "attempts",
    "created_at",
    "updated_at",
]
LOG_COLUMNS = [
    "id",
    "at",
    "run_id",
    "target",
    S.ENTRY_ID,
    "request_id",
    "event",
    "level",
    S.MESSAGE,
    "request",
    "response",
]
RUN_COLUMNS = ["run_id", "target", "kind", "started_at", "finished_at", "status", "summary"]


def now() -> str:
    """The current time as an ISO 8601 UTC string with microseconds (sorts as text)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def request_id_for(target: str, entry_id: str, generation: int = 0) -> str:
    """The deterministic request id of one delivery attempt generation (35 characters).

    The same (target, entry, generation) always gives the same id, so a retry after
    a lost response replays instead of duplicating; a new generation (after a refusal
    or an undo) gives a new one. Fits QuickBooks Online's 36-character batch limit.
    """
    return "qbr" + digest([f"{target}\x1f{entry_id}\x1f{generation}"], size=16)[0]


def _json(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str, sort_keys=True, ensure_ascii=False)


def _delivery_rows(target: str, items: Iterable[Mapping[str, Any]], run_id: str | None) -> list[tuple]:
    """Rows for the delivery upserts of record_intent / record_queued."""
    t = now()
    return [
        (
            target,
            str(it[S.ENTRY_ID]),
            int(it.get("generation", 0)),
            str(it["request_id"]),
            it.get(S.FINGERPRINT),
            run_id,
            _json(it.get("payload")),
            t,
            t,
        )
        for it in items
    ]


class Ledger:
    """The SQLite ledger. Open it with a path; it is created on first use.

    Args:
        path: the ledger file (created with its folder if missing).

    Raises:
        LedgerError: the file exists but is not a qbrecon ledger, or is corrupt.

    Example:
        >>> import tempfile, os
        >>> with Ledger(os.path.join(tempfile.mkdtemp(), "ledger.sqlite")) as led:
        ...     led.deliveries().empty
        True
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        try:
            self._conn = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            self._conn.row_factory = sqlite3.Row
            self._conn.execute("PRAGMA journal_mode=WAL")
            # FULL: a committed intent or outcome survives even a power cut.
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA busy_timeout=30000")
            self._conn.executescript(_DDL)
            self._check_meta()
        except sqlite3.DatabaseError as exc:
            raise LedgerError(f"{self.path}: not a usable ledger ({exc})") from exc

    # ------------------------------------------------------------------ basics
    @classmethod
    def open(cls, ledger: Ledger | str | os.PathLike[str]) -> Ledger:
        """A ledger object from a path, or the object itself."""
        return ledger if isinstance(ledger, Ledger) else cls(ledger)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Ledger({str(self.path)!r})"

    def _check_meta(self) -> None:
        rows = dict(self._conn.execute("SELECT key, value FROM meta").fetchall())
        if not rows:
            with self.transaction() as cur:
                cur.executemany(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)",
                    [
                        ("application", APPLICATION),
                        ("schema_version", str(SCHEMA_VERSION)),
                        ("created_at", now()),
                    ],
                )
            return
        if rows.get("application") != APPLICATION:
            raise LedgerError(f"{self.path}: this SQLite file is not a qbrecon ledger")
        version = int(rows.get("schema_version", "0"))
        if version > SCHEMA_VERSION:
            raise LedgerError(
                f"{self.path}: ledger schema {version} is newer than this qbrecon "
                f"understands ({SCHEMA_VERSION}); upgrade qbrecon"
            )

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Cursor]:
        """One IMMEDIATE transaction (a cursor): committed on success, rolled back on error.

        For modules that keep their own tables in the ledger file (the Web Connector's
        sessions); they commit together with deliveries and log rows when they share one.
        """
        with self._lock:
            cur = self._conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            else:
                cur.execute("COMMIT")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Rows of one read-only statement."""
        with self._lock:
            return self._conn.execute(sql, tuple(params)).fetchall()

    def ensure_tables(self, ddl: str) -> None:
        """Create tables (``CREATE TABLE IF NOT EXISTS ...`` statements) in the ledger file."""
        with self._lock:
            self._conn.executescript(ddl)

    def _frame(self, sql: str, params: Sequence[Any], columns: list[str]) -> pd.DataFrame:
        with self._lock:
            rows = self._conn.execute(sql, params).fetchall()
        return pd.DataFrame([tuple(r) for r in rows], columns=columns)

    # -------------------------------------------------------------------- runs
    def start_run(self, *, target: str, kind: str, note: str = "") -> str:
        """Record the start of a run (send, undo, queue, web connector session)."""
        run_id = f"{kind}-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        with self.transaction() as cur:
            cur.execute(
                "INSERT INTO runs (run_id, target, kind, started_at, summary) VALUES (?,?,?,?,?)",
                (run_id, target, kind, now(), _json({"note": note}) if note else None),
            )
        self.log("run_started", run_id=run_id, target=target, message=f"{kind} started")
        return run_id

    def finish_run(
        self, run_id: str, *, status: str = "finished", summary: Mapping[str, Any] | None = None
    ) -> None:
        with self.transaction() as cur:
            cur.execute(
                "UPDATE runs SET finished_at = ?, status = ?, summary = ? WHERE run_id = ?",
                (now(), status, _json(dict(summary or {})), run_id),
            )
        self.log("run_finished", run_id=run_id, message=f"{status}: {_json(dict(summary or {}))}")

    def close_abandoned_runs(self, target: str) -> int:
        """Mark runs of ``target`` still ``running`` as ``interrupted``; returns how many.

        Call it only while holding :meth:`exclusive` for ``target``: a run is ``running``
        only while its process holds that lock, so any other is left from a killed process.
        """
        with self.transaction() as cur:
            n = cur.execute(
                "UPDATE runs SET status = 'interrupted', finished_at = ? "
                "WHERE target = ? AND status = 'running'",
                (now(), target),
            ).rowcount
        if n:
            self.log(
                "runs_interrupted",
                target=target,
                level="warning",
                message=f"{n} earlier run(s) ended without finishing (the process was stopped)",
            )
        return n

    def runs(self, *, target: str | None = None, kind: str | None = None) -> pd.DataFrame:
        sql, params = "SELECT * FROM runs WHERE 1=1", []
        if target is not None:
            sql += " AND target = ?"
            params.append(target)
        if kind is not None:
            sql += " AND kind = ?"
            params.append(kind)
        return self._frame(sql + " ORDER BY started_at", params, RUN_COLUMNS)

    # --------------------------------------------------------------- deliveries
    def deliveries(
        self,
        *,
        target: str | None = None,
        entry_ids: Iterable[str] | None = None,
        states: Iterable[str] | None = None,
        run_id: str | None = None,
    ) -> pd.DataFrame:
        """Delivery rows (one per target and entry) as a DataFrame."""
        sql, params = "SELECT * FROM deliveries WHERE 1=1", []
        if target is not None:
            sql += " AND target = ?"
            params.append(target)
        if states is not None:
            states = list(states)
            sql += f" AND state IN ({','.join('?' * len(states))})"
            params.extend(states)
        if run_id is not None:
            sql += " AND run_id = ?"
            params.append(run_id)
        if entry_ids is None:
            return self._frame(sql + " ORDER BY created_at, entry_id", params, DELIVERY_COLUMNS)
        # many ids: go through a temporary table rather than a giant IN list
        ids = list(dict.fromkeys(str(e) for e in entry_ids))
        with self._lock:
            self._conn.execute("CREATE TEMP TABLE IF NOT EXISTS _ids (entry_id TEXT PRIMARY KEY)")
            self._conn.execute("DELETE FROM _ids")
            self._conn.executemany("INSERT INTO _ids VALUES (?)", ((i,) for i in ids))
            sql += " AND entry_id IN (SELECT entry_id FROM _ids)"
            frame = self._frame(sql + " ORDER BY created_at, entry_id", params, DELIVERY_COLUMNS)
            self._conn.execute("DELETE FROM _ids")
        return frame

    def sent_status(self, entry_ids: Iterable[str] | None = None) -> pd.DataFrame:
        """For validation: entries held by any target (queued, pending or sent).

        Returns columns ``entry_id, target, state, fingerprint, external_id, updated_at``.
        """
        d = self.deliveries(entry_ids=entry_ids, states=HELD_STATES)
        return d[[S.ENTRY_ID, "target", "state", S.FINGERPRINT, "external_id", "updated_at"]]

    def record_intent(
        self, target: str, items: Iterable[Mapping[str, Any]], *, run_id: str | None = None
    ) -> None:
        """Commit state ``pending`` for each item before its request is sent.

        Each item has ``entry_id``, ``request_id`` and optionally ``fingerprint``,
        ``payload`` and ``generation``. All items commit in one transaction.
        """
        rows = _delivery_rows(target, items, run_id)
        with self.transaction() as cur:
            cur.executemany(
                """INSERT INTO deliveries (target, entry_id, state, generation, request_id,
                       fingerprint, run_id, payload, attempts, created_at, updated_at)
                   VALUES (?, ?, 'pending', ?, ?, ?, ?, ?, 1, ?, ?)
                   ON CONFLICT (target, entry_id) DO UPDATE SET
                       state = 'pending', generation = excluded.generation,
                       request_id = excluded.request_id, fingerprint = excluded.fingerprint,
                       run_id = excluded.run_id, payload = excluded.payload,
                       error_code = NULL, message = NULL,
                       attempts = deliveries.attempts + 1, updated_at = excluded.updated_at""",
                rows,
            )

    def record_queued(
        self, target: str, items: Iterable[Mapping[str, Any]], *, run_id: str | None = None
    ) -> int:
        """Commit state ``queued`` for items waiting for the Web Connector.

        Entries already queued, pending or sent for this target are left as they are.
        Returns how many were queued.
        """
        rows = _delivery_rows(target, items, run_id)
        with self.transaction() as cur:
            before = self._conn.total_changes
            cur.executemany(
                """INSERT INTO deliveries (target, entry_id, state, generation, request_id,
                       fingerprint, run_id, payload, created_at, updated_at)
                   VALUES (?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (target, entry_id) DO UPDATE SET
                       state = 'queued', generation = excluded.generation,
                       request_id = excluded.request_id, fingerprint = excluded.fingerprint,
                       run_id = excluded.run_id, payload = excluded.payload,
                       error_code = NULL, message = NULL, updated_at = excluded.updated_at
                   WHERE deliveries.state NOT IN ('queued', 'pending', 'sent')""",
                rows,
            )
            return self._conn.total_changes - before

    def record_outcomes(
        self,
        target: str,
        outcomes: Iterable[Mapping[str, Any]],
        *,
        events: Iterable[Mapping[str, Any]] = (),
    ) -> None:
        """Commit the outcome of requests: each has ``entry_id`` and ``state``.

        Optional keys: ``external_id``, ``external_version``, ``error_code``, ``message``.
        A ``failed`` or ``undone`` outcome bumps the generation, so the next attempt
        carries a new request id. All outcomes commit in one transaction, together with
        the log ``events`` given (as for :meth:`log_many`).
        """
        t = now()
        rows = []
        for o in outcomes:
            state = o["state"]
            if state not in STATES:
                raise ValueError(f"unknown delivery state {state!r}")
            rows.append(
                (
                    state,
                    1 if state in ("failed", "undone") else 0,
                    o.get("external_id"),
                    o.get("external_version"),
                    None if o.get(S.ERROR_CODE) is None else str(o.get(S.ERROR_CODE)),
                    o.get(S.MESSAGE),
                    t,
                    target,
                    str(o[S.ENTRY_ID]),
                )
            )
        log_rows = self._log_rows(events)
        with self.transaction() as cur:
            cur.executemany(
                """UPDATE deliveries SET state = ?, generation = generation + ?,
                       external_id = COALESCE(?, external_id),
                       external_version = COALESCE(?, external_version),
                       error_code = ?, message = ?, updated_at = ?
                   WHERE target = ? AND entry_id = ?""",
                rows,
            )
            if log_rows:
                cur.executemany(_LOG_INSERT, log_rows)

    # --------------------------------------------------------------------- lock
    @contextlib.contextmanager
    def exclusive(self, target: str) -> Iterator[str]:
        """Hold the send lock of ``target`` for the duration of the block.

        A lock left by a process that no longer runs (killed, crashed) is taken over.

        Raises:
            LedgerError: another live process is sending to the same target.
        """
        owner = uuid.uuid4().hex
        host = socket.gethostname()
        pid = os.getpid()
        with self.transaction() as cur:
            row = cur.execute("SELECT * FROM locks WHERE target = ?", (target,)).fetchone()
            if row is not None and not _lock_is_stale(row["host"], row["pid"], host):
                raise LedgerError(
                    f"{self.path}: another qbrecon process (pid {row['pid']} on {row['host']}, "
                    f"since {row['acquired_at']}) is sending to {target}; wait for it to finish"
                )
            cur.execute(
                "INSERT OR REPLACE INTO locks (target, owner, host, pid, acquired_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (target, owner, host, pid, now()),
            )
        try:
            yield owner
        finally:
            with self.transaction() as cur:
                cur.execute("DELETE FROM locks WHERE target = ? AND owner = ?", (target, owner))

    # ---------------------------------------------------------------------- log
    def log(
        self,
        event: str,
        *,
        run_id: str | None = None,
        target: str | None = None,
        entry_id: str | None = None,
        request_id: str | None = None,
        level: str = "info",
        message: str = "",
        request: Any = None,
        response: Any = None,
    ) -> None:
        """Append one event to the integration log (never secrets: callers redact)."""
        with self.transaction() as cur:
            cur.execute(
                """INSERT INTO log (at, run_id, target, entry_id, request_id, event, level,
                                    message, request, response)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    now(),
                    run_id,
                    target,
                    entry_id,
                    request_id,
                    event,
                    level,
                    message,
                    _json(request),
                    _json(response),
                ),
            )

    def log_many(self, events: Iterable[Mapping[str, Any]]) -> None:
        """Append several events in one transaction; each takes :meth:`log`'s keywords
        plus ``event``."""
        rows = self._log_rows(events)
        if not rows:
            return
        with self.transaction() as cur:
            cur.executemany(_LOG_INSERT, rows)

    @staticmethod
    def _log_rows(events: Iterable[Mapping[str, Any]]) -> list[tuple]:
        t = now()
        return [
            (
                t,
                e.get("run_id"),
                e.get("target"),
                e.get(S.ENTRY_ID),
                e.get("request_id"),
                e["event"],
                e.get("level", "info"),
                e.get(S.MESSAGE, ""),
                _json(e.get("request")),
                _json(e.get("response")),
            )
            for e in events
        ]

    def log_frame(
        self,
        *,
        run_id: str | None = None,
        target: str | None = None,
        entry_id: str | None = None,
        level: str | None = None,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """The integration log as a DataFrame, oldest first (the newest ``limit`` rows)."""
        sql, params = "SELECT * FROM log WHERE 1=1", []
        for col, val in (("run_id", run_id), ("target", target), ("entry_id", entry_id)):
            if val is not None:
                sql += f" AND {col} = ?"
                params.append(val)
        if level is not None:
            sql += " AND level = ?"
            params.append(level)
        sql += " ORDER BY id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        frame = self._frame(sql, params, LOG_COLUMNS)
        return frame.iloc[::-1].reset_index(drop=True)


_LOG_INSERT = """INSERT INTO log (at, run_id, target, entry_id, request_id, event, level,
                                   message, request, response)
                  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""


def _lock_is_stale(lock_host: str, lock_pid: int, host: str) -> bool:
    if lock_host != host:
        return False  # cannot tell for another machine: assume it is alive
    if lock_pid == os.getpid():
        return False
    try:
        os.kill(int(lock_pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def open_ledger(ledger: Ledger | str | os.PathLike[str]) -> Ledger:
    """The ledger object for a path, or the ledger itself (see :class:`Ledger`)."""
    return Ledger.open(ledger)
