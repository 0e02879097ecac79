"""The batch: built from a report, written and read back as CSV and XLSX, checked on read."""

import numpy as np
import openpyxl
import pandas as pd
import pytest

from qbrecon import Rules, build_batch, read_batch, validate, write_batch
from qbrecon import schema as S
from qbrecon.batch import BATCH_ALL_DTYPES, check_batch
from qbrecon.errors import InputError, SettingsError
from qbrecon.testing import make_entries, make_mapping

MAPPING = make_mapping(
    employee={"Ada": ("55", "Ada Lovelace"), "Bob": ("56", "Bob Vendor", "Vendor")},
    customer={"Acme:Site": ("7", "Acme Corp:Site"), "Web": ("8", "Web Co")},
    item={"Dev": ("I1", "Development")},
)


@pytest.fixture
def batch():
    rows = [
        {
            "user": "Ada",
            "client": "Acme",
            "project": "Site",
            "duration": "1:37:20",
            "task": "Dev",
            "date": "2026-11-20",
            "description": "Fixed the widget",
        },
        {
            "user": "Bob",
            "project": "Web",
            "duration": "0:50",
            "billable": False,
            "billable_rate": 60.0,
            "description": "-internal, =not a formula",
        },
        {
            "user": "Ada",
            "project": "Web",
            "duration": "7:59:59",
            "task": "Other",
            "billable_rate": 112.5,
        },
    ]
    report = validate(
        make_entries(rows),
        MAPPING,
        rules=Rules(rounding="up:15", require_billable=False, default_item="Consulting"),
    )
    return build_batch(report)


def test_build_batch_columns_and_values(batch):
    assert list(batch.columns) == [*S.BATCH_COLUMNS, *S.BATCH_EXTRA_DTYPES]
    assert {c: str(t) for c, t in batch.dtypes.items()} == BATCH_ALL_DTYPES
    assert batch[[S.HOURS, S.MINUTES]].values.tolist() == [[1, 45], [1, 0], [8, 0]]
    assert batch[S.BILLABLE_STATUS].tolist() == ["Billable", "NotBillable", "Billable"]
    assert batch[S.NAME_OF].tolist() == ["Employee", "Vendor", "Employee"]
    assert batch[S.CUSTOMER_NAME].tolist() == ["Acme Corp:Site", "Web Co", "Web Co"]
    assert batch[[S.ITEM_ID, S.ITEM_NAME]].values.tolist() == [
        ["I1", "Development"],
        ["", "Consulting"],
        ["", "Consulting"],
    ]
    assert batch[S.HOURLY_RATE].iloc[[0, 2]].tolist() == [100.0, 112.5]
    assert np.isnan(batch[S.HOURLY_RATE].iat[1])  # no rate on non-billable time
    assert batch[S.TXN_DATE].iat[0] == pd.Timestamp("2026-11-20")
    assert batch[S.FINGERPRINT].str.len().tolist() == [16, 16, 16]


def test_build_batch_accepts_the_clean_frame_and_never_mutates_it():
    report = validate(make_entries([{"user": "Ada", "project": "Web"}]), MAPPING)
    before = report.clean.copy()
    pd.testing.assert_frame_equal(build_batch(report.clean), build_batch(report))
    pd.testing.assert_frame_equal(report.clean, before)
    with pytest.raises(InputError, match="lack required columns"):
        build_batch(report.clean.drop(columns=[S.DURATION_ROUNDED]))


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_write_then_read_back(batch, tmp_path, suffix):
    path = write_batch(batch, tmp_path / f"batch.{suffix}")
    back = read_batch(path)
    pd.testing.assert_frame_equal(back, batch)


def test_xlsx_batch_escapes_formula_text(batch, tmp_path):
    path = write_batch(batch, tmp_path / "batch.xlsx")
    ws = openpyxl.load_workbook(path)["Batch"]
    desc_col = [c.value for c in ws[1]].index(S.DESCRIPTION) + 1
    cell = ws.cell(row=3, column=desc_col)
    assert cell.value == "-internal, =not a formula" and cell.data_type == "s" and cell.quotePrefix


