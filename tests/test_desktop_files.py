"""QuickBooks Desktop files, checked by parsing them back: IIF TIMEACT and qbXML TimeTrackingAdd."""

import re

import pandas as pd
import pytest
from defusedxml import ElementTree as SafeET

from qbrecon import Rules, build_batch, export_iif, export_qbxml, validate
from qbrecon import schema as S
from qbrecon.errors import InputError, QbreconWarning, SettingsError
from qbrecon.formats.iif import TIMEACT_FIELDS, iif_text
from qbrecon.formats.qbxml import external_guid, message_set, time_tracking_add_requests
from qbrecon.testing import make_entries, make_mapping

MAPPING = make_mapping(
    employee={
        "Ada": ("80000005-1234567890", "Lovelace, Ada"),
        "Bob": ("56", "Babbage, Charles", "Vendor"),
    },
    customer={"Acme:Site": ("80000010-1111111111", "Acme Corp:Install Phase 2"), "Web": ("", "")}
    | {"Web": ("8", "Web & <Co>")},
    item={"Dev": ("80000020-1", "Consulting")},
)
ROWS = [
    {
        "user": "Ada",
        "client": "Acme",
        "project": "Site",
        "task": "Dev",
        "duration": "1:30",
        "date": "2026-11-20",
        "description": "Fixed\tthe\nwidget",
    },
    {
        "user": "Bob",
        "project": "Web",
        "task": "Dev",
        "duration": "12:05",
        "date": "2026-01-03",
        "billable": False,
        "description": 'café & <tea> "quoted"',
    },
]


@pytest.fixture
def batch():
    rules = Rules(target="qbd", require_billable=False)
    report = validate(make_entries(ROWS), MAPPING, rules=rules)
    assert report.ok, report.failures
    return build_batch(report)


# ------------------------------------------------------------------------- IIF
def _iif_rows(path):
    raw = path.read_bytes()
    assert b"\r\n" in raw and raw.count(b"\n") == raw.count(b"\r\n")  # CRLF only
    return [line.split("\t") for line in raw.decode("cp1252").split("\r\n")[:-1]]


def test_iif_timer_block_then_timeact_rows(batch, tmp_path):
    rows = _iif_rows(
        export_iif(
            batch,
            tmp_path / "t.iif",
            company="Acme Corp",
            company_create_time=1243092298,
            payroll_item="Regular Pay",
        )
    )
    assert rows[0] == [
        "!TIMERHDR",
        "VER",
        "REL",
        "COMPANYNAME",
        "IMPORTEDBEFORE",
        "FROMTIMER",
        "COMPANYCREATETIME",
    ]
    assert rows[1] == ["TIMERHDR", "8", "0", "Acme Corp", "N", "Y", "1243092298"]
    assert rows[2] == ["!TIMEACT", *TIMEACT_FIELDS]
    body = pd.DataFrame([r[1:] for r in rows[3:]], columns=TIMEACT_FIELDS)
    assert [r[0] for r in rows[3:]] == ["TIMEACT", "TIMEACT"]
    assert body["DATE"].tolist() == ["11/20/26", "01/03/26"]
    assert body["JOB"].tolist() == ["Acme Corp:Install Phase 2", "Web & <Co>"]
    assert body["EMP"].tolist() == ["Lovelace, Ada", "Babbage, Charles"]
    assert body["ITEM"].tolist() == ["Consulting", "Consulting"]
    assert body["PITEM"].tolist() == ["Regular Pay"] * 2
    assert body["DURATION"].tolist() == ["1:30", "12:05"]
    assert body["NOTE"].tolist() == ["Fixed the widget", 'café & <tea> "quoted"']
    assert body["BILLINGSTATUS"].tolist() == ["1", "0"]
    assert body["XFERTOPAYROLL"].tolist() == ["N", "N"]


