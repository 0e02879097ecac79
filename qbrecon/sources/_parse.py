"""Vectorized parsers for the values found in time-tracker exports.

Every parser takes a column of text (as read, never pre-typed), parses only its
distinct values (exports repeat dates, times and names endlessly) with Arrow's
compute kernels, and returns the parsed values aligned with the input plus masks
of the values it could not read and of empty cells. The caller turns a mask into
:class:`~qbrecon.errors.Problem` rows, so one error can list every bad cell at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

NS_PER_S = 1_000_000_000
#: a duration longer than this is not a tracked entry but a broken value
MAX_HOURS = 10_000


def hours_to_seconds(hours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Decimal hours → whole seconds (int64), and a mask of values outside 0..MAX_HOURS.

    NaN (an empty cell) gives 0 and is not in the mask; the caller reports empties.
    """
    h = np.asarray(hours, dtype="float64")
    nan = np.isnan(h)
    bad = ~nan & ~((h >= 0) & (h <= MAX_HOURS))  # also catches +-inf
    ok = ~nan & ~bad
    return np.round(np.where(ok, h, 0.0) * 3600).astype("int64"), bad


@dataclass(frozen=True)
class Parsed:
    """Parsed values aligned with the input, and which inputs were unreadable or empty."""

    values: np.ndarray
    bad: np.ndarray  # True where a non-empty value could not be parsed
    empty: np.ndarray  # True where the cell was empty
    mixed: np.ndarray | None = None  # numbers: bad because of the other decimal separator
    separators: Separators | None = None  # numbers: how the column's separator was chosen


def _factorize(texts: pd.Series) -> tuple[np.ndarray, pa.Array]:
    """Codes into the distinct values, and those values trimmed, as an Arrow array."""
    codes, uniques = pd.factorize(texts, sort=False, use_na_sentinel=True)
    arr = getattr(uniques, "array", uniques)
    try:
        a = pa.array(arr)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        a = pa.array([None if v is None or v != v else str(v) for v in np.asarray(arr, dtype=object)],
                     type=pa.string())
    if not pa.types.is_string(a.type) and not pa.types.is_large_string(a.type):
        a = pc.cast(a, pa.string())
    a = pc.utf8_trim_whitespace(pc.fill_null(a, ""))
    return codes, a


def _spread(codes: np.ndarray, values: np.ndarray, fill) -> np.ndarray:
    """values[codes], with ``fill`` where the code is the NA sentinel (-1)."""
    if len(values) == 0:
        return np.full(len(codes), fill, dtype=values.dtype)
    out = values[np.where(codes < 0, 0, codes)]
    missing = codes < 0
    if missing.any():
        out = out.copy()
        out[missing] = fill
    return out


def _groups(a: pa.Array, pattern: str) -> dict[str, pa.Array]:
    """Named groups of ``pattern`` (RE2) per value; null where the value does not match."""
    st = pc.extract_regex(a, pattern)
    names = [st.type.field(i).name for i in range(st.type.num_fields)]
    return dict(zip(names, st.flatten(), strict=True))


def _num(a: pa.Array) -> np.ndarray:
    """Digit strings → float64, NaN where null or empty."""
    a = pc.if_else(pc.equal(a, ""), pa.scalar(None, a.type), a)
    return pc.cast(a, pa.float64()).to_numpy(zero_copy_only=False)


def _matched(groups: dict[str, pa.Array]) -> np.ndarray:
    first = next(iter(groups.values()))
    return pc.is_valid(first).to_numpy(zero_copy_only=False)


def _empty(a: pa.Array) -> np.ndarray:
    return pc.equal(a, "").to_numpy(zero_copy_only=False)


# ------------------------------------------------------------------------ dates
_DATE_RE = r"^(?P<a>\d{1,4})[./\-](?P<b>\d{1,2})[./\-](?P<c>\d{1,4})\.?(?:[ T].*)?$"


@dataclass(frozen=True)
class DateParts:
    """The numeric parts of every distinct date text, before the order is decided."""

    uniques: pa.Array
    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    iso: np.ndarray  # YYYY-MM-DD shaped
    dm: np.ndarray  # D/M/Y or M/D/Y shaped
    short_year: np.ndarray  # a two-digit year (26 = 2026)
    unreadable: np.ndarray  # not empty, but no date shape at all
    empty: np.ndarray

    def text(self, i: int) -> str:
        return self.uniques[i].as_py()


