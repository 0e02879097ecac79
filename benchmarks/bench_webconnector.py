"""Benchmark: one Web Connector session delivering 10,000 time entries.

A scripted Web Connector posts the raw SOAP calls over HTTP on 127.0.0.1 to the
service, and a fake QuickBooks answers each qbXML request. The service's own time (in
the WSGI app: parsing, ledger intents and outcomes, session state, the integration log,
building the qbXML) is measured apart from the client's and the fake QuickBooks' time.
Baseline, in the same run: building the same TimeTrackingAdd requests alone, in one
vectorized call cut into the same message sets, with no service around them (the floor
any sender pays). Peak memory is the process's peak RSS.

    python benchmarks/bench_webconnector.py                  # 10,000 entries
    python benchmarks/bench_webconnector.py --entries 1000 --chunk-size 50
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from qbrecon import schema as S
from qbrecon.formats.qbxml import message_set, time_tracking_add_requests
from qbrecon.ledger import Ledger, request_id_for
from qbrecon.qbd import WebConnectorSettings, queue_for_desktop
from qbrecon.qbd.app import WebConnectorApp
from qbrecon.qbd.emulator import FakeQuickBooks, WebConnectorClient
from qbrecon.qbd.server import running_server
from qbrecon.qbd.service import WebConnectorService


def make_batch(n: int, qb: FakeQuickBooks, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    people = [e["ListID"] for e in qb.employees if e["IsActive"]]
    jobs = [c["ListID"] for c in qb.customers if c["IsActive"]]
    items = [i["ListID"] for i in qb.items if i["IsActive"]]
    billable = rng.random(n) < 0.7
    return S.conform(pd.DataFrame({
        S.ENTRY_ID: [f"bench-{i:07d}" for i in range(n)],
        S.TXN_DATE: pd.Timestamp("2026-11-01") + pd.to_timedelta(rng.integers(0, 15, n), unit="D"),
        S.EMPLOYEE_ID: rng.choice(people, n),
        S.EMPLOYEE_NAME: "",
        S.CUSTOMER_ID: rng.choice(jobs, n),
        S.CUSTOMER_NAME: "",
        S.ITEM_ID: np.where(billable, rng.choice(items, n), ""),
        S.HOURS: rng.integers(0, 8, n),
        S.MINUTES: rng.integers(1, 60, n),
        S.BILLABLE_STATUS: np.where(billable, "Billable", "NotBillable"),
        S.HOURLY_RATE: np.nan,
        S.DESCRIPTION: [f"Design review & fixes <{i % 97}>" for i in range(n)],
    }), S.BATCH_DTYPES, what="batch")


class Timed:
    """Wraps a WSGI app and adds up the time spent inside it."""

    def __init__(self, app):
        self.app, self.seconds, self.calls = app, 0.0, 0

    def __call__(self, environ, start_response):
        t = time.perf_counter()
        try:
            return list(self.app(environ, start_response))
        finally:
            self.seconds += time.perf_counter() - t
            self.calls += 1


class TimedQB:
    def __init__(self, qb):
        self.qb, self.seconds = qb, 0.0

    def __getattr__(self, name):
        return getattr(self.qb, name)

    def handle(self, request):
        t = time.perf_counter()
        try:
            return self.qb.handle(request)
        finally:
            self.seconds += time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=10_000)
    ap.add_argument("--chunk-size", type=int, default=50)
    args = ap.parse_args()
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    qb = FakeQuickBooks.small()
    batch = make_batch(args.entries, qb)
    with tempfile.TemporaryDirectory() as tmp:
        ledger = Path(tmp) / "ledger.sqlite"
        t = time.perf_counter()
        queue_for_desktop(batch, ledger=ledger)
        t_queue = time.perf_counter() - t
        svc = WebConnectorService(ledger=ledger, users={"bench": "pw"}, settings=WebConnectorSettings(
            chunk_size=args.chunk_size, test_sync=False, ticket_ttl=3600))
        app = Timed(WebConnectorApp(svc))
        tqb = TimedQB(qb)
        with running_server(app) as url:
            client = WebConnectorClient(url, qb=tqb, user="bench", password="pw")
            t = time.perf_counter()
            res = client.update()
            t_total = time.perf_counter() - t
        with Ledger(ledger) as led:
            states = led.deliveries().state.value_counts().to_dict()
        # baseline: the same requests built alone in one vectorized call, then cut into the
        # same message sets: no ledger, no HTTP, no session around them
        t = time.perf_counter()
        rids = [request_id_for("qbd:", e) for e in batch[S.ENTRY_ID]]
        xml = time_tracking_add_requests(batch, request_ids=rids)["xml"].tolist()
        for lo in range(0, len(xml), args.chunk_size):
            message_set(xml[lo:lo + args.chunk_size])
        t_build = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert res.completed, res.last_error
    assert states == {"sent": args.entries}, states
    assert len(qb.time_entries) == args.entries
    print(f"entries: {args.entries:,} in one session, {res.requests} requests "
          f"({args.chunk_size} adds per sendRequestXML), {app.calls} SOAP calls; {res.close}")
    print(f"queue_for_desktop:        {t_queue:7.2f} s")
    print(f"service (server) time:    {app.seconds:7.2f} s   "
          f"{app.seconds / args.entries * 1000:.3f} ms per entry")
    print(f"fake QuickBooks time:     {tqb.seconds:7.2f} s")
    print(f"whole session (wall):     {t_total:7.2f} s   (client and HTTP included)")
    print(f"baseline, qbXML build only: {t_build:5.2f} s")
    print(f"ratio service / build-only: {app.seconds / t_build:.1f}")
    print(f"peak memory (RSS):        {rss:7.0f} MB   (process start {rss0:.0f} MB)")


if __name__ == "__main__":
    sys.exit(main())
