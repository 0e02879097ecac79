"""QuickBooks list readers: every format on small literal files, the tree rules, errors."""

from __future__ import annotations

import json
import logging

import pandas as pd
import pytest
from listfiles import (
    iif,
    qbo_customers,
    qbo_export_csv,
    qbo_export_xlsx,
    qbo_json,
    qbo_people,
    qbxml,
)

from qbrecon import InputError, QBLists, read_qb_lists
from qbrecon import schema as S
from qbrecon.qblists import lists_from_qbxml

# one small company: a two-level tree, an inactive job, accents and a comma
CUSTOMERS = [
    ("1", "Acme & Sons, LLC", True),
    ("2", "Acme & Sons, LLC:Website Redesign", True),
    ("3", "Café Lumière", True),
    ("4", "Café Lumière:Website Redesign", True),
    ("5", "Café Lumière:Website Redesign:Phase 2", True),
    ("6", "Old Mill Bakery", False),
]
EXPECTED = {  # full_name -> (level, active, parent full name)
    "Acme & Sons, LLC": (0, True, None),
    "Acme & Sons, LLC:Website Redesign": (1, True, "Acme & Sons, LLC"),
    "Café Lumière": (0, True, None),
    "Café Lumière:Website Redesign": (1, True, "Café Lumière"),
    "Café Lumière:Website Redesign:Phase 2": (2, True, "Café Lumière:Website Redesign"),
    "Old Mill Bakery": (0, False, None),
}


def _tree(lists: QBLists) -> dict:
    c = lists.customers
    full_of = dict(zip(c[S.QB_ID], c[S.FULL_NAME], strict=True))
    return {r.full_name: (r.level, r.active, full_of.get(r.parent_id)) for r in c.itertuples()}


