"""Time-entry readers at the edges: decimal separators, rows of bare delimiters, repeated
headers, and ids of exports without entry ids or clock times across re-exports."""

from __future__ import annotations

import csv
import io
import logging

import pandas as pd
import pytest
from qbo_support import FAST_LIMITS, QUICK_RETRY

import qbrecon
from qbrecon import schema as S
from qbrecon.errors import InputError
from qbrecon.qbo.emulator import QBOEmulator
from qbrecon.sources import _parse as P
from qbrecon.testing import make_mapping

CLOCKIFY = ["Project", "Client", "Description", "Task", "User", "Group", "Email", "Tags",
            "Billable", "Start Date", "Start Time", "End Date", "End Time", "Duration (h)",
            "Duration (decimal)", "Billable Rate (USD)", "Billable Amount (USD)"]
HARVEST = ["Date", "Client", "Project", "Project Code", "Task", "Notes", "Hours", "Billable?",
           "Invoiced?", "Approved?", "First Name", "Last Name", "Employee Id", "Roles",
           "Employee?", "Billable Rate", "Billable Amount", "Cost Rate", "Cost Amount",
           "Currency", "External Reference URL"]


def clockify_row(**kw) -> dict[str, str]:
    row = {"Project": "Phase 2", "Client": "Acme", "Description": "Work", "Task": "Dev",
           "User": "Ada Lovelace", "Group": "", "Email": "ada@example.com", "Tags": "",
           "Billable": "Yes", "Start Date": "11/20/2026", "Start Time": "09:00:00 AM",
           "End Date": "11/20/2026", "End Time": "10:30:00 AM", "Duration (h)": "01:30:00",
           "Duration (decimal)": "1.50", "Billable Rate (USD)": "100.00",
           "Billable Amount (USD)": "150.00"}
    return {**row, **kw}


def harvest_row(**kw) -> dict[str, str]:
    row = {"Date": "2026-11-20", "Client": "Acme", "Project": "Phase 2", "Project Code": "",
           "Task": "Dev", "Notes": "Work", "Hours": "1.5", "Billable?": "Yes", "Invoiced?": "No",
           "Approved?": "Yes", "First Name": "Ada", "Last Name": "Lovelace", "Employee Id": "",
           "Roles": "", "Employee?": "Yes", "Billable Rate": "100", "Billable Amount": "150",
           "Cost Rate": "", "Cost Amount": "", "Currency": "US Dollar - USD",
           "External Reference URL": ""}
    return {**row, **kw}


def write_csv(path, header, rows, *, delimiter=",", tail="", encoding="utf-8"):
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    w.writerow(header)
    for r in rows:
        w.writerow([r.get(h, "") for h in header] if isinstance(r, dict) else r)
    path.write_text(buf.getvalue() + tail, encoding=encoding, newline="")
    return path


# ------------------------------------------------------------- decimal separators
@pytest.mark.parametrize(
    ("texts", "values", "mixed"),
    [
        # valid thousands groups with a decimal point
        (["1,234", "12,345.5", "1,234,567", "2.25"], [1234, 12345.5, 1234567, 2.25], []),
        # a comma that is not a thousands group, among decimal points: reported, not x10
        (["1,5", "2.25"], [None, 2.25], [0]),
        (["100,5", "100.00", "90.00"], [None, 100, 90], [0]),
        (["1,50", "12,3456", "2.25", "3.5", "4.75"], [None, None, 2.25, 3.5, 4.75], [0, 1]),
        # the mirror: a decimal point among decimal commas
        (["1,5", "1.234,5", "2.25", "20,00"], [1.5, 1234.5, None, 20.0], [2]),
        # decimal commas only, with and without groups
        (["1,5", "1.234", "1.234.567,89"], [1.5, 1234, 1234567.89], []),
        # nothing shows the separator: the decimal point is the default
        (["1,500", "12"], [1500, 12], []),
        (["1,2,3", "x"], [None, None], []),
        (["$1,060.20", "€ 5", "1e3"], [1060.2, 5, 1000], []),
    ],
)
def test_decimal_separators_are_never_guessed_silently(texts, values, mixed):
    parsed = P.parse_numbers(pd.Series(texts, dtype="string"))
    got = [None if v != v else v for v in parsed.values.tolist()]
    assert got == values
    assert [i for i, m in enumerate(parsed.mixed) if m] == mixed
    assert [i for i, b in enumerate(parsed.bad) if b] == [i for i, v in enumerate(values) if v is None]


