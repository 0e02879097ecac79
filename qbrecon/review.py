"""The files an accountant works with: the review workbook, the mapping store, new records.

* :func:`write_review_workbook` / :func:`read_review_workbook` — the Excel workbook in which
  an accountant accepts, rejects or corrects the match suggestions; reading it back
  checks every decision and reports every invalid cell at once (sheet, row, column).
* :func:`read_mapping_store` / :func:`write_mapping_store` — the remembered decisions, a
  CSV file kept beside the data (UTF-8 with a byte-order mark so Excel shows accents).
* :func:`write_new_records` — the proposed new employees and customers ("create
  missing") as CSV, XLSX, or an IIF list block for QuickBooks Desktop.

Every cell or CSV field qbrecon writes that begins with ``=``, ``+``, ``-`` or ``@`` is
written as text, so a name can never run as a formula in Excel (in CSV a leading ``'``
is added, and removed again when qbrecon reads the file back).
"""

from __future__ import annotations

import csv
import io
import logging
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from . import schema as S
from ._io import atomic_path, escape_cell, text_cell, unescape_text, write_workbook
from .errors import InputError, Problem, SettingsError

log = logging.getLogger("qbrecon")

#: the sheet of each kind in the review workbook
KIND_SHEETS = {"employee": "Employees", "customer": "Customers"}
NAMES_SHEET = "QuickBooks names"
HELP_SHEET = "How to use"
ACCEPT, REJECT = "accept", "reject"
_ACCEPT_WORDS = {"accept", "accepted", "yes", "y", "ok"}
_REJECT_WORDS = {"reject", "rejected", "no", "n", "none", "new"}

BAND_FILLS = {"exact": "C6EFCE", "strong": "E2EFDA", "weak": "FFEB9C", "none": "FFC7CE"}

# visible columns of a kind sheet (header, width); candidates 2..limit follow "flags"
_COLS = [
    ("source name", 32), ("hours", 8), ("entries", 8), ("decision", 34),
    ("suggested QuickBooks name", 36), ("type", 10), ("score", 7), ("band", 8),
    ("why", 44), ("flags", 26),
]
# hidden columns at the end: what read_review_workbook needs to resolve "accept"
_HIDDEN = ["_kind", "_suggested_id", "_suggested_type", "_candidate_ids", "_email",
           "_client_match", "_band"]
_SEP = "\n"


# ===================================================================== the workbook
def write_review_workbook(
    suggestions: pd.DataFrame,
    path: str | os.PathLike,
    *,
    lists=None,
) -> Path:
    """Write the review workbook for an accountant.

    One sheet per kind ("Employees", "Customers"), one row per source name with its top
    candidates, the evidence and a **decision** column: ``accept`` (the suggested name),
    ``reject`` (no QuickBooks record: propose a new one), or another QuickBooks name
    picked from the dropdown. Rows are coloured by band, safe matches come pre-filled
    with ``accept`` (remembered rejections with ``reject``), the header is frozen and
    filtered, and a "How to use" sheet explains the columns.

    Args:
        suggestions: the output of :func:`qbrecon.suggest_matches`.
        path: the ``.xlsx`` file to write (replaced atomically).
        lists: the QuickBooks lists (a QBLists). With them the dropdown offers every
            active QuickBooks name; without, only the names among the suggestions.

    Returns:
        The path written.

    Raises:
        SettingsError: ``path`` does not end in ``.xlsx`` (the file is an Excel workbook;
            another suffix would only mislead whoever opens it).
        InputError: ``suggestions`` lack a required column, or the file cannot be written.

    Example:
        >>> import tempfile, pathlib
        >>> s = pd.DataFrame({"kind": ["employee"], "source_name": ["Ada"], "rank": [1],
        ...     "qb_id": ["55"], "qb_name": ["Ada Lovelace"], "score": [93.0], "band": ["strong"]})
        >>> p = write_review_workbook(s, pathlib.Path(tempfile.mkdtemp()) / "review.xlsx")
        >>> read_review_workbook(p)["qb_name"].tolist()
        ['Ada Lovelace']
    """
    from openpyxl import Workbook

    from .match import _require

    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        got = f"not {path.suffix!r}" if path.suffix else "this one has no suffix"
        raise SettingsError(f"the review workbook is an Excel workbook: its name must end in "
                            f".xlsx ({got})", setting="path", file=str(path))
    _require(suggestions, S.SUGGESTION_COLUMNS, what="suggestions")
    sugg = _with_defaults(suggestions)
    wb = Workbook()
    help_ws = wb.active
    help_ws.title = HELP_SHEET
    names_ws = wb.create_sheet(NAMES_SHEET)
    choices = _choices(sugg, lists)
    ranges = _write_names_sheet(names_ws, choices)
    names_ws.sheet_state = "hidden"
    first_kind = None
    counts = []
    for kind, title in KIND_SHEETS.items():
        part = sugg[sugg[S.KIND] == kind]
        if not len(part) and lists is None:
            continue
        ws = wb.create_sheet(title, index=len(wb.sheetnames) - 1)
        n = _write_kind_sheet(ws, kind, part, ranges.get(kind))
        counts.append((title, part, n))
        first_kind = first_kind or ws
    _write_help(help_ws, counts)
    if first_kind is not None:
        wb.active = wb.sheetnames.index(first_kind.title)
        help_ws.sheet_view.tabSelected = False
    _atomic_save(wb, path)
    log.info("wrote the review workbook %s", path)
    return path


