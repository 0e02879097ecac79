"""Name normalization: tables of names and their keys, and the idempotence property."""

import doctest

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import qbrecon.normalize as N
from qbrecon.normalize import company_keys, fold, normalize_company, normalize_person, person_keys


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("John Smith", "john smith"),
        ("  JOHN   SMITH ", "john smith"),
        ("Smith, John", "john smith"),
        ("Smith, John, Jr.", "john smith"),
        ("Dr. Ana María López", "ana maria lopez"),
        ("mirac.cicek", "mirac cicek"),
        ("Miraç Çiçek", "mirac cicek"),
        ("İsmail Işık", "ismail isik"),
        ("j_smith", "j smith"),
        ("ana.lopez@example.com", "ana lopez"),
        ("DUPONT Marie", "marie dupont"),
        ("R. Chen", "r chen"),
        ("O'Brien, Pat", "pat obrien"),
        ("Pat O\u2019Brien", "pat obrien"),
        ("Emily Platt (deleted)", "emily platt"),
        ('Robert "Bob" Chen', "robert bob chen"),
        ("Robert (Bob) Chen", "robert chen"),
        ("Jane Roe, LLC", "jane roe"),
        ("Søren Kierkegaard", "soren kierkegaard"),
        ("Straße", "strasse"),
        ("", ""),
        # led by a sign: not an e-mail address, and never an empty key
        ("@Ada", "ada"),
        ("=Ada", "ada"),
        ("+Ada", "ada"),
        ("-Ada", "ada"),
        ("@@x", "x"),
        ("=@J", "j"),
        ("a@b.example", "a"),
        # names the recipe would wipe out keep their words
        ("(Bob)", "bob"),
        ("Dr. (Bob)", "bob"),
        ("Dr.", "dr"),
        ("Jr", "jr"),
        ("Dr. Jr.", "dr jr"),
        # no letter or digit: no key (such a name matches only itself)
        ("-", ""),
        ("&", ""),
        ("@", ""),
    ],
)
def test_person_keys(name, key):
    assert normalize_person(name) == key


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Acme & Sons, LLC", "acme and sons"),
        ("Acme and Sons", "acme and sons"),
        ("The Acme Group LLC", "acme group"),
        ("ACME, Inc.", "acme"),
        ("Acme Co.", "acme"),
        ("Acme Corporation", "acme"),
        ("Widgets Ltd Inc", "widgets"),
        ("Smith & Co", "smith and co"),
        ("Smith and Company", "smith and co"),
        ("Smith & Co. LLC", "smith and co"),
        ("Baykar Teknoloji A.Ş.", "baykar teknoloji"),
        ("Muebles Feijó S.L.", "muebles feijo"),
        ("Ops/Support - 2026", "ops support 2026"),
        ("Old Client (deleted)", "old client"),
        ("Inc", "inc"),  # never the whole name
        ("Acme Cox", "acme cox"),
        ("@Ada", "ada"),
        ("=Acme", "acme"),
        ("&", "and"),
        ("-", ""),
    ],
)
def test_company_keys(name, key):
    assert normalize_company(name) == key


def test_dba_names_give_both_parts_as_aliases():
    k = company_keys(pd.Series(["Jane Roe dba. Bright Path Consulting, LLC", "Plain Name"]))
    assert k.loc[0, "alias1"] == "jane roe"
    assert k.loc[0, "alias2"] == "bright path consulting"
    assert k.loc[1, "alias1"] == "" and k.loc[1, "alias2"] == ""


def test_person_keys_flags_and_variants():
    k = person_keys(pd.Series(["Smith, John Q.", "r.chen", "Ana"]))
    assert k["first_last"].tolist() == ["john smith", "r chen", ""]
    assert k["initial"].tolist() == ["j smith", "r chen", ""]
    assert k["is_initial"].tolist() == [False, True, False]
    assert k["swapped"].tolist() == [True, False, False]
    assert k["username"].tolist() == [False, True, False]
    assert k["sorted"].tolist() == ["john q smith", "chen r", "ana"]


def test_keys_keep_the_index_and_do_not_touch_the_input():
    s = pd.Series(["Smith, John", None, "Acme"], index=[10, 11, 12])
    before = s.copy()
    assert person_keys(s).index.tolist() == [10, 11, 12]
    assert company_keys(s).index.tolist() == [10, 11, 12]
    pd.testing.assert_series_equal(s, before)
    assert fold("  Ayşe  IŞIK ") == "ayse isik"


_NAMEISH = st.text(
    alphabet=st.sampled_from(list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                  "çÇşŞıİğĞöÖüÜéÉñßøæ0123456789 .,&'-/_@()\u00a0\u2019")),
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_NAMEISH, min_size=1, max_size=40))
def test_normalizing_twice_equals_once_for_people(names):
    once = person_keys(pd.Series(names))["key"]
    twice = person_keys(once)["key"]
    assert twice.tolist() == once.tolist()


@settings(max_examples=60, deadline=None)
@given(st.lists(_NAMEISH, min_size=1, max_size=40))
def test_normalizing_twice_equals_once_for_companies(names):
    once = company_keys(pd.Series(names))["key"]
    twice = company_keys(once)["key"]
    assert twice.tolist() == once.tolist()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(_NAMEISH, st.text(max_size=12)), min_size=1, max_size=40))
def test_a_name_with_a_letter_or_digit_never_gets_an_empty_key(names):
    has_word = [any(ch.isalnum() for ch in n) for n in names]
    people = person_keys(pd.Series(names))["key"]
    companies = company_keys(pd.Series(names))["key"]
    for n, word, p, c in zip(names, has_word, people, companies, strict=True):
        assert not word or (p != "" and c != ""), (n, p, c)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(max_size=30), min_size=1, max_size=30))
def test_any_text_folds_without_error_and_fold_is_idempotent(names):
    once = N.fold_series(pd.Series(names))
    assert N.fold_series(once).tolist() == once.tolist()
    assert len(person_keys(pd.Series(names))) == len(names)
    assert len(company_keys(pd.Series(names))) == len(names)


def test_docstring_examples_run():
    assert doctest.testmod(N, raise_on_error=False).failed == 0
