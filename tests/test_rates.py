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