def _with_defaults(s: pd.DataFrame) -> pd.DataFrame:
    s = s.copy()
    defaults = {S.QB_TYPE: "", S.HOURS: 0.0, S.ENTRIES: 0, S.WHY: "", S.ACTIVE: True,
                S.NEEDS_REVIEW: None, S.CONFLICT: False, S.NEAR_TIE: False, S.STALE: False,
                S.REMEMBERED: "", S.EMAIL: "", S.CLIENT_MATCH: "", S.MARGIN: float("nan")}
    for col, d in defaults.items():
        if col not in s.columns:
            s[col] = d
    if s[S.NEEDS_REVIEW].isna().all():
        r1 = s[S.RANK] == 1
        safe = s[S.BAND].isin(["exact", "strong"])
        s[S.NEEDS_REVIEW] = ~(safe & r1).groupby([s[S.KIND], s[S.SOURCE_NAME]]).transform("any")
    for col in (S.QB_TYPE, S.WHY, S.REMEMBERED, S.EMAIL, S.CLIENT_MATCH, S.QB_ID, S.QB_NAME,
                S.KIND, S.SOURCE_NAME, S.BAND):
        s[col] = s[col].astype(S.STRING).fillna("")
    for col in (S.CONFLICT, S.NEAR_TIE, S.STALE, S.NEEDS_REVIEW):
        s[col] = s[col].astype("boolean").fillna(False).astype(bool)
    s[S.ACTIVE] = s[S.ACTIVE].astype("boolean")
    return s.sort_values([S.KIND, S.SOURCE_NAME, S.RANK], kind="stable")


def _choices(sugg: pd.DataFrame, lists) -> dict[str, pd.DataFrame]:
    """Per kind: every QuickBooks name a decision may name (qb_name, qb_id, qb_type, active)."""
    out = {}
    if lists is not None:
        ppl = lists.people()
        full = ppl[S.FULL_NAME].astype(S.STRING).fillna("")
        name = full.where(full != "", ppl[S.NAME].astype(S.STRING).fillna(""))
        out["employee"] = pd.DataFrame({S.QB_NAME: name, S.QB_ID: ppl[S.QB_ID],
                                        S.QB_TYPE: ppl[S.QB_TYPE], S.ACTIVE: ppl[S.ACTIVE]})
        c = lists.customers
        full = c[S.FULL_NAME].astype(S.STRING).fillna("")
        name = full.where(full != "", c[S.NAME].astype(S.STRING).fillna(""))
        out["customer"] = pd.DataFrame({S.QB_NAME: name, S.QB_ID: c[S.QB_ID],
                                        S.QB_TYPE: "Customer", S.ACTIVE: c[S.ACTIVE]})
    else:
        found = sugg[sugg[S.QB_ID] != ""]
        for kind in KIND_SHEETS:
            f = found[found[S.KIND] == kind]
            out[kind] = pd.DataFrame({S.QB_NAME: f[S.QB_NAME], S.QB_ID: f[S.QB_ID],
                                      S.QB_TYPE: f[S.QB_TYPE],
                                      S.ACTIVE: f[S.ACTIVE].fillna(True).astype(bool)})
    for kind, f in out.items():
        f = f.drop_duplicates([S.QB_ID, S.QB_TYPE])
        f = f.assign(**{S.ACTIVE: f[S.ACTIVE].astype(bool)})
        out[kind] = f.sort_values([S.ACTIVE, S.QB_NAME], ascending=[False, True]).reset_index(
            drop=True)
    return out


