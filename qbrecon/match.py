"""Match tracker names with QuickBooks records: suggestions, decisions, remembered pairs.

The pure core of matching (DataFrames in, new DataFrames out; no files, no network):

* :func:`suggest_matches` — every tracker user and client/project with its best QuickBooks
  candidates, one candidate per row, with a score, a band and the evidence;
* :func:`accept_matches` — the mapping: the rank-1 candidates safe to take without a human;
* :func:`remember` — fold decisions (accepted and rejected pairs) into the mapping store,
  which :func:`suggest_matches` applies first next period (``remembered=``);
* :func:`propose_new_records` — the names with no QuickBooks record, as new employees and
  customers to create ("create missing").

Reading and writing the store, the review workbook and the new-records files are edges:
see :mod:`qbrecon.review`.

How candidates are found
------------------------
Names are normalized (:mod:`qbrecon.normalize`) and compared as keys. Exact key hits are
resolved first by joins; only the names without one are scored with rapidfuzz
``process.cdist`` (``fuzz.ratio`` on the words in alphabetical order, which equals
``token_sort_ratio``), on unique keys only, in chunks so memory stays bounded, on all cores.

* People (kind ``"employee"``) are matched against employees **and** vendors (contractors
  are vendors; ``qb_type`` says which, for ``NameOf``) on the display name, the first and
  last name fields, the parts of a "dba" name, initials (``R. Chen``), and the e-mail
  address when both sides have one.
* Customers (kind ``"customer"``): ``"Client:Project"`` is matched against the QuickBooks
  ``Parent:Child`` path (client to the leaf's parent, project to the leaf); the fuzzy step
  looks for the project only among the children of the customers that resemble the client.
  Its score is the weaker of the two halves. A project without a client is matched against
  customers and sub-customers alike. The customer matching the client alone is offered too
  (at most 65: "project not in QuickBooks"), never strong.

Scores and bands
----------------
``score`` is 0–100 and 100 only for identical names and keys identical after
normalization. Among candidates with the same score the identical name ranks first, then
the one identical apart from case and spacing, then those only the same after
normalization ("Ada Lovelace Jr." picks "Ada Lovelace Jr." before "Ada Lovelace"); such a
record is no near tie for an identical one. A name with no key ("-", "&") matches an
identical record and nothing else. Fixed scores for
key evidence: matched e-mail 98, name before/after "dba" 97, first+last fields 97, middle
name left out 96, e-mail local part equals the name 95, same e-mail local part 93,
initial + surname 85; fuzzy scores are capped at 99 (98 for the same words in another
order). Bands, chosen from the name-pair tables in the tests (see the README):

* ``"exact"`` — identical, or identical after normalization (score 100);
* ``"strong"`` — rank 1, score >= :data:`STRONG_MIN` (92 for people, 90 for customers)
  and at least :data:`STRONG_MARGIN` (8) points ahead of every other candidate;
* ``"weak"`` — any other candidate scoring >= :data:`WEAK_MIN` (60);
* ``"none"`` — no candidate: one row with an empty ``qb_id``.

Flags (never auto-accepted): ``conflict`` (another source name wants the same record),
``near_tie`` (an active runner-up within :data:`STRONG_MARGIN`), ``active`` False
(inactive record), ``stale`` (a remembered record that became inactive or disappeared).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from . import schema as S
from .errors import InputError, Problem, SettingsError
from .normalize import _EMAIL, company_keys, person_keys
from .qblists import QBLists

log = logging.getLogger("qbrecon")

EXACT_SCORE = 100.0
#: a rank-1 candidate is "strong" from this score on (per kind: person names are short,
#: and one letter can be another person: "Robert Chan" scores 90.9 against "Robert Chen") ...
STRONG_MIN = {"employee": 92.0, "customer": 90.0}
#: ... when it leads every other candidate by at least this many points
STRONG_MARGIN = 8.0
#: candidates below this score are not suggested
WEAK_MIN = 60.0
#: a fuzzy score from here on is called a "typo-level difference"
TYPO_MIN = 90.0
#: the client-only candidate of a "Client:Project" is scored at most this
CLIENT_ONLY_MAX = 65.0
#: projects are looked for under client candidates at most this far behind the best one
CLIENT_SPREAD = 15.0
#: score cells computed per cdist chunk (uint8): bounds memory to ~32 MB per chunk
CHUNK_CELLS = 1 << 25

WHY_IDENTICAL = "identical"
WHY_CASE = "same apart from case and spacing"
WHY_NORMALIZED = "same after normalization"
WHY_SWAPPED = "name order swapped"
WHY_USERNAME = "username matches name"
WHY_EMAIL = "matched email"
WHY_EMAIL_LOCAL = "matched email (local part)"
WHY_EMAIL_NAME = "email matches name"
WHY_GIVEN = "matches first and last name fields"
WHY_DBA = "matches the name before or after dba"
WHY_MIDDLE = "middle name left out"
WHY_INITIAL = "initial matches first name"
WHY_TYPO = "typo-level difference"
WHY_SIMILAR = "similar spelling"
WHY_CLIENT_ONLY = "client matches; project not in QuickBooks"
WHY_SPACING = "same apart from spacing"

_GENERIC_LOCAL = {
    "info", "admin", "office", "contact", "hello", "accounts", "accounting", "billing",
    "support", "team", "mail", "sales", "hr", "payroll", "noreply", "no-reply", "jobs",
}
_KIND_EMPLOYEE, _KIND_CUSTOMER = "employee", "customer"


# ============================================================================ sources
def source_names(entries: pd.DataFrame) -> pd.DataFrame:
    """The source names each entry is matched under.

    Args:
        entries: canonical time entries.

    Returns:
        A frame on the entries' index with ``entry_id``, ``employee_source`` (the user, ""
        when blank) and ``customer_source`` (``"Client:Project"``, or ``"Project"`` without
        a client, "" without a project) — the ``source_name`` values of
        :func:`suggest_matches` and of the mapping.

    Example:
        >>> e = pd.DataFrame({"entry_id": ["a", "b"], "user": ["Ada", "Bo"],
        ...                   "client": ["Acme", ""], "project": ["Web", "Ops"]})
        >>> source_names(e)["customer_source"].tolist()
        ['Acme:Web', 'Ops']
    """
    _require(entries, [S.USER, S.CLIENT, S.PROJECT], what="time entries")
    user = _text(entries[S.USER]).str.strip()
    client = _text(entries[S.CLIENT]).str.strip()
    project = _text(entries[S.PROJECT]).str.strip()
    customer = (client + ":" + project).where(client != "", project).where(project != "", "")
    out = pd.DataFrame(index=entries.index)
    if S.ENTRY_ID in entries.columns:
        out[S.ENTRY_ID] = entries[S.ENTRY_ID]
    out["employee_source"] = user.astype(S.STRING)
    out["customer_source"] = customer.astype(S.STRING)
    return out


def _sources(entries: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Unique people and client/project names with the hours and entries behind them."""
    names = source_names(entries)
    hours = _hours(entries)
    email = _text(entries[S.EMAIL]).str.strip() if S.EMAIL in entries.columns else None
    frame = pd.DataFrame(
        {
            "employee_source": names["employee_source"].to_numpy(),
            "customer_source": names["customer_source"].to_numpy(),
            "client": _text(entries[S.CLIENT]).str.strip().to_numpy(),
            "project": _text(entries[S.PROJECT]).str.strip().to_numpy(),
            S.EMAIL: (email.to_numpy() if email is not None else ""),
            S.HOURS: hours,
        }
    )
    people = frame[frame["employee_source"] != ""]
    ppl = (
        people.groupby("employee_source", sort=True)
        .agg(**{S.HOURS: (S.HOURS, "sum"), S.ENTRIES: (S.HOURS, "size")})
        .reset_index()
        .rename(columns={"employee_source": S.SOURCE_NAME})
    )
    # the address the user tracked with most often
    mails = people[people[S.EMAIL] != ""]
    if len(mails):
        top = (
            mails.groupby(["employee_source", S.EMAIL]).size().rename("n").reset_index()
            .sort_values(["employee_source", "n", S.EMAIL], ascending=[True, False, True])
            .drop_duplicates("employee_source")
            .set_index("employee_source")[S.EMAIL]
        )
        ppl[S.EMAIL] = ppl[S.SOURCE_NAME].map(top).fillna("")
    else:
        ppl[S.EMAIL] = ""
    cust = frame[frame["customer_source"] != ""]
    cst = (
        cust.groupby(["client", "project"], sort=True)
        .agg(**{
            S.SOURCE_NAME: ("customer_source", "first"),
            S.HOURS: (S.HOURS, "sum"),
            S.ENTRIES: (S.HOURS, "size"),
        })
        .reset_index()
    )
    # two client/project pairs can spell the same "A:B:C": keep them as one source name
    cst = cst.groupby(S.SOURCE_NAME, sort=True, as_index=False).agg(
        client=("client", "first"), project=("project", "first"),
        **{S.HOURS: (S.HOURS, "sum"), S.ENTRIES: (S.ENTRIES, "sum")},
    )
    for f in (ppl, cst):
        f[S.HOURS] = f[S.HOURS].round(2)
        f[S.ENTRIES] = f[S.ENTRIES].astype("int64")
    return ppl.reset_index(drop=True), cst.reset_index(drop=True)


