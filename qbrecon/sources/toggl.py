"""Toggl Track Detailed report CSV, legacy (2017–2018, with ``Amount ()``) and current layouts.

Dates are ISO, times 24-hour, ``Duration`` is ``H:MM:SS`` with unpadded hours in the
current layout. Legacy files carry an amount instead of a rate; the hourly rate is
derived from it (amount / tracked hours, to the cent) where both are present.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._common import (
    Ctx,
    Field,
    Layout,
    billable_flags,
    canonical,
    clock_span,
    compose_ids,
    currency_in,
    note_of,
    what_of,
)

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
    date, start, end, seconds = clock_span(ctx)
    if ctx.has("rate"):
        rate = ctx.numbers("rate").values
    elif ctx.has("amount"):
        amount = ctx.numbers("amount").values
        hours = seconds / 3600.0
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.where((hours > 0) & (amount > 0), np.round(amount / hours, 2), np.nan)
        currency_in(ctx, "amount")
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
        billable=billable_flags(ctx),
        rate=rate,
        approved=None,
        entry_id=compose_ids("toggl", email.where(email != "", user), start, date, what_of(ctx),
                             note_of(ctx)),
    )
