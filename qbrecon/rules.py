"""Validation rules, rounding, and :func:`validate`.

Rules are small named objects with their parameters in the name (``too_long(23:55)``,
``outside_period(2026-11-01..2026-11-15)``). :class:`Rules` is the one frozen settings
object that says which rules apply and how severe each is; :func:`validate` runs every
applicable rule on every entry, vectorized, and returns a :class:`~qbrecon.report.Report`.

The rules, in the order they are reported:

==================== ========= ====================================================
rule                 severity  applies when
==================== ========= ====================================================
not_billable         error     ``require_billable`` (Clockify's QuickBooks rule)
no_project           error     ``require_project``: billable time needs a project
too_long             error     always: rounded duration over ``max_duration``
zero_duration        error     always: judged on the rounded duration
no_employee_match    error     always: the user is not mapped
no_customer_match    error     always: the entry names a customer that is not mapped
no_service_item      error     target ``qbd``/``iif``: billable time needs an item
missing_record       error     with lists: mapped to an id the lists do not have
inactive_record      error     with lists: mapped to an inactive record
not_approved         error     ``require_approved``
outside_period       error     ``period`` is set
missing_rate         error     ``require_rate`` (target ``qbo``): billable needs a rate,
                               from the tracker or ``rate_fallback``
description_too_long error     always: 3,981 (qbo), 4,076 (qbd), 1,000 (iif) chars
closed_books         error     ``close_date`` is set
overlap              warning   always: the same user's entries overlap in time
split_entry          warning   ``split_long``: the entry was split into pieces
already_sent         error     with a ledger: sent before, unchanged
changed_after_send   error     with a ledger: sent before, edited since
==================== ========= ====================================================

``Rules(severity={...})`` changes a rule's severity or switches it ``"off"``; naming a
rule there with ``"error"`` or ``"warning"`` also switches on a rule that the other
settings leave off (``severity={"not_approved": "warning"}`` reports unapproved time
without rejecting it).
"""

from __future__ import annotations

import logging
import os
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd
import pyarrow as pa

from . import _arrow
from . import schema as S
from .errors import InputError, Problem, SettingsError
from .ids import FINGERPRINT_COLUMNS, hex_digests, row_hashes
from .mapping import check_mapping, customer_source_names, normalize_key

if TYPE_CHECKING:  # pragma: no cover
    from .ledger import Ledger
    from .qblists import QBLists
    from .report import Report

log = logging.getLogger("qbrecon")

ROUNDING_MODES = ("up", "down", "nearest")
#: the rate fallback sources, and the default order (QuickBooks' forms: person, then item)
RATE_FALLBACK_SOURCES = ("employee", "item", "default")
RATE_FALLBACK = ("employee", "item", "default")
TARGETS = ("qbo", "qbd", "iif")
SEVERITY_CHOICES = ("error", "warning", "off")
#: the longest text each target accepts (QBO Description, qbXML Notes, IIF NOTE)
DESCRIPTION_LIMITS = {"qbo": 4000, "qbd": 4095, "iif": 1000}
#: what qbrecon adds to the text it sends: " [qbr:<12 hex>]", the marker that finds an entry
#: in QuickBooks again (QuickBooks Online Description, qbXML Notes; IIF carries none)
MARKER_RESERVE = {"qbo": 19, "qbd": 19, "iif": 0}

_NS = 1_000_000_000
_MINUTE = 60 * _NS
_DAY = 86_400 * _NS


# ============================================================================ rounding
@dataclass(frozen=True)
class Rounding:
    """Per-entry rounding of durations, as Clockify rounds reports and exports.

    Args:
        mode: ``"up"``, ``"down"`` or ``"nearest"`` (a duration exactly half-way
            rounds up).
        minutes: the interval, 1 to 60 minutes.

    Raises:
        SettingsError: an unknown mode or an interval outside 1..60.

    Example:
        >>> r = Rounding("up", 15)
        >>> r.name
        'up(15)'
        >>> r.apply(pd.Series(pd.to_timedelta(["0:00:01", "0:15:00", "1:38:00"]))).astype(str).tolist()
        ['0 days 00:15:00', '0 days 00:15:00', '0 days 01:45:00']
    """

    mode: str
    minutes: int

    def __post_init__(self) -> None:
        if self.mode not in ROUNDING_MODES:
            raise SettingsError(
                f"rounding mode {self.mode!r} is not allowed; use one of {', '.join(ROUNDING_MODES)}",
                setting="rounding.mode",
            )
        m = self.minutes
        if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or not 1 <= m <= 60:
            raise SettingsError(
                f"rounding interval {m!r} is not allowed; use a whole number of minutes from 1 to 60",
                setting="rounding.minutes",
            )
        object.__setattr__(self, "minutes", int(m))

    @classmethod
    def parse(cls, value: Rounding | str | Mapping[str, Any] | None) -> Rounding | None:
        """A Rounding from ``"up:15"``, ``"nearest 6"``, ``{"mode": "down", "minutes": 30}``,
        a Rounding, or None / ``"none"`` / ``""`` (no rounding).

        Example:
            >>> Rounding.parse("nearest:6")
            Rounding(mode='nearest', minutes=6)
        """
        if value is None or isinstance(value, Rounding):
            return value
        if isinstance(value, str):
            text = value.strip().lower()
            if text in ("", "none", "off"):
                return None
            m = re.fullmatch(r"(up|down|nearest)\s*[:\s]\s*(\d+)\s*(?:min(?:utes?)?)?", text)
            if not m:
                raise SettingsError(
                    f"rounding {value!r} is not understood; write it as MODE:MINUTES, "
                    f'e.g. "up:15" (modes: {", ".join(ROUNDING_MODES)}; minutes 1..60)',
                    setting="rounding",
                )
            return cls(m.group(1), int(m.group(2)))
        if isinstance(value, Mapping):
            unknown = set(value) - {"mode", "minutes"}
            if unknown or "mode" not in value or "minutes" not in value:
                raise SettingsError(
                    "rounding needs exactly the keys mode and minutes "
                    f"(got {', '.join(sorted(map(str, value))) or 'none'})",
                    setting="rounding",
                )
            return cls(value["mode"], value["minutes"])
        raise SettingsError(
            f'rounding must be a Rounding, "MODE:MINUTES" or a table, not {type(value).__name__}',
            setting="rounding",
        )

    @property
    def name(self) -> str:
        return f"{self.mode}({self.minutes})"

    def __str__(self) -> str:
        how = {"up": "up", "down": "down", "nearest": "to the nearest"}[self.mode]
        return f"round {how} {self.minutes} min"

    def apply(self, durations: pd.Series) -> pd.Series:
        """Round each duration (vectorized); missing durations stay missing."""
        return round_durations(durations, self)


def round_durations(durations: pd.Series, rounding: Rounding | None) -> pd.Series:
    """Round each duration per ``rounding``; with None, to the nearest whole minute.

    QuickBooks stores whole minutes, so even without rounding the duration that is
    sent is a whole number of minutes (half a minute rounds up).

    Example:
        >>> s = pd.Series(pd.to_timedelta(["0:07:29", "0:07:30"]))
        >>> round_durations(s, None).dt.total_seconds().tolist()
        [420.0, 480.0]
    """
    r = rounding or Rounding("nearest", 1)
    values = durations.astype(S.TIMEDELTA)
    missing = values.isna().to_numpy()
    ns = values.to_numpy().astype("int64")
    ns[missing] = 0
    interval = r.minutes * _MINUTE
    q, rem = np.divmod(ns, interval)
    if r.mode == "up":
        q += rem > 0
    elif r.mode == "nearest":
        q += 2 * rem >= interval
    out = (q * interval).astype("timedelta64[ns]")
    out[missing] = np.timedelta64("NaT")
    return pd.Series(out, index=durations.index, name=S.DURATION_ROUNDED)


# ============================================================================= helpers
def _parse_duration(value: Any, setting: str) -> pd.Timedelta:
    if isinstance(value, (timedelta, pd.Timedelta)) and not pd.isna(value):
        td = pd.Timedelta(value)
    elif isinstance(value, str) and (
        m := re.fullmatch(r"\s*(\d+):([0-5]\d)(?::([0-5]\d))?\s*", value)
    ):
        td = pd.Timedelta(
            hours=int(m.group(1)), minutes=int(m.group(2)), seconds=int(m.group(3) or 0)
        )
    else:
        raise SettingsError(
            f'{setting} {value!r} is not a duration; write it as "H:MM" or "H:MM:SS", e.g. "23:55"',
            setting=setting,
        )
    if td <= pd.Timedelta(0):
        raise SettingsError(f"{setting} must be longer than zero (got {value!r})", setting=setting)
    return td


