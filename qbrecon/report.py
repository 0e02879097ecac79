"""The validation report: every problem, entry by entry, before anything is sent.

:func:`qbrecon.validate` returns a :class:`Report`. Its frames:

* ``failures`` — ``entry_id, rule, severity, message``: one row per broken rule per entry;
* ``clean`` — the entries that broke no error-level rule (warnings allowed), with
  ``duration_rounded``, the QuickBooks ids and names, and the fingerprint;
* ``rejected`` — the others, with ``failed_rules``;
* ``summary`` — per applied rule: how many entries broke it and their tracked hours.

In Jupyter the report shows itself as a table; :meth:`Report.plot` draws hours per
customer and failures per rule; :meth:`Report.to_excel` writes the workbook an
accountant reviews; :meth:`Report.raise_if_errors` turns errors into an exception.
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import schema as S
from .errors import ValidationFailed
from .mapping import customer_source_names

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .rules import Rule, Rules

#: entry columns shown beside each failure (the "source row")
DETAIL_COLUMNS = [
    S.SOURCE,
    S.ROW,
    S.USER,
    S.DATE,
    S.START,
    S.END,
    S.DURATION,
    S.DURATION_ROUNDED,
    S.CLIENT,
    S.PROJECT,
    S.TASK,
    S.DESCRIPTION,
    S.BILLABLE,
    S.BILLABLE_RATE,
    S.RATE_SOURCE,
    S.APPROVED,
    S.EMPLOYEE_NAME,
    S.CUSTOMER_NAME,
    S.SPLIT_FROM,
]


def _hours(s: pd.Series) -> float:
    return float(s.dt.total_seconds().fillna(0).sum() / 3600)


@dataclass(frozen=True, eq=False)
class Report:
    """What :func:`qbrecon.validate` found. See the module docstring for the frames."""

    failures: pd.DataFrame
    clean: pd.DataFrame
    rejected: pd.DataFrame
    summary: pd.DataFrame
    rules: Rules
    applied: tuple[Rule, ...]
    input_count: int

    # ------------------------------------------------------------------ views
    @property
    def errors(self) -> pd.DataFrame:
        """The failures with severity "error" (each rejects its entry)."""
        return self.failures[self.failures[S.SEVERITY] == "error"].reset_index(drop=True)

    @property
    def warnings(self) -> pd.DataFrame:
        """The failures with severity "warning" (reported; the entry stays in the batch)."""
        return self.failures[self.failures[S.SEVERITY] == "warning"].reset_index(drop=True)

    @property
    def ok(self) -> bool:
        """True when no entry broke an error-level rule."""
        return self.rejected.empty

    @cached_property
    def totals(self) -> dict[str, Any]:
        """Headline numbers: entries, pieces checked, clean, rejected, warnings, hours."""
        warned = self.warnings[S.ENTRY_ID].nunique()
        return {
            "entries": self.input_count,
            "checked": len(self.clean) + len(self.rejected),
            "clean": len(self.clean),
            "rejected": len(self.rejected),
            "with_warnings": int(warned),
            "failures": len(self.failures),
            "tracked_hours": _hours(self.clean[S.DURATION]) + _hours(self.rejected[S.DURATION]),
            "clean_hours": _hours(self.clean[S.DURATION_ROUNDED]),
            "rejected_hours": _hours(self.rejected[S.DURATION]),
            "rounding_hours": _hours(self.clean[S.DURATION_ROUNDED])
            - _hours(self.clean[S.DURATION]),
        }

    @cached_property
    def rounding(self) -> pd.DataFrame:
        """Hours added (+) or removed (-) by rounding in the clean batch, per user and customer."""
        return self.rounding_effect()

    def rounding_effect(self, by: str | list[str] = ("user", "customer")) -> pd.DataFrame:
        """Tracked versus rounded hours of the clean entries, grouped.

        Args:
            by: any of ``"user"``, ``"customer"`` (the QuickBooks customer), ``"date"``.

        Returns:
            Columns ``*by, entries, tracked_hours, rounded_hours, change_hours``.
        """
        names = {"user": S.USER, "customer": S.CUSTOMER_NAME, "date": S.DATE}
        by = [by] if isinstance(by, str) else list(by)
        unknown = [b for b in by if b not in names]
        if unknown:
            raise ValueError(f"cannot group by {unknown}; use any of {sorted(names)}")
        c = self.clean
        frame = pd.DataFrame(
            {
                **{b: c[names[b]] for b in by},
                "tracked": c[S.DURATION].dt.total_seconds() / 3600,
                "rounded": c[S.DURATION_ROUNDED].dt.total_seconds() / 3600,
            }
        )
        g = frame.groupby(by, sort=True, dropna=False)
        out = pd.DataFrame(
            {
                "entries": g.size(),
                "tracked_hours": g["tracked"].sum(),
                "rounded_hours": g["rounded"].sum(),
            }
        )
        out["change_hours"] = out["rounded_hours"] - out["tracked_hours"]
        return out.reset_index()

    def details(self) -> pd.DataFrame:
        """The failures beside the entry they concern (its source file row, user, date, ...)."""
        entries = pd.concat([self.clean, self.rejected], ignore_index=True)
        cols = [c for c in DETAIL_COLUMNS if c in entries.columns]
        src = entries[[S.ENTRY_ID, *cols]]
        return self.failures.merge(src, on=S.ENTRY_ID, how="left", validate="many_to_one")

    def for_entry(self, entry_id: str) -> pd.DataFrame:
        """Every failure of one entry."""
        return self.failures[self.failures[S.ENTRY_ID] == entry_id].reset_index(drop=True)

    @cached_property
    def rate_sources(self) -> pd.DataFrame:
        """Where the billable entries' hourly rates came from: one row per source
        (``tracker``, ``employee``, ``item``, ``default``, and ``""`` for none) with
        ``entries`` and ``hours``, for the clean and rejected entries together."""
        entries = pd.concat([self.clean, self.rejected], ignore_index=True)
        cols = ["source", "entries", "hours"]
        if S.RATE_SOURCE not in entries.columns:
            return pd.DataFrame(columns=cols)
        billable = entries[entries[S.BILLABLE].astype(bool)]
        hours = billable[S.DURATION].dt.total_seconds().fillna(0) / 3600
        g = hours.groupby(billable[S.RATE_SOURCE].astype(str))
        out = pd.DataFrame({"entries": g.size(), "hours": g.sum()})
        order = [s for s in (*S.RATE_SOURCES, "") if s in out.index]
        return out.reindex(order).rename_axis("source").reset_index()[cols]

    def _rates_line(self) -> str | None:
        """"rates: 40 from the tracker, 73 from employees, ..." when a fallback filled any."""
        rs = self.rate_sources
        if not len(rs) or not rs["source"].isin(S.RATE_SOURCES[1:]).any():
            return None
        words = {"tracker": "from the tracker", "employee": "from employee/vendor bill rates",
                 "item": "from item prices", "default": "from default_rate", "": "with none"}
        parts = [f"{int(r.entries)} {words[r.source]}" for r in rs.itertuples(index=False)]
        return "hourly rates of billable entries: " + ", ".join(parts)

    # ------------------------------------------------------------------ text
    def summary_text(self) -> str:
        """A short plain-text summary: the totals, then every rule that found something."""
        t = self.totals
        lines = [
            f"{t['entries']} entries checked"
            + (f" ({t['checked']} after splitting)" if t["checked"] != t["entries"] else "")
            + f": {t['clean']} clean ({t['clean_hours']:.2f} h), "
            f"{t['rejected']} rejected ({t['rejected_hours']:.2f} h), "
            f"{t['with_warnings']} with warnings",
        ]
        if self.rules.rounding is not None or abs(t["rounding_hours"]) > 1e-9:
            how = str(self.rules.rounding) if self.rules.rounding else "to the whole minute"
            lines.append(
                f"rounding ({how}) changed the clean hours by {t['rounding_hours']:+.2f} h"
            )
        rates = self._rates_line()
        if rates:
            lines.append(rates)
        found = self.summary[self.summary["entries"] > 0]
        if len(found):
            lines.append("")
            width = max(len(n) for n in found["name"])
            for r in found.itertuples(index=False):
                lines.append(
                    f"  {r.name:<{width}}  {r.severity:<7}  {r.entries:>7} entries  "
                    f"{r.hours:>9.2f} h"
                )
        else:
            lines.append("every rule passed")
        return "\n".join(lines)

    def __repr__(self) -> str:
        t = self.totals
        return (
            f"Report(entries={t['entries']}, clean={t['clean']}, rejected={t['rejected']}, "
            f"failures={t['failures']})"
        )

    def __str__(self) -> str:
        return self.summary_text()

    def _repr_html_(self) -> str:
        t = self.totals
        esc = html.escape
        head = (
            f"<b>{t['entries']}</b> entries: <b style='color:#1a7f37'>{t['clean']} clean</b> "
            f"({t['clean_hours']:.2f} h), <b style='color:#cf222e'>{t['rejected']} rejected</b> "
            f"({t['rejected_hours']:.2f} h), {t['with_warnings']} with warnings"
        )
        if self.rules.rounding is not None:
            head += f"; {esc(str(self.rules.rounding))}: {t['rounding_hours']:+.2f} h"
        rates = self._rates_line()
        if rates:
            head += f"<br>{esc(rates)}"
        summary = self.summary.assign(hours=self.summary["hours"].round(2))
        parts = [
            "<div class='qbrecon-report'>",
            f"<p>{head}</p>",
            summary.to_html(index=False, escape=True, border=0),
        ]
        if len(self.failures):
            shown = self.details()[
                [S.ENTRY_ID, S.RULE, S.SEVERITY, S.MESSAGE, S.ROW, S.USER, S.DATE]
            ]
            parts.append(
                f"<details open><summary>failures ({len(self.failures)}; first 20)</summary>"
                + shown.head(20).to_html(index=False, escape=True, border=0)
                + "</details>"
            )
        if len(self.clean):
            cols = [
                S.ENTRY_ID,
                S.DATE,
                S.EMPLOYEE_NAME,
                S.CUSTOMER_NAME,
                S.ITEM_NAME,
                S.DURATION,
                S.DURATION_ROUNDED,
                S.BILLABLE_RATE,
                S.RATE_SOURCE,
                S.DESCRIPTION,
            ]
            cols = [c for c in cols if c in self.clean.columns]
            parts.append(
                f"<details><summary>clean entries ({len(self.clean)}; first 10)</summary>"
                + self.clean[cols].head(10).to_html(index=False, escape=True, border=0)
                + "</details>"
            )
        parts.append("</div>")
        return "\n".join(parts)

    # ------------------------------------------------------------------ charts
    def plot_hours_by_customer(self, ax: Axes | None = None, *, top: int = 15) -> Axes:
        """Horizontal bars: clean (rounded) and rejected (tracked) hours per customer."""
        import matplotlib.pyplot as plt

        clean = self.clean.assign(
            _c=self.clean[S.CUSTOMER_NAME].where(self.clean[S.CUSTOMER_NAME] != "", "(no customer)")
        )
        rej_names = (
            customer_source_names(self.rejected)
            if len(self.rejected)
            else pd.Series([], dtype=S.STRING)
        )
        rejected = self.rejected.assign(_c=rej_names.where(rej_names != "", "(no customer)"))
        frame = pd.DataFrame(
            {
                "clean": clean.groupby("_c")[S.DURATION_ROUNDED].sum().dt.total_seconds() / 3600,
                "rejected": rejected.groupby("_c")[S.DURATION].sum().dt.total_seconds() / 3600,
            }
        ).fillna(0.0)
        frame = frame.assign(_t=frame.sum(axis=1)).sort_values("_t").drop(columns="_t").tail(top)
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 0.35 * max(len(frame), 3) + 1.2))
        if frame.empty:
            ax.text(0.5, 0.5, "no entries", ha="center", va="center", transform=ax.transAxes)
        else:
            frame.plot.barh(stacked=True, ax=ax, color=["#2da44e", "#cf222e"], width=0.75)
        ax.set_xlabel("hours")
        ax.set_ylabel("")
        ax.set_title("Hours per customer")
        return ax

    def plot_failures(self, ax: Axes | None = None) -> Axes:
        """Horizontal bars: entries per rule that found something, coloured by severity."""
        import matplotlib.pyplot as plt

        found = self.summary[self.summary["entries"] > 0].iloc[::-1]
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 0.35 * max(len(found), 3) + 1.2))
        if found.empty:
            ax.text(0.5, 0.5, "no failures", ha="center", va="center", transform=ax.transAxes)
        else:
            colors = ["#cf222e" if s == "error" else "#bf8700" for s in found[S.SEVERITY]]
            ax.barh(found["name"], found["entries"], color=colors)
        ax.set_xlabel("entries")
        ax.set_title("Failures per rule (red: error, amber: warning)")
        return ax

    def plot(self) -> Figure:
        """Both charts side by side."""
        import matplotlib.pyplot as plt

        fig, (a, b) = plt.subplots(1, 2, figsize=(13, 4.5))
        self.plot_hours_by_customer(a)
        self.plot_failures(b)
        fig.tight_layout()
        return fig

    # ------------------------------------------------------------------ files
    def to_excel(self, path: str | os.PathLike[str]) -> Path:
        """Write the review workbook.

        Sheets: Summary (totals, rules, and where hourly rates came from when a
        fallback filled any), Failures (each failure beside its source row),
        Clean batch (:func:`qbrecon.build_batch`), Rejected, Rounding, Rules. Text that
        starts with ``= + - @`` is written as text, never as a formula.

        Returns:
            The path written.

        Raises:
            InputError: the file cannot be written.
        """
        from ._io import write_workbook
        from .batch import build_batch

        t = self.totals
        totals = pd.DataFrame(
            {
                "measure": list(t),
                "value": [round(v, 4) if isinstance(v, float) else v for v in t.values()],
            }
        )
        rules_table = self.rules.describe(
            lists=any(r.id in ("missing_record", "inactive_record") for r in self.applied),
            ledger=any(r.id in ("already_sent", "changed_after_send") for r in self.applied),
        )
        settings = pd.DataFrame({"settings (TOML)": self.rules.to_toml().splitlines()})
        return write_workbook(
            path,
            {
                "Summary": [totals, self.summary]
                + ([self.rate_sources] if self._rates_line() else []),
                "Failures": self.details(),
                "Clean batch": build_batch(self),
                "Rejected": self.rejected,
                "Rounding": self.rounding,
                "Rules": [rules_table, settings],
            },
        )

    def raise_if_errors(self) -> Report:
        """Raise :class:`~qbrecon.errors.ValidationFailed` when any entry was rejected.

        Returns:
            The report itself when nothing was rejected, so calls chain.

        Example:
            >>> from qbrecon import validate
            >>> from qbrecon.testing import make_entries, make_mapping
            >>> report = validate(make_entries([{"user": "Eve", "project": "Web"}]),
            ...                   make_mapping(customer={"Web": "8"}))
            >>> report.raise_if_errors()
            Traceback (most recent call last):
            ...
            qbrecon.errors.ValidationFailed: 1 of 1 entries broke error-level rules (no_employee_match 1); see report.failures
        """
        if self.ok:
            return self
        found = self.summary[(self.summary[S.SEVERITY] == "error") & (self.summary["entries"] > 0)]
        listed = ", ".join(f"{r} {n}" for r, n in zip(found[S.RULE], found["entries"], strict=True))
        raise ValidationFailed(
            f"{len(self.rejected)} of {len(self.rejected) + len(self.clean)} entries broke "
            f"error-level rules ({listed}); see report.failures",
            report=self,
        )


__all__ = ["Report"]
