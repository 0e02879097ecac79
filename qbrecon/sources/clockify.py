"""Clockify Detailed report exports (CSV and XLSX), English and German headers.

See the formats reference: every bracketed column is optional, unknown columns are
ignored, dates follow the exporting user's profile (DD/MM/YYYY or MM/DD/YYYY), times
are 12- or 24-hour with or without seconds, and ``Duration (h)`` may exceed 24 hours.
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
    nullable_bool,
    what_of,
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
    currency_in(ctx, "rate")
    date, start, end, seconds = clock_span(ctx)
    rate = ctx.numbers("rate").values if ctx.has("rate") else np.full(ctx.n, np.nan)
    approved = nullable_bool(ctx.bools("approved")) if ctx.has("approved") else None
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
        approved=approved,
        entry_id=compose_ids("clockify", email.where(email != "", user), start, date, what_of(ctx),
                             note_of(ctx)),
    )