def test_separator_majority_is_counted_in_rows_not_distinct_values():
    # three rows of 2.25 against two distinct decimal-comma values: the point wins
    parsed = P.parse_numbers(pd.Series(["2.25", "2.25", "2.25", "1,5", "1,75"], dtype="string"))
    assert parsed.separators.decimal == "."
    assert parsed.mixed.tolist() == [False, False, False, True, True]


def test_harvest_decimal_comma_hours_among_points_names_the_cell(tmp_path):
    path = write_csv(tmp_path / "h.csv", HARVEST,
                     [harvest_row(Hours="1,5"), harvest_row(Date="2026-11-21", Hours="2.25")])
    with pytest.raises(InputError) as err:
        qbrecon.read_time_entries(path)
    (problem,) = err.value.problems
    assert (problem.row, problem.column, problem.value) == (2, "Hours", "1,5")
    assert "decimal comma" in problem.message and "'2.25'" in problem.message
    assert str(path) in str(err.value)


def test_clockify_rate_with_decimal_comma_among_points_names_the_cell(tmp_path):
    path = write_csv(tmp_path / "c.csv", CLOCKIFY,
                     [clockify_row(**{"Billable Rate (USD)": "100,5"}),
                      clockify_row(**{"Start Date": "11/21/2026", "End Date": "11/21/2026"})])
    with pytest.raises(InputError) as err:
        qbrecon.read_time_entries(path)
    assert [(p.row, p.column) for p in err.value.problems] == [(2, "Billable Rate (USD)")]


def test_duration_decimal_comma_among_points_is_reported(tmp_path):
    rows = [["u", "2026-11-03", "1,5"], ["u", "2026-11-04", "2.25"], ["u", "2026-11-05", "1:30"]]
    path = write_csv(tmp_path / "g.csv", ["user", "date", "duration"], rows)
    with pytest.raises(InputError) as err:
        qbrecon.read_time_entries(path)
    assert [(p.row, p.column, p.value) for p in err.value.problems] == [(2, "duration", "1,5")]
    assert "decimal comma" in err.value.problems[0].message


def test_thousands_groups_still_read_and_a_default_reading_is_logged(tmp_path, caplog):
    path = write_csv(tmp_path / "h.csv", HARVEST,
                     [harvest_row(Hours="2", **{"Billable Rate": "1,060"}),
                      harvest_row(Date="2026-11-21", Hours="8", **{"Billable Rate": "1,250"})])
    with caplog.at_level(logging.WARNING, logger="qbrecon"):
        df = qbrecon.read_time_entries(path)
    assert df[S.DURATION].tolist() == [pd.Timedelta(hours=2), pd.Timedelta(hours=8)]
    assert df[S.BILLABLE_RATE].tolist() == [1060.0, 1250.0]
    assert "'Billable Rate'" in caplog.text and "'1,060'" in caplog.text


# ------------------------------------------------- rows of bare delimiters
def test_excel_saved_semicolon_csv_with_empty_rows(tmp_path):
    rows = [clockify_row(**{"Start Date": "20.11.2026", "End Date": "20.11.2026",
                            "Start Time": "09:00", "End Time": "10:30",
                            "Duration (decimal)": "1,50", "Billable Rate (USD)": "100,00",
                            "Billable Amount (USD)": "150,00"})]
    empty = ";" * (len(CLOCKIFY) - 1) + "\r\n"
    path = write_csv(tmp_path / "c.csv", CLOCKIFY, rows, delimiter=";", tail=empty * 2,
                     encoding="cp1252")
    df = qbrecon.read_time_entries(path)
    assert len(df) == 1 and df[S.BILLABLE_RATE].iloc[0] == 100.0


@pytest.mark.parametrize(
    "between",
    [
        [[""] * len(CLOCKIFY)],  # ",,,,," as wide as the header
        [[""] * 5],  # a shorter row of bare delimiters
        [[""] * len(CLOCKIFY), [""] * 3, [""] * len(CLOCKIFY)],
    ],
)
def test_rows_of_bare_delimiters_are_skipped_and_rows_still_count(tmp_path, between):
    second = clockify_row(**{"Start Date": "11/21/2026", "End Date": "11/21/2026"})
    path = write_csv(tmp_path / "c.csv", CLOCKIFY, [clockify_row(), *between, second, [""] * 17])
    df = qbrecon.read_time_entries(path)
    assert df[S.ROW].tolist() == [2, 3 + len(between)]
    # and a real problem below them is still reported on its own line
    bad = clockify_row(**{"Start Date": "13/45/2026"})
    path = write_csv(tmp_path / "d.csv", CLOCKIFY, [clockify_row(), *between, bad])
    with pytest.raises(InputError) as err:
        qbrecon.read_time_entries(path)
    assert [p.row for p in err.value.problems] == [3 + len(between)]