def _write_names_sheet(ws, choices: dict[str, pd.DataFrame]) -> dict[str, str]:
    """Columns per kind: choice, id, type, active. Returns the dropdown range per kind."""
    ranges = {}
    for i, (kind, f) in enumerate(choices.items()):
        c0 = 1 + i * 5
        for j, h in enumerate((f"{kind} choices", f"{kind} id", f"{kind} type", f"{kind} active")):
            _put(ws, 1, c0 + j, h)
        _put(ws, 2, c0, ACCEPT)
        _put(ws, 3, c0, REJECT)
        for r, row in enumerate(f.itertuples(index=False), start=4):
            _put(ws, r, c0, getattr(row, S.QB_NAME))
            _put(ws, r, c0 + 1, getattr(row, S.QB_ID))
            _put(ws, r, c0 + 2, getattr(row, S.QB_TYPE))
            _put(ws, r, c0 + 3, "yes" if getattr(row, S.ACTIVE) else "no")
        last_active = 3 + int(f[S.ACTIVE].sum())
        col = _letter(c0)
        ranges[kind] = f"'{NAMES_SHEET}'!${col}$2:${col}${last_active}"
    return ranges


def _write_kind_sheet(ws, kind: str, part: pd.DataFrame, dropdown: str | None) -> int:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    max_rank = int(part[S.RANK].max()) if len(part) else 1
    extra = []
    for r in range(2, max(max_rank, 3) + 1):
        extra += [(f"candidate {r}", 32), (f"score {r}", 8)]
    headers = _COLS + extra + [(h, 12) for h in _HIDDEN]
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="D9D9D9")
    for c, (h, width) in enumerate(headers, start=1):
        cell = _put(ws, 1, c, h)
        cell.font = bold
        cell.fill = head_fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions[_letter(c)].width = width
    col = {h: i for i, (h, _) in enumerate(headers, start=1)}
    # plain Python rows: one pass, no per-value pandas indexing
    ordered = part.sort_values([S.SOURCE_NAME, S.RANK], kind="stable")
    records = ordered.astype(object).where(ordered.notna(), None).to_dict("records")
    groups: dict[str, list[dict]] = {}
    for rec in records:
        groups.setdefault(rec[S.SOURCE_NAME], []).append(rec)
    r = 1
    red = Font(color="9C0006", bold=True)
    fills = {b: PatternFill("solid", fgColor=c) for b, c in BAND_FILLS.items()}
    widths = {c: w for c, (_, w) in enumerate(headers, start=1)}
    for source, g in groups.items():
        r += 1
        top = g[0]
        found = top[S.QB_ID] != ""
        flags = _flags(top)
        decided = _prefill(top)
        values = {
            "source name": source,
            "hours": round(float(top[S.HOURS]), 2),
            "entries": int(top[S.ENTRIES]),
            "decision": decided,
            "suggested QuickBooks name": top[S.QB_NAME] if found else "",
            "type": top[S.QB_TYPE],
            "score": float(top[S.SCORE]) if found else None,
            "band": top[S.BAND],
            "why": top[S.WHY],
            "flags": flags,
            "_kind": kind,
            "_suggested_id": top[S.QB_ID],
            "_suggested_type": top[S.QB_TYPE],
            "_candidate_ids": _SEP.join(f"{c[S.QB_TYPE]}\t{c[S.QB_ID]}" for c in g if c[S.QB_ID]),
            "_email": top[S.EMAIL],
            "_client_match": top[S.CLIENT_MATCH],
            "_band": top[S.BAND],
        }
        for cand in g[1:]:
            values[f"candidate {int(cand[S.RANK])}"] = cand[S.QB_NAME]
            values[f"score {int(cand[S.RANK])}"] = float(cand[S.SCORE])
        fill = fills[str(top[S.BAND])] if str(top[S.BAND]) in fills else fills["none"]
        for h, c in col.items():
            v = values.get(h)
            cell = _put(ws, r, c, v)
            if not h.startswith("_"):
                cell.fill = fill
            if isinstance(v, str) and len(v) + 2 > widths[c] and not h.startswith("_"):
                widths[c] = min(len(v) + 2, 60)
        if flags:
            ws.cell(row=r, column=col["flags"]).font = red
    for c, w in widths.items():
        ws.column_dimensions[_letter(c)].width = w
    for h in _HIDDEN:
        ws.column_dimensions[_letter(col[h])].hidden = True
    dcol = _letter(col["decision"])
    last = max(r, 2)
    if dropdown:
        dv = DataValidation(
            type="list", formula1=dropdown, allow_blank=True, showErrorMessage=True,
            errorTitle="Not a QuickBooks name",
            error="Choose accept, reject, or a QuickBooks name from the list.",
            showInputMessage=True, promptTitle="Decision",
            prompt="accept the suggestion, reject it (no QuickBooks record), or pick another name",
        )
        dv.add(f"{dcol}2:{dcol}{max(last, 2) + 200}")
        ws.add_data_validation(dv)
    ws.cell(row=1, column=col["decision"]).fill = PatternFill("solid", fgColor="BDD7EE")
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = f"A1:{_letter(col['flags'] + len(extra))}{last}"
    return r - 1


