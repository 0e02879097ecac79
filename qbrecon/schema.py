"""The one place where qbrecon's column names and dtypes are defined.

Code refers to columns through these constants, and frames are checked with
:func:`conform` where they cross a boundary (after loading, before sending).

Frames:

* **entries** (:data:`ENTRY_DTYPES`) — canonical time entries; every reader returns these.
* **lists** (:data:`LIST_DTYPES`) — one QuickBooks list (employees, vendors, customers, items).
* **suggestions** (:data:`SUGGESTION_COLUMNS`) — match candidates, one per row.
* **mapping** (:data:`MAPPING_DTYPES`) — accepted source name → QuickBooks record pairs.
* **failures** (:data:`FAILURE_DTYPES`) — one row per broken rule per entry.
* **batch** (:data:`BATCH_DTYPES`) — QuickBooks-ready rows, target neutral.
* **send results** (:data:`SEND_RESULT_DTYPES`) — one row per batch entry after a send.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from .errors import InputError, Problem

# ---------------------------------------------------------------- time entries
ENTRY_ID = "entry_id"
SOURCE = "source"
ROW = "row"
USER = "user"
EMAIL = "email"
CLIENT = "client"
PROJECT = "project"
TASK = "task"
DESCRIPTION = "description"
TAGS = "tags"
DATE = "date"
START = "start"
END = "end"
DURATION = "duration"
BILLABLE = "billable"
BILLABLE_RATE = "billable_rate"
APPROVED = "approved"

STRING = "string"  # pandas StringDtype: the same NA semantics on pandas 2 and 3
DATETIME = "datetime64[ns]"
TIMEDELTA = "timedelta64[ns]"

ENTRY_DTYPES: dict[str, str] = {
    ENTRY_ID: STRING,
    SOURCE: STRING,
    ROW: "int64",
    USER: STRING,
    EMAIL: STRING,
    CLIENT: STRING,
    PROJECT: STRING,
    TASK: STRING,
    DESCRIPTION: STRING,
    TAGS: STRING,
    DATE: DATETIME,
    START: DATETIME,
    END: DATETIME,
    DURATION: TIMEDELTA,
    BILLABLE: "bool",
    BILLABLE_RATE: "float64",
    APPROVED: "boolean",
}
ENTRY_COLUMNS: list[str] = list(ENTRY_DTYPES)
#: text columns of entries that are "" (never NA) where the export has no value
ENTRY_TEXT_COLUMNS: list[str] = [USER, EMAIL, CLIENT, PROJECT, TASK, DESCRIPTION, TAGS]

SOURCES = ("clockify", "toggl", "harvest", "qbtime", "generic")

# ------------------------------------------------------------ QuickBooks lists
QB_ID = "qb_id"
NAME = "name"
FULL_NAME = "full_name"
PARENT_ID = "parent_id"
LEVEL = "level"
ACTIVE = "active"
FIRST_NAME = "first_name"
LAST_NAME = "last_name"
NUMBER = "number"  # employee number / account number where QuickBooks has one
ITEM_TYPE = "item_type"
#: a person's bill rate (QuickBooks Online Employee/Vendor ``BillRate``) or an item's sales
#: price; float, NaN where the source has none (optional: frames without it still load)
RATE = "rate"

LIST_DTYPES: dict[str, str] = {
    QB_ID: STRING,
    NAME: STRING,
    FULL_NAME: STRING,
    PARENT_ID: STRING,
    LEVEL: "int64",
    ACTIVE: "bool",
}
LIST_COLUMNS: list[str] = list(LIST_DTYPES)
#: extra columns carried by employee and vendor lists ("" where unknown)
PERSON_DTYPES: dict[str, str] = {
    **LIST_DTYPES,
    FIRST_NAME: STRING,
    LAST_NAME: STRING,
    EMAIL: STRING,
    NUMBER: STRING,
    RATE: "float64",
}
#: extra columns carried by the item list
ITEM_DTYPES: dict[str, str] = {**LIST_DTYPES, ITEM_TYPE: STRING, RATE: "float64"}

# ------------------------------------------------------ suggestions and mapping
KIND = "kind"  # "employee" (employees and vendors), "customer", "item"
SOURCE_NAME = "source_name"
RANK = "rank"
QB_NAME = "qb_name"
QB_TYPE = "qb_type"  # "Employee", "Vendor", "Customer", "Item"
SCORE = "score"
BAND = "band"

KINDS = ("employee", "customer", "item")
BANDS = ("exact", "strong", "weak", "none")  # best first
QB_TYPES = ("Employee", "Vendor", "Customer", "Item")

SUGGESTION_COLUMNS: list[str] = [KIND, SOURCE_NAME, RANK, QB_ID, QB_NAME, SCORE, BAND]
MAPPING_DTYPES: dict[str, str] = {KIND: STRING, SOURCE_NAME: STRING, QB_ID: STRING, QB_NAME: STRING}
MAPPING_COLUMNS: list[str] = list(MAPPING_DTYPES)

# -------------------------------------------------------------------- validation
RULE = "rule"
SEVERITY = "severity"  # "error" rejects the entry, "warning" keeps it
MESSAGE = "message"
SEVERITIES = ("error", "warning")
FAILURE_DTYPES: dict[str, str] = {ENTRY_ID: STRING, RULE: STRING, SEVERITY: STRING, MESSAGE: STRING}
FAILURE_COLUMNS: list[str] = list(FAILURE_DTYPES)

DURATION_ROUNDED = "duration_rounded"
EMPLOYEE_ID = "employee_id"
CUSTOMER_ID = "customer_id"
FINGERPRINT = "fingerprint"  # content hash of an entry: detects edits made after sending

# ------------------------------------------------------------------------- batch
TXN_DATE = "txn_date"
EMPLOYEE_NAME = "employee_name"
CUSTOMER_NAME = "customer_name"
ITEM_ID = "item_id"
ITEM_NAME = "item_name"
HOURS = "hours"
MINUTES = "minutes"
BILLABLE_STATUS = "billable_status"  # "Billable" or "NotBillable"
HOURLY_RATE = "hourly_rate"
NAME_OF = "name_of"  # "Employee" or "Vendor": which QuickBooks list the person is on

BATCH_DTYPES: dict[str, str] = {
    ENTRY_ID: STRING,
    TXN_DATE: DATETIME,
    EMPLOYEE_ID: STRING,
    EMPLOYEE_NAME: STRING,
    CUSTOMER_ID: STRING,
    CUSTOMER_NAME: STRING,
    ITEM_ID: STRING,
    HOURS: "int64",
    MINUTES: "int64",
    BILLABLE_STATUS: STRING,
    HOURLY_RATE: "float64",
    DESCRIPTION: STRING,
}
BATCH_COLUMNS: list[str] = list(BATCH_DTYPES)
#: optional batch columns that senders use when present
BATCH_EXTRA_DTYPES: dict[str, str] = {NAME_OF: STRING, ITEM_NAME: STRING, FINGERPRINT: STRING}

# --------------------------------------------------------- validated entries
SPLIT_FROM = "split_from"  # the original entry id of a piece made by split_long ("" otherwise)
FAILED_RULES = "failed_rules"  # rejected entries: the error-level rules they broke, comma-joined
#: where an entry's billable_rate came from: "tracker", "employee" (the mapped employee's or
#: vendor's bill rate), "item" (the service item's price), "default" (Rules.default_rate),
#: or "" when it has none
RATE_SOURCE = "rate_source"
RATE_SOURCES = ("tracker", "employee", "item", "default")

#: columns validation adds to the entries in Report.clean and Report.rejected
VALIDATED_DTYPES: dict[str, str] = {
    DURATION_ROUNDED: TIMEDELTA,
    EMPLOYEE_ID: STRING,
    EMPLOYEE_NAME: STRING,
    NAME_OF: STRING,
    CUSTOMER_ID: STRING,
    CUSTOMER_NAME: STRING,
    ITEM_ID: STRING,
    ITEM_NAME: STRING,
    FINGERPRINT: STRING,
    SPLIT_FROM: STRING,
    RATE_SOURCE: STRING,
}

# ------------------------------------- match evidence, remembered decisions, new records
ENTRIES = "entries"  # how many time entries stand behind a source name
MARGIN = "margin"  # this candidate's score minus the best other candidate's
WHY = "why"  # the evidence in words: "same after normalization", "matched email", ...
NEEDS_REVIEW = "needs_review"  # the source name needs a human decision
CONFLICT = "conflict"  # another source name wants the same QuickBooks record
NEAR_TIE = "near_tie"  # the runner-up is too close to call
STALE = "stale"  # a remembered match whose record became inactive or disappeared
REMEMBERED = "remembered"  # "accepted", "rejected" or "" (from the mapping store)
CLIENT_MATCH = "client_match"  # customers: the QuickBooks customer the client matches
SUGGESTION_EVIDENCE_DTYPES: dict[str, str] = {
    QB_TYPE: STRING,
    HOURS: "float64",
    ENTRIES: "int64",
    MARGIN: "float64",
    WHY: STRING,
    ACTIVE: "boolean",
    NEEDS_REVIEW: "bool",
    CONFLICT: "bool",
    NEAR_TIE: "bool",
    STALE: "bool",
    REMEMBERED: STRING,
    EMAIL: STRING,
    CLIENT_MATCH: STRING,
}
SUGGESTION_DTYPES: dict[str, str] = {
    KIND: STRING,
    SOURCE_NAME: STRING,
    RANK: "int64",
    QB_ID: STRING,
    QB_NAME: STRING,
    SCORE: "float64",
    BAND: STRING,
    **SUGGESTION_EVIDENCE_DTYPES,
}
#: the mapping as accept_matches and read_review_workbook return it
MAPPING_TYPED_DTYPES: dict[str, str] = {**MAPPING_DTYPES, QB_TYPE: STRING}

DECISION = "decision"  # "accepted" or "rejected"
DECISIONS = ("accepted", "rejected")
DECIDED_AT = "decided_at"  # ISO 8601 UTC timestamp
DECIDED_BY = "decided_by"
HOW = "how"  # "auto (exact)", "review", "review: chose another name", ...
#: the mapping store: remembered decisions, one accepted pair per source name at most
STORE_DTYPES: dict[str, str] = {
    KIND: STRING,
    SOURCE_NAME: STRING,
    DECISION: STRING,
    QB_ID: STRING,
    QB_NAME: STRING,
    QB_TYPE: STRING,
    DECIDED_AT: STRING,
    DECIDED_BY: STRING,
    HOW: STRING,
}
STORE_COLUMNS: list[str] = list(STORE_DTYPES)

PARENT_FULL_NAME = "parent_full_name"
#: proposed new QuickBooks records ("create missing")
NEW_RECORD_DTYPES: dict[str, str] = {
    KIND: STRING,
    NAME: STRING,
    PARENT_FULL_NAME: STRING,
    QB_TYPE: STRING,
    FIRST_NAME: STRING,
    LAST_NAME: STRING,
    EMAIL: STRING,
    HOURS: "float64",
    ENTRIES: "int64",
    SOURCE_NAME: STRING,
}
NEW_RECORD_COLUMNS: list[str] = list(NEW_RECORD_DTYPES)

# ------------------------------------------------------------------ send results
STATUS = "status"  # "sent", "skipped", "failed"
QBO_ID = "qbo_id"
ERROR_CODE = "error_code"
SEND_RESULT_DTYPES: dict[str, str] = {
    ENTRY_ID: STRING,
    STATUS: STRING,
    QBO_ID: STRING,
    ERROR_CODE: STRING,
    MESSAGE: STRING,
}
SEND_RESULT_COLUMNS: list[str] = list(SEND_RESULT_DTYPES)


def empty_frame(dtypes: Mapping[str, str]) -> pd.DataFrame:
    """An empty frame with exactly these columns and dtypes."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in dtypes.items()})


