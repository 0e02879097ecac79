"""QuickBooks lists: employees, vendors, customers (with jobs), service items, classes.

:class:`QBLists` holds one frame per list, each with the shared columns
``qb_id, name, full_name, parent_id, level, active`` (see :mod:`qbrecon.schema`).
For customers ``full_name`` is the QuickBooks ``Parent:Child:Grandchild`` path and
``level`` is 0 for a top-level customer.

:func:`read_qb_lists` reads them from files: QuickBooks Online API query responses
(JSON), QuickBooks Online list exports (CSV/XLSX), QuickBooks Desktop IIF list exports
and qbXML list query responses. The parsing of each format lives in
:mod:`qbrecon.formats`; :func:`lists_from_records` turns what the files say into
checked lists:

* the customer (and item, class) tree is rebuilt from parent ids or ``Parent:Child``
  names, and checked: a parent that is not in the list, or a loop of parents, is an
  error naming the record;
* ``full_name`` is QuickBooks' ``Parent:Child`` path, ``level`` its depth (0 = top);
* inactive records are kept with ``active=False``; QuickBooks Online's ``" (deleted)"``
  name suffix is removed and marks the record inactive;
* text is Unicode NFC; names otherwise keep their spelling (matching normalises later);
* the same record in several files (paged query responses, or two formats of one
  company) is kept once: by id, then by full name preferring QuickBooks' own ids.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

import pandas as pd

from . import schema as S
from .errors import InputError, Problem, SettingsError
from .formats import (
    FORMAT_RANK,
    FORMAT_SYSTEM,
    LIST_KINDS,
    PARENT_FULL,
    RAW_TEXT,
    ROW,
    TREE_KINDS,
    ListRecords,
    decode_text,
    path_leaf,
    path_parent,
)

log = logging.getLogger("qbrecon")

PathLike = str | os.PathLike


def _empty_people() -> pd.DataFrame:
    return S.empty_frame(S.PERSON_DTYPES)


def _empty_list() -> pd.DataFrame:
    return S.empty_frame(S.LIST_DTYPES)


def _empty_items() -> pd.DataFrame:
    return S.empty_frame(S.ITEM_DTYPES)


_DTYPES = {
    "employees": S.PERSON_DTYPES,
    "vendors": S.PERSON_DTYPES,
    "customers": S.LIST_DTYPES,
    "items": S.ITEM_DTYPES,
    "classes": S.LIST_DTYPES,
    "payroll_items": S.LIST_DTYPES,
}


@dataclass(frozen=True)
class QBLists:
    """The QuickBooks lists qbrecon matches against.

    Attributes:
        employees: QuickBooks employees (``NameOf`` Employee).
        vendors: vendors; contractors who track time are vendors (``NameOf`` Vendor).
        customers: customers and sub-customers/jobs, ``full_name`` = ``Parent:Child``.
        items: service items (and other items, see ``item_type``).

    Employees, vendors and items carry ``rate``: a person's bill rate (QuickBooks
    Online ``BillRate``) or an item's sales price, NaN where the source has none.
    :func:`qbrecon.validate` falls back on them for billable time the tracker gives
    no rate (see ``Rules.rate_fallback``).
        classes: classes (QuickBooks class tracking), when loaded.
        payroll_items: payroll wage items (QuickBooks Desktop), when loaded.
    """

    employees: pd.DataFrame = field(default_factory=_empty_people)
    vendors: pd.DataFrame = field(default_factory=_empty_people)
    customers: pd.DataFrame = field(default_factory=_empty_list)
    items: pd.DataFrame = field(default_factory=_empty_items)
    classes: pd.DataFrame = field(default_factory=_empty_list)
    payroll_items: pd.DataFrame = field(default_factory=_empty_list)

    def __post_init__(self) -> None:
        for f in fields(self):
            frame = getattr(self, f.name)
            dtypes = _DTYPES[f.name]
            # optional extra columns may be absent in hand-built frames: fill them with ""
            # (text) or NaN (the rate)
            frame = frame.copy()
            for col, dtype in dtypes.items():
                if col not in frame.columns and col not in S.LIST_DTYPES:
                    blank = float("nan") if dtype == "float64" else ""
                    frame[col] = pd.Series([blank] * len(frame), index=frame.index, dtype=dtype)
            frame = S.conform(frame, dtypes, what=f"QuickBooks {f.name}")
            object.__setattr__(self, f.name, frame.reset_index(drop=True))

    # ------------------------------------------------------------------ views
    def people(self) -> pd.DataFrame:
        """Employees and vendors in one frame, with ``qb_type`` "Employee" or "Vendor"."""
        e = self.employees.assign(**{S.QB_TYPE: "Employee"})
        v = self.vendors.assign(**{S.QB_TYPE: "Vendor"})
        out = pd.concat([e, v], ignore_index=True)
        out[S.QB_TYPE] = out[S.QB_TYPE].astype(S.STRING)
        return out

    def merge(self, other: QBLists) -> QBLists:
        """These lists plus ``other``'s; a record present in both (same qb_id) is kept once,
        the later one winning."""
        out = {}
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            both = pd.concat([a, b], ignore_index=True) if len(a) and len(b) else (b if len(b) else a)
            out[f.name] = both.drop_duplicates(S.QB_ID, keep="last").reset_index(drop=True)
        return QBLists(**out)

    def counts(self) -> pd.DataFrame:
        """Records per list: total, active, inactive."""
        rows = []
        for f in fields(self):
            frame = getattr(self, f.name)
            active = int(frame[S.ACTIVE].sum())
            rows.append({"list": f.name, "records": len(frame), "active": active,
                         "inactive": len(frame) - active})
        return pd.DataFrame(rows)

    def summary(self) -> str:
        """A short human-readable summary of what was loaded."""
        lines = ["QuickBooks lists"]
        for r in self.counts().itertuples(index=False):
            if r.records:
                extra = f" ({r.inactive} inactive)" if r.inactive else ""
                lines.append(f"  {r.list:<14}{r.records:>7}{extra}")
        if len(lines) == 1:
            lines.append("  (empty)")
        subs = int((self.customers[S.LEVEL] > 0).sum())
        if subs:
            depth = int(self.customers[S.LEVEL].max())
            lines.append(f"  customers include {subs} sub-customers/jobs, up to {depth} level(s) deep")
        return "\n".join(lines)

    def __repr__(self) -> str:
        parts = ", ".join(f"{f.name}={len(getattr(self, f.name))}" for f in fields(self))
        return f"QBLists({parts})"

    def _repr_html_(self) -> str:
        return "<pre>" + self.summary() + "</pre>"


# ====================================================================== reading
_EXPECTED = ("a QuickBooks Online query response (JSON), a QuickBooks Online list export "
             "(CSV/XLSX), an IIF list export or a qbXML list query response")
_SINGULAR = {"employees": "employee", "vendors": "vendor", "customers": "customer",
             "items": "item", "classes": "class", "payroll_items": "payroll item"}


class _Unrecognised(Exception):
    """The file is not a QuickBooks list file; the message says what it looked like."""


def read_qb_lists(paths: PathLike | Iterable[PathLike]) -> QBLists:
    """Read QuickBooks lists from files and folders.

    Args:
        paths: a file, a folder (every list file inside it, recursively), or a list
            of files and folders. Each file may be a QuickBooks Online API query
            response (JSON, also paged: several files or a list of responses), a
            QuickBooks Online list export (CSV or XLSX, title rows allowed), a
            QuickBooks Desktop IIF list export (``!EMP``, ``!VEND``, ``!CUST``,
            ``!INVITEM``, ``!CLASS``) or a qbXML list query response. In a folder,
            files that are none of these are skipped (logged at INFO level).

    Returns:
        The lists, with ``full_name``/``parent_id``/``level`` for the customer tree.

    Raises:
        InputError: a path that does not exist; a file given by name that is not a
            list file; a folder with no list file; a malformed file (naming the file
            and the row or line and column); a broken customer tree; lists of
            QuickBooks Online and QuickBooks Desktop mixed in one call.

    Example:
        >>> from qbrecon.samples import samples_dir
        >>> lists = read_qb_lists(samples_dir() / "qbo")
        >>> lists.customers.loc[lists.customers.level == 2, "full_name"].iloc[0]
        'Anadolu Tekstil A.Ş.:Catalog 2027:Photography'
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    if paths is None or not isinstance(paths, Iterable) or isinstance(paths, (bytes, Mapping)):
        raise SettingsError(
            f"read_qb_lists needs a file, a folder or a list of them, not {type(paths).__name__}",
            setting="paths")
    targets: list[tuple[Path, bool, Path | None]] = []  # (file, named explicitly, folder)
    missing = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            inside = sorted(f for f in path.rglob("*") if f.is_file()
                            and not any(part.startswith(".") for part in f.relative_to(path).parts))
            targets.extend((f, False, path) for f in inside)
            if not inside:
                missing.append(Problem(f"folder {str(path)!r} is empty"))
        elif path.is_file():
            targets.append((path, True, None))
        else:
            missing.append(Problem(f"{str(path)!r} does not exist"))
    if missing:
        raise InputError("cannot read QuickBooks lists", problems=missing)
    records: list[ListRecords] = []
    found_in: dict[Path, int] = {}
    for file, explicit, folder in targets:
        try:
            recs = _read_file(file)
        except _Unrecognised as exc:
            if explicit:
                raise InputError(f"is not a QuickBooks list file: {exc}; expected {_EXPECTED}",
                                 file=str(file)) from None
            log.info("skipped %s: %s", file, exc)
            continue
        if folder is not None:
            found_in[folder] = found_in.get(folder, 0) + 1
        for rec in recs:
            log.info("read %d %s from %s", len(rec.frame), rec.kind, file)
        records.extend(recs)
    empty = [Problem(f"folder {str(folder)!r} holds no QuickBooks list file; expected {_EXPECTED}")
             for folder in dict.fromkeys(f for _, _, f in targets if f is not None)
             if not found_in.get(folder)]
    if empty:
        raise InputError("no QuickBooks lists found", problems=empty)
    return lists_from_records(records)


