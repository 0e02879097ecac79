"""The batch: QuickBooks-ready rows, one shape for every target.

:func:`build_batch` turns the clean entries of a validation report into the columns
:data:`qbrecon.schema.BATCH_COLUMNS` (then the extras ``name_of, item_name,
fingerprint``): integer hours and minutes from the rounded duration, ``Billable`` /
``NotBillable``, the QuickBooks ids and full names, and the service item.

:func:`write_batch` saves a batch as CSV or XLSX, and :func:`read_batch` reads one back
(``qbrecon send BATCH`` and ``qbrecon export BATCH`` use it), checking every value and
naming the row and column of each problem.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import schema as S
from .errors import InputError, Problem, QbreconWarning, SettingsError

if TYPE_CHECKING:  # pragma: no cover
    from .report import Report

BILLABLE_STATUSES = ("Billable", "NotBillable")
NAME_OF_VALUES = ("Employee", "Vendor")
BATCH_FORMATS = ("csv", "xlsx")
_MINUTE_NS = 60 * 1_000_000_000

#: every batch column with its dtype, required ones first
BATCH_ALL_DTYPES: dict[str, str] = {**S.BATCH_DTYPES, **S.BATCH_EXTRA_DTYPES}


def build_batch(report: Report | pd.DataFrame) -> pd.DataFrame:
    """The QuickBooks-ready rows of a report's clean entries.

    Args:
        report: a :class:`~qbrecon.report.Report`, or a frame shaped like ``report.clean``.

    Returns:
        One row per clean entry: ``entry_id, txn_date, employee_id, employee_name,
        customer_id, customer_name, item_id, hours, minutes, billable_status,
        hourly_rate, description`` then ``name_of, item_name, fingerprint``. Hours and
        minutes are integers (minutes 0..59) from ``duration_rounded``; ``hourly_rate``
        is the entry's rate on billable time and empty on non-billable time.

    Raises:
        InputError: the frame lacks the columns validation adds.

    Example:
        >>> from qbrecon import validate
        >>> from qbrecon.testing import make_entries, make_mapping
        >>> report = validate(make_entries([{"user": "Ada", "project": "Web", "duration": "1:37:20"}]),
        ...                   make_mapping(employee={"Ada": "55"}, customer={"Web": "7"}))
        >>> build_batch(report)[["employee_id", "customer_id", "hours", "minutes", "billable_status"]].values.tolist()
        [['55', '7', 1, 37, 'Billable']]
    """
    if not isinstance(report, pd.DataFrame) and not hasattr(report, "clean"):
        raise InputError(f"build_batch needs the Report of validate() (or its .clean frame), "
                         f"not {type(report).__name__}")
    clean = report if isinstance(report, pd.DataFrame) else report.clean
    needed = {**S.ENTRY_DTYPES, **S.VALIDATED_DTYPES}
    clean = S.conform(clean, needed, what="clean entries")
    ns = clean[S.DURATION_ROUNDED].to_numpy().astype("int64")
    ns = np.where(clean[S.DURATION_ROUNDED].isna().to_numpy(), 0, ns)
    total = (ns + _MINUTE_NS // 2) // _MINUTE_NS
    hours, minutes = np.divmod(total, 60)
    billable = clean[S.BILLABLE].to_numpy(dtype=bool)
    batch = pd.DataFrame(
        {
            S.ENTRY_ID: clean[S.ENTRY_ID],
            S.TXN_DATE: clean[S.DATE],
            S.EMPLOYEE_ID: clean[S.EMPLOYEE_ID],
            S.EMPLOYEE_NAME: clean[S.EMPLOYEE_NAME],
            S.CUSTOMER_ID: clean[S.CUSTOMER_ID],
            S.CUSTOMER_NAME: clean[S.CUSTOMER_NAME],
            S.ITEM_ID: clean[S.ITEM_ID],
            S.HOURS: hours.astype("int64"),
            S.MINUTES: minutes.astype("int64"),
            # the two texts converted once, then taken per row
            S.BILLABLE_STATUS: pd.array(["NotBillable", "Billable"], dtype=S.STRING).take(
                billable.astype(np.intp)
            ),
            S.HOURLY_RATE: clean[S.BILLABLE_RATE].where(billable),
            S.DESCRIPTION: clean[S.DESCRIPTION],
            S.NAME_OF: clean[S.NAME_OF].where(clean[S.NAME_OF] != "", "Employee"),
            S.ITEM_NAME: clean[S.ITEM_NAME],
            S.FINGERPRINT: clean[S.FINGERPRINT],
        },
        index=clean.index,
    ).reset_index(drop=True)
    return S.conform(batch, BATCH_ALL_DTYPES, what="batch", extra=False)


def with_default_item(batch: pd.DataFrame, item: str | None) -> pd.DataFrame:
    """``batch`` with ``item`` (a service item's name) on the rows that name none."""
    if not item:
        return batch
    none = (batch[S.ITEM_NAME].fillna("").str.strip() == "") & (
        batch[S.ITEM_ID].fillna("").str.strip() == "")
    if not none.any():
        return batch
    return batch.assign(**{S.ITEM_NAME: batch[S.ITEM_NAME].mask(none, item)})


def check_missing_items(batch: pd.DataFrame, mode: str, *, what: str,
                        by_name: bool = False) -> np.ndarray:
    """Billable rows without a service item (QuickBooks Desktop refuses them); with
    ``by_name`` only an item name counts (IIF refers to items by name alone).

    Returns the mask of those rows. ``mode`` "error": the caller reports them; "warn":
    they are announced here (a :class:`~qbrecon.QbreconWarning` naming the first
    entries) and the caller writes them without an item.
    """
    if mode not in ("error", "warn"):
        raise SettingsError(f"missing_item must be 'error' or 'warn', not {mode!r}",
                            setting="missing_item")
    missing = (batch[S.BILLABLE_STATUS] == "Billable") & (
        batch[S.ITEM_NAME].fillna("").str.strip() == "")
    if not by_name:
        missing &= batch[S.ITEM_ID].fillna("").str.strip() == ""
    missing = missing.to_numpy(dtype=bool)
    if mode == "error" or not missing.any():
        return missing
    ids = batch.loc[missing, S.ENTRY_ID].tolist()
    text = (f"{what}: {len(ids)} billable entr{'y has' if len(ids) == 1 else 'ies have'} no "
            f"service item ({', '.join(ids[:5])}{', ...' if len(ids) > 5 else ''}); QuickBooks "
            "Desktop refuses billable time without one: pass default_item=, map the tracker's "
            "tasks to items (mapping kind 'item'), or validate with Rules(target='qbd', "
            "default_item=...)")
    warnings.warn(text, QbreconWarning, stacklevel=3)
    return missing


def check_batch(batch: pd.DataFrame, *, file: str | None = None) -> pd.DataFrame:
    """Check a batch's columns and values; return a copy with the batch dtypes.

    The extras ``name_of, item_name, fingerprint`` are optional ("" when absent);
    other columns are dropped.

    Raises:
        InputError: missing columns, or values QuickBooks cannot take (no id, duplicate
            ids, no date, no person, minutes outside 0..59, zero time, an unknown
            billable status or name_of, a negative rate), every problem at once.
    """
    batch = batch.copy()
    for col, dtype in S.BATCH_EXTRA_DTYPES.items():
        if col not in batch.columns:
            batch[col] = pd.Series([""] * len(batch), index=batch.index, dtype=dtype)
    batch = S.conform(batch, BATCH_ALL_DTYPES, what="batch", file=file, extra=False)
    batch = batch.reset_index(drop=True)
    for col, dtype in BATCH_ALL_DTYPES.items():
        if dtype == S.STRING:
            batch[col] = batch[col].fillna("")
    first_row = 2 if file is not None else 1
    problems: list[Problem] = []

    def report(mask, message: str, column: str, values: pd.Series | None = None) -> None:
        for i in np.flatnonzero(np.asarray(mask, dtype=bool))[:500]:
            v = None if values is None else values.iat[i]
            problems.append(Problem(message, row=int(i) + first_row, column=column, value=v))

    ids = batch[S.ENTRY_ID]
    report(ids == "", "entry without an id", S.ENTRY_ID)
    report(
        (ids != "") & ids.duplicated(keep=False), "entry id occurs more than once", S.ENTRY_ID, ids
    )
    report(batch[S.TXN_DATE].isna(), "no date", S.TXN_DATE)
    report(
        (batch[S.EMPLOYEE_ID] == "") & (batch[S.EMPLOYEE_NAME] == ""),
        "no employee or vendor (give employee_id or employee_name)",
        S.EMPLOYEE_ID,
    )
    report(batch[S.HOURS] < 0, "hours cannot be negative", S.HOURS, batch[S.HOURS])
    report(
        (batch[S.MINUTES] < 0) | (batch[S.MINUTES] > 59),
        "minutes must be 0 to 59",
        S.MINUTES,
        batch[S.MINUTES],
    )
    report(
        (batch[S.HOURS] == 0) & (batch[S.MINUTES] == 0), "no time (0 hours and 0 minutes)", S.HOURS
    )
    report(
        ~batch[S.BILLABLE_STATUS].isin(BILLABLE_STATUSES),
        f"billable_status must be {' or '.join(BILLABLE_STATUSES)}",
        S.BILLABLE_STATUS,
        batch[S.BILLABLE_STATUS],
    )
    report(
        ~batch[S.NAME_OF].isin(("", *NAME_OF_VALUES)),
        f"name_of must be {' or '.join(NAME_OF_VALUES)}",
        S.NAME_OF,
        batch[S.NAME_OF],
    )
    report(
        batch[S.HOURLY_RATE] < 0,
        "hourly_rate cannot be negative",
        S.HOURLY_RATE,
        batch[S.HOURLY_RATE],
    )
    if problems:
        problems.sort(key=lambda p: p.row or 0)
        raise InputError(f"the batch has {len(problems)} problem(s)", file=file, problems=problems)
    return batch


def _format_of(path: Path, format: str | None, allowed: tuple[str, ...]) -> str:
    fmt = (format or path.suffix.lstrip(".")).lower()
    if fmt not in allowed:
        raise SettingsError(
            f"cannot tell the format of {path.name!r}; use one of {', '.join(allowed)}"
            + ("" if format else " (from the file extension, or pass format=)"),
            setting="format",
        )
    return fmt


def write_batch(
    batch: pd.DataFrame, path: str | os.PathLike[str], *, format: str | None = None
) -> Path:
    """Save a batch as CSV (UTF-8, dates YYYY-MM-DD) or XLSX (text never read as a formula).

    Args:
        batch: a batch from :func:`build_batch`.
        path: the file to write (replaced atomically).
        format: ``"csv"`` or ``"xlsx"``; default from the extension.

    Returns:
        The path written.
    """
    from ._io import atomic_write_bytes, write_workbook

    path = Path(path)
    fmt = _format_of(path, format, BATCH_FORMATS)
    batch = check_batch(batch)
    if fmt == "xlsx":
        return write_workbook(path, {"Batch": batch})
    out = batch.copy()
    out[S.TXN_DATE] = out[S.TXN_DATE].dt.strftime("%Y-%m-%d")
    out[S.HOURLY_RATE] = [("" if np.isnan(v) else repr(float(v))) for v in out[S.HOURLY_RATE]]
    text = out.to_csv(index=False, lineterminator="\n")
    try:
        atomic_write_bytes(path, text.encode("utf-8"))
    except OSError as exc:
        raise InputError(f"cannot write the batch: {exc.strerror or exc}", file=str(path)) from exc
    return path


def read_batch(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a batch file written by :func:`write_batch` (or by hand, with the same columns).

    Columns may come in any order; the extras ``name_of, item_name, fingerprint`` are
    optional. Every bad value is reported at once with its spreadsheet row and column.

    Raises:
        InputError: the file is missing or unreadable, lacks columns, or holds values a
            batch cannot have (see :func:`check_batch`).

    Example:
        >>> import tempfile, os
        >>> from qbrecon.testing import make_entries, make_mapping
        >>> from qbrecon import validate
        >>> b = build_batch(validate(make_entries([{"user": "Ada", "project": "Web"}]),
        ...                          make_mapping(employee={"Ada": "55"}, customer={"Web": "7"})))
        >>> p = write_batch(b, os.path.join(tempfile.mkdtemp(), "batch.csv"))
        >>> read_batch(p).equals(b)
        True
    """
    from .mapping import read_table

    path = Path(path)
    raw = read_table(path, what="batch")
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    missing = [c for c in S.BATCH_COLUMNS if c not in raw.columns]
    if missing:
        raise InputError(
            "the batch lacks required columns",
            file=str(path),
            problems=[Problem("missing column", column=c) for c in missing],
        )
    # spreadsheet row of each batch row (read_table skips blank rows but keeps their place)
    sheet_rows = raw.index.to_numpy(dtype=np.int64) + 2
    raw = raw.reset_index(drop=True)
    problems: list[Problem] = []
    out = pd.DataFrame(index=raw.index)
    for col, dtype in BATCH_ALL_DTYPES.items():
        text = (raw[col] if col in raw.columns else pd.Series("", index=raw.index)).astype(str)
        text = text.str.strip()
        if dtype == S.STRING:
            out[col] = text.astype(S.STRING)
            continue
        if dtype == S.DATETIME:
            values = pd.to_datetime(text.where(text != ""), errors="coerce", format="ISO8601")
            bad = values.isna() & (text != "")
            hint = "not a date (write YYYY-MM-DD)"
        else:
            values = pd.to_numeric(text.where(text != ""), errors="coerce")
            bad = values.isna() & (text != "")
            hint = "not a number"
            if dtype == "int64":
                frac = values.notna() & (values != values.round())
                bad |= frac | (text == "")
                hint = "not a whole number"
        for i in np.flatnonzero(bad.to_numpy()):
            problems.append(Problem(hint, row=int(sheet_rows[i]), column=col, value=text.iat[i]))
        if dtype == "int64":
            values = values.fillna(0).astype("int64")
        out[col] = values
    try:
        checked = check_batch(out, file=str(path))
    except InputError as exc:
        # check_batch numbers the rows it was given from 2: put them back in their places
        found = [
            replace(p, row=int(sheet_rows[p.row - 2]))
            if p.row is not None and 2 <= p.row < len(sheet_rows) + 2
            else p
            for p in exc.problems
        ]
        if not problems:
            raise InputError(exc.summary, file=str(path), problems=found) from None
        # report the value problems too, except on cells already reported as unreadable
        seen = {(p.row, p.column) for p in problems}
        problems += [p for p in found if (p.row, p.column) not in seen]
    if problems:
        problems.sort(key=lambda p: p.row or 0)
        raise InputError(
            f"the batch has {len(problems)} problem(s)", file=str(path), problems=problems
        )
    return checked


__all__ = ["BILLABLE_STATUSES", "build_batch", "check_batch", "read_batch", "write_batch"]
