"""QuickBooks lists: employees, vendors, customers (with jobs), service items, classes.

:class:`QBLists` holds one frame per list, each with the shared columns
``qb_id, name, full_name, parent_id, level, active`` (see :mod:`qbrecon.schema`).
For customers ``full_name`` is the QuickBooks ``Parent:Child:Grandchild`` path and
``level`` is 0 for a top-level customer.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import pandas as pd

from . import schema as S


def _empty_people() -> pd.DataFrame:
    return S.empty_frame(S.PERSON_DTYPES)


def _empty_list() -> pd.DataFrame:
    return S.empty_frame(S.LIST_DTYPES)


def _empty_items() -> pd.DataFrame:
    return S.empty_frame(S.ITEM_DTYPES)


_DTYPES = {
    "employees": S.PERSON_DTYPES,
    "vendors": S.PERSON_DTYPES,
    "customers": S.LIST_DTYPES,
    "items": S.ITEM_DTYPES,
    "classes": S.LIST_DTYPES,
    "payroll_items": S.LIST_DTYPES,
}


@dataclass(frozen=True)
class QBLists:
    """The QuickBooks lists qbrecon matches against.

    Attributes:
        employees: QuickBooks employees (``NameOf`` Employee).
        vendors: vendors; contractors who track time are vendors (``NameOf`` Vendor).
        customers: customers and sub-customers/jobs, ``full_name`` = ``Parent:Child``.
        items: service items (and other items, see ``item_type``).
        classes: classes (QuickBooks class tracking), when loaded.
        payroll_items: payroll wage items (QuickBooks Desktop), when loaded.
    """

    employees: pd.DataFrame = field(default_factory=_empty_people)
    vendors: pd.DataFrame = field(default_factory=_empty_people)
    customers: pd.DataFrame = field(default_factory=_empty_list)
    items: pd.DataFrame = field(default_factory=_empty_items)
    classes: pd.DataFrame = field(default_factory=_empty_list)
    payroll_items: pd.DataFrame = field(default_factory=_empty_list)

    def __post_init__(self) -> None:
        for f in fields(self):
            frame = getattr(self, f.name)
            dtypes = _DTYPES[f.name]
            # optional extra columns may be absent in hand-built frames: fill them with ""
            frame = frame.copy()
            for col, dtype in dtypes.items():
                if col not in frame.columns and col not in S.LIST_DTYPES:
                    frame[col] = pd.Series([""] * len(frame), index=frame.index, dtype=dtype)
            frame = S.conform(frame, dtypes, what=f"QuickBooks {f.name}")
            object.__setattr__(self, f.name, frame.reset_index(drop=True))

    # ------------------------------------------------------------------ views
    def people(self) -> pd.DataFrame:
        """Employees and vendors in one frame, with ``qb_type`` "Employee" or "Vendor"."""
        e = self.employees.assign(**{S.QB_TYPE: "Employee"})
        v = self.vendors.assign(**{S.QB_TYPE: "Vendor"})
        out = pd.concat([e, v], ignore_index=True)
        out[S.QB_TYPE] = out[S.QB_TYPE].astype(S.STRING)
        return out

    def merge(self, other: QBLists) -> QBLists:
        """These lists plus ``other``'s; a record present in both (same qb_id) is kept once,
        the later one winning."""
        out = {}
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            both = pd.concat([a, b], ignore_index=True) if len(a) and len(b) else (b if len(b) else a)
            out[f.name] = both.drop_duplicates(S.QB_ID, keep="last").reset_index(drop=True)
        return QBLists(**out)

    def counts(self) -> pd.DataFrame:
        """Records per list: total, active, inactive."""
        rows = []
        for f in fields(self):
            frame = getattr(self, f.name)
            active = int(frame[S.ACTIVE].sum())
            rows.append({"list": f.name, "records": len(frame), "active": active,
                         "inactive": len(frame) - active})
        return pd.DataFrame(rows)

    def summary(self) -> str:
        """A short human-readable summary of what was loaded."""
        lines = ["QuickBooks lists"]
        for r in self.counts().itertuples(index=False):
            if r.records:
                extra = f" ({r.inactive} inactive)" if r.inactive else ""
                lines.append(f"  {r.list:<14}{r.records:>7}{extra}")
        if len(lines) == 1:
            lines.append("  (empty)")
        subs = int((self.customers[S.LEVEL] > 0).sum())
        if subs:
            depth = int(self.customers[S.LEVEL].max())
            lines.append(f"  customers include {subs} sub-customers/jobs, up to {depth} level(s) deep")
        return "\n".join(lines)

    def __repr__(self) -> str:
        parts = ", ".join(f"{f.name}={len(getattr(self, f.name))}" for f in fields(self))
        return f"QBLists({parts})"

    def _repr_html_(self) -> str:
        return "<pre>" + self.summary() + "</pre>"
