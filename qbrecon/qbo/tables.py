"""Write result and log frames to CSV or XLSX for people to read.

XLSX cells whose text starts with ``=``, ``+``, ``-`` or ``@`` are written as text, never
as formulas, so a description such as ``=HYPERLINK(...)`` cannot run in Excel.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from ..errors import InputError

_FORMULA_START = ("=", "+", "-", "@")


def write_frame(frame: pd.DataFrame, path: str | os.PathLike[str], *, sheet: str = "data") -> Path:
    """Write ``frame`` to ``path`` (.csv or .xlsx); returns the path.

    Raises:
        InputError: another extension, or the file cannot be written.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            frame.to_csv(path, index=False)
        elif suffix == ".xlsx":
            _write_xlsx(frame, path, sheet)
        else:
            raise InputError("results can be written as .csv or .xlsx", file=str(path))
    except OSError as exc:
        raise InputError(f"cannot write the file ({exc.strerror})", file=str(path)) from None
    return path


def _write_xlsx(frame: pd.DataFrame, path: Path, sheet: str) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet[:31]
    ws.append([str(c) for c in frame.columns])
    for values in frame.itertuples(index=False, name=None):
        ws.append([_cell(v) for v in values])
    for cells in ws.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, str) and cell.value.startswith(_FORMULA_START):
                cell.data_type = "s"  # text, not a formula
                cell.quotePrefix = True
    ws.freeze_panes = "A2"
    wb.save(path)


def _cell(value):
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, dict | list):
        return str(value)
    return value


__all__ = ["write_frame"]
