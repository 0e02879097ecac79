"""`qbrecon demo` runs the whole flow on the samples, as a user would start it."""

from __future__ import annotations

import subprocess
import sys


def test_demo_runs_and_narrates(tmp_path):
    run = subprocess.run([sys.executable, "-m", "qbrecon", "demo", "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "336 time entries from clockify, harvest, toggl" in out
    assert "customers include 12 sub-customers/jobs" in out
    assert "31 names mapped, 4 rejected" in out
    assert "336 entries checked" in out and "too_long(23:55)" in out
    assert "73 from employee/vendor bill rates" in out  # Toggl gives no rates
    for name in ("review.xlsx", "mapping.csv", "report.xlsx", "batch.csv"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert "285 sent, 0 failed" in out and "entries were found in QuickBooks, not resent" in out
    assert "285 skipped, 285 TimeActivities in QuickBooks" in out
    # QuickBooks Desktop: a lost answer mid-delivery, recovered without duplicates
    assert "the first update is a test sync (ok)" in out
    assert "271 time entries in QuickBooks Desktop for 271 in the batch, 271 distinct" in out
    for name in ("Harborlight.qwc", "time.iif", "time.qbxml"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert "Traceback" not in run.stderr
