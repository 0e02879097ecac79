"""Small literal fixtures for the matching tests: entries and QBLists built by hand."""

from __future__ import annotations

import re

import pandas as pd

from qbrecon import schema as S
from qbrecon.qblists import QBLists


def entries(rows: list[dict]) -> pd.DataFrame:
    """Canonical entries from a few fields per row (user, email, client, project, hours)."""
    out = []
    for i, r in enumerate(rows):
        out.append({
            S.ENTRY_ID: f"e{i}", S.SOURCE: "clockify", S.ROW: i + 2,
            S.USER: r.get("user", ""), S.EMAIL: r.get("email", ""),
            S.CLIENT: r.get("client", ""), S.PROJECT: r.get("project", ""),
            S.TASK: "", S.DESCRIPTION: "", S.TAGS: "",
            S.DATE: pd.Timestamp("2026-11-02"), S.START: pd.NaT, S.END: pd.NaT,
            S.DURATION: pd.Timedelta(hours=r.get("hours", 1.0)), S.BILLABLE: True,
            S.BILLABLE_RATE: float("nan"), S.APPROVED: pd.NA,
        })
    return S.conform(pd.DataFrame(out, columns=S.ENTRY_COLUMNS), S.ENTRY_DTYPES, what="entries")


_EMAIL = re.compile(r"^(.*?)\s*<([^>]+)>$")


def people(names: list[str], *, prefix: str = "E") -> pd.DataFrame:
    """Employees or vendors; "Name <mail>" sets an email, "(deleted)" makes it inactive."""
    rows = []
    for i, n in enumerate(names, start=1):
        m = _EMAIL.match(n)
        name, mail = (m.group(1), m.group(2)) if m else (n, "")
        rows.append({S.QB_ID: f"{prefix}{i}", S.NAME: name, S.FULL_NAME: name, S.PARENT_ID: "",
                     S.LEVEL: 0, S.ACTIVE: not name.endswith("(deleted)"), S.EMAIL: mail})
    return pd.DataFrame(rows, columns=[*S.LIST_COLUMNS, S.EMAIL])


def customers(full_names: list[str]) -> pd.DataFrame:
    """Customers from full names; parents must be listed too ("Acme", "Acme:Web")."""
    ids = {f: f"C{i}" for i, f in enumerate(full_names, start=1)}
    rows = []
    for f in full_names:
        parent = f.rsplit(":", 1)[0] if ":" in f else ""
        rows.append({S.QB_ID: ids[f], S.NAME: f.rsplit(":", 1)[-1], S.FULL_NAME: f,
                     S.PARENT_ID: ids.get(parent, ""), S.LEVEL: f.count(":"),
                     S.ACTIVE: not f.endswith("(deleted)")})
    return pd.DataFrame(rows, columns=S.LIST_COLUMNS)


def lists(employees=(), vendors=(), customer_names=()) -> QBLists:
    return QBLists(employees=people(list(employees)), vendors=people(list(vendors), prefix="V"),
                   customers=customers(list(customer_names)))
