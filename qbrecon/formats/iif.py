"""QuickBooks Desktop IIF (Intuit Interchange Format): reading list exports, writing time.

An IIF file is tab-separated text in sections. A ``!KEY`` line names the columns of
the ``KEY`` lines that follow it::

    !HDR    PROD    VER     REL     IIFVER  DATE    TIME    ACCNTNT ACCNTNTSPLITTIME
    HDR     QuickBooks Pro  Version 34.0D   Release R6P     1       2026-11-16 ...
    !CUST   NAME    REFNUM  TIMESTAMP       ...     HIDDEN  DELCOUNT
    CUST    Acme & Sons, LLC        12      1794268800      ...     N       0
    CUST    Acme & Sons, LLC:Website Redesign       13      ...     N       0

QuickBooks writes it in Windows-1252 (newer releases may write UTF-8); both are read.
A field holding a comma or quote may be wrapped in double quotes, with ``""`` for a quote.

The list sections read are ``EMP`` (employees), ``VEND`` (vendors), ``CUST``
(customers, ``Parent:Job`` names), ``INVITEM`` (items) and ``CLASS`` (classes); every
other section (``HDR``, ``ACCNT``, ``OTHERNAME``, ``CTYPE``, ``TRNS``...) is skipped.
``HIDDEN`` = ``Y`` marks an inactive record. An item's ``PRICE`` is its rate (a
percentage price, as discount items have, is none); ``EMP`` and ``VEND`` carry no plain
bill rate (QuickBooks Desktop keeps billing rates in a list of their own), so people read
from IIF have none.

IIF has no QuickBooks ids: a record's ``qb_id`` is its ``REFNUM`` (the record number
QuickBooks writes in list exports) when the file has one, else its full name. Neither
is a ListID: to send through the Web Connector, read the lists from qbXML instead.

Writing time (the last section): :func:`export_iif` writes a batch as a timer-activity
import (File → Utilities → Import → Timer Activities): a ``!TIMERHDR`` block, then one
``TIMEACT`` row per entry with MM/DD/YY dates, H:MM durations, customer full names
(``Customer:Job``), tabs and line breaks replaced by spaces, CRLF line endings and
Windows-1252 text. An IIF import cannot tell what was imported before and creates names
it does not know, so write IIF only from a validated batch (``Rules(target="iif")``)
and prefer the Web Connector where duplicates matter.

Example:
    >>> text = "!EMP\\tNAME\\tREFNUM\\tHIDDEN\\nEMP\\tAda Lovelace\\t7\\tN\\n"
    >>> parse_iif(text)["EMP"][["NAME", "REFNUM", "_line"]].values.tolist()
    [['Ada Lovelace', '7', 2]]
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Collection
from pathlib import Path

import numpy as np
import pandas as pd

from .. import schema as S
from ..errors import InputError, Problem
from . import (
    PARENT_FULL,
    ROW,
    ListRecords,
    decode_text,
    parse_amounts,
    parse_flags,
    path_leaf,
    path_parent,
    raw_frame,
)

log = logging.getLogger("qbrecon")

LINE = "_line"  # the column parse_iif adds: the 1-based line of each record

#: IIF list sections and the QuickBooks list each one holds
IIF_LISTS = {"EMP": "employees", "VEND": "vendors", "CUST": "customers",
             "INVITEM": "items", "CLASS": "classes"}

#: IIF ``INVITEMTYPE`` codes and the item types qbrecon reports (QuickBooks Online's words)
IIF_ITEM_TYPES = {
    "SERV": "Service",
    "PART": "NonInventory",  # "non-inventory part"
    "INVENTORY": "Inventory",
    "ASSEMBLY": "InventoryAssembly",
    "OTHC": "OtherCharge",
    "GRP": "Group",
    "DISC": "Discount",
    "PMT": "Payment",
    "STAX": "SalesTax",
    "STAXGRP": "SalesTaxGroup",
    "SUBT": "Subtotal",
    "COMPTAX": "SalesTax",
    "FIXEDASSET": "FixedAsset",
}


def _unquote(field: str) -> str:
    if len(field) >= 2 and field[0] == '"' and field[-1] == '"':
        return field[1:-1].replace('""', '"')
    return field


def parse_iif(
    data: bytes | str,
    *,
    file: str | None = None,
    keep: Collection[str] | None = None,
) -> dict[str, pd.DataFrame]:
    """Split an IIF file into its sections.

    Args:
        data: the file's bytes (UTF-8 or Windows-1252) or text.
        file: its name, for error messages.
        keep: the section keys to return (e.g. ``{"CUST"}``); None returns all.
            Rows of sections not kept are not checked.

    Returns:
        One frame per section key, with the header's column names (upper case,
        repeated names made unique as ``NAME#2``), every value as text, and a
        ``_line`` column holding the line each record is on.

    Raises:
        InputError: not an IIF file, or records that do not fit their header (a row
            shorter or longer than its ``!KEY`` line, a record before its header),
            every one listed with its line.
    """
    text = decode_text(data, file=file) if isinstance(data, bytes) else data.lstrip("\ufeff")
    keep_set = None if keep is None else {k.upper() for k in keep}
    headers: dict[str, tuple[list[str], int]] = {}  # the header in force for each section
    all_headers: dict[str, dict[int, list[str]]] = {}  # every header line of each section
    # records per (section, header line): a section may be declared more than once
    rows: dict[tuple[str, int], list[list]] = {}
    problems: list[Problem] = []
    seen_header = False
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        first = fields[0].strip()
        if not seen_header and not first.startswith("!"):
            raise InputError(
                "is not an IIF file: it must start with a !KEY header line",
                file=file, problems=[Problem("expected a line starting with '!'", row=lineno,
                                             value=line[:40])])
        if first.startswith("!"):
            seen_header = True
            key = first[1:].upper()
            names = [f.strip().upper() for f in fields[1:]]
            while names and not names[-1]:
                names.pop()
            headers[key] = (_unique(names), lineno)
            all_headers.setdefault(key, {})[lineno] = headers[key][0]
            continue
        key = first.upper()
        if keep_set is not None and key not in keep_set:
            continue
        if key not in headers:
            problems.append(Problem(f"a {key} record before any !{key} header line", row=lineno))
            continue
        names, hline = headers[key]
        values = [_unquote(v) for v in fields[1:]]
        if len(values) < len(names):
            problems.append(Problem(
                f"{key} record has {len(values)} fields; its !{key} header on line {hline} "
                f"has {len(names)} (missing {', '.join(names[len(values):][:5])}"
                f"{'...' if len(names) - len(values) > 5 else ''})", row=lineno))
            continue
        extra = [v for v in values[len(names):] if v.strip()]
        if extra:
            problems.append(Problem(
                f"{key} record has {len(values)} fields; its !{key} header on line {hline} "
                f"has {len(names)}", row=lineno, column=f"field {len(names) + 1}", value=extra[0]))
            continue
        rows.setdefault((key, hline), []).append([*values[: len(names)], lineno])
    if not seen_header:
        raise InputError("is not an IIF file: it has no !KEY header line", file=file)
    if problems:
        raise InputError("IIF records do not fit their header lines", file=file, problems=problems)
    blocks: dict[str, list[pd.DataFrame]] = {}
    for (key, hline), recs in rows.items():
        names = all_headers[key][hline]
        blocks.setdefault(key, []).append(pd.DataFrame(recs, columns=[*names, LINE]))
    out = {}
    for key, (names, _) in headers.items():
        if keep_set is not None and key not in keep_set:
            continue
        if key in blocks:
            out[key] = pd.concat(blocks[key], ignore_index=True).fillna("")
        else:
            out[key] = pd.DataFrame({**{n: pd.Series(dtype=object) for n in names},
                                     LINE: pd.Series(dtype="int64")})
    return out


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}#{seen[n]}")
    return out


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name].astype(str)
    return pd.Series([""] * len(frame), index=frame.index, dtype=object)


def iif_list_records(
    sections: dict[str, pd.DataFrame], *, file: str | None = None
) -> list[ListRecords]:
    """The QuickBooks lists in parsed IIF sections (see :func:`parse_iif`).

    Raises:
        InputError: a list record without a NAME, or with a HIDDEN value that is
            not Y/N; every one listed with its line.
    """
    out: list[ListRecords] = []
    problems: list[Problem] = []
    for key, kind in IIF_LISTS.items():
        frame = sections.get(key)
        if frame is None:
            continue
        if "NAME" not in frame.columns:
            raise InputError(f"the !{key} header has no NAME column", file=file)
        name = _col(frame, "NAME")
        lines = frame[LINE]
        for ln in lines[name.str.strip() == ""]:
            problems.append(Problem(f"{key} record without a NAME", row=int(ln), column="NAME"))
        hidden, bad = parse_flags(_col(frame, "HIDDEN"))
        for ln, v in zip(lines[bad], _col(frame, "HIDDEN")[bad], strict=True):
            problems.append(Problem("HIDDEN must be Y or N", row=int(ln), column="HIDDEN", value=v))
        refnum = _col(frame, "REFNUM").str.strip()
        cols: dict = {
            S.QB_ID: refnum.where(refnum != "", name),
            S.ACTIVE: ~hidden.fillna(False),
            ROW: lines,
        }
        if kind in ("employees", "vendors"):
            cols.update({S.NAME: name, S.FULL_NAME: name,
                         S.FIRST_NAME: _col(frame, "FIRSTNAME"), S.LAST_NAME: _col(frame, "LASTNAME"),
                         S.EMAIL: _col(frame, "EMAIL")})
            if kind == "employees":
                cols[S.NUMBER] = _col(frame, "EMPNUM")
        else:
            parent = path_parent(name)
            cols.update({S.FULL_NAME: name, S.NAME: path_leaf(name),
                         PARENT_FULL: parent})
            if kind == "customers":
                cols[S.EMAIL] = _col(frame, "EMAIL")
            if kind == "items":
                code = _col(frame, "INVITEMTYPE").str.strip().str.upper()
                cols[S.ITEM_TYPE] = code.map(IIF_ITEM_TYPES).fillna(code)
                price = _col(frame, "PRICE")
                rate, bad = parse_amounts(price)
                for ln, v in zip(lines[bad.to_numpy()], price[bad], strict=True):
                    problems.append(Problem("PRICE must be an amount", row=int(ln), column="PRICE",
                                            value=v))
                cols[S.RATE] = rate
        out.append(ListRecords(kind, raw_frame(cols, len(frame)), file, "iif",
                               {S.NAME: "NAME", S.FULL_NAME: "NAME", PARENT_FULL: "NAME",
                                S.QB_ID: "REFNUM", S.ACTIVE: "HIDDEN", S.RATE: "PRICE"}))
    if problems:
        raise InputError("IIF list records are incomplete", file=file, problems=problems)
    return out


def read_iif_lists(data: bytes | str, *, file: str | None = None) -> list[ListRecords]:
    """The list records of an IIF list export (every list section it holds).

    Example:
        >>> recs = read_iif_lists("!CUST\\tNAME\\tHIDDEN\\nCUST\\tAcme\\tN\\nCUST\\tAcme:Web\\tY\\n")
        >>> recs[0].kind, recs[0].frame["parent_full"].tolist(), recs[0].frame["active"].tolist()
        ('customers', ['', 'Acme'], [True, False])
    """
    sections = parse_iif(data, file=file, keep=IIF_LISTS)
    skipped = sorted(set(_section_keys(data)) - set(IIF_LISTS))
    if skipped:
        log.debug("%s: IIF sections not read: %s", file or "IIF", ", ".join(skipped))
    return iif_list_records(sections, file=file)


def _section_keys(data: bytes | str) -> list[str]:
    text = data.decode("latin-1") if isinstance(data, bytes) else data
    return [line.split("\t", 1)[0].strip()[1:].upper()
            for line in text.splitlines() if line.startswith("!")]


# ======================================================= TIMEACT writer (time out)
IIF_ENCODING = "cp1252"
IIF_MAX_MINUTES = 23 * 60 + 59
IIF_NOTE_LIMIT = 1000
TIMERHDR_FIELDS = ["VER", "REL", "COMPANYNAME", "IMPORTEDBEFORE", "FROMTIMER", "COMPANYCREATETIME"]
TIMEACT_FIELDS = [
    "DATE",
    "JOB",
    "EMP",
    "ITEM",
    "PITEM",
    "DURATION",
    "PROJ",
    "NOTE",
    "XFERTOPAYROLL",
    "BILLINGSTATUS",
]
_BREAKS = re.compile(r"[\t\r\n\v\f\x85\u2028\u2029]+")


def _clean(s: pd.Series) -> pd.Series:
    """Tabs and line breaks become single spaces; ends trimmed (IIF is one record per line)."""
    return s.astype(S.STRING).fillna("").str.replace(_BREAKS, " ", regex=True).str.strip()


def _unencodable(text: str) -> str:
    bad = []
    for ch in dict.fromkeys(text):
        try:
            ch.encode(IIF_ENCODING)
        except UnicodeEncodeError:
            bad.append(f"{ch!r} (U+{ord(ch):04X})")
    return ", ".join(bad)


def iif_text(
    batch: pd.DataFrame,
    *,
    company: str | None = None,
    company_create_time: str | int | None = None,
    payroll_item: str | None = None,
    class_name: str | None = None,
    transfer_to_payroll: bool = False,
    default_item: str | None = None,
    missing_item: str = "error",
) -> str:
    """The IIF text of :func:`export_iif` (lines joined with CRLF), without writing it.

    ``default_item`` names the service item of rows that have none; ``missing_item``
    says what to do with billable rows that still have none: "error" (the default)
    or "warn" (write them without ``ITEM`` and warn).

    Raises:
        InputError: every entry QuickBooks would refuse or the file cannot hold, each
            named with its entry id and field: no employee name, billable time without
            customer or service item, more than 23:59, a note over 1,000 characters,
            or characters Windows-1252 cannot hold.
    """
    from ..batch import check_batch, check_missing_items, with_default_item

    b = with_default_item(check_batch(batch), default_item)
    problems: list[Problem] = []
    ids = b[S.ENTRY_ID]

    def report(mask, message, column, values=None):
        for i in np.flatnonzero(np.asarray(mask, dtype=bool))[:500]:
            v = None if values is None else values.iat[i]
            problems.append(
                Problem(f"entry {ids.iat[i]}: {message}", row=int(i) + 1, column=column, value=v)
            )

    no_item = check_missing_items(b, missing_item, what="IIF", by_name=True)
    emp = _clean(b[S.EMPLOYEE_NAME])
    job = _clean(b[S.CUSTOMER_NAME])
    item = _clean(b[S.ITEM_NAME])
    note = _clean(b[S.DESCRIPTION])
    billable = (b[S.BILLABLE_STATUS] == "Billable").to_numpy()
    total = (b[S.HOURS] * 60 + b[S.MINUTES]).to_numpy()
    report(
        emp == "",
        "no employee name (EMP): IIF refers to people by their QuickBooks name",
        S.EMPLOYEE_NAME,
    )
    report(
        billable & (job == "").to_numpy(), "billable time needs a customer (JOB)", S.CUSTOMER_NAME
    )
    if missing_item == "error":
        report(no_item, "billable time needs a service item (ITEM)", S.ITEM_NAME)
    report(
        total > IIF_MAX_MINUTES,
        "lasts more than 23:59, the most one IIF timer activity holds",
        S.HOURS,
        b[S.HOURS].astype(str) + "h" + b[S.MINUTES].astype(str) + "m",
    )
    report(
        note.str.len() > IIF_NOTE_LIMIT,
        f"the note (description) is over {IIF_NOTE_LIMIT:,} characters",
        S.DESCRIPTION,
        note.str.len().astype(str) + " characters",
    )
    for column, values in (
        (S.EMPLOYEE_NAME, emp),
        (S.CUSTOMER_NAME, job),
        (S.ITEM_NAME, item),
        (S.DESCRIPTION, note),
    ):
        non_ascii = values.str.contains(r"[^\x00-\x7f]", regex=True).to_numpy(
            dtype=bool, na_value=False
        )
        for i in np.flatnonzero(non_ascii):
            bad = _unencodable(values.iat[i])
            if bad:
                problems.append(
                    Problem(
                        f"entry {ids.iat[i]}: {bad} cannot be written in Windows-1252, the IIF encoding",
                        row=int(i) + 1,
                        column=column,
                    )
                )
    header = {
        "company": company or "",
        "company_create_time": str(company_create_time or ""),
        "payroll_item": payroll_item or "",
        "class_name": class_name or "",
    }
    for name, value in header.items():
        if _BREAKS.search(value):
            problems.append(
                Problem("tabs and line breaks are not allowed", column=name, value=value)
            )
        elif _unencodable(value):
            problems.append(
                Problem(
                    f"{_unencodable(value)} cannot be written in Windows-1252",
                    column=name,
                    value=value,
                )
            )
    if problems:
        problems.sort(key=lambda p: p.row or 0)
        raise InputError(
            f"the batch cannot be written as IIF ({len(problems)} problem(s))", problems=problems
        )
    if not company:
        log.warning(
            "IIF: no company name given; QuickBooks matches COMPANYNAME against the open "
            "company file (pass the name exactly as in Company Information)"
        )

    n = len(b)
    date = b[S.TXN_DATE].dt.strftime("%m/%d/%y").astype(S.STRING)
    duration = b[S.HOURS].astype(str) + ":" + b[S.MINUTES].astype(str).str.zfill(2)
    cols = {
        "KEY": pd.Series(["TIMEACT"] * n, dtype=S.STRING),
        "DATE": date,
        "JOB": job,
        "EMP": emp,
        "ITEM": item,
        "PITEM": pd.Series([payroll_item or ""] * n, dtype=S.STRING),
        "DURATION": duration.astype(S.STRING),
        "PROJ": pd.Series([class_name or ""] * n, dtype=S.STRING),
        "NOTE": note,
        "XFERTOPAYROLL": pd.Series(["Y" if transfer_to_payroll else "N"] * n, dtype=S.STRING),
        "BILLINGSTATUS": pd.Series(np.where(billable, "1", "0"), dtype=S.STRING),
    }
    rows = cols["KEY"]
    for name in TIMEACT_FIELDS:
        rows = rows + "\t" + cols[name].reset_index(drop=True)
    lines = [
        "\t".join(["!TIMERHDR", *TIMERHDR_FIELDS]),
        "\t".join(
            ["TIMERHDR", "8", "0", header["company"], "N", "Y", header["company_create_time"]]
        ),
        "\t".join(["!TIMEACT", *TIMEACT_FIELDS]),
        *rows.tolist(),
    ]
    return "\r\n".join(lines) + "\r\n"


def export_iif(
    batch: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    company: str | None = None,
    company_create_time: str | int | None = None,
    payroll_item: str | None = None,
    class_name: str | None = None,
    transfer_to_payroll: bool = False,
    default_item: str | None = None,
    missing_item: str = "warn",
) -> Path:
    """Write a batch as an IIF timer-activity import for QuickBooks Desktop.

    Args:
        batch: a batch from :func:`qbrecon.build_batch` (uses the names:
            ``employee_name``, ``customer_name``, ``item_name``).
        path: the ``.iif`` file to write (replaced atomically).
        company: the company name exactly as in QuickBooks Company Information
            (``COMPANYNAME``); take it and the create time from a Timer Lists export.
        company_create_time: ``COMPANYCREATETIME`` of the company file.
        payroll_item: written as ``PITEM`` on every row (payroll users put the hourly
            payroll item there).
        class_name: written as ``PROJ`` (the QuickBooks class) on every row.
        transfer_to_payroll: ``XFERTOPAYROLL`` Y instead of N.
        default_item: the service item (``ITEM``) of rows whose batch has none.
        missing_item: billable rows still without a service item, which QuickBooks
            Desktop refuses: "warn" (default: written without ``ITEM``, with a
            :class:`~qbrecon.QbreconWarning` naming them) or "error".

    Returns:
        The path written.

    Raises:
        InputError: see :func:`iif_text`; nothing is written then.

    Example:
        >>> import tempfile, os
        >>> from qbrecon.testing import make_entries, make_mapping
        >>> from qbrecon import validate, build_batch
        >>> batch = build_batch(validate(
        ...     make_entries([{"user": "Ada", "client": "Acme", "project": "Site", "duration": "1:30",
        ...                    "description": "Fixed\\tthe widget", "date": "2026-11-20"}]),
        ...     make_mapping(employee={"Ada": ("55", "Lovelace, Ada")},
        ...                  customer={"Acme:Site": ("7", "Acme Corp:Site")}),
        ...     rules=__import__("qbrecon").Rules(default_item="Consulting")))
        >>> p = export_iif(batch, os.path.join(tempfile.mkdtemp(), "time.iif"), company="Acme Corp")
        >>> open(p, "rb").read().decode("cp1252").splitlines()[3].split("\\t")
        ['TIMEACT', '11/20/26', 'Acme Corp:Site', 'Lovelace, Ada', 'Consulting', '', '1:30', '', 'Fixed the widget', 'N', '1']
    """
    from .._io import atomic_write_bytes

    text = iif_text(
        batch,
        company=company,
        company_create_time=company_create_time,
        payroll_item=payroll_item,
        class_name=class_name,
        transfer_to_payroll=transfer_to_payroll,
        default_item=default_item,
        missing_item=missing_item,
    )
    path = Path(path)
    try:
        atomic_write_bytes(path, text.encode(IIF_ENCODING))
    except OSError as exc:
        raise InputError(
            f"cannot write the IIF file: {exc.strerror or exc}", file=str(path)
        ) from exc
    log.info("wrote %d timer activities to %s", text.count("\r\n") - 3, path)
    return path


__all__ = [
    "IIF_ITEM_TYPES",
    "IIF_LISTS",
    "LINE",
    "export_iif",
    "iif_list_records",
    "iif_text",
    "parse_iif",
    "read_iif_lists",
]