def date_parts(uniques: pa.Array) -> DateParts:
    g = _groups(uniques, _DATE_RE)
    ok = _matched(g)
    a, b, c = _num(g["a"]), _num(g["b"]), _num(g["c"])
    alen = pc.fill_null(pc.utf8_length(g["a"]), 0).to_numpy(zero_copy_only=False)
    clen = pc.fill_null(pc.utf8_length(g["c"]), 0).to_numpy(zero_copy_only=False)
    iso = ok & (alen == 4)
    dm = ok & (alen <= 2) & ((clen == 4) | (clen == 2))
    empty = _empty(uniques)
    fill = lambda x: np.nan_to_num(x, nan=-1).astype("int64")  # noqa: E731
    return DateParts(uniques, fill(a), fill(b), fill(c), iso, dm, dm & (clen == 2),
                     ~empty & ~iso & ~dm, empty)


def build_dates(parts: DateParts, *, dayfirst: bool) -> tuple[np.ndarray, np.ndarray]:
    """datetime64[ns] for every distinct text in the given order, and a bad mask."""
    year = np.where(parts.iso, parts.a, parts.c)
    year = np.where(parts.short_year, 2000 + year, year)
    if dayfirst:
        month, day = parts.b, np.where(parts.iso, parts.c, parts.a)
    else:
        month = np.where(parts.iso, parts.b, parts.a)
        day = np.where(parts.iso, parts.c, parts.b)
    valid = (parts.iso | parts.dm) & (year >= 1900) & (year <= 2200)
    frame = pd.DataFrame(
        {"year": np.where(valid, year, 2000), "month": np.where(valid, month, 1),
         "day": np.where(valid, day, 1)}
    )
    # an impossible month or day (31/02) becomes NaT here and is reported as bad
    dates = pd.to_datetime(frame, errors="coerce").to_numpy(dtype="datetime64[ns]")
    bad = ~parts.empty & (~valid | np.isnat(dates))
    dates = np.where(valid & ~bad, dates, np.datetime64("NaT", "ns"))
    return dates, bad


# ------------------------------------------------------------------------ times
_TIME_RE = (
    r"^(?P<h>\d{1,2})[:.](?P<m>\d{2})(?:[:.](?P<s>\d{2})(?:[.,]\d+)?)?\s*"
    r"(?P<ap>(?i:[ap]\.?\s?m\.?))?$"
)


def parse_times(texts: pd.Series) -> Parsed:
    """Times of day: ``10:23:52 AM``, ``10:23 AM``, ``11:00:00``, ``7:05`` → seconds (int64)."""
    codes, u = _factorize(texts)
    g = _groups(u, _TIME_RE)
    ok = _matched(g)
    h, mi, s = _num(g["h"]), _num(g["m"]), np.nan_to_num(_num(g["s"]))
    ap = pc.fill_null(pc.utf8_lower(g["ap"]), "").to_numpy(zero_copy_only=False).astype(str)
    has_ap = ap != ""
    pm = np.char.startswith(ap, "p")
    valid = ok & (mi < 60) & (s < 60) & np.where(has_ap, (h >= 1) & (h <= 12), h < 24)
    hour = np.where(has_ap, np.where(pm, h % 12 + 12, h % 12), h)
    secs = np.where(valid, np.nan_to_num(hour * 3600 + mi * 60 + s), 0).astype("int64")
    empty = _empty(u)
    return Parsed(_spread(codes, secs, 0), _spread(codes, ~empty & ~valid, False),
                  _spread(codes, empty, True))


def time_style(texts: pd.Series) -> str | None:
    """ "12h" when times carry AM/PM, "24h" when they do not, None when there are none."""
    _codes, u = _factorize(texts.head(500))
    u = pc.filter(u, pc.not_equal(u, ""))
    if len(u) == 0:
        return None
    return "12h" if pc.any(pc.match_substring_regex(u, r"(?i)[ap]\.?\s?m")).as_py() else "24h"