FORMATS = {
    "qbo-json": ("Customer.json", lambda cs: qbo_json("Customer", qbo_customers(cs))),
    "qbo-json-no-fqn": ("Customer.json", lambda cs: qbo_json("Customer", qbo_customers(cs, fqn=False))),
    "qbo-export-csv": ("Customers.csv", qbo_export_csv),
    "qbo-export-xlsx": ("Customers.xlsx", qbo_export_xlsx),
    "iif-cp1252": ("lists.IIF", iif),
    "iif-utf8": ("lists.iif", lambda cs: iif(cs, encoding="utf-8")),
    "qbxml": ("CustomerQueryRs.xml", qbxml),
    "qbxml-iterator-pages": ("CustomerQueryRs.xml", lambda cs: qbxml(cs, pages=3)),
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_gives_the_same_customer_tree(tmp_path, fmt):
    name, write = FORMATS[fmt]
    path = tmp_path / name
    path.write_bytes(write(CUSTOMERS))
    lists = read_qb_lists(path)
    assert _tree(lists) == EXPECTED
    c = lists.customers
    assert c[S.NAME].tolist() == [f.rsplit(":", 1)[-1] for f in c[S.FULL_NAME]]
    assert c[S.QB_ID].is_unique
    assert {str(t) for t in c.dtypes} <= {"string", "int64", "bool"}
    assert lists.employees.empty and list(lists.employees.columns) == list(S.PERSON_DTYPES)


@pytest.mark.parametrize(
    ("fmt", "ids"),
    [("qbo-json", ["1", "2", "3", "4", "5", "6"]),
     ("iif-cp1252", ["1", "2", "3", "4", "5", "6"]),  # REFNUM
     ("qbxml", ["80000001-1729000000", "80000002-1729000000", "80000003-1729000000",
                "80000004-1729000000", "80000005-1729000000", "80000006-1729000000"]),
     ("qbo-export-csv", [f for _, f, _ in CUSTOMERS])],  # no ids in exports: the full name
)
def test_qb_id_is_what_the_format_offers(tmp_path, fmt, ids):
    name, write = FORMATS[fmt]
    (tmp_path / name).write_bytes(write(CUSTOMERS))
    c = read_qb_lists(tmp_path / name).customers
    by_full = dict(zip(c[S.FULL_NAME], c[S.QB_ID], strict=True))
    assert [by_full[f] for _, f, _ in CUSTOMERS] == ids


def test_iif_without_refnum_uses_the_full_name(tmp_path):
    (tmp_path / "c.iif").write_bytes(b"!CUST\tNAME\tHIDDEN\r\nCUST\tAcme\tN\r\nCUST\tAcme:Web\tN\r\n")
    c = read_qb_lists(tmp_path / "c.iif").customers
    assert c[S.QB_ID].tolist() == ["Acme", "Acme:Web"]
    assert c[S.PARENT_ID].tolist() == ["", "Acme"]


def test_qbo_people_strip_deleted_and_keep_details(tmp_path):
    people = [("55", "Emily Platt", False), ("56", "Zoë Laurent", True)]
    (tmp_path / "Employee.json").write_bytes(qbo_json("Employee", qbo_people(people)))
    e = read_qb_lists(tmp_path).employees
    assert e[S.NAME].tolist() == ["Emily Platt", "Zoë Laurent"]
    assert e[S.ACTIVE].tolist() == [False, True]
    assert e[S.FIRST_NAME].tolist() == ["Emily", "Zoë"]
    assert e[S.EMAIL].tolist() == ["emily@example.com", "zoë@example.com"]
    assert e[S.NUMBER].tolist() == ["E55", "E56"]
    assert (e[S.LEVEL] == 0).all() and (e[S.FULL_NAME] == e[S.NAME]).all()


def test_deleted_suffix_marks_inactive_even_when_active_is_missing(tmp_path):
    doc = {"QueryResponse": {"Vendor": [{"Id": "9", "DisplayName": "Old Print Shop (deleted)"}]}}
    (tmp_path / "v.json").write_text(json.dumps(doc))
    v = read_qb_lists(tmp_path / "v.json").vendors
    assert v[S.NAME].tolist() == ["Old Print Shop"] and v[S.ACTIVE].tolist() == [False]


def test_text_is_nfc_and_spelling_is_kept(tmp_path):
    decomposed = "Cafe\u0301 Lumie\u0300re"  # e + combining accents
    doc = {"QueryResponse": {"Customer": [{"Id": "1", "DisplayName": decomposed,
                                           "FullyQualifiedName": decomposed},
                                          {"Id": "2", "DisplayName": "  ACME  llc"}]}}
    (tmp_path / "c.json").write_text(json.dumps(doc))
    c = read_qb_lists(tmp_path / "c.json").customers
    assert set(c[S.NAME]) == {"Café Lumière", "  ACME  llc"}


def test_paged_files_and_a_list_of_pages_are_concatenated_and_deduplicated(tmp_path):
    recs = qbo_customers(CUSTOMERS)
    # page 2 repeats the last record of page 1; the child of page 1 has its parent on page 2
    (tmp_path / "Customer_page1.json").write_bytes(qbo_json("Customer", recs[3:5] + recs[0:1]))
    (tmp_path / "Customer_page2.json").write_bytes(qbo_json("Customer", recs[0:3] + recs[5:], 4))
    assert _tree(read_qb_lists(tmp_path)) == EXPECTED
    pages = [json.loads(qbo_json("Customer", recs[:2])), json.loads(qbo_json("Customer", recs[1:]))]
    (tmp_path / "all.json").write_text(json.dumps(pages))
    assert _tree(read_qb_lists(tmp_path / "all.json")) == EXPECTED


def test_batch_response_and_single_entity_read_are_understood(tmp_path):
    batch = {"BatchItemResponse": [
        {"bId": "b1", "QueryResponse": {"Employee": qbo_people([("55", "Ada Lovelace", True)])}},
        {"bId": "b2", "QueryResponse": {"Item": [{"Id": "2", "Name": "Hours", "Type": "Service",
                                                  "FullyQualifiedName": "Hours"}]}}]}
    (tmp_path / "batch.json").write_text(json.dumps(batch))
    (tmp_path / "one.json").write_text(json.dumps({"Customer": {"Id": "7", "DisplayName": "Acme"},
                                                   "time": "x"}))
    lists = read_qb_lists([tmp_path / "batch.json", tmp_path / "one.json"])
    assert lists.employees[S.NAME].tolist() == ["Ada Lovelace"]
    assert lists.items[[S.NAME, S.ITEM_TYPE]].values.tolist() == [["Hours", "Service"]]
    assert lists.customers[S.QB_ID].tolist() == ["7"]


@pytest.mark.parametrize(
    ("source", "expected"),
    [("SERV", "Service"), ("PART", "NonInventory"), ("OTHC", "OtherCharge"), ("INVENTORY", "Inventory"),
     ("WEIRD", "WEIRD")],
)
def test_iif_item_types(tmp_path, source, expected):
    (tmp_path / "i.iif").write_text(f"!INVITEM\tNAME\tINVITEMTYPE\tHIDDEN\nINVITEM\tDesign\t{source}\tN\n")
    assert read_qb_lists(tmp_path / "i.iif").items[S.ITEM_TYPE].tolist() == [expected]


def test_qbxml_items_people_classes_and_payroll_items(tmp_path):
    xml = """<?xml version="1.0" encoding="utf-8"?>
<QBXML><QBXMLMsgsRs>
<ItemQueryRs requestID="1" statusCode="0" statusSeverity="Info">
 <ItemServiceRet><ListID>A-1</ListID><Name>Design</Name><FullName>Design</FullName><IsActive>true</IsActive></ItemServiceRet>
 <ItemServiceRet><ListID>A-2</ListID><Name>Logo</Name><FullName>Design:Logo</FullName><IsActive>false</IsActive>
   <ParentRef><ListID>A-1</ListID><FullName>Design</FullName></ParentRef><Sublevel>1</Sublevel></ItemServiceRet>
 <ItemNonInventoryRet><ListID>A-3</ListID><Name>Printing</Name><FullName>Printing</FullName></ItemNonInventoryRet>
</ItemQueryRs>
<VendorQueryRs requestID="2" statusCode="0" statusSeverity="Info">
 <VendorRet><ListID>V-1</ListID><Name>Marcus Bell</Name><IsActive>true</IsActive><FirstName>Marcus</FirstName>
   <LastName>Bell</LastName><Email>m@bell.example</Email><AccountNumber>HB-7</AccountNumber></VendorRet>
</VendorQueryRs>
<ClassQueryRs requestID="3" statusCode="0" statusSeverity="Info">
 <ClassRet><ListID>C-1</ListID><Name>Design Studio</Name><FullName>Design Studio</FullName><IsActive>true</IsActive></ClassRet>
</ClassQueryRs>
<PayrollItemWageQueryRs requestID="4" statusCode="0" statusSeverity="Info">
 <PayrollItemWageRet><ListID>P-1</ListID><Name>Hourly Regular</Name><IsActive>true</IsActive><WageType>HourlyRegular</WageType></PayrollItemWageRet>
</PayrollItemWageQueryRs>
<EmployeeQueryRs requestID="5" statusCode="1" statusSeverity="Info" statusMessage="A query request did not find a matching object in QuickBooks"/>
</QBXMLMsgsRs></QBXML>"""
    (tmp_path / "rs.xml").write_text(xml)
    lists = read_qb_lists(tmp_path / "rs.xml")
    assert lists.items[[S.FULL_NAME, S.ITEM_TYPE, S.LEVEL, S.ACTIVE]].values.tolist() == [
        ["Design", "Service", 0, True], ["Design:Logo", "Service", 1, False],
        ["Printing", "NonInventory", 0, True]]
    assert lists.vendors[[S.NAME, S.EMAIL, S.NUMBER]].values.tolist() == [
        ["Marcus Bell", "m@bell.example", "HB-7"]]
    assert lists.classes[S.NAME].tolist() == ["Design Studio"]
    assert lists.payroll_items[S.QB_ID].tolist() == ["P-1"]
    assert lists.employees.empty


def test_lists_from_qbxml_reads_web_connector_pages_in_memory():
    pages = qbxml(CUSTOMERS, pages=2).decode().split('<?xml version="1.0" ?>')[1:]
    assert len(pages) == 2
    assert _tree(lists_from_qbxml(pages, source="session 1")) == EXPECTED


def test_qbo_export_with_separate_parent_column_and_items(tmp_path):
    (tmp_path / "ProductServiceList.csv").write_text(
        "Product/Service,Type,Category,Description,Price,Status\n"
        "Photography,Service,Creative Services,,110,Active\n"
        "Creative Services,Category,,,,Active\n"
        "Printing,Non-inventory,,,0,Inactive\n")
    items = read_qb_lists(tmp_path).items
    assert items[[S.FULL_NAME, S.ITEM_TYPE, S.LEVEL, S.ACTIVE]].values.tolist() == [
        ["Creative Services", "Category", 0, True],
        ["Creative Services:Photography", "Service", 1, True],
        ["Printing", "NonInventory", 0, False]]


@pytest.mark.parametrize(
    ("file_name", "header", "kind"),
    [("x.csv", "Employee,Email,Employee ID", "employees"),
     ("x.csv", "Vendor,Email,Account #", "vendors"),
     ("x.csv", "Supplier name,Email", "vendors"),
     ("Employees.csv", "Name,Email", "employees"),
     ("customer_list.csv", "Display Name,Email", "customers")],
)
def test_qbo_export_list_kind_from_header_or_file_name(tmp_path, file_name, header, kind):
    (tmp_path / file_name).write_text(f"{header}\nMaya Okafor,maya@example.com,7\n")
    lists = read_qb_lists(tmp_path / file_name)
    assert getattr(lists, kind)[S.NAME].tolist() == ["Maya Okafor"]


def test_qbo_export_semicolon_and_people_columns(tmp_path):
    (tmp_path / "e.csv").write_text("Employee;First name;Last name;Email;Employee ID;Active\n"
                                    "Okafor, Maya;Maya;Okafor;maya@example.com;E-1;yes\n"
                                    "Hannah Brooks (deleted);Hannah;Brooks;;E-2;no\n")
    e = read_qb_lists(tmp_path / "e.csv").employees
    assert e[[S.NAME, S.FIRST_NAME, S.NUMBER, S.ACTIVE]].values.tolist() == [
        ["Hannah Brooks", "Hannah", "E-2", False], ["Okafor, Maya", "Maya", "E-1", True]]


def test_mixed_formats_of_one_desktop_company_keep_one_record_per_name(tmp_path):
    (tmp_path / "lists.IIF").write_bytes(iif(CUSTOMERS))
    (tmp_path / "CustomerQueryRs.xml").write_bytes(qbxml(CUSTOMERS[:4]))  # active only, say
    c = read_qb_lists(tmp_path).customers
    assert _tree(read_qb_lists(tmp_path)) == EXPECTED
    # ListIDs win over REFNUMs where both exist; the IIF-only records stay
    by_full = dict(zip(c[S.FULL_NAME], c[S.QB_ID], strict=True))
    assert by_full["Acme & Sons, LLC"].startswith("8000")
    assert by_full["Old Mill Bakery"] == "6"
    # the IIF-only child of a qbXML parent points at the parent's ListID
    phase2 = c[c[S.FULL_NAME].str.endswith("Phase 2")].iloc[0]
    assert phase2[S.PARENT_ID] == by_full["Café Lumière:Website Redesign"]


def test_folder_is_read_recursively_and_other_files_are_skipped(tmp_path, caplog):
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / "sub" / "deeper" / "Customer.json").write_bytes(
        qbo_json("Customer", qbo_customers(CUSTOMERS)))
    (tmp_path / "notes.txt").write_text("nothing to see")
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.4\x00\x01")
    (tmp_path / "Invoice.json").write_bytes(qbo_json("Invoice", [{"Id": "1"}]))
    (tmp_path / "package.json").write_text('{"name": "x"}')
    (tmp_path / ".hidden.json").write_text("{broken")
    with caplog.at_level(logging.INFO, logger="qbrecon"):
        lists = read_qb_lists(tmp_path)
    assert _tree(lists) == EXPECTED
    skipped = " ".join(r.getMessage() for r in caplog.records if r.getMessage().startswith("skipped"))
    for name in ("notes.txt", "report.pdf", "Invoice.json", "package.json"):
        assert name in skipped
    assert ".hidden.json" not in skipped


