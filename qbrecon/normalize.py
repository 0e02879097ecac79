"""Name normalization for matching tracker names with QuickBooks names.

Two recipes, both vectorized over a pandas Series of names (scalar helpers wrap them):

* :func:`person_keys` for people (tracker users; QuickBooks employees and vendors):
  ``"Smith, John"``, ``"JOHN  SMITH"``, ``"john.smith"`` and ``"Dr. John Smith"`` all
  become ``"john smith"``.
* :func:`company_keys` for customers and projects: ``"Acme & Sons, LLC"`` and
  ``"The Acme and Sons Co."`` both become ``"acme and sons"``.

Both start with :func:`fold_series`: Unicode NFKC, straight quotes, QuickBooks Online's
`` (deleted)`` suffix removed, case folded, accents removed (Turkish dotless ``ı`` and
``İ`` included), whitespace collapsed.

The keys are *comparison keys*, never shown to users: qbrecon always displays and stores
the original names. Normalizing a key again gives the same key (tests check this
property), so keys can be compared with ``==`` for the "exact" band.

Example:
    >>> normalize_person("Smith, John")
    'john smith'
    >>> normalize_person("mirac.cicek") == normalize_person("Miraç Çiçek")
    True
    >>> normalize_company("Acme & Sons, LLC") == normalize_company("Acme and Sons")
    True
    >>> normalize_company("Baykar Teknoloji A.Ş.")
    'baykar teknoloji'
"""

from __future__ import annotations

import pandas as pd

from . import schema as S

# ------------------------------------------------------------------------------ folding
_QUOTES = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'",
        "\u00b4": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00a0": " ",
        "\u2007": " ", "\u202f": " ", "\u2010": "-", "\u2011": "-", "\u2012": "-",
        "\u2013": "-", "\u2014": "-", "\u2212": "-",
    }
)
# letters that do not decompose under NFKD but have an obvious ASCII reading
_LETTERS = str.maketrans(
    {
        "ı": "i", "İ": "I", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE",
        "đ": "d", "Đ": "D", "ł": "l", "Ł": "L", "ħ": "h", "Ħ": "H", "þ": "th", "Þ": "TH",
        "ð": "d", "Ð": "D",
    }
)
_DELETED = r"\s*\(deleted\)\s*$"
#: one word with an "@" after a local part that has a letter or digit
_EMAIL = r"[^@\s]*[^\W_][^@\s]*@\S*"
_COMBINING = "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"


def _as_text(names: pd.Series | list | tuple) -> pd.Series:
    s = names if isinstance(names, pd.Series) else pd.Series(list(names), dtype=object)
    return s.astype(S.STRING).fillna("")


def _case_kept(s: pd.Series) -> pd.Series:
    """NFKC, straight quotes and dashes, no `` (deleted)``, single spaces; case kept."""
    s = s.str.normalize("NFKC").str.translate(_QUOTES)
    s = s.str.replace(_DELETED, "", regex=True, case=False)
    return s.str.replace(r"\s+", " ", regex=True).str.strip()


def fold_series(names: pd.Series) -> pd.Series:
    """Fold each name for comparison: NFKC, quotes, `` (deleted)``, case, accents, spaces.

    Args:
        names: names as a Series (any dtype; NA becomes "").

    Returns:
        A new ``string`` Series on the same index.

    Example:
        >>> fold_series(pd.Series(["  Miraç  ÇİÇEK ", "Emily Platt (deleted)"])).tolist()
        ['mirac cicek', 'emily platt']
    """
    s = _case_kept(_as_text(names))
    return _fold_cased(s)


def _fold_cased(s: pd.Series) -> pd.Series:
    s = s.str.translate(_LETTERS).str.normalize("NFKD").str.replace(_COMBINING, "", regex=True)
    s = s.str.casefold().str.normalize("NFKC")
    return s.str.replace(r"\s+", " ", regex=True).str.strip()


def fold(name: str) -> str:
    """:func:`fold_series` for one name.

    Example:
        >>> fold("  Ayşe  Işık ")
        'ayse isik'
    """
    return str(fold_series(pd.Series([name])).iloc[0])


# ------------------------------------------------------------------------------ people
_TITLES = r"mr|mrs|ms|miss|mx|dr|prof|sir|madam"
_SUFFIXES = r"jr|sr|ii|iii|iv|md|phd|cpa|esq|dds|rn"
_LEGAL = (
    r"llc|l l c|pllc|llp|lp|inc|incorporated|ltd|limited|co|company|corp|corporation|plc|gmbh|"
    r"ag|kg|ug|sa|s a|sas|sarl|srl|sl|s l|spa|bv|nv|as|a s|ab|oy|oyj|aps|pty|pty ltd|pc|"
    r"ltd sti|sti|sanayi ve ticaret|san ve tic|sirketi|kft|sro|se|ohg|ek"
)