# -------------------------------------------------------------------- durations
_HMS_RE = r"^(?P<neg>-?)(?P<h>\d+):(?P<m>\d{1,2})(?::(?P<s>\d{1,2})(?:[.,]\d+)?)?$"


def parse_durations(texts: pd.Series, *, decimal: str | None = None) -> Parsed:
    """Durations → seconds (int64).

    ``H+:MM(:SS)?`` with an unbounded hour field (``97:16:34``), or decimal hours
    (``1.5``; ``1,5`` where the column uses a decimal comma). Negative values are bad.
    """
    codes, u = _factorize(texts)
    g = _groups(u, _HMS_RE)
    hms = _matched(g)
    h, mi, s = np.nan_to_num(_num(g["h"])), np.nan_to_num(_num(g["m"])), np.nan_to_num(_num(g["s"]))
    neg = pc.fill_null(pc.equal(g["neg"], "-"), False).to_numpy(zero_copy_only=False)
    valid = hms & ~neg & (mi < 60) & (s < 60) & (h <= MAX_HOURS)
    seps = separators(u, decimal=decimal, counts=_counts(codes, len(u)))
    hours = seps.values
    dec_secs, dec_bad = hours_to_seconds(hours)
    dec_ok = ~hms & ~np.isnan(hours) & ~dec_bad
    secs = np.where(valid, h * 3600 + mi * 60 + s, np.where(dec_ok, dec_secs, 0)).astype("int64")
    empty = _empty(u)
    return Parsed(_spread(codes, secs, 0), _spread(codes, ~empty & ~(valid | dec_ok), False),
                  _spread(codes, empty, True), _spread(codes, seps.mixed & ~hms, False), seps)


# ---------------------------------------------------------------------- numbers
_CURRENCY = r"[\s$€£¥₺\x{00a0}]|USD|EUR|GBP|CAD|AUD|TRY|CHF|BRL"
#: readable with a decimal point: 1234.5, .5, 1e3, or valid thousands groups (1,234 / 12,345.5)
_DOT_NUMBER = r"^[-+]?(\d+\.?\d*|\.\d+|\d{1,3}(,\d{3})+(\.\d*)?)([eE][-+]?\d+)?$"
#: readable with a decimal comma: 1234,5, ,5, or valid thousands groups (1.234 / 12.345,5)
_COMMA_NUMBER = r"^[-+]?(\d+,?\d*|,\d+|\d{1,3}(\.\d{3})+(,\d*)?)$"


@dataclass(frozen=True)
class Separators:
    """How each distinct text reads with either decimal separator, and the column's choice.

    A value such as ``2.25`` reads only with a decimal point, ``1,5`` only with a decimal
    comma; ``1,234`` and ``12`` read both ways. The column's separator is the one its
    unambiguous values use (the majority of rows when both appear; a point when none
    shows); a value that reads only with the other separator is *mixed*: reported, never
    reinterpreted (``1,5`` among values like ``2.25`` is neither 15 nor silently 1.5).
    """

    decimal: str
    values: np.ndarray  # float64, NaN where unreadable with the column's separator
    mixed: np.ndarray  # readable only with the other separator
    example: str | None  # an unambiguous value showing the column's separator
    evidence: bool  # some value shows the separator (False: chosen by default)
    guessed: str | None = None  # without evidence: a value whose reading rests on the default


