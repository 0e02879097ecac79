"""Shared pieces of the Web Connector tests: batches, a fake clock, a served app."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pandas as pd

from qbrecon import schema as S
from qbrecon.qbd import WebConnectorSettings
from qbrecon.qbd.app import WebConnectorApp
from qbrecon.qbd.server import running_server
from qbrecon.qbd.service import WebConnectorService

ADA, GRACE, ALAN = "80000001-1700000001", "80000002-1700000002", "80000003-1700000003"
LINUS = "80000010-1700000010"
ACME, WEBSITE, GLOBEX, OLD = ("80000020-1700000020", "80000021-1700000021",
                              "80000022-1700000022", "80000023-1700000023")
CONSULTING, DESIGN, LEGACY = "80000030-1700000030", "80000031-1700000031", "80000032-1700000032"


def batch(rows: list[dict]) -> pd.DataFrame:
    """A batch from short row dicts: id, emp, cust, item, date, h, m, billable, note."""
    out = []
    for i, r in enumerate(rows):
        out.append({
            S.ENTRY_ID: r.get("id", f"e{i + 1:03d}"),
            S.TXN_DATE: pd.Timestamp(r.get("date", "2026-11-02")),
            S.EMPLOYEE_ID: r.get("emp", ADA),
            S.EMPLOYEE_NAME: r.get("emp_name", ""),
            S.CUSTOMER_ID: r.get("cust", WEBSITE),
            S.CUSTOMER_NAME: r.get("cust_name", ""),
            S.ITEM_ID: r.get("item", ""),
            S.HOURS: r.get("h", 1),
            S.MINUTES: r.get("m", 30),
            S.BILLABLE_STATUS: "Billable" if r.get("billable", False) else "NotBillable",
            S.HOURLY_RATE: float("nan"),
            S.DESCRIPTION: r.get("note", f"work {i + 1}"),
        })
    return S.conform(pd.DataFrame(out), S.BATCH_DTYPES, what="batch")


class Clock:
    """A clock the test moves by hand (seconds since the epoch)."""

    def __init__(self, t: float = 1_800_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def make_app(ledger, users, clock: Clock | None = None, **settings) -> WebConnectorApp:
    svc = WebConnectorService(ledger=ledger, users=users,
                              settings=WebConnectorSettings(**settings), clock=clock)
    return WebConnectorApp(svc)


@contextlib.contextmanager
def served(app) -> Iterator[str]:
    """The app on a real HTTP server on 127.0.0.1 (free port); yields its URL."""
    with running_server(app) as url:
        yield url