def lists_from_qbxml(responses: Iterable[bytes | str], *, source: str | None = None) -> QBLists:
    """Lists from qbXML list query responses held in memory (the pages of a Web
    Connector session, for example).

    Args:
        responses: each a qbXML response document (or several concatenated).
        source: a label for error messages (e.g. ``"Web Connector session 3"``).
    """
    from .formats.qbxml import read_qbxml_lists

    records: list[ListRecords] = []
    for i, data in enumerate(responses, start=1):
        records.extend(read_qbxml_lists(data, file=f"{source or 'qbXML response'} #{i}"))
    return lists_from_records(records)


def _sniff(data: bytes) -> str | None:
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"
    head = data[:4096]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", "ignore").encode("utf-8")
    head = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if b"\x00" in head:
        return None
    if head[:1] in (b"{", b"["):
        return "json"
    if head[:1] == b"<":
        return "xml"
    if head[:1] == b"!":
        return "iif"
    return "csv"


def _read_file(path: Path) -> list[ListRecords]:
    """The list records in one file; _Unrecognised when it is not a list file."""
    from .formats.iif import read_iif_lists
    from .formats.qbojson import NotQueryResponse, qbo_json_records
    from .formats.qbxml import NotListResponse, is_qbxml, qbxml_list_records

    file = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot be read: {exc.strerror or exc}", file=file) from None
    kind = _sniff(data)
    if kind is None:
        raise _Unrecognised("binary data")
    if kind == "xlsx":
        if path.suffix.lower() not in (".xlsx", ".xlsm"):
            raise _Unrecognised("a zip archive")
        return _read_tables(_xlsx_tables(data, file), file, "workbook")
    if kind == "json":
        try:
            doc = json.loads(decode_text(data, file=file))
        except json.JSONDecodeError as exc:
            if path.suffix.lower() != ".json":
                raise _Unrecognised("text that is not JSON") from None
            raise InputError("is not valid JSON", file=file, problems=[
                Problem(exc.msg, row=exc.lineno, column=str(exc.colno))]) from None
        try:
            return qbo_json_records(doc, file=file)
        except NotQueryResponse as exc:
            raise _Unrecognised(str(exc)) from None
    if kind == "xml":
        from ._xml import parse_xml

        root = parse_xml(data, file=file, fragments=True)
        if not is_qbxml(root):
            raise _Unrecognised("XML that is not qbXML")
        try:
            return qbxml_list_records(root, file=file)
        except NotListResponse as exc:
            raise _Unrecognised(str(exc)) from None
    if kind == "iif" and b"\t" in data[:4096]:
        recs = read_iif_lists(data, file=file)
        if not recs:
            raise _Unrecognised("an IIF file without list sections (EMP, VEND, CUST, INVITEM, CLASS)")
        return recs
    return _read_tables(_csv_tables(decode_text(data, file=file), file), file, "table")