def _hours(entries: pd.DataFrame) -> np.ndarray:
    if S.DURATION not in entries.columns:
        return np.zeros(len(entries))
    d = entries[S.DURATION]
    if not pd.api.types.is_timedelta64_dtype(d):
        d = pd.to_timedelta(d, errors="coerce")
    return (d.dt.total_seconds().fillna(0.0) / 3600.0).to_numpy()


# ============================================================================ scoring
def _topk(
    queries: list[str], choices: list[str], *, k: int, cutoff: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best ``k`` choices per query by ``fuzz.ratio``: (query index, choice index, score).

    Scores are computed by ``process.cdist`` on all cores into uint8 chunks of at most
    :data:`CHUNK_CELLS` cells, so memory stays bounded whatever the sizes.
    """
    if not queries or not choices:
        e = np.empty(0, dtype=np.int64)
        return e, e, np.empty(0, dtype=np.float64)
    n_choices = len(choices)
    k = min(k, n_choices)
    rows = max(1, CHUNK_CELLS // n_choices)
    qi, ci, sc = [], [], []
    for start in range(0, len(queries), rows):
        chunk = queries[start : start + rows]
        m = process.cdist(
            chunk, choices, scorer=fuzz.ratio, dtype=np.uint8, workers=-1,
            score_cutoff=int(cutoff),
        )
        if k < n_choices:
            idx = np.argpartition(m, n_choices - k, axis=1)[:, n_choices - k :]
        else:
            idx = np.broadcast_to(np.arange(n_choices), m.shape)
        vals = np.take_along_axis(m, idx, axis=1)
        keep = vals >= cutoff
        r = np.nonzero(keep)
        qi.append(r[0] + start)
        ci.append(idx[r])
        sc.append(vals[r].astype(np.float64))
    return np.concatenate(qi), np.concatenate(ci), np.concatenate(sc)


def _pair_ratio(a: pd.Series, b: pd.Series) -> np.ndarray:
    """``fuzz.ratio`` of aligned pairs (float, full precision), vectorized."""
    if len(a) == 0:
        return np.empty(0, dtype=np.float64)
    return process.cpdist(
        a.astype(object).tolist(), b.astype(object).tolist(), scorer=fuzz.ratio, workers=-1
    ).astype(np.float64)


def _fuzzy_why(score: np.ndarray, same_words: np.ndarray) -> np.ndarray:
    return np.where(same_words, WHY_SWAPPED, np.where(score >= TYPO_MIN, WHY_TYPO, WHY_SIMILAR))


def _half_why(score: np.ndarray) -> np.ndarray:
    return np.where(score >= EXACT_SCORE, "same",
                    np.where(score == 97.0, WHY_SPACING,
                             np.where(score >= TYPO_MIN, WHY_TYPO, WHY_SIMILAR)))


def _cap_fuzzy(score: np.ndarray, same_words: np.ndarray) -> np.ndarray:
    return np.where(same_words, 98.0, np.minimum(np.round(score, 1), 99.0))


# ============================================================================= people
def _people_records(lists: QBLists) -> pd.DataFrame:
    ppl = lists.people()
    rec = pd.DataFrame(
        {
            "rec": np.arange(len(ppl)),
            S.QB_ID: _text(ppl[S.QB_ID]),
            S.QB_NAME: _text(ppl[S.FULL_NAME]).where(_text(ppl[S.FULL_NAME]) != "",
                                                     _text(ppl[S.NAME])),
            S.QB_TYPE: _text(ppl[S.QB_TYPE]),
            S.ACTIVE: ppl[S.ACTIVE].astype(bool).to_numpy(),
        }
    )
    k = _keys(rec[S.QB_NAME], person_keys)
    for c in ("key", "sorted", "first_last", "initial", "is_initial"):
        rec[c] = k[c].to_numpy()
    given = (_text(ppl[S.FIRST_NAME]).str.strip() + " " + _text(ppl[S.LAST_NAME]).str.strip())
    gk = _keys(given.str.strip(), person_keys)
    rec["given"] = gk["key"].where(gk["key"].to_numpy() != rec["key"].to_numpy(), "").to_numpy()
    rec["given_sorted"] = gk["sorted"].to_numpy()
    ck = _keys(rec[S.QB_NAME], company_keys)
    rec["alias1"] = ck["alias1"].to_numpy()
    rec["alias2"] = ck["alias2"].to_numpy()
    mail = _text(ppl[S.EMAIL]).str.strip().str.casefold()
    rec["email"] = mail.where(mail.str.contains("@", regex=False), "").to_numpy()
    rec["email_local"] = _email_local(rec["email"])
    rec["email_name"] = _keys(rec["email"], person_keys)["key"].where(rec["email"] != "", "")
    rec["nospace"] = _nospace(rec["key"])
    rec["plain"] = _plain(rec[S.QB_NAME]).to_numpy()
    return rec


def _email_local(mail: pd.Series) -> pd.Series:
    local = _text(mail).str.extract(r"^([^@]+)@", expand=False).fillna("")
    local = local.where(local.str.len() >= 4, "")
    return local.where(~local.isin(_GENERIC_LOCAL), "")


def _people_pairs(src: pd.DataFrame, rec: pd.DataFrame, *, k: int, rejected) -> pd.DataFrame:
    """Candidate (source, record) pairs with score and why, for people."""
    sk = _keys(src[S.SOURCE_NAME], person_keys)
    s = pd.DataFrame({"src": np.arange(len(src))})
    for c in ("key", "sorted", "first_last", "initial", "is_initial", "swapped", "username"):
        s[c] = sk[c].to_numpy()
    mail = _text(src[S.EMAIL]).str.strip().str.casefold().reset_index(drop=True)
    s["email"] = mail.where(mail.str.contains("@", regex=False), "")
    s["email_local"] = _email_local(s["email"])
    s["email_name"] = _keys(s["email"], person_keys)["key"].where(s["email"] != "", "")
    s["nospace"] = _nospace(s["key"])
    s["plain"] = _plain(src[S.SOURCE_NAME]).to_numpy()

    # (source column, record column, score, why)
    joins = [
        ("plain", "plain", EXACT_SCORE, WHY_IDENTICAL),
        ("key", "key", EXACT_SCORE, WHY_NORMALIZED),
        ("email", "email", 98.0, WHY_EMAIL),
        ("key", "given", 97.0, WHY_GIVEN),
        ("nospace", "nospace", 97.0, WHY_SPACING),
        ("key", "alias1", 97.0, WHY_DBA),
        ("key", "alias2", 97.0, WHY_DBA),
        ("first_last", "first_last", 96.0, WHY_MIDDLE),
        ("email_name", "key", 95.0, WHY_EMAIL_NAME),
        ("email_local", "email_local", 93.0, WHY_EMAIL_LOCAL),
        ("key", "initial", 85.0, WHY_INITIAL),  # "R. Chen" -> Robert Chen, Rachel Chen
        ("initial", "key", 85.0, WHY_INITIAL),  # "Robert Chen" -> QuickBooks "R. Chen"
    ]
    found = [_join_pairs(s, rec, a, b, score, why) for a, b, score, why in joins]
    pairs = pd.concat(found, ignore_index=True)
    # secondary rules add nothing where the exact rule (or the full address) already holds
    si, ri = pairs["src"].to_numpy(), pairs["rec"].to_numpy()
    same_key = s["key"].to_numpy()[si] == rec["key"].to_numpy()[ri]
    same_mail = s["email"].to_numpy()[si] == rec["email"].to_numpy()[ri]
    redundant = (same_key & pairs["why"].isin([WHY_GIVEN, WHY_DBA, WHY_MIDDLE, WHY_INITIAL,
                                               WHY_EMAIL_NAME, WHY_SPACING]).to_numpy())
    redundant |= same_mail & (pairs["why"] == WHY_EMAIL_LOCAL).to_numpy()
    pairs = pairs[~redundant]
    pairs = _identical_first(pairs, src, rec)
    # the initial rules only hold where that side is written with an initial
    ini = pairs["why"] == WHY_INITIAL
    if ini.any():
        s_ini = s["is_initial"].to_numpy()[pairs["src"].to_numpy()]
        r_ini = rec["is_initial"].to_numpy()[pairs["rec"].to_numpy()]
        bad = ini & ~(s_ini | r_ini)
        pairs = pairs[~bad]
    # the exact key of names that are not identical: say why it is the same
    ex = pairs["why"] == WHY_NORMALIZED
    if ex.any():
        si = pairs.loc[ex, "src"].to_numpy()
        why = np.where(s["username"].to_numpy()[si], WHY_USERNAME,
                       np.where(s["swapped"].to_numpy()[si], WHY_SWAPPED, WHY_NORMALIZED))
        pairs.loc[ex, "why"] = why
    pairs = _drop_rejected(pairs, src, rec, rejected)
    exact_src = pd.unique(pairs.loc[pairs["score"] >= EXACT_SCORE, "src"])
    todo = s[~s["src"].isin(exact_src) & (s["sorted"] != "")]
    if len(todo):
        fz = _fuzzy_people(todo, rec, k=k)
        pairs = pd.concat([pairs, _drop_rejected(fz, src, rec, rejected)], ignore_index=True)
    return pairs


def _fuzzy_people(todo: pd.DataFrame, rec: pd.DataFrame, *, k: int) -> pd.DataFrame:
    choice = pd.concat(
        [
            pd.DataFrame({"rec": rec["rec"], "sorted": rec["sorted"], "c_key": rec["key"]}),
            pd.DataFrame({"rec": rec["rec"], "sorted": rec["given_sorted"], "c_key": rec["given"]}),
        ],
        ignore_index=True,
    )
    choice = choice[choice["sorted"] != ""]
    uq = pd.unique(todo["sorted"])
    uc = pd.unique(choice["sorted"])
    qi, ci, _ = _topk(list(uq), list(uc), k=k, cutoff=WEAK_MIN)
    hits = pd.DataFrame({"sorted": uq[qi], "c_sorted": uc[ci]})
    pairs = (
        todo[["src", "sorted", "key"]].merge(hits, on="sorted")
        .merge(choice.rename(columns={"sorted": "c_sorted"}), on="c_sorted")
    )
    # the same name in the same order is already an exact or first/last-name hit
    pairs = pairs[pairs["key"] != pairs["c_key"]]
    raw = _pair_ratio(pairs["sorted"], pairs["c_sorted"])
    same = (pairs["sorted"] == pairs["c_sorted"]).to_numpy()
    return pd.DataFrame(
        {
            "src": pairs["src"].to_numpy(),
            "rec": pairs["rec"].to_numpy(),
            "score": _cap_fuzzy(raw, same),
            "why": _fuzzy_why(raw, same),
        }
    )


# ========================================================================== customers
def _customer_records(lists: QBLists) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per customer, and one row per (customer, ancestor) path.

    A path row pairs an ancestor (the tracker's client) with the rest of the path below
    it (the tracker's project): ``Anadolu:Catalog 2027:Photography`` gives
    (``Anadolu``, ``Catalog 2027 Photography``) and (``Catalog 2027``, ``Photography``).
    """
    c = lists.customers
    full = _text(c[S.FULL_NAME]).where(_text(c[S.FULL_NAME]) != "", _text(c[S.NAME]))
    segs = full.str.split(":")
    leaf = segs.str[-1].astype(S.STRING).fillna("")
    depth = (segs.str.len().fillna(1).astype(int) - 1).to_numpy()
    prefix = full.str.rsplit(":", n=1).str[0].astype(S.STRING).fillna("")
    has_parent = depth > 0
    rec = pd.DataFrame(
        {
            "rec": np.arange(len(c)),
            S.QB_ID: _text(c[S.QB_ID]).to_numpy(),
            S.QB_NAME: full.to_numpy(),
            S.QB_TYPE: "Customer",
            S.ACTIVE: c[S.ACTIVE].astype(bool).to_numpy(),
            "parent_full": prefix.where(has_parent, "").to_numpy(),
        }
    )
    lk = _keys(leaf, company_keys)
    rec["leaf"] = lk["key"].to_numpy()
    rec["leaf_sorted"] = lk["sorted"].to_numpy()
    rec["leaf_ns"] = _nospace(lk["key"]).to_numpy()
    rec["alias1"] = lk["alias1"].to_numpy()
    rec["alias2"] = lk["alias2"].to_numpy()
    parent_leaf = prefix.str.rsplit(":", n=1).str[-1].astype(S.STRING).fillna("")
    rec["parent"] = _keys(parent_leaf.where(has_parent, ""), company_keys)["key"].to_numpy()
    rec["plain"] = _plain(full).to_numpy()
    # (ancestor, rest of the path) pairs, one level at a time (at most five levels)
    parts = []
    for i in range(int(depth.max()) if len(depth) else 0):
        ok = depth > i
        if not ok.any():
            break
        s = segs[ok]
        parts.append(pd.DataFrame({
            "rec": rec["rec"].to_numpy()[ok],
            "anc_full": s.str[: i + 1].str.join(":").to_numpy(),
            "anc_text": s.str[i].to_numpy(),
            "rest_text": s.str[i + 1 :].str.join(" ").to_numpy(),
        }))
    if parts:
        paths = pd.concat(parts, ignore_index=True)
        ak = _keys(paths["anc_text"], company_keys)
        rk = _keys(paths["rest_text"], company_keys)
        paths["anc"] = ak["key"].to_numpy()
        paths["anc_sorted"] = ak["sorted"].to_numpy()
        paths["anc_ns"] = _nospace(ak["key"]).to_numpy()
        paths["rest"] = rk["key"].to_numpy()
        paths["rest_sorted"] = rk["sorted"].to_numpy()
        paths["rest_ns"] = _nospace(rk["key"]).to_numpy()
        paths = paths.drop(columns=["anc_text", "rest_text"])
    else:
        paths = pd.DataFrame(columns=["rec", "anc_full", "anc", "anc_sorted", "anc_ns", "rest",
                                      "rest_sorted", "rest_ns"])
    return rec, paths


def _customer_pairs(src: pd.DataFrame, rec: pd.DataFrame, paths: pd.DataFrame, *, k: int,
                    rejected):
    ck = _keys(src["client"], company_keys)
    pk = _keys(src["project"], company_keys)
    s = pd.DataFrame(
        {
            "src": np.arange(len(src)),
            "client": ck["key"].to_numpy(),
            "client_sorted": ck["sorted"].to_numpy(),
            "client_ns": _nospace(ck["key"]).to_numpy(),
            "project": pk["key"].to_numpy(),
            "project_sorted": pk["sorted"].to_numpy(),
            "project_ns": _nospace(pk["key"]).to_numpy(),
            "plain": _plain(src[S.SOURCE_NAME]).to_numpy(),
        }
    )
    wc = s[s["client"] != ""]
    nc = s[s["client"] == ""]
    found = [
        _join_pairs(s, rec, "plain", "plain", EXACT_SCORE, WHY_IDENTICAL),
        _join_pairs(wc, paths, ["client", "project"], ["anc", "rest"], EXACT_SCORE, WHY_NORMALIZED),
        _join_pairs(wc, paths, ["client_ns", "project_ns"], ["anc_ns", "rest_ns"], 97.0,
                    WHY_SPACING),
        _join_pairs(wc, rec, ["client", "project"], ["parent", "alias1"], 97.0, WHY_DBA),
        _join_pairs(wc, rec, ["client", "project"], ["parent", "alias2"], 97.0, WHY_DBA),
        _join_pairs(nc, rec, "project", "leaf", EXACT_SCORE, WHY_NORMALIZED),
        _join_pairs(nc, rec, "project_ns", "leaf_ns", 97.0, WHY_SPACING),
        _join_pairs(nc, rec, "project", "alias1", 97.0, WHY_DBA),
        _join_pairs(nc, rec, "project", "alias2", 97.0, WHY_DBA),
    ]
    pairs = pd.concat(found, ignore_index=True).drop_duplicates(["src", "rec", "why"])
    # "same apart from spacing" says nothing new where the keys are the same anyway
    exact_pairs = pd.MultiIndex.from_frame(pairs.loc[pairs["score"] >= EXACT_SCORE, ["src", "rec"]])
    dup = (pairs["score"] < EXACT_SCORE) & pd.MultiIndex.from_frame(
        pairs[["src", "rec"]]).isin(exact_pairs)
    pairs = _identical_first(pairs[~dup], src, rec)
    pairs = _drop_rejected(pairs, src, rec, rejected)
    exact_src = pd.unique(pairs.loc[pairs["score"] >= EXACT_SCORE, "src"])
    todo = s[~s["src"].isin(exact_src) & (s["project_sorted"] != "")]
    client_best = pd.DataFrame(columns=["src", "rec", "score"])
    if len(todo):
        fz, client_best = _fuzzy_customers(todo, rec, paths, k=k)
        pairs = pd.concat([pairs, _drop_rejected(fz, src, rec, rejected)], ignore_index=True)
    return pairs, client_best


def _fuzzy_customers(todo: pd.DataFrame, rec: pd.DataFrame, paths: pd.DataFrame, *, k: int):
    out = []
    client_best = pd.DataFrame(columns=["src", "rec", "score"])
    # --- "Client:Project": the client first, among the customers that can be a client
    # (top-level customers and customers with sub-customers; unique keys only), then the
    # project among the paths below those customers
    wc = todo[todo["client"] != ""]
    if len(wc):
        heads = rec[(rec["parent_full"] == "") | rec[S.QB_NAME].isin(paths["anc_full"])]
        heads = heads[heads["leaf_sorted"] != ""]
        ch = _candidates(wc, heads, [("client_sorted", "leaf_sorted"), ("client_ns", "leaf_ns")],
                         k=max(k, 5))
        ch = ch.rename(columns={"score": "c_score"}).merge(
            rec[["rec", S.QB_NAME]].rename(columns={"rec": "head", S.QB_NAME: "anc_full"}),
            left_on="rec", right_on="head").drop(columns="rec")
        # look for the project only under the clients that could win: a client further than
        # CLIENT_SPREAD behind the best one cannot give the best (weaker-half) score
        best_c = ch.groupby("src")["c_score"].transform("max")
        near = ch[ch["c_score"] >= best_c - CLIENT_SPREAD]
        cand = near.merge(paths[["rec", "anc_full", "rest_sorted", "rest_ns"]], on="anc_full")
        if len(cand):
            srt = pd.Series(todo.set_index("src")["project_sorted"])
            nsp = pd.Series(todo.set_index("src")["project_ns"])
            a_s = srt.reindex(cand["src"]).reset_index(drop=True)
            a_n = nsp.reindex(cand["src"]).reset_index(drop=True)
            p_score = np.maximum(_pair_ratio(a_s, cand["rest_sorted"]),
                                 np.minimum(_pair_ratio(a_n, cand["rest_ns"]), 97.0))
            p_score = np.where(a_s.to_numpy() == cand["rest_sorted"].to_numpy(), EXACT_SCORE, p_score)
            c_score = cand["c_score"].to_numpy()
            score = np.minimum(np.minimum(c_score, p_score), 99.0)
            why = ("client " + _half_why(c_score).astype(object) + ", project "
                   + _half_why(p_score).astype(object))
            f = pd.DataFrame({"src": cand["src"].to_numpy(), "rec": cand["rec"].to_numpy(),
                              "score": np.round(score, 1), "why": why,
                              "tiebreak": (c_score + p_score) / 2.0})
            out.append(f[f["score"] >= WEAK_MIN])
        # the customer that matches the client alone (the project may be missing)
        client_best = ch.rename(columns={"c_score": "score", "head": "rec"})[["src", "rec", "score"]]
        only_score = np.round(np.minimum(client_best["score"].to_numpy() * 0.65, CLIENT_ONLY_MAX), 1)
        out.append(pd.DataFrame({"src": client_best["src"].to_numpy(),
                                 "rec": client_best["rec"].to_numpy(),
                                 "score": only_score, "why": WHY_CLIENT_ONLY}))
    # --- "Project" without a client: customers and sub-customers alike
    nc = todo[todo["client"] == ""]
    if len(nc):
        leaves = rec[rec["leaf_sorted"] != ""]
        hits = _candidates(nc, leaves, [("project_sorted", "leaf_sorted"), ("project_ns", "leaf_ns")],
                           k=k)
        same = (nc.set_index("src")["project_sorted"].reindex(hits["src"]).to_numpy()
                == rec["leaf_sorted"].to_numpy()[hits["rec"].to_numpy().astype(np.int64)])
        raw = hits["score"].to_numpy()
        out.append(pd.DataFrame({"src": hits["src"].to_numpy(), "rec": hits["rec"].to_numpy(),
                                 "score": _cap_fuzzy(raw, same), "why": _fuzzy_why(raw, same)}))
    if not out:
        return _no_pairs(), client_best
    return pd.concat(out, ignore_index=True), client_best


def _candidates(src: pd.DataFrame, rec: pd.DataFrame, keys, *, k: int) -> pd.DataFrame:
    """(src, rec, score): the best records per source over several key pairs.

    For each (source column, record column) pair the top ``k`` distinct record keys per
    distinct source key come from :func:`_topk`; the union is then rescored exactly on
    every key pair and the best score kept.
    """
    found = []
    for a, b in keys:
        left = src[src[a] != ""]
        right = rec[rec[b] != ""]
        uq, uc = pd.unique(left[a]), pd.unique(right[b])
        qi, ci, _ = _topk(list(uq), list(uc), k=k, cutoff=WEAK_MIN)
        hits = pd.DataFrame({a: uq[qi], b: uc[ci]})
        found.append(left[["src", a]].merge(hits, on=a).merge(right[["rec", b]], on=b)[["src", "rec"]])
    pairs = pd.concat(found, ignore_index=True).drop_duplicates()
    si = src.set_index("src")
    ri = rec.set_index("rec")
    best = np.zeros(len(pairs))
    for a, b in keys:
        x = si[a].reindex(pairs["src"]).reset_index(drop=True)
        y = ri[b].reindex(pairs["rec"]).reset_index(drop=True)
        r = _pair_ratio(x, y)
        if a.endswith("_ns"):  # equal without spaces is not equal: "same apart from spacing"
            r = np.minimum(r, 97.0)
        best = np.maximum(best, r)
    pairs = pairs.assign(score=np.round(best, 1))
    return pairs[pairs["score"] >= WEAK_MIN].reset_index(drop=True)


def _nospace(s: pd.Series) -> pd.Series:
    return _text(s).str.replace(" ", "", regex=False)


def _plain(s: pd.Series) -> pd.Series:
    """Names folded for case and spacing only (what "identical" means to a person).

    The same folding as :func:`qbrecon.mapping.normalize_key`: spaces collapsed and
    trimmed (also around the ``:`` of a ``Parent:Child`` name), case folded.
    """
    s = _text(s).str.replace(r"\s+", " ", regex=True).str.strip()
    return s.str.replace(r"\s*:\s*", ":", regex=True).str.casefold().reset_index(drop=True)


def _identical_first(pairs: pd.DataFrame, src: pd.DataFrame, rec: pd.DataFrame) -> pd.DataFrame:
    """Where two names are identical (apart from case and spacing) say so, and only that.

    The identical join and the normalized-key join both find such a pair; the key row
    says nothing more and is dropped. The identical row says "identical" when the text
    is the same, else "same apart from case and spacing".
    """
    ident = pairs["why"] == WHY_IDENTICAL
    if not ident.any():
        return pairs
    same = pd.MultiIndex.from_frame(pairs.loc[ident, ["src", "rec"]])
    dup = ~ident & (pairs["score"] >= EXACT_SCORE) & pd.MultiIndex.from_frame(
        pairs[["src", "rec"]]).isin(same)
    pairs = pairs[~dup.to_numpy()].copy()
    ident = pairs["why"] == WHY_IDENTICAL
    si = pairs.loc[ident, "src"].to_numpy().astype(np.int64)
    ri = pairs.loc[ident, "rec"].to_numpy().astype(np.int64)
    raw_same = src[S.SOURCE_NAME].to_numpy()[si] == rec[S.QB_NAME].to_numpy()[ri]
    pairs.loc[ident, "why"] = np.where(raw_same, WHY_IDENTICAL, WHY_CASE)
    return pairs


# ========================================================================= the frame
def suggest_matches(
    entries: pd.DataFrame,
    lists: QBLists,
    *,
    limit: int = 3,
    remembered: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Suggest QuickBooks records for every tracker user and client/project.

    Args:
        entries: canonical time entries (at least ``user``, ``client``, ``project``;
            ``email`` and ``duration`` are used when present).
        lists: the QuickBooks lists.
        limit: at most this many candidates per source name.
        remembered: the mapping store (:func:`qbrecon.read_mapping_store`): remembered
            accepted pairs are applied first and not scored again (unless their record
            became inactive or disappeared: then they are flagged ``stale`` and scored
            afresh), remembered rejected pairs are never suggested again.

    Returns:
        One candidate per row, best first per source name, with the columns of
        ``schema.SUGGESTION_COLUMNS`` (``kind, source_name, rank, qb_id, qb_name, score,
        band``) then the evidence: ``qb_type`` ("Employee", "Vendor", "Customer"),
        ``hours`` and ``entries`` behind the name, ``margin`` (this score minus the best
        other candidate's), ``why``, ``active``, ``needs_review``, ``conflict``,
        ``near_tie``, ``stale``, ``remembered``, ``email`` (people: the address tracked
        with) and ``client_match`` (customers: the QuickBooks customer the client
        matches). A name with no candidate has one row with band "none" and an empty
        ``qb_id``.

    Raises:
        InputError: entries lack a required column, or ``lists`` is not a QBLists.
        SettingsError: ``limit`` is not a positive integer.

    Example:
        >>> lists = QBLists(employees=pd.DataFrame({"qb_id": ["55"], "name": ["Ada Lovelace"],
        ...     "full_name": ["Ada Lovelace"], "parent_id": [""], "level": [0],
        ...     "active": [True]}))
        >>> e = pd.DataFrame({"user": ["Lovelace, Ada"], "client": [""], "project": [""],
        ...                   "duration": [pd.Timedelta(hours=2)]})
        >>> suggest_matches(e, lists)[["source_name", "qb_name", "score", "band", "why"]].values.tolist()
        [['Lovelace, Ada', 'Ada Lovelace', 100.0, 'exact', 'name order swapped']]
    """
    if not isinstance(lists, QBLists):
        raise InputError(f"lists must be a QBLists (from read_qb_lists), not {type(lists).__name__}")
    if isinstance(limit, bool) or not isinstance(limit, int | np.integer) or limit < 1:
        raise SettingsError(f"limit must be a positive whole number, not {limit!r}", setting="limit")
    _require(entries, [S.USER, S.CLIENT, S.PROJECT], what="time entries")
    store = _store_frame(remembered)
    people, customers = _sources(entries)
    k = int(limit) + 5
    frames = []
    if len(people):
        frames.append(_suggest_kind(_KIND_EMPLOYEE, people, _people_records(lists), store, k,
                                    int(limit)))
    if len(customers):
        rec, paths = _customer_records(lists)
        frames.append(_suggest_kind(_KIND_CUSTOMER, customers, rec, store, k, int(limit),
                                    paths=paths))
    if not frames:
        return S.empty_frame(S.SUGGESTION_DTYPES)
    out = pd.concat(frames, ignore_index=True)
    out = _flag_conflicts(out)
    return S.conform(out, S.SUGGESTION_DTYPES, what="suggestions", extra=False)


def _suggest_kind(kind, src, rec, store, k, limit, *, paths=None) -> pd.DataFrame:
    src = src.reset_index(drop=True)
    # "_key": what two source names must share to be one name spelled two ways
    if kind == _KIND_EMPLOYEE:
        key = _nospace(_keys(src[S.SOURCE_NAME], person_keys)["key"])
        src["_key"] = key.where(key != "", "\x00" + _plain(src[S.SOURCE_NAME])).to_numpy()
    else:
        src["_client_key"] = _keys(src["client"], company_keys)["key"].to_numpy()
        project = _nospace(_keys(src["project"], company_keys)["key"])
        # a name with no key ("-", "&") is only itself
        project = project.where(project != "", "\x00" + _plain(src["project"]))
        src["_key"] = (_nospace(src["_client_key"]) + ":" + project).to_numpy()
    mine = store[store[S.KIND] == kind]
    rejected = mine[mine[S.DECISION] == "rejected"]
    accepted = mine[mine[S.DECISION] == "accepted"].drop_duplicates(S.SOURCE_NAME, keep="last")
    # ---- remembered accepted pairs: applied first, not scored again
    acc = src[[S.SOURCE_NAME]].reset_index().rename(columns={"index": "src"}).merge(
        accepted[[S.SOURCE_NAME, S.QB_ID, S.QB_NAME, S.QB_TYPE, S.DECIDED_AT, S.DECIDED_BY, S.HOW]]
        .rename(columns={S.QB_NAME: "remembered_name", S.QB_TYPE: "remembered_type"}),
        on=S.SOURCE_NAME,
    )
    acc = acc.merge(rec[["rec", S.QB_ID, S.QB_TYPE, S.ACTIVE]], on=S.QB_ID, how="left")
    # the same id on another list (Employee 55, Vendor 55) is another record
    other = (acc["remembered_type"] != "") & acc[S.QB_TYPE].notna() & (
        acc[S.QB_TYPE].astype(object) != acc["remembered_type"].astype(object))
    acc["rec"] = acc["rec"].astype("float64").where(~other.to_numpy())
    acc = acc.sort_values(["src", "rec"], na_position="last").drop_duplicates("src")
    live = acc["rec"].notna() & _flag(acc[S.ACTIVE].astype(object).where(acc["rec"].notna()))
    kept = acc[live].drop_duplicates("src")
    stale = acc[~acc["src"].isin(kept["src"])].drop_duplicates("src")
    todo_mask = ~src.index.isin(kept["src"])
    sub = src[todo_mask]
    sub_idx = sub.index.to_numpy()
    client_best = None
    if len(sub):
        sub_r = sub.reset_index(drop=True)
        rej = rejected[[S.SOURCE_NAME, S.QB_ID, S.QB_TYPE]]
        if kind == _KIND_EMPLOYEE:
            pairs = _people_pairs(sub_r, rec, k=k, rejected=rej)
        else:
            pairs, client_best = _customer_pairs(sub_r, rec, paths, k=k, rejected=rej)
            client_best = client_best.assign(src=sub_idx[client_best["src"].to_numpy()
                                                         .astype(np.int64)])
        pairs = pairs.assign(src=sub_idx[pairs["src"].to_numpy().astype(np.int64)])
    else:
        pairs = _no_pairs()
    if len(kept):
        why = ("remembered: accepted " + kept[S.DECIDED_AT].astype(str).str[:10]
               + _by(kept[S.DECIDED_BY]) + _how(kept[S.HOW]))
        renamed = kept["remembered_name"].astype(str) != rec[S.QB_NAME].to_numpy()[
            kept["rec"].to_numpy().astype(np.int64)]
        why = why.where(~renamed.to_numpy(), why + "; renamed in QuickBooks since")
        pairs = pd.concat([pairs, pd.DataFrame({"src": kept["src"].to_numpy(),
                                                "rec": kept["rec"].to_numpy().astype(np.int64),
                                                "score": np.nan, "why": why.to_numpy(),
                                                "remembered_pair": True})],
                          ignore_index=True)
    ranked = _rank(pairs, src, rec, limit)
    ranked = _attach_score_for_remembered(ranked, src, rec, kind)
    out = _finish(kind, src, rec, ranked, stale, rejected, client_best)
    return out


def _by(who: pd.Series) -> pd.Series:
    w = who.fillna("").astype(str)
    return (" by " + w).where(w != "", "")


def _how(how: pd.Series) -> pd.Series:
    h = how.fillna("").astype(str)
    return (" (" + h + ")").where(h != "", "")


def _rank(pairs: pd.DataFrame, src: pd.DataFrame, rec: pd.DataFrame, limit: int) -> pd.DataFrame:
    """One row per (source, record), ranked; margins and near-ties per source."""
    if "remembered_pair" not in pairs.columns:
        pairs = pairs.assign(remembered_pair=False)
    if "tiebreak" not in pairs.columns:
        pairs = pairs.assign(tiebreak=np.nan)
    pairs = pairs.assign(
        remembered_pair=_flag(pairs["remembered_pair"]),
        src=pairs["src"].astype(np.int64), rec=pairs["rec"].astype(np.int64),
    )
    sort_score = pairs["score"].fillna(1000.0)  # a remembered pair ranks first
    pairs = pairs.assign(_s=sort_score, tiebreak=pairs["tiebreak"].fillna(sort_score))
    pairs = pairs.sort_values(["src", "rec", "_s", "tiebreak"], ascending=[True, True, False, False])
    # every piece of evidence for a pair, strongest first, in one "why"
    uniq = pairs.drop_duplicates(["src", "rec", "why"])
    several = uniq.duplicated(["src", "rec"], keep=False)
    joined = uniq[several].groupby(["src", "rec"], sort=False)["why"].agg("; ".join)
    best = pairs.drop_duplicates(["src", "rec"]).set_index(["src", "rec"])
    if len(joined):
        best.loc[joined.index, "why"] = joined
    best = best.reset_index()
    best[S.ACTIVE] = rec[S.ACTIVE].to_numpy()[best["rec"].to_numpy()]
    best[S.QB_NAME] = rec[S.QB_NAME].to_numpy()[best["rec"].to_numpy()]
    best["_tier"] = _identity_tier(src[S.SOURCE_NAME].to_numpy()[best["src"].to_numpy()],
                                   best[S.QB_NAME])
    # among equal scores the identical name comes first, then the one identical apart
    # from case and spacing, then the names that are only the same after normalization
    best = best.sort_values(["src", "_s", "_tier", "tiebreak", S.ACTIVE, S.QB_NAME],
                            ascending=[True, False, True, False, False, True], kind="stable")
    best["rank"] = best.groupby("src").cumcount() + 1
    # margin: this score minus the best other candidate's; near tie: an active rival close by
    first = best.groupby("src")["_s"].transform("first")
    second = best["_s"].where(best["rank"] == 2).groupby(best["src"]).transform("max")
    other_best = np.where(best["rank"] == 1, second, first)
    best["margin"] = np.round(best["_s"] - other_best, 1)
    # a record only the same after normalization is no rival to an identical one
    first_tier = best.groupby("src")["_tier"].transform("first")
    outranked = (best["_s"] >= EXACT_SCORE) & (best["_tier"] == 2) & (first_tier < 2)
    rival = best["_s"].where((best["rank"] > 1) & best[S.ACTIVE] & ~outranked).groupby(
        best["src"]).transform("max")
    best["near_tie"] = (first - rival < STRONG_MARGIN).fillna(False) & ~best.groupby("src")[
        "remembered_pair"].transform("first")
    return best[best["rank"] <= limit].drop(columns=["_s", "_tier"])


def _identity_tier(source: np.ndarray, qb_name: pd.Series) -> np.ndarray:
    """0 for the same text, 1 for the same apart from case and spacing, else 2."""
    qb = qb_name.to_numpy()
    same = source == qb
    plain = (_plain(pd.Series(source, dtype=object)).to_numpy()
             == _plain(pd.Series(qb, dtype=object)).to_numpy())
    return np.where(same, 0, np.where(plain, 1, 2))


def _attach_score_for_remembered(ranked, src, rec, kind):
    """A remembered pair's score is the plain similarity of the two names."""
    m = ranked["remembered_pair"].to_numpy()
    if not m.any():
        return ranked
    si = ranked.loc[m, "src"].to_numpy()
    ri = ranked.loc[m, "rec"].to_numpy()
    if kind == _KIND_EMPLOYEE:
        a = _keys(src[S.SOURCE_NAME].iloc[si].reset_index(drop=True), person_keys)["sorted"]
        b = rec["sorted"].iloc[ri].reset_index(drop=True)
    else:
        a = _keys(src[S.SOURCE_NAME].iloc[si].reset_index(drop=True).str.replace(":", " "),
                  company_keys)["sorted"]
        b = _keys(rec[S.QB_NAME].iloc[ri].reset_index(drop=True).str.replace(":", " "),
                  company_keys)["sorted"]
    raw = _pair_ratio(a, b)
    same = (a == b).to_numpy()
    ranked = ranked.copy()
    ranked.loc[m, "score"] = np.where(same, EXACT_SCORE, np.minimum(np.round(raw, 1), 99.0))
    ranked.loc[m, "margin"] = np.nan
    return ranked


def _finish(kind, src, rec, ranked, stale, rejected, client_best) -> pd.DataFrame:
    n = len(src)
    has = np.zeros(n, dtype=bool)
    has[ranked["src"].to_numpy()] = True
    none = pd.DataFrame({"src": np.nonzero(~has)[0]})
    none = none.assign(rec=-1, score=0.0, why="no similar QuickBooks name", rank=1,
                       margin=np.nan, near_tie=False, remembered_pair=False)
    none[S.ACTIVE] = pd.NA
    none[S.QB_NAME] = ""
    rows = pd.concat([ranked, none], ignore_index=True).sort_values(["src", "rank"], kind="stable")
    si = rows["src"].to_numpy()
    ri = rows["rec"].to_numpy()
    found = ri >= 0
    out = pd.DataFrame({S.KIND: kind, S.SOURCE_NAME: src[S.SOURCE_NAME].to_numpy()[si]})
    out[S.RANK] = rows["rank"].to_numpy().astype(np.int64)
    out[S.QB_ID] = _gather(rec[S.QB_ID], ri, "")
    out[S.QB_NAME] = np.where(found, rows[S.QB_NAME].to_numpy(), "")
    out[S.SCORE] = rows["score"].to_numpy().astype(np.float64)
    score = out[S.SCORE].to_numpy()
    margin = rows["margin"].to_numpy().astype(np.float64)
    rank1 = out[S.RANK].to_numpy() == 1
    strong = rank1 & (score >= STRONG_MIN[kind]) & ~(margin < STRONG_MARGIN)
    band = np.where(~found, "none", np.where(score >= EXACT_SCORE, "exact",
                                             np.where(strong, "strong", "weak")))
    out[S.BAND] = band
    out[S.QB_TYPE] = _gather(rec[S.QB_TYPE], ri, "")
    out[S.HOURS] = src[S.HOURS].to_numpy()[si]
    out[S.ENTRIES] = src[S.ENTRIES].to_numpy()[si]
    out[S.MARGIN] = margin
    out[S.WHY] = rows["why"].to_numpy()
    out[S.ACTIVE] = pd.array(rows[S.ACTIVE].to_numpy(), dtype="boolean")
    inactive = found & ~out[S.ACTIVE].fillna(True).to_numpy(dtype=bool)
    out.loc[inactive, S.WHY] = out.loc[inactive, S.WHY].astype(str) + "; inactive in QuickBooks"
    out[S.NEAR_TIE] = _flag(rows["near_tie"]).to_numpy()
    out[S.CONFLICT] = False
    # ---- remembered decisions
    remembered = np.full(len(out), "", dtype=object)
    is_rem = _flag(rows["remembered_pair"]).to_numpy()
    rem_src = np.zeros(n, dtype=bool)
    rem_src[si[is_rem]] = True
    rej_names = set(rejected[S.SOURCE_NAME].tolist())
    rej_src = np.isin(src[S.SOURCE_NAME].to_numpy(), list(rej_names)) & ~rem_src
    remembered[rem_src[si]] = "accepted"
    remembered[rej_src[si]] = "rejected"
    stale_src = np.zeros(n, dtype=bool)
    stale_src[stale["src"].to_numpy().astype(np.int64)] = True
    out[S.STALE] = stale_src[si]
    if stale_src.any():
        st = stale.set_index("src")
        gone = st["rec"].isna()
        note = ("remembered match '" + st["remembered_name"].astype(str) + "' "
                + np.where(gone, "is no longer in QuickBooks", "is inactive in QuickBooks"))
        first_rows = stale_src[si] & rank1
        out.loc[first_rows, S.WHY] = (note.reindex(si[first_rows]).to_numpy() + "; "
                                      + out.loc[first_rows, S.WHY].astype(str).to_numpy())
        remembered[stale_src[si]] = "accepted"
    out[S.REMEMBERED] = remembered
    # ---- evidence per kind
    if kind == _KIND_EMPLOYEE:
        out[S.EMAIL] = src[S.EMAIL].to_numpy()[si]
        out[S.CLIENT_MATCH] = ""
    else:
        out[S.EMAIL] = ""
        out[S.CLIENT_MATCH] = _client_match(src, rec, client_best)[si]
    # ---- needs review (per source name): anything short of a safe rank-1 pick
    first = pd.DataFrame({"src": si, "band": band, "rank1": rank1,
                          "active": _flag(out[S.ACTIVE]).to_numpy(),
                          "near": out[S.NEAR_TIE].to_numpy()})
    r1 = first[first["rank1"]].set_index("src")
    safe = r1["band"].isin(["exact", "strong"]) & r1["active"] & ~r1["near"]
    decided_reject = pd.Series(rej_src, index=np.arange(n)).reindex(r1.index)
    safe = safe | rem_src[r1.index.to_numpy()] | (decided_reject & ~r1["band"].isin(["exact", "strong"]))
    safe = safe & ~stale_src[r1.index.to_numpy()]
    out[S.NEEDS_REVIEW] = ~safe.reindex(si).to_numpy().astype(bool)
    out["_key"] = src["_key"].to_numpy()[si]
    out["_remembered_pair"] = is_rem
    return out


def _gather(values: pd.Series, idx: np.ndarray, fill) -> np.ndarray:
    """``values[idx]`` where ``idx >= 0``, else ``fill``."""
    out = np.full(len(idx), fill, dtype=object)
    ok = idx >= 0
    out[ok] = values.to_numpy()[idx[ok]]
    return out


def _client_match(src, rec, client_best) -> np.ndarray:
    """The QuickBooks customer each "Client:Project" client matches (for new sub-customers)."""
    res = np.full(len(src), "", dtype=object)
    if "client" not in src.columns or not len(rec):
        return res
    ck = _text(src["_client_key"])
    # exact: a customer whose own name is the client, top level and active preferred
    r = rec[rec["leaf"] != ""][["rec", "leaf", S.QB_NAME, S.ACTIVE, "parent_full"]]
    r = r.assign(top=r["parent_full"] == "").sort_values(
        [S.ACTIVE, "top", S.QB_NAME], ascending=[False, False, True])
    r = r.drop_duplicates("leaf").set_index("leaf")[S.QB_NAME]
    exact = ck.map(r).astype(object).where(ck != "")
    res[:] = exact.fillna("").to_numpy()
    if client_best is not None and len(client_best):
        cb = client_best[client_best["score"] >= TYPO_MIN].sort_values(
            ["src", "score"], ascending=[True, False]).drop_duplicates("src")
        names = rec[S.QB_NAME].to_numpy()[cb["rec"].to_numpy().astype(np.int64)]
        idx = cb["src"].to_numpy().astype(np.int64)
        fill = res[idx] == ""
        res[idx[fill]] = names[fill]
    return res


def _flag_conflicts(out: pd.DataFrame) -> pd.DataFrame:
    """Flag source names that confidently want the same record as another source name.

    Only rank-1 candidates scoring at least :data:`TYPO_MIN` and not in a near tie
    count: a weak or ambiguous candidate needs review anyway, and must not block the
    exact match of another name.
    """
    r1 = out[(out[S.RANK] == 1) & (out[S.BAND] != "none") & (out[S.SCORE] >= TYPO_MIN)
             & ~out[S.NEAR_TIE]]
    keys = r1.groupby([S.KIND, S.QB_TYPE, S.QB_ID])["_key"].transform("nunique")
    clash = r1.loc[keys > 1, [S.KIND, S.SOURCE_NAME]]
    if len(clash):
        flag = out.set_index([S.KIND, S.SOURCE_NAME]).index.isin(
            pd.MultiIndex.from_frame(clash))
        out = out.copy()
        out[S.CONFLICT] = flag
        decided = out.groupby([S.KIND, S.SOURCE_NAME])["_remembered_pair"].transform("any")
        out[S.NEEDS_REVIEW] = out[S.NEEDS_REVIEW] | (flag & ~decided)
        r1c = flag & (out[S.RANK] == 1)
        out.loc[r1c, S.WHY] = out.loc[r1c, S.WHY].astype(str) + "; another name wants this record"
    return out.drop(columns=["_key", "_remembered_pair"])


def summarize_matches(suggestions: pd.DataFrame) -> pd.DataFrame:
    """Counts per kind: names, bands of the rank-1 candidates, safe to accept, to review.

    Returns:
        One row per kind with ``names, exact, strong, weak, none, accepted,
        needs_review, remembered, hours, hours_unmatched`` (hours behind names with no
        accepted match).

    Example:
        >>> s = pd.DataFrame({"kind": ["employee"], "source_name": ["Ada"], "rank": [1],
        ...     "qb_id": [""], "qb_name": [""], "score": [0.0], "band": ["none"], "hours": [2.5]})
        >>> r = summarize_matches(s)
        >>> int(r.loc[0, "none"]), float(r.loc[0, "hours_unmatched"])
        (1, 2.5)
    """
    _require(suggestions, S.SUGGESTION_COLUMNS, what="suggestions")
    r1 = suggestions[suggestions[S.RANK] == 1].drop_duplicates([S.KIND, S.SOURCE_NAME])
    mapped = accept_matches(suggestions)
    ok = r1.set_index([S.KIND, S.SOURCE_NAME]).index.isin(
        pd.MultiIndex.from_frame(mapped[[S.KIND, S.SOURCE_NAME]]))
    hours = r1[S.HOURS] if S.HOURS in r1.columns else pd.Series(0.0, index=r1.index)
    review = (r1[S.NEEDS_REVIEW] if S.NEEDS_REVIEW in r1.columns else pd.Series(~ok, index=r1.index))
    remembered = (_text(r1[S.REMEMBERED]) != "") if S.REMEMBERED in r1.columns else pd.Series(
        False, index=r1.index)
    f = pd.DataFrame({S.KIND: r1[S.KIND].to_numpy(), S.BAND: r1[S.BAND].to_numpy(),
                      "accepted": ok, "needs_review": review.to_numpy().astype(bool),
                      "remembered": remembered.to_numpy(), S.HOURS: hours.to_numpy(),
                      "unmatched": np.where(ok, 0.0, hours.to_numpy())})
    g = f.groupby(S.KIND, sort=True)
    out = pd.DataFrame({"names": g.size()})
    for b in S.BANDS:
        out[b] = g[S.BAND].agg(lambda x, b=b: int((x == b).sum()))
    out["accepted"] = g["accepted"].sum().astype(int)
    out["needs_review"] = g["needs_review"].sum().astype(int)
    out["remembered"] = g["remembered"].sum().astype(int)
    out[S.HOURS] = g[S.HOURS].sum().round(2)
    out["hours_unmatched"] = g["unmatched"].sum().round(2)
    return out.reset_index()


# ========================================================================== decisions
def accept_matches(suggestions: pd.DataFrame, *, min_band: str = "strong") -> pd.DataFrame:
    """The mapping: the rank-1 candidates that are safe to take without a human.

    A source name is mapped when its rank-1 candidate is in ``min_band`` or better and is
    not flagged (conflict, near tie, inactive record, stale), or when a remembered
    accepted pair applies.

    Args:
        suggestions: the output of :func:`suggest_matches` (flag columns are optional).
        min_band: "exact", "strong" (default) or "weak".

    Returns:
        ``kind, source_name, qb_id, qb_name, qb_type``: one row per mapped source name.

    Raises:
        SettingsError: ``min_band`` is not one of the three.
        InputError: ``suggestions`` lack a required column.

    Example:
        >>> s = pd.DataFrame({"kind": ["employee"], "source_name": ["Ada"], "rank": [1],
        ...     "qb_id": ["55"], "qb_name": ["Ada Lovelace"], "score": [93.0], "band": ["strong"]})
        >>> accept_matches(s)["qb_id"].tolist()
        ['55']
    """
    allowed = ("exact", "strong", "weak")
    if min_band not in allowed:
        raise SettingsError(f"min_band must be one of {', '.join(allowed)}; got {min_band!r}",
                            setting="min_band")
    _require(suggestions, S.SUGGESTION_COLUMNS, what="suggestions")
    s = suggestions[suggestions[S.RANK] == 1]
    level = {b: i for i, b in enumerate(S.BANDS)}
    ok = s[S.BAND].map(level).fillna(99) <= level[min_band]
    ok &= _text(s[S.QB_ID]) != ""
    for flag in (S.CONFLICT, S.NEAR_TIE, S.STALE):
        if flag in s.columns:
            ok &= ~_flag(s[flag])
    if S.ACTIVE in s.columns:
        ok &= _flag(s[S.ACTIVE])
    if S.REMEMBERED in s.columns:
        rem = (_text(s[S.REMEMBERED]) == "accepted") & (_text(s[S.QB_ID]) != "")
        if S.STALE in s.columns:
            rem &= ~_flag(s[S.STALE])
        ok |= rem
    m = s[ok]
    qb_type = m[S.QB_TYPE] if S.QB_TYPE in m.columns else pd.Series(
        np.where(m[S.KIND] == "customer", "Customer", ""), index=m.index)
    out = pd.DataFrame({S.KIND: m[S.KIND], S.SOURCE_NAME: m[S.SOURCE_NAME], S.QB_ID: m[S.QB_ID],
                        S.QB_NAME: m[S.QB_NAME], S.QB_TYPE: qb_type})
    out = out.drop_duplicates([S.KIND, S.SOURCE_NAME]).reset_index(drop=True)
    return S.conform(out, S.MAPPING_TYPED_DTYPES, what="mapping", extra=False)


def remember(
    store: pd.DataFrame | None,
    decisions: pd.DataFrame,
    *,
    by: str = "",
    how: str = "",
    at: datetime | str | None = None,
) -> pd.DataFrame:
    """The mapping store with these decisions added (the inputs are not changed).

    ``decisions`` is a mapping (every row accepted) or a frame with a ``decision`` column
    ("accepted" / "rejected") such as :func:`qbrecon.read_review_decisions` returns. An
    accepted pair replaces the source name's earlier accepted pair; a rejected pair is
    added to the rejected pairs (the same pair is kept once, newest decision wins, and a
    rejection removes the same pair's acceptance).

    Args:
        store: the current store (``None`` or empty for the first period).
        decisions: the new decisions.
        by: who decided (kept in ``decided_by`` where the decisions carry none).
        how: how it was decided, e.g. "auto" or "review" (where the decisions carry none).
        at: when (default: now, UTC).

    Returns:
        The new store, with the columns of ``schema.STORE_COLUMNS``.

    Example:
        >>> m = pd.DataFrame({"kind": ["employee"], "source_name": ["Ada"], "qb_id": ["55"],
        ...                   "qb_name": ["Ada Lovelace"]})
        >>> remember(None, m, by="ana", at="2026-11-02T09:00:00Z")[["decision", "decided_by"]].values.tolist()
        [['accepted', 'ana']]
    """
    base = _store_frame(store)
    _require(decisions, [S.KIND, S.SOURCE_NAME, S.QB_ID], what="decisions")
    d = decisions.copy()
    when = at if isinstance(at, str) else (at or datetime.now(UTC)).astimezone(UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    if S.DECISION not in d.columns:
        d[S.DECISION] = "accepted"
    for col, default in ((S.QB_NAME, ""), (S.QB_TYPE, ""), (S.DECIDED_BY, by), (S.HOW, how),
                         (S.DECIDED_AT, when)):
        if col not in d.columns:
            d[col] = default
        d[col] = _text(d[col]).where(_text(d[col]) != "", default)
    bad = ~_text(d[S.DECISION]).isin(S.DECISIONS)
    if bad.any():
        raise InputError("decisions must be 'accepted' or 'rejected'", problems=[
            Problem("unknown decision", row=int(i) + 1, column=S.DECISION, value=v)
            for i, v in zip(np.nonzero(bad.to_numpy())[0], d.loc[bad, S.DECISION], strict=True)])
    d = S.conform(d[S.STORE_COLUMNS], S.STORE_DTYPES, what="decisions", extra=False)
    acc_new = d[d[S.DECISION] == "accepted"]
    rej_new = d[d[S.DECISION] == "rejected"]
    keep = base
    # a new accepted pair replaces the source's earlier accepted pair
    k_acc = pd.MultiIndex.from_frame(acc_new[[S.KIND, S.SOURCE_NAME]])
    old_acc = (keep[S.DECISION] == "accepted") & keep.set_index([S.KIND, S.SOURCE_NAME]).index.isin(k_acc)
    keep = keep[~old_acc.to_numpy()]
    # a pair decided again: the newest decision wins
    k_pair = pd.MultiIndex.from_frame(d[[S.KIND, S.SOURCE_NAME, S.QB_ID]])
    again = keep.set_index([S.KIND, S.SOURCE_NAME, S.QB_ID]).index.isin(k_pair)
    keep = keep[~again]
    # a rejection of everything for a source (empty qb_id) drops its accepted pair
    k_rej_all = pd.MultiIndex.from_frame(rej_new.loc[rej_new[S.QB_ID] == "", [S.KIND, S.SOURCE_NAME]])
    drop = (keep[S.DECISION] == "accepted") & keep.set_index([S.KIND, S.SOURCE_NAME]).index.isin(k_rej_all)
    keep = keep[~drop.to_numpy()]
    out = pd.concat([keep, d], ignore_index=True)
    out = out.drop_duplicates([S.KIND, S.SOURCE_NAME, S.QB_ID, S.DECISION], keep="last")
    out = out.sort_values([S.KIND, S.SOURCE_NAME, S.DECISION], kind="stable").reset_index(drop=True)
    return S.conform(out, S.STORE_DTYPES, what="mapping store", extra=False)


# ===================================================================== create missing
def propose_new_records(
    suggestions: pd.DataFrame | None, *, decisions: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The names with no QuickBooks record, as new employees and customers to create.

    A source name is proposed when it is not mapped by ``decisions`` and it has no
    candidate (band "none"), or its candidates were rejected (remembered, or "rejected"
    in ``decisions``). A ``"Client:Project"`` becomes a sub-customer of the customer its
    client matches (``client_match``); where the client has no QuickBooks customer either,
    the client is proposed as well, before its projects.

    Args:
        suggestions: the output of :func:`suggest_matches`; or None to propose exactly the
            names ``decisions`` rejected (their evidence columns are used).
        decisions: a mapping (accepted pairs) or decisions with a ``decision`` column, such
            as :func:`qbrecon.read_review_decisions` returns.

    Returns:
        ``kind, name, parent_full_name, qb_type, first_name, last_name, email, hours,
        entries, source_name`` — ``name`` is the new record's own name (the leaf, for a
        sub-customer), ``parent_full_name`` its parent's QuickBooks full name ("" for a
        top-level customer or a person), ``qb_type`` "Employee" (edit to "Vendor" for a
        contractor) or "Customer".

    Example:
        >>> s = pd.DataFrame({"kind": ["employee"], "source_name": ["Smith, John"], "rank": [1],
        ...     "qb_id": [""], "qb_name": [""], "score": [0.0], "band": ["none"]})
        >>> propose_new_records(s)[["name", "first_name", "last_name"]].values.tolist()
        [['John Smith', 'John', 'Smith']]
    """
    if suggestions is None:
        if decisions is None:
            raise InputError("propose_new_records needs suggestions or decisions")
        _require(decisions, [S.KIND, S.SOURCE_NAME], what="decisions")
        # one row per decided name; only what the decisions reject is proposed
        suggestions = decisions.drop_duplicates([S.KIND, S.SOURCE_NAME]).assign(
            **{S.RANK: 1, S.QB_ID: "", S.QB_NAME: "", S.SCORE: 0.0, S.BAND: "weak"})
    _require(suggestions, S.SUGGESTION_COLUMNS, what="suggestions")
    r1 = suggestions[suggestions[S.RANK] == 1].drop_duplicates([S.KIND, S.SOURCE_NAME])
    want = r1[S.BAND] == "none"
    if S.REMEMBERED in r1.columns:
        want |= (_text(r1[S.REMEMBERED]) == "rejected") & ~r1[S.BAND].isin(["exact", "strong"])
    idx = r1.set_index([S.KIND, S.SOURCE_NAME]).index
    if decisions is not None and len(decisions):
        _require(decisions, [S.KIND, S.SOURCE_NAME], what="decisions")
        dec = _text(decisions[S.DECISION]) if S.DECISION in decisions.columns else pd.Series(
            "accepted", index=decisions.index)
        acc = pd.MultiIndex.from_frame(decisions.loc[dec == "accepted", [S.KIND, S.SOURCE_NAME]])
        rej = pd.MultiIndex.from_frame(decisions.loc[dec == "rejected", [S.KIND, S.SOURCE_NAME]])
        want = (want | idx.isin(rej)) & ~idx.isin(acc)
    m = r1[want.to_numpy()]
    col = lambda c, d="": m[c] if c in m.columns else pd.Series(d, index=m.index)  # noqa: E731
    people = m[m[S.KIND] == _KIND_EMPLOYEE]
    first, last, display = _split_person(_text(people[S.SOURCE_NAME]))
    p = pd.DataFrame({
        S.KIND: _KIND_EMPLOYEE, S.NAME: display.to_numpy(), S.PARENT_FULL_NAME: "",
        S.QB_TYPE: "Employee", S.FIRST_NAME: first.to_numpy(), S.LAST_NAME: last.to_numpy(),
        S.EMAIL: _text(col(S.EMAIL).loc[people.index]).to_numpy(),
        S.HOURS: col(S.HOURS, 0.0).loc[people.index].to_numpy(),
        S.ENTRIES: col(S.ENTRIES, 0).loc[people.index].to_numpy(),
        S.SOURCE_NAME: people[S.SOURCE_NAME].to_numpy(),
    })
    cust = m[m[S.KIND] == _KIND_CUSTOMER]
    name = _text(cust[S.SOURCE_NAME])
    has_client = name.str.contains(":", regex=False)
    client = name.str.split(":", n=1).str[0].astype(S.STRING).fillna("")
    project = name.str.split(":", n=1).str[-1].astype(S.STRING).fillna("")
    cm = _text(col(S.CLIENT_MATCH).loc[cust.index])
    parent = cm.where(cm != "", client).where(has_client, "")
    c = pd.DataFrame({
        S.KIND: _KIND_CUSTOMER, S.NAME: project.where(has_client, name).to_numpy(),
        S.PARENT_FULL_NAME: parent.to_numpy(), S.QB_TYPE: "Customer", S.FIRST_NAME: "",
        S.LAST_NAME: "", S.EMAIL: "",
        S.HOURS: col(S.HOURS, 0.0).loc[cust.index].to_numpy(),
        S.ENTRIES: col(S.ENTRIES, 0).loc[cust.index].to_numpy(),
        S.SOURCE_NAME: cust[S.SOURCE_NAME].to_numpy(),
    })
    # clients with no QuickBooks customer become new customers too, before their projects
    new_parent = c[(c[S.PARENT_FULL_NAME] != "") & (cm.where(has_client, "x").to_numpy() == "")]
    parents = (new_parent.groupby(S.PARENT_FULL_NAME, as_index=False)
               .agg(**{S.HOURS: (S.HOURS, "sum"), S.ENTRIES: (S.ENTRIES, "sum")})
               .rename(columns={S.PARENT_FULL_NAME: S.NAME}))
    parents = parents.assign(**{S.KIND: _KIND_CUSTOMER, S.PARENT_FULL_NAME: "", S.QB_TYPE: "Customer",
                                S.FIRST_NAME: "", S.LAST_NAME: "", S.EMAIL: "",
                                S.SOURCE_NAME: parents[S.NAME]})
    parents = parents[~parents[S.NAME].isin(c.loc[c[S.PARENT_FULL_NAME] == "", S.NAME])]
    c = pd.concat([parents[S.NEW_RECORD_COLUMNS], c], ignore_index=True)
    c = c.assign(_depth=(c[S.PARENT_FULL_NAME] != "").astype(int)).sort_values(
        ["_depth", S.PARENT_FULL_NAME, S.NAME], kind="stable").drop(columns="_depth")
    out = pd.concat([p.sort_values(S.NAME, kind="stable"), c], ignore_index=True)
    return S.conform(out[S.NEW_RECORD_COLUMNS], S.NEW_RECORD_DTYPES, what="new records",
                     extra=False)


def _split_person(names: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """First name, last name and display name ("First Last") as written, case kept."""
    s = names.str.replace(r"\s*\(.*?\)\s*", " ", regex=True).str.replace(r"\s+", " ", regex=True).str.strip()
    email = s.str.fullmatch(_EMAIL).fillna(False)  # "@Ada" is a name, not an address
    s = s.where(~email, s.str.replace(r"@.*$", "", regex=True))
    user = s.str.fullmatch(r"[^\s._]+(?:[._]+[^\s._]+)+").fillna(False)
    s = s.where(~user, s.str.replace(r"[._]+", " ", regex=True).str.title())
    comma = s.str.contains(",", regex=False)
    s = s.where(~comma, s.str.replace(r"^\s*([^,]+?)\s*,\s*([^,]+?)\s*(?:,.*)?$", r"\2 \1", regex=True))
    words = s.str.split(" ")
    first = words.str[0].astype(S.STRING).fillna("")
    # the last word, with the particles before it ("van der Berg", "'t Hart", "de la Cruz")
    last = s.str.extract(_FAMILY, expand=False).astype(S.STRING).fillna("")
    return first, last, s


_PARTICLES = r"van|von|de|der|den|del|della|di|da|du|le|la|'t|ter|ten|dos|das|do|bin|ibn|al|el"
_FAMILY = re.compile(rf"^\S+\s+(?:\S+\s+)*?((?:(?:{_PARTICLES})\s+)*\S+)$", re.IGNORECASE)


# ============================================================================ helpers
def _text(s) -> pd.Series:
    if not isinstance(s, pd.Series):
        s = pd.Series(s)
    return s.astype(S.STRING).fillna("")


def _flag(s: pd.Series) -> pd.Series:
    """A yes/no column as plain bool, missing values False (any dtype, pandas 2 and 3)."""
    return s.astype("boolean").fillna(False).astype(bool)


def _keys(names: pd.Series, fn) -> pd.DataFrame:
    """``fn`` (a normalize.*_keys function) computed once per distinct name."""
    names = _text(names).reset_index(drop=True)
    codes, uniques = pd.factorize(names)
    k = fn(pd.Series(uniques, dtype=S.STRING))
    return k.iloc[codes].reset_index(drop=True)


def _join_pairs(s, rec, a, b, score, why) -> pd.DataFrame:
    a = [a] if isinstance(a, str) else list(a)
    b = [b] if isinstance(b, str) else list(b)
    left = s[["src", *a]]
    left = left[(left[a] != "").all(axis=1)]
    right = rec[["rec", *b]]
    right = right[(right[b] != "").all(axis=1)]
    if not len(left) or not len(right):
        return _no_pairs()
    right = right.rename(columns=dict(zip(b, a, strict=True)))
    j = left.merge(right, on=a)[["src", "rec"]]
    return j.assign(score=score, why=why)


def _no_pairs() -> pd.DataFrame:
    return pd.DataFrame({"src": pd.Series(dtype=np.int64), "rec": pd.Series(dtype=np.int64),
                         "score": pd.Series(dtype=np.float64), "why": pd.Series(dtype=object)})


def _drop_rejected(pairs, src, rec, rejected) -> pd.DataFrame:
    if rejected is None or not len(rejected) or not len(pairs):
        return pairs
    ri = pairs["rec"].to_numpy().astype(np.int64)
    names = src[S.SOURCE_NAME].to_numpy()[pairs["src"].to_numpy().astype(np.int64)]
    ids = rec[S.QB_ID].to_numpy()[ri]
    types = rec[S.QB_TYPE].to_numpy()[ri]
    # QuickBooks Online numbers employees and vendors separately: Employee 55 and Vendor 55
    # are two records, so a pair is (name, id, type); a decision without a type means any
    rej = rejected.astype(object)
    typed = rej[rej[S.QB_TYPE] != ""]
    untyped = rej[rej[S.QB_TYPE] == ""]
    bad = pd.MultiIndex.from_arrays([names, ids, types]).isin(
        pd.MultiIndex.from_frame(typed[[S.SOURCE_NAME, S.QB_ID, S.QB_TYPE]]))
    bad |= pd.MultiIndex.from_arrays([names, ids]).isin(
        pd.MultiIndex.from_frame(untyped[[S.SOURCE_NAME, S.QB_ID]]))
    return pairs[~bad]


def _require(df, columns: Iterable[str], *, what: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"{what} must be a pandas DataFrame, not {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(f"{what} lack required columns",
                         problems=[Problem("missing column", column=c) for c in missing])


def _store_frame(store: pd.DataFrame | None) -> pd.DataFrame:
    if store is None:
        return S.empty_frame(S.STORE_DTYPES)
    _require(store, [S.KIND, S.SOURCE_NAME, S.QB_ID], what="mapping store")
    st = store.copy()
    if S.DECISION not in st.columns:
        st[S.DECISION] = "accepted"
    for col in S.STORE_COLUMNS:
        if col not in st.columns:
            st[col] = ""
        st[col] = _text(st[col])
    return S.conform(st[S.STORE_COLUMNS], S.STORE_DTYPES, what="mapping store", extra=False)


__all__ = [
    "accept_matches",
    "propose_new_records",
    "remember",
    "source_names",
    "suggest_matches",
    "summarize_matches",
]
