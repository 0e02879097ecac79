"""Mapping files: plain tables, the mapping store and the review workbook, read the same way."""

import pandas as pd
import pytest

import qbrecon
from qbrecon import schema as S
from qbrecon.errors import InputError
from qbrecon.mapping import check_mapping, customer_source_names, read_mapping
from qbrecon.testing import make_entries

PAIRS = pd.DataFrame(
    {
        S.KIND: ["employee", "employee", "customer"],
        S.SOURCE_NAME: ["Ada", "Bob", "=Web"],
        S.QB_ID: ["55", "56", "8"],
        S.QB_NAME: ["Ada L", "Bob B", "Web Co"],
        S.QB_TYPE: ["Employee", "Vendor", "Customer"],
    }
)


def test_a_rejected_pair_in_the_store_never_maps(tmp_path):
    decisions = PAIRS.assign(decision=["accepted", "rejected", "accepted"])
    store = qbrecon.remember(None, decisions, by="ana", how="review")
    path = qbrecon.write_mapping_store(store, tmp_path / "mapping.csv")
    mapping = read_mapping(path)
    assert sorted(mapping[S.SOURCE_NAME]) == ["=Web", "Ada"]  # the store's formula guard undone
    report = qbrecon.validate(make_entries([{"user": "Bob", "project": "=Web"}]), mapping)
    assert report.failures[S.RULE].tolist() == ["no_employee_match"]


def test_an_in_memory_store_is_read_the_same_way():
    frame = PAIRS.assign(decision=["accepted", "Rejected", ""])
    assert check_mapping(frame)[S.SOURCE_NAME].tolist() == ["Ada", "=Web"]
    # accepting one record and rejecting another for the same name is no conflict
    both = pd.concat(
        [
            PAIRS.iloc[:1].assign(decision="accepted"),
            PAIRS.iloc[:1].assign(qb_id="99", decision="rejected"),
        ]
    )
    assert check_mapping(both)[S.QB_ID].tolist() == ["55"]
    with pytest.raises(InputError, match="unknown decision") as info:
        check_mapping(PAIRS.assign(decision=["accepted", "maybe", "accepted"]))
    assert info.value.problems[0].row == 2


def test_a_review_workbook_is_read_through_the_review_module(tmp_path):
    from qbrecon.samples import samples_dir

    d = samples_dir()
    entries = qbrecon.read_time_entries(d / "harvest")
    lists = qbrecon.read_qb_lists(d / "qbo")
    suggestions = qbrecon.suggest_matches(entries, lists)
    path = qbrecon.write_review_workbook(suggestions, tmp_path / "review.xlsx", lists=lists)
    expected = check_mapping(qbrecon.read_review_workbook(path))
    got = read_mapping(path)
    pd.testing.assert_frame_equal(got, expected)
    assert len(got) and set(got[S.KIND]) <= {"employee", "customer"}


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_plain_tables_with_extra_columns(tmp_path, suffix):
    path = tmp_path / f"m.{suffix}"
    pairs = PAIRS.replace("=Web", "Web")  # pandas' own to_excel would write "=Web" as a formula
    frame = pairs.assign(score=[97, 88, 100], note="ok")[["note", *pairs.columns, "score"]]
    frame.to_csv(path, index=False) if suffix == "csv" else frame.to_excel(path, index=False)
    pd.testing.assert_frame_equal(read_mapping(path), check_mapping(pairs))


def test_mapping_file_errors_name_rows(tmp_path):
    path = tmp_path / "m.csv"
    PAIRS.assign(kind=["employee", "person", "customer"]).to_csv(path, index=False)
    with pytest.raises(InputError) as info:
        read_mapping(path)
    assert [(p.row, p.column) for p in info.value.problems] == [(3, S.KIND)]
    with pytest.raises(InputError, match="no such mapping file"):
        read_mapping(tmp_path / "none.csv")


def test_customer_keys_are_the_matching_steps_keys():
    entries = make_entries(
        [
            {"client": c, "project": p}
            for c, p in [
                ("Acme", "Site"),
                ("", "Web"),
                ("Acme", ""),
                ("", ""),
                (" Acme ", " Site "),
            ]
        ]
    )
    assert (
        customer_source_names(entries).tolist()
        == qbrecon.source_names(entries)["customer_source"].tolist()
    )
