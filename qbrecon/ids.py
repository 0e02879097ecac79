"""Stable identifiers and content fingerprints.

Entry ids are persisted in the ledger and decide what is "already sent", so they must
never change for the same entry: not across runs, pandas versions or machines. They
are therefore BLAKE2b digests of a text key that qbrecon builds itself (never
``pandas.util.hash_pandas_object``, whose algorithm belongs to pandas).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from . import schema as S
from ._arrow import string_storage, to_text

_SEP = "\x1f"  # unit separator: cannot occur in any tracker field we keep


def digest(texts: Iterable[str], *, size: int = 8) -> list[str]:
    """Hex BLAKE2b digests (``2 * size`` characters) of each text, UTF-8 encoded."""
    b2 = hashlib.blake2b
    return [b2(t.encode("utf-8"), digest_size=size).hexdigest() for t in texts]


def key_text(df: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """One canonical text per row from ``columns``, stable across dtypes and locales.

    Datetimes become integer seconds since the epoch, timedeltas integer seconds,
    booleans ``1``/``0``, floats their shortest repr, and missing values ``""``.
    """
    parts = [_as_key_part(df[c]) for c in columns]
    if not parts:
        return pd.Series([""] * len(df), index=df.index, dtype=object)
    first, rest = parts[0], parts[1:]
    return first.str.cat(rest, sep=_SEP) if rest else first


def _as_key_part(s: pd.Series) -> pd.Series:
    kind = s.dtype.kind if isinstance(s.dtype, np.dtype) else None
    if kind == "M":
        secs = s.astype("datetime64[ns]").to_numpy().astype("int64") // 1_000_000_000
        out = pd.Series(secs.astype(str), index=s.index, dtype=object)
        return out.mask(s.isna(), "")
    if kind == "m":
        secs = s.astype("timedelta64[ns]").to_numpy().astype("int64") // 1_000_000_000
        out = pd.Series(secs.astype(str), index=s.index, dtype=object)
        return out.mask(s.isna(), "")
    if kind == "b" or str(s.dtype) == "boolean":
        return s.map({True: "1", False: "0"}).astype(object).fillna("")
    if kind == "f":
        out = pd.Series([repr(float(v)) for v in s.to_numpy()], index=s.index, dtype=object)
        return out.mask(s.isna(), "")
    return s.astype(object).fillna("").astype(str)


def hash_rows(df: pd.DataFrame, columns: Sequence[str], *, size: int = 8) -> pd.Series:
    """A stable hex digest per row of ``df[columns]`` (see :func:`key_text`)."""
    keys = key_text(df, columns)
    return pd.Series(digest(keys.tolist(), size=size), index=df.index, dtype=S.STRING)


def make_entry_ids(source: str, keys: pd.Series) -> pd.Series:
    """Entry ids ``<source>-<16 hex>`` from identity keys, unique within the frame.

    Rows sharing a key get an occurrence number appended to it (the first occurrence
    keeps the bare key), so a duplicate never changes the id of the original.
    """
    keys = keys.astype(object).fillna("")
    n = keys.groupby(keys, sort=False).cumcount()
    dup = n > 0
    if dup.any():
        keys = keys.where(~dup, keys + _SEP + "#" + n.astype(str))
    hexes = digest((source + _SEP + keys).tolist())
    return pd.Series([f"{source}-{h}" for h in hexes], index=keys.index, dtype=S.STRING)


#: the entry columns whose change after sending is reported as ``changed_after_send``
FINGERPRINT_COLUMNS: list[str] = [
    S.USER,
    S.EMAIL,
    S.CLIENT,
    S.PROJECT,
    S.TASK,
    S.DESCRIPTION,
    S.DATE,
    S.START,
    S.END,
    S.DURATION,
    S.BILLABLE,
    S.BILLABLE_RATE,
]


def entry_fingerprints(entries: pd.DataFrame) -> pd.Series:
    """A content digest per entry (16 hex characters); it changes whenever a sent-relevant
    field (:data:`FINGERPRINT_COLUMNS`) changes.

    Vectorized, because validation fingerprints every entry: each distinct text is
    hashed once with BLAKE2b, numbers are hashed from their values (datetimes and
    durations in whole seconds, as :func:`key_text` has them), and the per-column
    hashes are combined with the splitmix64 mixer. The result depends only on the
    values, never on pandas, the machine or the order of rows.

    Example:
        >>> e = pd.DataFrame({c: [""] for c in FINGERPRINT_COLUMNS})
        >>> len(entry_fingerprints(e).iloc[0])
        16
    """
    return row_fingerprints(entries, FINGERPRINT_COLUMNS)


_U64 = np.uint64
_GOLDEN = _U64(0x9E3779B97F4A7C15)
_MIX1 = _U64(0xBF58476D1CE4E5B9)
_MIX2 = _U64(0x94D049BB133111EB)
_HEX = np.array([f"{i:02x}" for i in range(256)], dtype="<U2")
_HEX_BYTES = np.array([f"{i:02x}".encode() for i in range(256)], dtype="S2")


def _mix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finalizer, elementwise on uint64 (wrapping arithmetic); a new array."""
    return _mix64_inplace(x.astype(np.uint64, copy=True))