def separators(u: pa.Array, *, decimal: str | None = None,
               counts: np.ndarray | None = None) -> Separators:
    """Read distinct texts as numbers (thousands groups and currency stripped)."""
    t = pc.replace_substring_regex(u, _CURRENCY, "")
    dot = pc.fill_null(pc.match_substring_regex(t, _DOT_NUMBER), False).to_numpy(zero_copy_only=False)
    comma = pc.fill_null(pc.match_substring_regex(t, _COMMA_NUMBER), False).to_numpy(
        zero_copy_only=False)
    comma_only, dot_only = comma & ~dot, dot & ~comma
    has_sep = pc.fill_null(pc.match_substring_regex(t, r"[.,]\d"), False).to_numpy(
        zero_copy_only=False)
    w = np.ones(len(u), dtype="int64") if counts is None else counts
    evidence = bool(comma_only.any() or dot_only.any())
    if decimal is None:
        decimal = "," if int(w[comma_only].sum()) > int(w[dot_only].sum()) else "."
    if decimal == ",":
        ok, mixed, shown = comma, dot_only, comma_only
        t = pc.replace_substring(pc.replace_substring(t, ".", ""), ",", ".")
    else:
        ok, mixed, shown = dot, comma_only, dot_only
        t = pc.replace_substring(t, ",", "")
    t = pc.if_else(pa.array(ok), t, pa.scalar(None, t.type))
    values = pc.cast(t, pa.float64()).to_numpy(zero_copy_only=False)
    first = np.flatnonzero(shown)
    example = u[int(first[0])].as_py().strip() if len(first) else None
    guessed = None
    if not evidence:  # 1,500 or 1.234 alone: read by the default, say which value
        hit = np.flatnonzero(dot & comma & has_sep)
        guessed = u[int(hit[0])].as_py().strip() if len(hit) else None
    return Separators(decimal, values, mixed, example, evidence, guessed)


def detect_decimal(u: pa.Array) -> str:
    """The decimal separator of a column: "," when more of its values can only be read
    with a decimal comma (``20,0``, ``2.000,50``) than with a decimal point."""
    return separators(u).decimal


def numbers_of(u: pa.Array, *, decimal: str | None = None) -> np.ndarray:
    """Numbers from distinct texts (thousands separators and currency stripped); NaN
    where a value is unreadable or uses the separator the column does not."""
    return separators(u, decimal=decimal).values


def mixed_message(seps: Separators) -> str:
    """What is wrong with a value that uses the other decimal separator."""
    if seps.decimal == ",":
        other, this, fix = "a decimal point", "decimal commas", "a comma"
    else:
        other, this, fix = "a decimal comma", "decimal points", "a point"
    shown = f" (such as {seps.example!r})" if seps.example else ""
    return (f"written with {other} in a column written with {this}{shown}: "
            f"ambiguous, write it with {fix}")


def _counts(codes: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(codes[codes >= 0], minlength=n)


def parse_numbers(texts: pd.Series, *, decimal: str | None = None) -> Parsed:
    """Decimal numbers → float64 (NaN where empty).

    ``mixed`` marks values written with the other decimal separator than the column's
    (see :class:`Separators`); they are also in ``bad``.

    Example:
        >>> p = parse_numbers(pd.Series(["1,234.5", "2.25", "1,5", ""]))
        >>> p.values[:2].tolist(), p.bad.tolist(), p.mixed.tolist()
        ([1234.5, 2.25], [False, False, True, False], [False, False, True, False])
    """
    codes, u = _factorize(texts)
    seps = separators(u, decimal=decimal, counts=_counts(codes, len(u)))
    vals = seps.values
    empty = _empty(u)
    return Parsed(_spread(codes, vals, np.nan), _spread(codes, ~empty & np.isnan(vals), False),
                  _spread(codes, empty, True), _spread(codes, seps.mixed & ~empty, False), seps)


# --------------------------------------------------------------------- booleans
_TRUE = ["yes", "y", "true", "t", "1", "ja", "j", "x", "si", "sí", "oui", "evet", "billable",
         "approved"]
_FALSE = ["no", "n", "false", "f", "0", "nein", "non", "hayır", "hayir", "not billable",
          "non-billable", "nonbillable", "unapproved", "not approved"]


def parse_bools(texts: pd.Series) -> Parsed:
    """Yes/No style values → an object array of True/False/None (None where empty)."""
    codes, u = _factorize(texts)
    low = pc.utf8_lower(u)
    t = pc.is_in(low, value_set=pa.array(_TRUE)).to_numpy(zero_copy_only=False)
    f = pc.is_in(low, value_set=pa.array(_FALSE)).to_numpy(zero_copy_only=False)
    empty = _empty(u)
    vals = np.where(t, True, np.where(f, False, None)).astype(object)
    return Parsed(_spread(codes, vals, None), _spread(codes, ~empty & ~t & ~f, False),
                  _spread(codes, empty, True))