# ------------------------------------------------------------------ errors
def _error(tmp_path, name, data, *paths) -> InputError:
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    with pytest.raises(InputError) as info:
        read_qb_lists(paths or path)
    return info.value


def test_bad_json_names_file_line_and_column(tmp_path):
    err = _error(tmp_path, "Customer.json", '{"QueryResponse": {\n  "Customer": [\n    {"Id": "1",}\n]}}')
    assert err.file.endswith("Customer.json")
    assert err.problems[0].row == 3 and err.problems[0].column == "16"
    assert "Customer.json" in str(err) and "row 3" in str(err)


def test_a_named_file_with_the_wrong_entity_is_an_error(tmp_path):
    err = _error(tmp_path, "Invoice.json", qbo_json("Invoice", [{"Id": "1"}]))
    assert "Invoice" in str(err) and err.file.endswith("Invoice.json")


@pytest.mark.parametrize(
    ("name", "data", "needle"),
    [("notes.csv", "a,b\n1,2\n", "name column"),
     ("x.xml", "<html><body/></html>", "not qbXML"),
     ("x.xml", "<QBXML><QBXMLMsgsRq onError='stopOnError'/></QBXML>", "request"),
     ("x.iif", "!TRNS\tTRNSID\nTRNS\t1\n", "without list sections"),
     ("x.bin", b"\x00\x01\x02junk", "binary"),
     ("x.xlsx", b"PK\x03\x04not really a zip", "XLSX")],
)
def test_named_files_that_are_not_lists_say_what_they_are(tmp_path, name, data, needle):
    err = _error(tmp_path, name, data)
    assert needle in str(err) and name in str(err)