@pytest.mark.parametrize(
    "change, column, message",
    [
        (
            {S.DESCRIPTION: "emoji \U0001f600 and ✓"},
            S.DESCRIPTION,
            "'\U0001f600' (U+1F600), '✓' (U+2713) cannot be written in Windows-1252",
        ),
        ({S.EMPLOYEE_NAME: "Łukasz"}, S.EMPLOYEE_NAME, "'Ł' (U+0141) cannot be written"),
        ({S.HOURS: 24, S.MINUTES: 0}, S.HOURS, "lasts more than 23:59"),
        ({S.DESCRIPTION: "n" * 1001}, S.DESCRIPTION, "over 1,000 characters"),
        ({S.ITEM_NAME: ""}, S.ITEM_NAME, "billable time needs a service item (ITEM)"),
        ({S.CUSTOMER_NAME: ""}, S.CUSTOMER_NAME, "billable time needs a customer (JOB)"),
        ({S.EMPLOYEE_NAME: ""}, S.EMPLOYEE_NAME, "no employee name (EMP)"),
    ],
)
def test_iif_refuses_what_it_cannot_hold_naming_entry_and_field(
    batch, tmp_path, change, column, message
):
    bad = batch.copy()
    for col, value in change.items():
        bad.loc[0, col] = value
    path = tmp_path / "t.iif"
    with pytest.raises(InputError) as info:
        export_iif(bad, path, company="Acme", missing_item="error")
    assert any(
        p.column == column and message in p.message and "entry e1" in p.message
        for p in info.value.problems
    ), str(info.value)
    assert not path.exists()  # nothing half-written


def test_iif_lists_all_problems_at_once(batch):
    bad = batch.copy()
    bad.loc[0, S.DESCRIPTION] = "→"
    bad.loc[1, S.EMPLOYEE_NAME] = ""
    with pytest.raises(InputError) as info:
        iif_text(bad)
    assert [p.row for p in info.value.problems] == [1, 2]


def test_iif_header_values_must_fit(batch):
    with pytest.raises(InputError, match="company"):
        iif_text(batch, company="Acme\tCorp")


def test_iif_without_company_warns_in_the_log(batch, caplog):
    with caplog.at_level("WARNING", logger="qbrecon"):
        iif_text(batch)
    assert "no company name given" in caplog.text


# ----------------------------------------------------------------------- qbXML
ORDER = [
    "TxnDate",
    "EntityRef",
    "CustomerRef",
    "ItemServiceRef",
    "Rate",
    "Duration",
    "ClassRef",
    "PayrollItemWageRef",
    "Notes",
    "BillableStatus",
    "ExternalGUID",
]  # qbd.md §14


def _tag(entry_id):
    guid = external_guid(entry_id)
    return "[qbr:" + (guid[1:9] + guid[10:14]).lower() + "]"


def _parse(path):
    text = path.read_text(encoding="ascii")
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?>\n<?qbxml version="13.0"?>\n')
    return SafeET.fromstring(text.encode("ascii"))


def _in_order(tags, order):
    positions = [order.index(t) for t in tags]
    return positions == sorted(positions)


def test_qbxml_parses_back_in_schema_order(batch, tmp_path):
    root = _parse(
        export_qbxml(batch, tmp_path / "t.xml", payroll_item="Regular Pay", class_name="West")
    )
    msgs = root.find("QBXMLMsgsRq")
    assert msgs.get("onError") == "continueOnError"
    rqs = msgs.findall("TimeTrackingAddRq")
    assert [r.get("requestID") for r in rqs] == ["e1", "e2"]
    for rq in rqs:
        add = rq.find("TimeTrackingAdd")
        tags = [c.tag for c in add]
        assert _in_order(tags, ORDER), tags
        assert "Rate" not in tags  # not in QuickBooks Desktop
        assert [c.tag for c in rq][1:] == ["IncludeRetElement"] * 3
    first, second = (r.find("TimeTrackingAdd") for r in rqs)
    assert first.findtext("TxnDate") == "2026-11-20"
    assert first.findtext("EntityRef/ListID") == "80000005-1234567890"
    assert first.findtext("CustomerRef/ListID") == "80000010-1111111111"
    assert first.findtext("ItemServiceRef/ListID") == "80000020-1"
    assert first.findtext("Duration") == "PT1H30M0S"
    assert first.findtext("ClassRef/FullName") == "West"
    assert first.findtext("PayrollItemWageRef/FullName") == "Regular Pay"
    assert first.findtext("Notes") == "Fixed\tthe\nwidget " + _tag("e1")
    assert first.findtext("BillableStatus") == "Billable"
    assert first.findtext("ExternalGUID") == external_guid("e1")
    # a QuickBooks Online id is not a Desktop ListID: the name is used instead
    assert second.find("EntityRef/ListID") is None
    assert second.findtext("EntityRef/FullName") == "Babbage, Charles"
    assert second.findtext("CustomerRef/FullName") == "Web & <Co>"
    assert second.findtext("Notes") == 'café & <tea> "quoted" ' + _tag("e2")
    assert second.findtext("Duration") == "PT12H5M0S"
    assert second.findtext("BillableStatus") == "NotBillable"


