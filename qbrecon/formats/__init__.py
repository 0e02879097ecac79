"""QuickBooks file formats, both ways.

The list readers here parse one file each into :class:`ListRecords`: the raw records of
one QuickBooks list as the file states them (ids, names, parent links, active flags),
with the file and row every record came from. :func:`qbrecon.qblists.lists_from_records`
turns any number of those into a checked :class:`~qbrecon.qblists.QBLists` (tree
rebuilt and checked, text normalised, duplicates across pages and files removed).

Modules:

* :mod:`qbrecon.formats.qbojson` — QuickBooks Online API query responses (JSON).
* :mod:`qbrecon.formats.qboexport` — QuickBooks Online list exports (CSV/XLSX tables).
* :mod:`qbrecon.formats.iif` — QuickBooks Desktop IIF (list export sections; and
  :func:`~qbrecon.formats.iif.export_iif`, timer activities out).
* :mod:`qbrecon.formats.qbxml` — QuickBooks Desktop qbXML (list query responses; and
  ``TimeTrackingAddRq`` building, :func:`~qbrecon.formats.qbxml.export_qbxml`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import schema as S

#: the lists a QuickBooks company has that qbrecon reads, in display order
LIST_KINDS = ("employees", "vendors", "customers", "items", "classes", "payroll_items")
#: lists whose records form a Parent:Child tree (people never do)
TREE_KINDS = ("customers", "items", "classes")

#: the formats, and which QuickBooks product writes them
FORMAT_SYSTEM = {
    "qbo-json": "QuickBooks Online",
    "qbo-export": "QuickBooks Online",
    "iif": "QuickBooks Desktop",
    "qbxml": "QuickBooks Desktop",
}
#: when two formats of the same company state the same record (same full name), the
#: one with QuickBooks' own ids wins: API ids and ListIDs over IIF REFNUMs over names
FORMAT_RANK = {"qbo-json": 3, "qbxml": 3, "iif": 2, "qbo-export": 1}

PARENT_FULL = "parent_full"  # the parent's full name, where a file gives that instead of its id
ROW = "_row"  # where the record is in its file: line (IIF, CSV), spreadsheet row, record number

RAW_TEXT = (S.QB_ID, S.NAME, S.FULL_NAME, S.PARENT_ID, PARENT_FULL,
            S.FIRST_NAME, S.LAST_NAME, S.EMAIL, S.NUMBER, S.ITEM_TYPE)
RAW_COLUMNS = (*RAW_TEXT, S.RATE, S.ACTIVE, ROW)


@dataclass
class ListRecords:
    """The raw records of one QuickBooks list read from one file.

    Attributes:
        kind: which list (one of :data:`LIST_KINDS`).
        frame: one row per record with :data:`RAW_COLUMNS` ("" where the file is
            silent; ``rate`` is NaN and ``active`` NA when the file does not say).
        file: the file the records came from.
        fmt: the format (a key of :data:`FORMAT_SYSTEM`).
        fields: the file's own name for each raw column, for error messages
            (e.g. ``{"parent_id": "ParentRef", "name": "DisplayName"}``).
    """

    kind: str
    frame: pd.DataFrame
    file: str | None
    fmt: str
    fields: Mapping[str, str] = field(default_factory=dict)

    @property
    def system(self) -> str:
        return FORMAT_SYSTEM[self.fmt]


def raw_frame(columns: Mapping[str, Sequence | pd.Series], n: int) -> pd.DataFrame:
    """A raw records frame of ``n`` rows from whatever columns a reader found."""
    out = {}
    for col in RAW_TEXT:
        if col in columns:
            s = pd.Series(columns[col], dtype=object)
            out[col] = s.where(s.notna(), "").astype(str).reset_index(drop=True)
        else:
            out[col] = pd.Series([""] * n, dtype=object)
    rate = columns.get(S.RATE)
    out[S.RATE] = (pd.Series(np.full(n, np.nan)) if rate is None
                   else pd.Series(rate, dtype="float64").reset_index(drop=True))
    active = columns.get(S.ACTIVE)
    out[S.ACTIVE] = (pd.Series([pd.NA] * n, dtype="boolean") if active is None
                     else pd.Series(active, dtype="boolean").reset_index(drop=True))
    row = columns.get(ROW)
    out[ROW] = (pd.Series([pd.NA] * n, dtype="Int64") if row is None
                else pd.Series(row, dtype="Int64").reset_index(drop=True))
    return pd.DataFrame(out)


_TRUE = frozenset({"y", "yes", "true", "t", "1", "active"})
_FALSE = frozenset({"n", "no", "false", "f", "0", "inactive"})


def parse_flags(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Yes/no text (Y/N, yes/no, true/false, 1/0, Active/Inactive) to a boolean Series.

    Returns:
        ``(flags, bad)``: the flags (NA where the cell is empty or unreadable) and a
        boolean mask of the cells that were neither empty nor a recognised flag.
    """
    folded = values.astype(str).str.strip().str.casefold()
    flags = pd.Series(pd.NA, index=values.index, dtype="boolean")
    flags[folded.isin(_TRUE)] = True
    flags[folded.isin(_FALSE)] = False
    bad = flags.isna() & (folded != "") & values.notna()
    return flags, bad


