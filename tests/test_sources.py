"""Time-entry readers on literal fixtures: every layout, every value format, every failure."""

from __future__ import annotations

import datetime as dt
import logging
import subprocess
import sys

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

import qbrecon
from qbrecon import schema as S
from qbrecon.errors import InputError, SettingsError
from qbrecon.sources import _parse as P

CLOCKIFY_HEADER = (
    '"Project","Client","Description","Task","User","Group","Email","Tags","Billable",'
    '"Start Date","Start Time","End Date","End Time","Duration (h)","Duration (decimal)",'
    '"Billable Rate (USD)","Billable Amount (USD)","Date of creation"'
)


def write(tmp_path, name: str, text: str, encoding: str = "utf-8", newline: str = "\r\n"):
    path = tmp_path / name
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


def clockify_csv(tmp_path, rows: list[str], name="Clockify_Time_Report_Detailed.csv", header=CLOCKIFY_HEADER):
    return write(tmp_path, name, "\n".join([header, *rows]) + "\n")


def assert_canonical(df: pd.DataFrame) -> None:
    assert list(df.columns) == S.ENTRY_COLUMNS
    for col, dtype in S.ENTRY_DTYPES.items():
        assert str(df[col].dtype) == dtype, col
    assert df[S.ENTRY_ID].is_unique
    assert (df[S.DURATION] >= pd.Timedelta(0)).all()


# ------------------------------------------------------------------- Clockify
US_ROWS = [
    '"Website","Acme & Sons","Fix header","Design","Ada Lovelace","","ada@x.com","Dev, Web","Yes",'
    '"10/16/2026","09:00:00 AM","10/16/2026","10:30 AM","01:30:00","1.50","100.00","150.00","10/16/2026"',
    '"Website","Acme & Sons","Night shift","","Ada Lovelace","","ada@x.com","","No",'
    '"10/17/2026","11:00 PM","10/18/2026","05:00:00 AM","30:00:00","30.00","0.00","0.00","10/18/2026"',
    '"","","No project","","Bo Chen","","bo@x.com","","No",'
    '"10/18/2026","12:05 AM","10/18/2026","12:35 PM","12:30:00","12.50","0.00","0.00","10/18/2026"',
]


def test_clockify_us_csv(tmp_path):
    df = qbrecon.read_time_entries(clockify_csv(tmp_path, US_ROWS))
    assert_canonical(df)
    assert df.attrs["date_order"] == "MM/DD/YYYY"
    assert df[S.SOURCE].tolist() == ["clockify"] * 3
    assert df[S.ROW].tolist() == [2, 3, 4]
    first, night, midnight = df.iloc[0], df.iloc[1], df.iloc[2]
    assert first[S.START] == pd.Timestamp("2026-10-16 09:00")
    assert first[S.END] == pd.Timestamp("2026-10-16 10:30")
    assert first[S.DURATION] == pd.Timedelta(minutes=90)
    assert first[S.BILLABLE] and first[S.BILLABLE_RATE] == 100.0
    assert first[S.TAGS] == "Dev, Web" and first[S.CLIENT] == "Acme & Sons"
    assert pd.isna(first[S.APPROVED])
    # a 30-hour entry across midnight keeps its tracked duration
    assert night[S.DURATION] == pd.Timedelta(hours=30)
    assert night[S.END] == pd.Timestamp("2026-10-18 05:00")
    assert not night[S.BILLABLE]
    # 12:05 AM is five past midnight, 12:35 PM is after noon
    assert midnight[S.START] == pd.Timestamp("2026-10-18 00:05")
    assert midnight[S.END] == pd.Timestamp("2026-10-18 12:35")
    assert midnight[S.PROJECT] == "" and midnight[S.CLIENT] == ""