def test_qbo_fault_response_is_an_error(tmp_path):
    fault = {"Fault": {"Error": [{"Message": "Invalid query", "Detail": "QueryParserError",
                                  "code": "4000"}], "type": "ValidationFault"}, "time": "x"}
    err = _error(tmp_path, "c.json", json.dumps(fault))
    assert "4000 Invalid query" in str(err)


def test_qbo_records_without_id_or_name_are_all_listed(tmp_path):
    doc = {"QueryResponse": {"Customer": [{"DisplayName": "A"}, {"Id": "2"}, {"Id": "3", "DisplayName": "C",
                                                                                 "Active": "maybe"}]}}
    err = _error(tmp_path, "c.json", json.dumps(doc))
    assert [(p.row, p.column) for p in err.problems] == [(1, "Id"), (2, "DisplayName"), (3, "Active")]


@pytest.mark.parametrize("fmt", ["qbo-json", "iif", "qbxml", "qbo-export"])
def test_unknown_parent_names_the_record(tmp_path, fmt):
    orphan = [("1", "Acme", True), ("2", "Ghost Co:Website", True)]
    if fmt == "qbo-json":
        recs = [{"Id": "1", "DisplayName": "Acme"},
                {"Id": "2", "DisplayName": "Website", "ParentRef": {"value": "99"}}]
        err = _error(tmp_path, "c.json", qbo_json("Customer", recs))
        assert "id 99" in str(err) and err.problems[0].column == "ParentRef"
    elif fmt == "iif":
        err = _error(tmp_path, "c.iif", iif(orphan))
        assert err.problems[0].row == 5 and err.problems[0].column == "NAME"
    elif fmt == "qbxml":
        xml = ("<QBXML><QBXMLMsgsRs><CustomerQueryRs statusSeverity='Info'><CustomerRet>"
               "<ListID>X-2</ListID><Name>Website</Name><FullName>Ghost Co:Website</FullName>"
               "<ParentRef><ListID>X-9</ListID></ParentRef></CustomerRet></CustomerQueryRs>"
               "</QBXMLMsgsRs></QBXML>")
        err = _error(tmp_path, "c.xml", xml)
        assert "X-9" in str(err)
    else:
        err = _error(tmp_path, "c.csv", qbo_export_csv(orphan, title=False))
        assert err.problems[0].row == 3 and err.problems[0].column == "Customer"
    assert "Website" in str(err) and "not in the customers list" in str(err)


