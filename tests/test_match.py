"""Match suggestions, acceptance, remembered decisions and "create missing"."""

import csv
import doctest
from pathlib import Path

import matchkit as K
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import qbrecon
import qbrecon.match as M
from qbrecon import schema as S
from qbrecon.errors import InputError, SettingsError
from qbrecon.match import (
    accept_matches,
    propose_new_records,
    remember,
    source_names,
    suggest_matches,
)
from qbrecon.normalize import fold_series, normalize_person

PAIRS = list(csv.DictReader(
    (Path(__file__).parent / "data" / "name_pairs.csv").read_text(encoding="utf-8").splitlines()))


def _case(r):
    names = r["qb_names"].split("|")
    if r["kind"] == "employee":
        emp = [n for n in names if not n.startswith("vendor:")]
        ven = [n.removeprefix("vendor:") for n in names if n.startswith("vendor:")]
        return K.entries([{"user": r["source"], "email": r["email"]}]), K.lists(emp, ven)
    client, _, project = r["source"].rpartition(":")
    return K.entries([{"client": client, "project": project}]), K.lists(customer_names=names)


@pytest.mark.parametrize("r", PAIRS, ids=[r["case"] for r in PAIRS])
def test_name_pair_table(r):
    """Right match first; close distractors never auto-accepted; thresholds hold."""
    entries, lists = _case(r)
    s = suggest_matches(entries, lists)
    s = s[s[S.KIND] == r["kind"]]
    top = s.iloc[0]
    expected = [x for x in r["expected"].split("|") if x]
    if expected:
        assert top[S.QB_NAME] in expected, s[[S.QB_NAME, S.SCORE, S.WHY]]
    mapping = accept_matches(s)
    if r["outcome"] == "auto":
        assert mapping[S.QB_NAME].tolist() == [top[S.QB_NAME]]
        assert top[S.BAND] in ("exact", "strong") and not top[S.NEEDS_REVIEW]
    else:
        assert mapping.empty, f"{r['case']}: auto-accepted {mapping[S.QB_NAME].tolist()}"
        assert top[S.NEEDS_REVIEW]


def test_suggestion_columns_and_evidence():
    e = K.entries([{"user": "Smith, John", "email": "js@firm.example", "client": "Acme", "project": "Web", "hours": 1.5},
                   {"user": "Smith, John", "client": "Acme", "project": "Web", "hours": 2.0},
                   {"user": "Nobody Here", "project": "Internal"}])
    L = K.lists(["John Smith", "Jane Smith"], ["Bright Path LLC"], ["Acme", "Acme:Web"])
    s = suggest_matches(e, L)
    assert list(s.columns[:7]) == S.SUGGESTION_COLUMNS
    assert list(s.columns) == list(S.SUGGESTION_DTYPES)
    john = s[(s[S.SOURCE_NAME] == "Smith, John") & (s[S.RANK] == 1)].iloc[0]
    assert (john[S.QB_ID], john[S.QB_TYPE], john[S.BAND], john[S.SCORE]) == ("E1", "Employee", "exact", 100.0)
    assert john[S.HOURS] == pytest.approx(3.5) and john[S.ENTRIES] == 2
    assert john[S.EMAIL] == "js@firm.example" and john[S.WHY] == M.WHY_SWAPPED
    web = s[s[S.SOURCE_NAME] == "Acme:Web"].iloc[0]
    assert (web[S.QB_NAME], web[S.QB_TYPE], web[S.CLIENT_MATCH]) == ("Acme:Web", "Customer", "Acme")
    nobody = s[s[S.SOURCE_NAME] == "Nobody Here"]
    assert len(nobody) == 1 and nobody.iloc[0][S.BAND] == "none" and nobody.iloc[0][S.QB_ID] == ""
    assert pd.isna(nobody.iloc[0][S.ACTIVE])
    # an entry without a project has no customer source name
    assert set(s.loc[s[S.KIND] == "customer", S.SOURCE_NAME]) == {"Acme:Web", "Internal"}