def _flags(top: dict) -> str:
    out = []
    if top[S.QB_ID] != "" and top[S.ACTIVE] is not None and not bool(top[S.ACTIVE]):
        out.append("inactive record")
    if top[S.NEAR_TIE]:
        out.append("near tie")
    if top[S.CONFLICT]:
        out.append("another name wants it")
    if top[S.STALE]:
        out.append("remembered match gone")
    if top[S.REMEMBERED] and not top[S.STALE]:
        out.append(f"remembered: {top[S.REMEMBERED]}")
    return "; ".join(out)


def _prefill(top: dict) -> str:
    if top[S.NEEDS_REVIEW]:
        return ""
    if top[S.REMEMBERED] == "rejected" and top[S.BAND] not in ("exact", "strong"):
        return REJECT
    return ACCEPT if top[S.QB_ID] != "" else ""


def _write_help(ws, counts) -> None:
    from openpyxl.styles import Alignment, Font

    lines = [
        ("Match review", "title"),
        ("Each sheet lists the names found in the time-tracker export, one row per name, with the "
         "QuickBooks record qbrecon suggests for it.", ""),
        ("", ""),
        ("What to do", "head"),
        ("1. Open the Employees and Customers sheets. Rows that need you have an empty decision.", ""),
        ("2. In the decision column choose: accept (the suggested name is right), reject (no "
         "QuickBooks record: it will be proposed as a new record), or pick the right QuickBooks "
         "name from the dropdown.", ""),
        ("3. Pre-filled 'accept' rows are exact or clearly-ahead matches; change them if they are wrong.", ""),
        ("4. Save the workbook and give it back (qbrecon apply-review, or read_review_workbook).", ""),
        ("Every row needs a decision. qbrecon reports every empty or unknown decision by sheet, row "
         "and column.", ""),
        ("", ""),
        ("Columns", "head"),
        ("source name: the name as the time tracker writes it (Client:Project for customers).", ""),
        ("hours, entries: the tracked time behind that name.", ""),
        ("suggested QuickBooks name, type, score (0-100), band: the best candidate.", ""),
        ("why: the evidence (same after normalization, name order swapped, matched email, "
         "typo-level difference, ...).", ""),
        ("flags: inactive record, near tie (the next candidate is as good), another name wants "
         "it (two names point at one record), remembered (decided in an earlier period).", ""),
        ("candidate 2, 3: the runners-up and their scores.", ""),
        ("", ""),
        ("Bands (row colours)", "head"),
        ("exact (green): identical, or identical after normalization (case, accents, "
         "punctuation, legal suffixes, 'Last, First'); an identical name is always suggested "
         "first.", "exact"),
        ("strong (light green): a close spelling, clearly ahead of every other candidate.", "strong"),
        ("weak (yellow): possible, but needs your eyes.", "weak"),
        ("none (red): no similar QuickBooks name.", "none"),
        ("", ""),
        ("In this workbook", "head"),
    ]
    for title, part, n in counts:
        r1 = part[part[S.RANK] == 1]
        bands = ", ".join(f"{b} {int((r1[S.BAND] == b).sum())}" for b in S.BANDS)
        review = int(r1[S.NEEDS_REVIEW].sum()) if len(r1) else 0
        lines.append((f"{title}: {n} names ({bands}); {review} need a decision.", ""))
    from openpyxl.styles import PatternFill

    for r, (text, style) in enumerate(lines, start=1):
        cell = _put(ws, r, 1, text)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if style == "title":
            cell.font = Font(bold=True, size=14)
        elif style == "head":
            cell.font = Font(bold=True)
        elif style in BAND_FILLS:
            cell.fill = PatternFill("solid", fgColor=BAND_FILLS[style])
    ws.column_dimensions["A"].width = 110


