"""Every benchmark script still runs end to end (tiny sizes; no timing is asserted here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"

CASES = {
    "bench_load.py": (["--rows", "2000", "--repeat", "1"], "ratio:"),
    "bench_validate.py": (["--rows", "2000", "--repeat", "1"], "ratio"),
    "bench_match.py": (["--sources", "200", "--customers", "2000"], "ratio suggest_matches"),
    "bench_send.py": (["--entries", "90", "--latency", "0"], "exactly once           yes"),
    "bench_webconnector.py": (["--entries", "120"], "peak memory"),
}


def test_every_benchmark_is_covered():
    assert sorted(p.name for p in BENCH.glob("bench_*.py")) == sorted(CASES)


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(CASES))
def test_benchmark_runs_small(script):
    args, expected = CASES[script]
    run = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True,
                         text=True, timeout=600)
    # exit 1 means a target was missed, which sizes this small cannot judge; a crash is
    # what this test is about
    assert run.returncode in (0, 1) and "Traceback" not in run.stderr, run.stderr[-2000:]
    assert expected in run.stdout, run.stdout[-2000:]
