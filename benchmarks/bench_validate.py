"""Benchmark: read + validate + build_batch of a large Clockify Detailed report.

Generates a Clockify Detailed CSV (the "rates on" layout: every field quoted, CRLF,
MM/DD/YYYY dates, 12-hour times, HH:MM:SS durations), then times, each in a fresh
process so that timings and peak memory do not leak between them:

* baseline: ``pandas.read_csv(path, dtype=str)`` of the file;
* qbrecon: ``read_time_entries(path)`` + ``validate(entries, mapping, rules, lists)``
  + ``build_batch(report)``.

The stages alternate for ``--repeat`` rounds; it prints every time, the ratio of the
best times (target <= 2.0) and the peak memory of each process (target < 3 GB). When ``qbrecon.read_time_entries`` is not available, the qbrecon side
validates a canonical frame built directly from the generated rows instead (and says so).

Usage::

    python benchmarks/bench_validate.py                  # 1,000,000 rows
    python benchmarks/bench_validate.py --rows 50000     # a quick run
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HEADER = [
    "Project",
    "Client",
    "Description",
    "Task",
    "User",
    "Group",
    "Email",
    "Tags",
    "Billable",
    "Start Date",
    "Start Time",
    "End Date",
    "End Time",
    "Duration (h)",
    "Duration (decimal)",
    "Billable Rate (USD)",
    "Billable Amount (USD)",
]
N_USERS = 400
CLIENTS = [f"Client {i:03d}" for i in range(120)]
PROJECTS = ["Website", "Support", "Migration", "Audit", "Install Phase 2", "Retainer"]
TASKS = ["Development", "Design", "Meetings", "Testing", "Travel", ""]
WORDS = np.array(
    [
        "fixed",
        "the",
        "widget",
        "reviewed",
        "pull",
        "request",
        "call",
        "with",
        "client",
        "wrote",
        "report",
        "deployed",
        "release",
        "planned",
        "sprint",
        "answered",
        "tickets",
        "updated",
        "docs",
    ]
)


def generate(rows: int, seed: int = 7) -> dict[str, np.ndarray]:
    """Realistic rows: each user works back-to-back entries through their days."""
    rng = np.random.default_rng(seed)
    user = np.sort(rng.integers(0, N_USERS, rows))
    dur = rng.gamma(2.0, 2400.0, rows).astype(np.int64) + 60  # seconds, mean ~1.3 h
    dur[rng.random(rows) < 0.001] = 0  # zero-length entries exist
    dur[rng.random(rows) < 0.0005] = 26 * 3600  # and forgotten running timers
    gap = rng.integers(0, 1800, rows)
    # per user: entries follow each other through a day; a day ends after ~9 hours
    first = np.r_[True, user[1:] != user[:-1]]
    new_day = first | (rng.random(rows) < 0.12)
    step = dur + gap
    for _ in range(50):
        csum = np.cumsum(step)
        block_start = np.maximum.accumulate(np.where(new_day, np.arange(rows), 0))
        offset = (csum - step) - (csum[block_start] - step[block_start])
        late = (offset > 9 * 3600) & ~new_day
        if not late.any():
            break
        # the first late entry of each day starts the next day
        late_first = late & ~np.r_[False, late[:-1] & (block_start[1:] == block_start[:-1])]
        new_day |= late_first
    count = np.cumsum(new_day)
    day_no = count - count[np.maximum.accumulate(np.where(first, np.arange(rows), 0))]
    day = np.datetime64("2025-01-06") + (day_no * 7 // 5)  # about five working days a week
    start = (
        day.astype("datetime64[s]")
        + np.timedelta64(8 * 3600, "s")
        + offset.astype("timedelta64[s]")
    )
    end = start + dur.astype("timedelta64[s]")
    client = np.array(CLIENTS)[rng.integers(0, len(CLIENTS), rows)]
    client[rng.random(rows) < 0.05] = ""
    project = np.array(PROJECTS)[rng.integers(0, len(PROJECTS), rows)]
    project[rng.random(rows) < 0.02] = ""
    billable = rng.random(rows) < 0.85
    rate = np.where(billable, rng.choice([85.0, 110.0, 150.0], rows), 0.0)
    words = WORDS[rng.integers(0, len(WORDS), (rows, 3))]
    description = np.char.add(
        np.char.add(np.char.add(words[:, 0], " "), words[:, 1]), np.char.add(" ", words[:, 2])
    )
    return {
        "user": user,
        "start": start,
        "end": end,
        "dur": dur,
        "client": client,
        "project": project,
        "task": np.array(TASKS)[rng.integers(0, len(TASKS), rows)],
        "billable": billable,
        "rate": rate,
        "description": description,
    }


def user_names() -> list[str]:
    first = [
        "Ada",
        "Grace",
        "Alan",
        "Edsger",
        "Barbara",
        "Donald",
        "Frances",
        "Ken",
        "Margaret",
        "Linus",
    ]
    last = [
        "Lovelace",
        "Hopper",
        "Turing",
        "Dijkstra",
        "Liskov",
        "Knuth",
        "Allen",
        "Thompson",
        "Hamilton",
        "Torvalds",
    ]
    return [
        f"{first[i % 10]} {last[(i // 10) % 10]} {i // 100 or ''}".strip() for i in range(N_USERS)
    ]


def write_clockify_csv(data: dict[str, np.ndarray], path: Path) -> None:
    names = np.array(user_names())[data["user"]]
    start = pd.Series(data["start"].astype("datetime64[ns]"))
    end = pd.Series(data["end"].astype("datetime64[ns]"))
    secs = data["dur"]
    h, rest = np.divmod(secs, 3600)
    hms = (
        pd.Series(h.astype(str)).str.zfill(2)
        + ":"
        + pd.Series((rest // 60).astype(str)).str.zfill(2)
        + ":"
        + pd.Series((rest % 60).astype(str)).str.zfill(2)
    )
    frame = pd.DataFrame(
        {
            "Project": data["project"],
            "Client": data["client"],
            "Description": data["description"],
            "Task": data["task"],
            "User": names,
            "Group": "",
            "Email": np.char.add(np.char.replace(np.char.lower(names), " ", "."), "@example.com"),
            "Tags": "",
            "Billable": np.where(data["billable"], "Yes", "No"),
            "Start Date": start.dt.strftime("%m/%d/%Y"),
            "Start Time": start.dt.strftime("%I:%M:%S %p"),
            "End Date": end.dt.strftime("%m/%d/%Y"),
            "End Time": end.dt.strftime("%I:%M:%S %p"),
            "Duration (h)": hms,
            "Duration (decimal)": np.char.mod("%.2f", secs / 3600),
            "Billable Rate (USD)": np.char.mod("%.2f", data["rate"]),
            "Billable Amount (USD)": np.char.mod("%.2f", data["rate"] * secs / 3600),
        },
        columns=HEADER,
    )
    frame.to_csv(path, index=False, quoting=csv.QUOTE_ALL, lineterminator="\r\n")


def canonical(data: dict[str, np.ndarray]):
    """The canonical entries a reader would return for the generated rows (fallback mode)."""
    from qbrecon import schema as S
    from qbrecon.ids import make_entry_ids

    n = len(data["user"])
    names = np.array(user_names())[data["user"]]
    start = data["start"].astype("datetime64[ns]")
    frame = pd.DataFrame(
        {
            S.ENTRY_ID: make_entry_ids("clockify", pd.Series(np.arange(n).astype(str))),
            S.SOURCE: "clockify",
            S.ROW: np.arange(n) + 2,
            S.USER: names,
            S.EMAIL: "",
            S.CLIENT: data["client"],
            S.PROJECT: data["project"],
            S.TASK: data["task"],
            S.DESCRIPTION: data["description"],
            S.TAGS: "",
            S.DATE: start.astype("datetime64[D]").astype("datetime64[ns]"),
            S.START: start,
            S.END: data["end"].astype("datetime64[ns]"),
            S.DURATION: data["dur"].astype("timedelta64[s]").astype("timedelta64[ns]"),
            S.BILLABLE: data["billable"],
            S.BILLABLE_RATE: data["rate"],
            S.APPROVED: pd.array([pd.NA] * n, dtype="boolean"),
        }
    )
    return S.conform(frame, S.ENTRY_DTYPES, what="entries")


def mapping_and_lists():
    from qbrecon import QBLists
    from qbrecon import schema as S

    names = user_names()
    mapped = names[: int(N_USERS * 0.97)]  # a few users are not mapped yet
    customers = [f"{c}:{p}" for c in CLIENTS for p in PROJECTS] + PROJECTS
    rows = [("employee", n, f"E{i}", n) for i, n in enumerate(mapped)]
    rows += [("customer", c, f"C{i}", c) for i, c in enumerate(customers)]
    rows += [("item", t, f"I{i}", t) for i, t in enumerate(TASKS) if t]
    mapping = pd.DataFrame(rows, columns=S.MAPPING_COLUMNS)

    def frame(ids, names, active):
        return pd.DataFrame(
            {
                "qb_id": ids,
                "name": names,
                "full_name": names,
                "parent_id": "",
                "level": 0,
                "active": active,
            }
        )

    lists = QBLists(
        employees=frame(
            [f"E{i}" for i in range(len(mapped))], mapped, [i % 97 != 5 for i in range(len(mapped))]
        ),
        customers=frame([f"C{i}" for i in range(len(customers))], customers, True),
        items=frame([f"I{i}" for i in range(len(TASKS))], TASKS, True),
    )
    return mapping, lists


def stage(name: str, path: Path, rows: int) -> dict:
    t0 = time.perf_counter()
    if name == "baseline":
        frame = pd.read_csv(path, dtype=str)
        out = {"rows": len(frame)}
    else:
        import qbrecon
        from qbrecon import Rounding, Rules, build_batch, validate

        mapping, lists = mapping_and_lists()
        try:
            from qbrecon import read_time_entries

            mode = "read_time_entries + validate + build_batch"
        except (ImportError, AttributeError):
            read_time_entries = None
            mode = "validate + build_batch on a canonical frame (read_time_entries not available)"
        t0 = time.perf_counter()
        if read_time_entries is not None:
            entries = read_time_entries(path)
        else:
            entries = canonical(generate(rows))
            t0 = time.perf_counter()  # the fallback does not time building its input
        report = validate(entries, mapping, rules=Rules(rounding=Rounding("up", 6)), lists=lists)
        batch = build_batch(report)
        out = {
            "rows": len(entries),
            "mode": mode,
            "clean": len(batch),
            "failures": len(report.failures),
            "version": qbrecon.__version__,
        }
    out["seconds"] = time.perf_counter() - t0
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def run_stage(name: str, path: Path, rows: int) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--stage", name, "--file", str(path), "--rows", str(rows)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"stage {name} failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--file", type=Path, help="reuse (or keep) the generated CSV here")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of both stages (default 3)")
    parser.add_argument("--stage", choices=["baseline", "qbrecon"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        print(json.dumps(stage(args.stage, args.file, args.rows)))
        return
    tmp = None
    path = args.file
    if path is None:
        tmp = tempfile.TemporaryDirectory()
        path = Path(tmp.name) / "Clockify_Time_Report_Detailed_01_06_2025-12_31_2026.csv"
    if not path.exists():
        t = time.perf_counter()
        write_clockify_csv(generate(args.rows), path)
        print(
            f"generated {args.rows:,} rows ({path.stat().st_size / 1e6:.0f} MB) "
            f"in {time.perf_counter() - t:.1f} s"
        )
    # the two stages alternate, each in a fresh process, and the best time of each is compared:
    # on a shared machine, other work slows single runs down at random
    bases, ours_runs = [], []
    for _ in range(args.repeat):
        bases.append(run_stage("baseline", path, args.rows))
        ours_runs.append(run_stage("qbrecon", path, args.rows))
    base = min(bases, key=lambda r: r["seconds"])
    ours = min(ours_runs, key=lambda r: r["seconds"])
    ratio = ours["seconds"] / base["seconds"]
    peak = max(r["peak_mb"] for r in ours_runs)
    every = "  ".join(f"{r['seconds']:.2f}" for r in bases)
    print(
        f"baseline  pandas.read_csv(dtype=str)   best {base['seconds']:6.2f} s   "
        f"peak {max(r['peak_mb'] for r in bases):6.0f} MB   (runs: {every})"
    )
    every = "  ".join(f"{r['seconds']:.2f}" for r in ours_runs)
    print(f"qbrecon   {ours['mode']}")
    print(
        f"                                       best {ours['seconds']:6.2f} s   "
        f"peak {peak:6.0f} MB   (runs: {every})"
    )
    print(
        f"          {ours['rows']:,} entries, {ours['clean']:,} clean, {ours['failures']:,} failures"
    )
    print(
        f"ratio     {ratio:.2f}  (target <= 2.0)   peak memory {'OK' if peak < 3072 else 'OVER'}"
        f" (target < 3 GB)"
    )
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