def _parse_date(value: Any, setting: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise SettingsError(
        f"{setting} {value!r} is not a date; write it as YYYY-MM-DD", setting=setting
    )


def format_duration(td: pd.Timedelta | timedelta) -> str:
    """``H:MM``, or ``H:MM:SS`` when there are seconds; hours are not limited to 24.

    Example:
        >>> format_duration(pd.Timedelta(hours=30)), format_duration(pd.Timedelta(seconds=20))
        ('30:00', '0:00:20')
    """
    if pd.isna(td):
        return "no duration"
    secs = (
        int(pd.Timedelta(td).value // _NS)
        if td >= pd.Timedelta(0)
        else -int(-pd.Timedelta(td).value // _NS)
    )
    sign, secs = ("-", -secs) if secs < 0 else ("", secs)
    h, rest = divmod(secs, 3600)
    m, s = divmod(rest, 60)
    return f"{sign}{h}:{m:02d}" + (f":{s:02d}" if s else "")


def _format_durations(s: pd.Series) -> pd.Series:
    """Vectorized :func:`format_duration` (``"no duration"`` for missing values)."""
    values = s.astype(S.TIMEDELTA)
    missing = values.isna().to_numpy()
    ns = values.to_numpy().astype("int64")
    ns[missing] = 0
    secs = np.abs(ns) // _NS
    neg = (ns < 0) & (secs > 0)
    h, rest = np.divmod(secs, 3600)
    m, sec = np.divmod(rest, 60)
    hh = pd.Series(h.astype(str), index=s.index)
    mm = pd.Series(m.astype(str), index=s.index).str.zfill(2)
    ss = pd.Series(sec.astype(str), index=s.index).str.zfill(2)
    text = hh + ":" + mm
    text = text.where(sec == 0, text + ":" + ss)
    text = text.where(~neg, "-" + text)
    return text.where(~missing, "no duration").astype(S.STRING)


def _flag(values: pd.Series) -> np.ndarray:
    """A nullable boolean Series as a plain numpy bool array (missing = False)."""
    return values.to_numpy(dtype=bool, na_value=False)


def _quoted(s: pd.Series) -> pd.Series:
    return "'" + s.astype(S.STRING) + "'"


def _constant_text(text: str, n: int) -> pd.api.extensions.ExtensionArray:
    """``n`` times the same text (converted once, then repeated)."""
    return pd.array([text], dtype=S.STRING).take(np.zeros(n, dtype=np.intp))


class _Rows:
    """The failing rows of the working frame, read column by column.

    Message builders index it like a frame (``sub[S.CLIENT]``, ``sub.index``); only the
    columns they read are taken, never the whole wide frame.
    """

    def __init__(self, w: pd.DataFrame, mask: np.ndarray):
        self._w = w
        self._mask = mask
        self.index = w.index[mask]

    def __getitem__(self, column: str) -> pd.Series:
        return self._w[column][self._mask]

    def __len__(self) -> int:
        return len(self.index)


def _messages(w: pd.DataFrame, mask: np.ndarray, text: str | pd.Series | Callable) -> pd.Series:
    """The message of each failing row, indexed by row; ``text`` is a constant, a Series
    over all rows, or a function building the messages from the failing rows only."""
    idx = w.index[mask]
    if isinstance(text, str):
        return pd.Series(_constant_text(text, len(idx)), index=idx)
    if callable(text):
        if not len(idx):
            return pd.Series([], index=idx, dtype=S.STRING)
        return text(_Rows(w, mask)).astype(S.STRING)
    return text.loc[idx].astype(S.STRING)


# ============================================================================== rules
@dataclass(frozen=True, kw_only=True)
class Rule:
    """One named check. ``check`` returns a message for each failing row (by position).

    Subclasses set ``id`` and ``summary`` and hold their parameters as fields; the
    parameters appear in :attr:`name`.
    """

    id: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    severity: str = "error"

    @property
    def params(self) -> str:
        return ""

    @property
    def name(self) -> str:
        p = self.params
        return f"{self.id}({p})" if p else self.id

    def check(self, ctx: _Context) -> pd.Series:  # pragma: no cover - abstract
        raise NotImplementedError

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, kw_only=True)
class NotBillable(Rule):
    id = "not_billable"
    summary = "only billable time is sent"

    def check(self, ctx):
        return _messages(ctx.w, ~ctx.billable, "not billable (only billable time is sent)")


@dataclass(frozen=True, kw_only=True)
class NoProject(Rule):
    id = "no_project"
    summary = "billable time needs a project (a QuickBooks customer)"

    def check(self, ctx):
        w = ctx.w
        mask = ctx.billable & (w[S.PROJECT] == "").to_numpy()

        def text(sub):
            plain = "billable but has no project"
            return (plain + " (client " + _quoted(sub[S.CLIENT]) + ")").where(
                sub[S.CLIENT] != "", plain
            )

        return _messages(w, mask, text)


@dataclass(frozen=True, kw_only=True)
class TooLong(Rule):
    id = "too_long"
    summary = "an entry may not last longer than the limit (after rounding)"
    limit: pd.Timedelta = field(default_factory=lambda: pd.Timedelta(hours=23, minutes=55))

    @property
    def params(self):
        return format_duration(self.limit)

    def check(self, ctx):
        w = ctx.w
        mask = w[S.DURATION_ROUNDED].to_numpy() > np.timedelta64(self.limit.value, "ns")
        if not mask.any():
            return _messages(w, mask, "")
        sub = _Rows(w, mask)
        rounded = _format_durations(sub[S.DURATION_ROUNDED])
        raw = _format_durations(sub[S.DURATION])
        lasts = "lasts " + rounded
        lasts = lasts.where(
            (sub[S.DURATION] == sub[S.DURATION_ROUNDED]).to_numpy(),
            lasts + " after rounding (" + raw + " tracked)",
        )
        return (lasts + f", over the {self.params} limit").astype(S.STRING)


@dataclass(frozen=True, kw_only=True)
class ZeroDuration(Rule):
    id = "zero_duration"
    summary = "an entry must last at least a minute once rounded"

    def check(self, ctx):
        w = ctx.w
        rounded = w[S.DURATION_ROUNDED].to_numpy()
        mask = np.isnat(rounded) | (rounded <= np.timedelta64(0, "ns"))
        if not mask.any():
            return _messages(w, mask, "")
        sub = _Rows(w, mask)
        raw = sub[S.DURATION]
        text = "lasts " + _format_durations(raw) + ", which rounds to 0:00"
        text = text.where(_flag(raw > pd.Timedelta(0)), "lasts " + _format_durations(raw))
        text = text.where(
            _flag(raw >= pd.Timedelta(0)),
            "has a negative duration (" + _format_durations(raw) + ")",
        )
        text = text.where(raw.notna().to_numpy(), "has no duration")
        return text.astype(S.STRING)


@dataclass(frozen=True, kw_only=True)
class NoEmployeeMatch(Rule):
    id = "no_employee_match"
    summary = "the user must be mapped to a QuickBooks employee or vendor"

    def check(self, ctx):
        return ctx.people.messages(ctx.w, "unmatched", ctx.people.has("unmatched"))


@dataclass(frozen=True, kw_only=True)
class NoCustomerMatch(Rule):
    id = "no_customer_match"
    summary = "the entry's client/project must be mapped to a QuickBooks customer"

    def check(self, ctx):
        c = ctx.customers
        # a name the mapping says has no customer ("Internal") is fine on non-billable time:
        # QuickBooks takes time without a customer unless it is billable
        mask = c.has("unmatched") & ~(c.declined[c.codes] & ~ctx.billable)
        return c.messages(ctx.w, "unmatched", mask)


@dataclass(frozen=True, kw_only=True)
class NoServiceItem(Rule):
    id = "no_service_item"
    summary = "billable time needs a service item (QuickBooks Desktop refuses it without one)"

    def check(self, ctx):
        w = ctx.w
        items = ctx.items
        mask = ctx.billable & ((items.qb_id == "") & (items.qb_name == ""))[items.codes]

        def text(sub):
            named = (
                "billable but has no service item: task "
                + _quoted(sub[S.TASK])
                + " is not mapped to an item and no default_item is set"
            )
            return named.where(
                sub[S.TASK] != "",
                "billable but has no service item: it has no task and no default_item is set",
            )

        return _messages(w, mask, text)


@dataclass(frozen=True, kw_only=True)
class MissingRecord(Rule):
    id = "missing_record"
    summary = "a mapped QuickBooks id must exist in the QuickBooks lists"

    def check(self, ctx):
        return _joined(ctx.w, [ctx.people, ctx.customers, ctx.items], "missing")


@dataclass(frozen=True, kw_only=True)
class InactiveRecord(Rule):
    id = "inactive_record"
    summary = "time cannot go to an inactive QuickBooks employee, vendor, customer or item"

    def check(self, ctx):
        return _joined(ctx.w, [ctx.people, ctx.customers, ctx.items], "inactive")


def _joined(w: pd.DataFrame, parts: list[_Resolved], answer: str) -> pd.Series:
    """The rows where any lookup gave ``answer`` text, with the texts joined by "; "."""
    mask = np.zeros(len(w), dtype=bool)
    for p in parts:
        mask |= p.has(answer)
    if not mask.any():
        return _messages(w, mask, "")
    # a message depends only on the combination of names: build each combination's once
    combo = np.zeros(int(mask.sum()), dtype=np.int64)
    for p in parts:
        combo = pd.factorize(combo * max(len(p.qb_id), 1) + p.codes[mask])[0]
    _, first = np.unique(combo, return_index=True)
    answers = [getattr(p, answer)[p.codes[mask][first]] for p in parts]
    texts = ["; ".join(t for t in said if t) for said in zip(*answers, strict=True)]
    return pd.Series(pd.array(texts, dtype=S.STRING).take(combo), index=w.index[mask])


@dataclass(frozen=True, kw_only=True)
class NotApproved(Rule):
    id = "not_approved"
    summary = "only approved time is sent"

    def check(self, ctx):
        w = ctx.w
        approved = w[S.APPROVED]
        mask = ~_flag(approved == True)  # noqa: E712 - nullable boolean: NA is not approved

        def text(sub):
            known = sub[S.APPROVED].notna()
            return pd.Series("not approved", index=sub.index, dtype=S.STRING).where(
                known, "approval unknown: the export does not say"
            )

        return _messages(w, mask, text)


@dataclass(frozen=True, kw_only=True)
class OutsidePeriod(Rule):
    id = "outside_period"
    summary = "the work date must fall in the pay period"
    start: date = date.min
    end: date = date.max

    @property
    def params(self):
        return f"{self.start:%Y-%m-%d}..{self.end:%Y-%m-%d}"

    def check(self, ctx):
        w = ctx.w
        d = w[S.DATE]
        mask = _flag(
            (d < pd.Timestamp(self.start)) | (d >= pd.Timestamp(self.end) + pd.Timedelta(days=1))
        )

        def text(sub):
            day = sub[S.DATE]
            return (
                "dated "
                + day.dt.strftime("%Y-%m-%d").astype(S.STRING)
                + f", outside the period {self.start:%Y-%m-%d} to {self.end:%Y-%m-%d}"
            ).where(day.notna(), "has no date")

        return _messages(w, mask | d.isna().to_numpy(), text)


@dataclass(frozen=True, kw_only=True)
class MissingRate(Rule):
    id = "missing_rate"
    summary = "billable time needs an hourly rate (QuickBooks Online requires one)"

    def check(self, ctx):
        w = ctx.w
        mask = ctx.billable & w[S.BILLABLE_RATE].isna().to_numpy()
        if not ctx.rules.rate_fallback:
            return _messages(w, mask, "billable but has no hourly rate")
        return _rate_messages(ctx, mask)


_PERSON_RATE_WHY = {
    "none": "{what} '{name}' has no bill rate in QuickBooks",
    "inactive": "{what} '{name}' is inactive in QuickBooks",
    "missing": "{what} id {qb_id} is not in the QuickBooks lists",
    "no_lists": "{what} '{name}' (bill rate unknown: no QuickBooks lists given)",
}
_ITEM_RATE_WHY = {
    "none": "item '{name}' has no price",
    "inactive": "item '{name}' is inactive in QuickBooks",
    "missing": "item id {qb_id} is not in the QuickBooks lists",
    "no_lists": "item '{name}' (price unknown: no QuickBooks lists given)",
}


def _rate_why(source: str, r: _Resolved, i: int, name: str) -> str:
    """Why source ``source`` gave distinct name ``i`` (spelled ``name`` in the tracker) no rate."""
    state = r.rate_state[i]
    if source == "employee":
        if state == "unmapped":
            return f"user '{name}' is not mapped to a QuickBooks employee or vendor" if name else (
                "it has no user"
            )
        what = (r.qb_type[i] or "Employee").lower()
        return _PERSON_RATE_WHY[state].format(what=what, name=r.qb_name[i], qb_id=r.qb_id[i])
    if state == "unmapped":
        return (
            f"task '{name}' maps to no service item and no default_item is set"
            if name
            else "no task maps it to a service item and no default_item is set"
        )
    return _ITEM_RATE_WHY[state].format(name=r.qb_name[i], qb_id=r.qb_id[i])


def _rate_messages(ctx: _Context, mask: np.ndarray) -> pd.Series:
    """``billable but has no hourly rate: the tracker gives none, <why each fallback source
    gave none>`` for the rows in ``mask``; built once per combination of user and item."""
    w = ctx.w
    if not mask.any():
        return _messages(w, mask, "")
    people, items = ctx.people, ctx.items
    users = ctx.factorized[S.USER][1]
    tasks = ctx.factorized[S.TASK][1]
    combo, pairs = pd.factorize(
        people.codes[mask].astype(np.int64) * max(len(items.qb_id), 1) + items.codes[mask]
    )
    pairs = np.asarray(pairs, dtype=np.int64)
    default_rate = ctx.rules.default_rate
    texts = []
    for pair in pairs:
        p, t = divmod(int(pair), max(len(items.qb_id), 1))
        why = ["the tracker gives none"]
        for source in ctx.rules.rate_fallback:
            if source == "employee":
                why.append(_rate_why(source, people, p, str(users[p])))
            elif source == "item":
                why.append(_rate_why(source, items, t, str(tasks[t])))
            elif default_rate is not None:  # pragma: no cover - a default rate always fills
                why.append(f"default_rate {default_rate:g}")
        texts.append("billable but has no hourly rate: " + ", ".join(why))
    return pd.Series(pd.array(texts, dtype=S.STRING).take(combo), index=w.index[mask])


def fill_rates(
    billable_rate: np.ndarray,
    billable: np.ndarray,
    sources: Sequence[tuple[str, np.ndarray | float]],
) -> tuple[np.ndarray, np.ndarray]:
    """The rate of each row and where it came from, trying ``sources`` in order.

    Args:
        billable_rate: the tracker's rates (NaN where it gives none; a billable 0 is
            replaced when a source has a rate, else kept); not modified.
        billable: which rows are billable; only those are filled.
        sources: ``(name, rates)`` pairs, each a per-row array (NaN = none) or one number.

    Returns:
        ``(rates, codes)``: the rates, and per row the index into ``("", "tracker",
        *source names)`` of where its rate came from (0 = none).

    Example:
        >>> rates, codes = fill_rates(np.array([90.0, np.nan, np.nan, np.nan, 0.0]),
        ...     np.array([True, True, True, False, True]),
        ...     [("employee", np.array([120.0, np.nan, 130.0, 130.0, 140.0])), ("default", 75.0)])
        >>> rates.tolist(), codes.tolist()
        ([90.0, 75.0, 130.0, nan, 140.0], [1, 3, 2, 0, 2])
    """
    rates = np.array(billable_rate, dtype="float64", copy=True)
    codes = (~np.isnan(rates)).astype(np.int8)
    # a billable rate of 0 is what trackers write when no rate is set (Clockify exports
    # 0.00): a source that has a rate replaces it; with none, the 0 stays the tracker's
    need = billable & (np.isnan(rates) | (rates == 0))
    for number, (_, values) in enumerate(sources, start=2):
        if not need.any():
            break
        values = np.broadcast_to(np.asarray(values, dtype="float64"), rates.shape)
        fill = need & ~np.isnan(values)
        rates[fill] = values[fill]
        codes[fill] = number
        need &= ~fill
    return rates, codes


@dataclass(frozen=True, kw_only=True)
class DescriptionTooLong(Rule):
    id = "description_too_long"
    summary = "the description must fit the target's limit, with room for qbrecon's marker"
    limit: int = DESCRIPTION_LIMITS["qbo"] - MARKER_RESERVE["qbo"]
    why: str = ""

    @property
    def params(self):
        return str(self.limit)

    def check(self, ctx):
        w = ctx.w
        codes, texts = ctx.factorized[S.DESCRIPTION]
        # lengths of the distinct texts; the last, for a missing one (code -1), is none
        lengths = np.append(pd.Series(texts, dtype=S.STRING).str.len().to_numpy(), 0)
        mask = lengths[codes] > self.limit

        def text(sub):
            length = sub[S.DESCRIPTION].str.len().map("{:,}".format)
            return (
                "description has "
                + length.astype(S.STRING)
                + f" characters, over the {self.limit:,} limit{self.why}"
            )

        return _messages(w, mask, text)


@dataclass(frozen=True, kw_only=True)
class ClosedBooks(Rule):
    id = "closed_books"
    summary = "time dated on or before the books' closing date cannot be added"
    close_date: date = date.min

    @property
    def params(self):
        return f"{self.close_date:%Y-%m-%d}"

    def check(self, ctx):
        w = ctx.w
        d = w[S.DATE]
        mask = _flag(d < pd.Timestamp(self.close_date) + pd.Timedelta(days=1))

        def text(sub):
            return (
                "dated "
                + sub[S.DATE].dt.strftime("%Y-%m-%d").astype(S.STRING)
                + f", on or before the closing date {self.params}"
            )

        return _messages(w, mask, text)


@dataclass(frozen=True, kw_only=True)
class Overlap(Rule):
    id = "overlap"
    summary = "the same user's entries should not overlap in time"
    severity: str = "warning"

    def check(self, ctx):
        return _overlaps(ctx.w, ctx.people.codes)


@dataclass(frozen=True, kw_only=True)
class SplitEntry(Rule):
    id = "split_entry"
    summary = "an entry over the limit or across midnight was split into per-day pieces"
    severity: str = "warning"

    def check(self, ctx):
        w = ctx.w
        mask = (w[S.SPLIT_FROM] != "").to_numpy()
        if not mask.any():
            return _messages(w, mask, "")
        sub = w.loc[mask]
        pieces = sub.groupby(S.SPLIT_FROM, sort=False)[S.ENTRY_ID].transform("size")
        total = sub.groupby(S.SPLIT_FROM, sort=False)[S.DURATION].transform("sum")
        text = (
            "piece of entry "
            + sub[S.SPLIT_FROM]
            + " ("
            + _format_durations(total)
            + " tracked), split into "
            + pieces.astype(str).astype(S.STRING)
            + " pieces"
        )
        return text.astype(S.STRING)


@dataclass(frozen=True, kw_only=True)
class AlreadySent(Rule):
    id = "already_sent"
    summary = "an entry is sent once: the ledger holds it, unchanged"

    def check(self, ctx):
        held = ctx.held
        sub = held[~held["changed"]]
        return pd.Series(
            sub["message"].to_numpy(), index=ctx.w.index[sub["pos"].to_numpy()], dtype=S.STRING
        )


@dataclass(frozen=True, kw_only=True)
class ChangedAfterSend(Rule):
    id = "changed_after_send"
    summary = "an entry edited after it was sent is reported, not sent again"

    def check(self, ctx):
        held = ctx.held
        sub = held[held["changed"]]
        text = sub["message"] + ": correct it in QuickBooks, or undo it there and send it again"
        return pd.Series(text.to_numpy(), index=ctx.w.index[sub["pos"].to_numpy()], dtype=S.STRING)


#: every rule class, in report order
RULE_CLASSES: tuple[type[Rule], ...] = (
    NotBillable,
    NoProject,
    TooLong,
    ZeroDuration,
    NoEmployeeMatch,
    NoCustomerMatch,
    NoServiceItem,
    MissingRecord,
    InactiveRecord,
    NotApproved,
    OutsidePeriod,
    MissingRate,
    DescriptionTooLong,
    ClosedBooks,
    Overlap,
    SplitEntry,
    AlreadySent,
    ChangedAfterSend,
)
RULE_IDS: tuple[str, ...] = tuple(c.id for c in RULE_CLASSES)
_NEEDS_LISTS = {"missing_record", "inactive_record"}
_NEEDS_LEDGER = {"already_sent", "changed_after_send"}


# ============================================================================= settings
_SETTING_HELP = {
    "rounding": 'per-entry rounding: "MODE:MINUTES" (e.g. "up:15") or {mode, minutes}',
    "max_duration": 'longest allowed entry, "H:MM" (default "23:55")',
    "require_billable": "true/false: reject non-billable time (default true)",
    "require_project": "true/false: billable time needs a project (default true)",
    "require_approved": "true/false: reject unapproved time (default false)",
    "require_rate": "true/false: billable time needs an hourly rate (default: true for qbo)",
    "target": f"where the batch goes: {', '.join(TARGETS)} (default qbo)",
    "period": 'the pay period, ["YYYY-MM-DD", "YYYY-MM-DD"], both days included',
    "close_date": "the books' closing date, YYYY-MM-DD: time on or before it is rejected",
    "max_description": "longest description in characters (default: the target's limit)",
    "default_item": "service item (name or id) for time whose task maps to no item",
    "split_long": "true/false: split entries over the limit or across midnight (default false)",
    "rate_fallback": 'where billable time without a tracker rate takes one, in order: any of '
    '"employee" (the mapped employee\'s or vendor\'s bill rate), "item" (the service item\'s '
    'price), "default" (default_rate); default ["employee", "item", "default"]; [] = none',
    "default_rate": "hourly rate for billable time no other source gives one (needs \"default\" "
    "in rate_fallback)",
    "severity": f"table rule = {' | '.join(SEVERITY_CHOICES)}",
}


@dataclass(frozen=True)
class Rules:
    """The validation settings: one frozen object, loadable from TOML.

    Args:
        rounding: per-entry rounding (a :class:`Rounding`, ``"up:15"``, or None for
            the whole minute QuickBooks stores).
        max_duration: the longest entry, ``"H:MM"`` (Clockify's QuickBooks limit,
            23:55, by default; the IIF format allows 23:59).
        require_billable: reject time that is not billable.
        require_project: reject billable time without a project.
        require_approved: reject time that is not approved (or whose approval the
            export does not state).
        require_rate: reject billable time without an hourly rate; None follows the
            target (QuickBooks Online requires a rate, Desktop does not use one).
        target: ``"qbo"`` (QuickBooks Online), ``"qbd"`` (Desktop via qbXML / Web
            Connector) or ``"iif"`` (Desktop IIF import). Sets the description limit,
            whether a rate is needed, and whether billable time needs a service item.
        period: ``(first day, last day)`` of the pay period; dates outside are rejected.
        close_date: the books' closing date; time dated on or before it is rejected.
        max_description: the description limit in characters; None follows the target.
        default_item: the service item (QuickBooks id, full name or name) for entries
            whose task is not mapped to an item.
        split_long: split entries over ``max_duration`` or across midnight into
            per-day pieces (ids ``<entry_id>~1``, ``~2``, ...) instead of rejecting them.
        rate_fallback: where billable time that the tracker gives no rate takes one,
            in order: ``"employee"`` (the mapped employee's or vendor's bill rate in
            the QuickBooks lists), ``"item"`` (the price of the service item: the
            task's mapped item, else ``default_item``), ``"default"``
            (``default_rate``). The default, employee then item, is what QuickBooks'
            own time forms do: picking a person with a bill rate fills it, else the
            service's price. A rate in the export always wins; a rate of 0 in the
            lists counts as none; inactive or missing records give none. ``()``
            turns the fallback off (a billable entry without a tracker rate then
            fails ``missing_rate``). Filled rates land in ``billable_rate`` with
            ``rate_source`` saying where each came from.
        default_rate: the hourly rate of billable time that no earlier source rates.
        severity: ``{rule id: "error" | "warning" | "off"}`` overrides.

    Raises:
        SettingsError: naming the setting, the value and what is allowed.

    Example:
        >>> rules = Rules(rounding="up:15", severity={"overlap": "off"})
        >>> [r.name for r in rules.rules()][:4]
        ['not_billable', 'no_project', 'too_long(23:55)', 'zero_duration']
        >>> rules.rounding
        Rounding(mode='up', minutes=15)
    """

    rounding: Rounding | None = None
    max_duration: str = "23:55"
    require_billable: bool = True
    require_project: bool = True
    require_approved: bool = False
    require_rate: bool | None = None
    target: str = "qbo"
    period: tuple[date, date] | None = None
    close_date: date | None = None
    max_description: int | None = None
    default_item: str | None = None
    split_long: bool = False
    rate_fallback: Sequence[str] = RATE_FALLBACK
    default_rate: float | None = None
    severity: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "rounding", Rounding.parse(self.rounding))
        limit = _parse_duration(self.max_duration, "max_duration")
        if limit > pd.Timedelta(hours=24):
            # one entry is at most a day: longer time cannot be sent as one entry
            raise SettingsError(
                f"max_duration must be at most 24:00, not {format_duration(limit)}; "
                "longer entries can be split per day instead (split_long)",
                setting="max_duration",
            )
        set_(self, "max_duration", format_duration(limit))
        for name in ("require_billable", "require_project", "require_approved", "split_long"):
            if not isinstance(getattr(self, name), bool):
                raise SettingsError(
                    f"{name} must be true or false, not {getattr(self, name)!r}", setting=name
                )
        if self.require_rate is not None and not isinstance(self.require_rate, bool):
            raise SettingsError(
                f"require_rate must be true, false or unset, not {self.require_rate!r}",
                setting="require_rate",
            )
        if self.target not in TARGETS:
            raise SettingsError(
                f"target {self.target!r} is not allowed; use one of {', '.join(TARGETS)}",
                setting="target",
            )
        if self.period is not None:
            if isinstance(self.period, (str, bytes)) or len(self.period) != 2:
                raise SettingsError(
                    f"period must be a pair (first day, last day), not {self.period!r}",
                    setting="period",
                )
            first = _parse_date(self.period[0], "period")
            last = _parse_date(self.period[1], "period")
            if last < first:
                raise SettingsError(
                    f"period ends ({last}) before it starts ({first})", setting="period"
                )
            set_(self, "period", (first, last))
        if self.close_date is not None:
            set_(self, "close_date", _parse_date(self.close_date, "close_date"))
        md = self.max_description
        if md is not None and (
            isinstance(md, bool) or not isinstance(md, (int, np.integer)) or md < 1
        ):
            raise SettingsError(
                f"max_description must be a positive whole number, not {md!r}",
                setting="max_description",
            )
        if self.default_item is not None and (
            not isinstance(self.default_item, str) or not self.default_item.strip()
        ):
            raise SettingsError(
                f"default_item must be a non-empty name or id, not {self.default_item!r}",
                setting="default_item",
            )
        set_(self, "rate_fallback", _parse_fallback(self.rate_fallback))
        dr = self.default_rate
        if dr is not None:
            if isinstance(dr, bool) or not isinstance(dr, (int, float, np.number)) or not (
                0 < float(dr) < 1e11
            ):
                raise SettingsError(
                    f"default_rate must be a positive number, not {dr!r}", setting="default_rate"
                )
            set_(self, "default_rate", float(dr))
            if "default" not in self.rate_fallback:
                raise SettingsError(
                    "default_rate is set, but rate_fallback does not include \"default\" "
                    f"({list(self.rate_fallback)}): add it where the default should apply",
                    setting="default_rate",
                )
        sev = dict(self.severity or {})
        for rule_id, level in sev.items():
            if rule_id not in RULE_IDS:
                raise SettingsError(
                    f"severity names an unknown rule {rule_id!r}; rules: {', '.join(RULE_IDS)}",
                    setting=f"severity.{rule_id}",
                )
            if level not in SEVERITY_CHOICES:
                raise SettingsError(
                    f"severity of {rule_id} is {level!r}; allowed: {', '.join(SEVERITY_CHOICES)}",
                    setting=f"severity.{rule_id}",
                )
        if sev.get("outside_period") in ("error", "warning") and self.period is None:
            raise SettingsError(
                "severity switches on outside_period, but no period is set",
                setting="severity.outside_period",
            )
        if sev.get("closed_books") in ("error", "warning") and self.close_date is None:
            raise SettingsError(
                "severity switches on closed_books, but no close_date is set",
                setting="severity.closed_books",
            )
        set_(self, "severity", MappingProxyType(sev))

    def __hash__(self) -> int:
        return hash(self.to_toml())

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{k}={dict(v) if k == 'severity' else v!r}"
            for k in self.to_dict()
            for v in [getattr(self, k)]
        )
        return f"Rules({shown})"

    # ------------------------------------------------------------------ derived
    @property
    def limit(self) -> pd.Timedelta:
        """``max_duration`` as a Timedelta."""
        return _parse_duration(self.max_duration, "max_duration")

    @property
    def description_limit(self) -> int:
        """The longest description: ``max_description``, else the target's limit less the
        room qbrecon's marker takes (3,981 for qbo, 4,076 for qbd, 1,000 for iif)."""
        if self.max_description:
            return int(self.max_description)
        return DESCRIPTION_LIMITS[self.target] - MARKER_RESERVE[self.target]

    @property
    def rate_required(self) -> bool:
        return self.target == "qbo" if self.require_rate is None else self.require_rate

    def replace(self, **changes: Any) -> Rules:
        """A copy with some settings changed."""
        return replace(self, **changes)

    def rules(self, *, lists: bool = True, ledger: bool = True) -> tuple[Rule, ...]:
        """The rule objects that apply, in report order.

        Args:
            lists: QuickBooks lists are available (enables missing_record, inactive_record).
            ledger: a ledger is available (enables already_sent, changed_after_send).
        """
        on = {
            "not_billable": self.require_billable,
            "no_project": self.require_project,
            "no_service_item": self.target in ("qbd", "iif"),
            "missing_record": True,
            "inactive_record": True,
            "not_approved": self.require_approved,
            "outside_period": self.period is not None,
            "missing_rate": self.rate_required,
            "closed_books": self.close_date is not None,
            "split_entry": self.split_long,
        }
        params: dict[str, dict[str, Any]] = {
            "too_long": {"limit": self.limit},
            "description_too_long": {
                "limit": self.description_limit,
                "why": ""
                if self.max_description or not MARKER_RESERVE[self.target]
                else (
                    f" ({DESCRIPTION_LIMITS[self.target]:,} in QuickBooks, less "
                    f"{MARKER_RESERVE[self.target]} for qbrecon's marker)"
                ),
            },
            "outside_period": dict(
                zip(("start", "end"), self.period or (date.min, date.max), strict=True)
            ),
            "closed_books": {"close_date": self.close_date or date.min},
        }
        out = []
        for cls in RULE_CLASSES:
            level = self.severity.get(cls.id)
            if level == "off" or (level is None and not on.get(cls.id, True)):
                continue
            if (cls.id in _NEEDS_LISTS and not lists) or (cls.id in _NEEDS_LEDGER and not ledger):
                continue
            kw = dict(params.get(cls.id, {}))
            if level is not None:
                kw["severity"] = level
            out.append(cls(**kw))
        return tuple(out)

    def describe(self, *, lists: bool = True, ledger: bool = True) -> pd.DataFrame:
        """The applicable rules as a table: rule, name, severity, checks."""
        return pd.DataFrame(
            [
                {"rule": r.id, "name": r.name, "severity": r.severity, "checks": r.summary}
                for r in self.rules(lists=lists, ledger=ledger)
            ],
            columns=["rule", "name", "severity", "checks"],
        )

    # ------------------------------------------------------------------ TOML
    @classmethod
    def from_dict(cls, settings: Mapping[str, Any], *, file: str | None = None) -> Rules:
        """Rules from a mapping of setting names (as in the TOML file).

        Raises:
            SettingsError: an unknown key (the allowed keys are listed) or a bad value.
        """
        unknown = [k for k in settings if k not in _SETTING_HELP]
        if unknown:
            allowed = "\n".join(f"  {k}: {h}" for k, h in _SETTING_HELP.items())
            raise SettingsError(
                f"unknown rules setting{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(map(repr, unknown))}; allowed:\n{allowed}",
                setting=unknown[0],
                file=file,
            )
        kw = dict(settings)
        if "severity" in kw and not isinstance(kw["severity"], Mapping):
            raise SettingsError(
                "severity must be a table of rule = level", setting="severity", file=file
            )
        try:
            return cls(**kw)
        except SettingsError as exc:
            if file is None:
                raise
            raise SettingsError(str(exc), setting=exc.setting, file=file) from None

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> Rules:
        """Rules from a TOML file: the settings at the top level or in a ``[rules]`` table.

        Example file::

            [rules]
            rounding = "up:15"
            max_duration = "23:55"
            require_approved = true
            period = [2026-11-01, 2026-11-15]
            default_item = "Consulting"

            [rules.severity]
            overlap = "error"

        Raises:
            SettingsError: the file is missing or not TOML, or a setting is not allowed.
        """
        from .formats import decode_text

        path = Path(path)
        try:
            # whatever an editor saved: UTF-8 with or without BOM, UTF-16, Windows-1252
            doc = tomllib.loads(decode_text(path.read_bytes(), file=str(path)))
        except FileNotFoundError:
            raise SettingsError("no such rules file", file=str(path)) from None
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"not a valid TOML file: {exc}", file=str(path)) from None
        except InputError as exc:
            raise SettingsError(f"not a text file ({exc.summary})", file=str(path)) from None
        except OSError as exc:
            raise SettingsError(
                f"cannot read the rules file: {exc.strerror}", file=str(path)
            ) from None
        settings = doc.get("rules", doc) if isinstance(doc.get("rules"), dict) else doc
        return cls.from_dict(settings, file=str(path))

    def to_dict(self) -> dict[str, Any]:
        """The settings that differ from the defaults, as plain values (TOML-ready)."""
        out: dict[str, Any] = {}
        for k in _SETTING_HELP:
            v = getattr(self, k)
            if k == "severity":
                v = dict(v)
            elif k == "rounding" and v is not None:
                v = f"{v.mode}:{v.minutes}"
            elif k == "period" and v is not None:
                v = [v[0].isoformat(), v[1].isoformat()]
            elif k == "close_date" and v is not None:
                v = v.isoformat()
            elif k == "rate_fallback":
                v = list(v)
            if v != _DEFAULTS[k]:
                out[k] = v
        return out

    def to_toml(self) -> str:
        """The settings as a TOML ``[rules]`` table that :meth:`from_toml` reads back."""
        d = self.to_dict()
        sev = d.pop("severity", {})
        lines = ["[rules]"]
        for k, v in d.items():
            lines.append(f"{k} = {_toml_value(v)}")
        if sev:
            lines += ["", "[rules.severity]"]
            lines += [f"{k} = {_toml_value(v)}" for k, v in sev.items()]
        return "\n".join(lines) + "\n"


