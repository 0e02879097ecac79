"""Web Connector state kept in the ledger's SQLite file.

The Web Connector speaks stateless HTTP, and a production server runs several worker
processes, so nothing about a session lives only in memory: tickets (as hashes),
session progress, login failures, the staged QuickBooks lists and the stable .qwc
GUIDs are tables beside the deliveries in the same ledger file.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from ..ledger import Ledger, now

_DDL = """
CREATE TABLE IF NOT EXISTS qbwc_ids (
    kind       TEXT NOT NULL,          -- 'owner' (per user name) or 'file' (per company file)
    key        TEXT NOT NULL,
    guid       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE TABLE IF NOT EXISTS qbwc_files (
    target        TEXT PRIMARY KEY,    -- qbd:<company file as configured>
    company_path  TEXT,                -- the path QBWC last reported (strCompanyFileName)
    product       TEXT,
    qbxml_version TEXT,
    file_mode     TEXT,
    class_tracking INTEGER,
    test_sync_at  TEXT,                -- first connection: lists staged, nothing sent
    staged_at     TEXT,
    lists_requested_at TEXT,
    last_seen_at  TEXT
);
CREATE TABLE IF NOT EXISTS qbwc_auth (
    user_name    TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL DEFAULT 0,
    first_failure REAL,
    locked_until REAL
);
CREATE TABLE IF NOT EXISTS qbwc_sessions (
    ticket_hash  TEXT PRIMARY KEY,     -- sha256 of the ticket: the ticket itself is never stored
    ticket_prefix TEXT NOT NULL,
    user_name    TEXT NOT NULL,
    target       TEXT NOT NULL,
    company_file TEXT NOT NULL,
    run_id       TEXT NOT NULL,
    created_at   REAL NOT NULL,
    expires_at   REAL NOT NULL,
    closed_at    REAL,
    state        TEXT NOT NULL         -- JSON: stage, counters, the request in flight
);
CREATE INDEX IF NOT EXISTS qbwc_sessions_target ON qbwc_sessions (target, closed_at);
CREATE TABLE IF NOT EXISTS qbwc_staged (
    target     TEXT NOT NULL,
    run_id     TEXT NOT NULL,
    list       TEXT NOT NULL,          -- employees, vendors, customers, items, payroll_items, classes
    page       INTEGER NOT NULL,
    staged_at  TEXT NOT NULL,
    response   TEXT NOT NULL,          -- the raw qbXML response, as QuickBooks sent it
    PRIMARY KEY (target, run_id, list, page)
);
CREATE TABLE IF NOT EXISTS qbwc_prepared (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_hash TEXT NOT NULL,         -- the session that built it
    target      TEXT NOT NULL,
    entry_id    TEXT NOT NULL,
    request_id  TEXT NOT NULL,         -- valid only while the delivery still has this id
    xml         TEXT NOT NULL,         -- the TimeTrackingAddRq element ('' = held back)
    UNIQUE (ticket_hash, entry_id)
);
CREATE TABLE IF NOT EXISTS qbwc_open_files (
    run_id       TEXT PRIMARY KEY,     -- a Web Connector session's run
    target       TEXT NOT NULL,
    company_path TEXT NOT NULL,        -- the file QuickBooks had open (strCompanyFileName)
    at           TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS qbwc_checked (
    target     TEXT NOT NULL,          -- entries looked for in QuickBooks before their first
    entry_id   TEXT NOT NULL,          -- delivery (this ledger had no record of them)
    run_id     TEXT NOT NULL,          -- the session checking them
    checked_at TEXT,                   -- set when the search is complete (NULL: under way)
    PRIMARY KEY (target, entry_id)
);
CREATE TABLE IF NOT EXISTS qbwc_stagings (
    target       TEXT NOT NULL,
    run_id       TEXT NOT NULL,
    completed_at TEXT NOT NULL,
    counts       TEXT,
    PRIMARY KEY (target, run_id)
);
"""


def ensure(ledger: Ledger) -> Ledger:
    """Create the Web Connector tables in the ledger file (idempotent)."""
    if not getattr(ledger, "_qbwc_ready", False):
        ledger.ensure_tables(_DDL)
        ledger._qbwc_ready = True
    return ledger


def query(ledger: Ledger, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
    return ledger.query(sql, params)


def log_rows(cur: sqlite3.Cursor, rows: Iterable[Mapping[str, Any]]) -> None:
    """Append integration-log rows inside an open transaction (one commit for many rows)."""
    t = now()
    cur.executemany(
        """INSERT INTO log (at, run_id, target, entry_id, request_id, event, level,
                            message, request, response) VALUES (?,?,?,?,?,?,?,?,?,?)""",
        [
            (
                t,
                r.get("run_id"),
                r.get("target"),
                r.get("entry_id"),
                r.get("request_id"),
                r["event"],
                r.get("level", "info"),
                r.get("message", ""),
                r.get("request"),
                r.get("response"),
            )
            for r in rows
        ],
    )


def log_many(ledger: Ledger, rows: list[Mapping[str, Any]]) -> None:
    if rows:
        with ledger.transaction() as cur:
            log_rows(cur, rows)


# ------------------------------------------------------------------ stable GUIDs
def stable_guid(ledger: Ledger, kind: str, key: str) -> str:
    """The GUID stored for (kind, key), generated and stored on first use, never again."""
    ensure(ledger)
    fresh = "{" + str(uuid.uuid4()).upper() + "}"
    with ledger.transaction() as cur:
        cur.execute(
            "INSERT OR IGNORE INTO qbwc_ids (kind, key, guid, created_at) VALUES (?,?,?,?)",
            (kind, key, fresh, now()),
        )
        row = cur.execute(
            "SELECT guid FROM qbwc_ids WHERE kind = ? AND key = ?", (kind, key)
        ).fetchone()
    return row[0]


def adopt_guid(ledger: Ledger, kind: str, key: str, guid: str) -> str:
    """Store ``guid`` for (kind, key) unless one is stored already; return the stored one."""
    ensure(ledger)
    with ledger.transaction() as cur:
        cur.execute(
            "INSERT OR IGNORE INTO qbwc_ids (kind, key, guid, created_at) VALUES (?,?,?,?)",
            (kind, key, guid, now()),
        )
        row = cur.execute(
            "SELECT guid FROM qbwc_ids WHERE kind = ? AND key = ?", (kind, key)
        ).fetchone()
    return row[0]


# ------------------------------------------------------------------ company files
def file_info(ledger: Ledger, target: str) -> dict[str, Any]:
    ensure(ledger)
    rows = query(ledger, "SELECT * FROM qbwc_files WHERE target = ?", (target,))
    return dict(rows[0]) if rows else {}


def update_file(ledger: Ledger, target: str, **values: Any) -> None:
    ensure(ledger)
    cols = list(values)
    with ledger.transaction() as cur:
        cur.execute("INSERT OR IGNORE INTO qbwc_files (target) VALUES (?)", (target,))
        if cols:
            cur.execute(
                f"UPDATE qbwc_files SET {', '.join(f'{c} = ?' for c in cols)} WHERE target = ?",
                [*values.values(), target],
            )


def known_targets(ledger: Ledger) -> list[str]:
    ensure(ledger)
    rows = query(
        ledger,
        "SELECT target FROM qbwc_files UNION SELECT DISTINCT target FROM deliveries "
        "WHERE target LIKE 'qbd:%'",
    )
    return sorted(r[0] for r in rows)


# --------------------------------------------------------------------- staging
def staged_responses(ledger: Ledger, target: str) -> tuple[dict[str, Any], pd.DataFrame]:
    """The latest complete staging of ``target``: its record and its raw responses."""
    ensure(ledger)
    rows = query(
        ledger,
        "SELECT * FROM qbwc_stagings WHERE target = ? ORDER BY completed_at DESC LIMIT 1",
        (target,),
    )
    if not rows:
        return {}, pd.DataFrame(columns=["list", "page", "response"])
    info = dict(rows[0])
    info["counts"] = json.loads(info["counts"] or "{}")
    pages = query(
        ledger,
        "SELECT list, page, response FROM qbwc_staged WHERE target = ? AND run_id = ? "
        "ORDER BY list, page",
        (target, info["run_id"]),
    )
    return info, pd.DataFrame([tuple(p) for p in pages], columns=["list", "page", "response"])


# ------------------------------------------------- one company file, several targets
def same_file(path: str) -> str:
    """A company file path as Windows compares paths: case-insensitive, ``/`` as ``\\``,
    surrounding spaces ignored."""
    return (path or "").strip().replace("/", "\\").casefold()


def same_file_holds(ledger: Ledger, target: str, open_file: str,
                    entry_ids: Iterable[str]) -> pd.DataFrame:
    """Entries held (queued, pending or sent) for *another* Desktop target that may be
    the same company file as ``open_file``.

    ``open_file`` is the company file in question ("" when unknown: then every other
    Desktop target may be it). A target named by path is the same file when its path
    compares equal the way Windows compares paths; the ``""`` target (whichever file is
    open) is the same file when the session that delivered the entry had ``open_file``
    open, or when that is unknown (queued, not yet delivered).

    Returns:
        One row per (entry, other target): ``entry_id, target, state, external_id,
        external_version, open_file`` (the file the entry went to, "" if unknown).
    """
    ensure(ledger)
    cols = ["entry_id", "target", "state", "external_id", "external_version", "open_file"]
    ids = list(dict.fromkeys(str(e) for e in entry_ids))
    if not ids:
        return pd.DataFrame(columns=cols)
    rows: list[Any] = []
    for i in range(0, len(ids), 900):  # SQLite's limit on bound parameters
        part = ids[i:i + 900]
        rows += query(
            ledger,
            "SELECT d.entry_id, d.target, d.state, d.external_id, d.external_version, "
            "COALESCE(o.company_path, '') FROM deliveries d LEFT JOIN qbwc_open_files o "
            "ON o.run_id = d.run_id AND o.target = d.target "
            "WHERE d.target LIKE 'qbd:%' AND d.target <> ? AND d.state IN "
            f"('queued', 'pending', 'sent') AND d.entry_id IN ({','.join('?' * len(part))})",
            [target, *part])
    found = pd.DataFrame([tuple(r) for r in rows], columns=cols)
    if found.empty:
        return found
    key = same_file(open_file)
    if not key:
        return found.reset_index(drop=True)

    def norm(col: pd.Series) -> pd.Series:
        return col.astype(str).str.strip().str.replace("/", "\\", regex=False).str.casefold()

    named, went = norm(found["target"].str[4:]), norm(found["open_file"])
    keep = (named == key) | ((named == "") & ((went == "") | (went == key)))
    return found[keep].reset_index(drop=True)
