"""The review workbook written, edited with openpyxl as an accountant would, and read back;
the mapping store across two periods; the new-records files."""

import doctest
import zipfile

import matchkit as K
import pandas as pd
import pytest
from openpyxl import load_workbook

import qbrecon.review as R
from qbrecon import schema as S
from qbrecon.errors import InputError, SettingsError
from qbrecon.match import accept_matches, propose_new_records, remember, suggest_matches
from qbrecon.review import (
    read_mapping_store,
    read_review_decisions,
    read_review_workbook,
    write_mapping_store,
    write_new_records,
    write_review_workbook,
)


@pytest.fixture
def period1():
    e = K.entries([
        {"user": "Smith, John", "client": "Acme and Sons", "project": "Website", "hours": 3},
        {"user": "R. Chen", "client": "Acme and Sons", "project": "Maintenence"},
        {"user": "Zed Unknown", "client": "Initech", "project": "Portal"},
        {"user": "=HYPERLINK(\"http://x\")", "project": "+Internal"},
        {"user": "Emily Platt", "client": "Globex", "project": "Audit"},
    ])
    L = K.lists(["John Smith", "Robert Chen", "Rachel Chen", "Emily Platt (deleted)", "-Dash Person"],
                ["Jane Roe"],
                ["Acme & Sons, LLC", "Acme & Sons, LLC:Website", "Acme & Sons, LLC:Maintenance",
                 "Globex", "Globex:Audit", "Globex:Tax (deleted)"])
    return e, L


def _rows(ws):
    header = [c.value for c in ws[1]]
    return header, {ws.cell(row=r, column=1).value: r for r in range(2, ws.max_row + 1)}


