"""Entry fingerprints: stable, value-only, sensitive to every sent-relevant field."""

import numpy as np
import pandas as pd
import pytest

from qbrecon import schema as S
from qbrecon.ids import FINGERPRINT_COLUMNS, entry_fingerprints


def _entries(n=3):
    e = pd.DataFrame(
        {
            S.ENTRY_ID: [f"e{i}" for i in range(n)],
            S.SOURCE: "clockify",
            S.ROW: np.arange(n) + 2,
            S.USER: ["Ada Lovelace", "Grace Hopper", "Ada Lovelace"][:n],
            S.EMAIL: "",
            S.CLIENT: "Acme",
            S.PROJECT: "Web",
            S.TASK: "",
            S.DESCRIPTION: ["a", "b", "c"][:n],
            S.TAGS: "",
            S.DATE: pd.Timestamp("2026-11-02"),
            S.START: pd.Timestamp("2026-11-02 09:00"),
            S.END: pd.Timestamp("2026-11-02 10:30"),
            S.DURATION: pd.Timedelta(minutes=90),
            S.BILLABLE: True,
            S.BILLABLE_RATE: 82.5,
            S.APPROVED: pd.array([pd.NA] * n, dtype="boolean"),
        }
    )
    return S.conform(e, S.ENTRY_DTYPES, what="entries")


def test_fingerprint_is_pinned():
    # entry fingerprints are stored in ledgers: this value must never change
    assert entry_fingerprints(_entries(1)).iloc[0] == "3a49ac00713b2030"


@pytest.mark.parametrize(
    "column, value",
    [
        (S.USER, "Ada  Lovelace"),
        (S.DESCRIPTION, "a."),
        (S.DATE, pd.Timestamp("2026-11-03")),
        (S.START, pd.Timestamp("2026-11-02 09:01")),
        (S.END, pd.NaT),
        (S.DURATION, pd.Timedelta(minutes=91)),
        (S.BILLABLE, False),
        (S.BILLABLE_RATE, np.nan),
        (S.BILLABLE_RATE, 82.51),
        (S.CLIENT, ""),
    ],
)
def test_every_sent_relevant_change_changes_the_fingerprint(column, value):
    e = _entries()
    before = entry_fingerprints(e)
    e2 = e.copy()
    e2.loc[0, column] = value
    after = entry_fingerprints(e2)
    assert after.iloc[0] != before.iloc[0]
    assert after.iloc[1:].tolist() == before.iloc[1:].tolist()


def test_fingerprint_depends_on_values_only():
    e = _entries()
    f = entry_fingerprints(e)
    assert entry_fingerprints(e.iloc[::-1]).iloc[::-1].tolist() == f.tolist()
    assert entry_fingerprints(e.set_index(S.ENTRY_ID)).tolist() == f.tolist()
    # moving the same values between columns changes it (columns are salted)
    swapped = e.assign(**{S.CLIENT: "Web", S.PROJECT: "Acme"})
    assert entry_fingerprints(swapped).iloc[0] != f.iloc[0]
    # approval and row are not part of the content
    assert entry_fingerprints(e.assign(**{S.ROW: 99})).tolist() == f.tolist()
    assert set(FINGERPRINT_COLUMNS) >= {S.DURATION, S.DATE, S.DESCRIPTION}


def test_missing_text_hashes_like_empty_text():
    e = _entries()
    e2 = e.copy()
    e2[S.TASK] = pd.array([pd.NA, "", pd.NA], dtype="string")
    assert entry_fingerprints(e2).tolist() == entry_fingerprints(e).tolist()
