"""Helpers shared by the QuickBooks Online tests: batches, an emulator, a connected client."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pandas as pd

from qbrecon import schema as S
from qbrecon.qbo.emulator import QBOEmulator
from qbrecon.qbo.limits import QBOLimits, RetryPolicy

#: limits of the real service, run 60 times faster (a 1 s window)
FAST_LIMITS = QBOLimits().scaled(60)
#: retries without real waiting
QUICK_RETRY = RetryPolicy(max_attempts=6, base_delay=0.01, max_delay=0.05)

ACTIVE_EMPLOYEES = ("54", "55", "56", "57")  # the built-in seed's active employees
INACTIVE_EMPLOYEE = "58"
CUSTOMERS = ("1", "3", "9", "11")
MARKER = re.compile(r"\[qbr:[0-9a-f]{12}\]")


def make_batch(
    n: int,
    *,
    prefix: str = "e",
    start: str = "2026-11-02",
    people: tuple[str, ...] = ACTIVE_EMPLOYEES,
    customers: tuple[str, ...] = CUSTOMERS,
) -> pd.DataFrame:
    """A valid batch of ``n`` entries over 20 days, employees and customers in turn."""
    i = pd.RangeIndex(n)
    frame = pd.DataFrame(
        {
            S.ENTRY_ID: [f"{prefix}{k:05d}" for k in i],
            S.TXN_DATE: pd.Timestamp(start) + pd.to_timedelta(i % 20, unit="D"),
            S.EMPLOYEE_ID: [people[k % len(people)] for k in i],
            S.EMPLOYEE_NAME: "",
            S.CUSTOMER_ID: [customers[k % len(customers)] for k in i],
            S.CUSTOMER_NAME: "",
            S.ITEM_ID: "2",
            S.HOURS: (i % 8).astype("int64"),
            S.MINUTES: ((i * 7) % 59 + 1).astype("int64"),
            S.BILLABLE_STATUS: ["Billable" if k % 3 else "NotBillable" for k in i],
            S.HOURLY_RATE: 95.5,
            S.DESCRIPTION: [f"work item {k}" for k in i],
        }
    )
    return S.conform(frame, S.BATCH_DTYPES, what="batch")


def markers_in(emu: QBOEmulator) -> pd.Series:
    """The marker of each TimeActivity in the emulator."""
    return emu.time_activities()["description"].str.extract(r"(\[qbr:[0-9a-f]{12}\])")[0]


def ledger_bytes(path: Path) -> bytes:
    """Everything the ledger holds on disk, WAL included."""
    out = b""
    for p in (path, Path(str(path) + "-wal")):
        if p.exists():
            out += p.read_bytes()
    con = sqlite3.connect(path)
    out += "\n".join(str(r) for r in con.execute("SELECT * FROM log")).encode()
    out += "\n".join(str(r) for r in con.execute("SELECT * FROM deliveries")).encode()
    con.close()
    return out


#: a sitecustomize that refuses every host name but loopback (and notes the attempt)
_NO_NETWORK = """
import os
import socket

_real = socket.getaddrinfo
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def _loopback_only(host, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else host
    if name is not None and name not in _LOOPBACK and not str(name).startswith("127."):
        with open(os.environ["QBRECON_TEST_NETWORK_LOG"], "a", encoding="utf-8") as fh:
            fh.write(f"{name}\\n")
        raise socket.gaierror(socket.EAI_NONAME, f"no network in this test: {name}")
    return _real(host, *args, **kwargs)


socket.getaddrinfo = _loopback_only
"""


def offline_env(folder: Path) -> tuple[dict[str, str], Path]:
    """Environment for a subprocess that can reach loopback only, without client credentials.

    Returns:
        the environment, and the file that lists every other host the process tried.
    """
    import os

    guard = folder / "offline"
    guard.mkdir(exist_ok=True)
    (guard / "sitecustomize.py").write_text(_NO_NETWORK, encoding="utf-8")
    attempts = folder / "network-attempts.txt"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("QBRECON_CLIENT_ID", "QBRECON_CLIENT_SECRET")
    }
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(guard), env.get("PYTHONPATH")) if p)
    env["QBRECON_TEST_NETWORK_LOG"] = str(attempts)
    return env, attempts
