"""The report: frames, summary, ledger rules on a real SQLite ledger, the HTML view,
the charts, the Excel workbook read back, raise_if_errors."""

import numpy as np
import openpyxl
import pandas as pd
import pytest

from qbrecon import Rules, ValidationFailed, build_batch, validate
from qbrecon import schema as S
from qbrecon.ledger import Ledger
from qbrecon.testing import make_entries, make_mapping

MAPPING = make_mapping(
    employee={"Ada": ("55", "Ada Lovelace"), "Bob": ("56", "Bob Vendor", "Vendor")},
    customer={"Acme:Site": ("7", "Acme:Site"), "Web": ("8", "Web Co")},
)
OK = {"user": "Ada", "client": "Acme", "project": "Site"}


@pytest.fixture
def report():
    rows = [
        {**OK, "duration": "1:30", "description": '=HYPERLINK("http://x")'},
        {**OK, "duration": "30:00"},
        {**OK, "user": "Eve", "duration": "2:00"},
        {"user": "Bob", "project": "Web", "duration": "0:50", "description": "@SUM(A1)"},
        {**OK, "billable": False, "duration": "1:00"},
    ]
    return validate(make_entries(rows), MAPPING, rules=Rules(rounding="up:15"))


def test_frames_and_summary(report):
    assert report.clean[S.ENTRY_ID].tolist() == ["e1", "e4"]
    assert report.rejected[S.ENTRY_ID].tolist() == ["e2", "e3", "e5"]
    assert report.rejected[S.FAILED_RULES].tolist() == [
        "too_long",
        "no_employee_match",
        "not_billable",
    ]
    assert list(report.failures.columns) == S.FAILURE_COLUMNS
    assert {c: str(t) for c, t in report.failures.dtypes.items()} == S.FAILURE_DTYPES
    for col in (S.DURATION_ROUNDED, S.EMPLOYEE_ID, S.CUSTOMER_ID, S.FINGERPRINT):
        assert col in report.clean.columns
    s = report.summary.set_index(S.RULE)
    assert s.loc["too_long", "entries"] == 1 and s.loc["too_long", "hours"] == pytest.approx(30)
    assert s.loc["not_billable", "name"] == "not_billable"
    assert s.loc["zero_duration", "entries"] == 0  # every rule is listed, even when nothing failed
    t = report.totals
    assert (t["entries"], t["clean"], t["rejected"]) == (5, 2, 3)
    assert t["clean_hours"] == pytest.approx(1.5 + 1.0)  # 0:50 rounds up to 1:00
    assert t["rounding_hours"] == pytest.approx(10 / 60)
    assert not report.ok


def test_summary_text_names_rules_with_failures(report):
    text = report.summary_text()
    assert text.startswith(
        "5 entries checked: 2 clean (2.50 h), 3 rejected (33.00 h), 0 with warnings"
    )
    assert "rounding (round up 15 min) changed the clean hours by +0.17 h" in text
    assert "too_long(23:55)" in text and "zero_duration" not in text
    assert repr(report) == "Report(entries=5, clean=2, rejected=3, failures=3)"


def test_details_put_each_failure_beside_its_source_row(report):
    d = report.details()
    assert d[[S.ENTRY_ID, S.RULE, S.ROW, S.USER]].values.tolist() == [
        ["e2", "too_long", 3, "Ada"],
        ["e3", "no_employee_match", 4, "Eve"],
        ["e5", "not_billable", 6, "Ada"],
    ]


def test_raise_if_errors(report):
    with pytest.raises(
        ValidationFailed,
        match=r"3 of 5 entries broke error-level rules \(not_billable 1, "
        r"too_long 1, no_employee_match 1\)",
    ) as info:
        report.raise_if_errors()
    assert info.value.report is report
    good = validate(make_entries([OK]), MAPPING)
    assert good.raise_if_errors() is good


def test_html_view_escapes_and_shows_the_failures(report):
    html = report._repr_html_()
    assert "3 rejected" in html and "too_long(23:55)" in html
    assert "lasts 30:00, over the 23:55 limit" in html
    entries = make_entries([{**OK, "user": "<script>alert(1)</script>"}])
    html = validate(entries, MAPPING)._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_charts(report):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = report.plot_hours_by_customer()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert set(labels) == {"Acme:Site", "Web Co"}
    ax2 = report.plot_failures()
    assert sorted(t.get_text() for t in ax2.get_yticklabels()) == [
        "no_employee_match",
        "not_billable",
        "too_long(23:55)",
    ]
    fig = report.plot()
    assert len(fig.axes) == 2
    plt.close("all")


