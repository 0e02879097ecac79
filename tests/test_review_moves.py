"""The review workbook after an accountant sorts, filters or rearranges its rows in Excel.

Each workbook is written by qbrecon, edited with openpyxl the way Excel edits it (a sort
moves the rows of the filter range, an older sort or a cut/paste moves only the visible
cells), saved, and read back: the decisions must be those of the untouched workbook.
"""

import matchkit as K
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.cell import range_boundaries

import qbrecon
from qbrecon import schema as S
from qbrecon._io import escape_cell, unescape_text
from qbrecon.errors import InputError
from qbrecon.review import (
    read_mapping_store,
    read_review_decisions,
    read_review_workbook,
    write_mapping_store,
    write_review_workbook,
)
from qbrecon.samples import samples_dir

SHEETS = ("Employees", "Customers")


# ------------------------------------------------------------------ helpers
def _header(ws) -> list[str]:
    return [c.value for c in ws[1]]


def _visible_width(ws) -> int:
    """The columns an accountant sees (the hidden ones follow them)."""
    return sum(1 for h in _header(ws) if not str(h).startswith("_"))


def _rows(ws, first: int, last: int, ncols: int) -> list[list]:
    return [[ws.cell(r, c).value for c in range(1, ncols + 1)] for r in range(first, last + 1)]


def _put_rows(ws, first: int, rows: list[list]) -> None:
    for i, row in enumerate(rows, start=first):
        for c, v in enumerate(row, start=1):
            ws.cell(i, c).value = v


def _data_rows(ws) -> int:
    return max(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value is not None)


def excel_sort(ws) -> None:
    """Data → Sort on the filtered table: every row of the filter range moves whole."""
    _c1, r1, c2, r2 = range_boundaries(ws.auto_filter.ref)
    rows = _rows(ws, r1 + 1, r2, c2)
    hours = _header(ws).index("hours")
    rows.sort(key=lambda row: (-(row[hours] or 0), str(row[0])))
    _put_rows(ws, r1 + 1, rows)


def visible_sort(ws) -> None:
    """An older sort that was given only the visible columns: the hidden cells stay put."""
    n = _visible_width(ws)
    rows = _rows(ws, 2, _data_rows(ws), n)
    rows.sort(key=lambda row: str(row[0]).casefold(), reverse=True)
    _put_rows(ws, 2, rows)


def reverse_whole_rows(ws) -> None:
    rows = _rows(ws, 2, _data_rows(ws), ws.max_column)
    _put_rows(ws, 2, rows[::-1])


def swap_two_visible(ws) -> None:
    """Cut/paste of two rows' visible cells (rows 2 and 3)."""
    n = _visible_width(ws)
    a, b = _rows(ws, 2, 2, n)[0], _rows(ws, 3, 3, n)[0]
    _put_rows(ws, 2, [b, a])


def filter_rows(ws) -> None:
    """A filter that hides every other row: hidden rows are still decisions."""
    for r in range(2, _data_rows(ws) + 1, 2):
        ws.row_dimensions[r].hidden = True


MOVES = {
    "sorted as Excel sorts the filter range": excel_sort,
    "sorted on the visible columns only": visible_sort,
    "whole rows reversed": reverse_whole_rows,
    "two rows' visible cells swapped": swap_two_visible,
    "filtered": filter_rows,
}


def _decisions(path) -> pd.DataFrame:
    d = read_review_decisions(path)
    return d.sort_values([S.KIND, S.SOURCE_NAME, S.DECISION, S.QB_ID]).reset_index(drop=True)


def _mapping(path) -> dict:
    m = read_review_workbook(path)
    return {(k, s): (i, n, t) for k, s, i, n, t in
            zip(m[S.KIND], m[S.SOURCE_NAME], m[S.QB_ID], m[S.QB_NAME], m[S.QB_TYPE], strict=True)}


@pytest.fixture(scope="module")
def sample_workbook(tmp_path_factory):
    """The sample period's review workbook, every open row decided: blank ones rejected,
    and one pre-filled row changed to its second candidate."""
    d = samples_dir()
    files = sorted(p for p in d.glob("*/*") if p.suffix.lower() in (".csv", ".xlsx"))
    lists = qbrecon.read_qb_lists(d / "qbo")
    sugg = qbrecon.suggest_matches(qbrecon.read_time_entries(files), lists)
    path = tmp_path_factory.mktemp("review") / "review.xlsx"
    write_review_workbook(sugg, path, lists=lists)
    wb = load_workbook(path)
    for title in SHEETS:
        ws = wb[title]
        dec = _header(ws).index("decision") + 1
        for r in range(2, _data_rows(ws) + 1):
            if ws.cell(r, dec).value is None:
                ws.cell(r, dec).value = "reject"
    ws = wb["Employees"]
    h = _header(ws)
    dec, cand2 = h.index("decision") + 1, h.index("candidate 2") + 1
    r = next(r for r in range(2, _data_rows(ws) + 1)
             if ws.cell(r, dec).value == "accept" and ws.cell(r, cand2).value)
    ws.cell(r, dec).value = ws.cell(r, cand2).value
    wb.save(path)
    return path, lists