def test_inputs_are_not_mutated():
    e = K.entries([{"user": "Jon Smith", "client": "Acme", "project": "Web"}])
    L = K.lists(["John Smith"], customer_names=["Acme", "Acme:Web"])
    e0, c0 = e.copy(), L.customers.copy()
    store = remember(None, pd.DataFrame({"kind": ["employee"], "source_name": ["X"], "qb_id": ["E1"]}))
    st0 = store.copy()
    s = suggest_matches(e, L, remembered=store)
    s0 = s.copy()
    accept_matches(s)
    propose_new_records(s)
    pd.testing.assert_frame_equal(e, e0)
    pd.testing.assert_frame_equal(L.customers, c0)
    pd.testing.assert_frame_equal(store, st0)
    pd.testing.assert_frame_equal(s, s0)


def test_limit_and_ranks():
    e = K.entries([{"user": "Maria Garcia"}])
    L = K.lists(["Maria Garcia", "Mario Garcia", "Maria Gracia", "Marie Garcia", "Marta Garcia"])
    s = suggest_matches(e, L, limit=2)
    assert s[S.RANK].tolist() == [1]  # an exact hit is resolved before any fuzzy scoring
    s = suggest_matches(K.entries([{"user": "Mara Garcia"}]), L, limit=2)
    assert s[S.RANK].tolist() == [1, 2]
    assert s[S.SCORE].is_monotonic_decreasing


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"limit": 0}, SettingsError),
        ({"limit": "3"}, SettingsError),
        ({"limit": True}, SettingsError),
    ],
)
def test_bad_settings_raise_settings_error(kwargs, error):
    with pytest.raises(error, match="limit"):
        suggest_matches(K.entries([{"user": "A"}]), K.lists(["A"]), **kwargs)


def test_bad_inputs_raise_input_errors_naming_every_column():
    with pytest.raises(InputError) as info:
        suggest_matches(pd.DataFrame({"x": [1]}), K.lists())
    assert {p.column for p in info.value.problems} == {S.USER, S.CLIENT, S.PROJECT}
    with pytest.raises(InputError, match="QBLists"):
        suggest_matches(K.entries([{"user": "A"}]), {"employees": []})
    with pytest.raises(SettingsError, match="min_band"):
        accept_matches(suggest_matches(K.entries([{"user": "A"}]), K.lists(["A"])), min_band="none")
    with pytest.raises(InputError):
        accept_matches(pd.DataFrame({"kind": ["employee"]}))
    assert isinstance(SettingsError("x"), qbrecon.QbreconError)


def test_empty_entries_give_an_empty_frame():
    s = suggest_matches(K.entries([]), K.lists(["A"]))
    assert s.empty and list(s.columns) == list(S.SUGGESTION_DTYPES)
    assert accept_matches(s).empty


def test_two_source_names_wanting_one_record_are_flagged():
    e = K.entries([{"user": "John Smith"}, {"user": "Jon Smith"}, {"user": "Jane Doe"}])
    s = suggest_matches(e, K.lists(["John Smith", "Jane Doe"]))
    r1 = s[s[S.RANK] == 1].set_index(S.SOURCE_NAME)
    assert r1.loc["John Smith", S.CONFLICT] and r1.loc["Jon Smith", S.CONFLICT]
    assert not r1.loc["Jane Doe", S.CONFLICT]
    assert accept_matches(s)[S.SOURCE_NAME].tolist() == ["Jane Doe"]


def test_spellings_that_normalize_alike_are_not_a_conflict():
    e = K.entries([{"user": "John Smith"}, {"user": "JOHN SMITH "}, {"user": "Smith, John"}])
    s = suggest_matches(e, K.lists(["John Smith"]))
    assert not s[S.CONFLICT].any()
    assert len(accept_matches(s)) == 3


