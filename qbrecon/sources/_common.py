"""Shared machinery of the time-entry readers: layouts, typed columns, the canonical frame."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import schema as S
from ..errors import InputError, Problem
from ..ids import digest
from . import _parse as P
from ._read import RawTable, bad_cells

log = logging.getLogger("qbrecon")


def header_key(name: str) -> str:
    """How header names are compared: NFKC, casefolded, inner whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", str(name)).casefold().split())


@dataclass(frozen=True)
class Field:
    """One column a layout knows: its aliases (exact names or ``re:`` patterns) and kind.

    Kinds: text, date, time, datetime, duration, number, bool (for XLSX cell conversion).
    """

    name: str
    aliases: tuple[str, ...]
    kind: str = "text"

    def find(self, keys: dict[str, str]) -> str | None:
        """The header (as written) that carries this field, if any."""
        for alias in self.aliases:
            if alias.startswith("re:"):
                pattern = re.compile(alias[3:], re.IGNORECASE)
                for key, original in keys.items():
                    if pattern.fullmatch(key):
                        return original
            else:
                hit = keys.get(header_key(alias))
                if hit is not None:
                    return hit
        return None


@dataclass(frozen=True)
class Layout:
    """A tracker export layout: the fields it may have and those that identify it."""

    source: str
    title: str
    fields: tuple[Field, ...]
    signature: tuple[str, ...]  # fields that must all be present to recognise the layout
    forbidden: tuple[str, ...] = ()  # header names whose presence rules the layout out
    alternatives: tuple[tuple[str, ...], ...] = ()  # at least one group must be complete

    def resolve(self, header: Sequence[str]) -> dict[str, str]:
        keys: dict[str, str] = {}
        for h in header:
            keys.setdefault(header_key(h), h)
        found = {}
        for f in self.fields:
            col = f.find(keys)
            if col is not None:
                found[f.name] = col
        return found

    def matches(self, header: Sequence[str]) -> bool:
        keys = {header_key(h) for h in header}
        if any(header_key(x) in keys for x in self.forbidden):
            return False
        found = self.resolve(header)
        if not all(name in found for name in self.signature):
            return False
        return not self.alternatives or any(
            all(n in found for n in group) for group in self.alternatives
        )

    def kinds(self, header: Sequence[str]) -> dict[str, str]:
        by_name = {f.name: f.kind for f in self.fields}
        return {col: by_name[name] for name, col in self.resolve(header).items()}

    def describe(self) -> str:
        names = []
        for n in self.signature:
            f = next(f for f in self.fields if f.name == n)
            names.append(repr(f.aliases[0]))
        return f"a {self.title} (columns {', '.join(names)})"


