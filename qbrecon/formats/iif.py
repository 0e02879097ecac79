"""IIF: QuickBooks Desktop's tab-separated import/export format.

Timer activities (the writer section below): :func:`export_iif` writes a batch as a
timer-activity import (File → Utilities → Import → Timer Activities): a ``!TIMERHDR``
block, then one ``TIMEACT`` row per entry with MM/DD/YY dates, H:MM durations, customer full names (``Customer:Job``),
tabs and line breaks replaced by spaces, CRLF line endings and Windows-1252 text.

An IIF import cannot tell what was imported before and creates names it does not
know, so write IIF only from a validated batch (``Rules(target="iif")``) and prefer
the Web Connector where duplicates matter.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .. import schema as S
from ..errors import InputError, Problem

log = logging.getLogger("qbrecon")

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
) -> str:
    """The IIF text of :func:`export_iif` (lines joined with CRLF), without writing it.

    Raises:
        InputError: every entry QuickBooks would refuse or the file cannot hold, each
            named with its entry id and field: no employee name, billable time without
            customer or service item, more than 23:59, a note over 1,000 characters,
            or characters Windows-1252 cannot hold.
    """
    from ..batch import check_batch

    b = check_batch(batch)
    problems: list[Problem] = []
    ids = b[S.ENTRY_ID]

    def report(mask, message, column, values=None):
        for i in np.flatnonzero(np.asarray(mask, dtype=bool))[:500]:
            v = None if values is None else values.iat[i]
            problems.append(
                Problem(f"entry {ids.iat[i]}: {message}", row=int(i) + 1, column=column, value=v)
            )

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
    report(
        billable & (item == "").to_numpy(), "billable time needs a service item (ITEM)", S.ITEM_NAME
    )
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
    from .._sheets import atomic_write_bytes

    text = iif_text(
        batch,
        company=company,
        company_create_time=company_create_time,
        payroll_item=payroll_item,
        class_name=class_name,
        transfer_to_payroll=transfer_to_payroll,
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


__all__ = ["export_iif", "iif_text"]