def test_parent_loop_is_an_error_naming_every_record_in_it(tmp_path):
    recs = [{"Id": "1", "DisplayName": "Top"},
            {"Id": "2", "DisplayName": "A", "ParentRef": {"value": "3"}},
            {"Id": "3", "DisplayName": "B", "ParentRef": {"value": "2"}},
            {"Id": "4", "DisplayName": "Under the loop", "ParentRef": {"value": "3"}}]
    err = _error(tmp_path, "c.json", qbo_json("Customer", recs))
    assert len(err.problems) == 2
    assert "loop (2 -> 3 -> 2)" in str(err) and "loop (3 -> 2 -> 3)" in str(err)
    assert {p.row for p in err.problems} == {2, 3}


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [("!CUST\tNAME\tREFNUM\tHIDDEN\r\nCUST\tAcme\t1\tN\r\nCUST\tShort\t2\r\n", 3, "missing HIDDEN"),
     ("!CUST\tNAME\tHIDDEN\nCUST\tAcme\tN\tsurprise\n", 2, "header on line 1 has 2"),
     ("!HDR\tPROD\nHDR\tQuickBooks\nCUST\tAcme\tN\n", 3, "before any !CUST header"),
     ("!CUST\tNAME\tHIDDEN\nCUST\t\tN\n", 2, "without a NAME"),
     ("!CUST\tNAME\tHIDDEN\nCUST\tAcme\tmaybe\n", 2, "HIDDEN must be Y or N")],
)
def test_iif_rows_that_do_not_fit_are_errors_with_their_line(tmp_path, text, line, needle):
    err = _error(tmp_path, "lists.iif", text)
    assert err.problems[0].row == line
    assert needle in str(err)