def test_min_band_controls_what_is_accepted():
    e = K.entries([{"user": "John Smith"}, {"user": "Jon Smithrs"}, {"user": "Rob Johnson"}])
    L = K.lists(["John Smith", "Robert Johnson", "Jon Smithers"])
    s = suggest_matches(e, L)
    exact = accept_matches(s, min_band="exact")[S.SOURCE_NAME].tolist()
    strong = accept_matches(s)[S.SOURCE_NAME].tolist()
    weak = accept_matches(s, min_band="weak")[S.SOURCE_NAME].tolist()
    assert exact == ["John Smith"]
    assert strong == ["John Smith", "Jon Smithrs"]
    assert weak == ["John Smith", "Jon Smithrs", "Rob Johnson"]


def test_vendors_are_matched_with_their_type():
    s = suggest_matches(K.entries([{"user": "Jane Roe"}]), K.lists(["John Smith"], ["Jane Roe"]))
    m = accept_matches(s)
    assert m[S.QB_TYPE].tolist() == ["Vendor"] and list(m.columns) == [*S.MAPPING_COLUMNS, S.QB_TYPE]


def test_client_project_is_matched_against_parent_and_leaf():
    L = K.lists(customer_names=["Acme", "Acme:Website", "Acme:Support", "Globex", "Globex:Website",
                                "Globex:Website:Phase 2"])
    e = K.entries([{"client": "ACME", "project": "website"},
                   {"client": "Globex", "project": "Websit"},
                   {"client": "Website", "project": "Phase 2"},
                   {"client": "Acme", "project": "Phase 2"}])
    s = suggest_matches(e, L)
    r1 = s[s[S.RANK] == 1].set_index(S.SOURCE_NAME)
    assert r1.loc["ACME:website", S.QB_NAME] == "Acme:Website"
    assert r1.loc["Globex:Websit", S.QB_NAME] == "Globex:Website"
    assert r1.loc["Website:Phase 2", S.QB_NAME] == "Globex:Website:Phase 2"  # client = immediate parent
    # a project filed under another client is not offered as a strong match
    assert r1.loc["Acme:Phase 2", S.BAND] == "weak"
    assert r1.loc["Acme:Phase 2", S.QB_NAME] == "Acme"


# ------------------------------------------------------------------ properties
_NAME = st.text(alphabet=st.sampled_from(list("abcdefghijklmnoprstuvyzçşıöüé ")), min_size=3, max_size=14)


@settings(max_examples=10, deadline=None)
@given(st.lists(_NAME, min_size=1, max_size=12, unique=True), st.lists(_NAME, max_size=12))
def test_an_identical_name_ranks_first_with_band_exact(names, others):
    names = [n for n in names if normalize_person(n)]
    if not names:
        return
    s = suggest_matches(K.entries([{"user": n} for n in names]), K.lists(names + others))
    top = s[s[S.RANK] == 1].set_index(S.SOURCE_NAME)
    assert (top[S.BAND] == "exact").all() and (top[S.SCORE] == 100.0).all()
    for n in names:  # the identical record is the first candidate
        first = top.loc[n.strip(), S.QB_NAME]
        assert first == n.strip() if n.strip() in names + others else _plain(first) == _plain(n)


# names with the signs people and spreadsheets put in front of names
_SIGNED = st.text(alphabet=st.sampled_from(list("abdeijlnorsyzçşıöé .,&'-@=+")), min_size=1,
                  max_size=14)


def _alike(n: str) -> list[str]:
    """QuickBooks names that normalize like ``n`` (or nearly) without being identical."""
    return [f"Dr. {n}", f"{n} Jr.", f"{n}, Jr.", n.upper(), f"The {n} Inc", f"{n} LLC"]


def _plain(name: str) -> str:
    return " ".join(name.split()).casefold()


