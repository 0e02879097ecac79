"""Clockify Detailed report exports (CSV and XLSX), English and German headers.

See the formats reference: every bracketed column is optional, unknown columns are
ignored, dates follow the exporting user's profile (DD/MM/YYYY or MM/DD/YYYY), times
are 12- or 24-hour with or without seconds, and ``Duration (h)`` may exceed 24 hours.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import _parse as P
from ._common import (
    Ctx,
    Field,
    Layout,
    bool_column,
    canonical,
    combine,
    compose_ids,
    nullable_bool,
)

LAYOUT = Layout(
    source="clockify",
    title="Clockify Detailed report",
    fields=(
        Field("project", ("Project", "Projekt")),
        Field("client", ("Client", "Kunde")),
        Field("description", ("Description", "Beschreibung")),
        Field("task", ("Task", "Aufgabe")),
        Field("user", ("User", "Benutzer")),
        Field("email", ("Email", "E-Mail")),
        Field("tags", ("Tags",)),
        Field("billable", ("Billable", "Abrechenbar"), "bool"),
        Field("start_date", ("Start Date", "Startdatum"), "date"),
        Field("start_time", ("Start Time", "Startzeit"), "time"),
        Field("end_date", ("End Date", "Enddatum"), "date"),
        Field("end_time", ("End Time", "Endzeit"), "time"),
        Field("duration", ("Duration (h)", "Dauer (h)"), "duration"),
        Field("duration_decimal", ("Duration (decimal)", "Dauer (dezimal)", "Dauer (Dezimalzahl)"),
              "number"),
        Field("rate", (r"re:billable rate \(.*\)", r"re:abrechenbarer tarif \(.*\)"), "number"),
        Field("approved", ("Approved", "Approval", "Approval status", "Genehmigt"), "bool"),
    ),
    signature=("user", "start_date", "start_time", "duration"),
)


def convert(ctx: Ctx) -> pd.DataFrame:
    ctx.attrs["time_style"] = P.time_style(ctx.raw("start_time")) or ""
    rate_col = ctx.cols.get("rate", "")
    if "(" in rate_col:
        ctx.attrs["currency"] = rate_col[rate_col.rfind("(") + 1 : rate_col.rfind(")")]
    d = ctx.dates(["start_date", "end_date"])
    date = d["start_date"]
    ctx.required("start_date", "the start date")
    st = ctx.times("start_time")
    start = combine(date, st.values, st.empty)
    if ctx.has("end_time"):
        et = ctx.times("end_time")
        end_date = d.get("end_date", date)
        end_date = np.where(np.isnat(end_date), date, end_date)
        end = combine(end_date, et.values, et.empty)
        if "end_date" not in d:  # no end date column: a clock time before the start crossed midnight
            crossed = ~np.isnat(end) & ~np.isnat(start) & (end < start)
            end = np.where(crossed, end + np.timedelta64(1, "D"), end)
    else:
        end = np.full(ctx.n, np.datetime64("NaT", "ns"))
    dur = ctx.durations("duration")
    seconds = dur.values
    # no Duration (h) text: fall back on the clock times, then the decimal hours
    spans = (end - start).astype("timedelta64[s]").astype("int64")
    from_clock = dur.empty & ~np.isnat(start) & ~np.isnat(end)
    seconds = np.where(from_clock, spans, seconds)
    still = dur.empty & ~from_clock
    if still.any() and ctx.has("duration_decimal"):
        dec = ctx.numbers("duration_decimal")
        seconds = np.where(still & ~np.isnan(dec.values), np.round(np.nan_to_num(dec.values) * 3600),
                           seconds).astype("int64")
        still &= np.isnan(dec.values)
    ctx.missing(still, "duration", "the duration")
    neg = seconds < 0
    ctx.bad(neg, "duration", "ends before it starts")
    seconds = np.where(neg, 0, seconds)
    billable = bool_column(ctx.bools("billable"), default=False) if ctx.has("billable") else \
        np.zeros(ctx.n, dtype=bool)
    rate = ctx.numbers("rate").values if ctx.has("rate") else np.full(ctx.n, np.nan)
    approved = nullable_bool(ctx.bools("approved")) if ctx.has("approved") else None
    user, email = ctx.text("user"), ctx.text("email")
    person = email.where(email != "", user)
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
        approved=approved,
        entry_id=compose_ids("clockify", person, start, date,
                             ctx.text("client") + ":" + ctx.text("project") + ":" + ctx.text("task")),
    )