def test_external_guids_are_braced_deterministic_and_distinct():
    pattern = re.compile(r"^\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\}$")
    guids = [external_guid(f"clockify-{i:016x}") for i in range(2000)]
    assert all(pattern.match(g) for g in guids)
    assert len(set(guids)) == 2000
    assert external_guid("x") == external_guid("x") != external_guid("x", generation=1)


def test_request_ids_fit_fifty_characters(batch):
    long = batch.copy()
    long.loc[0, S.ENTRY_ID] = "harvest-" + "9" * 60
    long.loc[1, S.ENTRY_ID] = "weird id with spaces"
    req = time_tracking_add_requests(long)
    assert req["request_id"].str.len().max() <= 50
    assert req["request_id"].is_unique and req["request_id"].str.startswith("qbr").all()
    custom = time_tracking_add_requests(batch, request_ids=["a", "b"])
    assert custom["request_id"].tolist() == ["a", "b"]
    with pytest.raises(SettingsError, match="at most 50 characters"):
        time_tracking_add_requests(batch, request_ids=["a" * 51, "b"])
    with pytest.raises(SettingsError, match="must be unique"):
        time_tracking_add_requests(batch, request_ids=["a", "a"])


@pytest.mark.parametrize(
    "version, has_status, has_guid, has_ret",
    [
        ("13.0", True, True, True),
        ("9.0", True, True, True),
        ("8.0", True, False, True),
        ("6.0", True, False, True),
        ("5.0", False, False, True),
        ("3.0", False, False, False),
    ],
)
def test_qbxml_versions(batch, tmp_path, version, has_status, has_guid, has_ret):
    path = export_qbxml(batch, tmp_path / "t.xml", version=version)
    text = path.read_text()
    assert f'<?qbxml version="{version}"?>' in text
    add = SafeET.fromstring(text.encode()).find("QBXMLMsgsRq/TimeTrackingAddRq/TimeTrackingAdd")
    assert (add.find("BillableStatus") is not None) == has_status
    assert (add.find("IsBillable") is not None) == (not has_status)
    assert (add.find("ExternalGUID") is not None) == has_guid
    assert ("IncludeRetElement" in text) == has_ret
    order = [*ORDER[:9], "IsBillable", *ORDER[9:]]
    assert _in_order([c.tag for c in add], order)


def test_qbxml_ref_modes(batch):
    names = time_tracking_add_requests(batch, refs="full_name")["xml"].iat[0]
    assert "<EntityRef><FullName>Lovelace, Ada</FullName></EntityRef>" in names
    assert "<ListID>" not in names
    ids = time_tracking_add_requests(batch, refs="list_id")["xml"].iat[1]
    assert "<EntityRef><ListID>56</ListID></EntityRef>" in ids
    with pytest.raises(SettingsError, match="refs 'guess'"):
        time_tracking_add_requests(batch, refs="guess")


@pytest.mark.parametrize(
    "change, column, message",
    [
        (
            {S.ITEM_ID: "", S.ITEM_NAME: ""},
            S.ITEM_NAME,
            "billable time's service item has no QuickBooks name",
        ),
        (
            {S.CUSTOMER_ID: "", S.CUSTOMER_NAME: ""},
            S.CUSTOMER_NAME,
            "billable time's customer has no",
        ),
        (
            {
                S.EMPLOYEE_ID: "",
                S.EMPLOYEE_NAME: "",
            },
            S.EMPLOYEE_ID,
            "no employee or vendor",
        ),
        (
            {S.CUSTOMER_ID: "7", S.CUSTOMER_NAME: "x" * 210},
            S.CUSTOMER_NAME,
            "name is over 209 characters",
        ),
        ({S.DESCRIPTION: "d" * 4090}, S.DESCRIPTION, "Notes would be over 4,095 characters"),
        ({S.DESCRIPTION: "bell\x07"}, S.DESCRIPTION, "control characters XML cannot carry"),
    ],
)
def test_qbxml_refuses_what_quickbooks_would_refuse(batch, tmp_path, change, column, message):
    bad = batch.copy()
    for col, value in change.items():
        bad.loc[0, col] = value
    path = tmp_path / "t.xml"
    with pytest.raises(InputError) as info:
        export_qbxml(bad, path, missing_item="error")
    assert any(p.column == column and message in p.message for p in info.value.problems), str(
        info.value
    )
    assert not path.exists()