def test_clockify_dayfirst_24h_without_rates_with_kiosk(tmp_path):
    header = ('"Project","Client","Description","Task","Kiosk","User","Group","Email","Tags","Billable",'
              '"Start Date","Start Time","End Date","End Time","Duration (h)","Duration (decimal)",'
              '"Date of creation"')
    rows = ['"Docs","Baykar Teknoloji A.Ş.","Çeviri","","Front desk","Miraç Çiçek","","mirac.cicek@x.com",'
            '"","Yes","21/01/2026","13:00:00","21/01/2026","17:15:00","04:15:00","4.25","21/01/2026"']
    df = qbrecon.read_time_entries(clockify_csv(tmp_path, rows, header=header))
    assert_canonical(df)
    assert df.attrs["date_order"] == "DD/MM/YYYY"
    row = df.iloc[0]
    assert row[S.DATE] == pd.Timestamp("2026-01-21")
    assert row[S.USER] == "Miraç Çiçek" and row[S.CLIENT] == "Baykar Teknoloji A.Ş."
    assert row[S.DURATION] == pd.Timedelta(hours=4, minutes=15)
    assert pd.isna(row[S.BILLABLE_RATE])


def test_clockify_german_headers(tmp_path):
    header = ('"Projekt","Kunde","Beschreibung","Aufgabe","Benutzer","Gruppe","Email","Tags","Abrechenbar",'
              '"Startdatum","Startzeit","Enddatum","Endzeit","Dauer (h)","Dauer (dezimal)",'
              '"Abrechenbarer Tarif (CHF)","Rechnungsbetrag (CHF)"')
    rows = ['"Umbau","Müller AG","Planung","","Jörg Müller","","j@x.ch","","Ja","03.11.2026","08:00:00",'
            '"03.11.2026","09:45:00","01:45:00","1,75","120,00","210,00"',
            '"Umbau","Müller AG","Bau","","Jörg Müller","","j@x.ch","","Nein","04.11.2026","08:00:00",'
            '"04.11.2026","08:30:00","00:30:00","0,50","0,00","0,00"']
    df = qbrecon.read_time_entries(clockify_csv(tmp_path, rows, header=header), dayfirst=True)
    assert df[S.DATE].tolist() == [pd.Timestamp("2026-11-03"), pd.Timestamp("2026-11-04")]
    assert df[S.BILLABLE].tolist() == [True, False]
    assert df[S.BILLABLE_RATE].tolist() == [120.0, 0.0]
    assert df.attrs["currency"] == "CHF"


def test_clockify_summary_report_is_refused_with_advice(tmp_path):
    path = write(tmp_path, "summary.csv", '"Project","Client","Time (h)","Time (decimal)"\n"A","B","01:00:00","1.00"\n')
    with pytest.raises(InputError, match="Summary report"):
        qbrecon.read_time_entries(path)


def _clockify_xlsx(path, rows, native: bool):
    wb = Workbook()
    ws = wb.active
    ws.title = "Detailed Report"
    ws.append(["Clockify Detailed report"])  # a title row above the header
    ws.append([])
    ws.append([h.strip('"') for h in CLOCKIFY_HEADER.split(",")])
    for r in rows:
        ws.append(r(native))
    wb.save(path)
    return path


def _xlsx_row(native: bool):
    start = dt.datetime(2026, 11, 3, 23, 30)
    end = dt.datetime(2026, 11, 4, 1, 15)
    if native:
        return ["Docs", "Acme", "Late", "", "Ada Lovelace", "", "ada@x.com", "", "Yes",
                start.date(), start.time(), end.date(), end.time(), dt.timedelta(hours=1, minutes=45),
                1.75, 90, 157.5, end.date()]
    return ["Docs", "Acme", "Late", "", "Ada Lovelace", "", "ada@x.com", "", "Yes",
            "11/03/2026", "11:30:00 PM", "11/04/2026", "01:15:00 AM", "01:45:00",
            "1.75", "90.00", "157.50", "11/04/2026"]