@settings(max_examples=15, deadline=None)
@given(st.lists(_SIGNED, min_size=1, max_size=8, unique=True), st.lists(_SIGNED, max_size=8))
def test_an_identical_name_ranks_first_even_beside_names_that_normalize_alike(names, others):
    """The identical record is rank 1 with 100 / "exact", ahead of every record that is only
    the same after normalization; identical apart from case and spacing comes next."""
    names = [n for n in names if n.strip()]
    if not names:
        return
    # the identical records come last, so list order cannot be what puts them first
    qb = list(dict.fromkeys([*others, *(v for n in names for v in _alike(n)), *names]))
    e = K.entries([{"user": n, "project": n} for n in names])
    s = suggest_matches(e, K.lists(qb, customer_names=qb))
    top = s[s[S.RANK] == 1].set_index([S.KIND, S.SOURCE_NAME])
    for kind in ("employee", "customer"):
        for n in names:
            row = top.loc[(kind, n.strip())]
            assert (row[S.BAND], row[S.SCORE]) == ("exact", 100.0), (kind, n, row[S.QB_NAME])
            if n.strip() in qb:
                assert row[S.QB_NAME] == n.strip() and row[S.WHY].startswith(M.WHY_IDENTICAL)
            else:  # only " x" or "x " is listed: identical apart from spacing
                assert _plain(row[S.QB_NAME]) == _plain(n), (kind, n, row[S.QB_NAME])


@settings(max_examples=10, deadline=None)
@given(st.lists(_NAME, min_size=1, max_size=10), st.lists(_NAME, min_size=0, max_size=15),
       st.integers(min_value=1, max_value=4))
def test_no_duplicate_ranks_and_scores_in_range(users, qb_names, limit):
    e = K.entries([{"user": u, "client": u[:3], "project": u} for u in users])
    parents = sorted({q[:3] for q in qb_names})
    L = K.lists(qb_names, customer_names=parents + [f"{q[:3]}:{q}" for q in qb_names])
    s = suggest_matches(e, L, limit=limit)
    assert not s.duplicated([S.KIND, S.SOURCE_NAME, S.RANK]).any()
    assert s[S.SCORE].between(0, 100).all()
    assert (s.groupby([S.KIND, S.SOURCE_NAME])[S.RANK].agg(lambda r: list(r) == list(range(1, len(r) + 1)))).all()
    assert s.groupby([S.KIND, S.SOURCE_NAME]).size().max() <= limit
    assert ((s[S.SCORE] == 100) == (s[S.BAND] == "exact")).all()
    m = accept_matches(s)
    assert not m.duplicated([S.KIND, S.SOURCE_NAME]).any()


@pytest.mark.parametrize(
    ("kind", "source", "qb_names", "band", "qb_name"),
    [
        ("employee", "-", ["-", "&", "John Smith"], "exact", "-"),
        ("employee", "&", ["-", "John Smith"], "none", ""),
        ("employee", "--", ["-", "&"], "none", ""),
        ("employee", "@", ["@", "@Ada"], "exact", "@"),
        ("employee", "@Ada", ["@Ada", "Ada Lovelace"], "exact", "@Ada"),
        ("employee", "(Bob)", ["Bob", "(Bob)"], "exact", "(Bob)"),
        ("employee", "Dr.", ["Dr. Ada", "Dr."], "exact", "Dr."),
        ("customer", "&", ["and", "&", "Acme"], "exact", "&"),
        ("customer", "-", ["&", "Acme"], "none", ""),
        ("customer", "Acme:-", ["Acme", "Acme:-", "Acme:&"], "exact", "Acme:-"),
        ("customer", "Acme:/", ["Acme", "Acme:-"], "none", ""),
    ],
)
def test_names_without_letters_match_only_themselves(kind, source, qb_names, band, qb_name):
    """A name with no comparison key matches an identical record and nothing else."""
    if kind == "employee":
        e, L = K.entries([{"user": source}]), K.lists(qb_names)
    else:
        client, _, project = source.rpartition(":")
        e, L = K.entries([{"client": client, "project": project}]), K.lists(customer_names=qb_names)
    s = suggest_matches(e, L)
    top = s[(s[S.KIND] == kind) & (s[S.RANK] == 1)].iloc[0]
    assert (top[S.SOURCE_NAME], top[S.BAND], top[S.QB_NAME]) == (source, band, qb_name)
    assert top[S.SCORE] == {"exact": 100.0, "none": 0.0}.get(band, top[S.SCORE])
    if band == "none":
        assert len(s[s[S.KIND] == kind]) == 1 and top[S.NEEDS_REVIEW]


