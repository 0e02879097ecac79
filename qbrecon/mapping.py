"""The mapping: which QuickBooks record each tracker name stands for.

A mapping frame has the columns ``kind, source_name, qb_id, qb_name`` (see
:data:`qbrecon.schema.MAPPING_COLUMNS`) and optionally ``qb_type``:

* kind ``"employee"`` maps a tracker user name to a QuickBooks employee or vendor
  (``qb_type`` "Employee" or "Vendor" says which list);
* kind ``"customer"`` maps ``"Client:Project"`` (or ``"Project"`` when the entry has no
  client) to a customer or sub-customer/job;
* kind ``"item"`` maps a tracker task name to a service item.

A row whose ``qb_id`` is empty records a decision that the name has no QuickBooks
match. Names are compared after trimming, collapsing whitespace (also around ``:``)
and case folding, so ``"ada  lovelace"`` finds the mapping of ``"Ada Lovelace"``.

:func:`customer_source_names` builds the customer keys of entries exactly as the
matching step does.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from . import schema as S
from .errors import InputError, Problem

DECISION = "decision"  # the mapping store's column: "accepted" or "rejected"
_SPACES = re.compile(r"\s+")
_COLON = re.compile(r"\s*:\s*")


def normalize_key(name: str) -> str:
    """The form in which mapping keys are compared.

    Example:
        >>> normalize_key("  Acme Corp :  Site  2 ")
        'acme corp:site 2'
    """
    return _COLON.sub(":", _SPACES.sub(" ", str(name)).strip()).casefold()


def customer_source_names(entries: pd.DataFrame) -> pd.Series:
    """The customer key of each entry: ``"Client:Project"``, ``"Project"`` or ``""``.

    An entry with a client and a project gives ``"Client:Project"`` (the shape of a
    QuickBooks sub-customer full name); one with only a project gives ``"Project"``; one
    without a project gives ``""`` (no customer: the ``no_project`` rule speaks for
    billable time). These are the ``source_name`` keys the matching step writes.

    Example:
        >>> e = pd.DataFrame({"client": ["Acme", "", "Acme", ""], "project": ["Site", "Web", "", ""]})
        >>> customer_source_names(e).tolist()
        ['Acme:Site', 'Web', '', '']
    """
    client = entries[S.CLIENT].astype(S.STRING).fillna("").str.strip()
    project = entries[S.PROJECT].astype(S.STRING).fillna("").str.strip()
    out = (client + ":" + project).where(client != "", project).where(project != "", "")
    return out.astype(S.STRING)


def check_mapping(mapping: pd.DataFrame, *, file: str | None = None) -> pd.DataFrame:
    """Check a mapping frame and return a clean copy with ``qb_type`` (``""`` where unknown).

    Extra columns (scores, reviewer notes) are dropped. Rows are kept in order; exact
    duplicates are dropped. Values are stripped; a missing ``qb_id`` becomes ``""``. A
    frame with a ``decision`` column (the mapping store, review decisions) keeps its
    "accepted" rows (and rows with no decision): a "rejected" pair says which record a
    name is *not*, so it never maps anything.

    Raises:
        InputError: missing columns, an unknown kind, qb_type or decision, an empty
            source name, or one name mapped to two different QuickBooks records; every
            problem at once.
    """
    if not isinstance(mapping, pd.DataFrame):
        raise InputError(f"the mapping must be a pandas DataFrame, not {type(mapping).__name__}")
    missing = [c for c in S.MAPPING_COLUMNS if c not in mapping.columns]
    if missing:
        raise InputError(
            "the mapping lacks required columns",
            file=file,
            problems=[
                Problem(f"missing column (a mapping has {', '.join(S.MAPPING_COLUMNS)})", column=c)
                for c in missing
            ],
        )
    cols = [*S.MAPPING_COLUMNS, S.QB_TYPE]
    out = pd.DataFrame(index=mapping.index)
    for c in cols:
        raw = mapping[c] if c in mapping.columns else pd.Series("", index=mapping.index)
        out[c] = _text(raw)
    out[S.KIND] = out[S.KIND].str.lower()
    canonical_types = {q.casefold(): q for q in S.QB_TYPES}
    out[S.QB_TYPE] = (
        out[S.QB_TYPE].map(lambda v: canonical_types.get(v.casefold(), v)).astype(S.STRING)
    )
    rows = _rows(mapping, file)
    problems: list[Problem] = []
    bad_kind = ~out[S.KIND].isin(S.KINDS)
    for i in np.flatnonzero(bad_kind.to_numpy()):
        problems.append(
            Problem(
                f"unknown kind; allowed: {', '.join(S.KINDS)}",
                row=rows[i],
                column=S.KIND,
                value=out[S.KIND].iat[i],
            )
        )
    bad_type = (out[S.QB_TYPE] != "") & ~out[S.QB_TYPE].isin(S.QB_TYPES)
    for i in np.flatnonzero(bad_type.to_numpy()):
        problems.append(
            Problem(
                f"unknown qb_type; allowed: {', '.join(S.QB_TYPES)} or empty",
                row=rows[i],
                column=S.QB_TYPE,
                value=out[S.QB_TYPE].iat[i],
            )
        )
    no_name = out[S.SOURCE_NAME] == ""
    for i in np.flatnonzero(no_name.to_numpy()):
        problems.append(Problem("empty source name", row=rows[i], column=S.SOURCE_NAME))
    keep = np.ones(len(out), dtype=bool)
    if DECISION in mapping.columns:
        decision = _text(mapping[DECISION]).str.lower()
        bad = ~decision.isin(["accepted", "rejected", ""])
        for i in np.flatnonzero(bad.to_numpy()):
            problems.append(
                Problem(
                    "unknown decision; allowed: accepted, rejected or empty",
                    row=rows[i],
                    column=DECISION,
                    value=decision.iat[i],
                )
            )
        keep = (decision != "rejected").to_numpy()
    out = out.reset_index(drop=True)
    rows = [r for r, k in zip(rows, keep, strict=True) if k]
    out = out[keep].reset_index(drop=True)
    key = out[S.KIND] + "\x1f" + out[S.SOURCE_NAME].map(normalize_key, na_action="ignore")
    dup = out.assign(_key=key).drop_duplicates()
    conflicts = dup[dup.duplicated("_key", keep=False) & (dup[S.SOURCE_NAME] != "")]
    for _, grp in conflicts.groupby("_key", sort=False):
        first = grp.index[0]
        ids = ", ".join(dict.fromkeys(grp[S.QB_ID].replace("", "(no match)")))
        where = [r for r in (rows[int(i)] for i in grp.index) if r is not None]
        also = f" (rows {', '.join(map(str, where))})" if len(where) > 1 else ""
        problems.append(
            Problem(
                f"{grp[S.KIND].iat[0]} name mapped to different QuickBooks records ({ids})"
                f"{also}; keep one row",
                row=rows[int(first)],
                column=S.SOURCE_NAME,
                value=grp[S.SOURCE_NAME].iat[0],
            )
        )
    if problems:
        problems.sort(key=lambda p: p.row or 0)
        raise InputError("the mapping has problems", file=file, problems=problems)
    out = out.drop_duplicates().reset_index(drop=True)
    return S.conform(out, {**S.MAPPING_DTYPES, S.QB_TYPE: S.STRING}, what="mapping", extra=False)


def read_mapping(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a mapping file: a table with ``kind, source_name, qb_id, qb_name``, the
    mapping store, or a review workbook.

    * a CSV or XLSX table: other columns (``qb_type`` is kept; scores, notes and the like
      are ignored) may be present, in any order;
    * the mapping store (:func:`qbrecon.write_mapping_store`, a CSV with a ``decision``
      column): its accepted pairs; rejected pairs never map anything;
    * a review workbook (:func:`qbrecon.write_review_workbook`, with the accountant's
      decisions): read through :func:`qbrecon.read_review_workbook`.

    Row numbers in errors are as a spreadsheet shows them.

    Args:
        path: a ``.csv`` (UTF-8, with or without BOM) or ``.xlsx`` file.

    Returns:
        The checked mapping (see :func:`check_mapping`).

    Raises:
        InputError: the file is missing or unreadable, or its rows break the mapping's rules.

    Example:
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "mapping.csv")
        >>> _ = open(p, "w").write("kind,source_name,qb_id,qb_name,score\\nemployee,Ada,55,Ada Lovelace,97\\n")
        >>> read_mapping(p)[["kind", "source_name", "qb_id"]].values.tolist()
        [['employee', 'Ada', '55']]
    """
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm") and _is_review_workbook(path):
        from .review import read_review_workbook

        return check_mapping(read_review_workbook(path), file=str(path))
    frame = read_table(path, what="mapping")
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    if DECISION in frame.columns and path.suffix.lower() in (".csv", ".txt"):
        from .review import read_mapping_store

        # the store's own reader undoes the formula guard it writes (a leading ')
        frame = read_mapping_store(path)
    return check_mapping(frame, file=str(path))


