"""File output shared by every writer: atomic writes, CSV and XLSX that stay inert.

Text that a spreadsheet would run (starting with ``=``, ``+``, ``-`` or ``@``, the
formula-injection class of attack) is neutralised wherever qbrecon writes it:

* in XLSX it is a text cell with Excel's quote prefix — exactly what Excel stores when
  a person types ``'=...`` — so it shows as typed, is never evaluated, and reads back as
  the same text;
* in CSV, which has no cell types, it gets a leading apostrophe (:func:`escape_cell`),
  which qbrecon's readers remove again (:func:`unescape_text`).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import OutputError

#: a text cell starting with one of these would be a formula (or DDE) in a spreadsheet
FORMULA_PREFIXES = ("=", "+", "-", "@")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` atomically.

    A crash mid-write leaves the old file (or none), never half of a new one. ``mode``
    sets the permissions before the file becomes visible under its name.
    """
    target = writable_target(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
    except OSError as exc:
        raise _cannot_write(target, exc) from None
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
    except OSError as exc:  # no space left, permissions changed mid-way, ...
        raise _cannot_write(target, exc) from None
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def writable_target(path: str | os.PathLike[str]) -> Path:
    """``path`` as a place a file can be written: not a folder, its folder made if missing.

    Writers call it before the work of building their output, so a wrong path fails fast.

    Raises:
        OutputError: ``path`` is a folder, or its folder cannot be made.
    """
    target = Path(path)
    if target.is_dir():
        raise OutputError("is a folder: give the name of a file to write", file=str(target))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _cannot_write(target, exc) from None
    return target


def _cannot_write(target: Path, exc: OSError) -> OutputError:
    return OutputError(f"cannot write the file: {exc.strerror or exc}", file=str(target))


def escape_cell(value: object) -> object:
    """For CSV: a text value that a spreadsheet would run gets a leading apostrophe.

    So does one that already starts with apostrophes before such a character (``'=x``),
    so that :func:`unescape_text` gives every value back exactly.
    """
    if isinstance(value, str) and value.lstrip("'").startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def unescape_text(value: object) -> object:
    """Undo :func:`escape_cell` for a value read back from a workbook qbrecon wrote."""
    if (isinstance(value, str) and value[:1] == "'"
            and value.lstrip("'").startswith(FORMULA_PREFIXES)):
        return value[1:]
    return value


def text_cell(cell, text: str):
    """Store ``text`` in an openpyxl cell as text: never a formula, even if it looks like one."""
    cell.value = text
    cell.data_type = "s"  # openpyxl would otherwise store "=..." as a formula
    if text.startswith(FORMULA_PREFIXES):
        cell.quotePrefix = True  # and Excel keeps it text when the cell is edited
    return cell


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


_MAX_WIDTH = 60


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
        cell = text_cell(WriteOnlyCell(ws), str(c))
        cell.font = header_font
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
                row.append(text_cell(WriteOnlyCell(ws), text) if text.startswith(FORMULA_PREFIXES)
                           else text)
        yield row


def write_workbook(
    path: str | os.PathLike[str],
    sheets: Mapping[str, pd.DataFrame | Sequence[pd.DataFrame]],
) -> Path:
    """Write frames to an XLSX file, one sheet each (a list of frames is stacked with a gap).

    Dates are written as dates, durations as ``H:MM:SS`` text, missing values as empty
    cells, and text starting with ``= + - @`` as quoted text (never a formula).

    Raises:
        OutputError: the file cannot be written (a folder by that name, no permission).
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    path = writable_target(path)
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
            if len(frames[0].columns):
                last = get_column_letter(len(frames[0].columns))
                ws.auto_filter.ref = f"A1:{last}{len(frames[0]) + 1}"
        for k, f in enumerate(frames):
            if k:
                ws.append([])
            for row in _cells(ws, f, bold, "yyyy-mm-dd", "yyyy-mm-dd hh:mm:ss"):
                ws.append(row)
    try:
        with atomic_path(path) as tmp:
            wb.save(tmp)
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    return path