@pytest.mark.parametrize("native", [True, False], ids=["typed-cells", "text-cells"])
def test_clockify_xlsx_matches_csv_ids(tmp_path, native):
    xlsx = _clockify_xlsx(tmp_path / "Clockify_Time_Report_Detailed_11_01_2026-11_15_2026.xlsx",
                          [_xlsx_row], native)
    df = qbrecon.read_time_entries(xlsx)
    assert_canonical(df)
    assert df[S.ROW].tolist() == [4]
    assert df[S.START].iloc[0] == pd.Timestamp("2026-11-03 23:30")
    assert df[S.END].iloc[0] == pd.Timestamp("2026-11-04 01:15")
    assert df[S.DURATION].iloc[0] == pd.Timedelta(minutes=105)
    csv = clockify_csv(tmp_path, [
        '"Docs","Acme","Late","","Ada Lovelace","","ada@x.com","","Yes","11/03/2026","11:30 PM",'
        '"11/04/2026","1:15 AM","01:45:00","1.75","90.00","157.50","11/04/2026"'])
    # the same entry exported as CSV (other time style) keeps its id
    assert qbrecon.read_time_entries(csv)[S.ENTRY_ID].tolist() == df[S.ENTRY_ID].tolist()


# -------------------------------------------------------------- date order
def test_ambiguous_dates_are_guessed_from_12h_times_and_logged(tmp_path, caplog):
    rows = ['"P","C","d","","Ada","","a@x","","Yes","03/04/2026","09:00 AM","03/04/2026","10:00 AM",'
            '"01:00:00","1.00","1.00","1.00","03/04/2026"']
    with caplog.at_level(logging.WARNING, logger="qbrecon"):
        df = qbrecon.read_time_entries(clockify_csv(tmp_path, rows, name="export.csv"))
    assert df[S.DATE].iloc[0] == pd.Timestamp("2026-03-04")
    assert "GUESSED" in caplog.text and "MM/DD/YYYY" in caplog.text
    assert "GUESSED" in df.attrs["date_order_reason"]
    # an explicit setting wins over the guess
    df2 = qbrecon.read_time_entries(clockify_csv(tmp_path, rows, name="export.csv"), dayfirst=True)
    assert df2[S.DATE].iloc[0] == pd.Timestamp("2026-04-03")


def test_file_name_tells_the_order(tmp_path):
    rows = ['"P","C","d","","Ada","","a@x","","Yes","03/04/2026","09:00:00","03/04/2026","10:00:00",'
            '"01:00:00","1.00","1.00","1.00","03/04/2026"']
    path = clockify_csv(tmp_path, rows, name="Clockify_Time_Report_Detailed_01_04_2026-30_04_2026.csv")
    assert qbrecon.read_time_entries(path)[S.DATE].iloc[0] == pd.Timestamp("2026-04-03")


def test_data_contradicting_dayfirst_is_an_error(tmp_path):
    with pytest.raises(InputError, match=r"dayfirst=True.*MM/DD/YYYY.*'10/16/2026'"):
        qbrecon.read_time_entries(clockify_csv(tmp_path, US_ROWS), dayfirst=True)


def test_mixed_date_orders_are_an_error(tmp_path):
    rows = [US_ROWS[0], US_ROWS[0].replace("10/16/2026", "16/10/2026").replace("09:00:00 AM", "09:01 AM")]
    with pytest.raises(InputError, match="mix two orders"):
        qbrecon.read_time_entries(clockify_csv(tmp_path, rows))


# ------------------------------------------------------------ other trackers
TOGGL_CURRENT = (
    '"User","Email","Client","Project","Task","Description","Billable","Start date","Start time",'
    '"End date","End time","Duration","Tags"\n'
    '"Jane Smith","jane@x.com","Acme and Sons","SEO retainer","","Keyword research","Yes","2026-11-02",'
    '"09:00:00","2026-11-02","12:00:00","3:00:00","seo"\n'
    '"Jane Smith","jane@x.com","","Internal","","Standup","No","2026-11-02","12:30:00","2026-11-02",'
    '"13:00:00","0:30:00",""\n'
)
TOGGL_LEGACY = (
    "User,Email,Client,Project,Task,Description,Billable,Start date,Start time,End date,End time,"
    "Duration,Tags,Amount ()\n"
    "Jane Smith,jane@x.com,Acme,Site,,Build,Yes,2017-10-09,05:00:00,2017-10-09,13:03:27,08:03:27,,805.75\n"
)