# ---------------------------------------------------------- remembered decisions
def test_remembered_decisions_apply_first_and_flag_stale_records():
    e = K.entries([{"user": "Bob"}, {"user": "Ann Lee"}, {"user": "Cy Young"}, {"user": "Dee Dee"}])
    L1 = K.lists(["Robert Chen", "Ann Lee", "Cyrus Young", "Dee Dee Ramone"])
    store = remember(None, pd.DataFrame({
        S.KIND: ["employee"] * 3, S.SOURCE_NAME: ["Bob", "Cy Young", "Dee Dee"],
        S.QB_ID: ["E1", "E3", "E4"], S.QB_NAME: ["Robert Chen", "Cyrus Young", "Dee Dee Ramone"]}),
        by="ana", how="review", at="2026-10-01T08:00:00Z")
    store = remember(store, pd.DataFrame({S.KIND: ["employee"], S.SOURCE_NAME: ["Ann Lee"],
                                          S.QB_ID: ["E2"], S.DECISION: ["rejected"]}), by="ana")
    s = suggest_matches(e, L1, remembered=store)
    r1 = s[s[S.RANK] == 1].set_index(S.SOURCE_NAME)
    assert r1.loc["Bob", S.QB_NAME] == "Robert Chen" and r1.loc["Bob", S.REMEMBERED] == "accepted"
    assert "remembered: accepted 2026-10-01 by ana" in r1.loc["Bob", S.WHY]
    assert not r1.loc["Bob", S.NEEDS_REVIEW]
    # the rejected pair is never suggested again, and that name counts as decided
    assert r1.loc["Ann Lee", S.BAND] == "none" and r1.loc["Ann Lee", S.REMEMBERED] == "rejected"
    assert not r1.loc["Ann Lee", S.NEEDS_REVIEW]
    m = accept_matches(s)
    assert dict(zip(m[S.SOURCE_NAME], m[S.QB_ID], strict=False)) == {"Bob": "E1", "Cy Young": "E3", "Dee Dee": "E4"}
    # next period: Cyrus Young became inactive, Dee Dee Ramone disappeared
    emp = K.people(["Robert Chen", "Ann Lee", "Cyrus Young"])
    emp.loc[2, S.ACTIVE] = False
    L2 = K.lists()
    L2 = qbrecon.QBLists(employees=emp)
    s2 = suggest_matches(e, L2, remembered=store)
    r2 = s2[s2[S.RANK] == 1].set_index(S.SOURCE_NAME)
    assert r2.loc["Cy Young", S.STALE] and r2.loc["Cy Young", S.NEEDS_REVIEW]
    assert "is inactive in QuickBooks" in r2.loc["Cy Young", S.WHY]
    assert r2.loc["Dee Dee", S.STALE] and "no longer in QuickBooks" in r2.loc["Dee Dee", S.WHY]
    assert set(accept_matches(s2)[S.SOURCE_NAME]) == {"Bob"}


def test_remember_replaces_and_keeps_pairs():
    first = remember(None, pd.DataFrame({S.KIND: ["customer"], S.SOURCE_NAME: ["Acme:Web"],
                                         S.QB_ID: ["C1"], S.QB_NAME: ["Acme:Web"]}), how="auto")
    assert list(first.columns) == S.STORE_COLUMNS and first[S.HOW].tolist() == ["auto"]
    assert first[S.DECIDED_AT].str.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$").all()
    second = remember(first, pd.DataFrame({
        S.KIND: ["customer", "customer"], S.SOURCE_NAME: ["Acme:Web", "Acme:Web"],
        S.QB_ID: ["C2", "C1"], S.DECISION: ["accepted", "rejected"]}), how="review")
    acc = second[second[S.DECISION] == "accepted"]
    assert acc[S.QB_ID].tolist() == ["C2"]
    assert second.loc[second[S.DECISION] == "rejected", S.QB_ID].tolist() == ["C1"]
    with pytest.raises(InputError, match="accepted"):
        remember(second, pd.DataFrame({S.KIND: ["customer"], S.SOURCE_NAME: ["x"], S.QB_ID: ["1"],
                                       S.DECISION: ["maybe"]}))