def test_csv_batch_text(batch, tmp_path):
    text = write_batch(batch, tmp_path / "b.csv").read_text(encoding="utf-8")
    header, first = text.splitlines()[:2]
    assert header.split(",")[:12] == S.BATCH_COLUMNS
    assert first.split(",")[:3] == ["e1", "2026-11-20", "55"]


def test_read_batch_extras_are_optional_and_columns_may_move(batch, tmp_path):
    path = tmp_path / "hand.csv"
    batch[S.BATCH_COLUMNS[::-1]].assign(txn_date=batch[S.TXN_DATE].dt.strftime("%Y-%m-%d")).to_csv(
        path, index=False
    )
    back = read_batch(path)
    assert back[S.NAME_OF].tolist() == ["", "", ""]
    pd.testing.assert_frame_equal(back[S.BATCH_COLUMNS], batch[S.BATCH_COLUMNS])


BAD_VALUES = [
    (S.TXN_DATE, "2026-13-45", "not a date (write YYYY-MM-DD)"),
    (S.HOURS, "1.5", "not a whole number"),
    (S.MINUTES, "75", "minutes must be 0 to 59"),
    (S.HOURS, "", "not a whole number"),
    (S.BILLABLE_STATUS, "yes", "billable_status must be Billable or NotBillable"),
    (S.HOURLY_RATE, "ten", "not a number"),
    (S.HOURLY_RATE, "-5", "hourly_rate cannot be negative"),
    (S.ENTRY_ID, "e1", "entry id occurs more than once"),
    (S.NAME_OF, "Customer", "name_of must be Employee or Vendor"),
]


@pytest.mark.parametrize("column, value, message", BAD_VALUES)
def test_read_batch_names_row_and_column(batch, tmp_path, column, value, message):
    path = write_batch(batch, tmp_path / "b.csv")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[1, column] = value
    frame.to_csv(path, index=False)
    with pytest.raises(InputError) as info:
        read_batch(path)
    problems = [(p.row, p.column) for p in info.value.problems if message in p.message]
    assert (3, column) in problems  # data row 2 is spreadsheet row 3
    assert str(path) in str(info.value)


def test_read_batch_lists_every_problem_at_once(batch, tmp_path):
    path = write_batch(batch, tmp_path / "b.csv")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[0, S.MINUTES] = "x"
    frame.loc[2, S.TXN_DATE] = "soon"
    frame.to_csv(path, index=False)
    with pytest.raises(InputError) as info:
        read_batch(path)
    assert [(p.row, p.column) for p in info.value.problems] == [(2, S.MINUTES), (4, S.TXN_DATE)]


def test_read_batch_missing_columns_and_files(tmp_path):
    path = tmp_path / "b.csv"
    path.write_text("entry_id,hours\ne1,1\n")
    with pytest.raises(InputError, match="lacks required columns") as info:
        read_batch(path)
    assert {p.column for p in info.value.problems} == set(S.BATCH_COLUMNS) - {S.ENTRY_ID, S.HOURS}
    with pytest.raises(InputError, match="no such batch file"):
        read_batch(tmp_path / "none.csv")
    (tmp_path / "b.json").write_text("{}")
    with pytest.raises(InputError, match=r"must be \.csv or \.xlsx"):
        read_batch(tmp_path / "b.json")
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(InputError, match="cannot read the batch file"):
        read_batch(tmp_path / "broken.xlsx")


def test_check_batch_refuses_zero_time_and_no_person(batch):
    bad = batch.copy()
    bad.loc[0, [S.HOURS, S.MINUTES]] = 0
    bad.loc[1, [S.EMPLOYEE_ID, S.EMPLOYEE_NAME]] = ""
    with pytest.raises(InputError) as info:
        check_batch(bad)
    assert [p.message for p in info.value.problems] == [
        "no time (0 hours and 0 minutes)",
        "no employee or vendor (give employee_id or employee_name)",
    ]


def test_write_batch_format_must_be_known(batch, tmp_path):
    with pytest.raises(SettingsError, match="cannot tell the format"):
        write_batch(batch, tmp_path / "batch.txt")
