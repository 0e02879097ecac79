"""Benchmark: send a batch to the local QuickBooks Online emulator at scaled rate limits.

QuickBooks Online allows 40 batch requests (of up to 30 items) per minute per company.
With the emulator's limits scaled 60x that is 40 batch requests per second, so the
limit-bound ideal throughput is 40 x 30 = 1200 entries per second. The benchmark sends
the batch through the real sender (ledger, markers, client-side limiter, HTTP) and
prints the achieved throughput as a fraction of that ideal (target: >= 0.9). It also
prints the stricter bound of a sliding window that starts empty (the first window's
requests may all go at once), and checks that every entry arrived exactly once.

The ledger is new, so the timed send first searches QuickBooks for the markers of its
entries (the new-ledger safety net: one paged TimeActivity query over their dates); the
search is inside the timed run, and its requests and time are printed. ``--existing N``
first puts N other TimeActivities on the same dates into QuickBooks (untimed), so that
the search has pages to read, as in a company with time already entered;
``--no-check-quickbooks`` times the send without the search.

Usage:
    python benchmarks/bench_send.py [--entries 3000] [--scale 60] [--latency 0.02]
                                    [--concurrency 2] [--in-process] [--existing 0]
                                    [--no-check-quickbooks]
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from qbrecon import schema as S
from qbrecon.ledger import Ledger
from qbrecon.qbo.client import connect_qbo
from qbrecon.qbo.emulator import QBOEmulator
from qbrecon.qbo.limits import QBOLimits, RateLimiter
from qbrecon.qbo.send import CHUNK_SIZE, send_to_qbo


def make_batch(n: int, *, prefix: str = "bench") -> pd.DataFrame:
    i = pd.RangeIndex(n)
    people, customers = ("54", "55", "56", "57"), ("1", "3", "9", "11")
    frame = pd.DataFrame(
        {
            S.ENTRY_ID: [f"{prefix}-{k:06d}" for k in i],
            S.TXN_DATE: pd.Timestamp("2026-11-02") + pd.to_timedelta(i % 28, unit="D"),
            S.EMPLOYEE_ID: [people[k % 4] for k in i],
            S.EMPLOYEE_NAME: "",
            S.CUSTOMER_ID: [customers[k % 4] for k in i],
            S.CUSTOMER_NAME: "",
            S.ITEM_ID: "2",
            S.HOURS: (i % 8).astype("int64"),
            S.MINUTES: ((i * 7) % 59 + 1).astype("int64"),
            S.BILLABLE_STATUS: "Billable",
            S.HOURLY_RATE: 120.0,
            S.DESCRIPTION: [f"benchmark entry {k}" for k in i],
        }
    )
    return S.conform(frame, S.BATCH_DTYPES, what="batch")


class _EmulatorProcess:
    """``qbrecon emulator`` in its own process, as QuickBooks runs on its own machine."""

    def __init__(self, *, scale: float, latency: float, token_file: Path) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "qbrecon",
                "emulator",
                "--port",
                "0",
                "--seed",
                "builtin",
                "--scale",
                str(scale),
                "--latency",
                str(latency),
                "--token-file",
                str(token_file),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        lines = []
        while not any("Ctrl-C" in x for x in lines):
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("the emulator did not start: " + self.proc.stderr.read())
            lines.append(line)
        self.base_url = next(x for x in lines if "--base-url" in x).split()[-1]
        self.discovery_url = next(x for x in lines if "--environment" in x).split()[-1]
        self.realm_id = json.loads(token_file.read_text())["realm_id"]

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=10)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=3000)
    ap.add_argument("--scale", type=float, default=60.0, help="rate limits this many times faster")
    ap.add_argument(
        "--latency", type=float, default=0.02, help="seconds the emulator adds per answer"
    )
    ap.add_argument("--concurrency", type=int, default=2, help="batch requests in flight")
    ap.add_argument(
        "--in-process",
        action="store_true",
        help="run the emulator in this process (it then competes for the same GIL)",
    )
    ap.add_argument(
        "--existing",
        type=int,
        default=0,
        help="TimeActivities put into QuickBooks on the same dates before the timed send",
    )
    ap.add_argument(
        "--no-check-quickbooks",
        action="store_true",
        help="time the send without the new-ledger search for markers",
    )
    args = ap.parse_args(argv)

    limits = QBOLimits().scaled(args.scale)
    batch = make_batch(args.entries)
    n_requests = math.ceil(args.entries / CHUNK_SIZE)
    work = Path(tempfile.mkdtemp(prefix="qbrecon-bench-"))
    token_file = work / "tokens.json"
    if args.in_process:
        emu = QBOEmulator(seed="builtin", limits=limits, latency=args.latency).start()
        emu.write_token_file(token_file)
        stop = emu.stop
    else:
        emu = _EmulatorProcess(scale=args.scale, latency=args.latency, token_file=token_file)
        stop = emu.stop
    try:
        client = connect_qbo(
            realm_id=emu.realm_id,
            token_file=token_file,
            environment=emu.discovery_url,
            base_url=emu.base_url,
            limits=limits,
        )
        if args.existing:  # time entered before, through another ledger (not timed)
            send_to_qbo(
                make_batch(args.existing, prefix="earlier"),
                client,
                ledger=work / "earlier.sqlite",
                progress=False,
                concurrency=args.concurrency,
                check_quickbooks=False,
            )
            time.sleep(limits.window)  # a fresh rate-limit window for the timed send
        started = time.perf_counter()
        results = send_to_qbo(
            batch,
            client,
            ledger=work / "ledger.sqlite",
            progress=False,
            concurrency=args.concurrency,
            check_quickbooks=not args.no_check_quickbooks,
        )
        elapsed = time.perf_counter() - started
        client.limiter = RateLimiter(
            QBOLimits(requests_per_window=10_000, batches_per_window=10_000)
        )
        in_qbo = client.query_rows("TimeActivity")  # checked through the API, like QuickBooks
        client.close()
    finally:
        stop()
    with Ledger(work / "ledger.sqlite") as led:
        states = led.deliveries()["state"].value_counts().to_dict()
        http = led.log_frame(level=None)
        http = http[http["event"] == "http"]
    throttled = int(http["message"].str.contains("-> 429").sum())
    queries = http[http["message"].str.contains("/query")]
    query_ms = queries["response"].map(lambda r: json.loads(r)["elapsed_ms"] or 0).sum()

    markers = pd.Series([r.get("Description", "") for r in in_qbo], dtype="string").str.extract(
        r"(\[qbr:[0-9a-f]{12}\])"
    )[0]
    ok = (
        (results[S.STATUS] == "sent").all()
        and len(in_qbo) == args.entries + args.existing
        and not markers.duplicated().any()
        and states == {"sent": args.entries}
    )
    rate = limits.batch_rate  # batch requests per second at the limit
    ideal_eps = rate * CHUNK_SIZE
    achieved_eps = args.entries / elapsed
    fraction = achieved_eps / ideal_eps
    # a sliding window that starts empty: request k may go at floor(k / B) windows
    strict = (n_requests - 1) // limits.batches_per_window * limits.window + args.latency
    where = "in this process" if args.in_process else "in its own process"
    print(
        f"entries                {args.entries} in {n_requests} batch requests "
        f"(concurrency {args.concurrency}, latency {args.latency * 1000:g} ms, emulator {where})"
    )
    print(
        f"limits                 {limits.batches_per_window} batch requests per {limits.window:g} s "
        f"({rate:g}/s), {limits.requests_per_window} requests per window"
    )
    print(f"elapsed                {elapsed:.3f} s")
    print(f"throughput             {achieved_eps:,.0f} entries/s")
    print(
        f"limit-bound ideal      {ideal_eps:,.0f} entries/s ({rate:g} batch requests/s x {CHUNK_SIZE})"
    )
    print(f"fraction of ideal      {fraction:.3f}   (target >= 0.9)")
    print(
        f"strict bound           {strict:.3f} s for a window that starts empty -> "
        f"fraction {strict / elapsed:.3f}"
    )
    if args.no_check_quickbooks:
        print("new-ledger search      off (--no-check-quickbooks)")
    else:
        print(
            f"new-ledger search      {len(queries)} query request(s), {query_ms / 1000:.3f} s of the "
            f"elapsed time ({args.existing} TimeActivities already on those dates)"
        )
    print(f"throttled (429)        {throttled}")
    print(
        f"exactly once           {'yes' if ok else 'NO'} ({len(in_qbo)} TimeActivities "
        f"({args.existing} earlier), ledger {states})"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
