"""Rates: bill rates and item prices read from every list format, and the rate fallback
of validate (tracker, then the mapped person's bill rate, then the item's price, then
a fixed default rate)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from listfiles import qbo_json

from qbrecon import InputError, QBLists, read_qb_lists
from qbrecon import schema as S
from qbrecon.formats import parse_amounts


def _rates(frame: pd.DataFrame) -> dict[str, float | None]:
    """name -> rate, None for NaN (so dicts compare)."""
    return {n: (None if math.isnan(r) else r)
            for n, r in zip(frame[S.FULL_NAME], frame[S.RATE], strict=True)}


# ============================================================== list readers
def test_qbo_json_reads_bill_rates_and_unit_prices(tmp_path):
    (tmp_path / "Employee.json").write_bytes(qbo_json("Employee", [
        {"Id": "55", "DisplayName": "Maya Okafor", "Active": True, "BillRate": 120},
        {"Id": "56", "DisplayName": "Daniel Reyes", "Active": True, "BillRate": "142.50"},
        {"Id": "57", "DisplayName": "Olivia Grant", "Active": True}]))
    (tmp_path / "Vendor.json").write_bytes(qbo_json("Vendor", [
        {"Id": "40", "DisplayName": "Marcus Bell", "Active": True, "BillRate": 95.0},
        {"Id": "43", "DisplayName": "Adobe Inc.", "Active": True}]))
    (tmp_path / "Item.json").write_bytes(qbo_json("Item", [
        {"Id": "3", "Name": "Design", "Type": "Service", "Active": True, "UnitPrice": 120},
        {"Id": "2", "Name": "Hours", "Type": "Service", "Active": True, "UnitPrice": 0},
        {"Id": "8", "Name": "Creative Services", "Type": "Category", "Active": True}]))
    lists = read_qb_lists(tmp_path)
    assert _rates(lists.employees) == {"Daniel Reyes": 142.5, "Maya Okafor": 120.0,
                                       "Olivia Grant": None}
    assert _rates(lists.vendors) == {"Adobe Inc.": None, "Marcus Bell": 95.0}
    assert _rates(lists.items) == {"Creative Services": None, "Design": 120.0, "Hours": 0.0}
    assert lists.employees[S.RATE].dtype == "float64"


def test_qbo_json_bad_bill_rate_names_record_and_field(tmp_path):
    (tmp_path / "Employee.json").write_bytes(qbo_json("Employee", [
        {"Id": "55", "DisplayName": "Maya Okafor", "Active": True, "BillRate": "lots"},
        {"Id": "56", "DisplayName": "Daniel Reyes", "Active": True, "BillRate": True}]))
    with pytest.raises(InputError) as exc:
        read_qb_lists(tmp_path / "Employee.json")
    problems = exc.value.problems
    assert [(p.row, p.column, p.value) for p in problems] == [
        (1, "BillRate", "lots"), (2, "BillRate", "true")]
    assert "Maya Okafor" in problems[0].message


@pytest.mark.parametrize(
    ("file_name", "text", "kind", "expected"),
    [
        ("ProductServiceList.csv",
         "Product/Service,Type,Description,Sales price / rate,Status\n"
         "Design,Service,,120.00,Active\nHours,Service,,,Active\nPrinting,Non-inventory,,\"1,250.50\",Active\n",
         "items", {"Design": 120.0, "Hours": None, "Printing": 1250.5}),
        ("items.csv", "Product/Service,Price\nDesign,$95.00\n", "items", {"Design": 95.0}),
        ("employees.csv", "Employee,Email,Billing rate (/hr)\nMaya Okafor,maya@example.com,120\n"
         "Olivia Grant,,\n", "employees", {"Maya Okafor": 120.0, "Olivia Grant": None}),
        ("v.csv", "Vendor,Bill rate\nMarcus Bell,\"95,00\"\n", "vendors", {"Marcus Bell": 95.0}),
        ("c.csv", "Customer,Email\nAcme,\n", "employees", {}),  # no rate column anywhere
    ],
)
def test_qbo_export_rate_columns(tmp_path, file_name, text, kind, expected):
    (tmp_path / file_name).write_text(text, encoding="utf-8")
    lists = read_qb_lists(tmp_path / file_name)
    assert _rates(getattr(lists, kind)) == expected


def test_qbo_export_xlsx_price_column(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for row in (["Product/Service", "Type", "Sales price/rate"], ["Design", "Service", 120],
                ["Research", "Service", 99.5], ["Hours", "Service", None]):
        ws.append(row)
    wb.save(tmp_path / "Products.xlsx")
    assert _rates(read_qb_lists(tmp_path / "Products.xlsx").items) == {
        "Design": 120.0, "Hours": None, "Research": 99.5}


def test_qbo_export_bad_rate_lists_every_row(tmp_path):
    (tmp_path / "items.csv").write_text("Product/Service,Price\nDesign,cheap\nHours,1\nResearch,?\n")
    with pytest.raises(InputError) as exc:
        read_qb_lists(tmp_path / "items.csv")
    assert [(p.row, p.column, p.value) for p in exc.value.problems] == [
        (2, "Price", "cheap"), (4, "Price", "?")]


def test_iif_reads_item_price_and_no_person_rates(tmp_path):
    text = ("!EMP\tNAME\tREFNUM\tHIDDEN\r\nEMP\tMaya Okafor\t7\tN\r\n"
            "!INVITEM\tNAME\tREFNUM\tINVITEMTYPE\tPRICE\tCOST\tHIDDEN\r\n"
            "INVITEM\tDesign\t20\tSERV\t120.00\t0.00\tN\r\n"
            "INVITEM\tCreative Services\t21\tSERV\t0.00\t0.00\tN\r\n"
            "INVITEM\tCreative Services:Photography\t22\tSERV\t110\t0.00\tN\r\n"
            "INVITEM\tLoyalty discount\t23\tDISC\t10%\t\tN\r\n"
            "INVITEM\tConsulting\t24\tSERV\t\t\tN\r\n")
    (tmp_path / "lists.IIF").write_bytes(text.encode("cp1252"))
    lists = read_qb_lists(tmp_path / "lists.IIF")
    assert _rates(lists.items) == {"Consulting": None, "Creative Services": 0.0,
                                   "Creative Services:Photography": 110.0, "Design": 120.0,
                                   "Loyalty discount": None}
    assert _rates(lists.employees) == {"Maya Okafor": None}


def test_iif_bad_price_names_line_and_column(tmp_path):
    text = "!INVITEM\tNAME\tINVITEMTYPE\tPRICE\nINVITEM\tDesign\tSERV\tabc\n"
    (tmp_path / "lists.iif").write_text(text)
    with pytest.raises(InputError) as exc:
        read_qb_lists(tmp_path / "lists.iif")
    assert [(p.row, p.column, p.value) for p in exc.value.problems] == [(2, "PRICE", "abc")]


_QBXML_ITEMS = """<?xml version="1.0" ?>
<QBXML><QBXMLMsgsRs>
<ItemServiceQueryRs requestID="1" statusCode="0" statusSeverity="Info" statusMessage="Status OK">
  <ItemServiceRet><ListID>8000-1</ListID><Name>Design</Name><FullName>Design</FullName>
    <IsActive>true</IsActive><SalesOrPurchase><Desc>Design work</Desc><Price>120.00</Price>
    <AccountRef><FullName>Services</FullName></AccountRef></SalesOrPurchase></ItemServiceRet>
  <ItemServiceRet><ListID>8000-2</ListID><Name>Consulting</Name><FullName>Consulting</FullName>
    <IsActive>true</IsActive><SalesAndPurchase><SalesDesc>Consulting</SalesDesc>
    <SalesPrice>160.00</SalesPrice><PurchaseCost>80.00</PurchaseCost></SalesAndPurchase></ItemServiceRet>
  <ItemServiceRet><ListID>8000-3</ListID><Name>Markup</Name><FullName>Markup</FullName>
    <IsActive>true</IsActive><SalesOrPurchase><PricePercent>10.0</PricePercent></SalesOrPurchase>
  </ItemServiceRet>