def test_toggl_current_and_legacy(tmp_path):
    cur = qbrecon.read_time_entries(write(tmp_path, "Toggl_time_entries_2026-11-01_to_2026-11-15.csv", TOGGL_CURRENT, newline="\n"))
    assert_canonical(cur)
    assert cur[S.SOURCE].unique().tolist() == ["toggl"]
    assert cur[S.DURATION].tolist() == [pd.Timedelta(hours=3), pd.Timedelta(minutes=30)]
    assert cur[S.BILLABLE].tolist() == [True, False]
    legacy = qbrecon.read_time_entries(write(tmp_path, "legacy.csv", TOGGL_LEGACY, newline="\n"))
    assert legacy[S.DURATION].iloc[0] == pd.Timedelta(hours=8, minutes=3, seconds=27)
    # rate derived from amount / tracked hours
    assert legacy[S.BILLABLE_RATE].iloc[0] == pytest.approx(100.0, abs=0.01)
    assert qbrecon.detect_source(tmp_path / "legacy.csv") == "toggl"


HARVEST = (
    "Date,Client,Project,Project Code,Task,Notes,Hours,Billable?,Invoiced?,Approved?,First Name,"
    "Last Name,Employee Id,Roles,Employee?,Billable Rate,Billable Amount,Cost Rate,Cost Amount,"
    "Currency,External Reference URL\n"
    '2026-11-03,Muebles Feijó S.L.,Catalog 2026,,Design,"Layout, pages 1-4",10.6,Yes,No,Yes,Liam,'
    'Turner,,Contractor,No,100,"1,060.00",50,530,US Dollar - USD,\n'
    "2026-11-03,Muebles Feijó S.L.,Catalog 2026,,Design,Proofs,0.25,Yes,No,No,Liam,Turner,,Contractor,"
    "No,100,25,50,12.5,US Dollar - USD,\n"
    "2026-11-03,Muebles Feijó S.L.,Catalog 2026,,Design,Proofs,0.25,Yes,No,,Liam,Turner,,Contractor,"
    "No,100,25,50,12.5,US Dollar - USD,\n"
)


def test_harvest_decimal_hours_and_approval(tmp_path):
    df = qbrecon.read_time_entries(write(tmp_path, "harvest_time_report_from2026-11-01to2026-11-15.csv", HARVEST, newline="\n"))
    assert_canonical(df)
    assert df[S.USER].tolist() == ["Liam Turner"] * 3
    assert df[S.DURATION].iloc[0] == pd.Timedelta(hours=10, minutes=36)
    assert df[S.START].isna().all() and df[S.END].isna().all()
    assert df[S.APPROVED].tolist()[:2] == [True, False] and pd.isna(df[S.APPROVED].iloc[2])
    assert df[S.DESCRIPTION].iloc[0] == "Layout, pages 1-4"
    # entries alike in who, day, project, task and notes keep distinct, stable ids
    ids = df[S.ENTRY_ID].tolist()
    assert ids[2] == ids[1] + "-2" and len(set(ids)) == 3


def test_harvest_decimal_comma_semicolon_locale(tmp_path):
    text = ("Date;Client;Project;Task;Notes;Hours;Billable?;Approved?;First Name;Last Name;Billable Rate\n"
            '2026-11-03;Acme;Site;Dev;x;1,5;Yes;Yes;Ana;Ruiz;"1.200,50"\n')
    df = qbrecon.read_time_entries(write(tmp_path, "h.csv", text, newline="\n"))
    assert df[S.DURATION].iloc[0] == pd.Timedelta(minutes=90)
    assert df[S.BILLABLE_RATE].iloc[0] == 1200.5