def test_batch_csv_with_rows_of_bare_delimiters(tmp_path):
    from qbrecon import build_batch, read_batch, validate, write_batch
    from qbrecon.testing import make_entries

    batch = build_batch(validate(
        make_entries([{"user": "Ada", "project": "Web"}, {"user": "Ada", "project": "Web",
                                                          "date": "2026-11-04"}]),
        make_mapping(employee={"Ada": "55"}, customer={"Web": "7"})))
    path = write_batch(batch, tmp_path / "batch.csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    width = lines[0].count(",")
    empty = "," * width
    path.write_text("\n".join([lines[0], lines[1], empty, lines[2], empty, empty]) + "\n",
                    encoding="utf-8")
    assert read_batch(path).equals(batch)
    # a bad value after a skipped row keeps its line number in the file
    hours_at = lines[0].split(",").index(S.HOURS)
    cells = lines[2].split(",")
    cells[hours_at] = "x"
    path.write_text("\n".join([lines[0], lines[1], empty, ",".join(cells)]) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_batch(path)
    assert [(p.row, p.column) for p in err.value.problems] == [(4, S.HOURS)]


# ------------------------------------------------------------- repeated headers
def test_repeated_column_with_other_values_is_refused(tmp_path):
    header = [*CLOCKIFY, "Description", "Tags"]
    row = [clockify_row()[h] for h in CLOCKIFY] + ["the real notes", ""]
    path = write_csv(tmp_path / "dup.csv", header, [row])
    with pytest.raises(InputError) as err:
        qbrecon.read_time_entries(path)
    (problem,) = err.value.problems  # Tags repeats with the same (empty) values: no problem
    assert problem.column == "Description" and problem.row == 1
    assert "column 3, column 18" in problem.message
    assert str(path) in str(err.value)


def test_identical_repeated_column_is_a_warning(tmp_path, caplog):
    header = [*CLOCKIFY, "description"]  # names compare as the layout compares them
    row = [clockify_row()[h] for h in CLOCKIFY] + ["Work"]
    path = write_csv(tmp_path / "dup.csv", header, [row])
    with caplog.at_level(logging.WARNING, logger="qbrecon"):
        df = qbrecon.read_time_entries(path)
    assert df[S.DESCRIPTION].tolist() == ["Work"]
    assert "'Description' appears 2 times" in caplog.text


def test_repeated_column_that_is_not_read_is_ignored(tmp_path):
    header = [*CLOCKIFY, "Group"]  # Clockify's Group is not read
    row = [clockify_row()[h] for h in CLOCKIFY] + ["other"]
    assert len(qbrecon.read_time_entries(write_csv(tmp_path / "g.csv", header, [row]))) == 1


def test_repeated_column_in_xlsx_is_named_by_letter(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    header = [*CLOCKIFY, "Description"]
    ws.append(header)
    ws.append([clockify_row()[h] for h in CLOCKIFY] + ["other notes"])
    wb.save(tmp_path / "dup.xlsx")
    with pytest.raises(InputError) as err:
        qbrecon.read_time_entries(tmp_path / "dup.xlsx")
    assert "column C, column R" in err.value.problems[0].message


# ---------------------------------------------- ids of entries without clock times
def harvest_ids(tmp_path, rows, name="h.csv") -> list[str]:
    return qbrecon.read_time_entries(write_csv(tmp_path / name, HARVEST, rows))[S.ENTRY_ID].tolist()


def test_harvest_entry_added_before_keeps_the_others_ids(tmp_path):
    review = harvest_row(Notes="Design review", Hours="1.5")
    (before,) = harvest_ids(tmp_path, [review], "a.csv")
    after = harvest_ids(tmp_path, [harvest_row(Notes="Kickoff call", Hours="0.5"), review,
                                   harvest_row(Notes="Wrap-up", Hours="0.25")], "b.csv")
    assert after[1] == before
    assert len(set(after)) == 3


def test_harvest_hours_edited_keeps_the_id(tmp_path):
    a = harvest_ids(tmp_path, [harvest_row(Notes="Design review", Hours="1.5"),
                               harvest_row(Notes="Call", Hours="1")], "a.csv")
    b = harvest_ids(tmp_path, [harvest_row(Notes="Design review", Hours="2.0"),
                               harvest_row(Notes="Call", Hours="1")], "b.csv")
    c = harvest_ids(tmp_path, [harvest_row(Notes="design  REVIEW", Hours="1.5"),
                               harvest_row(Notes="Call", Hours="1")], "c.csv")
    assert a == b == c


def test_harvest_notes_edited_gets_a_new_id_the_documented_price(tmp_path):
    (a,) = harvest_ids(tmp_path, [harvest_row(Notes="Design review")], "a.csv")
    (b,) = harvest_ids(tmp_path, [harvest_row(Notes="Design review, round 2")], "b.csv")
    assert a != b and a.rsplit("-", 1)[0] == b.rsplit("-", 1)[0]  # same person, day, project


def test_harvest_entries_identical_in_notes_are_numbered_in_file_order(tmp_path):
    ids = harvest_ids(tmp_path, [harvest_row(Notes="Call", Hours="1"),
                                 harvest_row(Notes="Other", Hours="1"),
                                 harvest_row(Notes="Call", Hours="2")])
    assert ids[2] == ids[0] + "-2" and ids[1] not in (ids[0], ids[2])


@pytest.mark.parametrize("source", ["qbtime", "generic"])
def test_other_readers_without_clock_times_key_ids_by_notes_too(tmp_path, source):
    if source == "qbtime":
        header = ["username", "fname", "lname", "local_date", "hours", "jobcode_1", "notes"]
        row = lambda notes, hours: ["ada", "Ada", "L", "2026-11-05", hours, "Acme", notes]  # noqa: E731
    else:
        header = ["user", "date", "hours", "project", "description"]
        row = lambda notes, hours: ["Ada", "2026-11-05", hours, "Acme", notes]  # noqa: E731
    read = lambda name, rows: qbrecon.read_time_entries(  # noqa: E731
        write_csv(tmp_path / name, header, rows))[S.ENTRY_ID].tolist()
    (sent,) = read("a.csv", [row("Design review", "1.5")])
    added = read("b.csv", [row("Kickoff", "0.5"), row("Design review", "1.5")])
    edited = read("c.csv", [row("Design review", "2")])
    assert added[1] == sent and edited == [sent] and added[0] != sent


def test_clock_time_ids_do_not_depend_on_notes(tmp_path):
    a = qbrecon.read_time_entries(write_csv(tmp_path / "a.csv", CLOCKIFY, [clockify_row()]))
    b = qbrecon.read_time_entries(write_csv(tmp_path / "b.csv", CLOCKIFY,
                                            [clockify_row(Description="Other words")]))
    assert a[S.ENTRY_ID].tolist() == b[S.ENTRY_ID].tolist()
    assert a[S.ENTRY_ID].iloc[0].count("-") == 2  # source-person-when, nothing else


# ------------------------------------- end to end: re-exports sent through a ledger
MAPPING = make_mapping(employee={"Ada Lovelace": "55"}, customer={"Acme:Phase 2": "3"},
                       item={"Dev": "2"})


@pytest.fixture
def client(tmp_path):
    with QBOEmulator(seed="builtin", limits=FAST_LIMITS) as emu, \
            emu.connect(tmp_path / "tokens.json", timeout=5) as c:
        yield emu, c


def _send_export(tmp_path, client, name, rows):
    emu, c = client
    ledger = tmp_path / "ledger.sqlite"
    report = qbrecon.validate(qbrecon.read_time_entries(write_csv(tmp_path / name, HARVEST, rows)),
                              MAPPING, ledger=ledger)
    if len(report.clean):
        qbrecon.send_to_qbo(qbrecon.build_batch(report), c, ledger=ledger, retry=QUICK_RETRY,
                            progress=False)
    notes = emu.time_activities()["description"].str.replace(r"\s*\[qbr:[0-9a-f]+\]$", "",
                                                             regex=True)
    return report, notes.value_counts().to_dict()


def test_reexport_with_an_entry_added_before_sends_only_the_new_one(tmp_path, client):
    review = harvest_row(Notes="Design review", Hours="1.5")
    _send_export(tmp_path, client, "a.csv", [review])
    report, in_qb = _send_export(tmp_path, client, "b.csv",
                                 [harvest_row(Notes="Kickoff call", Hours="0.5"), review])
    assert in_qb == {"Design review": 1, "Kickoff call": 1}
    assert report.failures[S.RULE].tolist() == ["already_sent"]


def test_reexport_with_hours_edited_is_reported_not_sent_again(tmp_path, client):
    _send_export(tmp_path, client, "a.csv", [harvest_row(Notes="Design review", Hours="1.5")])
    report, in_qb = _send_export(tmp_path, client, "b.csv",
                                 [harvest_row(Notes="Design review", Hours="2")])
    assert in_qb == {"Design review": 1}
    assert report.failures[S.RULE].tolist() == ["changed_after_send"]
