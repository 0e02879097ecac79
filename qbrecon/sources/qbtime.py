"""QuickBooks Time (formerly TSheets) timesheet export.

No public sample of a real export exists; the columns follow the tools that ingest
these files: ``username, fname, lname, local_date, local_start_time, local_end_time,
hours, jobcode_1..4, billable, service item, description, notes, approved_status``.
Customer → job → sub-job levels are ``jobcode_1..4``: the first becomes the client,
the rest the project (``Job:Sub-job``); a top-level jobcode alone is the project.
Start and end times carry a UTC offset; the local wall-clock time is kept.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import schema as S
from . import _parse as P
from ._common import (
    Ctx,
    Field,
    Layout,
    billable_flags,
    canonical,
    combine,
    compose_ids,
    join_name,
)

LAYOUT = Layout(
    source="qbtime",
    title="QuickBooks Time timesheet export",
    fields=(
        Field("username", ("username",)),
        Field("payroll_id", ("payroll_id",)),
        Field("first", ("fname", "first name")),
        Field("last", ("lname", "last name")),
        Field("number", ("number", "employee number")),
        Field("date", ("local_date",), "date"),
        Field("start", ("local_start_time",)),
        Field("end", ("local_end_time",)),
        Field("hours", ("hours",), "number"),
        Field("jobcode_1", ("jobcode_1", "jobcode")),
        Field("jobcode_2", ("jobcode_2",)),
        Field("jobcode_3", ("jobcode_3",)),
        Field("jobcode_4", ("jobcode_4",)),
        Field("billable", ("billable",), "bool"),
        Field("item", ("service item", "service_item")),
        Field("description", ("description",)),
        Field("notes", ("notes",)),
        Field("approved_status", ("approved_status", "approval status")),
    ),
    signature=("date", "hours"),
    alternatives=(("first",), ("username",)),
)

_APPROVED = {"approved": True, "yes": True, "true": True, "submitted": False, "not submitted": False,
             "pending": False, "rejected": False, "open": False, "no": False, "false": False,
             "unapproved": False}


def _clock(ctx: Ctx, name: str, date: np.ndarray) -> np.ndarray:
    """Wall-clock datetimes from ISO timestamps (offset dropped) or bare times of day."""
    raw = ctx.raw(name).fillna("").str.strip()
    iso = raw.str.extract(r"^(\d{4}-\d{2}-\d{2})[T ](\d{1,2}:\d{2}(?::\d{2})?)")
    has_iso = iso[0].notna().to_numpy()
    day = np.where(has_iso, pd.to_datetime(iso[0], errors="coerce", format="%Y-%m-%d")
                   .to_numpy(dtype="datetime64[ns]"), date)
    times = P.parse_times(iso[1].where(iso[1].notna(), raw))
    ctx.bad(times.bad, name, "not a date-time (expected e.g. 2026-11-03T08:00:00-05:00)")
    return combine(day, times.values, times.empty)


def convert(ctx: Ctx) -> pd.DataFrame:
    date = ctx.dates(["date"])["date"]
    ctx.required("date", "the date")
    start = _clock(ctx, "start", date) if ctx.has("start") else np.full(ctx.n, np.datetime64("NaT", "ns"))
    end = _clock(ctx, "end", date) if ctx.has("end") else np.full(ctx.n, np.datetime64("NaT", "ns"))
    crossed = ~np.isnat(start) & ~np.isnat(end) & (end < start)
    end = np.where(crossed, end + np.timedelta64(1, "D"), end)
    hour_seconds, empty = ctx.hours("hours")
    spans = (end - start).astype("timedelta64[s]").astype("int64")
    seconds = np.where(empty, spans, hour_seconds)
    ctx.missing(empty & (np.isnat(start) | np.isnat(end)), "hours", "the hours")
    neg = seconds < 0
    ctx.bad(neg, "hours", "negative duration")
    seconds = np.where(neg, 0, seconds).astype("int64")
    user = join_name(ctx.text("first"), ctx.text("last"))
    username = ctx.text("username")
    user = user.where(user != "", username)
    email = username.where(username.str.contains("@", regex=False), "")
    jobs = [ctx.text(f"jobcode_{i}") for i in range(1, 5)]
    deeper = jobs[1]
    for j in jobs[2:]:
        deeper = deeper.where(j == "", deeper + ":" + j)
    has_sub = (jobs[1] != "")
    client = jobs[0].where(has_sub, "")
    project = deeper.where(has_sub, jobs[0])
    desc, notes = ctx.text("description"), ctx.text("notes")
    description = desc.where(notes == "", (desc + " " + notes).str.strip())
    billable = billable_flags(ctx)
    approved = None
    if ctx.has("approved_status"):
        status = ctx.text("approved_status").str.casefold()
        known = status.isin(list(_APPROVED)) | (status == "")
        ctx.bad(~known.to_numpy(), "approved_status", "unknown approval status")
        approved = status.map(_APPROVED).astype(object).where(status != "", pd.NA).to_numpy()
    person = username.where(username != "", user)
    return canonical(
        ctx,
        user=user,
        email=email,
        client=client,
        project=project,
        task=ctx.text("item"),
        description=description,
        tags=pd.Series([""] * ctx.n, dtype=S.STRING),
        date=date,
        start=start,
        end=end,
        duration_s=seconds,
        billable=billable,
        rate=np.full(ctx.n, np.nan),
        approved=approved,
        entry_id=compose_ids("qbtime", person, start, date,
                             client + ":" + project + ":" + ctx.text("item"), description),
    )