def test_iif_lists_every_short_row_at_once(tmp_path):
    rows = "".join(f"CUST\tC{i}\n" for i in range(5))
    err = _error(tmp_path, "lists.iif", "!CUST\tNAME\tREFNUM\tHIDDEN\n" + rows)
    assert err.rows == [2, 3, 4, 5, 6]


def test_iif_quoted_fields_and_extra_empty_fields(tmp_path):
    text = ('!EMP\tNAME\tREFNUM\tHIDDEN\t\r\nEMP\t"Lovelace, Ada"\t7\tN\t\t\r\n'
            'EMP\t"Say ""Hi"" Ltd"\t8\tY\r\n')
    e = read_qb_lists(_write(tmp_path, "e.iif", text)).employees
    assert e[S.NAME].tolist() == ["Lovelace, Ada", 'Say "Hi" Ltd']
    assert e[S.ACTIVE].tolist() == [True, False]


def test_iif_section_declared_twice_with_other_columns(tmp_path):
    text = ("!CUST\tNAME\tHIDDEN\nCUST\tAcme\tN\n!ACCNT\tNAME\nACCNT\tBank\n"
            "!CUST\tNAME\tREFNUM\tEMAIL\tHIDDEN\nCUST\tAcme:Web\t9\tweb@acme.example\tY\n")
    c = read_qb_lists(_write(tmp_path, "c.iif", text)).customers
    assert c[[S.QB_ID, S.FULL_NAME, S.LEVEL, S.ACTIVE]].values.tolist() == [
        ["Acme", "Acme", 0, True], ["9", "Acme:Web", 1, False]]