_DEFAULTS: dict[str, Any] = {
    "rounding": None,
    "max_duration": "23:55",
    "require_billable": True,
    "require_project": True,
    "require_approved": False,
    "require_rate": None,
    "target": "qbo",
    "period": None,
    "close_date": None,
    "max_description": None,
    "default_item": None,
    "split_long": False,
    "rate_fallback": list(RATE_FALLBACK),
    "default_rate": None,
    "severity": {},
}


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    text = str(v).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def _parse_fallback(value: Any) -> tuple[str, ...]:
    """The rate fallback order from a list of source names or ``"employee, item"``."""
    if isinstance(value, str):
        value = [v for v in re.split(r"[\s,>]+", value.strip()) if v]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise SettingsError(
            f"rate_fallback must be a list of {', '.join(RATE_FALLBACK_SOURCES)}, not {value!r}",
            setting="rate_fallback",
        )
    order = tuple(v.strip().lower() for v in value)
    bad = [v for v in order if v not in RATE_FALLBACK_SOURCES]
    if bad:
        raise SettingsError(
            f"rate_fallback names unknown source{'s' if len(bad) > 1 else ''} "
            f"{', '.join(map(repr, bad))}; use {', '.join(RATE_FALLBACK_SOURCES)}",
            setting="rate_fallback",
        )
    if len(set(order)) != len(order):
        raise SettingsError(
            f"rate_fallback names a source twice: {list(order)}", setting="rate_fallback"
        )
    return order


