"""Synthetic exports for the benchmarks: large, realistic, deterministic."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

CLOCKIFY_HEADER = [
    "Project", "Client", "Description", "Task", "User", "Group", "Email", "Tags", "Billable",
    "Start Date", "Start Time", "End Date", "End Time", "Duration (h)", "Duration (decimal)",
    "Billable Rate (USD)", "Billable Amount (USD)", "Date of creation",
]


def make_clockify_csv(path: str | Path, rows: int, *, seed: int = 7) -> Path:
    """A Clockify Detailed report CSV (MM/DD/YYYY, 12-hour times, rates) of ``rows`` entries.

    200 people, 400 projects under 120 clients, 15-minute to 9-hour entries over 2026,
    every field quoted and CRLF line ends, as Clockify writes them.
    """
    rng = np.random.default_rng(seed)
    people = np.array([f"Person {i:03d}" for i in range(200)], dtype=object)
    emails = np.array([f"person{i:03d}@example.com" for i in range(200)], dtype=object)
    clients = np.array([f"Client {i:03d} LLC" for i in range(120)], dtype=object)
    projects = np.array([f"Project {i:03d}" for i in range(400)], dtype=object)
    tasks = np.array(["Design", "Development", "Consulting", "Meetings", ""], dtype=object)
    p = rng.integers(0, 200, rows)
    pr = rng.integers(0, 400, rows)
    day = pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 365, rows), unit="D")
    start = day + pd.to_timedelta(rng.integers(6 * 3600, 18 * 3600, rows), unit="s")
    secs = rng.integers(15 * 60, 9 * 3600, rows)
    end = start + pd.to_timedelta(secs, unit="s")
    hours = secs / 3600
    rate = np.where(rng.random(rows) < 0.8, 95.0, 0.0)
    h, rem = np.divmod(secs, 3600)
    m, s = np.divmod(rem, 60)
    dur = pd.Series(h).astype(str).str.zfill(2) + ":" + pd.Series(m).astype(str).str.zfill(2) + ":" + \
        pd.Series(s).astype(str).str.zfill(2)
    frame = pd.DataFrame(
        {
            "Project": projects[pr],
            "Client": clients[pr % 120],
            "Description": np.array(["Work on deliverable", "Review", "Call with client", ""],
                                    dtype=object)[rng.integers(0, 4, rows)],
            "Task": tasks[rng.integers(0, 5, rows)],
            "User": people[p],
            "Group": "",
            "Email": emails[p],
            "Tags": "",
            "Billable": np.where(rate > 0, "Yes", "No"),
            "Start Date": start.strftime("%m/%d/%Y"),
            "Start Time": start.strftime("%I:%M:%S %p"),
            "End Date": end.strftime("%m/%d/%Y"),
            "End Time": end.strftime("%I:%M:%S %p"),
            "Duration (h)": dur.to_numpy(),
            "Duration (decimal)": np.round(hours, 2),
            "Billable Rate (USD)": rate,
            "Billable Amount (USD)": np.round(rate * hours, 2),
            "Date of creation": end.strftime("%m/%d/%Y"),
        }
    )
    path = Path(path)
    frame.to_csv(path, index=False, quoting=1, lineterminator="\r\n", float_format="%.2f")
    return path