def test_empty_query_response_gives_empty_lists(tmp_path):
    (tmp_path / "Customer.json").write_text('{"QueryResponse": {}, "time": "2026-11-16T08:30:12-08:00"}')
    lists = read_qb_lists(tmp_path)
    assert lists.customers.empty and list(lists.customers.columns) == list(S.LIST_DTYPES)


def test_windows_1252_export(tmp_path):
    (tmp_path / "c.csv").write_bytes("Customer,Status\r\nCafé Lumière,Active\r\n".encode("cp1252"))
    assert read_qb_lists(tmp_path / "c.csv").customers[S.NAME].tolist() == ["Café Lumière"]


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_qbxml_error_status_is_an_error(tmp_path):
    xml = ("<QBXML><QBXMLMsgsRs><CustomerQueryRs requestID='7' statusCode='3250' "
           "statusSeverity='Error' statusMessage='This feature is not enabled'/></QBXMLMsgsRs></QBXML>")
    err = _error(tmp_path, "c.xml", xml)
    assert "requestID 7" in str(err) and "3250" in str(err)


def test_qbxml_records_without_listid_are_listed(tmp_path):
    xml = ("<QBXML><QBXMLMsgsRs><EmployeeQueryRs statusSeverity='Info'>"
           "<EmployeeRet><Name>Ada</Name></EmployeeRet><EmployeeRet><ListID>1</ListID></EmployeeRet>"
           "</EmployeeQueryRs></QBXMLMsgsRs></QBXML>")
    err = _error(tmp_path, "e.xml", xml)
    assert [(p.row, p.column) for p in err.problems] == [(1, "ListID"), (2, "Name")]


def test_qbo_export_bad_status_names_row_and_column(tmp_path):
    err = _error(tmp_path, "c.csv", "Customer,Status\nAcme,Active\nBeta,Paused\n,Active\n")
    assert [(p.row, p.column) for p in err.problems] == [(4, "Customer"), (3, "Status")]


def test_missing_paths_are_all_named(tmp_path):
    with pytest.raises(InputError) as info:
        read_qb_lists([tmp_path / "nope.json", tmp_path / "nada"])
    assert "nope.json" in str(info.value) and "nada" in str(info.value)


def test_folder_without_list_files_is_an_error(tmp_path):
    (tmp_path / "a.txt").write_text("hello")
    with pytest.raises(InputError, match="holds no QuickBooks list file"):
        read_qb_lists(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="is empty"):
        read_qb_lists(empty)


def test_online_and_desktop_lists_cannot_be_mixed(tmp_path):
    (tmp_path / "Customer.json").write_bytes(qbo_json("Customer", qbo_customers(CUSTOMERS)))
    (tmp_path / "lists.IIF").write_bytes(iif(CUSTOMERS))
    with pytest.raises(InputError, match="QuickBooks Online and QuickBooks Desktop") as info:
        read_qb_lists(tmp_path)
    assert "Customer.json" in str(info.value) and "lists.IIF" in str(info.value)


def test_a_broken_file_inside_a_folder_is_still_an_error(tmp_path):
    (tmp_path / "ok.json").write_bytes(qbo_json("Customer", qbo_customers(CUSTOMERS)))
    (tmp_path / "broken.json").write_text('{"QueryResponse": ')
    with pytest.raises(InputError, match=r"broken\.json"):
        read_qb_lists(tmp_path)


def test_inputs_are_not_modified_and_results_are_fresh(tmp_path):
    path = tmp_path / "Customer.json"
    path.write_bytes(qbo_json("Customer", qbo_customers(CUSTOMERS)))
    before = path.read_bytes()
    a, b = read_qb_lists(path), read_qb_lists(path)
    assert path.read_bytes() == before
    pd.testing.assert_frame_equal(a.customers, b.customers)
    a.customers.loc[0, S.NAME] = "changed"
    assert b.customers.loc[0, S.NAME] != "changed"
