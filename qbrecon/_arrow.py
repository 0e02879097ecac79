"""Text columns built with Arrow kernels, returned with qbrecon's text dtype.

Hot paths that assemble a million messages or digests do it with pyarrow compute
(one kernel call instead of a pandas operation per piece) and hand the result back as
:data:`qbrecon.schema.STRING`, whatever storage that dtype has in the running pandas:
Arrow arrays are wrapped as they are when it is Arrow-backed, and converted otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import schema as S

ArrowText = pa.Array | pa.ChunkedArray


def string_storage() -> str:
    """The storage of :data:`qbrecon.schema.STRING` in the running pandas ("pyarrow", "python")."""
    return pd.api.types.pandas_dtype(S.STRING).storage


def to_text(values: ArrowText) -> pd.api.extensions.ExtensionArray:
    """An Arrow string array as an array of dtype :data:`qbrecon.schema.STRING`."""
    if string_storage() == "pyarrow":
        return pd.arrays.ArrowStringArray(values)
    return pd.array(values.to_numpy(zero_copy_only=False), dtype=S.STRING)


def to_arrow(values: pd.Series | pd.api.extensions.ExtensionArray) -> ArrowText:
    """Text values (no missing ones) as an Arrow large_string array, without a copy when
    they are Arrow-backed already."""
    array = values.array if isinstance(values, pd.Series) else values
    if isinstance(array, pd.arrays.ArrowStringArray):
        return pa.array(array)
    return pa.array(np.asarray(array, dtype=object), type=pa.large_string())


def table(texts: Sequence[str]) -> pa.Array:
    """A few distinct texts, to be spread over many rows with :func:`take`."""
    return pa.array(list(texts), type=pa.large_string())


def take(texts: pa.Array, codes: np.ndarray) -> pa.Array:
    """``texts[codes]`` for every code (all within range)."""
    return texts.take(pa.array(codes, type=pa.int64()))


def join(pieces: Sequence[str | ArrowText]) -> pd.api.extensions.ExtensionArray:
    """Each row's pieces concatenated (a ``str`` piece is the same on every row), as
    :data:`qbrecon.schema.STRING`."""
    args = [pa.scalar(p, type=pa.large_string()) if isinstance(p, str) else p for p in pieces]
    return to_text(pc.binary_join_element_wise(*args, pa.scalar("", type=pa.large_string())))


def all_distinct(values: pd.Series) -> bool:
    """Whether no text occurs twice in ``values`` (which has no missing values).

    Sorting and comparing neighbours is exact and, on Arrow-backed text, quicker than the
    hash table pandas builds for :attr:`pandas.Series.is_unique`.
    """
    if not isinstance(values.array, pd.arrays.ArrowStringArray):
        return bool(values.is_unique)
    array = pa.array(values.array)
    if len(array) < 2:
        return True
    ordered = array.take(pc.sort_indices(array))
    return not pc.any(pc.equal(ordered[1:], ordered[:-1])).as_py()
