"""QuickBooks Online list exports: the tables of customers, employees, vendors and
products/services that QuickBooks Online exports to Excel or CSV.

These exports are meant for people, so they vary: report exports put a title block
(company name, report title, date range) above the header and a timestamp line below
the data; the list pages export plain tables. The reader therefore finds the header
row itself (within the first :data:`HEADER_SCAN` rows), tells the list from the name
column's header, and ignores title and footer lines.

Recognised name columns (case and spacing ignored):

=============  ==============================================================
list           name column
=============  ==============================================================
customers      Customer, Customer full name, Customer name, Customer/Project
employees      Employee, Employee name, Employee full name
vendors        Vendor, Vendor name, Supplier, Supplier name
items          Product/Service, Product/Service name, Product/Service full name,
               Item, Item name
=============  ==============================================================

A table whose name column is just ``Name`` or ``Display Name`` is read when the file
name says which list it is (``Customers.csv``, ``employee_list.xlsx``...). Other
columns used when present: ``Id``; ``Status`` (Active/Inactive) or ``Active``;
``Email``; ``First name``/``Last name``; ``Employee ID``; ``Account #`` (vendors);
``Type`` (items); ``Parent``/``Sub-customer of`` (customers) and ``Category`` (items);
the rate: ``Sales price/rate``, ``Sales price``, ``Price`` or ``Rate`` (items),
``Bill rate``, ``Billing rate`` or ``Hourly rate`` (employees, vendors).
Sub-customers may also be written ``Parent:Child`` in the name column.

These exports carry no QuickBooks ids unless an ``Id`` column was added: a record's
``qb_id`` is then its full name. The exact column names of QuickBooks Online's exports
change between releases and regions; the aliases above cover the common ones.

Example:
    >>> table = [["Harborlight Design Studio"], ["Customer Contact List"], [],
    ...          ["Customer", "Phone Numbers", "Email"],
    ...          ["Acme & Sons, LLC", "", "ap@acme.example"],
    ...          ["Acme & Sons, LLC:Website Redesign", "", ""]]
    >>> rec = qbo_export_records(table, file="contacts.csv")
    >>> rec.kind, rec.frame["full_name"].tolist(), rec.frame["_row"].tolist()
    ('customers', ['Acme & Sons, LLC', 'Acme & Sons, LLC:Website Redesign'], [5, 6])
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import PurePath

import pandas as pd

from .. import schema as S
from ..errors import InputError, Problem
from . import (
    PARENT_FULL,
    ROW,
    ListRecords,
    parse_amounts,
    parse_flags,
    path_leaf,
    path_parent,
    raw_frame,
)

#: rows searched for the header line
HEADER_SCAN = 30

NAME_COLUMNS = {
    "customers": ("customer", "customer full name", "customer name", "customer/project",
                  "customer display name", "customer:job"),
    "employees": ("employee", "employee name", "employee full name", "employee display name"),
    "vendors": ("vendor", "vendor name", "vendor display name", "supplier", "supplier name"),
    "items": ("product/service", "product/service name", "product/service full name",
              "product / service", "item", "item name"),
}
GENERIC_NAME_COLUMNS = ("name", "display name", "display name as")
#: words in a file name that say which list a table with a generic name column is
FILE_HINTS = {"customer": "customers", "client": "customers", "employee": "employees",
              "vendor": "vendors", "supplier": "vendors", "product": "items", "item": "items",
              "service": "items"}

_OTHER = {
    S.QB_ID: ("id", "qb id", "quickbooks id", "list id"),
    "status": ("status",),
    S.ACTIVE: ("active", "is active", "active?"),
    S.EMAIL: ("email", "e-mail", "email address", "primary email"),
    S.FIRST_NAME: ("first name", "given name"),
    S.LAST_NAME: ("last name", "family name"),
}
_NUMBER = {"employees": ("employee id", "employee no.", "employee number", "employee #", "emp. id"),
           "vendors": ("account #", "account no.", "account number", "acct num")}
_PARENT = {"customers": ("parent", "parent customer", "sub-customer of", "parent customer name"),
           "items": ("parent", "category", "sub-product/service of")}
_TYPE = ("type", "item type", "product/service type")
#: the rate columns: a person's billing rate, an item's sales price
_RATE = {"employees": ("bill rate", "billing rate", "bill rate (/hr)", "billing rate (/hr)",
                       "hourly rate", "rate"),
         "vendors": ("bill rate", "billing rate", "bill rate (/hr)", "billing rate (/hr)",
                     "hourly rate", "rate"),
         "items": ("sales price/rate", "sales price / rate", "price/rate", "sales price", "price",
                   "rate", "unit price")}
_ITEM_TYPES = {"service": "Service", "noninventory": "NonInventory", "inventory": "Inventory",
               "bundle": "Group", "group": "Group", "category": "Category",
               "othercharge": "OtherCharge"}

_FOOTER = re.compile(r"^(?:accrual|cash) basis\b|\b\d{1,2}:\d{2}(?::\d{2})?\s*(?:am|pm)\b"
                     r"|\bgmt\s*[+-]\s*\d|^total\b", re.IGNORECASE)


def _norm(cell: str) -> str:
    return " ".join(str(cell).replace("*", " ").split()).casefold().rstrip(":")


def _find_header(table: Sequence[Sequence[str]], hint: str | None) -> tuple[int, str, int] | None:
    """(header row index, list kind, name column index), or None.

    The header is the first row with two or more cells (title lines above it have one),
    or a lone cell that is itself a name column; it must hold a recognised name column.
    """
    for i, row in enumerate(table[:HEADER_SCAN]):
        cells = [_norm(c) for c in row]
        filled = [c for c in cells if c]
        if not filled:
            continue
        lone_name = len(filled) == 1 and any(filled[0] in names for names in NAME_COLUMNS.values())
        if len(filled) < 2 and not lone_name:
            continue
        for kind, names in NAME_COLUMNS.items():
            for j, c in enumerate(cells):
                if c in names:
                    return i, kind, j
        if hint:
            for j, c in enumerate(cells):
                if c in GENERIC_NAME_COLUMNS:
                    return i, hint, j
        return None
    return None


def _file_hint(file: str | None) -> str | None:
    if not file:
        return None
    stem = PurePath(file).stem.casefold()
    for word, kind in FILE_HINTS.items():
        if word in stem:
            return kind
    return None


def qbo_export_records(
    table: Sequence[Sequence[str]],
    *,
    file: str | None = None,
    sheet: str | None = None,
) -> ListRecords | None:
    """The list records in one exported table (rows of cell texts), or None when the
    table is not a QuickBooks Online list export.

    Args:
        table: the rows as read from the CSV or the worksheet, every cell as text.
        file: the file, for error messages and for the list hint in its name.
        sheet: the worksheet name, for error messages.

    Raises:
        InputError: records without a name, or with a status that is neither active
            nor inactive; every one listed with its row and column.
    """
    found = _find_header(table, _file_hint(file))
    if found is None:
        return None
    hrow, kind, name_col = found
    header = [str(c).strip() for c in table[hrow]]
    cells = {_norm(c): j for j, c in reversed(list(enumerate(header))) if _norm(c)}

    def col_of(aliases: Sequence[str]) -> int | None:
        return next((cells[a] for a in aliases if a in cells), None)

    width = len(header)
    body = [list(r) + [""] * (width - len(r)) if len(r) < width else list(r)
            for r in table[hrow + 1:]]
    rows = pd.DataFrame([r[:width] for r in body], columns=range(width), dtype=object)
    rows = rows.fillna("").astype(str)
    sheet_row = pd.Series(range(hrow + 2, hrow + 2 + len(rows)), dtype="int64")
    filled = pd.DataFrame({j: rows[j].str.strip() != "" for j in range(width)}, index=rows.index)
    n_filled = filled.sum(axis=1)
    name = rows[name_col]
    # title, subtotal and footer lines: one lone cell in a column without a header, or a
    # lone timestamp/"Accrual Basis"/"TOTAL" line in the name column
    unnamed = [j for j in range(width) if not header[j]]
    lone_elsewhere = (n_filled == 1) & (filled[unnamed].any(axis=1) if unnamed else False)
    footer = (n_filled == 1) & name.str.strip().str.contains(_FOOTER)
    keep = (n_filled > 0) & ~lone_elsewhere & ~footer
    rows, sheet_row, name = rows[keep], sheet_row[keep], name[keep]

    problems: list[Problem] = []
    where = f"sheet {sheet!r}: " if sheet else ""
    for r in sheet_row[name.str.strip() == ""]:
        problems.append(Problem(f"{where}a record without a name", row=int(r),
                                column=header[name_col]))
    cols: dict = {ROW: sheet_row}
    for target, aliases in _OTHER.items():
        j = col_of(aliases)
        if j is not None and target not in ("status", S.ACTIVE):
            cols[target] = rows[j]
    status_col = col_of(_OTHER["status"]) if col_of(_OTHER["status"]) is not None else col_of(
        _OTHER[S.ACTIVE])
    if status_col is not None:
        active, bad = parse_flags(rows[status_col])
        for r, v in zip(sheet_row[bad], rows[status_col][bad], strict=True):
            problems.append(Problem(f"{where}status must be Active or Inactive (yes/no)",
                                    row=int(r), column=header[status_col], value=v))
        cols[S.ACTIVE] = active
    if kind in _NUMBER and (j := col_of(_NUMBER[kind])) is not None:
        cols[S.NUMBER] = rows[j]
    rate_header = ""
    if kind in _RATE and (j := col_of(_RATE[kind])) is not None:
        rate_header = header[j]
        rate, bad = parse_amounts(rows[j])
        for r, v in zip(sheet_row[bad.to_numpy()], rows[j][bad], strict=True):
            problems.append(Problem(f"{where}{rate_header} must be an amount", row=int(r),
                                    column=rate_header, value=v))
        cols[S.RATE] = rate
    if kind == "items" and (j := col_of(_TYPE)) is not None:
        raw = rows[j].str.strip()
        cols[S.ITEM_TYPE] = raw.str.replace(r"[\s_-]", "", regex=True).str.casefold().map(
            _ITEM_TYPES).fillna(raw)
    full = name
    if kind in _PARENT and (j := col_of(_PARENT[kind])) is not None:
        parent = rows[j].str.strip()
        nested = (parent != "") & ~name.str.contains(":", regex=False)
        full = name.where(~nested, parent + ":" + name)
    if kind in ("customers", "items"):
        cols[S.FULL_NAME] = full
        cols[S.NAME] = path_leaf(full)
        cols[PARENT_FULL] = path_parent(full)
    else:
        cols[S.NAME] = name
        cols[S.FULL_NAME] = name
    if S.QB_ID not in cols or (cols[S.QB_ID].str.strip() == "").all():
        cols[S.QB_ID] = full
    else:
        ids = cols[S.QB_ID].str.strip()
        cols[S.QB_ID] = ids.where(ids != "", full)
    if problems:
        raise InputError("QuickBooks Online list export has bad records", file=file,
                         problems=problems)
    return ListRecords(kind, raw_frame(cols, len(rows)), file, "qbo-export",
                       {S.NAME: header[name_col], S.FULL_NAME: header[name_col],
                        PARENT_FULL: header[name_col], S.QB_ID: header[name_col],
                        S.RATE: rate_header})


__all__ = ["GENERIC_NAME_COLUMNS", "HEADER_SCAN", "NAME_COLUMNS", "qbo_export_records"]
