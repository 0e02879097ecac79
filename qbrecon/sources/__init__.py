"""Time-tracker readers: every export becomes the canonical entries frame.

Supported: Clockify Detailed report (CSV, XLSX; English and German headers), Toggl
Track detailed CSV (legacy and current), Harvest detailed time report, QuickBooks
Time timesheet export, and any CSV/XLSX through a ``column_map``. The source is
detected from the header row, never from the file name.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from .. import schema as S
from ..errors import InputError, SettingsError
from . import clockify, generic, harvest, qbtime, toggl
from ._common import Ctx, Field, Layout, check_duplicate_columns
from ._read import RawTable, read_table

log = logging.getLogger("qbrecon")

_CLOCKIFY_SUMMARY = Layout(
    source="clockify-summary",
    title="Clockify Summary report",
    fields=(Field("time", ("Time (h)", "Zeit (h)")), Field("project", ("Project", "Projekt"))),
    signature=("time",),
    forbidden=("Start Date", "Startdatum"),
)

#: detection order: the most specific layouts first, the generic one last
LAYOUTS: tuple[Layout, ...] = (
    clockify.LAYOUT,
    toggl.LAYOUT,
    harvest.LAYOUT,
    qbtime.LAYOUT,
    generic.LAYOUT,
)
_CONVERT = {
    "clockify": clockify.convert,
    "toggl": toggl.convert,
    "harvest": harvest.convert,
    "qbtime": qbtime.convert,
    "generic": generic.convert,
}
SOURCES = ("auto", *S.SOURCES)
_FILE_SUFFIXES = {".csv", ".tsv", ".txt", ".xlsx", ".xlsm"}


def _pick_layouts(source: str, column_map: Mapping[str, str] | None) -> tuple[Layout, ...]:
    if source not in SOURCES:
        raise SettingsError(
            f"unknown source {source!r}; allowed: {', '.join(SOURCES)}", setting="source"
        )
    if column_map:
        if source not in ("auto", "generic"):
            raise SettingsError(
                "column_map is only for source='generic' (or 'auto')", setting="column_map"
            )
        return (generic.layout_for(column_map),)
    if source == "auto":
        return LAYOUTS
    return tuple(layout for layout in LAYOUTS if layout.source == source)


def detect_source(path: str | os.PathLike[str]) -> str:
    """The tracker that made an export, from its header row.

    Raises:
        InputError: no known layout matches (the message shows the header found).

    Example:
        >>> detect_source("Clockify_Time_Report_Detailed.csv")  # doctest: +SKIP
        'clockify'
    """
    table = _read(Path(path), (*LAYOUTS, _CLOCKIFY_SUMMARY), sheet=None)
    return _layout_of(table, (*LAYOUTS, _CLOCKIFY_SUMMARY)).source


def _read(path: Path, layouts: tuple[Layout, ...], sheet: str | None) -> RawTable:
    def is_header(fields: list[str]) -> bool:
        return any(layout.matches(fields) for layout in layouts)

    def describe() -> str:
        return " or ".join(layout.describe() for layout in layouts)

    def kinds_for(header: list[str]) -> dict[str, str]:
        return _layout_of_header(header, layouts).kinds(header)

    return read_table(path, is_header=is_header, describe=describe, kinds_for=kinds_for, sheet=sheet)


def _layout_of_header(header: list[str], layouts: tuple[Layout, ...]) -> Layout:
    return next(layout for layout in layouts if layout.matches(header))


def _layout_of(table: RawTable, layouts: tuple[Layout, ...]) -> Layout:
    return _layout_of_header(table.header, layouts)


def _files_in(folder: Path) -> list[Path]:
    files = sorted(
        p for p in folder.rglob("*")
        if p.is_file() and p.suffix.lower() in _FILE_SUFFIXES and not p.name.startswith((".", "~$"))
    )
    if not files:
        raise InputError("the folder holds no CSV or XLSX files", file=str(folder))
    return files


def read_time_entries(
    path: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    source: str = "auto",
    dayfirst: bool | None = None,
    column_map: Mapping[str, str] | None = None,
    sheet: str | None = None,
) -> pd.DataFrame:
    """Read a time-tracker export (CSV or XLSX) into the canonical entries frame.

    Args:
        path: an export file; also a folder (every CSV/XLSX inside) or a list of files,
            whose entries are concatenated (an entry present in several files, as with
            overlapping date ranges, is kept once).
        source: "auto" (detect from the header), "clockify", "toggl", "harvest",
            "qbtime" or "generic".
        dayfirst: the date order to use when the file cannot tell (no day above 12).
            When the data shows the order, it wins, and a contradicting setting is an error.
        column_map: for generic files, the file's column for each canonical field,
            e.g. ``{"user": "Staff", "date": "Day", "duration": "Time spent"}``.
        sheet: for XLSX, the sheet to read (default: the first with a known header).

    Returns:
        One row per entry with the columns and dtypes of ``schema.ENTRY_DTYPES``. The
        frame's ``attrs`` record the file, the source, the date order and why it was chosen.

    Raises:
        InputError: unknown layout, or unreadable values; lists every bad row and column.
        SettingsError: an unknown source or column_map field.

    Example:
        >>> from qbrecon.samples import samples_dir
        >>> entries = read_time_entries(next((samples_dir() / "toggl").glob("*.csv")))
        >>> entries["source"].iloc[0]
        'toggl'
    """
    if path is None or not isinstance(path, (str, os.PathLike, Iterable)):
        raise SettingsError(
            f"read_time_entries needs a file path, a folder or a list of files, "
            f"not {type(path).__name__}", setting="path")
    if isinstance(path, (list, tuple, set)) or (
        not isinstance(path, (str, os.PathLike)) and isinstance(path, Iterable)
    ):
        return _read_many([Path(p) for p in path], source, dayfirst, column_map, sheet)
    p = Path(path)
    if p.is_dir():
        return _read_many(_files_in(p), source, dayfirst, column_map, sheet)
    layouts = _pick_layouts(source, column_map)
    search = layouts + ((_CLOCKIFY_SUMMARY,) if source in ("auto", "clockify") and not column_map else ())
    table = _read(p, search, sheet)
    layout = _layout_of(table, search)
    if layout is _CLOCKIFY_SUMMARY:
        raise InputError(
            "this is a Clockify Summary report: it holds totals, not time entries; "
            "export Reports → Time → Detailed instead",
            file=str(p),
        )
    if column_map:
        generic.check_map(column_map, table.header, str(p))
    ctx = Ctx(table=table, layout=layout, dayfirst=dayfirst)
    check_duplicate_columns(table, ctx.cols)
    frame = _CONVERT[layout.source](ctx)
    if ctx.problems:
        rows = {pr.row for pr in ctx.problems}
        raise InputError(
            f"{len(rows)} row(s) of this {layout.title} cannot be read",
            file=str(p),
            problems=sorted(ctx.problems, key=lambda pr: (pr.row or 0, pr.column or "")),
        )
    frame.attrs.update(
        {"file": str(p), "source": layout.source, "layout": layout.title, **ctx.attrs}
    )
    if table.encoding:
        frame.attrs["encoding"] = table.encoding
    log.info("%s: %d entries read as %s", p, len(frame), layout.title)
    return frame


def _read_many(files, source, dayfirst, column_map, sheet) -> pd.DataFrame:
    if not files:
        raise InputError("no files given")
    frames, problems = [], []
    for f in files:
        try:
            frames.append(read_time_entries(f, source=source, dayfirst=dayfirst,
                                            column_map=column_map, sheet=sheet))
        except InputError as exc:  # collect every file's problems into one error
            problems.extend(
                [pr if pr.file else _with_file(pr, exc.file) for pr in exc.problems]
                or [_with_file(_as_problem(exc), exc.file)]
            )
    if problems:
        raise InputError(f"{len({pr.file for pr in problems})} file(s) cannot be read",
                         problems=problems)
    out = pd.concat(frames, ignore_index=True)
    dup = out.duplicated(S.ENTRY_ID, keep="first")
    if dup.any():
        log.info("%d entries appear in more than one file; each is kept once", int(dup.sum()))
        out = out.loc[~dup].reset_index(drop=True)
    out.attrs = {"files": [str(f) for f in files]}
    return out


def _as_problem(exc: InputError):
    from ..errors import Problem

    return Problem(exc.summary)


def _with_file(problem, file):
    from dataclasses import replace

    return replace(problem, file=file)


def summarize_entries(entries: pd.DataFrame) -> str:
    """A short human-readable account of loaded entries (for the CLI and notebooks)."""
    e = entries
    if e.empty:
        return "0 time entries"
    hours = e[S.DURATION].dt.total_seconds() / 3600
    lines = [
        f"{len(e)} time entries from {', '.join(sorted(e[S.SOURCE].unique()))}",
        f"  dates      {e[S.DATE].min():%Y-%m-%d} .. {e[S.DATE].max():%Y-%m-%d}",
        f"  people     {e[S.USER].nunique()}",
        f"  clients    {e.loc[e[S.CLIENT] != '', S.CLIENT].nunique()}, "
        f"projects {e.loc[e[S.PROJECT] != '', S.PROJECT].nunique()}",
        f"  hours      {hours.sum():.2f} tracked, {hours[e[S.BILLABLE]].sum():.2f} billable",
    ]
    notes = []
    if (e[S.PROJECT] == "").any():
        notes.append(f"{int((e[S.PROJECT] == '').sum())} without a project")
    if (~e[S.BILLABLE]).any():
        notes.append(f"{int((~e[S.BILLABLE]).sum())} not billable")
    unapproved = (e[S.APPROVED] == False).fillna(False)  # noqa: E712
    if unapproved.any():
        notes.append(f"{int(unapproved.sum())} not approved")
    long_ = e[S.DURATION] > pd.Timedelta(hours=23, minutes=55)
    if long_.any():
        notes.append(f"{int(long_.sum())} longer than 23:55")
    zero = e[S.DURATION] <= pd.Timedelta(0)
    if zero.any():
        notes.append(f"{int(zero.sum())} of zero length")
    crossing = (e[S.END].dt.normalize() > e[S.START].dt.normalize()).fillna(False)
    if crossing.any():
        notes.append(f"{int(crossing.sum())} crossing midnight")
    if notes:
        lines.append("  to look at " + "; ".join(notes))
    order = e.attrs.get("date_order")
    if order:
        lines.append(f"  date order {order} ({e.attrs.get('date_order_reason', 'unambiguous')})")
    return "\n".join(lines)


def write_entries(entries: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write canonical entries as CSV or XLSX (by suffix); XLSX text cells are escaped."""
    from .._io import atomic_path, write_workbook

    p = Path(path)
    if p.suffix.lower() == ".xlsx":
        return write_workbook(p, {"entries": entries})
    if p.suffix.lower() != ".csv":
        raise SettingsError(
            f"cannot tell how to write {p.name!r}: the name must end in .csv or .xlsx",
            file=str(p),
            setting="out",
        )
    out = entries.copy()
    out[S.DURATION] = out[S.DURATION].dt.total_seconds().map(_hms)
    with atomic_path(p) as tmp:
        out.to_csv(tmp, index=False, date_format="%Y-%m-%d %H:%M:%S")
    return p


def _hms(seconds: float) -> str:
    if seconds != seconds:
        return ""
    s = round(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


__all__ = ["LAYOUTS", "SOURCES", "detect_source", "read_time_entries", "summarize_entries",
           "write_entries"]