# ---------------------------------------------------------------- create missing
def test_propose_new_records_for_names_without_a_record():
    e = K.entries([
        {"user": "Smith, John", "email": "john@firm.example", "hours": 2},
        {"user": "ana.lopez"},
        {"user": "Ada Lovelace"},
        {"client": "Acme", "project": "New Portal", "hours": 3},
        {"client": "Initech", "project": "TPS Reports"},
        {"client": "Initech", "project": "Printers"},
        {"project": "Internal"},
    ])
    L = K.lists(["Ada Lovelace"], customer_names=["Acme Corporation", "Acme Corporation:Web"])
    s = suggest_matches(e, L)
    new = propose_new_records(s)
    assert list(new.columns) == S.NEW_RECORD_COLUMNS
    people = new[new[S.KIND] == "employee"].set_index(S.NAME)
    assert sorted(people.index) == ["Ana Lopez", "John Smith"]
    assert people.loc["John Smith", [S.FIRST_NAME, S.LAST_NAME, S.EMAIL]].tolist() == ["John", "Smith", "john@firm.example"]
    assert people.loc["John Smith", S.HOURS] == pytest.approx(2.0)
    cust = new[new[S.KIND] == "customer"]
    rows = list(zip(cust[S.NAME], cust[S.PARENT_FULL_NAME], strict=True))
    # the new client first, then its projects; Acme's project goes under the real customer
    assert rows.index(("Initech", "")) < rows.index(("Printers", "Initech"))
    assert ("TPS Reports", "Initech") in rows and ("Internal", "") in rows
    assert ("New Portal", "Acme Corporation") not in rows  # it has a weak candidate: review first
    decided = propose_new_records(s, decisions=pd.DataFrame({
        S.KIND: ["customer", "employee"], S.SOURCE_NAME: ["Acme:New Portal", "ana.lopez"],
        S.DECISION: ["rejected", "accepted"], S.QB_ID: ["C1", "E1"]}))
    rows = list(zip(decided[S.NAME], decided[S.PARENT_FULL_NAME], strict=True))
    assert ("New Portal", "Acme Corporation") in rows and ("Ana Lopez", "") not in rows


def test_source_names_match_the_suggestions():
    e = K.entries([{"user": "Ada", "client": "Acme", "project": "Web"}, {"user": "", "project": "Ops"},
                   {"user": "Bo", "client": "Acme", "project": ""}])
    n = source_names(e)
    assert n["customer_source"].tolist() == ["Acme:Web", "Ops", ""]
    assert n["employee_source"].tolist() == ["Ada", "", "Bo"]
    s = suggest_matches(e, K.lists())
    assert set(s[S.SOURCE_NAME]) == {"Ada", "Bo", "Acme:Web", "Ops"}


def test_cdist_chunks_bound_memory_and_give_the_same_answer(monkeypatch):
    names = [f"Person {chr(97 + i % 26)}{chr(97 + i // 26)} Lastname" for i in range(300)]
    users = [n.replace("Lastname", "Lastnme") for n in names[:40]]
    e = K.entries([{"user": u} for u in users])
    L = K.lists(names)
    whole = suggest_matches(e, L)
    monkeypatch.setattr(M, "CHUNK_CELLS", 700)  # two query rows per chunk
    chunked = suggest_matches(e, L)
    pd.testing.assert_frame_equal(whole, chunked)


def test_docstring_examples_run():
    assert doctest.testmod(M, raise_on_error=False).failed == 0