def person_keys(names: pd.Series) -> pd.DataFrame:
    """Comparison keys for people's names.

    The recipe (see the module docstring): fold; ``"Last, First"`` becomes
    ``"First Last"``; a username or e-mail address (``mirac.cicek``, ``j_smith``,
    ``ana@example.com``) becomes its words; an ALL-CAPS surname written first
    (``"DUPONT Marie"``) moves last; titles (Dr, Mr, Ms) and suffixes (Jr, III, CPA) and
    punctuation are dropped; apostrophes join (``O'Brien`` = ``OBrien``). A name with a
    letter or digit never gets an empty key: when the recipe would leave nothing
    (``"(Bob)"``, ``"Dr."``, ``"@Ada"``) its words are kept. A name without any (``"-"``)
    has the key "".

    Args:
        names: the names, as written.

    Returns:
        A frame on the same index with columns

        * ``key``: the normalized name, first name first (``"john q smith"``);
        * ``sorted``: its words in alphabetical order (what fuzzy scoring compares);
        * ``first_last``: first and last word only (middle names dropped), "" for one word;
        * ``initial``: first initial and last word (``"j smith"``), "" for one word;
        * ``is_initial``: the first word is a single letter (``"R. Chen"``);
        * ``swapped``: the name was written surname first;
        * ``username``: the name was a username or e-mail address.

    Example:
        >>> person_keys(pd.Series(["Smith, John Q.", "r.chen"]))[["key", "initial"]].values.tolist()
        [['john q smith', 'j smith'], ['r chen', 'r chen']]
    """
    cased = _case_kept(_as_text(names))
    # "DUPONT Marie": an all-caps first word followed by a word with lower case letters
    first, rest = _split_first(cased)
    caps_first = (
        first.str.fullmatch(r"[^\W\d_]{3,}(?:[-'][^\W\d_]+)*").fillna(False)
        & first.str.isupper()
        & rest.str.contains(r"[^\W\d_]", regex=True)
        & ~rest.str.isupper()
        & ~cased.str.contains(",", regex=False)
    )
    cased = cased.where(~caps_first, rest + " " + first)
    s = _fold_cased(cased)
    s = s.str.replace(r"\s*\(.*?\)\s*", " ", regex=True)  # "Robert (Bob) Chen": nickname aside
    # usernames and e-mail addresses: one word made of parts joined by . _ -; an address
    # needs a local part with a letter or digit ("@Ada" is a name, not an address)
    email = s.str.fullmatch(_EMAIL).fillna(False)
    s = s.where(~email, s.str.replace(r"@.*$", "", regex=True))
    username = s.str.fullmatch(r"[^\s._]+(?:[._]+[^\s._]+)+").fillna(False)
    s = s.where(~username, s.str.replace(r"[._]+", " ", regex=True))
    # "Last, First [, Jr.]": a comma not followed only by a suffix or a legal form
    after = s.str.extract(r"^[^,]*,(.*)$", expand=False).fillna("")
    after_words = after.str.replace(r"[^\w\s]", " ", regex=True).str.strip()
    only_suffix = after_words.str.fullmatch(
        rf"(?:(?:{_SUFFIXES}|{_LEGAL})\s*)*", case=False
    ).fillna(False)
    has_comma = s.str.contains(",", regex=False)
    swap = has_comma & ~only_suffix
    swapped = s.str.replace(r"^\s*([^,]+?)\s*,\s*([^,]+?)\s*(?:,(.*))?$", r"\2 \1 \3", regex=True)
    s = s.where(~swap, swapped)
    s = s.where(~(has_comma & only_suffix), s.str.replace(r",.*$", "", regex=True))
    s = s.str.replace("'", "", regex=False)
    s = s.str.replace(r"[^\w]+|_", " ", regex=True)
    s = s.str.replace(rf"\b(?:{_TITLES}|{_SUFFIXES})\b", " ", regex=True)
    key = s.str.replace(r"\s+", " ", regex=True).str.strip()
    # a key is never empty while the name has a letter or digit: a name the recipe would
    # wipe out ("(Bob)", "@@x") keeps its words without titles and suffixes, and a name
    # made only of those ("Dr.", "Jr") keeps them all. Both fallbacks are keys of
    # themselves, so normalizing twice still equals once.
    loose = _fold_cased(cased).str.replace("'", "", regex=False)
    loose = loose.str.replace(r"[^\w]+|_", " ", regex=True)
    bare = loose.str.replace(rf"\b(?:{_TITLES}|{_SUFFIXES})\b", " ", regex=True)
    bare = bare.str.replace(r"\s+", " ", regex=True).str.strip()
    loose = loose.str.replace(r"\s+", " ", regex=True).str.strip()
    key = key.where(key != "", bare.where(bare != "", loose))
    words = key.str.split(" ")
    n = words.str.len()
    first_w = words.str[0].fillna("")
    last_w = words.str[-1].fillna("")
    multi = n >= 2
    out = pd.DataFrame(index=key.index)
    out["key"] = key
    out["sorted"] = _sorted_words(key)
    out["first_last"] = (first_w + " " + last_w).where(multi, "")
    out["initial"] = (first_w.str[:1] + " " + last_w).where(multi, "")
    out["is_initial"] = (first_w.str.len() == 1) & multi
    out["swapped"] = (swap | caps_first).astype(bool)
    out["username"] = (username | email).astype(bool)
    for col in ("key", "sorted", "first_last", "initial"):
        out[col] = out[col].astype(S.STRING)
    return out