QBTIME = (
    "username,payroll_id,fname,lname,number,group,local_date,local_day,local_start_time,local_end_time,"
    "tz,hours,jobcode_1,jobcode_2,jobcode_3,jobcode_4,billable,service item,description,notes,approved_status\n"
    "rchen,,Robert,Chen,12,,2026-11-05,Thursday,2026-11-05T08:00:00-05:00,2026-11-05T12:30:00-05:00,"
    "America/New_York,4.5,Northwind Traders Inc.,ERP Migration,Phase 2,,yes,Development,Data load,,approved\n"
    "rchen,,Robert,Chen,12,,2026-11-05,Thursday,2026-11-05T22:00:00-05:00,2026-11-06T01:00:00-05:00,"
    "America/New_York,3,Greenleaf Dental,,,,no,,On call,,submitted\n"
)


def test_qbtime_jobcodes_and_offsets(tmp_path):
    df = qbrecon.read_time_entries(write(tmp_path, "timesheet_report_2026-11-01_thru_2026-11-15.csv", QBTIME, newline="\n"))
    assert_canonical(df)
    a, b = df.iloc[0], df.iloc[1]
    assert (a[S.CLIENT], a[S.PROJECT], a[S.TASK]) == ("Northwind Traders Inc.", "ERP Migration:Phase 2", "Development")
    assert a[S.START] == pd.Timestamp("2026-11-05 08:00") and a[S.DURATION] == pd.Timedelta(hours=4.5)
    assert (b[S.CLIENT], b[S.PROJECT]) == ("", "Greenleaf Dental")
    assert b[S.END] == pd.Timestamp("2026-11-06 01:00")
    assert df[S.APPROVED].tolist() == [True, False]


def test_generic_with_column_map_and_errors(tmp_path):
    text = ("Staff,Day,From,To,Customer,Job,Memo\n"
            "Ada Lovelace,2026-11-03,9:00,17:30,Acme,Site,Build\n")
    path = write(tmp_path, "timesheet.csv", text, newline="\n")
    cmap = {"user": "Staff", "date": "Day", "start": "From", "end": "To", "client": "Customer",
            "project": "Job", "description": "Memo"}
    df = qbrecon.read_time_entries(path, column_map=cmap)
    assert_canonical(df)
    assert df[S.DURATION].iloc[0] == pd.Timedelta(hours=8.5)
    assert not df[S.BILLABLE].iloc[0]  # no billable column: not billable, never assumed
    with pytest.raises(SettingsError, match="unknown fields"):
        qbrecon.read_time_entries(path, column_map={"person": "Staff"})
    with pytest.raises(SettingsError, match="not in the file"):
        qbrecon.read_time_entries(path, column_map={**cmap, "user": "Employee"})


def test_generic_detected_from_canonical_names(tmp_path):
    text = "user,date,duration,project,billable\nAda,2026-11-03,1:15,Site,yes\n"
    df = qbrecon.read_time_entries(write(tmp_path, "any.csv", text, newline="\n"))
    assert df[S.SOURCE].iloc[0] == "generic" and df[S.DURATION].iloc[0] == pd.Timedelta(minutes=75)


# ---------------------------------------------------------------- encodings
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_encodings_load_the_same_text(tmp_path, encoding):
    rows = ['"Diseño","Muebles Feijó S.L.","Revisión","","José Álvarez","","jose@x.com","","Yes",'
            '"10/16/2026","09:00 AM","10/16/2026","10:00 AM","01:00:00","1.00","80.00","80.00","10/16/2026"']
    path = write(tmp_path, f"e-{encoding}.csv", "\n".join([CLOCKIFY_HEADER, *rows]) + "\n", encoding=encoding)
    df = qbrecon.read_time_entries(path)
    assert df[S.USER].iloc[0] == "José Álvarez"
    assert df[S.CLIENT].iloc[0] == "Muebles Feijó S.L."
    assert df[S.PROJECT].iloc[0] == "Diseño"


