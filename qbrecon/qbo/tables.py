"""Write result frames to CSV or XLSX for people to read, through qbrecon's shared writers.

Text that a spreadsheet would run (starting with ``=``, ``+``, ``-`` or ``@``) stays inert:
a quoted text cell in XLSX, a leading apostrophe in CSV (see :mod:`qbrecon._io`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from .._io import atomic_path, escape_cell, write_workbook
from ..errors import InputError


def write_frame(frame: pd.DataFrame, path: str | os.PathLike[str], *, sheet: str = "data") -> Path:
    """Write ``frame`` to ``path`` (.csv or .xlsx); returns the path.

    Raises:
        InputError: another extension, or the file cannot be written.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return write_workbook(path, {sheet: frame})
    if suffix != ".csv":
        raise InputError("results can be written as .csv or .xlsx", file=str(path))
    try:
        with atomic_path(path) as tmp:
            frame.astype(object).map(escape_cell).to_csv(tmp, index=False)
    except OSError as exc:
        raise InputError(f"cannot write the file ({exc.strerror or exc})", file=str(path)) from None
    return path


__all__ = ["write_frame"]