def _first_item(path, fmt):
    """The service item of the first time entry in an exported file ("" when none)."""
    if fmt == "iif":
        rows = _iif_rows(path)
        head = next(r for r in rows if r[0] == "!TIMEACT")
        first = next(r for r in rows if r[0] == "TIMEACT")
        return first[head.index("ITEM")]
    first = SafeET.fromstring(path.read_bytes()).find(".//TimeTrackingAdd")
    return first.findtext("ItemServiceRef/FullName") or first.findtext("ItemServiceRef/ListID") or ""


@pytest.mark.parametrize("fmt", ["iif", "qbxml"])
def test_billable_rows_without_service_item_warn_or_take_the_default(batch, tmp_path, fmt):
    bad = batch.copy()
    bad.loc[0, S.ITEM_ID] = ""
    bad.loc[0, S.ITEM_NAME] = ""
    assert bad.loc[0, S.BILLABLE_STATUS] == "Billable"
    export = export_iif if fmt == "iif" else export_qbxml
    kw = {"company": "Acme"} if fmt == "iif" else {}
    # by default the file is written, and the entries QuickBooks would refuse are named
    with pytest.warns(QbreconWarning, match=r"1 billable entry has no service item \(e1\)"):
        written = export(bad, tmp_path / f"warn.{fmt}", **kw)
    assert _first_item(written, fmt) == ""
    # a default item fills exactly the rows without one, silently
    filled = export(bad, tmp_path / f"default.{fmt}", default_item="Consulting", **kw)
    assert _first_item(filled, fmt) == "Consulting"
    with pytest.raises(SettingsError, match="missing_item"):
        export(bad, tmp_path / f"x.{fmt}", missing_item="ignore", **kw)


def test_message_set_wraps_requests_for_the_web_connector(batch):
    req = time_tracking_add_requests(batch)
    doc = message_set(req["xml"].iloc[:1], version="13.0", on_error="stopOnError")
    root = SafeET.fromstring(doc.encode())
    assert root.find("QBXMLMsgsRq").get("onError") == "stopOnError"
    assert len(root.findall("QBXMLMsgsRq/TimeTrackingAddRq")) == 1
    with pytest.raises(SettingsError, match="QuickBooks refuses rollbackOnError"):
        message_set([], on_error="rollbackOnError")
    with pytest.raises(SettingsError, match=r"qbXML version '17\.0' is not supported"):
        message_set([], version="17.0")


def test_empty_batches_give_valid_files(batch, tmp_path):
    empty = batch.iloc[:0]
    root = _parse(export_qbxml(empty, tmp_path / "e.xml"))
    assert root.findall("QBXMLMsgsRq/TimeTrackingAddRq") == []
    assert len(_iif_rows(export_iif(empty, tmp_path / "e.iif", company="A"))) == 3


def test_qbxml_keeps_line_breaks_in_notes(batch):
    b = batch.copy()
    b.loc[0, S.DESCRIPTION] = "first\r\nsecond\nthird"
    doc = message_set(time_tracking_add_requests(b)["xml"])
    notes = SafeET.fromstring(doc.encode()).find(
        "QBXMLMsgsRq/TimeTrackingAddRq/TimeTrackingAdd/Notes"
    )
    assert notes.text == "first\r\nsecond\nthird " + _tag("e1")


@pytest.mark.parametrize("target", ["qbd", "qbo"])
def test_the_validated_description_limit_leaves_room_for_the_marker(target):
    rules = Rules(target="qbd", require_billable=False)
    limit = Rules(target=target).description_limit
    rows = [{**ROWS[0], "description": "x" * limit}, {**ROWS[0], "description": "x" * (limit + 1)}]
    report = validate(make_entries(rows), MAPPING, rules=rules.replace(target=target))
    assert report.failures.query("rule == 'description_too_long'")[S.ENTRY_ID].tolist() == ["e2"]
    if target == "qbd":
        notes = time_tracking_add_requests(build_batch(report))["xml"].iat[0]
        assert len(SafeET.fromstring(notes).findtext("TimeTrackingAdd/Notes")) == 4095
