"""Harvest Detailed time report CSV/XLSX.

Decimal ``Hours`` only (no clock times), the person split into ``First Name`` and
``Last Name``, ``Approved?``, amounts with thousands separators (``"1,060.2"``) or a
decimal comma in some locales.

Harvest exports carry no entry id and no clock time, so ids are made from who, the day,
client/project/task and the notes; only entries alike in all of these are numbered in
file order. An entry added later on the same day and project therefore cannot take over
the id of one already sent (it would be sent twice otherwise), and an entry whose hours
are corrected keeps its id (reported as edited after sending). The price: an entry whose
notes are edited after sending gets a new id (see ``compose_ids``).
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
    compose_ids,
    join_name,
    nullable_bool,
)

LAYOUT = Layout(
    source="harvest",
    title="Harvest detailed time report",
    fields=(
        Field("date", ("Date", "Spent Date"), "date"),
        Field("client", ("Client",)),
        Field("project", ("Project",)),
        Field("project_code", ("Project Code",)),
        Field("task", ("Task",)),
        Field("notes", ("Notes",)),
        Field("hours", ("Hours",), "number"),
        Field("hours_rounded", ("Hours Rounded",), "number"),
        Field("billable", ("Billable?", "Billable"), "bool"),
        Field("approved", ("Approved?", "Approved"), "bool"),
        Field("first", ("First Name", "First name"),),
        Field("last", ("Last Name", "Last name"),),
        Field("employee_id", ("Employee Id", "Employee ID"),),
        Field("rate", ("Billable Rate",), "number"),
        Field("currency", ("Currency",),),
    ),
    signature=("date", "hours", "first", "last"),
)


def convert(ctx: Ctx) -> pd.DataFrame:
    date = ctx.dates(["date"])["date"]
    ctx.required("date", "the date")
    seconds, empty = ctx.hours("hours")
    ctx.missing(empty, "hours", "the hours")
    user = join_name(ctx.text("first"), ctx.text("last"))
    billable = billable_flags(ctx)
    approved = nullable_bool(ctx.bools("approved")) if ctx.has("approved") else None
    rate = ctx.numbers("rate").values if ctx.has("rate") else np.full(ctx.n, np.nan)
    if ctx.has("currency"):
        cur = ctx.text("currency")
        if len(cur):
            ctx.attrs["currency"] = str(cur.iloc[0])
    person = ctx.text("employee_id")
    person = person.where(person != "", user)
    nat = np.full(ctx.n, np.datetime64("NaT", "ns"))
    client, project, task = ctx.text("client"), ctx.text("project"), ctx.text("task")
    notes = ctx.text("notes")
    return canonical(
        ctx,
        user=user,
        email=pd.Series([""] * ctx.n),
        client=client,
        project=project,
        task=task,
        description=notes,
        tags=pd.Series([""] * ctx.n),
        date=date,
        start=nat,
        end=nat,
        duration_s=seconds,
        billable=billable,
        rate=rate,
        approved=approved,
        entry_id=compose_ids("harvest", person, nat, date, client + ":" + project + ":" + task,
                             notes),
    )