def _is_review_workbook(path: Path) -> bool:
    try:
        from .review import KIND_SHEETS

        names = pd.ExcelFile(path, engine="openpyxl").sheet_names
    except Exception:  # unreadable: read_table reports it properly
        return False
    return any(s in names for s in KIND_SHEETS.values())


def read_table(path: Path, *, what: str) -> pd.DataFrame:
    """A CSV or XLSX file as a frame of text (``""`` for empty cells), header on row 1.

    Raises:
        InputError: the file does not exist, has another extension, or cannot be parsed.
    """
    if not path.exists():
        raise InputError(f"no such {what} file", file=str(path))
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".txt"):
            frame = _read_csv_table(path, what=what)
        elif suffix in (".xlsx", ".xlsm"):
            frame = pd.read_excel(path, dtype=object, engine="openpyxl")
            frame = frame.map(_cell_text) if len(frame) else frame.astype(object)
        else:
            frame = None
        if frame is not None:
            # rows with every cell empty (what a spreadsheet saves for blank rows) are
            # skipped; the index keeps each row's place, so row numbers stay as shown
            empty = (frame.astype(str).apply(lambda c: c.str.strip()) == "").all(axis=1)
            return frame[~empty.to_numpy()] if len(frame) else frame
    except InputError:
        raise
    except (ValueError, OSError, KeyError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read the {what} file: {exc}", file=str(path)) from exc
    except Exception as exc:  # openpyxl raises assorted zip/XML errors on damaged files
        raise InputError(
            f"cannot read the {what} file: {type(exc).__name__}: {exc}", file=str(path)
        ) from exc
    raise InputError(
        f"a {what} file must be .csv or .xlsx, not {suffix or 'no extension'!r}", file=str(path)
    )


def table_separator(text: str) -> str:
    """The separator of a CSV table: ``,``, or ``;`` or a tab when its header line has
    more of those (Excel saves ``;`` where the decimal mark is a comma)."""
    header = text.lstrip("\ufeff").split("\n", 1)[0]
    counts = {sep: header.count(sep) for sep in (",", ";", "\t")}
    return max(counts, key=lambda k: counts[k]) if any(counts.values()) else ","


def _read_csv_table(path: Path, *, what: str) -> pd.DataFrame:
    """A CSV table as text: UTF-8 (BOM or not), UTF-16 with BOM or Windows-1252 (what Excel
    saves), separated by commas, or by semicolons or tabs when the header says so (Excel in
    locales with a decimal comma saves ``;``)."""
    from .formats import decode_text

    text = decode_text(path.read_bytes(), file=str(path))
    sep = table_separator(text)
    try:
        # blank lines are kept as rows (then dropped by read_table) so rows keep their numbers
        frame = pd.read_csv(
            io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, skip_blank_lines=False
        )
        return frame.fillna("")
    except pd.errors.ParserError as exc:
        # pandas says "Expected 2 fields in line 7, saw 3": name the row as a spreadsheet does
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        named = {",": "commas", ";": "semicolons", "\t": "tabs"}[sep]
        if found is None:
            raise
        want, line, got = found.groups()
        raise InputError(
            f"the {what} file does not parse as a table separated by {named}",
            file=str(path),
            problems=[
                Problem(
                    f"{got} cells where the header has {want} (a stray {named[:-1]}, "
                    f"or an unquoted value containing one?)",
                    row=int(line),
                )
            ],
        ) from None


def _cell_text(v: object) -> object:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d") if v == v.normalize() else v.isoformat(sep=" ")
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _text(s: pd.Series) -> pd.Series:
    return s.astype(object).where(s.notna(), "").astype(str).str.strip().astype(S.STRING)


def _rows(frame: pd.DataFrame, file: str | None) -> list[int | None]:
    # a frame read from a file: row i is spreadsheet row i + 2 (the header is row 1);
    # a frame built in memory: the 1-based position, as the message says "row N"
    if file is not None:
        if pd.api.types.is_integer_dtype(frame.index):
            return [int(i) + 2 for i in frame.index]  # read_table keeps each row's place
        return [i + 2 for i in range(len(frame))]
    return [i + 1 for i in range(len(frame))]


__all__ = ["check_mapping", "customer_source_names", "normalize_key", "read_mapping", "read_table"]