# ------------------------------------------------------------ bad files
def test_every_bad_cell_is_listed_at_once(tmp_path):
    rows = [
        US_ROWS[0].replace("10/16/2026\",\"09:00:00 AM", "10/32/2026\",\"09:00:00 AM"),
        US_ROWS[0].replace("09:00:00 AM", "25:99").replace("Fix header", "x"),
        US_ROWS[0].replace('"01:30:00"', '"-1:00:00"').replace("Fix header", "y"),
        US_ROWS[0].replace('"Yes"', '"Maybe"').replace("Fix header", "z"),
    ]
    with pytest.raises(InputError) as info:
        qbrecon.read_time_entries(clockify_csv(tmp_path, rows))
    err = info.value
    where = {(p.row, p.column) for p in err.problems}
    assert (2, "Start Date") in where
    assert (3, "Start Time") in where
    assert (4, "Duration (h)") in where
    assert (5, "Billable") in where
    text = str(err)
    assert "Clockify_Time_Report_Detailed.csv" in text and "row 3, column 'Start Time'" in text


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "binary"),
        (b"", "empty"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old Excel"),
        (b"name,amount\nx,1\n", "unknown layout"),
        (b"PK\x03\x04 not really a zip", "not a readable XLSX"),
    ],
    ids=["png", "empty", "xls", "unknown-header", "broken-zip"],
)
def test_corrupt_files_raise_input_error_naming_the_file(tmp_path, content, message):
    path = tmp_path / "upload.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as info:
        qbrecon.read_time_entries(path)
    assert "upload.csv" in str(info.value)


def test_wrong_field_counts_name_their_rows(tmp_path):
    rows = [US_ROWS[0], US_ROWS[0] + ',"extra"', US_ROWS[2]]
    with pytest.raises(InputError, match="number of fields") as info:
        qbrecon.read_time_entries(clockify_csv(tmp_path, rows))
    assert info.value.rows == [3]


def test_row_numbers_count_blank_lines_and_multiline_fields(tmp_path):
    multi = US_ROWS[0].replace("Fix header", "line one\nline two")
    path = clockify_csv(tmp_path, [multi, "", US_ROWS[1], US_ROWS[2]])
    df = qbrecon.read_time_entries(path)
    assert df[S.ROW].tolist() == [2, 5, 6]
    assert df[S.DESCRIPTION].iloc[0] == "line one line two"
    path2 = clockify_csv(tmp_path, [multi, US_ROWS[1]], name="b.csv")
    assert qbrecon.read_time_entries(path2)[S.ROW].tolist() == [2, 4]


def test_folder_and_overlapping_files_keep_each_entry_once(tmp_path):
    clockify_csv(tmp_path, US_ROWS[:2], name="a.csv")
    clockify_csv(tmp_path, US_ROWS[1:], name="b.csv")
    df = qbrecon.read_time_entries(tmp_path)
    assert len(df) == 3 and df[S.ENTRY_ID].is_unique


# ---------------------------------------------------------------- properties
@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 400), st.integers(0, 59), st.integers(0, 59)), min_size=1, max_size=30))
def test_durations_parse_exactly_and_never_negative(parts):
    texts = pd.Series([f"{h:02d}:{m:02d}:{s:02d}" for h, m, s in parts], dtype="string")
    parsed = P.parse_durations(texts)
    assert not parsed.bad.any()
    assert parsed.values.tolist() == [h * 3600 + m * 60 + s for h, m, s in parts]
    assert (parsed.values >= 0).all()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["Ada Lovelace", "Bo Chen", "Cy Díaz"]),
                          st.integers(0, 30), st.integers(0, 86399), st.integers(0, 30 * 3600)),
                min_size=1, max_size=25))