def _mix64_inplace(x: np.ndarray, tmp: np.ndarray | None = None) -> np.ndarray:
    """:func:`_mix64` overwriting ``x`` (and using ``tmp``, if given, as scratch space):
    the same values without a temporary array per step, which matters on a million rows."""
    if tmp is None:
        tmp = np.empty_like(x)
    with np.errstate(over="ignore"):
        np.add(x, _GOLDEN, out=x)
        np.right_shift(x, _U64(30), out=tmp)
        np.bitwise_xor(x, tmp, out=x)
        np.multiply(x, _MIX1, out=x)
        np.right_shift(x, _U64(27), out=tmp)
        np.bitwise_xor(x, tmp, out=x)
        np.multiply(x, _MIX2, out=x)
        np.right_shift(x, _U64(31), out=tmp)
        np.bitwise_xor(x, tmp, out=x)
    return x


def _text_hashes(texts: Sequence[str]) -> np.ndarray:
    """The first 8 bytes of each text's BLAKE2b digest, read as a little-endian uint64."""
    b2 = hashlib.blake2b
    joined = b"".join([b2(t.encode("utf-8"), digest_size=8).digest() for t in texts])
    return np.frombuffer(joined, dtype="<u8").astype(np.uint64)


def _factorized_text_hashes(codes: np.ndarray, uniques: Sequence[object]) -> np.ndarray:
    """Per-row text hashes from a factorization (code -1, a missing value, hashes as "")."""
    hashes = _text_hashes([str(u) for u in uniques] + [""])
    # code -1 takes the last hash: that of ""
    return hashes.take(codes)


def _column_hashes(
    s: pd.Series, factorized: tuple[np.ndarray, Sequence[object]] | None = None
) -> np.ndarray:
    """One uint64 per value of ``s``, from the value alone (missing values hash alike).

    ``factorized`` (codes and distinct values of ``s``, as :func:`pandas.factorize` gives
    them) saves factorizing a text column again when the caller already has it.
    """
    if factorized is not None:
        return _factorized_text_hashes(*factorized)
    kind = s.dtype.kind if isinstance(s.dtype, np.dtype) else None
    if isinstance(s.dtype, pd.StringDtype):
        # missing text hashes as "" (the code -1 that factorize gives it)
        return _factorized_text_hashes(*pd.factorize(s, use_na_sentinel=True))
    missing = s.isna().to_numpy(dtype=bool)
    # each branch makes a new array of values, which the mixer then overwrites
    if kind in ("M", "m"):
        unit = "datetime64[ns]" if kind == "M" else "timedelta64[ns]"
        secs = s.astype(unit).to_numpy().view("int64") // 1_000_000_000
        values = secs.view(np.uint64)
    elif kind == "b" or str(s.dtype) == "boolean":
        values = s.to_numpy(dtype="float64", na_value=0.0).astype(np.uint64)
    elif kind in ("i", "u"):
        values = s.to_numpy().astype("int64").view(np.uint64)
    elif kind == "f":
        values = s.to_numpy(dtype="float64").copy()
        values[missing] = 0.0
        values = values.view(np.uint64)
    else:
        codes, uniques = pd.factorize(s.fillna("") if missing.any() else s)
        return _text_hashes([str(u) for u in uniques]).take(codes)
    # a missing number hashes differently from every value: flip it through the mixer twice
    out = _mix64_inplace(values)
    if missing.any():
        out[missing] = _mix64(_mix64(np.zeros(int(missing.sum()), dtype=np.uint64) + _U64(1)))
    return out


def row_hashes(
    df: pd.DataFrame,
    columns: Sequence[str],
    *,
    factorized: Mapping[str, tuple[np.ndarray, Sequence[object]]] | None = None,
) -> np.ndarray:
    """The 64-bit digest behind :func:`row_fingerprints`, one uint64 per row.

    ``factorized`` maps text columns to their factorization (codes, distinct values)
    where the caller has one already; missing text must have the code -1.
    """
    factorized = factorized or {}
    h = np.full(len(df), _U64(0x5142524543304E31), dtype=np.uint64)  # "QBRECON1"
    tmp = np.empty_like(h)
    for i, col in enumerate(columns):
        c = _column_hashes(df[col], factorized.get(col))
        with np.errstate(over="ignore"):
            np.add(c, _U64(i + 1), out=c)
        np.bitwise_xor(h, _mix64_inplace(c, tmp), out=h)
        _mix64_inplace(h, tmp)
    return h


def hex_digests(h: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """uint64 digests as 16 lower-case hex characters each (big-endian), a text array."""
    n = len(h)
    as_bytes = h.astype(">u8").view(np.uint8).reshape(n, 8)
    if string_storage() == "pyarrow":
        # the characters of every digest side by side are the whole text buffer: hand it to
        # Arrow as is rather than building a million Python strings
        data = np.ascontiguousarray(_HEX_BYTES[as_bytes]).view(np.uint8)
        offsets = np.arange(0, 16 * n + 1, 16, dtype=np.int64)
        arr = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))
        return to_text(arr)
    hexes = np.ascontiguousarray(_HEX[as_bytes]).view("<U16").ravel()
    return pd.array(hexes, dtype=S.STRING)


def row_fingerprints(df: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """A stable 16-hex-character digest per row of ``df[columns]`` (see :func:`entry_fingerprints`)."""
    return pd.Series(hex_digests(row_hashes(df, columns)), index=df.index)
