"""Benchmark: loading a large Clockify Detailed report.

Times ``qbrecon.read_time_entries`` against a bare ``pandas.read_csv(dtype=str)`` of the
same file, each in a fresh process (so peak memory is measured per call), best of
``--repeat`` runs, and prints the ratio. Target: ratio <= 1.5.

    python benchmarks/bench_load.py            # 1,000,000 rows
    python benchmarks/bench_load.py --rows 100000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import make_clockify_csv

_CHILD = r"""
import json, resource, sys, time
import pandas as pd
path, what = sys.argv[1], sys.argv[2]
if what == "qbrecon":
    import qbrecon
    qbrecon.read_time_entries  # import outside the timed region
    from qbrecon.sources import read_time_entries
t = time.perf_counter()
if what == "baseline":
    df = pd.read_csv(path, dtype=str)
else:
    df = read_time_entries(path)
elapsed = time.perf_counter() - t
print(json.dumps({"seconds": elapsed, "rows": len(df),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(path: Path, what: str) -> dict:
    out = subprocess.run([sys.executable, "-c", _CHILD, str(path), what], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = make_clockify_csv(Path(tmp) / "Clockify_Time_Report_Detailed.csv", args.rows)
        size_mb = path.stat().st_size / 1e6
        base, ours = [], []
        for _ in range(args.repeat):  # interleaved, so both see the same machine load
            base.append(measure(path, "baseline"))
            ours.append(measure(path, "qbrecon"))
    b = min(r["seconds"] for r in base)
    q = min(r["seconds"] for r in ours)
    print(f"file: {args.rows:,} rows, {size_mb:.0f} MB")
    print(f"pandas.read_csv(dtype=str): {b:.2f} s   peak {max(r['peak_mb'] for r in base):.0f} MB")
    print(f"read_time_entries:          {q:.2f} s   peak {max(r['peak_mb'] for r in ours):.0f} MB")
    print(f"ratio: {q / b:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