def _read_tables(tables: list[tuple[str | None, list[list[str]]]], file: str,
                 what: str) -> list[ListRecords]:
    from .formats.qboexport import qbo_export_records

    out = []
    for sheet, table in tables:
        rec = qbo_export_records(table, file=file, sheet=sheet)
        if rec is not None:
            out.append(rec)
    if not out:
        raise _Unrecognised(f"a {what} without a Customer, Employee, Vendor or Product/Service "
                            "name column")
    return out


def _csv_tables(text: str, file: str) -> list[tuple[str | None, list[list[str]]]]:
    from .formats.qboexport import qbo_export_records

    best: list[list[str]] = []
    for delimiter in (",", ";", "\t"):
        try:
            table = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        except csv.Error as exc:
            raise InputError(f"cannot be read as CSV: {exc}", file=file) from None
        if qbo_export_records(table, file=file) is not None:
            return [(None, table)]
        best = best or table
    return [(None, best)]


def _cell_text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)


def _xlsx_tables(data: bytes, file: str) -> list[tuple[str | None, list[list[str]]]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zip, XML and key errors alike
        raise InputError(f"cannot be read as an XLSX workbook: {exc}", file=file) from None
    try:
        return [(ws.title, [[_cell_text(v) for v in row] for row in ws.iter_rows(values_only=True)])
                for ws in wb.worksheets]
    finally:
        wb.close()


# ===================================================================== assembly
def lists_from_records(records: Iterable[ListRecords]) -> QBLists:
    """Checked :class:`QBLists` from the raw records readers found (see :mod:`qbrecon.formats`).

    Raises:
        InputError: records of QuickBooks Online and QuickBooks Desktop mixed, or a
            broken tree (a parent not in the list, a loop of parents); every problem
            listed with its file, row and field.
    """
    records = list(records)
    systems: dict[str, list[str]] = {}
    for rec in records:
        systems.setdefault(rec.system, [])
        if rec.file and rec.file not in systems[rec.system]:
            systems[rec.system].append(rec.file)
    if len(systems) > 1:
        raise InputError(
            "lists of QuickBooks Online and QuickBooks Desktop cannot be read together: "
            "they are different companies with different ids; read each on its own",
            problems=[Problem(f"{system}: {', '.join(files[:5])}{' ...' if len(files) > 5 else ''}")
                      for system, files in systems.items()])
    problems: list[Problem] = []
    out = {}
    for kind in LIST_KINDS:
        parts = [r for r in records if r.kind == kind]
        if parts:
            out[kind] = _assemble(kind, parts, problems)
    if problems:
        raise InputError("QuickBooks lists are inconsistent", problems=problems)
    return QBLists(**out)


_DELETED = r"\s\(deleted\)"


def _assemble(kind: str, parts: list[ListRecords], problems: list[Problem]) -> pd.DataFrame:
    frames = []
    for i, rec in enumerate(parts):
        f = rec.frame.copy()
        f["_file"] = rec.file or ""
        f["_rank"] = FORMAT_RANK[rec.fmt]
        f["_qbo"] = FORMAT_SYSTEM[rec.fmt] == "QuickBooks Online"
        f["_part"] = i
        frames.append(f)
    df = pd.concat(frames, ignore_index=True)
    for col in RAW_TEXT:
        df[col] = df[col].astype(object).fillna("").astype(str).str.normalize("NFC")
    # QuickBooks Online renames an inactive record "Name (deleted)"
    qbo = df["_qbo"]
    named_id = qbo & (df[S.QB_ID] == df[S.FULL_NAME]) & (df[S.FULL_NAME] != "")
    deleted = qbo & (df[S.NAME].str.contains(_DELETED + "$")
                     | ((df[S.NAME] == "") & df[S.FULL_NAME].str.contains(_DELETED + "$")))
    for col in (S.NAME, S.FULL_NAME, PARENT_FULL):
        df.loc[qbo, col] = df.loc[qbo, col].str.replace(_DELETED + r"(?=:|$)", "", regex=True)
    df.loc[named_id, S.QB_ID] = df.loc[named_id, S.FULL_NAME]  # ids made of names follow them
    df[S.ACTIVE] = df[S.ACTIVE].fillna(True).astype(bool) & ~deleted
    leaf = path_leaf(df[S.FULL_NAME])
    df[S.NAME] = df[S.NAME].where(df[S.NAME] != "", leaf)
    # the same record twice (pages that overlap, a file read twice): the later one wins
    df = df.drop_duplicates(S.QB_ID, keep="last").reset_index(drop=True)

    if kind in TREE_KINDS:
        df = _build_tree(kind, df, parts, problems)
    else:
        df[S.FULL_NAME] = df[S.NAME]
        df[S.PARENT_ID] = ""
        df[S.LEVEL] = 0
    df = _prefer_best(kind, df)
    df = df.assign(_key=df[S.FULL_NAME].str.casefold()).sort_values(
        ["_key", S.FULL_NAME, S.QB_ID], kind="stable")
    dtypes = S.PERSON_DTYPES if kind in ("employees", "vendors") else (
        S.ITEM_DTYPES if kind == "items" else S.LIST_DTYPES)
    result = pd.DataFrame({c: df[c].astype(t) for c, t in dtypes.items()})
    return result.reset_index(drop=True)


def _label(kind: str, row: pd.Series) -> str:
    shown = row[S.FULL_NAME] or row[S.NAME]
    ident = f" (id {row[S.QB_ID]})" if row[S.QB_ID] not in (shown, row[S.FULL_NAME]) else ""
    return f"{_SINGULAR[kind]} {shown!r}{ident}"


def _problem(kind: str, row: pd.Series, parts: list[ListRecords], field_key: str,
             message: str) -> Problem:
    rec = parts[int(row["_part"])]
    r = row[ROW]
    return Problem(f"{_label(kind, row)}: {message}", file=row["_file"] or None,
                   row=None if pd.isna(r) else int(r), column=rec.fields.get(field_key))


def _build_tree(kind: str, df: pd.DataFrame, parts: list[ListRecords],
                problems: list[Problem]) -> pd.DataFrame:
    """full_name, parent_id and level from parent ids or Parent:Child names; checked."""
    # a Parent:Child name with no other parent information names its parent
    by_path = (df[S.PARENT_ID] == "") & (df[PARENT_FULL] == "") & df[S.FULL_NAME].str.contains(":")
    df.loc[by_path, PARENT_FULL] = path_parent(df.loc[by_path, S.FULL_NAME])
    named = df[df[S.FULL_NAME] != ""].sort_values("_rank", ascending=False, kind="stable")
    id_of_full = named.drop_duplicates(S.FULL_NAME).set_index(S.FULL_NAME)[S.QB_ID]
    by_name = (df[S.PARENT_ID] == "") & (df[PARENT_FULL] != "")
    df.loc[by_name, S.PARENT_ID] = df.loc[by_name, PARENT_FULL].map(id_of_full).fillna("")
    no_parent = by_name & (df[S.PARENT_ID] == "")
    unknown = ~by_name & (df[S.PARENT_ID] != "") & ~df[S.PARENT_ID].isin(df[S.QB_ID])
    for _, row in df[no_parent].iterrows():
        problems.append(_problem(kind, row, parts, PARENT_FULL,
                                 f"its parent {row[PARENT_FULL]!r} is not in the {kind} list"))
    for _, row in df[unknown].iterrows():
        problems.append(_problem(kind, row, parts, S.PARENT_ID,
                                 f"its parent (id {row[S.PARENT_ID]}) is not in the {kind} list"))
    broken = no_parent | unknown
    given = df[S.FULL_NAME]
    depth = pd.Series(pd.NA, index=df.index, dtype="Int64")
    path = pd.Series("", index=df.index, dtype=object)
    root = (df[S.PARENT_ID] == "") & ~broken
    depth[root] = 0
    path[root] = given[root].where(given[root] != "", df.loc[root, S.NAME])
    pos_of_id = pd.Series(df.index, index=df[S.QB_ID])
    # one round per level of the tree: each round places the children of the last
    while True:
        pending = depth.isna() & ~broken
        if not pending.any():
            break
        ppos = df.loc[pending, S.PARENT_ID].map(pos_of_id)
        pdepth = depth.reindex(ppos.to_numpy()).to_numpy()
        ready_mask = ~pd.isna(pdepth)
        if not ready_mask.any():
            break
        ready = ppos.index[ready_mask]
        parent_pos = ppos[ready_mask].to_numpy()
        depth[ready] = pd.array(pdepth[ready_mask], dtype="Int64") + 1
        rebuilt = path.reindex(parent_pos).to_numpy() + ":" + df.loc[ready, S.NAME].to_numpy()
        path[ready] = given[ready].where(given[ready] != "", pd.Series(rebuilt, index=ready))
    left = depth.isna() & ~broken
    if left.any():
        parent_pos = df[S.PARENT_ID].map(pos_of_id)
        for i in df.index[left]:
            seen, j = [], i
            while j not in seen and left.get(j, False):
                seen.append(j)
                j = int(parent_pos[j])
            if j == i:  # i's chain returns to i: a loop (descendants of loops are not named)
                chain = " -> ".join(df.loc[k, S.QB_ID] for k in [*seen, i])
                problems.append(_problem(kind, df.loc[i], parts, S.PARENT_ID,
                                         f"its parents form a loop ({chain})"))
    ok = depth.notna()
    df[S.FULL_NAME] = path.where(ok, given.where(given != "", df[S.NAME]))
    df[S.LEVEL] = depth.fillna(0).astype("int64")
    return df


def _prefer_best(kind: str, df: pd.DataFrame) -> pd.DataFrame:
    """One record per full name when formats overlap: the one with QuickBooks' own ids."""
    best = df.groupby(S.FULL_NAME)["_rank"].transform("max")
    drop = df["_rank"] < best
    if drop.any():
        kept = df[~drop].drop_duplicates(S.FULL_NAME).set_index(S.FULL_NAME)[S.QB_ID]
        moved = dict(zip(df.loc[drop, S.QB_ID], df.loc[drop, S.FULL_NAME].map(kept), strict=True))
        df = df[~drop].copy()
        df[S.PARENT_ID] = df[S.PARENT_ID].replace(moved)
        log.info("%s: %d records stated by several files kept once", kind, len(moved))
    twins = df[df.duplicated(S.FULL_NAME, keep=False)]
    if len(twins):
        log.warning("%s: %d records share a full name with another record: %s", kind, len(twins),
                    ", ".join(sorted(set(twins[S.FULL_NAME]))[:10]))
    return df