# ------------------------------------------------------------------------- reading
def read_review_decisions(path: str | os.PathLike, *, allow_blank: bool = False) -> pd.DataFrame:
    """Every decision in a review workbook, accepted and rejected.

    Args:
        path: a workbook written by :func:`write_review_workbook` and edited by a person.
        allow_blank: leave rows without a decision out instead of reporting them.

    Returns:
        ``kind, source_name, decision, qb_id, qb_name, qb_type, how`` plus the evidence
        ``hours, entries, email, client_match``. An accepted row maps the source name;
        a rejected row names a candidate that is wrong (``qb_id`` "" when there was none).
        Choosing another name also rejects the suggestion it replaces.

    Raises:
        InputError: the file cannot be read as a review workbook, or decisions are
            invalid; every invalid cell is listed with its sheet, row and column.
    """
    from openpyxl import load_workbook

    path = Path(path)
    if not path.exists():
        raise InputError("review workbook not found", file=str(path))
    try:
        wb = load_workbook(path, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InputError(f"not an Excel workbook (.xlsx): {exc}", file=str(path)) from None
    names = _read_names(wb)
    rows, problems = [], []
    sheets = [t for t in KIND_SHEETS.values() if t in wb.sheetnames]
    if not sheets:
        raise InputError(
            f"not a review workbook: no {' or '.join(KIND_SHEETS.values())} sheet", file=str(path))
    for kind, title in KIND_SHEETS.items():
        if title in wb.sheetnames:
            _read_kind(wb[title], kind, names.get(kind), rows, problems, allow_blank)
    if problems:
        raise InputError(f"{len(problems)} decision(s) cannot be used", file=str(path),
                         problems=problems)
    cols = [*S.STORE_COLUMNS[:6], S.HOW, S.HOURS, S.ENTRIES, S.EMAIL, S.CLIENT_MATCH]
    out = pd.DataFrame(rows, columns=cols)
    dtypes = {**{c: S.STRING for c in cols}, S.HOURS: "float64", S.ENTRIES: "int64"}
    return S.conform(out, dtypes, what="review decisions", extra=False)


def read_review_workbook(path: str | os.PathLike, *, allow_blank: bool = False) -> pd.DataFrame:
    """The mapping from a review workbook, with the accountant's decisions applied.

    Args:
        path: a workbook written by :func:`write_review_workbook` and edited by a person.
        allow_blank: leave rows without a decision out instead of reporting them.

    Returns:
        ``kind, source_name, qb_id, qb_name, qb_type``: one row per accepted source name.

    Raises:
        InputError: listing every invalid cell (unknown name, empty decision, inactive
            record, ...) by sheet, row and column, in one error.
    """
    d = read_review_decisions(path, allow_blank=allow_blank)
    m = d[d[S.DECISION] == "accepted"][list(S.MAPPING_TYPED_DTYPES)]
    return m.reset_index(drop=True)


def _read_names(wb) -> dict[str, dict]:
    """Per kind: exact name -> [records], casefolded name -> [records]."""
    out: dict[str, dict] = {}
    if NAMES_SHEET not in wb.sheetnames:
        return out
    ws = wb[NAMES_SHEET]
    header = [c.value for c in next(ws.iter_rows(min_row=1, max_row=1))]
    for kind in KIND_SHEETS:
        try:
            c0 = header.index(f"{kind} choices")
        except ValueError:
            continue
        exact: dict[str, list] = {}
        folded: dict[str, list] = {}
        by_id: dict[str, tuple] = {}
        for row in ws.iter_rows(min_row=4, values_only=True):
            name = row[c0] if c0 < len(row) else None
            if name is None or str(name) == "":
                continue
            rec = (str(name), _s(row[c0 + 1]), _s(row[c0 + 2]), _s(row[c0 + 3]) != "no")
            exact.setdefault(str(name), []).append(rec)
            folded.setdefault(str(name).strip().casefold(), []).append(rec)
            by_id.setdefault((rec[1], rec[2]), rec)
            by_id.setdefault((rec[1], ""), rec)
        out[kind] = {"exact": exact, "folded": folded, "id": by_id}
    return out


def _read_kind(ws, kind, names, rows, problems, allow_blank) -> None:
    header = [_s(c.value) for c in next(ws.iter_rows(min_row=1, max_row=1))]
    need = ["source name", "decision", "_suggested_id"]
    missing = [h for h in need if h not in header]
    if missing:
        problems.extend(Problem(f"sheet {ws.title!r} has no column {h!r}", column=h)
                        for h in missing)
        return
    ix = {h: i for i, h in enumerate(header) if h}
    dcol = _letter(ix["decision"] + 1)
    seen: dict[str, int] = {}
    for r, row in enumerate(ws.iter_rows(min_row=2, values_only=True), start=2):
        get = lambda h, row=row: _s(row[ix[h]]) if h in ix and ix[h] < len(row) else ""  # noqa: E731
        source = get("source name")
        raw_decision = row[ix["decision"]] if ix["decision"] < len(row) else None
        decision = _s(raw_decision).strip()
        if not source.strip():
            if decision:
                problems.append(Problem("a decision on a row without a source name", row=r,
                                        column=f"{ws.title}!{dcol} (decision)", value=decision))
            continue
        where = f"{ws.title}!{dcol} (decision)"
        if source in seen:
            problems.append(Problem(f"source name also on row {seen[source]}", row=r,
                                    column=f"{ws.title}!A (source name)", value=source))
            continue
        seen[source] = r
        sid, stype = get("_suggested_id"), get("_suggested_type")
        sname = get("suggested QuickBooks name")
        cands = [tuple(c.split("\t", 1)[::-1]) if "\t" in c else (c, "")
                 for c in get("_candidate_ids").split(_SEP) if c]  # (id, type)
        try:
            hours = float(row[ix["hours"]]) if "hours" in ix and row[ix["hours"]] is not None else 0.0
            n_entries = int(row[ix["entries"]]) if "entries" in ix and row[ix["entries"]] is not None else 0
        except (TypeError, ValueError):
            hours, n_entries = 0.0, 0
        ev = [hours, n_entries, get("_email"), get("_client_match")]
        band = get("_band") or get("band")
        word = decision.casefold()
        if not decision:
            if not allow_blank:
                problems.append(Problem("no decision: choose accept, reject or a QuickBooks name",
                                        row=r, column=where))
            continue
        if word in _ACCEPT_WORDS:
            if not sid:
                problems.append(Problem("nothing to accept (no suggestion): choose a QuickBooks "
                                        "name or reject", row=r, column=where, value=decision))
                continue
            rec = _lookup_id(names, sid, stype)
            if rec is not None and not rec[3]:
                problems.append(Problem(f"the suggested record {sname!r} is inactive in "
                                        "QuickBooks: choose another name or reject", row=r,
                                        column=where, value=decision))
                continue
            rows.append([kind, source, "accepted", sid, sname, stype,
                         f"review: accepted suggestion ({band})", *ev])
            continue
        if word in _REJECT_WORDS:
            for cid, ctype in cands or [("", "")]:
                rec = _lookup_id(names, cid, ctype)
                rows.append([kind, source, "rejected", cid, rec[0] if rec else "",
                             rec[2] if rec else ctype, "review: rejected", *ev])
            continue
        found = _lookup_name(names, decision, raw=_s(raw_decision))
        if found is None:
            problems.append(Problem("unknown QuickBooks name: pick one from the dropdown", row=r,
                                    column=where, value=decision))
            continue
        if found == "ambiguous":
            problems.append(Problem("more than one QuickBooks record has this name", row=r,
                                    column=where, value=decision))
            continue
        name, qid, qtype, active = found
        if not active:
            problems.append(Problem("this QuickBooks record is inactive: make it active in "
                                    "QuickBooks or choose another", row=r, column=where,
                                    value=decision))
            continue
        same = qid == sid and qtype == stype
        how = f"review: accepted suggestion ({band})" if same else "review: chose another name"
        rows.append([kind, source, "accepted", qid, name, qtype, how, *ev])
        if sid and not same:
            rows.append([kind, source, "rejected", sid, sname, stype, "review: chose another name",
                         *ev])


def _lookup_name(names, text: str, *, raw: str):
    if not names:
        return None
    for candidate, table in ((raw, "exact"), (text, "exact"), (text.casefold(), "folded")):
        recs = names[table].get(candidate)
        if recs:
            return recs[0] if len({(r[1], r[2]) for r in recs}) == 1 else "ambiguous"
    return None


def _lookup_id(names, qid: str, qtype: str = ""):
    if not names or not qid:
        return None
    return names["id"].get((qid, qtype)) or names["id"].get((qid, ""))


# ==================================================================== mapping store
def read_mapping_store(path: str | os.PathLike) -> pd.DataFrame:
    """The remembered decisions in a mapping store file (empty when it does not exist yet).

    The file is CSV with the columns ``kind, source_name, decision, qb_id, qb_name,
    qb_type, decided_at, decided_by, how``; one accepted pair per source name at most, any
    number of rejected pairs.

    Raises:
        InputError: the file is not a mapping store; every bad row and column is listed.

    Example:
        >>> read_mapping_store("no-such-store.csv").columns.tolist()[:4]
        ['kind', 'source_name', 'decision', 'qb_id']
    """
    path = Path(path)
    if not path.exists():
        log.info("mapping store %s does not exist yet: starting empty", path)
        return S.empty_frame(S.STORE_DTYPES)
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    except OSError as exc:
        raise InputError(f"cannot read the mapping store: {exc}", file=str(path)) from None
    from .mapping import table_separator

    reader = csv.reader(io.StringIO(text), delimiter=table_separator(text))
    try:
        header = next(reader)
    except StopIteration:
        return S.empty_frame(S.STORE_DTYPES)
    header = [h.strip() for h in header]
    missing = [c for c in (S.KIND, S.SOURCE_NAME, S.DECISION, S.QB_ID) if c not in header]
    if missing:
        raise InputError("not a mapping store: required columns are missing", file=str(path),
                         problems=[Problem("missing column", column=c) for c in missing])
    records, problems = [], []
    accepted: dict[tuple[str, str], int] = {}
    for r, fields in enumerate(reader, start=2):
        if not any(f.strip() for f in fields):
            continue
        rec = {c: unescape_text(fields[i]) if i < len(fields) else "" for i, c in enumerate(header)}
        kind, source = rec.get(S.KIND, "").strip(), rec.get(S.SOURCE_NAME, "")
        decision = rec.get(S.DECISION, "").strip().lower()
        if kind not in S.KINDS:
            problems.append(Problem(f"kind must be one of {', '.join(S.KINDS)}", row=r,
                                    column=S.KIND, value=kind))
        if not source.strip():
            problems.append(Problem("source_name is empty", row=r, column=S.SOURCE_NAME))
        if decision not in S.DECISIONS:
            problems.append(Problem("decision must be accepted or rejected", row=r,
                                    column=S.DECISION, value=decision))
        if decision == "accepted":
            if not rec.get(S.QB_ID, "").strip():
                problems.append(Problem("an accepted pair needs a qb_id", row=r, column=S.QB_ID))
            key = (kind, source)
            if key in accepted:
                problems.append(Problem(f"a second accepted pair for this name (first on row "
                                        f"{accepted[key]})", row=r, column=S.SOURCE_NAME,
                                        value=source))
            accepted.setdefault(key, r)
        rec[S.KIND], rec[S.DECISION] = kind, decision
        records.append(rec)
    if problems:
        raise InputError("the mapping store has invalid rows", file=str(path), problems=problems)
    df = pd.DataFrame(records, columns=header)
    for c in S.STORE_COLUMNS:
        if c not in df.columns:
            df[c] = ""
    return S.conform(df[S.STORE_COLUMNS].fillna(""), S.STORE_DTYPES, what="mapping store",
                     file=str(path), extra=False)


def write_mapping_store(store: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write the mapping store as CSV (atomically; UTF-8 with BOM for Excel).

    Example:
        >>> import tempfile, pathlib
        >>> from qbrecon.match import remember
        >>> m = pd.DataFrame({"kind": ["customer"], "source_name": ["=cmd"], "qb_id": ["7"],
        ...                   "qb_name": ["Acme"]})
        >>> p = write_mapping_store(remember(None, m), pathlib.Path(tempfile.mkdtemp()) / "m.csv")
        >>> read_mapping_store(p)["source_name"].tolist()
        ['=cmd']
    """
    from .match import _store_frame

    st = _store_frame(store)
    path = Path(path)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(S.STORE_COLUMNS)
    for row in st.astype(object).where(st.notna(), "").itertuples(index=False):
        w.writerow([escape_cell(str(v)) for v in row])
    _atomic_write(path, lambda f: f.write(buf.getvalue().encode("utf-8-sig")))
    log.info("wrote %d remembered decisions to %s", len(st), path)
    return path


# ====================================================================== new records
def write_new_records(records: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write proposed new records (:func:`qbrecon.propose_new_records`) by file suffix.

    ``.csv`` and ``.xlsx`` hold the frame as it is; ``.iif`` writes QuickBooks Desktop
    list blocks (``!EMP``, ``!VEND``, ``!CUST`` with ``Parent:Job`` names; tab separated,
    Windows-1252, CRLF) for File → Utilities → Import → IIF Files.

    Raises:
        InputError: an unknown suffix, or names Windows-1252 cannot hold (IIF).
    """
    from .match import _require

    _require(records, [S.KIND, S.NAME, S.PARENT_FULL_NAME, S.QB_TYPE], what="new records")
    path = Path(path)
    if path.suffix.lower() == ".iif":
        _atomic_write(path, lambda f: f.write(_iif_lists(records, path)))
    elif path.suffix.lower() in (".csv", ".xlsx"):
        write_table(records, path, sheet="New records")
    else:
        raise InputError("new records can be written as .csv, .xlsx or .iif", file=str(path))
    log.info("wrote %d proposed new records to %s", len(records), path)
    return path


def write_table(df: pd.DataFrame, path: str | os.PathLike, *, sheet: str = "Sheet1") -> Path:
    """Write a frame (a mapping, suggestions, new records) as ``.csv`` or ``.xlsx``.

    CSV is UTF-8 with a byte-order mark (Excel shows accents), text that would run as a
    formula gets a leading ``'``; XLSX has a bold frozen header, filters and widths.

    Raises:
        InputError: another suffix, or the file cannot be written.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(list(df.columns))
        for row in df.astype(object).where(df.notna(), "").itertuples(index=False):
            w.writerow([escape_cell(str(v)) for v in row])
        _atomic_write(path, lambda f: f.write(buf.getvalue().encode("utf-8-sig")))
    elif suffix == ".xlsx":
        try:
            write_workbook(path, {sheet: df})
        except OSError as exc:
            raise InputError(f"cannot write the file: {exc}", file=str(path)) from None
    else:
        raise InputError("tables can be written as .csv or .xlsx", file=str(path))
    return path


def _iif_lists(records: pd.DataFrame, path: Path) -> bytes:
    def clean(v) -> str:
        return " ".join(str(v if v is not None and v is not pd.NA else "").split())

    lines, problems = [], []
    people = records[records[S.KIND] == "employee"]
    for qb_type, key in (("Employee", "EMP"), ("Vendor", "VEND")):
        part = people[people[S.QB_TYPE].astype(str) == qb_type]
        if len(part):
            lines.append(f"!{key}\tNAME\tFIRSTNAME\tLASTNAME\tEMAIL")
            for row in part.itertuples(index=False):
                d = row._asdict()
                lines.append("\t".join([key, clean(d[S.NAME]), clean(d.get(S.FIRST_NAME, "")),
                                        clean(d.get(S.LAST_NAME, "")), clean(d.get(S.EMAIL, ""))]))
    cust = records[records[S.KIND] == "customer"]
    if len(cust):
        lines.append("!CUST\tNAME")
        for row in cust.itertuples(index=False):
            d = row._asdict()
            parent = clean(d[S.PARENT_FULL_NAME])
            full = f"{parent}:{clean(d[S.NAME])}" if parent else clean(d[S.NAME])
            lines.append(f"CUST\t{full}")
    text = "\r\n".join(lines) + "\r\n"
    for i, line in enumerate(lines, start=1):
        try:
            line.encode("cp1252")
        except UnicodeEncodeError as exc:
            problems.append(Problem(f"character {line[exc.start]!r} cannot be written in an IIF "
                                    "file (Windows-1252)", row=i, value=line.split("\t")[1]))
    if problems:
        raise InputError("names that QuickBooks Desktop IIF cannot hold", file=str(path),
                         problems=problems)
    return text.encode("cp1252")


# ========================================================================= helpers
def _put(ws, row: int, col: int, value):
    """Set a cell; text is always stored as text, never as a formula."""
    cell = ws.cell(row=row, column=col)
    if value is None:
        return cell
    if isinstance(value, str):
        text_cell(cell, value)
    else:
        cell.value = value.item() if hasattr(value, "item") else value
    return cell


def _s(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _letter(col: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(col)


def _atomic_write(path: Path, write: Callable) -> None:
    try:
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            write(f)
    except OSError as exc:
        raise InputError(f"cannot write the file: {exc}", file=str(path)) from None


def _atomic_save(wb, path: Path) -> None:
    _atomic_write(path, wb.save)


__all__ = [
    "read_mapping_store",
    "read_review_decisions",
    "read_review_workbook",
    "write_mapping_store",
    "write_new_records",
    "write_review_workbook",
    "write_table",
]
