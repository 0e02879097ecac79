"""File output helpers shared by every writer: atomic writes and safe spreadsheets."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import pandas as pd

#: a text cell starting with one of these would be a formula (or DDE) in a spreadsheet
FORMULA_PREFIXES = ("=", "+", "-", "@")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` atomically.

    A crash mid-write leaves the old file (or none), never half of a new one. ``mode``
    sets the permissions before the file becomes visible under its name.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        if mode is not None:
            os.chmod(tmp_path, mode)
        yield tmp_path
        if mode is not None:
            os.chmod(tmp_path, mode)
        with open(tmp_path, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def escape_cell(value: object) -> object:
    """A text value that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def unescape_text(value: object) -> object:
    """Undo :func:`escape_cell` for a value read back from a workbook qbrecon wrote."""
    if isinstance(value, str) and value.startswith("'") and value[1:2] in FORMULA_PREFIXES and value[1:2]:
        return value[1:]
    return value


def _cell_value(v: object) -> object:
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float) and v != v:
        return None
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if isinstance(v, pd.Timedelta):
        return str(v)
    return escape_cell(v)


def write_sheets(
    path: str | os.PathLike[str],
    sheets: Mapping[str, pd.DataFrame],
    *,
    widths: bool = True,
    freeze: bool = True,
    autofilter: bool = True,
) -> Path:
    """Write frames as sheets of one XLSX file: bold frozen header, filters, sensible
    widths, text cells escaped (see :func:`escape_cell`). Written atomically."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    for name, df in sheets.items():
        ws = wb.create_sheet(title=name[:31])
        ws.append([str(c) for c in df.columns])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in df.itertuples(index=False, name=None):
            ws.append([_cell_value(v) for v in row])
        if freeze:
            ws.freeze_panes = "A2"
        if autofilter and len(df.columns):
            ws.auto_filter.ref = ws.dimensions
        if widths:
            for j, col in enumerate(df.columns, start=1):
                sample = df[col].head(500).astype(str)
                longest = max([len(str(col)), *sample.str.len().tolist()]) if len(sample) else len(str(col))
                ws.column_dimensions[get_column_letter(j)].width = min(60, max(8, longest + 2))
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return Path(path)