@dataclass
class Ctx:
    """One file being converted: its text columns, the problems found so far."""

    table: RawTable
    layout: Layout
    dayfirst: bool | None
    cols: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    attrs: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.cols:
            self.cols = self.layout.resolve(self.table.header)

    @property
    def n(self) -> int:
        return len(self.table.frame)

    def has(self, name: str) -> bool:
        return name in self.cols

    def raw(self, name: str) -> pd.Series:
        """The column's text as read ("" where the layout lacks the column)."""
        col = self.cols.get(name)
        if col is None:
            return pd.Series([""] * self.n, dtype=S.STRING)
        s = self.table.frame[col]
        return s if str(s.dtype) in ("str", "string") else s.astype(S.STRING)

    def text(self, name: str) -> pd.Series:
        """Cleaned text: NFC, line breaks and tabs turned into spaces, ends trimmed.

        Works on the distinct values (columns repeat names endlessly), with Arrow kernels.
        """
        if not self.has(name):
            return pd.Series([""] * self.n, dtype=S.STRING)
        enc = pc.dictionary_encode(_arrow_text(self.raw(name)))
        d = enc.dictionary
        if pc.any(pc.match_substring_regex(d, r"[\r\n\t]")).as_py():
            d = pc.replace_substring_regex(d, r"[\r\n\t]+", " ")
        d = pc.utf8_trim_whitespace(d)
        if not pc.all(pc.string_is_ascii(d)).as_py():
            d = pc.utf8_normalize(d, form="NFC")
        return pd.Series(pd.array(pc.take(d, enc.indices), dtype=S.STRING))

    def bad(self, mask: np.ndarray, name: str, message: str) -> None:
        if mask.any():
            self.problems.extend(bad_cells(self.table, mask, self.cols.get(name, name), message))

    def required(self, name: str, what: str) -> None:
        """Report every row where the column ``name`` is empty."""
        if self.has(name):
            self.missing((self.raw(name).fillna("").str.strip() == "").to_numpy(dtype=bool), name, what)

    def missing(self, mask: np.ndarray, name: str, what: str) -> None:
        if mask.any():
            self.problems.extend(
                bad_cells(self.table, mask, self.cols.get(name, name), f"{what} is empty")
            )

    # ------------------------------------------------------------- dates
    def dates(self, names: Iterable[str]) -> dict[str, np.ndarray]:
        """Parse date columns with one date order for the whole file (see module docs)."""
        names = [n for n in names if self.has(n)]
        decoded: dict[str, tuple[np.ndarray, P.DateParts]] = {}
        for n in names:
            codes, uniques = P._factorize(self.raw(n))
            decoded[n] = (codes, P.date_parts(uniques))
        dayfirst = self._date_order(decoded)
        out = {}
        for n, (codes, parts) in decoded.items():
            values, bad = P.build_dates(parts, dayfirst=dayfirst)
            bad_rows = P._spread(codes, bad | parts.unreadable, False)
            order = "DD/MM/YYYY" if dayfirst else "MM/DD/YYYY"
            self.bad(bad_rows, n, f"not a date (expected {order} or YYYY-MM-DD)")
            out[n] = P._spread(codes, values, np.datetime64("NaT", "ns"))
        return out

    def _date_order(self, decoded: dict[str, tuple[np.ndarray, P.DateParts]]) -> bool:
        file = self.table.file
        day_hint = month_hint = None  # (column, text) showing each order
        ambiguous_seen = False
        for n, (_codes, parts) in decoded.items():
            dm = parts.dm
            if not dm.any():
                continue
            ambiguous_seen = True
            first_big = np.flatnonzero(dm & (parts.a > 12) & (parts.b <= 12))
            second_big = np.flatnonzero(dm & (parts.b > 12) & (parts.a <= 12))
            if len(first_big) and day_hint is None:
                day_hint = (n, parts.text(int(first_big[0])))
            if len(second_big) and month_hint is None:
                month_hint = (n, parts.text(int(second_big[0])))
        if not ambiguous_seen:
            self.attrs["date_order"] = "YYYY-MM-DD"
            return bool(self.dayfirst)
        if day_hint and month_hint:
            raise InputError(
                "dates mix two orders: "
                f"{self._where(*day_hint)} can only be DD/MM/YYYY but "
                f"{self._where(*month_hint)} can only be MM/DD/YYYY",
                file=file,
            )
        decided = None
        if day_hint:
            decided, reason = True, f"{self._where(*day_hint)} has a day above 12"
        elif month_hint:
            decided, reason = False, f"{self._where(*month_hint)} has a day above 12"
        if decided is not None:
            if self.dayfirst is not None and self.dayfirst != decided:
                asked = "DD/MM/YYYY" if self.dayfirst else "MM/DD/YYYY"
                found = "DD/MM/YYYY" if decided else "MM/DD/YYYY"
                raise InputError(
                    f"dayfirst={self.dayfirst} asks for {asked}, but the file is {found}: {reason}",
                    file=file,
                )
            return self._settle(decided, reason, logging.INFO)
        if self.dayfirst is not None:
            return self._settle(self.dayfirst, "as asked (dayfirst setting)", logging.INFO)
        hint = _file_name_order(file)
        if hint is not None:
            return self._settle(hint, "from the dates in the file name", logging.INFO)
        style = self.attrs.get("time_style")
        if style == "12h":
            return self._settle(
                False,
                "GUESSED from its 12-hour times: no date has a day above 12; "
                "pass dayfirst=True (--dayfirst) if the dates are DD/MM/YYYY",
                logging.WARNING,
            )
        if style == "24h":
            return self._settle(
                True,
                "GUESSED from its 24-hour times: no date has a day above 12; "
                "pass dayfirst=False (--monthfirst) if the dates are MM/DD/YYYY",
                logging.WARNING,
            )
        raise InputError(
            "cannot tell whether dates are DD/MM/YYYY or MM/DD/YYYY (no day above 12 and no "
            "clock times); pass dayfirst=True or False (CLI: --dayfirst / --monthfirst)",
            file=file,
        )

    def _where(self, name: str, text: str) -> str:
        return f"{self.cols.get(name, name)!r} value {text!r}"

    def _settle(self, dayfirst: bool, reason: str, level: int) -> bool:
        order = "DD/MM/YYYY" if dayfirst else "MM/DD/YYYY"
        self.attrs["date_order"] = order
        self.attrs["date_order_reason"] = reason
        log.log(level, "%s: dates read as %s (%s)", self.table.file, order, reason)
        return dayfirst

    # ------------------------------------------------------------- others
    def times(self, name: str) -> P.Parsed:
        parsed = P.parse_times(self.raw(name))
        self.bad(parsed.bad, name, "not a time of day (expected e.g. 09:05:00, 9:05 AM)")
        return parsed

    def durations(self, name: str, *, decimal: str | None = None) -> P.Parsed:
        parsed = P.parse_durations(self.raw(name), decimal=decimal)
        self._mixed(parsed, name)
        self.bad(parsed.bad & ~parsed.mixed, name, f"not a duration (expected H:MM:SS or "
                                                   f"decimal hours, 0 to {P.MAX_HOURS:,} hours)")
        return parsed

    def _mixed(self, parsed: P.Parsed, name: str) -> None:
        """Report values written with the other decimal separator than their column's."""
        seps = parsed.separators
        if parsed.mixed is not None and seps is not None:
            self.bad(parsed.mixed, name, P.mixed_message(seps))
        if seps is not None and seps.guessed is not None:
            reading = "a thousands separator" if seps.decimal == "." else "a decimal separator"
            log.warning("%s: column %r: no value shows its decimal separator; %r is read with "
                        "%r as %s", self.table.file, self.cols.get(name, name), seps.guessed,
                        "," if seps.decimal == "." else ".", reading)

    def hours(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Decimal hours → (seconds, empty mask); negative or absurd values are reported."""
        parsed = self.numbers(name)
        seconds, out_of_range = P.hours_to_seconds(parsed.values)
        self.bad(out_of_range, name, f"not a plausible number of hours (0 to {P.MAX_HOURS:,})")
        return seconds, parsed.empty

    def numbers(self, name: str) -> P.Parsed:
        parsed = P.parse_numbers(self.raw(name))
        self._mixed(parsed, name)
        self.bad(parsed.bad & ~parsed.mixed, name, "not a number")
        return parsed

    def bools(self, name: str) -> P.Parsed:
        parsed = P.parse_bools(self.raw(name))
        self.bad(parsed.bad, name, "not a yes/no value")
        return parsed


def check_duplicate_columns(table: RawTable, cols: dict[str, str]) -> None:
    """Refuse a header that names a column the layout reads (``cols``) more than once.

    Which of two ``Description`` columns holds the entries' text cannot be guessed; both
    are named in one error. Copies identical in every row are harmless: a warning.
    Repeated columns that the layout does not read are ignored.

    Raises:
        InputError: a column the layout reads appears several times with different values.
    """
    written = table.written or table.header
    used = {header_key(c) for c in cols.values()}
    where: dict[str, list[int]] = {}
    for j, name in enumerate(written):
        if header_key(name) in used:
            where.setdefault(header_key(name), []).append(j)
    problems = []
    for positions in where.values():
        if len(positions) < 2:
            continue
        name = written[positions[0]]
        frame = table.frame
        first = frame.iloc[:, positions[0]].fillna("").str.strip()
        numbers = ", ".join(_column_label(table, j) for j in positions)
        if all(first.equals(frame.iloc[:, j].fillna("").str.strip()) for j in positions[1:]):
            log.warning("%s: column %r appears %d times (%s) with the same values; the first "
                        "is read", table.file, name, len(positions), numbers)
            continue
        problems.append(Problem(
            f"the column appears {len(positions)} times ({numbers}) with different values; "
            "keep the one to read and remove or rename the others",
            row=table.header_row, column=name))
    if problems:
        raise InputError("the header repeats a column name, so which one to read is unclear",
                         file=table.file, problems=problems)


def _column_label(table: RawTable, j: int) -> str:
    """Column ``j`` (0-based) as a spreadsheet user finds it: letter in XLSX, number in CSV."""
    if table.kind == "xlsx":
        from openpyxl.utils import get_column_letter

        return f"column {get_column_letter(j + 1)}"
    return f"column {j + 1}"


_NAME_DATES = re.compile(r"(?<!\d)(\d{1,2})[_.\-](\d{1,2})[_.\-](\d{4})(?!\d)")


def _file_name_order(file: str) -> bool | None:
    """Date order shown by dates in a file name (Clockify writes its report range there)."""
    import os

    name = os.path.basename(file)
    day = month = False
    for a, b, _y in _NAME_DATES.findall(name):
        a, b = int(a), int(b)
        if a > 12 >= b:
            day = True
        elif b > 12 >= a:
            month = True
    if day != month:
        return day
    return None


# ------------------------------------------------------------------ assembling
def combine(dates: np.ndarray, seconds: np.ndarray, empty: np.ndarray) -> np.ndarray:
    """date + time-of-day seconds → datetime64[ns]; NaT where the time is empty."""
    out = dates + (seconds.astype("int64") * P.NS_PER_S).astype("timedelta64[ns]")
    return np.where(empty | np.isnat(dates), np.datetime64("NaT", "ns"), out)


def _arrow_text(values: pd.Series) -> pa.Array:
    """A text column as one Arrow string array, "" for missing values."""
    arr = values.array
    a = pa.array(arr) if hasattr(arr, "__arrow_array__") else pa.array(
        values.astype(object).where(values.notna(), None).tolist(), pa.string())
    if isinstance(a, pa.ChunkedArray):
        a = a.combine_chunks()
    if not (pa.types.is_string(a.type) or pa.types.is_large_string(a.type)):
        a = pc.cast(a, pa.string())
    return pc.fill_null(a, "")


def _hash_codes(values: pd.Series, *, fold: bool) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the distinct values and an 8-hex digest per distinct value."""
    enc = pc.dictionary_encode(_arrow_text(values))
    codes = enc.indices.to_numpy(zero_copy_only=False).astype(np.intp)
    keys = pd.Series(enc.dictionary.to_pylist(), dtype=object)
    if fold:
        keys = keys.str.casefold().str.split().str.join(" ")
    return codes, np.asarray(digest(keys.tolist(), size=4), dtype=object)


def compose_ids(
    source: str,
    person: pd.Series,
    start: np.ndarray,
    date: np.ndarray,
    what: pd.Series | Callable[[], pd.Series] | None = None,
    note: pd.Series | Callable[[], pd.Series] | None = None,
) -> pd.Series:
    """Entry ids that stay the same across repeated loads and re-exports.

    ``<source>-<person>-<YYYYMMDDHHMMSS>`` from who and when the entry started. Where the
    export has no clock time, ``<source>-<person>-<YYYYMMDD>-<what>-<note>``: ``what`` the
    hashed client/project/task, ``note`` the hashed notes (description). Only entries
    alike in all of these are numbered ``-2``, ``-3``... in file order.

    Why the notes are in the key: without a clock time the order of a day's entries is all
    that tells them apart, and an entry added later (a forgotten call logged before an
    entry already sent) would renumber its neighbours: the sent entry would come back
    under a new id and be sent twice. With the notes in the key an added entry can only
    shift entries with the very same notes. The price: an entry whose *notes* are edited
    after sending gets a new id. Its hours are deliberately not in the key, so an entry
    whose hours are corrected keeps its id and is reported as edited after sending
    (``changed_after_send``), the most common correction. Notes are compared casefolded
    with spaces collapsed, so re-capitalising them keeps the id.

    Person keys are casefolded with spaces collapsed, so a re-export that changed only
    the case of a name keeps its ids.
    """
    n = len(person)
    pcodes, phash = _hash_codes(person, fold=True)
    has_start = ~np.isnat(start)
    when = np.where(has_start, _stamp_int(start, with_time=True), _stamp_int(date, with_time=False))
    none = np.full(n, -1), np.array([], dtype=object)
    wcodes, whash = none
    ncodes, nhash = none
    if not has_start.all():
        if what is not None:
            wcodes, whash = _hash_codes(what() if callable(what) else what, fold=True)
            wcodes = np.where(has_start, -1, wcodes)
        if note is not None:
            ncodes, nhash = _hash_codes(note() if callable(note) else note, fold=True)
            ncodes = np.where(has_start, -1, ncodes)
    if (wcodes < 0).all() and (ncodes < 0).all() and len(phash) < (1 << 17):
        # the usual case: who and when fit one int64 (when < 2**45), cheap to check
        parts = pd.Series((pcodes.astype("int64") << 45) | when)
    else:
        parts = pd.DataFrame({"p": pcodes, "t": when, "w": wcodes, "n": ncodes})
    dup = parts.duplicated().to_numpy()
    prefix = pa.array([f"{source}-{h}-" for h in phash], pa.string())
    key = pc.binary_join_element_wise(
        pc.take(prefix, pa.array(pcodes)), pc.cast(pa.array(when), pa.string()), "")
    for codes, hashes in ((wcodes, whash), (ncodes, nhash)):
        if len(hashes):
            text = pc.take(pa.array(hashes, pa.string()), pa.array(np.maximum(codes, 0)))
            key = pc.if_else(pa.array(codes >= 0), pc.binary_join_element_wise(key, text, "-"), key)
    if dup.any():
        by = parts if isinstance(parts, pd.Series) else [parts[c] for c in parts.columns]
        occurrence = parts.groupby(by, sort=False).cumcount().to_numpy()
        numbered = pc.binary_join_element_wise(key, pc.cast(pa.array(occurrence + 1), pa.string()), "-")
        key = pc.if_else(pa.array(occurrence > 0), numbered, key)
    return pd.Series(pd.array(key, dtype=S.STRING))


def _stamp_int(values: np.ndarray, *, with_time: bool) -> np.ndarray:
    """YYYYMMDD or YYYYMMDDHHMMSS as int64 (0 where NaT), by calendar arithmetic on the
    distinct days (cheap: an export spans few of them)."""
    nat = np.isnat(values)
    v = np.where(nat, np.datetime64(0, "ns"), values).astype("datetime64[ns]")
    days = v.astype("datetime64[D]")
    codes, uniq = pd.factorize(days)
    uniq = np.asarray(uniq, dtype="datetime64[D]")
    months = uniq.astype("datetime64[M]")
    ymd = ((months.astype("datetime64[Y]").astype("int64") + 1970) * 10_000
           + (months.astype("int64") % 12 + 1) * 100
           + (uniq - months).astype("int64") + 1)
    out = ymd[codes]
    if with_time:
        secs = (v - days).astype("timedelta64[s]").astype("int64")
        out = out * 1_000_000 + secs // 3600 * 10_000 + secs % 3600 // 60 * 100 + secs % 60
    return np.where(nat, 0, out)


def canonical(
    ctx: Ctx,
    *,
    user: pd.Series,
    email: pd.Series,
    client: pd.Series,
    project: pd.Series,
    task: pd.Series,
    description: pd.Series,
    tags: pd.Series,
    date: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    duration_s: np.ndarray,
    billable: np.ndarray,
    rate: np.ndarray,
    approved: np.ndarray | None,
    entry_id: pd.Series,
) -> pd.DataFrame:
    """The canonical entries frame (schema.ENTRY_DTYPES) from typed parts."""
    source = ctx.layout.source
    n = ctx.n

    def txt(s: pd.Series) -> pd.Series:
        return s.reset_index(drop=True).astype(S.STRING).fillna("")

    if approved is None:
        approved_arr = pd.arrays.BooleanArray(np.zeros(n, dtype=bool), np.ones(n, dtype=bool))
    else:
        known = ~np.asarray(pd.isna(approved), dtype=bool)
        approved_arr = pd.arrays.BooleanArray(np.where(known, approved, False).astype(bool),
                                              ~known)
    frame = pd.DataFrame(
        {
            S.ENTRY_ID: entry_id.reset_index(drop=True).astype(S.STRING),
            S.SOURCE: pd.Series([source] * n, dtype=S.STRING),
            S.ROW: ctx.table.rows.astype("int64"),
            S.USER: txt(user),
            S.EMAIL: txt(email),
            S.CLIENT: txt(client),
            S.PROJECT: txt(project),
            S.TASK: txt(task),
            S.DESCRIPTION: txt(description),
            S.TAGS: txt(tags),
            S.DATE: pd.Series(date, dtype=S.DATETIME),
            S.START: pd.Series(start, dtype=S.DATETIME),
            S.END: pd.Series(end, dtype=S.DATETIME),
            S.DURATION: pd.Series(duration_s.astype("int64") * P.NS_PER_S, dtype=S.TIMEDELTA),
            S.BILLABLE: pd.Series(billable.astype(bool), dtype="bool"),
            S.BILLABLE_RATE: pd.Series(rate, dtype="float64"),
            S.APPROVED: approved_arr,
        }
    )
    return frame


def clock_span(ctx: Ctx) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Work date, start, end and duration seconds of layouts with a start date and time,
    an optional end date and time, and a duration text (Clockify, Toggl).

    The duration is the tracked text; where it is empty, the clock times give it, then a
    ``duration_decimal`` column if the layout has one. Without an end date column, an end
    time before the start time crossed midnight.
    """
    ctx.attrs["time_style"] = P.time_style(ctx.raw("start_time")) or ""
    d = ctx.dates(["start_date", "end_date"])
    date = d["start_date"]
    ctx.required("start_date", "the start date")
    nat = np.full(ctx.n, np.datetime64("NaT", "ns"))
    start = end = nat
    if ctx.has("start_time"):
        st = ctx.times("start_time")
        start = combine(date, st.values, st.empty)
    if ctx.has("end_time"):
        et = ctx.times("end_time")
        end_date = d.get("end_date", date)
        end = combine(np.where(np.isnat(end_date), date, end_date), et.values, et.empty)
        if "end_date" not in d:
            crossed = ~np.isnat(end) & ~np.isnat(start) & (end < start)
            end = np.where(crossed, end + np.timedelta64(1, "D"), end)
    dur = ctx.durations("duration")
    spans = (end - start).astype("timedelta64[s]").astype("int64")
    from_clock = dur.empty & ~np.isnat(start) & ~np.isnat(end)
    seconds = np.where(from_clock, spans, dur.values)
    still = dur.empty & ~from_clock
    if still.any() and ctx.has("duration_decimal"):
        dec_seconds, dec_empty = ctx.hours("duration_decimal")
        seconds = np.where(still & ~dec_empty, dec_seconds, seconds)
        still &= dec_empty
    ctx.missing(still, "duration", "the duration")
    neg = seconds < 0
    ctx.bad(neg, "duration", "ends before it starts")
    return date, start, end, np.where(neg, 0, seconds).astype("int64")


def billable_flags(ctx: Ctx) -> np.ndarray:
    """The billable column as bool; entries count as not billable without one."""
    if not ctx.has("billable"):
        return np.zeros(ctx.n, dtype=bool)
    return bool_column(ctx.bools("billable"), default=False)


def currency_in(ctx: Ctx, name: str) -> None:
    """Record the currency written in a header such as ``Billable Rate (USD)``."""
    col = ctx.cols.get(name, "")
    if "(" in col and col.rfind(")") > col.rfind("(") + 1:
        ctx.attrs["currency"] = col[col.rfind("(") + 1 : col.rfind(")")]


def what_of(ctx: Ctx) -> Callable[[], pd.Series]:
    """client:project:task, the "what" of an entry in ids built without a clock time
    (built only when some entry has no clock time)."""
    return lambda: ctx.text("client") + ":" + ctx.text("project") + ":" + ctx.text("task")


def note_of(ctx: Ctx, name: str = "description") -> Callable[[], pd.Series]:
    """The notes of an entry, the last part of ids built without a clock time."""
    return lambda: ctx.text(name)


def bool_column(parsed: P.Parsed, *, default: bool) -> np.ndarray:
    """True/False with ``default`` for empty (and unreadable, which are reported) cells."""
    v = parsed.values
    return np.where(v == True, True, np.where(v == False, False, default)).astype(bool)  # noqa: E712


def nullable_bool(parsed: P.Parsed) -> np.ndarray:
    """True/False/NA as an object array (NA for empty cells)."""
    v = parsed.values
    return np.where(v == True, True, np.where(v == False, False, pd.NA)).astype(object)  # noqa: E712


def join_name(first: pd.Series, last: pd.Series) -> pd.Series:
    """ "First Last" from two columns, spaces collapsed."""
    both = first.astype(S.STRING).fillna("") + " " + last.astype(S.STRING).fillna("")
    return both.str.split().str.join(" ").astype(S.STRING).fillna("")
