"""Toggl Track Detailed report CSV, legacy (2017–2018, with ``Amount ()``) and current layouts.

Dates are ISO, times 24-hour, ``Duration`` is ``H:MM:SS`` with unpadded hours in the
current layout. Legacy files carry an amount instead of a rate; the hourly rate is
derived from it (amount / tracked hours, to the cent) where both are present.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import _parse as P
from ._common import Ctx, Field, Layout, bool_column, canonical, combine, compose_ids

LAYOUT = Layout(
    source="toggl",
    title="Toggl Track detailed report",
    fields=(
        Field("user", ("User", "Member")),
        Field("email", ("Email",)),
        Field("client", ("Client",)),
        Field("project", ("Project",)),
        Field("task", ("Task",)),
        Field("description", ("Description",)),
        Field("billable", ("Billable",), "bool"),
        Field("start_date", ("Start date",), "date"),
        Field("start_time", ("Start time",), "time"),
        Field("end_date", ("End date", "Stop date"), "date"),
        Field("end_time", ("End time", "Stop time"), "time"),
        Field("duration", ("Duration",), "duration"),
        Field("tags", ("Tags",)),
        Field("amount", (r"re:amount \(.*\)", "Amount"), "number"),
        Field("rate", (r"re:(billable )?rate( \(.*\))?",), "number"),
    ),
    signature=("user", "start_date", "duration"),
    forbidden=("Duration (h)",),  # Clockify's
)


def convert(ctx: Ctx) -> pd.DataFrame:
    ctx.attrs["time_style"] = P.time_style(ctx.raw("start_time")) or ""
    d = ctx.dates(["start_date", "end_date"])
    date = d["start_date"]
    ctx.required("start_date", "the start date")
    st = ctx.times("start_time") if ctx.has("start_time") else None
    start = combine(date, st.values, st.empty) if st else np.full(ctx.n, np.datetime64("NaT", "ns"))
    if ctx.has("end_time"):
        et = ctx.times("end_time")
        end_date = d.get("end_date", date)
        end_date = np.where(np.isnat(end_date), date, end_date)
        end = combine(end_date, et.values, et.empty)
    else:
        end = np.full(ctx.n, np.datetime64("NaT", "ns"))
    dur = ctx.durations("duration")
    spans = (end - start).astype("timedelta64[s]").astype("int64")
    from_clock = dur.empty & ~np.isnat(start) & ~np.isnat(end)
    seconds = np.where(from_clock, spans, dur.values)
    ctx.missing(dur.empty & ~from_clock, "duration", "the duration")
    neg = seconds < 0
    ctx.bad(neg, "duration", "ends before it starts")
    seconds = np.where(neg, 0, seconds)
    billable = bool_column(ctx.bools("billable"), default=False) if ctx.has("billable") else \
        np.zeros(ctx.n, dtype=bool)
    if ctx.has("rate"):
        rate = ctx.numbers("rate").values
    elif ctx.has("amount"):
        amount = ctx.numbers("amount").values
        hours = seconds / 3600.0
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.where((hours > 0) & (amount > 0), np.round(amount / hours, 2), np.nan)
        amount_col = ctx.cols["amount"]
        if "(" in amount_col:
            ctx.attrs["currency"] = amount_col[amount_col.rfind("(") + 1 : amount_col.rfind(")")]
    else:
        rate = np.full(ctx.n, np.nan)
    user, email = ctx.text("user"), ctx.text("email")
    return canonical(
        ctx,
        user=user,
        email=email,
        client=ctx.text("client"),
        project=ctx.text("project"),
        task=ctx.text("task"),
        description=ctx.text("description"),
        tags=ctx.text("tags"),
        date=date,
        start=start,
        end=end,
        duration_s=seconds,
        billable=billable,
        rate=rate,
        approved=None,
        entry_id=compose_ids("toggl", email.where(email != "", user), start, date,
                             ctx.text("client") + ":" + ctx.text("project") + ":" + ctx.text("task")),
    )