def test_workbook_layout(period1, tmp_path):
    e, L = period1
    s = suggest_matches(e, L)
    p = write_review_workbook(s, tmp_path / "review.xlsx", lists=L)
    wb = load_workbook(p)
    assert wb.sheetnames == ["How to use", "Employees", "Customers", "QuickBooks names"]
    assert wb[R.NAMES_SHEET].sheet_state == "hidden"
    assert wb.active.title == "Employees"
    ws = wb["Employees"]
    header, rows = _rows(ws)
    assert header[:10] == [h for h, _ in R._COLS]
    assert ws.freeze_panes == "B2" and ws.auto_filter.ref.startswith("A1:")
    for h in R._HIDDEN:
        assert ws.column_dimensions[ws.cell(row=1, column=header.index(h) + 1).column_letter].hidden
    assert ws.column_dimensions["A"].width >= 20
    # one row per source name, coloured by band, safe matches pre-filled
    assert set(rows) == {"Smith, John", "R. Chen", "Zed Unknown", '=HYPERLINK("http://x")', "Emily Platt"}
    dec = header.index("decision") + 1
    band = header.index("band") + 1
    assert ws.cell(rows["Smith, John"], dec).value == "accept"
    assert ws.cell(rows["R. Chen"], dec).value is None
    assert ws.cell(rows["Emily Platt"], header.index("flags") + 1).value.startswith("inactive record")
    assert ws.cell(rows["Smith, John"], band).fill.fgColor.rgb.endswith(R.BAND_FILLS["exact"])
    assert ws.cell(rows["Zed Unknown"], band).fill.fgColor.rgb.endswith(R.BAND_FILLS["none"])
    assert ws.cell(rows["R. Chen"], header.index("candidate 2") + 1).value in ("Robert Chen", "Rachel Chen")
    # the decision dropdown lists the real QuickBooks names from the hidden sheet
    (dv,) = ws.data_validations.dataValidation
    assert dv.type == "list" and dv.formula1.startswith("'QuickBooks names'!$A$2:$A$")
    names = [c.value for c in wb[R.NAMES_SHEET]["A"][1:]]
    assert names[:2] == ["accept", "reject"] and {"Jane Roe", "Robert Chen", "-Dash Person"} <= set(names)
    last_row = int(dv.formula1.rsplit("$", 1)[1])
    assert "Emily Platt (deleted)" in names and "Emily Platt (deleted)" not in names[: last_row - 1]
    # cells starting with = + - @ are text, never formulas
    assert ws.cell(rows['=HYPERLINK("http://x")'], 1).data_type == "s"
    with zipfile.ZipFile(p) as z:
        xml = "".join(z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/"))
    assert "<f>" not in xml
    assert wb["Customers"].cell(_rows(wb["Customers"])[1]["+Internal"], 1).value == "+Internal"
    assert "need a decision" in " ".join(str(c.value) for c in wb["How to use"]["A"])


def test_workbook_round_trip_with_accountant_edits(period1, tmp_path):
    e, L = period1
    s = suggest_matches(e, L)
    p = write_review_workbook(s, tmp_path / "review.xlsx", lists=L)
    # the accountant: picks Robert Chen for "R. Chen", rejects Zed, leaves the formula-like
    # user blank, types a name that does not exist, and accepts an inactive suggestion
    wb = load_workbook(p)
    ws = wb["Employees"]
    header, rows = _rows(ws)
    dec = header.index("decision") + 1
    ws.cell(rows["R. Chen"], dec).value = "Robert Chen"
    ws.cell(rows["Zed Unknown"], dec).value = "reject"
    ws.cell(rows["Emily Platt"], dec).value = "accept"
    cw = wb["Customers"]
    ch, crows = _rows(cw)
    cdec = ch.index("decision") + 1
    cw.cell(crows["Acme and Sons:Maintenence"], cdec).value = "Acme & Sons, LLC:Maintenanse"
    cw.cell(crows["Initech:Portal"], cdec).value = "reject"
    cw.cell(crows["Globex:Audit"], cdec).value = "accept"
    wb.save(p)
    with pytest.raises(InputError) as info:
        read_review_workbook(p)
    err = info.value
    where = {(p_.row, p_.column) for p_ in err.problems}
    dl = ws.cell(1, dec).column_letter
    cl = cw.cell(1, cdec).column_letter
    assert where == {
        (rows['=HYPERLINK("http://x")'], f"Employees!{dl} (decision)"),  # left blank
        (rows["Emily Platt"], f"Employees!{dl} (decision)"),  # inactive record
        (crows["Acme and Sons:Maintenence"], f"Customers!{cl} (decision)"),  # unknown name
        (crows["+Internal"], f"Customers!{cl} (decision)"),  # left blank
    }
    assert "unknown QuickBooks name" in str(err) and "Maintenanse" in str(err)
    assert str(err).count("no decision") == 2 and str(p) in str(err)
    # fix them and read again
    wb = load_workbook(p)
    wb["Employees"].cell(rows['=HYPERLINK("http://x")'], dec).value = "reject"
    wb["Employees"].cell(rows["Emily Platt"], dec).value = "reject"
    wb["Customers"].cell(crows["Acme and Sons:Maintenence"], cdec).value = "acme & sons, llc:maintenance"
    wb["Customers"].cell(crows["+Internal"], cdec).value = "reject"
    wb.save(p)
    m = read_review_workbook(p)
    assert list(m.columns) == [*S.MAPPING_COLUMNS, S.QB_TYPE]
    got = dict(zip(m[S.SOURCE_NAME], m[S.QB_NAME], strict=True))
    assert got == {
        "Smith, John": "John Smith",
        "R. Chen": "Robert Chen",
        "Acme and Sons:Website": "Acme & Sons, LLC:Website",
        "Acme and Sons:Maintenence": "Acme & Sons, LLC:Maintenance",
        "Globex:Audit": "Globex:Audit",
    }
    assert m.loc[m[S.SOURCE_NAME] == "R. Chen", S.QB_ID].item() == "E2"
    d = read_review_decisions(p)
    rej = d[d[S.DECISION] == "rejected"]
    assert set(rej[S.SOURCE_NAME]) >= {"Zed Unknown", "Initech:Portal", "+Internal", '=HYPERLINK("http://x")'}
    # picking Robert Chen also rejects the suggestion it replaced (if that was another)
    chen = d[d[S.SOURCE_NAME] == "R. Chen"]
    assert chen.loc[chen[S.DECISION] == "accepted", S.HOW].item() in (
        "review: chose another name", "review: accepted suggestion")
    # rejected names become proposed new records, a new client before its project
    new = propose_new_records(s, decisions=d)
    assert {"Zed Unknown", "Portal", "Initech", "+Internal"} <= set(new[S.NAME])
    assert new.loc[new[S.NAME] == "Portal", S.PARENT_FULL_NAME].item() == "Initech"


def test_read_review_reports_files_that_are_not_workbooks(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_review_workbook(tmp_path / "missing.xlsx")
    bad = tmp_path / "bad.xlsx"
    bad.write_text("hello")
    with pytest.raises(InputError, match="not an Excel workbook"):
        read_review_workbook(bad)
    other = tmp_path / "other.xlsx"
    R.write_workbook(other, {"Sheet": pd.DataFrame({"a": [1]})})
    with pytest.raises(InputError, match="not a review workbook"):
        read_review_workbook(other)


def test_without_lists_the_dropdown_offers_the_suggested_names(tmp_path):
    s = suggest_matches(K.entries([{"user": "Jon Smith"}]), K.lists(["John Smith", "Joan Smith"]))
    p = write_review_workbook(s, tmp_path / "r.xlsx")
    wb = load_workbook(p)
    assert "Customers" not in wb.sheetnames
    names = [c.value for c in wb[R.NAMES_SHEET]["A"][3:]]
    assert sorted(names) == ["Joan Smith", "John Smith"]
    ws = wb["Employees"]
    header, rows = _rows(ws)
    ws.cell(rows["Jon Smith"], header.index("decision") + 1).value = "Joan Smith"
    wb.save(p)
    assert read_review_workbook(p)[S.QB_NAME].tolist() == ["Joan Smith"]
    assert read_review_workbook(p, allow_blank=True)[S.QB_NAME].tolist() == ["Joan Smith"]


@pytest.mark.parametrize("name", ["review.csv", "review", "review.xls", "review.xlsm",
                                  "review.xlsx.csv"])
def test_the_review_workbook_must_be_named_xlsx(period1, tmp_path, name):
    e, L = period1
    with pytest.raises(SettingsError, match=r"must end in \.xlsx") as info:
        write_review_workbook(suggest_matches(e, L), tmp_path / name, lists=L)
    assert name in str(info.value) and info.value.setting == "path"
    assert list(tmp_path.iterdir()) == []  # nothing written under the wrong name
    assert write_review_workbook(suggest_matches(e, L), tmp_path / "Review.XLSX").exists()


@pytest.mark.parametrize(
    ("kind", "source", "qb_names", "identical"),
    [
        ("employee", "Ada Lovelace Jr.", ["Ada Lovelace", "Ada Lovelace Jr."], "Ada Lovelace Jr."),
        ("employee", "Smith, John", ["John Smith", "Smith, John"], "Smith, John"),
        ("employee", "ada lovelace", ["Lovelace, Ada", "Ada Lovelace"], "Ada Lovelace"),
        ("customer", "Acme Inc", ["Acme", "Acme Inc"], "Acme Inc"),
        ("customer", "Acme Inc:Web", ["Acme", "Acme:Web", "Acme Inc", "Acme Inc:Web"], "Acme Inc:Web"),
    ],
)
def test_the_workbook_prefills_the_identical_record(tmp_path, kind, source, qb_names, identical):
    """Beside a record only the same after normalization, the identical one is suggested
    and pre-filled with accept, and reading the workbook back maps the name to it."""
    if kind == "employee":
        e, L = K.entries([{"user": source}]), K.lists(qb_names)
    else:
        client, _, project = source.rpartition(":")
        e, L = K.entries([{"client": client, "project": project}]), K.lists(customer_names=qb_names)
    p = write_review_workbook(suggest_matches(e, L), tmp_path / "review.xlsx", lists=L)
    ws = load_workbook(p)[R.KIND_SHEETS[kind]]
    header, rows = _rows(ws)
    row = rows[source]
    assert ws.cell(row, header.index("suggested QuickBooks name") + 1).value == identical
    assert ws.cell(row, header.index("decision") + 1).value == "accept"
    m = read_review_workbook(p)
    m = m[m[S.KIND] == kind]
    assert m[S.QB_NAME].tolist() == [identical]
    records = L.people() if kind == "employee" else L.customers
    assert m[S.QB_ID].tolist() == records.loc[records[S.FULL_NAME] == identical, S.QB_ID].tolist()


def test_formula_like_names_read_back_intact(tmp_path):
    """Names starting with = + - @ are quote-prefixed text cells and read back unchanged."""
    signed = ["=Ada", "+Ada", "-Ada", "@Ada"]
    e = K.entries([{"user": n, "client": "=Acme", "project": n} for n in signed])
    L = K.lists(signed, customer_names=["=Acme", *(f"=Acme:{n}" for n in signed)])
    s = suggest_matches(e, L)
    r1 = s[s[S.RANK] == 1]
    assert (r1[S.QB_NAME] == r1[S.SOURCE_NAME]).all() and (r1[S.BAND] == "exact").all()
    p = write_review_workbook(s, tmp_path / "review.xlsx", lists=L)
    wb = load_workbook(p)
    for title in ("Employees", "Customers"):
        ws = wb[title]
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith(("=", "+", "-", "@")):
                    assert (cell.data_type, cell.quotePrefix) == ("s", True), cell.coordinate
    with zipfile.ZipFile(p) as z:
        assert not any("<f>" in z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/"))
    m = read_review_workbook(p)
    got = set(zip(m[S.KIND], m[S.SOURCE_NAME], m[S.QB_NAME], strict=True))
    assert got == {("employee", n, n) for n in signed} | {("customer", f"=Acme:{n}", f"=Acme:{n}")
                                                           for n in signed}
    # an accountant picking a formula-like name from the dropdown: read back as that name
    ws = wb["Employees"]
    header, rows = _rows(ws)
    ws.cell(rows["=Ada"], header.index("decision") + 1).value = "@Ada"
    wb.save(p)
    m = read_review_workbook(p)
    assert m.loc[m[S.SOURCE_NAME] == "=Ada", S.QB_NAME].item() == "@Ada"


# ------------------------------------------------------------------ the store
def test_mapping_store_across_two_periods(period1, tmp_path):
    e, L = period1
    store_path = tmp_path / "mapping.csv"
    assert read_mapping_store(store_path).empty  # first period: no file yet
    s1 = suggest_matches(e, L, remembered=read_mapping_store(store_path))
    p = write_review_workbook(s1, tmp_path / "review1.xlsx", lists=L)
    wb = load_workbook(p)
    ws = wb["Employees"]
    header, rows = _rows(ws)
    dec = header.index("decision") + 1
    for name, value in (("R. Chen", "Rachel Chen"), ("Zed Unknown", "reject"),
                        ('=HYPERLINK("http://x")', "reject"), ("Emily Platt", "reject")):
        ws.cell(rows[name], dec).value = value
    cw = wb["Customers"]
    ch, crows = _rows(cw)
    for name in crows:
        if cw.cell(crows[name], ch.index("decision") + 1).value is None:
            cw.cell(crows[name], ch.index("decision") + 1).value = "reject"
    wb.save(p)
    store = remember(read_mapping_store(store_path), read_review_decisions(p), by="ana")
    write_mapping_store(store, store_path)
    again = read_mapping_store(store_path)
    pd.testing.assert_frame_equal(again, store)
    assert '=HYPERLINK("http://x")' in again[S.SOURCE_NAME].tolist()
    assert "'=HYPERLINK" in store_path.read_text(encoding="utf-8-sig")  # escaped in the CSV
    # period 2: the same names plus one new user; Rachel Chen has left QuickBooks
    e2 = pd.concat([e, K.entries([{"user": "New Person", "client": "Globex", "project": "Audit"}])],
                   ignore_index=True)
    emp = L.employees[L.employees[S.NAME] != "Rachel Chen"]
    from qbrecon.qblists import QBLists

    L2 = QBLists(employees=emp, vendors=L.vendors, customers=L.customers)
    s2 = suggest_matches(e2, L2, remembered=again)
    r1 = s2[(s2[S.RANK] == 1) & (s2[S.KIND] == "employee")].set_index(S.SOURCE_NAME)
    needs = set(r1.index[r1[S.NEEDS_REVIEW]])
    assert needs == {"New Person", "R. Chen"}  # the new name, and the remembered pair that went stale
    assert r1.loc["R. Chen", S.STALE] and "no longer in QuickBooks" in r1.loc["R. Chen", S.WHY]
    assert r1.loc["Smith, John", S.REMEMBERED] == "accepted"
    assert r1.loc["Zed Unknown", S.REMEMBERED] == "rejected" and not r1.loc["Zed Unknown", S.NEEDS_REVIEW]
    cust = s2[(s2[S.RANK] == 1) & (s2[S.KIND] == "customer")]
    assert not cust[S.NEEDS_REVIEW].any()
    m2 = accept_matches(s2)
    assert "Smith, John" in set(m2[S.SOURCE_NAME]) and "R. Chen" not in set(m2[S.SOURCE_NAME])


def test_mapping_store_reports_every_bad_row(tmp_path):
    p = tmp_path / "m.csv"
    p.write_text(
        "kind,source_name,decision,qb_id\n"
        "employee,Ann,accepted,E1\n"
        "robot,Bob,accepted,E2\n"
        "employee,,accepted,E3\n"
        "employee,Cy,maybe,E4\n"
        "employee,Ann,accepted,E5\n"
        "customer,Acme,accepted,\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as info:
        read_mapping_store(p)
    got = {(x.row, x.column) for x in info.value.problems}
    assert got == {(3, "kind"), (4, "source_name"), (5, "decision"), (6, "source_name"), (7, "qb_id")}
    (tmp_path / "x.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InputError, match="not a mapping store"):
        read_mapping_store(tmp_path / "x.csv")


# ------------------------------------------------------------- new records
def test_new_records_files(tmp_path):
    new = pd.DataFrame({
        S.KIND: ["employee", "employee", "customer", "customer"],
        S.NAME: ["Zed Unknown", "=Sneaky", "Initech", "Portal"],
        S.PARENT_FULL_NAME: ["", "", "", "Initech"],
        S.QB_TYPE: ["Employee", "Vendor", "Customer", "Customer"],
        S.FIRST_NAME: ["Zed", "", "", ""], S.LAST_NAME: ["Unknown", "", "", ""],
        S.EMAIL: ["zed@x.example", "", "", ""], S.HOURS: [1.0, 2.0, 0.0, 3.0],
        S.ENTRIES: [1, 2, 0, 3], S.SOURCE_NAME: ["Zed Unknown", "=Sneaky", "Initech", "Initech:Portal"],
    })
    csv_p = write_new_records(new, tmp_path / "new.csv")
    back = pd.read_csv(csv_p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert back[S.NAME].tolist() == ["Zed Unknown", "'=Sneaky", "Initech", "Portal"]
    x = write_new_records(new, tmp_path / "new.xlsx")
    ws = load_workbook(x).active
    assert [c.value for c in ws[1]][:3] == [S.KIND, S.NAME, S.PARENT_FULL_NAME]
    # a text cell with Excel's quote prefix: shown as typed, never evaluated
    sneaky = ws.cell(3, 2)
    assert (sneaky.value, sneaky.data_type, sneaky.quotePrefix) == ("=Sneaky", "s", True)
    iif = write_new_records(new, tmp_path / "new.iif").read_bytes().decode("cp1252")
    lines = iif.split("\r\n")
    assert lines[0] == "!EMP\tNAME\tFIRSTNAME\tLASTNAME\tEMAIL"
    assert lines[1] == "EMP\tZed Unknown\tZed\tUnknown\tzed@x.example"
    assert "!VEND\tNAME\tFIRSTNAME\tLASTNAME\tEMAIL" in lines
    assert lines[-3:] == ["CUST\tInitech", "CUST\tInitech:Portal", ""]
    with pytest.raises(InputError, match="IIF"):
        write_new_records(new.assign(**{S.NAME: ["Zed ☃", "a", "b", "c"]}), tmp_path / "bad.iif")
    with pytest.raises(InputError, match=r"\.csv, \.xlsx or \.iif"):
        write_new_records(new, tmp_path / "new.txt")


def test_docstring_examples_run():
    assert doctest.testmod(R, raise_on_error=False).failed == 0