def conform(
    df: pd.DataFrame,
    dtypes: Mapping[str, str],
    *,
    what: str,
    file: str | None = None,
    extra: bool = True,
) -> pd.DataFrame:
    """Check that ``df`` has the columns of ``dtypes`` and return a copy cast to them.

    Args:
        df: the frame to check (not modified).
        dtypes: required columns and their dtypes.
        what: what the frame is, for the error message ("time entries", "batch", ...).
        file: the file it came from, if any.
        extra: keep columns not in ``dtypes`` (after the required ones); else drop them.

    Raises:
        InputError: naming every missing column, and every column whose values
            cannot be cast to the required dtype.
    """
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"{what} must be a pandas DataFrame, not {type(df).__name__}", file=file)
    missing = [c for c in dtypes if c not in df.columns]
    if missing:
        raise InputError(
            f"{what} lack required columns",
            file=file,
            problems=[Problem("missing column", column=c) for c in missing],
        )
    out = {}
    problems = []
    for col, dtype in dtypes.items():
        s = df[col]
        if str(s.dtype) == dtype:
            out[col] = s
            continue
        try:
            out[col] = _cast(s, dtype)
        except (TypeError, ValueError) as exc:
            problems.append(Problem(f"cannot be read as {dtype}: {exc}", column=col))
    if problems:
        raise InputError(f"{what} have columns of the wrong type", file=file, problems=problems)
    result = pd.DataFrame(out, index=df.index)
    if extra:
        for col in df.columns:
            if col not in dtypes:
                result[col] = df[col]
    return result


def _cast(s: pd.Series, dtype: str) -> pd.Series:
    if dtype == DATETIME:
        return pd.to_datetime(s).astype(DATETIME)
    if dtype == TIMEDELTA:
        return pd.to_timedelta(s).astype(TIMEDELTA)
    if dtype == STRING:
        return s.astype(STRING)
    if dtype == "bool":
        if s.isna().any():
            raise ValueError("missing values in a yes/no column")
        return s.astype(bool)
    return s.astype(dtype)


__all__ = [name for name in dir() if name.isupper()] + ["conform", "empty_frame"]
