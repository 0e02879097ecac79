"""Any CSV/XLSX of time entries, with the columns named by a ``column_map``.

Without a map, columns are found by their canonical names and common synonyms
(``user``/``employee``, ``date``, ``duration``/``hours``, ``start``/``end``...). A map
names the file's column for each canonical field, e.g.
``{"user": "Staff member", "date": "Day", "duration": "Time spent"}``.
``start``/``end`` may hold times of day or full date-times; ``duration`` may be
``H:MM(:SS)`` or decimal hours. Without a billable column entries count as not billable.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd

from .. import schema as S
from ..errors import SettingsError
from . import _parse as P
from ._common import (
    Ctx,
    Field,
    Layout,
    billable_flags,
    canonical,
    combine,
    compose_ids,
    header_key,
    nullable_bool,
)

FIELDS = (
    Field("entry_id", ("entry_id", "entry id", "id", "time entry id")),
    Field("user", ("user", "employee", "member", "person", "staff", "worker", "name")),
    Field("email", ("email", "e-mail")),
    Field("client", ("client", "customer")),
    Field("project", ("project", "job")),
    Field("task", ("task", "service", "service item", "activity")),
    Field("description", ("description", "notes", "note", "memo", "comment")),
    Field("tags", ("tags", "tag")),
    Field("date", ("date", "work date", "day"), "date"),
    Field("start", ("start", "start time", "started", "from"), "datetime"),
    Field("end", ("end", "end time", "stop", "to"), "datetime"),
    Field("duration", ("duration", "time spent"), "duration"),
    Field("hours", ("hours", "hours worked", "decimal hours"), "number"),
    Field("billable", ("billable", "is billable"), "bool"),
    Field("billable_rate", ("billable_rate", "billable rate", "rate", "hourly rate"), "number"),
    Field("approved", ("approved", "approval"), "bool"),
)
FIELD_NAMES = tuple(f.name for f in FIELDS)

LAYOUT = Layout(
    source="generic",
    title="generic time export",
    fields=FIELDS,
    signature=("user", "date"),
    alternatives=(("duration",), ("hours",), ("start", "end")),
)


def layout_for(column_map: Mapping[str, str] | None) -> Layout:
    """The generic layout with ``column_map`` naming the file's columns first."""
    if not column_map:
        return LAYOUT
    unknown = sorted(set(column_map) - set(FIELD_NAMES))
    if unknown:
        raise SettingsError(
            f"column_map names unknown fields {unknown}; allowed: {', '.join(FIELD_NAMES)}",
            setting="column_map",
        )
    fields = tuple(
        Field(f.name, (column_map[f.name],), f.kind) if f.name in column_map else f for f in FIELDS
    )
    # the header row is the one holding any mapped column; check_map then names the
    # mapped columns that are missing from it
    return Layout(
        source="generic",
        title=f"generic time export with columns {sorted(column_map.values())}",
        fields=fields,
        signature=(),
        alternatives=tuple((n,) for n in FIELD_NAMES if n in column_map),
    )


def check_map(column_map: Mapping[str, str], header: list[str], file: str) -> None:
    keys = {header_key(h) for h in header}
    missing = [v for v in column_map.values() if header_key(v) not in keys]
    if missing:
        raise SettingsError(
            f"column_map names columns that are not in the file: {missing}; "
            f"the file has {header}",
            setting="column_map",
            file=file,
        )


def _clock(ctx: Ctx, name: str, date: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    raw = ctx.raw(name).fillna("").str.strip()
    parts = raw.str.extract(r"^(\S+)[ T](\d{1,2}[:.]\d{2}.*)$")
    has_day = parts[0].notna().to_numpy()
    day = date
    if has_day.any():
        codes, uniques = P._factorize(parts[0].fillna(""))
        dparts = P.date_parts(uniques)
        dayfirst = ctx.attrs.get("date_order") == "DD/MM/YYYY"
        values, _bad = P.build_dates(dparts, dayfirst=dayfirst)
        day = np.where(has_day, P._spread(codes, values, np.datetime64("NaT", "ns")), date)
    times = P.parse_times(parts[1].where(parts[1].notna(), raw))
    ctx.bad(times.bad, name, "not a time (expected 09:00, 9:00 AM or 2026-11-03 09:00)")
    return combine(day, times.values, times.empty), has_day


def convert(ctx: Ctx) -> pd.DataFrame:
    if ctx.has("start"):
        ctx.attrs["time_style"] = P.time_style(ctx.raw("start")) or ""
    date = ctx.dates(["date"])["date"]
    ctx.required("date", "the date")
    nat = np.full(ctx.n, np.datetime64("NaT", "ns"))
    start, end = nat, nat
    if ctx.has("start"):
        start, _ = _clock(ctx, "start", date)
    if ctx.has("end"):
        end, end_has_day = _clock(ctx, "end", date)
        crossed = ~end_has_day & ~np.isnat(start) & ~np.isnat(end) & (end < start)
        end = np.where(crossed, end + np.timedelta64(1, "D"), end)
    spans = (end - start).astype("timedelta64[s]").astype("int64")
    have_span = ~np.isnat(start) & ~np.isnat(end)
    if ctx.has("duration"):
        dur = ctx.durations("duration")
        seconds, empty = dur.values, dur.empty
    elif ctx.has("hours"):
        seconds, empty = ctx.hours("hours")
    else:
        seconds, empty = np.zeros(ctx.n, dtype="int64"), np.ones(ctx.n, dtype=bool)
    seconds = np.where(empty & have_span, spans, seconds)
    ctx.missing(empty & ~have_span, "duration" if ctx.has("duration") else "hours", "the duration")
    neg = seconds < 0
    ctx.bad(neg, "duration" if ctx.has("duration") else "end", "negative duration")
    seconds = np.where(neg, 0, seconds).astype("int64")
    if not ctx.has("billable"):
        logging.getLogger("qbrecon").info(
            "%s: no billable column; entries are treated as not billable", ctx.table.file
        )
    billable = billable_flags(ctx)
    rate = ctx.numbers("billable_rate").values if ctx.has("billable_rate") else np.full(ctx.n, np.nan)
    approved = nullable_bool(ctx.bools("approved")) if ctx.has("approved") else None
    user, email = ctx.text("user"), ctx.text("email")
    client, project, task = ctx.text("client"), ctx.text("project"), ctx.text("task")
    if ctx.has("entry_id"):
        given = ctx.text("entry_id")
        ctx.missing((given == "").to_numpy(), "entry_id", "the entry id")
        dup = given.duplicated(keep=False) & (given != "")
        ctx.bad(dup.to_numpy(), "entry_id", "the same entry id appears on several rows")
        entry_id = ("generic-" + given).astype(S.STRING)
    else:
        entry_id = compose_ids("generic", email.where(email != "", user), start, date,
                               client + ":" + project + ":" + task, ctx.text("description"))
    return canonical(
        ctx,
        user=user,
        email=email,
        client=client,
        project=project,
        task=task,
        description=ctx.text("description"),
        tags=ctx.text("tags"),
        date=date,
        start=start,
        end=end,
        duration_s=seconds,
        billable=billable,
        rate=rate,
        approved=approved,
        entry_id=entry_id,
    )