def test_to_excel_is_read_back_with_formulas_as_text(report, tmp_path):
    path = report.to_excel(tmp_path / "report.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Summary", "Failures", "Clean batch", "Rejected", "Rounding", "Rules"]
    failures = pd.read_excel(path, sheet_name="Failures")
    assert failures[[S.ENTRY_ID, S.RULE, S.ROW]].values.tolist() == [
        ["e2", "too_long", 3],
        ["e3", "no_employee_match", 4],
        ["e5", "not_billable", 6],
    ]
    batch = pd.read_excel(
        path, sheet_name="Clean batch", dtype={S.EMPLOYEE_ID: str, S.CUSTOMER_ID: str}
    )
    assert batch[S.ENTRY_ID].tolist() == ["e1", "e4"]
    assert batch[S.DESCRIPTION].tolist() == ['=HYPERLINK("http://x")', "@SUM(A1)"]
    # every cell that starts like a formula was written as quoted text, never as a formula
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value[:1] in "=+-@":
                    assert cell.data_type == "s" and cell.quotePrefix, (ws.title, cell.coordinate)
    rules_sheet = pd.read_excel(path, sheet_name="Rules")
    assert "too_long(23:55)" in rules_sheet["name"].tolist()


def test_to_excel_reports_an_unwritable_path(report, tmp_path):
    from qbrecon.errors import InputError, OutputError

    (tmp_path / "dir.xlsx").mkdir()
    with pytest.raises(OutputError, match="is a folder") as info:
        report.to_excel(tmp_path / "dir.xlsx")
    assert isinstance(info.value, InputError) and info.value.file == str(tmp_path / "dir.xlsx")
    blocker = tmp_path / "plain"
    blocker.write_text("a file, not a folder")
    with pytest.raises(OutputError, match="cannot write"):
        report.to_excel(blocker / "report.xlsx")


# ----------------------------------------------------------------- the ledger
def _send(ledger_path, report, entry_ids, *, state="sent", target="qbo:123", fingerprint=None):
    clean = report.clean.set_index(S.ENTRY_ID)
    with Ledger(ledger_path) as led:
        led.record_intent(
            target,
            [
                {
                    "entry_id": e,
                    "request_id": f"r-{e}",
                    "fingerprint": fingerprint or clean.loc[e, S.FINGERPRINT],
                }
                for e in entry_ids
            ],
        )
        if state != "pending":
            led.record_outcomes(
                target, [{"entry_id": e, "state": state, "external_id": "71"} for e in entry_ids]
            )


def test_already_sent_and_changed_after_send(tmp_path):
    ledger = tmp_path / "ledger.sqlite"
    entries = make_entries(
        [{**OK, "duration": "1:00"}, {**OK, "duration": "2:00"}, {**OK, "duration": "3:00"}]
    )
    first = validate(entries, MAPPING, ledger=ledger)
    assert first.failures.empty and len(first.clean) == 3
    _send(ledger, first, ["e1", "e2"])
    edited = entries.copy()
    edited.loc[1, S.DURATION] = pd.Timedelta("2:30:00")  # e2 edited after it was sent
    second = validate(edited, MAPPING, ledger=ledger)
    f = second.failures
    assert f[[S.ENTRY_ID, S.RULE, S.SEVERITY]].values.tolist() == [
        ["e1", "already_sent", "error"],
        ["e2", "changed_after_send", "error"],
    ]
    assert f[S.MESSAGE].iat[0].startswith("already sent to qbo:123 (sent ")
    assert f[S.MESSAGE].iat[0].endswith(", QuickBooks id 71)")
    assert f[S.MESSAGE].iat[1].startswith("edited since it was sent to qbo:123 (sent ")
    assert (
        f[S.MESSAGE].iat[1].endswith("correct it in QuickBooks, or undo it there and send it again")
    )
    assert second.clean[S.ENTRY_ID].tolist() == ["e3"]


