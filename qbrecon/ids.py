"""Stable identifiers and content fingerprints.

Entry ids are persisted in the ledger and decide what is "already sent", so they must
never change for the same entry: not across runs, pandas versions or machines. They
are therefore BLAKE2b digests of a text key that qbrecon builds itself (never
``pandas.util.hash_pandas_object``, whose algorithm belongs to pandas).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from . import schema as S

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
    """A content digest per entry; it changes whenever a sent-relevant field changes."""
    return hash_rows(entries, FINGERPRINT_COLUMNS)