def normalize_person(name: str) -> str:
    """The comparison key of one person's name (see :func:`person_keys`).

    Example:
        >>> normalize_person("DUPONT Marie"), normalize_person("Robert \\"Bob\\" Chen Jr.")
        ('marie dupont', 'robert bob chen')
    """
    return str(person_keys(pd.Series([name]))["key"].iloc[0])


# --------------------------------------------------------------------------- companies
_DBA = r"\s+(?:dba\.?|d\s*/\s*b\s*/\s*a|doing business as|t/a|trading as)\s+"


def company_keys(names: pd.Series) -> pd.DataFrame:
    """Comparison keys for company, customer and project names.

    The recipe: fold; dotted abbreviations close up (``A.Ş.`` → ``as``, ``L.L.C.`` →
    ``llc``); legal forms at the end are removed, repeatedly (``Widgets Ltd Inc`` →
    ``widgets``) but never the whole name, and ``& Co`` at the end is kept as part of the
    name; ``&`` → ``and``; a leading "the" goes; other punctuation (``/``, ``-``, ``.``)
    becomes a space and apostrophes join. A ``"X dba Y"`` name also yields ``X`` and ``Y``
    as aliases.

    Args:
        names: the names, as written (one level: no ``:`` hierarchy).

    Returns:
        A frame on the same index with columns ``key``, ``sorted`` (words in alphabetical
        order), ``alias1`` and ``alias2`` (the parts of a "dba" name, else "").

    Example:
        >>> company_keys(pd.Series(["Jane Roe dba. Bright Path Consulting, LLC"])).iloc[0].tolist()
        ['jane roe dba bright path consulting', 'bright consulting dba jane path roe', 'jane roe', 'bright path consulting']
    """
    s = fold_series(names)
    s = s.str.replace(r"\b([a-z])\.(?=[a-z]\b)", r"\1", regex=True)  # l.l.c. -> llc.
    parts = s.str.split(_DBA, n=1, regex=True)
    has_dba = parts.str.len() > 1
    key = _company_core(s.str.replace(_DBA, " dba ", regex=True))
    a1 = _company_core(parts.str[0].fillna("")).where(has_dba, "")
    a2 = _company_core(parts.str[-1].fillna("")).where(has_dba, "")
    out = pd.DataFrame(index=s.index)
    out["key"] = key.astype(S.STRING)
    out["sorted"] = _sorted_words(key).astype(S.STRING)
    out["alias1"] = a1.astype(S.STRING)
    out["alias2"] = a2.astype(S.STRING)
    return out


def _company_core(s: pd.Series) -> pd.Series:
    s = s.str.replace("'", "", regex=False)
    s = s.str.replace("&", " & ", regex=False).str.replace("+", " & ", regex=False)
    s = s.str.replace(r"[^\w&]+|_", " ", regex=True)
    s = s.str.replace(r"\s+", " ", regex=True).str.strip()
    # "& Co" / "and Company" is part of the name, not a legal form: shield it
    s = s.str.replace(r"(?:&|\band)\s+(?:co|company)\b", " _andco_ ", regex=True)
    s = s.str.replace(r"\s+", " ", regex=True).str.strip()
    s = s.str.replace(rf"^(.+?)(?:\s+(?:{_LEGAL}))+$", r"\1", regex=True)
    s = s.str.replace("_andco_", "and co", regex=False)
    s = s.str.replace("&", " and ", regex=False)
    s = s.str.replace(r"^the\s+(?=\S)", "", regex=True)
    return s.str.replace(r"\s+", " ", regex=True).str.strip()


def normalize_company(name: str) -> str:
    """The comparison key of one company or project name (see :func:`company_keys`).

    Example:
        >>> normalize_company("The Acme Group, Inc."), normalize_company("Smith & Co")
        ('acme group', 'smith and co')
    """
    return str(company_keys(pd.Series([name]))["key"].iloc[0])


# ------------------------------------------------------------------------------ helpers
def _split_first(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    parts = s.str.split(" ", n=1)
    first = parts.str[0].astype(S.STRING).fillna("")
    rest = parts.str[1].astype(S.STRING).fillna("")
    return first, rest


def _sorted_words(s: pd.Series) -> pd.Series:
    # sorting words is the one step pandas has no string method for: done once per name
    values = [" ".join(sorted(v.split())) for v in s.astype(object).fillna("").tolist()]
    return pd.Series(values, index=s.index, dtype=S.STRING)


__all__ = [
    "company_keys",
    "fold",
    "fold_series",
    "normalize_company",
    "normalize_person",
    "person_keys",
]
