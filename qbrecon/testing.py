"""Build small canonical frames by hand: for examples, notebooks and your own tests.

:func:`make_entries` fills every canonical column from a few values per entry, with
defaults that pass the default rules (billable, a rate of 100.0); :func:`make_mapping`
builds a mapping frame from plain dicts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from . import schema as S

_DEFAULTS: dict[str, Any] = {
    S.SOURCE: "generic",
    S.USER: "",
    S.EMAIL: "",
    S.CLIENT: "",
    S.PROJECT: "",
    S.TASK: "",
    S.DESCRIPTION: "",
    S.TAGS: "",
    S.BILLABLE: True,
    S.BILLABLE_RATE: 100.0,
    S.APPROVED: None,
}


def _duration(value: Any) -> pd.Timedelta:
    if isinstance(value, str) and re.fullmatch(r"-?\d+:\d\d(:\d\d)?", value.strip()):
        sign = -1 if value.strip().startswith("-") else 1
        parts = [int(p) for p in value.strip().lstrip("-").split(":")] + [0]
        return sign * pd.Timedelta(hours=parts[0], minutes=parts[1], seconds=parts[2])
    return pd.Timedelta(value)


def make_entries(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Canonical time entries from a few values each.

    Each row may give any canonical column. ``duration`` may be ``"H:MM"`` or
    ``"H:MM:SS"``; given ``start`` and ``duration`` the ``end`` is derived, given
    ``start`` and ``end`` the duration is. ``date`` defaults to the start's day, else
    2026-11-02. Ids default to ``e1, e2, ...`` and rows to 2, 3, ... (as in a CSV).

    Example:
        >>> e = make_entries([{"user": "Ada", "start": "2026-11-02 09:00", "duration": "1:30"}])
        >>> e.loc[0, "entry_id"], str(e.loc[0, "end"]), bool(e.loc[0, "billable"])
        ('e1', '2026-11-02 10:30:00', True)
    """
    records = []
    for i, row in enumerate(rows):
        unknown = set(row) - set(S.ENTRY_COLUMNS)
        if unknown:
            raise ValueError(f"not canonical entry columns: {sorted(unknown)}")
        r = {**_DEFAULTS, **row}
        r.setdefault(S.ENTRY_ID, f"e{i + 1}")
        r.setdefault(S.ROW, i + 2)
        start = pd.Timestamp(r[S.START]) if r.get(S.START) is not None else pd.NaT
        end = pd.Timestamp(r[S.END]) if r.get(S.END) is not None else pd.NaT
        if r.get(S.DURATION) is not None:
            duration = _duration(r[S.DURATION])
        elif start is not pd.NaT and end is not pd.NaT:
            duration = end - start
        else:
            duration = pd.Timedelta(hours=1)
        if start is not pd.NaT and end is pd.NaT and S.END not in row:
            end = start + duration
        if r.get(S.DATE) is not None:
            day = pd.Timestamp(r[S.DATE]).normalize()
        elif start is not pd.NaT:
            day = start.normalize()
        else:
            day = pd.Timestamp("2026-11-02")
        r.update({S.START: start, S.END: end, S.DURATION: duration, S.DATE: day})
        records.append(r)
    frame = (
        pd.DataFrame.from_records(records, columns=S.ENTRY_COLUMNS)
        if records
        else S.empty_frame(S.ENTRY_DTYPES)
    )
    frame[S.APPROVED] = pd.array(
        [
            None if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else bool(v)
            for v in frame[S.APPROVED]
        ],
        dtype="boolean",
    )
    return S.conform(frame, S.ENTRY_DTYPES, what="entries", extra=False)


def make_mapping(
    *,
    employee: Mapping[str, str | tuple[str, str] | tuple[str, str, str]] | None = None,
    customer: Mapping[str, str | tuple[str, str]] | None = None,
    item: Mapping[str, str | tuple[str, str]] | None = None,
) -> pd.DataFrame:
    """A mapping frame: ``{source name: qb_id}`` or ``{source name: (qb_id, qb_name[, qb_type])}``.

    Example:
        >>> make_mapping(employee={"Ada": ("55", "Ada Lovelace", "Vendor")}).values.tolist()
        [['employee', 'Ada', '55', 'Ada Lovelace', 'Vendor']]
    """
    rows = []
    for kind, pairs in (("employee", employee), ("customer", customer), ("item", item)):
        for name, value in (pairs or {}).items():
            v = (value,) if isinstance(value, str) else tuple(value)
            qb_id = v[0]
            qb_name = v[1] if len(v) > 1 else name
            qb_type = v[2] if len(v) > 2 else ""
            rows.append((kind, name, qb_id, qb_name, qb_type))
    frame = pd.DataFrame(rows, columns=[*S.MAPPING_COLUMNS, S.QB_TYPE])
    return frame.astype(S.STRING)


__all__ = ["make_entries", "make_mapping"]