_AMOUNT = r"^\(?-?[$€£¥₺]?\s*-?[\d.,' ]*\d[\d.,' ]*\)?$"


def parse_amounts(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Money amounts as QuickBooks writes them (``120``, ``120.00``, ``"1,250.50"``,
    ``$95.00``) to floats.

    A percentage (``10%``, the price of a discount or markup item) is not an amount:
    it reads as NaN without being an error.

    Returns:
        ``(amounts, bad)``: the amounts (NaN where the cell is empty, a percentage or
        unreadable) and a boolean mask of the cells that were unreadable.

    Example:
        >>> amounts, bad = parse_amounts(pd.Series(["120.00", "$1,250.50", "", "10%", "n/a"]))
        >>> amounts.tolist(), bad.tolist()
        ([120.0, 1250.5, nan, nan, nan], [False, False, False, False, True])
    """
    text = values.astype(object).where(values.notna(), "").astype(str).str.strip()
    percent = text.str.endswith("%")
    numeric = text.str.fullmatch(_AMOUNT) & ~percent
    negative = text.str.startswith("(") & text.str.endswith(")")
    digits = text.where(numeric, "").str.replace(r"[()$€£¥₺\s']", "", regex=True)
    # "1.234,50" and "95,00": a comma before the last one or two digits, with no point
    # after it, is a decimal comma; otherwise commas separate thousands
    decimal_comma = digits.str.contains(r",\d{1,2}$") & ~digits.str.contains(r",.*\.")
    digits = digits.where(
        ~decimal_comma, digits.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    ).str.replace(",", "", regex=False)
    amounts = pd.to_numeric(digits.where(digits != "", None), errors="coerce").astype("float64")
    amounts = amounts.where(~negative, -amounts)
    bad = (text != "") & ~percent & amounts.isna()
    return amounts, bad


def path_leaf(full: pd.Series) -> pd.Series:
    """``"A:B:C"`` -> ``"C"`` (the record's own name in a QuickBooks full name)."""
    return full.astype(str).str.replace(r"^.*:", "", regex=True)


def path_parent(full: pd.Series) -> pd.Series:
    """``"A:B:C"`` -> ``"A:B"``; ``""`` for a top-level name."""
    full = full.astype(str)
    return full.str.replace(r":[^:]*$", "", regex=True).where(full.str.contains(":", regex=False), "")


def decode_text(data: bytes, *, file: str | None = None) -> str:
    """Text of a list file: UTF-8 (with or without BOM), else Windows-1252.

    Raises:
        InputError: the bytes are not text (NUL bytes: binary junk or UTF-16 without BOM).
    """
    from ..errors import InputError, Problem

    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputError("is not a text file", file=file, problems=[
            Problem("binary data (a NUL byte)", row=data[:nul].count(b"\n") + 1)])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:  # the five bytes cp1252 leaves undefined
        return data.decode("latin-1")


__all__ = [
    "FORMAT_RANK",
    "FORMAT_SYSTEM",
    "LIST_KINDS",
    "PARENT_FULL",
    "RAW_COLUMNS",
    "ROW",
    "TREE_KINDS",
    "ListRecords",
    "decode_text",
    "parse_amounts",
    "parse_flags",
    "path_leaf",
    "path_parent",
    "raw_frame",
]