</ItemServiceQueryRs>
<EmployeeQueryRs requestID="2" statusCode="0" statusSeverity="Info" statusMessage="Status OK">
  <EmployeeRet><ListID>8000-9</ListID><Name>Maya Okafor</Name><IsActive>true</IsActive>
    <BillingRateRef><FullName>Senior</FullName></BillingRateRef></EmployeeRet>
</EmployeeQueryRs>
</QBXMLMsgsRs></QBXML>
"""


def test_qbxml_reads_item_prices_both_shapes(tmp_path):
    (tmp_path / "ItemServiceQueryRs.xml").write_text(_QBXML_ITEMS)
    lists = read_qb_lists(tmp_path / "ItemServiceQueryRs.xml")
    assert _rates(lists.items) == {"Consulting": 160.0, "Design": 120.0, "Markup": None}
    assert _rates(lists.employees) == {"Maya Okafor": None}


def test_qbxml_bad_price_is_an_input_error(tmp_path):
    (tmp_path / "i.xml").write_text(_QBXML_ITEMS.replace("120.00", "twelve"))
    with pytest.raises(InputError, match="price"):
        read_qb_lists(tmp_path / "i.xml")


def test_samples_carry_rates():
    from qbrecon.samples import samples_dir

    qbo = read_qb_lists(samples_dir() / "qbo")
    assert qbo.employees.set_index(S.NAME).loc["Priya Raman", S.RATE] == 125.0
    assert qbo.vendors.set_index(S.NAME).loc["Marcus Bell", S.RATE] == 95.0
    assert math.isnan(qbo.vendors.set_index(S.NAME).loc["Adobe Inc.", S.RATE])
    assert qbo.items.set_index(S.FULL_NAME).loc["Creative Services:Photography", S.RATE] == 110.0
    qbd = read_qb_lists(samples_dir() / "qbd")
    assert qbd.items.set_index(S.FULL_NAME).loc["Consulting", S.RATE] == 160.0
    assert qbd.employees[S.RATE].isna().all()


def test_hand_built_lists_without_rate_column_still_load():
    lists = QBLists(
        employees=pd.DataFrame({S.QB_ID: ["55"], S.NAME: ["Ada"], S.FULL_NAME: ["Ada"],
                                S.PARENT_ID: [""], S.LEVEL: [0], S.ACTIVE: [True]}),
        items=pd.DataFrame({S.QB_ID: ["3"], S.NAME: ["Design"], S.FULL_NAME: ["Design"],
                            S.PARENT_ID: [""], S.LEVEL: [0], S.ACTIVE: [True]}))
    assert lists.employees[S.RATE].isna().all() and lists.employees[S.RATE].dtype == "float64"
    assert lists.items[S.RATE].isna().all() and lists.vendors[S.RATE].dtype == "float64"
    assert list(lists.employees.columns) == list(S.PERSON_DTYPES)


def test_fetch_lists_from_the_emulator_carries_rates(tmp_path):
    from qbrecon.qbo.emulator import QBOEmulator
    from qbrecon.qbo.lists import fetch_qb_lists
    from qbrecon.samples import samples_dir

    with QBOEmulator(seed=samples_dir() / "qbo") as emu, emu.connect(tmp_path / "t.json") as client:
        lists = fetch_qb_lists(client)
    assert lists.employees.set_index(S.NAME).loc["Maya Okafor", S.RATE] == 120.0
    assert lists.vendors.set_index(S.NAME).loc["Ines Carvalho", S.RATE] == 110.0
    assert lists.items.set_index(S.NAME).loc["Consulting", S.RATE] == 160.0


@pytest.mark.parametrize(
    ("text", "amount", "bad"),
    [("120", 120.0, False), ("120.00", 120.0, False), ("$1,250.50", 1250.5, False),
     ("1.234,50", 1234.5, False), ("95,00", 95.0, False), ("1 250.00", 1250.0, False),
     ("(5.00)", -5.0, False), ("", None, False), ("10%", None, False), ("12.5%", None, False),
     ("abc", None, True), ("1.2.3x", None, True)],
)
def test_parse_amounts(text, amount, bad):
    amounts, bads = parse_amounts(pd.Series([text], dtype=object))
    got = amounts.iloc[0]
    assert (None if np.isnan(got) else got) == amount
    assert bool(bads.iloc[0]) is bad


def test_sample_json_round_trips_bill_rate_through_json():
    from qbrecon.samples import samples_dir

    doc = json.loads((samples_dir() / "qbo" / "Vendor.json").read_text(encoding="utf-8"))
    rates = {v["DisplayName"]: v.get("BillRate") for v in doc["QueryResponse"]["Vendor"]}
    assert rates["Peter Novak Consulting"] == 160 and rates["WeWork"] is None


# ============================================================== the fallback
from qbrecon import Rules, build_batch, validate  # noqa: E402
from qbrecon.errors import SettingsError  # noqa: E402
from qbrecon.ledger import Ledger  # noqa: E402
from qbrecon.testing import make_entries, make_mapping  # noqa: E402


def _frame(rows, columns):
    return pd.DataFrame(rows, columns=columns)


_PEOPLE = [S.QB_ID, S.NAME, S.FULL_NAME, S.PARENT_ID, S.LEVEL, S.ACTIVE, S.RATE]
LISTS = QBLists(
    employees=_frame([["55", "Ada Lovelace", "Ada Lovelace", "", 0, True, 120.0],
                      ["56", "Cy Norate", "Cy Norate", "", 0, True, np.nan],
                      ["57", "Dee Gone", "Dee Gone", "", 0, False, 150.0],
                      ["58", "Eve Zero", "Eve Zero", "", 0, True, 0.0]], _PEOPLE),
    vendors=_frame([["40", "Bob Contractor", "Bob Contractor", "", 0, True, 95.0]], _PEOPLE),
    customers=_frame([["7", "Acme", "Acme", "", 0, True]], _PEOPLE[:-1]),
    items=_frame([["I1", "Design", "Design", "", 0, True, 110.0],
                  ["I2", "Hours", "Hours", "", 0, True, 0.0],
                  ["I3", "Retainer", "Retainer", "", 0, False, 200.0]], _PEOPLE),
)
MAPPING = make_mapping(
    employee={"Ada": ("55", "Ada Lovelace"), "Cy": ("56", "Cy Norate"), "Dee": ("57", "Dee Gone"),
              "Eve": ("58", "Eve Zero"), "Bob": ("40", "Bob Contractor", "Vendor"),
              "Ghost": ("99", "Ghost")},
    customer={"Acme": ("7", "Acme")},
    item={"Design": ("I1", "Design"), "Hours": ("I2", "Hours"), "Retainer": ("I3", "Retainer")},
)
NO = np.nan

# (user, task, tracker rate, settings) -> (billable_rate, rate_source, missing_rate message or None)
CASES = {
    "tracker rate wins": (("Ada", "Design", 80.0, {}), (80.0, "tracker", None)),
    "tracker rate wins over default": (("Cy", "", 80.0, {"default_rate": 60}),
                                       (80.0, "tracker", None)),
    "employee bill rate": (("Ada", "Design", NO, {}), (120.0, "employee", None)),
    "vendor bill rate": (("Bob", "", NO, {}), (95.0, "employee", None)),
    "item price when the employee has none": (("Cy", "Design", NO, {}), (110.0, "item", None)),
    "item first when asked": (("Ada", "Design", NO, {"rate_fallback": ["item", "employee"]}),
                              (110.0, "item", None)),
    "default item's price": (("Cy", "Unmapped task", NO, {"default_item": "Design"}),
                             (110.0, "item", None)),
    "a zero rate is none": (("Eve", "Hours", NO, {"default_rate": 75.5}),
                            (75.5, "default", None)),
    "default rate": (("Cy", "", NO, {"default_rate": 60}), (60.0, "default", None)),
    "employee only": (("Cy", "Design", NO, {"rate_fallback": "employee"}), (
        NO, "", "billable but has no hourly rate: the tracker gives none, "
                "employee 'Cy Norate' has no bill rate in QuickBooks")),
    "none anywhere": (("Cy", "Hours", NO, {}), (
        NO, "", "billable but has no hourly rate: the tracker gives none, employee 'Cy Norate' "
                "has no bill rate in QuickBooks, item 'Hours' has no price")),
    "no item at all": (("Eve", "", NO, {}), (
        NO, "", "billable but has no hourly rate: the tracker gives none, employee 'Eve Zero' "
                "has no bill rate in QuickBooks, no task maps it to a service item and no "
                "default_item is set")),
    "unmapped task": (("Cy", "Coding", NO, {}), (
        NO, "", "billable but has no hourly rate: the tracker gives none, employee 'Cy Norate' "
                "has no bill rate in QuickBooks, task 'Coding' maps to no service item and no "
                "default_item is set")),
    "inactive records give no rate": (("Dee", "Retainer", NO, {}), (
        NO, "", "billable but has no hourly rate: the tracker gives none, employee 'Dee Gone' "
                "is inactive in QuickBooks, item 'Retainer' is inactive in QuickBooks")),
    "missing records give no rate": (("Ghost", "", NO, {"rate_fallback": ["employee"]}), (
        NO, "", "billable but has no hourly rate: the tracker gives none, "
                "employee id 99 is not in the QuickBooks lists")),
    "unmapped user": (("Nobody", "Design", NO, {"rate_fallback": ["employee"]}), (
        NO, "", "billable but has no hourly rate: the tracker gives none, user 'Nobody' is not "
                "mapped to a QuickBooks employee or vendor")),
    "fallback off: today's behaviour": (("Ada", "Design", NO, {"rate_fallback": []}), (
        NO, "", "billable but has no hourly rate")),
}


@pytest.mark.parametrize(("given", "expected"), list(CASES.values()), ids=list(CASES))
def test_rate_fallback(given, expected):
    user, task, tracker, settings = given
    rate, source, message = expected
    entries = make_entries([{"user": user, "project": "Acme", "task": task,
                             "billable_rate": tracker}])
    before = entries.copy()
    report = validate(entries, MAPPING, rules=Rules(**settings), lists=LISTS)
    pd.testing.assert_frame_equal(entries, before)  # input untouched
    row = pd.concat([report.clean, report.rejected]).iloc[0]
    got = row[S.BILLABLE_RATE]
    assert got == rate or (np.isnan(got) and np.isnan(rate))
    assert row[S.RATE_SOURCE] == source
    f = report.failures[report.failures[S.RULE] == "missing_rate"][S.MESSAGE].tolist()
    assert f == ([] if message is None else [message])


def test_without_lists_only_the_default_rate_fills():
    entries = make_entries([{"user": "Ada", "project": "Acme", "task": "Design",
                             "billable_rate": NO}] * 1)
    r = validate(entries, MAPPING)
    assert r.failures[S.MESSAGE].tolist() == [
        "billable but has no hourly rate: the tracker gives none, employee 'Ada Lovelace' "
        "(bill rate unknown: no QuickBooks lists given), item 'Design' (price unknown: no "
        "QuickBooks lists given)"]
    r = validate(entries, MAPPING, rules=Rules(default_rate=99))
    assert r.clean[[S.BILLABLE_RATE, S.RATE_SOURCE]].values.tolist() == [[99.0, "default"]]
    r = validate(entries.assign(task=""), MAPPING, rules=Rules(default_item="Consulting"))
    assert r.failures[S.MESSAGE].iloc[0].endswith(
        ", item 'Consulting' (price unknown: no QuickBooks lists given)")


def test_non_billable_entries_are_not_given_a_rate():
    entries = make_entries([{"user": "Ada", "project": "Acme", "billable": False,
                             "billable_rate": NO},
                            {"user": "Ada", "project": "Acme", "billable": False,
                             "billable_rate": 50.0}])
    r = validate(entries, MAPPING, rules=Rules(require_billable=False), lists=LISTS)
    out = r.clean
    assert np.isnan(out[S.BILLABLE_RATE].iloc[0]) and out[S.RATE_SOURCE].tolist() == ["", "tracker"]


def test_many_rows_vectorized_answers_per_row():
    users = ["Ada", "Cy", "Bob", "Eve", "Ada", "Cy"]
    tasks = ["Hours", "Design", "", "Hours", "", "Hours"]
    tracker = [NO, NO, NO, NO, 70.0, NO]
    entries = make_entries([{"user": u, "project": "Acme", "task": t, "billable_rate": r}
                            for u, t, r in zip(users, tasks, tracker, strict=True)] * 50)
    r = validate(entries, MAPPING, lists=LISTS)
    both = pd.concat([r.clean, r.rejected]).sort_values(S.ROW)
    assert both[S.RATE_SOURCE].tolist() == ["employee", "item", "employee", "", "tracker", ""] * 50
    assert both[S.BILLABLE_RATE].fillna(-1).tolist() == [120.0, 110.0, 95.0, -1, 70.0, -1] * 50
    assert (r.failures[S.RULE] == "missing_rate").sum() == 100
    assert r.rate_sources.set_index("source")["entries"].to_dict() == {
        "tracker": 50, "employee": 100, "item": 50, "": 100}
    assert "hourly rates of billable entries: 50 from the tracker, 100 from employee/vendor " \
           "bill rates, 50 from item prices, 100 with none" in r.summary_text()


@pytest.mark.parametrize(
    ("settings", "message"),
    [({"rate_fallback": ["employee", "boss"]}, "unknown source 'boss'"),
     ({"rate_fallback": ["item", "item"]}, "names a source twice"),
     ({"rate_fallback": 3}, "must be a list"),
     ({"default_rate": 0}, "positive number"),
     ({"default_rate": "95"}, "positive number"),
     ({"default_rate": True}, "positive number"),
     ({"default_rate": 95, "rate_fallback": ["employee"]}, 'does not include "default"')],
)
def test_bad_rate_settings(settings, message):
    with pytest.raises(SettingsError, match=message):
        Rules(**settings)


def test_rate_settings_round_trip_through_toml(tmp_path):
    rules = Rules(rate_fallback=["item", "default"], default_rate=87.5)
    text = rules.to_toml()
    assert 'rate_fallback = ["item", "default"]' in text and "default_rate = 87.5" in text
    (tmp_path / "rules.toml").write_text(text)
    back = Rules.from_toml(tmp_path / "rules.toml")
    assert back.rate_fallback == ("item", "default") and back.default_rate == 87.5
    assert back == rules
    assert Rules().to_toml() == "[rules]\n"  # the defaults are not written
    off = Rules(rate_fallback=[])
    (tmp_path / "off.toml").write_text(off.to_toml())
    assert Rules.from_toml(tmp_path / "off.toml").rate_fallback == ()


# ============================================================ fingerprints
def test_a_filled_rate_changes_neither_fingerprint_nor_triggers_changed_after_send(tmp_path):
    from qbrecon.ids import entry_fingerprints

    entries = make_entries([{"user": "Ada", "project": "Acme", "task": "Design",
                             "billable_rate": NO},
                            {"user": "Cy", "project": "Acme", "task": "Design",
                             "billable_rate": NO}])
    off = validate(entries, MAPPING, rules=Rules(rate_fallback=[], require_rate=False),
                   lists=LISTS)
    on = validate(entries, MAPPING, lists=LISTS)
    assert on.clean[S.RATE_SOURCE].tolist() == ["employee", "item"]
    assert on.clean[S.FINGERPRINT].tolist() == off.clean[S.FINGERPRINT].tolist()
    assert on.clean[S.FINGERPRINT].tolist() == entry_fingerprints(entries).tolist()

    ledger = tmp_path / "ledger.sqlite"
    batch = build_batch(on)
    assert batch[S.HOURLY_RATE].tolist() == [120.0, 110.0]
    with Ledger(ledger) as led:
        led.record_intent("qbo:1", [{"entry_id": e, "request_id": f"r-{e}", "fingerprint": f}
                                    for e, f in zip(batch[S.ENTRY_ID], batch[S.FINGERPRINT],
                                                    strict=True)])
        led.record_outcomes("qbo:1", [{"entry_id": e, "state": "sent", "external_id": "9"}
                                      for e in batch[S.ENTRY_ID]])
    again = validate(entries, MAPPING, lists=LISTS, ledger=ledger)
    assert sorted(set(again.failures[S.RULE])) == ["already_sent"]
    # the report's own clean entries, validated again, are still the same entries
    revalidated = validate(on.clean, MAPPING, lists=LISTS, ledger=ledger)
    assert sorted(set(revalidated.failures[S.RULE])) == ["already_sent"]
    assert revalidated.rejected[S.RATE_SOURCE].tolist() == ["employee", "item"]
    # a rate typed into the tracker afterwards is an edit
    edited = entries.assign(**{S.BILLABLE_RATE: [120.0, NO]})
    changed = validate(edited, MAPPING, lists=LISTS, ledger=ledger)
    assert changed.failures.set_index(S.ENTRY_ID)[S.RULE].to_dict() == {
        "e1": "changed_after_send", "e2": "already_sent"}


# =============================================================== end to end
def test_samples_toggl_validate_batch_and_dry_run_payload(tmp_path):
    from qbrecon import read_mapping, read_time_entries, send_to_qbo
    from qbrecon.qbo.emulator import QBOEmulator
    from qbrecon.samples import samples_dir

    d = samples_dir()
    entries = read_time_entries(next((d / "toggl").iterdir()))
    assert entries.loc[entries[S.BILLABLE], S.BILLABLE_RATE].isna().all()  # Toggl gives none
    lists = read_qb_lists(d / "qbo")
    mapping = read_mapping(d / "expected_matches.csv")
    off = validate(entries, mapping, lists=lists, rules=Rules(rate_fallback=()))
    report = validate(entries, mapping, lists=lists)
    assert (off.failures[S.RULE] == "missing_rate").sum() > 50
    assert "missing_rate" not in set(report.failures[S.RULE])
    billable = report.clean[report.clean[S.BILLABLE]]
    assert len(billable) > 50 and (billable[S.RATE_SOURCE] == "employee").all()
    rate_of = lists.people().set_index(S.QB_ID)[S.RATE]
    assert billable[S.BILLABLE_RATE].tolist() == rate_of.loc[billable[S.EMPLOYEE_ID]].tolist()
    batch = build_batch(report)
    assert batch[S.HOURLY_RATE].notna().sum() == len(billable)
    with QBOEmulator(seed=d / "qbo") as emu, emu.connect(tmp_path / "t.json") as client:
        plan = send_to_qbo(batch, client, ledger=tmp_path / "ledger.sqlite", dry_run=True)
    payloads = [json.loads(p) for p in plan["payload"]]
    by_id = dict(zip(plan[S.ENTRY_ID], payloads, strict=True))
    for entry_id, employee_id in zip(billable[S.ENTRY_ID], billable[S.EMPLOYEE_ID], strict=True):
        p = by_id[entry_id]
        assert p["BillableStatus"] == "Billable"
        assert p["HourlyRate"] == rate_of.loc[employee_id]


# ===================================================================== the CLI
def _cli(*args, cwd):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "qbrecon", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=120)


def test_cli_validate_fills_rates_and_takes_the_settings(tmp_path):
    from qbrecon import read_batch
    from qbrecon.samples import samples_dir

    d = samples_dir()
    base = ["validate", d / "toggl", "--mapping", d / "expected_matches.csv", "--lists", d / "qbo"]
    proc = _cli(*base, "--batch", tmp_path / "batch.csv", "--show", 0, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr  # Toggl's non-billable entries are still rejected
    assert "73 from employee/vendor bill rates" in proc.stdout and "missing_rate" not in proc.stdout
    batch = read_batch(tmp_path / "batch.csv")
    assert batch[S.HOURLY_RATE].notna().sum() == 73

    (tmp_path / "strict.toml").write_text("[rules]\nrate_fallback = []\n")
    strict = _cli(*base, "--rules", tmp_path / "strict.toml", "--show", 0, cwd=tmp_path)
    assert strict.returncode == 1 and "missing_rate" in strict.stdout

    flat = _cli(*base, "--rate-fallback", "default", "--default-rate", "88.5", "--batch",
                tmp_path / "flat.csv", cwd=tmp_path)
    assert "73 from default_rate" in flat.stdout, flat.stderr
    assert set(read_batch(tmp_path / "flat.csv")[S.HOURLY_RATE].dropna()) == {88.5}

    none = _cli(*base, "--rate-fallback", "none", "--show", 0, cwd=tmp_path)
    assert "missing_rate" in none.stdout

    bad = _cli(*base, "--rate-fallback", "employee", "--default-rate", "50", cwd=tmp_path)
    assert bad.returncode == 2 and 'does not include "default"' in bad.stderr
    assert "Traceback" not in bad.stderr
