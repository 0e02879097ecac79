"""Writing DataFrames to XLSX safely: text that a spreadsheet would run stays text.

A cell whose text starts with ``=``, ``+``, ``-`` or ``@`` is written as a text cell
with Excel's quote prefix, so it is shown as typed and never evaluated as a formula
(the formula-injection class of attack), and reads back as exactly the text written
(unlike :func:`qbrecon._io.escape_cell`, which prepends an apostrophe to the value).
Values keep their types (dates as dates, numbers as numbers); files are written
atomically through :func:`qbrecon._io.atomic_path`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from ._io import FORMULA_PREFIXES, atomic_path
from .errors import InputError

_MAX_WIDTH = 60


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def _text_of(value: object) -> str:
    if isinstance(value, pd.Timedelta):
        secs = int(value.total_seconds())
        sign = "-" if secs < 0 else ""
        h, rest = divmod(abs(secs), 3600)
        return f"{sign}{h}:{rest // 60:02d}:{rest % 60:02d}"
    return str(value)


def _cells(ws, frame: pd.DataFrame, header_font, date_fmt: str, datetime_fmt: str):
    from openpyxl.cell.cell import WriteOnlyCell

    head = []
    for c in frame.columns:
        cell = WriteOnlyCell(ws, value=str(c))
        cell.font = header_font
        if str(c).startswith(FORMULA_PREFIXES):
            cell.data_type = "s"
            cell.quotePrefix = True
        head.append(cell)
    yield head
    columns = [frame[c] for c in frame.columns]
    kinds = []
    for s in columns:
        dt = s.dtype
        kinds.append(
            dt.kind if isinstance(dt, np.dtype) else ("b" if str(dt) == "boolean" else "O")
        )
    for values in zip(*(s.to_numpy(dtype=object) for s in columns), strict=True):
        row = []
        for v, kind in zip(values, kinds, strict=True):
            if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
                row.append(None)
            elif kind == "M" or isinstance(v, (datetime, date)):
                ts = pd.Timestamp(v)
                cell = WriteOnlyCell(ws, value=ts.to_pydatetime())
                cell.number_format = date_fmt if ts == ts.normalize() else datetime_fmt
                row.append(cell)
            elif kind == "m" or isinstance(v, pd.Timedelta):
                row.append(_text_of(pd.Timedelta(v)))
            elif isinstance(v, (bool, np.bool_)):
                row.append(bool(v))
            elif isinstance(v, (int, np.integer)):
                row.append(int(v))
            elif isinstance(v, (float, np.floating)):
                row.append(float(v))
            else:
                text = str(v)
                if text.startswith(FORMULA_PREFIXES):
                    cell = WriteOnlyCell(ws, value=text)
                    cell.data_type = "s"
                    cell.quotePrefix = True
                    row.append(cell)
                else:
                    row.append(text)
        yield row


def write_workbook(
    path: str | os.PathLike[str],
    sheets: Mapping[str, pd.DataFrame | Sequence[pd.DataFrame]],
) -> Path:
    """Write frames to an XLSX file, one sheet each (a list of frames is stacked with a gap).

    Dates are written as dates, durations as ``H:MM:SS`` text, missing values as empty
    cells, and text starting with ``= + - @`` as quoted text (never a formula).

    Raises:
        InputError: the file cannot be written (for example, it is open in Excel).
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    path = Path(path)
    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    for name, frames in sheets.items():
        ws = wb.create_sheet(title=str(name)[:31])
        frames = [frames] if isinstance(frames, pd.DataFrame) else list(frames)
        widths: dict[int, int] = {}
        for f in frames:
            for j, c in enumerate(f.columns):
                sample = max((len(_text_of(v)) for v in f[c].head(200).tolist()), default=0)
                widths[j] = min(_MAX_WIDTH, max(widths.get(j, 0), len(str(c)), sample) + 2)
        for j, width in widths.items():
            ws.column_dimensions[get_column_letter(j + 1)].width = width
        if frames and len(frames) == 1:
            ws.freeze_panes = "A2"
        for k, f in enumerate(frames):
            if k:
                ws.append([])
            for row in _cells(ws, f, bold, "yyyy-mm-dd", "yyyy-mm-dd hh:mm:ss"):
                ws.append(row)
    try:
        with atomic_path(path) as tmp:
            wb.save(tmp)
    except OSError as exc:
        raise InputError(
            f"cannot write the workbook: {exc.strerror or exc}", file=str(path)
        ) from exc
    return path


__all__ = ["FORMULA_PREFIXES", "atomic_write_bytes", "write_workbook"]