# ======================================================================== splitting
def split_entries(
    entries: pd.DataFrame, *, max_duration: str | timedelta = "23:55"
) -> pd.DataFrame:
    """Split entries over ``max_duration`` or across midnight into per-day pieces.

    An entry with clock times is cut at each midnight; any piece still over the limit
    (and any long entry without clock times) is cut into equal pieces on the same day.
    Pieces get the ids ``<entry_id>~1``, ``~2``, ... (the same input always gives the
    same ids) and ``split_from`` holds the original id; durations of the pieces add up
    to the original exactly. Other entries are returned unchanged with ``split_from`` "".

    Example:
        >>> e = pd.DataFrame({"entry_id": ["a"], "date": [pd.Timestamp("2026-11-02")],
        ...     "start": [pd.Timestamp("2026-11-02 20:00")], "end": [pd.Timestamp("2026-11-03 02:00")],
        ...     "duration": [pd.Timedelta(hours=6)]})
        >>> split_entries(e)[["entry_id", "date", "duration"]].astype(str).values.tolist()
        [['a~1', '2026-11-02', '0 days 04:00:00'], ['a~2', '2026-11-03', '0 days 02:00:00']]
    """
    limit = (
        _parse_duration(max_duration, "max_duration")
        if isinstance(max_duration, str)
        else pd.Timedelta(max_duration)
    )
    w = entries.copy()
    n = len(w)
    dur = w[S.DURATION].astype(S.TIMEDELTA)
    d_ns = dur.to_numpy().astype("int64")
    d_missing = dur.isna().to_numpy()
    d_ns[d_missing] = 0
    start = w[S.START].astype(S.DATETIME)
    end = w[S.END].astype(S.DATETIME)
    s_ns = start.to_numpy().astype("int64")
    e_ns = end.to_numpy().astype("int64")
    clock = (start.notna() & end.notna()).to_numpy() & (e_ns > s_ns) & (e_ns - s_ns == d_ns)
    day0 = np.where(clock, s_ns // _DAY * _DAY, 0)
    last = np.where(clock, (e_ns - 1) // _DAY * _DAY, 0)
    n_days = np.where(clock, (last - day0) // _DAY + 1, 1)
    L = int(limit.value)
    # pieces split earlier keep naming the entry they came from
    if S.SPLIT_FROM in w.columns:
        w[S.SPLIT_FROM] = w[S.SPLIT_FROM].astype(S.STRING).fillna("")
    else:
        w[S.SPLIT_FROM] = pd.array([""] * n, dtype=S.STRING)
    if not ((n_days > 1).any() or (d_ns > L).any()):
        return w

    # 1. per calendar day
    rep1 = np.repeat(np.arange(n), n_days)
    k1 = np.arange(len(rep1)) - np.repeat(np.cumsum(n_days) - n_days, n_days)
    c1 = clock[rep1]
    day_start = day0[rep1] + k1 * _DAY
    ps = np.where(c1, np.maximum(s_ns[rep1], day_start), s_ns[rep1])
    pe = np.where(c1, np.minimum(e_ns[rep1], day_start + _DAY), e_ns[rep1])
    p_ns = np.where(c1, pe - ps, d_ns[rep1])
    # 2. equal pieces of anything still over the limit
    n2 = np.where(p_ns > L, -(-p_ns // L), 1)
    rep2 = np.repeat(np.arange(len(rep1)), n2)
    k2 = np.arange(len(rep2)) - np.repeat(np.cumsum(n2) - n2, n2)
    base, rem = np.divmod(p_ns[rep2], n2[rep2])
    piece = base + (k2 < rem)
    s2 = ps[rep2] + k2 * base + np.minimum(k2, rem)
    orig = rep1[rep2]
    c2 = clock[orig]

    counts = np.bincount(orig, minlength=n)
    is_split = counts[orig] > 1
    first = np.cumsum(counts) - counts
    number = np.arange(len(orig)) - first[orig] + 1

    out = w.iloc[orig].reset_index(drop=True)
    ids = out[S.ENTRY_ID].astype(S.STRING)
    numbers = pd.Series(number.astype(str), dtype=S.STRING)
    before = out[S.SPLIT_FROM]
    out[S.SPLIT_FROM] = before.where(~is_split | (before != ""), ids).astype(S.STRING)
    out[S.ENTRY_ID] = ids.where(~is_split, ids + "~" + numbers).astype(S.STRING)
    new_dur = np.where(is_split, piece, d_ns[orig]).astype("timedelta64[ns]")
    new_dur[d_missing[orig]] = np.timedelta64("NaT")
    out[S.DURATION] = new_dur
    sc = is_split & c2
    sn = is_split & ~c2
    if sc.any() or sn.any():
        st = out[S.START].astype(S.DATETIME).to_numpy().copy()
        en = out[S.END].astype(S.DATETIME).to_numpy().copy()
        st[sc] = s2[sc].astype("datetime64[ns]")
        en[sc] = (s2[sc] + piece[sc]).astype("datetime64[ns]")
        # a long entry without usable clock times: its pieces have none either
        st[sn] = np.datetime64("NaT")
        en[sn] = np.datetime64("NaT")
        out[S.START] = st
        out[S.END] = en
        dates = out[S.DATE].astype(S.DATETIME).to_numpy().copy()
        dates[sc] = (day0[orig][sc] + k1[rep2][sc] * _DAY).astype("datetime64[ns]")
        out[S.DATE] = dates
    return out


# ======================================================================== resolution
@dataclass
class _Resolved:
    """The answers of looking one kind of name up in the mapping and the lists.

    Each distinct name is looked up once: the answers are arrays over the distinct
    names, and ``codes`` says which distinct name each row has.
    """

    codes: np.ndarray  # per row: the index of its name in the arrays below
    qb_id: np.ndarray
    qb_name: np.ndarray
    qb_type: np.ndarray
    unmatched: np.ndarray  # why the name is not mapped ("" when it is, or needs no mapping)
    missing: np.ndarray  # mapped to an id the lists lack
    inactive: np.ndarray  # mapped to an inactive record
    declined: np.ndarray  # the mapping says outright that the name has no QuickBooks record
    #: the record's rate (a person's bill rate, an item's price); NaN when it gives none
    rate: np.ndarray = field(default_factory=lambda: np.empty(0))
    #: why a name gives no rate: "" (it gives one), "none" (the record has none), "inactive",
    #: "missing" (not in the lists), "unmapped", or "no_lists" (no lists to read it from)
    rate_state: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))

    @property
    def name_of(self) -> np.ndarray:
        """The list a person's record is on: its qb_type, else "Employee"; "" when unmapped."""
        out = np.empty(len(self.qb_id), dtype=object)
        out[:] = [
            (t or "Employee") if i else "" for i, t in zip(self.qb_id, self.qb_type, strict=True)
        ]
        return out

    def has(self, answer: str) -> np.ndarray:
        """Per row: whether the ``answer`` text (e.g. "unmatched") is non-empty."""
        return (getattr(self, answer) != "")[self.codes]

    def spread(self, answer: str, codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
        """The ``answer`` for each of ``codes`` (some rows' :attr:`codes`) as text: each
        distinct answer is converted once, then taken per row."""
        values = getattr(self, answer)
        if not len(values):
            return pd.array([""] * len(codes), dtype=S.STRING)
        return pd.array(values.tolist(), dtype=S.STRING).take(codes)

    def messages(self, w: pd.DataFrame, answer: str, mask: np.ndarray) -> pd.Series:
        """The ``answer`` texts of the rows in ``mask``, indexed by row, as rules return them."""
        return pd.Series(self.spread(answer, self.codes[mask]), index=w.index[mask])


_KIND_WORDS = {"employee": "user", "customer": "customer", "item": "task"}


_Record = tuple[str, str, bool, float]


def _list_index(frames: list[tuple[str, pd.DataFrame]]) -> dict[str, list[_Record]]:
    """qb_id -> [(qb_type, display full name, active, rate), ...] over the given lists.

    The rate is NaN where the list has none, or where it is zero or less (QuickBooks
    shows an unset bill rate or price as 0).
    """
    out: dict[str, list[_Record]] = {}
    for qb_type, f in frames:
        if f is None or f.empty:
            continue
        names = f[S.FULL_NAME].fillna("").astype(str)
        names = names.where(names != "", f[S.NAME].fillna("").astype(str))
        rates = (
            pd.to_numeric(f[S.RATE], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
            if S.RATE in f.columns
            else np.full(len(f), np.nan)
        )
        rates = np.where(rates > 0, rates, np.nan)
        for qid, name, active, rate in zip(
            f[S.QB_ID].astype(str), names, f[S.ACTIVE].astype(bool), rates, strict=True
        ):
            out.setdefault(qid, []).append((qb_type, name, bool(active), float(rate)))
    return out


def _resolve(
    codes: np.ndarray,
    names: Sequence[object],
    kind: str,
    table: dict[str, tuple[str, str, str]],
    records: dict[str, list[_Record]] | None,
    *,
    list_label: str,
    required: bool,
    default: tuple[str, str, str, bool] | None = None,
) -> _Resolved:
    """Look each distinct name up once; ``codes`` gives each row's name in ``names``."""
    word = _KIND_WORDS[kind]
    cols: dict[str, list[str]] = {
        c: [] for c in ("id", "name", "type", "unmatched", "missing", "inactive")
    }
    declined: list[bool] = []
    rates: list[float] = []
    rate_states: list[str] = []
    for u in names:
        u = str(u)
        qb_id = name = qb_type = unmatched = missing = inactive = ""
        rate, rate_state = np.nan, "unmapped"
        hit = table.get(normalize_key(u)) if u else None
        if hit is not None and hit[0]:
            qb_id, name, qb_type = hit
        elif default is not None:
            qb_id, name, qb_type = default[:3]
        elif required:
            if not u:
                unmatched = f"has no {word}" if kind == "employee" else ""
            elif hit is None:
                unmatched = f"{word} '{u}' is not in the mapping"
            else:
                unmatched = f"{word} '{u}' is marked in the mapping as having no QuickBooks match"
        if qb_id or name:  # a record (or, without lists, the default item by name)
            rate_state = "no_lists"
        if qb_id and records is not None:
            found = records.get(qb_id, [])
            if qb_type:
                found = [r for r in found if r[0] == qb_type] or found
            rate_state = "missing"
            if found:
                qb_type, full, active, list_rate = found[0]
                name = full or name
                # an inactive record gives no rate: the entry is rejected for it anyway
                rate = list_rate if active else np.nan
                rate_state = "inactive" if not active else ("" if rate == rate else "none")
                if not active:
                    what = qb_type.lower() if qb_type else kind
                    subject = f"{word} '{u}'" if u else f"the default {what}"
                    inactive = (
                        f"{subject} is mapped to inactive QuickBooks {what} '{name}' (id {qb_id})"
                    )
            elif list_label:
                subject = f"{word} '{u}'" if u else "the default item"
                missing = (
                    f"{subject} is mapped to QuickBooks id {qb_id}"
                    f"{f' ({name})' if name else ''}, which is not in the {list_label} list"
                )
        cols["id"].append(qb_id)
        cols["name"].append(name)
        cols["type"].append(qb_type)
        cols["unmatched"].append(unmatched)
        cols["missing"].append(missing)
        cols["inactive"].append(inactive)
        declined.append(hit is not None and not hit[0])
        rates.append(rate)
        rate_states.append(rate_state)

    def answers(values: list[str]) -> np.ndarray:
        out = np.empty(len(values), dtype=object)
        out[:] = values
        return out

    return _Resolved(
        np.asarray(codes, dtype=np.intp),
        answers(cols["id"]),
        answers(cols["name"]),
        answers(cols["type"]),
        answers(cols["unmatched"]),
        answers(cols["missing"]),
        answers(cols["inactive"]),
        np.asarray(declined, dtype=bool),
        np.asarray(rates, dtype="float64"),
        answers(rate_states),
    )


def _customer_names(w: pd.DataFrame) -> tuple[np.ndarray, pd.Series, dict]:
    """Each row's customer key (:func:`~qbrecon.mapping.customer_source_names`) as codes
    into the keys of the distinct client/project pairs, and the factorizations made."""
    client_codes, clients = pd.factorize(w[S.CLIENT])
    project_codes, projects = pd.factorize(w[S.PROJECT])
    width = max(len(projects), 1)
    pair_codes, pairs = pd.factorize(client_codes.astype(np.int64) * width + project_codes)
    pairs = np.asarray(pairs, dtype=np.int64)
    keys = customer_source_names(
        pd.DataFrame(
            {S.CLIENT: clients.take(pairs // width), S.PROJECT: projects.take(pairs % width)}
        )
    )
    factorized = {S.CLIENT: (client_codes, clients), S.PROJECT: (project_codes, projects)}
    return pair_codes, keys, factorized


def _mapping_tables(mapping: pd.DataFrame) -> dict[str, dict[str, tuple[str, str, str]]]:
    out: dict[str, dict[str, tuple[str, str, str]]] = {k: {} for k in S.KINDS}
    for kind, name, qid, qname, qtype in mapping[
        [S.KIND, S.SOURCE_NAME, S.QB_ID, S.QB_NAME, S.QB_TYPE]
    ].itertuples(index=False):
        out[kind][normalize_key(name)] = (qid, qname, qtype)
    return out


def _default_item(name: str | None, lists: QBLists | None) -> tuple[str, str, str, bool] | None:
    if name is None:
        return None
    name = name.strip()
    if lists is None or lists.items.empty:
        return ("", name, "Item", True)
    items = lists.items
    for col in (S.QB_ID, S.FULL_NAME, S.NAME):
        hit = items[items[col].fillna("").str.casefold() == name.casefold()]
        if len(hit):
            r = hit.iloc[0]
            return (str(r[S.QB_ID]), str(r[S.FULL_NAME] or r[S.NAME]), "Item", bool(r[S.ACTIVE]))
    raise SettingsError(
        f"default_item {name!r} is not in the QuickBooks item list (not an id, full name or name)",
        setting="default_item",
    )


# ============================================================================ ledger
def _held_entries(
    ledger: Ledger | str | os.PathLike[str], w: pd.DataFrame, hashes: np.ndarray
) -> pd.DataFrame:
    """Entries of ``w`` that a ledger holds (queued, pending or sent), one row per entry.

    ``hashes`` are the rows' fingerprint digests (:func:`~qbrecon.ids.row_hashes`).
    """
    from .ledger import Ledger

    cols = ["pos", "changed", "message"]
    if not isinstance(ledger, Ledger) and not Path(ledger).exists():
        # nothing was ever sent through this ledger; validating must not create it (nor its
        # folders): a mistyped path would otherwise pass silently as an empty ledger
        log.warning("ledger %s does not exist yet: no entry counts as already sent", ledger)
        status = pd.DataFrame(columns=[S.ENTRY_ID, "state", S.FINGERPRINT, "updated_at"])
    else:
        led = Ledger.open(ledger)
        try:
            status = led.sent_status(w[S.ENTRY_ID].tolist())
        finally:
            if led is not ledger:
                led.close()
    if status.empty:
        return pd.DataFrame(
            {c: pd.Series(dtype=t) for c, t in zip(cols, ("int64", "bool", "object"), strict=True)}
        )
    status = status.sort_values("updated_at", ascending=False, kind="stable")
    pos = pd.Index(w[S.ENTRY_ID]).get_indexer(status[S.ENTRY_ID])
    status = status.assign(pos=pos)[pos >= 0]
    current = np.asarray(hex_digests(hashes[status["pos"].to_numpy()]), dtype=object)
    recorded = status[S.FINGERPRINT]
    status["differs"] = (recorded.notna() & (recorded.astype(str) != current)).to_numpy()
    when = status["updated_at"].astype(str).str.slice(0, 16).str.replace("T", " ") + " UTC"
    qb = status["external_id"].astype(object).where(status["external_id"].notna(), None)
    where = status["target"].astype(str) + " (" + status["state"].astype(str) + " " + when
    where = where + [f", QuickBooks id {q}" if q else "" for q in qb] + ")"
    state = status["state"].astype(str)
    status["sent_message"] = state.map(_HELD_VERBS["unchanged"]) + where
    status["changed_message"] = state.map(_HELD_VERBS["changed"]) + where
    # one row per entry: the most recent delivery; changed if any target holds another version
    changed = status.groupby("pos")["differs"].transform("any")
    status["changed"] = changed.to_numpy(dtype=bool)
    status["message"] = status["changed_message"].where(status["changed"], status["sent_message"])
    first = status.drop_duplicates("pos")
    return first[cols].sort_values("pos").reset_index(drop=True)


_HELD_VERBS = {
    "unchanged": {
        "sent": "already sent to ",
        "queued": "already queued for ",
        "pending": "already being sent, outcome not yet known, to ",
    },
    "changed": {
        "sent": "edited since it was sent to ",
        "queued": "edited since it was queued for ",
        "pending": "edited since it began to be sent to ",
    },
}


# ============================================================================ overlaps
def _overlaps(w: pd.DataFrame, user_codes: np.ndarray) -> pd.Series:
    """The entries that overlap another entry of the same user (``user_codes``: each row's
    user, factorized), each with the entry it overlaps, when that one ran, and by how much.

    Ordered by user, start and end, an entry overlaps when it starts before the latest end
    among the user's earlier entries; it is paired with the entry that set that end. Both
    entries of a pair are reported; an entry in several pairs is reported once, with the
    entry it follows if there is one, else with the first entry that follows it.
    """
    n = len(w)
    start_ns = w[S.START].to_numpy().view("int64")
    end_ns = w[S.END].to_numpy().view("int64")
    usable = (
        (w[S.START].notna() & w[S.END].notna()).to_numpy()
        & (end_ns > start_ns)
        & (w[S.USER] != "").to_numpy()
    )
    if usable.sum() < 2:
        return _messages(w, np.zeros(n, bool), "")
    if usable.all():
        where, group, starts, ends = np.arange(n), user_codes, start_ns, end_ns
    else:
        where = np.flatnonzero(usable)
        group, starts, ends = user_codes[where], start_ns[where], end_ns[where]
    where, group, starts, ends = _by_user_and_time(where, group, starts, ends)
    m = len(where)
    new_group = np.r_[True, group[1:] != group[:-1]]
    # the latest end so far within the user's entries, and which entry set it (a user's
    # first entry always sets one, so carrying the last setter forward stays in the user)
    running = pd.Series(ends).groupby(group).cummax().to_numpy()
    setter = np.maximum.accumulate(np.where(ends == running, np.arange(m), 0))
    prev_max = np.r_[np.iinfo(np.int64).min, running[:-1]]
    prev_setter = np.r_[-1, setter[:-1]]
    hit = ~new_group & (starts < prev_max)
    if not hit.any():
        return _messages(w, np.zeros(n, bool), "")
    later = np.flatnonzero(hit)
    partner = prev_setter[later].astype(np.intp)
    overlap_ns = np.minimum(ends[later], prev_max[later]) - starts[later]

    # each entry that follows another names it; an entry followed (and following none)
    # names the first entry that follows it: partners come in order (the setter only
    # moves forward), so an entry's first pair is where its run of pairs begins
    other = np.full(m, -1, dtype=np.intp)  # by sorted position: the entry its message names
    amount = np.zeros(m, dtype=np.int64)
    other[later] = partner
    amount[later] = overlap_ns
    first = np.r_[True, partner[1:] != partner[:-1]]
    first &= other[partner] < 0
    other[partner[first]] = later[first]
    amount[partner[first]] = overlap_ns[first]
    # back to row order
    named = np.full(n, -1, dtype=np.intp)
    named[where] = other
    rows = np.flatnonzero(named >= 0)
    other = named[rows]
    by_row = np.zeros(n, dtype=np.int64)
    by_row[where] = amount
    return pd.Series(
        _overlap_texts(w[S.ENTRY_ID], where[other], starts[other], ends[other], by_row[rows]),
        index=w.index[rows],
    )


def _by_user_and_time(
    where: np.ndarray, group: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The four arrays in the order ``np.lexsort((ends, starts, group))`` gives; as they
    are when already in that order (exports usually list a user's entries in time order)."""
    same = group[1:] == group[:-1]
    in_order = (
        (group[1:] > group[:-1])
        | (same & (starts[1:] > starts[:-1]))
        | (same & (starts[1:] == starts[:-1]) & (ends[1:] >= ends[:-1]))
    )
    if in_order.all():
        return where, group, starts, ends
    # two stable sorts, by start then by user (a radix sort when users are few)
    by_start = np.argsort(starts, kind="stable")
    g = group[by_start]
    if g.max() < np.iinfo(np.int16).max:
        g = g.astype(np.int16)
    order = by_start[np.argsort(g, kind="stable")]
    g, s, e = group.take(order), starts.take(order), ends.take(order)
    # a user's entries starting at the same time are in input order: put each such run
    # in order of end (stable, as lexsort does), leaving every other row where it is
    tie = (g[1:] == g[:-1]) & (s[1:] == s[:-1])
    if (tie & (e[1:] < e[:-1])).any():
        in_run = np.r_[tie, False] | np.r_[False, tie]
        pos = np.flatnonzero(in_run)
        run = np.cumsum(np.r_[True, ~tie])[pos]
        order[pos] = order[pos[np.lexsort((e[pos], run))]]
        e[pos] = ends.take(order[pos])
    return where.take(order), g, s, e


_CLOCK = [f"{h:02d}:{m:02d}" for h in range(24) for m in range(60)]


def _overlap_texts(
    ids: pd.Series, rows: np.ndarray, starts: np.ndarray, ends: np.ndarray, amount: np.ndarray
) -> pd.api.extensions.ExtensionArray:
    """``overlaps entry <id> (<start>–<end>) by <amount>`` naming the entry at each of
    ``rows`` (its start and end in ns, to the minute; the end's date only when it differs
    from the start's), built from the distinct days and amounts and joined by Arrow."""
    start_min = starts.view("datetime64[ns]").astype("datetime64[m]").astype(np.int64)
    end_min = ends.view("datetime64[ns]").astype("datetime64[m]").astype(np.int64)
    start_day, start_clock = np.divmod(start_min, 1440)
    end_day, end_clock = np.divmod(end_min, 1440)
    k = len(rows)
    day_codes, days = pd.factorize(np.concatenate([start_day, end_day]))
    day_texts = [d + " " for d in np.datetime_as_string(np.asarray(days).astype("datetime64[D]"))]
    day_table = _arrow.table([*day_texts, ""])  # the last: no date on a same-day end
    end_date = np.where(end_day == start_day, len(days), day_codes[k:])
    amount_codes, amounts = pd.factorize(amount)
    amount_texts = _format_durations(pd.Series(np.asarray(amounts).astype("timedelta64[ns]")))
    clock = _arrow.table(_CLOCK)
    return _arrow.join(
        [
            "overlaps entry ",
            _arrow.to_arrow(ids).take(pa.array(rows, type=pa.int64())),
            " (",
            _arrow.take(day_table, day_codes[:k]),
            _arrow.take(clock, start_clock),
            "–",
            _arrow.take(day_table, end_date),
            _arrow.take(clock, end_clock),
            ") by ",
            _arrow.take(_arrow.table(amount_texts.tolist()), amount_codes),
        ]
    )


# ============================================================================ validate
def _failures_frame(ids: pd.Series, applied, positions, rule_numbers, messages) -> pd.DataFrame:
    """One row per failure, entry by entry in input order, rules in report order."""
    if not positions:
        return S.empty_frame(S.FAILURE_DTYPES)
    pos = np.concatenate(positions)
    number = np.concatenate(rule_numbers)
    order = np.lexsort((number, pos))
    pos, number = pos[order], number[order]
    text = pd.concat(messages, ignore_index=True).array.take(order)
    rule_ids = pd.array([r.id for r in applied], dtype=S.STRING).take(number)
    levels = pd.array([r.severity for r in applied], dtype=S.STRING).take(number)
    return pd.DataFrame(
        {
            S.ENTRY_ID: ids.array.take(pos),
            S.RULE: rule_ids,
            S.SEVERITY: levels,
            S.MESSAGE: text,
        }
    )


def _rule_lists(errors: np.ndarray, applied: tuple[Rule, ...]) -> pd.api.extensions.ExtensionArray:
    """``"rule, rule"`` per row from its bits of broken error-level rules (in report order)."""
    codes, combos = pd.factorize(errors)
    texts = [
        ", ".join(r.id for number, r in enumerate(applied) if (int(c) >> number) & 1)
        for c in combos
    ]
    return pd.array(texts, dtype=S.STRING).take(codes)


_FILLED_SOURCES = S.RATE_SOURCES[1:]  # the sources that are not the tracker


def _fill_rates(w: pd.DataFrame, rules: Rules, people: _Resolved, items: _Resolved) -> None:
    """Billable rows without a tracker rate take one from ``rules.rate_fallback``; sets
    ``billable_rate`` and ``rate_source`` on the working frame ``w``."""
    rates = w[S.BILLABLE_RATE].to_numpy(dtype="float64", na_value=np.nan)
    sources: list[tuple[str, np.ndarray | float]] = []
    for source in rules.rate_fallback:
        if source == "employee":
            sources.append((source, people.rate.take(people.codes) if len(people.rate) else np.nan))
        elif source == "item":
            sources.append((source, items.rate.take(items.codes) if len(items.rate) else np.nan))
        elif rules.default_rate is not None:
            sources.append((source, rules.default_rate))
    if sources:
        rates, codes = fill_rates(rates, w[S.BILLABLE].to_numpy(dtype=bool), sources)
        w[S.BILLABLE_RATE] = rates
    else:
        codes = (~np.isnan(rates)).astype(np.int8)
    names = ["", "tracker", *(name for name, _ in sources)]
    w[S.RATE_SOURCE] = pd.array(names, dtype=S.STRING).take(codes.astype(np.intp))


class _Context:
    """What rules read: the working frame and the lookups made for it."""

    def __init__(self, w, rules, people, customers, items, held, factorized):
        self.w = w
        self.factorized = factorized  # text column -> (codes, distinct values)
        self.rules = rules
        self.people = people
        self.customers = customers
        self.items = items
        self.held = held
        self.billable = w[S.BILLABLE].to_numpy(dtype=bool)


def _prepare_entries(entries: pd.DataFrame) -> pd.DataFrame:
    w = S.conform(entries, S.ENTRY_DTYPES, what="time entries")
    w = w.reset_index(drop=True)
    for col in S.ENTRY_TEXT_COLUMNS:
        if w[col].hasnans:
            w[col] = w[col].fillna("")
    ids = w[S.ENTRY_ID]
    empty = (ids == "").to_numpy(dtype=bool, na_value=True)
    if not empty.any() and _arrow.all_distinct(ids):
        return w
    problems = []
    for i in np.flatnonzero(empty):
        problems.append(Problem("entry without an id", row=int(w[S.ROW].iat[i]), column=S.ENTRY_ID))
    dup = ids.duplicated(keep=False).to_numpy() & ~empty
    for i in np.flatnonzero(dup)[:200]:
        problems.append(
            Problem(
                "entry id occurs more than once",
                row=int(w[S.ROW].iat[i]),
                column=S.ENTRY_ID,
                value=ids.iat[i],
            )
        )
    if problems:
        raise InputError("time entries need unique, non-empty entry ids", problems=problems)
    return w


def validate(
    entries: pd.DataFrame,
    mapping: pd.DataFrame,
    *,
    rules: Rules | None = None,
    lists: QBLists | None = None,
    ledger: Ledger | str | os.PathLike[str] | None = None,
) -> Report:
    """Check every entry against every applicable rule and report all problems at once.

    Args:
        entries: canonical time entries (:data:`qbrecon.schema.ENTRY_DTYPES`); not modified.
        mapping: ``kind, source_name, qb_id, qb_name`` (and optionally ``qb_type``) rows:
            users → employees/vendors, ``"Client:Project"`` → customers, tasks → items.
        rules: the settings (default ``Rules()``).
        lists: the QuickBooks lists; enables missing_record and inactive_record and
            supplies the QuickBooks full names.
        ledger: a ledger path or :class:`~qbrecon.ledger.Ledger`; enables already_sent
            and changed_after_send.

    Returns:
        A :class:`~qbrecon.report.Report`: ``.failures`` (one row per broken rule per
        entry), ``.clean`` (entries that break no error-level rule), ``.rejected``,
        ``.summary``. With ``split_long`` the report holds the pieces instead of the
        entries they were split from.

    Raises:
        InputError: entries or mapping lack columns, have the wrong types or
            duplicate entry ids.
        SettingsError: ``default_item`` is not in the QuickBooks item list.
        LedgerError: the ledger cannot be opened.

    Example:
        >>> from qbrecon.testing import make_entries, make_mapping
        >>> entries = make_entries([
        ...     {"user": "Ada", "project": "Web", "duration": "1:30"},
        ...     {"user": "Ada", "project": "Web", "duration": "30:00"},
        ...     {"user": "Bob", "project": "Web", "duration": "1:00", "billable": False},
        ... ])
        >>> mapping = make_mapping(employee={"Ada": "55"}, customer={"Web": "7"})
        >>> report = validate(entries, mapping)
        >>> report.failures[["rule", "message"]].values.tolist()
        [['too_long', 'lasts 30:00, over the 23:55 limit'], ['not_billable', 'not billable (only billable time is sent)'], ['no_employee_match', "user 'Bob' is not in the mapping"]]
        >>> len(report.clean), len(report.rejected)
        (1, 2)
    """
    from .report import Report

    rules = Rules() if rules is None else rules
    if not isinstance(rules, Rules):
        raise SettingsError(
            f"rules must be a qbrecon.Rules, not {type(rules).__name__}", setting="rules"
        )
    if lists is not None:
        from .qblists import QBLists

        if not isinstance(lists, QBLists):
            raise InputError(f"lists must be a qbrecon.QBLists, not {type(lists).__name__}")
    w = _prepare_entries(entries)
    mapping = check_mapping(mapping)
    input_count = len(w)
    if S.RATE_SOURCE in w.columns:
        # a report's entries validated again: a rate filled by the fallback is not the
        # tracker's (the fingerprint and the fallback look at the entry as exported)
        filled = w[S.RATE_SOURCE].isin(_FILLED_SOURCES).to_numpy(dtype=bool, na_value=False)
        if filled.any():
            w[S.BILLABLE_RATE] = w[S.BILLABLE_RATE].mask(filled)
    # columns validation adds are recomputed (a report's clean entries can be validated again)
    derived = {*S.VALIDATED_DTYPES, S.FAILED_RULES} - {S.SPLIT_FROM}
    w = w.drop(columns=[c for c in w.columns if c in derived])
    extra_cols = [c for c in w.columns if c not in S.ENTRY_COLUMNS and c != S.SPLIT_FROM]

    if rules.split_long:
        w = split_entries(w, max_duration=rules.limit)
    elif S.SPLIT_FROM in w.columns:
        w[S.SPLIT_FROM] = w[S.SPLIT_FROM].astype(S.STRING).fillna("")
    else:
        w[S.SPLIT_FROM] = _constant_text("", len(w))
    w[S.DURATION_ROUNDED] = round_durations(w[S.DURATION], rules.rounding)

    tables = _mapping_tables(mapping)
    people_records = customer_records = item_records = None
    people_label = customer_label = item_label = ""
    if lists is not None:
        people_frames = [("Employee", lists.employees), ("Vendor", lists.vendors)]
        people_records = _list_index(people_frames)
        people_label = " and ".join(
            label
            for label, f in (("employee", lists.employees), ("vendor", lists.vendors))
            if len(f)
        )
        customer_records = _list_index([("Customer", lists.customers)])
        customer_label = "customer" if len(lists.customers) else ""
        item_records = _list_index([("Item", lists.items)])
        item_label = "item" if len(lists.items) else ""
    # each distinct name is looked up once; the factorizations also serve the fingerprints
    user_codes, users = pd.factorize(w[S.USER])
    customer_codes, customer_keys, factorized = _customer_names(w)
    task_codes, tasks = pd.factorize(w[S.TASK])
    factorized[S.USER] = (user_codes, users)
    factorized[S.TASK] = (task_codes, tasks)
    for col in (S.EMAIL, S.DESCRIPTION):
        factorized[col] = pd.factorize(w[col])
    people = _resolve(
        user_codes,
        users,
        "employee",
        tables["employee"],
        people_records,
        list_label=people_label,
        required=True,
    )
    customers = _resolve(
        customer_codes,
        customer_keys,
        "customer",
        tables["customer"],
        customer_records,
        list_label=customer_label,
        required=True,
    )
    default = _default_item(rules.default_item, lists)
    items = _resolve(
        task_codes,
        tasks,
        "item",
        tables["item"],
        item_records,
        list_label=item_label,
        required=False,
        default=default,
    )
    if default is not None and not default[3]:
        items.inactive = np.where(
            (items.qb_id != default[0]) | (items.inactive != ""),
            items.inactive,
            f"the default item '{default[1]}' (id {default[0]}) is inactive in QuickBooks",
        ).astype(object)

    # the fingerprint is the entry as the tracker exported it: hashed before rates are filled
    hashes = row_hashes(w, FINGERPRINT_COLUMNS, factorized=factorized)
    _fill_rates(w, rules, people, items)
    held = _held_entries(ledger, w, hashes) if ledger is not None else None
    applied = rules.rules(lists=lists is not None, ledger=ledger is not None)
    ctx = _Context(w, rules, people, customers, items, held, factorized)

    n = len(w)
    errors = np.zeros(n, dtype=np.int64)  # per row: one bit per error-level rule it broke
    positions, rule_numbers, messages = [], [], []
    summary_rows = []
    hours = w[S.DURATION].dt.total_seconds().fillna(0).to_numpy() / 3600
    for number, rule in enumerate(applied):
        msgs = rule.check(ctx)
        pos = msgs.index.to_numpy(dtype=np.int64)
        summary_rows.append(
            {
                S.RULE: rule.id,
                "name": rule.name,
                S.SEVERITY: rule.severity,
                "entries": len(pos),
                "hours": float(hours[pos].sum()),
            }
        )
        if not len(pos):
            continue
        positions.append(pos)
        rule_numbers.append(np.full(len(pos), number, dtype=np.int64))
        messages.append(msgs.reset_index(drop=True).astype(S.STRING))
        if rule.severity == "error":
            errors[pos] |= np.int64(1) << number
    failures = _failures_frame(w[S.ENTRY_ID], applied, positions, rule_numbers, messages)

    rejected_mask = errors != 0
    order = [*S.ENTRY_COLUMNS, *S.VALIDATED_DTYPES, *extra_cols]
    resolved = {
        S.EMPLOYEE_ID: (people, "qb_id"),
        S.EMPLOYEE_NAME: (people, "qb_name"),
        S.NAME_OF: (people, "name_of"),
        S.CUSTOMER_ID: (customers, "qb_id"),
        S.CUSTOMER_NAME: (customers, "qb_name"),
        S.ITEM_ID: (items, "qb_id"),
        S.ITEM_NAME: (items, "qb_name"),
    }

    def rows(mask: np.ndarray) -> pd.DataFrame:
        # column by column, taking only the selected rows (never the whole wide frame at
        # once), with the looked-up names spread straight onto them
        idx = np.flatnonzero(mask)
        codes = {id(r): r.codes.take(idx) for r in (people, customers, items)}
        cols: dict[str, Any] = {}
        for c in order:
            if c in resolved:
                lookup, answer = resolved[c]
                cols[c] = lookup.spread(answer, codes[id(lookup)])
            elif c == S.FINGERPRINT:
                cols[c] = hex_digests(hashes.take(idx))
            else:
                s = w[c]
                cols[c] = (s.to_numpy() if isinstance(s.dtype, np.dtype) else s.array).take(idx)
        return pd.DataFrame(cols, columns=order, copy=False)

    clean = rows(~rejected_mask)
    rejected = rows(rejected_mask)
    rejected[S.FAILED_RULES] = _rule_lists(errors[rejected_mask], applied)
    summary = pd.DataFrame(summary_rows, columns=[S.RULE, "name", S.SEVERITY, "entries", "hours"])
    log.info(
        "validated %d entries: %d clean, %d rejected, %d failures",
        n,
        len(clean),
        len(rejected),
        len(failures),
    )
    return Report(
        failures=failures,
        clean=clean,
        rejected=rejected,
        summary=summary,
        rules=rules,
        applied=applied,
        input_count=input_count,
    )


__all__ = [
    "DESCRIPTION_LIMITS",
    "MARKER_RESERVE",
    "RULE_IDS",
    "Rounding",
    "Rule",
    "Rules",
    "fill_rates",
    "format_duration",
    "round_durations",
    "split_entries",
    "validate",
]