def test_accuracy_on_the_samples_and_no_wrong_auto_accept():
    """Rank-1 suggestions against data/samples/expected_matches.csv (the truth)."""
    from qbrecon.samples import samples_dir

    d = samples_dir()
    entries = pd.concat([qbrecon.read_time_entries(d / t) for t in ("clockify", "toggl", "harvest")],
                        ignore_index=True)
    for lists in (qbrecon.read_qb_lists(d / "qbo"), qbrecon.read_qb_lists(d / "qbd" / "lists.IIF")):
        s = suggest_matches(entries, lists)
        truth = pd.read_csv(d / "expected_matches.csv", dtype=str, keep_default_na=False)
        r1 = s[s[S.RANK] == 1]
        assert set(r1[S.SOURCE_NAME]) == set(truth[S.SOURCE_NAME])
        # compare folded names: the Desktop list has other ids than QuickBooks Online, and
        # Windows-1252 spellings ("Sule Yildiz" for "Şule Yıldız")
        got = truth.merge(r1, on=[S.KIND, S.SOURCE_NAME], suffixes=("_true", ""))
        same = fold_series(got[S.QB_NAME]) == fold_series(got["qb_name_true"])
        accuracy = same.mean()
        assert accuracy >= 0.95, got.loc[~same, [S.SOURCE_NAME, "qb_name_true", S.QB_NAME]]
        auto = truth.merge(accept_matches(s), on=[S.KIND, S.SOURCE_NAME], suffixes=("_true", ""))
        wrong = auto[fold_series(auto[S.QB_NAME]) != fold_series(auto["qb_name_true"])]
        assert wrong.empty, wrong
        assert len(auto) >= 0.8 * (truth[S.QB_ID] != "").sum()


def test_employee_and_vendor_sharing_an_id_are_two_records(tmp_path):
    """QuickBooks Online numbers each list on its own: Employee 7 and Vendor 7 both exist."""
    emp = K.people(["Ann Lee"], prefix="")
    ven = K.people(["Bo Ray"], prefix="")
    emp[S.QB_ID] = "7"
    ven[S.QB_ID] = "7"
    L = qbrecon.QBLists(employees=emp, vendors=ven)
    e = K.entries([{"user": "Ann Lee"}, {"user": "Bo Ray"}, {"user": "Bo R."}])
    store = remember(None, pd.DataFrame({
        S.KIND: ["employee", "employee"], S.SOURCE_NAME: ["Bo R.", "Ann Lee"], S.QB_ID: ["7", "7"],
        S.QB_TYPE: ["Vendor", "Employee"], S.DECISION: ["accepted", "rejected"]}))
    s = suggest_matches(e, L, remembered=store)
    r1 = s[s[S.RANK] == 1].set_index(S.SOURCE_NAME)
    assert (r1.loc["Bo R.", S.QB_NAME], r1.loc["Bo R.", S.QB_TYPE]) == ("Bo Ray", "Vendor")
    assert r1.loc["Ann Lee", S.BAND] == "none"  # only Employee 7 was rejected for Ann Lee
    assert (r1.loc["Bo Ray", S.QB_TYPE], r1.loc["Bo Ray", S.BAND]) == ("Vendor", "exact")
    assert not r1.loc["Bo Ray", S.CONFLICT] or r1.loc["Bo R.", S.REMEMBERED] == "accepted"
    from qbrecon.review import read_review_decisions, write_review_workbook

    p = write_review_workbook(suggest_matches(e, L), tmp_path / "r.xlsx", lists=L)
    d = read_review_decisions(p, allow_blank=True)
    acc = d[d[S.DECISION] == "accepted"].set_index(S.SOURCE_NAME)
    assert acc.loc["Ann Lee", S.QB_TYPE] == "Employee" and acc.loc["Bo Ray", S.QB_TYPE] == "Vendor"


@pytest.mark.parametrize(
    ("source", "first", "last"),
    [
        ("Smith, John", "John", "Smith"),
        ("Mary Jane Watson", "Mary", "Watson"),
        ("Pieter 't Hart", "Pieter", "'t Hart"),
        ("Ludwig van der Berg", "Ludwig", "van der Berg"),
        ("Anna de la Cruz", "Anna", "de la Cruz"),
        ("Van Morrison", "Van", "Morrison"),
        ("Cher", "Cher", ""),
    ],
)
def test_new_people_keep_family_name_particles(source, first, last):
    s = pd.DataFrame({"kind": ["employee"], "source_name": [source], "rank": [1], "qb_id": [""],
                      "qb_name": [""], "score": [0.0], "band": ["none"]})
    new = propose_new_records(s)
    assert new[[S.FIRST_NAME, S.LAST_NAME]].values.tolist() == [[first, last]]