# ------------------------------------------------------------------ writing
def test_the_filter_covers_every_column_and_row(sample_workbook):
    path, _ = sample_workbook
    wb = load_workbook(path)
    for title in SHEETS:
        ws = wb[title]
        h = _header(ws)
        assert "_source" in h and "_suggested_id" in h and "_candidate_ids" in h
        assert ws.auto_filter.ref == f"A1:{get_column_letter(len(h))}{_data_rows(ws)}"
        # the dropdown stays on the decision column, whatever rows move
        (dv,) = ws.data_validations.dataValidation
        letter = get_column_letter(h.index("decision") + 1)
        assert {(r.min_col, r.max_col) for r in dv.sqref.ranges} == {
            (column_index_from_string(letter),) * 2}


# ------------------------------------------------------------------ reading
@pytest.mark.parametrize("move", list(MOVES), ids=list(MOVES))
def test_moved_rows_read_back_to_the_same_decisions(sample_workbook, tmp_path, move):
    path, lists = sample_workbook
    before = _decisions(path)
    moved = tmp_path / "moved.xlsx"
    wb = load_workbook(path)
    for title in SHEETS:
        MOVES[move](wb[title])
    wb.save(moved)
    pd.testing.assert_frame_equal(_decisions(moved), before)
    # and every accepted id is the record of the name reported beside it
    m = read_review_workbook(moved)
    people = lists.people().set_index(S.QB_ID)[S.FULL_NAME]
    emp = m[m[S.KIND] == "employee"]
    assert [people[i] for i in emp[S.QB_ID]] == emp[S.QB_NAME].tolist()


@pytest.mark.parametrize("visible_only", [False, True], ids=["whole row", "visible cells"])
def test_a_deleted_row_only_drops_its_own_decision(sample_workbook, tmp_path, visible_only):
    """Deleting a row, or only its visible cells with the cells below shifted up (the
    hidden cells below then sit one row off), leaves every other decision as it was."""
    path, _ = sample_workbook
    before = _decisions(path)
    wb = load_workbook(path)
    ws = wb["Employees"]
    gone = ws.cell(3, 1).value
    if visible_only:
        n, last = _visible_width(ws), _data_rows(ws)
        _put_rows(ws, 3, [*_rows(ws, 4, last, n), [None] * n])
    else:
        ws.delete_rows(3)
    out = tmp_path / "deleted.xlsx"
    wb.save(out)
    expected = before[~((before[S.KIND] == "employee") & (before[S.SOURCE_NAME] == gone))]
    pd.testing.assert_frame_equal(_decisions(out), expected.reset_index(drop=True))


def test_an_older_workbook_is_resolved_from_its_visible_names(sample_workbook, tmp_path):
    """A workbook written before rows carried ``_source``: swapped visible cells are still
    read by the names the accountant sees, not by the ids left behind."""
    path, _ = sample_workbook
    before = _mapping(path)
    wb = load_workbook(path)
    for title in SHEETS:
        ws = wb[title]
        ws.delete_cols(_header(ws).index("_source") + 1)
        visible_sort(ws)
    old = tmp_path / "old.xlsx"
    wb.save(old)
    assert _mapping(old) == before


# ------------------------------------------------------ names shared by two records
@pytest.fixture
def twins(tmp_path):
    """Two employees named "Pat Doe" (E1, E2), each suggested for another source name."""
    lists = K.lists(["Pat Doe", "Pat Doe", "Ann Lee", "Bo Chan"])
    sugg = pd.DataFrame({
        S.KIND: "employee",
        S.SOURCE_NAME: ["Pat Doe (Boston)", "Pat Doe (Austin)", "Ann L.", "Cy Unknown"],
        S.RANK: 1, S.QB_ID: ["E1", "E2", "E3", ""], S.QB_NAME: ["Pat Doe", "Pat Doe", "Ann Lee", ""],
        S.QB_TYPE: ["Employee", "Employee", "Employee", ""], S.SCORE: [95.0, 95.0, 80.0, 0.0],
        S.BAND: ["strong", "strong", "weak", "none"],
    })
    path = write_review_workbook(sugg, tmp_path / "twins.xlsx", lists=lists)
    wb = load_workbook(path)
    ws = wb["Employees"]
    dec = _header(ws).index("decision") + 1
    for r in range(2, _data_rows(ws) + 1):
        ws.cell(r, dec).value = "reject" if ws.cell(r, 1).value == "Cy Unknown" else "accept"
    wb.save(path)
    return path


def _row_of(ws, source: str) -> int:
    return next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == source)