def test_loading_twice_gives_identical_ids(tmp_path, entries):
    rows = []
    for user, day, sec, dur in entries:
        start = dt.datetime(2026, 10, 1) + dt.timedelta(days=day, seconds=sec)
        end = start + dt.timedelta(seconds=dur)
        h, rem = divmod(dur, 3600)
        rows.append(f'"P","C","d","","{user}","","","","Yes","{start:%m/%d/%Y}","{start:%I:%M:%S %p}",'
                    f'"{end:%m/%d/%Y}","{end:%I:%M:%S %p}","{h:02d}:{rem // 60:02d}:{rem % 60:02d}","1","1","1",""')
    path = clockify_csv(tmp_path, rows, name="Clockify_Time_Report_Detailed_10_01_2026-10_31_2026.csv")
    a = qbrecon.read_time_entries(path)
    b = qbrecon.read_time_entries(path)
    assert a[S.ENTRY_ID].tolist() == b[S.ENTRY_ID].tolist()
    assert a[S.ENTRY_ID].is_unique
    assert (a[S.DURATION] >= pd.Timedelta(0)).all()
    assert a[S.DURATION].dt.total_seconds().astype(int).tolist() == [d for *_, d in entries]


# ---------------------------------------------------------------------- CLI
def test_cli_load_summarises_and_fails_cleanly(tmp_path):
    path = clockify_csv(tmp_path, US_ROWS)
    ok = subprocess.run([sys.executable, "-m", "qbrecon", "load", str(path), "--out", str(tmp_path / "e.xlsx")],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "3 time entries from clockify" in ok.stdout and "1 longer than 23:55" in ok.stdout
    assert (tmp_path / "e.xlsx").exists()
    bad = tmp_path / "bad.csv"
    bad.write_text("hello,world\n1,2\n")
    fail = subprocess.run([sys.executable, "-m", "qbrecon", "load", str(bad)], capture_output=True, text=True)
    assert fail.returncode == 2
    assert "bad.csv" in fail.stderr and "unknown layout" in fail.stderr
    assert "Traceback" not in fail.stderr


@pytest.mark.parametrize(
    "field, value, column",
    [
        ("duration", "99999999999:00:00", "Duration (h)"),
        ("date", "01/01/0001", "Start Date"),
    ],
)
def test_absurd_values_are_errors_not_data(tmp_path, field, value, column):
    row = US_ROWS[0]
    row = row.replace('"01:30:00"', f'"{value}"') if field == "duration" else \
        row.replace('"10/16/2026","09:00:00 AM"', f'"{value}","09:00:00 AM"')
    with pytest.raises(InputError) as info:
        qbrecon.read_time_entries(clockify_csv(tmp_path, [row, US_ROWS[1]]))
    assert (2, column) in {(p.row, p.column) for p in info.value.problems}


@pytest.mark.parametrize("hours", ["1e300", "-2", "inf", "10001"])
def test_harvest_implausible_hours_are_errors(tmp_path, hours):
    text = HARVEST.replace(",10.6,", f",{hours},", 1)
    with pytest.raises(InputError, match=r"plausible number of hours|not a number") as info:
        qbrecon.read_time_entries(write(tmp_path, "h.csv", text, newline="\n"))
    assert [(p.row, p.column) for p in info.value.problems] == [(2, "Hours")]


@pytest.mark.parametrize("bad", [None, 123, 4.5])
def test_wrong_argument_types_are_qbrecon_errors(bad):
    with pytest.raises(qbrecon.QbreconError):
        qbrecon.read_time_entries(bad)
    with pytest.raises(qbrecon.QbreconError):
        qbrecon.read_qb_lists(bad)
    with pytest.raises(qbrecon.QbreconError):
        qbrecon.build_batch(bad)


def test_two_digit_years_are_this_century(tmp_path):
    text = "user,date,duration,project,billable\nAda,11/16/26,1:00,Site,yes\n"
    df = qbrecon.read_time_entries(write(tmp_path, "g.csv", text, newline="\n"))
    assert df[S.DATE].iloc[0] == pd.Timestamp("2026-11-16")