def test_pending_queued_and_undone_deliveries(tmp_path):
    ledger = tmp_path / "ledger.sqlite"
    entries = make_entries([OK, OK, OK])
    first = validate(entries, MAPPING, ledger=str(ledger))
    _send(ledger, first, ["e1"], state="pending")
    _send(ledger, first, ["e2"], state="undone")  # undone: may be sent again
    with Ledger(ledger) as led:
        led.record_queued(
            "qbd:",
            [
                {
                    "entry_id": "e3",
                    "request_id": "q3",
                    "fingerprint": first.clean[S.FINGERPRINT].iat[2],
                }
            ],
        )
        report = validate(entries, MAPPING, ledger=led)  # an open Ledger object works too
        assert led.deliveries().shape[0] == 3  # and stays open
    msgs = report.failures.set_index(S.ENTRY_ID)[S.MESSAGE]
    assert msgs["e1"].startswith("already being sent, outcome not yet known, to qbo:123 (pending")
    assert msgs["e3"].startswith("already queued for qbd: (queued")
    assert "e2" not in msgs.index and report.clean[S.ENTRY_ID].tolist() == ["e2"]


def test_ledger_rules_can_be_warnings(tmp_path):
    ledger = tmp_path / "ledger.sqlite"
    entries = make_entries([OK])
    _send(ledger, validate(entries, MAPPING), ["e1"])
    report = validate(
        entries, MAPPING, ledger=ledger, rules=Rules(severity={"already_sent": "warning"})
    )
    assert report.ok and report.warnings[S.RULE].tolist() == ["already_sent"]


def test_a_foreign_file_is_a_ledger_error(tmp_path):
    from qbrecon.errors import LedgerError

    bad = tmp_path / "notes.sqlite"
    bad.write_bytes(b"not a database at all" * 100)
    with pytest.raises(LedgerError):
        validate(make_entries([OK]), MAPPING, ledger=bad)


def test_extra_entry_columns_are_kept_after_the_canonical_ones():
    entries = make_entries([OK]).assign(**{"Deal ID": ["D-7"]})
    report = validate(entries, MAPPING)
    assert report.clean.columns[-1] == "Deal ID" and report.clean["Deal ID"].tolist() == ["D-7"]
    assert list(report.clean.columns[: len(S.ENTRY_COLUMNS)]) == S.ENTRY_COLUMNS


def test_empty_input_gives_an_empty_report():
    report = validate(make_entries([]), MAPPING)
    assert report.ok and report.failures.empty and report.clean.empty
    assert build_batch(report).empty
    assert "0 entries checked" in report.summary_text()
    assert np.isclose(report.totals["clean_hours"], 0)


LEDGER_CASES = [
    # state recorded, edited since?, rule, message start
    ("sent", False, "already_sent", "already sent to qbo:123 (sent "),
    ("sent", True, "changed_after_send", "edited since it was sent to qbo:123 (sent "),
    ("pending", False, "already_sent", "already being sent, outcome not yet known, to qbo:123"),
    ("pending", True, "changed_after_send", "edited since it began to be sent to qbo:123"),
    ("queued", False, "already_sent", "already queued for qbo:123 (queued "),
    ("queued", True, "changed_after_send", "edited since it was queued for qbo:123"),
    ("failed", False, None, None),  # refused by QuickBooks: may be sent again
    ("undone", True, None, None),  # deleted from QuickBooks: may be sent again
]


@pytest.mark.parametrize("state, edited, rule, start", LEDGER_CASES)
def test_ledger_rules_table(tmp_path, state, edited, rule, start):
    ledger = tmp_path / "ledger.sqlite"
    entries = make_entries([OK, {"user": "Bob", "project": "Web"}])
    fp = validate(entries, MAPPING).clean[S.FINGERPRINT].iat[0]
    with Ledger(ledger) as led:
        item = [{"entry_id": "e1", "request_id": "r1", "fingerprint": fp}]
        if state == "queued":
            led.record_queued("qbo:123", item)
        else:
            led.record_intent("qbo:123", item)
            if state != "pending":
                led.record_outcomes("qbo:123", [{"entry_id": "e1", "state": state}])
    if edited:
        entries.loc[0, S.DESCRIPTION] = "changed in the tracker"
    report = validate(entries, MAPPING, ledger=ledger)
    f = report.failures
    if rule is None:
        assert f.empty and len(report.clean) == 2
    else:
        assert f[[S.ENTRY_ID, S.RULE]].values.tolist() == [["e1", rule]]
        assert f[S.MESSAGE].iat[0].startswith(start)
        assert report.clean[S.ENTRY_ID].tolist() == ["e2"]