def _swap_visible(ws, a: str, b: str) -> None:
    n = _visible_width(ws)
    ra, rb = _row_of(ws, a), _row_of(ws, b)
    va, vb = _rows(ws, ra, ra, n)[0], _rows(ws, rb, rb, n)[0]
    _put_rows(ws, ra, [vb])
    _put_rows(ws, rb, [va])


def test_rows_with_the_same_suggested_name_keep_their_own_records(twins, tmp_path):
    before = _mapping(twins)
    assert before[("employee", "Pat Doe (Boston)")][0] == "E1"
    assert before[("employee", "Pat Doe (Austin)")][0] == "E2"
    wb = load_workbook(twins)
    _swap_visible(wb["Employees"], "Pat Doe (Boston)", "Pat Doe (Austin)")
    moved = tmp_path / "moved.xlsx"
    wb.save(moved)
    assert _mapping(moved) == before


def test_names_that_do_not_identify_one_record_are_reported_with_every_problem(twins, tmp_path):
    """An older workbook (no ``_source``) whose visible cells moved onto another row's ids:
    "Pat Doe" names two records and the id beside it is neither, so the cell is reported;
    an edited suggested name that no record carries too; and a blank decision, all at once."""
    wb = load_workbook(twins)
    ws = wb["Employees"]
    h = _header(ws)
    ws.delete_cols(h.index("_source") + 1)
    _swap_visible(ws, "Pat Doe (Boston)", "Ann L.")
    h = _header(ws)
    sug, dec = h.index("suggested QuickBooks name") + 1, h.index("decision") + 1
    ws.cell(_row_of(ws, "Pat Doe (Austin)"), sug).value = "Nobody Atall"
    ws.cell(_row_of(ws, "Cy Unknown"), dec).value = None
    bad = tmp_path / "bad.xlsx"
    wb.save(bad)
    with pytest.raises(InputError) as info:
        read_review_workbook(bad)
    sl, dl = get_column_letter(sug), get_column_letter(dec)
    got = {(p.row, p.column, p.value) for p in info.value.problems}
    assert got == {
        (_row_of(ws, "Pat Doe (Boston)"), f"Employees!{sl} (suggested QuickBooks name)", "Pat Doe"),
        (_row_of(ws, "Pat Doe (Austin)"), f"Employees!{sl} (suggested QuickBooks name)",
         "Nobody Atall"),
        (_row_of(ws, "Cy Unknown"), f"Employees!{dl} (decision)", None),
    }
    assert "more than one QuickBooks record has this name" in str(info.value)
    assert str(bad) in str(info.value)
    # "Ann L." moved onto Pat Doe's hidden id, but its visible name is one record: used
    wb = load_workbook(bad)
    ws = wb["Employees"]
    ws.cell(_row_of(ws, "Pat Doe (Boston)"), dec).value = "reject"
    ws.cell(_row_of(ws, "Pat Doe (Austin)"), dec).value = "Pat Doe"
    ws.cell(_row_of(ws, "Cy Unknown"), dec).value = "Bo Chan"
    wb.save(bad)
    with pytest.raises(InputError) as info:
        read_review_workbook(bad)
    # a name the dropdown cannot tell apart, and rejecting a name that names two records
    assert {p.row for p in info.value.problems} == {_row_of(ws, "Pat Doe (Austin)"),
                                                   _row_of(ws, "Pat Doe (Boston)")}
    ws.cell(_row_of(ws, "Pat Doe (Boston)"), sug).value = None
    ws.cell(_row_of(ws, "Pat Doe (Austin)"), dec).value = "reject"
    ws.cell(_row_of(ws, "Pat Doe (Austin)"), sug).value = None
    wb.save(bad)
    assert _mapping(bad) == {("employee", "Ann L."): ("E3", "Ann Lee", "Employee"),
                             ("employee", "Cy Unknown"): ("E4", "Bo Chan", "Employee")}


# ------------------------------------------------- apostrophes in the mapping store
@pytest.mark.parametrize("name", ["'=odd:-5% promo", "''@x", "'+1", "'plain", "=cmd", "-5%", "@"])
def test_store_keeps_a_real_leading_apostrophe(tmp_path, name):
    d = pd.DataFrame({S.KIND: ["customer"], S.SOURCE_NAME: [name], S.DECISION: ["rejected"],
                      S.QB_ID: [""], S.QB_NAME: [""], S.QB_TYPE: [""]})
    store = qbrecon.remember(read_mapping_store(tmp_path / "none.csv"), d, by="ana", how="review")
    back = read_mapping_store(write_mapping_store(store, tmp_path / "store.csv"))
    assert back[S.SOURCE_NAME].tolist() == [name]


@given(st.text(alphabet="'=+-@a ", max_size=6))
def test_escaping_for_csv_round_trips_and_never_starts_a_formula(text):
    escaped = escape_cell(text)
    assert unescape_text(escaped) == text
    assert not escaped.startswith(("=", "+", "-", "@"))
