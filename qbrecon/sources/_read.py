"""Reading export files into a table of text: encodings, delimiters, header rows, XLSX.

Everything arrives as text so that one set of vectorized parsers can type it,
and so that a bad cell can be reported with its row and column.
"""

from __future__ import annotations

import csv
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv

from ..errors import InputError, Problem

log = logging.getLogger("qbrecon")

HEADER_SEARCH_ROWS = 30
_XLSX_MAGIC = b"PK\x03\x04"
_XLS_MAGIC = b"\xd0\xcf\x11\xe0"
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


@dataclass
class RawTable:
    """An export as text: header names as written, one text column each."""

    file: str
    frame: pd.DataFrame
    rows: np.ndarray  # 1-based row/line of every record in the source file
    header: list[str]
    header_row: int  # 1-based
    kind: str  # "csv" or "xlsx"
    encoding: str | None = None
    delimiter: str | None = None
    notes: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)  # header names before de-duplication


HeaderTest = Callable[[list[str]], bool]
KindsFor = Callable[[list[str]], dict[str, str]]


def file_kind(path: Path) -> str:
    """ "xlsx" or "text", from the file's first bytes (never its name)."""
    if not path.exists():
        raise InputError("file not found", file=str(path))
    if path.is_dir():
        raise InputError("is a folder, not a file", file=str(path))
    with path.open("rb") as fh:
        head = fh.read(8192)
    if not head:
        raise InputError("the file is empty", file=str(path))
    if head.startswith(_XLSX_MAGIC):
        return "xlsx"
    if head.startswith(_XLS_MAGIC):
        raise InputError(
            "this is an old Excel .xls workbook; save it as .xlsx or export CSV instead",
            file=str(path),
        )
    if any(head.startswith(bom) for bom, _ in _BOMS[1:]):
        return "text"
    if b"\x00" in head or _binary_ratio(head) > 0.1:
        raise InputError("not a text or XLSX file (binary content)", file=str(path))
    return "text"


def _binary_ratio(head: bytes) -> float:
    text_bytes = set(range(32, 256)) | {9, 10, 13}
    odd = sum(1 for b in head if b not in text_bytes)
    return odd / len(head)


def _encoding_candidates(path: Path) -> list[str]:
    with path.open("rb") as fh:
        head = fh.read(4)
    for bom, enc in _BOMS:
        if head.startswith(bom):
            return [enc]
    # UTF-8 first: valid UTF-8 is almost never intended as Windows-1252
    return ["utf-8", "cp1252"]


def _head_lines(path: Path, encoding: str, n: int = HEADER_SEARCH_ROWS) -> list[str]:
    with path.open("r", encoding=encoding, errors="replace", newline="") as fh:
        lines = []
        for _ in range(n):
            line = fh.readline()
            if not line:
                break
            lines.append(line)
    return lines


def _sniff_delimiter(line: str) -> str:
    counts = {d: len(next(csv.reader([line], delimiter=d), [])) for d in (",", ";", "\t", "|")}
    return max(counts, key=lambda d: (counts[d], d == ","))


def _split(line: str, delimiter: str) -> list[str]:
    try:
        return [c.strip() for c in next(csv.reader([line], delimiter=delimiter), [])]
    except csv.Error:
        return []


def read_text_table(path: Path, *, is_header: HeaderTest, describe: Callable[[], str]) -> RawTable:
    """Read a delimited text export whose header row satisfies ``is_header``.

    Parsed by Arrow's multi-threaded CSV reader with every column as text; the header
    row may sit below title lines; blank lines are skipped but counted in row numbers.
    """
    errors: list[str] = []
    for encoding in _encoding_candidates(path):
        lines = _head_lines(path, encoding)
        found = None
        for i, line in enumerate(lines):
            delim = _sniff_delimiter(line)
            fields = _split(line, delim)
            if fields and is_header(fields):
                found = (i, delim, fields)
                break
        if found is None:
            first = _split(lines[0], _sniff_delimiter(lines[0])) if lines else []
            raise InputError(
                f"unknown layout: no row in the first {HEADER_SEARCH_ROWS} looks like "
                f"{describe()}; the first row holds {first[:12]!r}",
                file=str(path),
            )
        header_idx, delim, header = found
        while header and not header[-1]:  # a trailing delimiter after the last column
            header = header[:-1]
        names = _dedupe(header)
        invalid: list = []
        blank_skipped: list = []
        try:
            table = _arrow_csv(path, encoding, delim, header_idx, names, len(fields), invalid,
                               blank_skipped)
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            text = str(exc)
            if "UTF8" in text or "UTF-8" in text or isinstance(exc, UnicodeDecodeError):
                errors.append(f"{encoding}: {text.splitlines()[0]}")
                continue
            raise InputError(f"cannot parse as delimited text: {text.splitlines()[0]}",
                             file=str(path)) from None
        if invalid:
            raise InputError(
                "rows with a different number of fields than the header "
                "(a stray delimiter or quote?)",
                file=str(path),
                problems=_field_count_problems(path, encoding, delim, header_idx, len(fields)),
            )
        keep = _filled_rows(table)
        frame = table.to_pandas(types_mapper=_string_types).iloc[:, : len(names)]
        frame.columns = names
        rows: np.ndarray | None = np.arange(len(frame), dtype="int64") + header_idx + 2
        expected = header_idx + 1 + len(frame)
        lines_in_file = _count_lines(path)
        if blank_skipped:  # their lines are unknown: count the slow, exact way below
            rows = None
        elif lines_in_file != expected:
            inner = _inner_breaks(frame)
            if lines_in_file == expected + int(inner.sum()):
                rows = rows + np.concatenate([[0], np.cumsum(inner)[:-1]])
            else:  # blank lines as well
                rows = None
        if keep is not None:  # rows of empty cells (";;;;" as Excel saves them) are no entries
            frame = frame.loc[keep].reset_index(drop=True)
            rows = None if rows is None else rows[keep]
        if rows is None:  # find every record's line the slow, exact way
            rows = _scan_line_numbers(path, encoding, delim, header_idx, len(frame))
        if encoding == "cp1252":
            log.info("%s: not UTF-8; read as Windows-1252", path)
        return RawTable(
            file=str(path),
            frame=frame,
            rows=rows,
            header=names,
            header_row=header_idx + 1,
            kind="csv",
            written=list(header),
            encoding=encoding,
            delimiter=delim,
        )
    raise InputError(
        "cannot decode the text as UTF-8 or Windows-1252: " + "; ".join(errors), file=str(path)
    )


def _string_types(t: pa.DataType):
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return pd.StringDtype("pyarrow")
    return None


def _arrow_csv(path, encoding, delim, header_idx, names, width, invalid, blank) -> pa.Table:
    # columns past the header's last name (trailing delimiters) are read and dropped
    all_names = names + [f"_extra{i}" for i in range(width - len(names))]
    filler = str.maketrans("", "", delim + '"\r\n')

    def on_invalid(row) -> str:
        # a row of delimiters only, of another width than the header, is an empty row too
        (blank if not (row.text or "").translate(filler) else invalid).append(row)
        return "skip"

    return pcsv.read_csv(
        path,
        read_options=pcsv.ReadOptions(
            encoding="utf8" if encoding in ("utf-8", "utf-8-sig") else encoding,
            skip_rows=header_idx + 1,
            column_names=all_names,
        ),
        parse_options=pcsv.ParseOptions(
            delimiter=delim,
            quote_char='"',
            double_quote=True,
            newlines_in_values=True,
            ignore_empty_lines=True,
            invalid_row_handler=on_invalid,
        ),
        convert_options=pcsv.ConvertOptions(
            column_types={n: pa.string() for n in all_names},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )


def _filled_rows(table: pa.Table) -> np.ndarray | None:
    """Which records have a non-empty cell (None: all of them, the usual case).

    Spreadsheet programs save rows that once held data as a line of bare delimiters;
    like blank lines, those rows are not records. Column by column, stopping at the
    first column that leaves no row empty (in practice the first one).
    """
    import pyarrow.compute as pc

    empty = None
    for col in table.columns:
        e = pc.equal(pc.binary_length(col), 0)
        empty = e if empty is None else pc.and_(empty, e)
        if not pc.any(empty).as_py():
            return None
    if empty is None:
        return None
    return ~pc.fill_null(empty, False).to_numpy(zero_copy_only=False)


def _count_lines(path: Path) -> int:
    newlines = 0
    last = b""
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 24):
            newlines += chunk.count(b"\n")
            last = chunk[-1:]
    return newlines + (0 if last in (b"\n", b"") else 1)


def _inner_breaks(frame: pd.DataFrame) -> np.ndarray:
    """Line breaks inside each record's fields."""
    extra = np.zeros(len(frame), dtype="int64")
    for col in frame.columns:
        s = frame[col]
        if s.str.contains("\n", regex=False).any():
            extra += s.str.count("\n").to_numpy(dtype="int64")
    return extra


def _records(path: Path, encoding: str, delim: str, header_idx: int):
    """(first line, fields) of every non-blank record after the header (Python csv)."""
    with path.open("r", encoding=encoding, newline="") as fh:
        reader = csv.reader(fh, delimiter=delim)
        for _ in range(header_idx + 1):
            next(reader, None)
        line = reader.line_num
        for rec in reader:
            start, line = line + 1, reader.line_num
            if rec and any(rec):
                yield start, rec


def _scan_line_numbers(path, encoding, delim, header_idx, n) -> np.ndarray:
    rows = np.fromiter((start for start, _ in _records(path, encoding, delim, header_idx)),
                       dtype="int64")
    return rows[:n] if len(rows) >= n else np.arange(n, dtype="int64") + header_idx + 2


def _field_count_problems(path, encoding, delim, header_idx, width) -> list[Problem]:
    problems = []
    for start, rec in _records(path, encoding, delim, header_idx):
        if len(rec) != width:
            problems.append(Problem(f"expected {width} fields as in the header, found {len(rec)}",
                                    row=start, value=delim.join(rec)))
            if len(problems) >= 10_000:
                break
    return problems


def read_xlsx_table(
    path: Path, *, is_header: HeaderTest, describe: Callable[[], str], kinds_for: KindsFor,
    sheet: str | None = None,
) -> RawTable:
    """Read the first sheet (or ``sheet``) whose header row satisfies ``is_header``."""
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    fh = path.open("rb")  # a file object: openpyxl would judge a path by its suffix
    try:
        wb = load_workbook(fh, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError, TypeError) as exc:
        fh.close()
        raise InputError(f"not a readable XLSX workbook ({exc})", file=str(path)) from None
    try:
        names = [sheet] if sheet else wb.sheetnames
        if sheet and sheet not in wb.sheetnames:
            raise InputError(f"no sheet named {sheet!r}; it has {wb.sheetnames}", file=str(path))
        for name in names:
            ws = wb[name]
            it = ws.iter_rows(values_only=True)
            head: list[tuple] = []
            for row in it:
                head.append(row)
                texts = [_cell_text(v, "text").strip() for v in row]
                if any(texts) and is_header(texts):
                    header = texts
                    header_row = len(head)
                    return _xlsx_body(path, name, it, header, header_row, kinds_for(header))
                if len(head) >= HEADER_SEARCH_ROWS:
                    break
        first = [_cell_text(v, "text") for v in (head[0] if head else ())]
        raise InputError(
            f"unknown layout: no row in the first {HEADER_SEARCH_ROWS} of any sheet looks like "
            f"{describe()}; the first row holds {first[:12]!r}",
            file=str(path),
        )
    finally:
        wb.close()
        fh.close()


def _xlsx_body(path, sheet_name, it, header, header_row, kinds) -> RawTable:
    width = len(header)
    # trailing empty header cells (formatting beyond the table) are not columns
    while width and not header[width - 1]:
        width -= 1
    header = header[:width]
    col_kinds = [kinds.get(h, "text") for h in header]
    cols: list[list[str]] = [[] for _ in range(width)]
    rows: list[int] = []
    r = header_row
    for row in it:
        r += 1
        values = list(row[:width]) + [None] * (width - len(row))
        texts = [_cell_text(v, k) for v, k in zip(values, col_kinds, strict=False)]
        if not any(texts):
            continue
        for j in range(width):
            cols[j].append(texts[j])
        rows.append(r)
    names = _dedupe(header)
    frame = pd.DataFrame({n: pd.Series(c, dtype=str) for n, c in zip(names, cols, strict=True)})
    return RawTable(
        file=str(path),
        frame=frame,
        rows=np.asarray(rows, dtype="int64"),
        header=names,
        header_row=header_row,
        kind="xlsx",
        written=list(header),
        notes=[f"sheet {sheet_name!r}"],
    )


def _dedupe(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        k = seen.get(n, 0)
        out.append(n if k == 0 else f"{n}.{k}")
        seen[n] = k + 1
    return out


_EPOCH = datetime(1899, 12, 30)


def _hms(total_seconds: float) -> str:
    total = round(total_seconds)
    h, rem = divmod(total, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}"


def _cell_text(v, kind: str) -> str:
    """A spreadsheet cell as the text an export would hold, by column kind."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "Yes" if v else "No"
    if isinstance(v, datetime):
        if kind == "duration":
            return _hms((v - _EPOCH).total_seconds())
        if kind == "time":
            return v.strftime("%H:%M:%S")
        if v.time() == time(0) and kind != "datetime":
            return v.strftime("%Y-%m-%d")
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, time):
        return v.strftime("%H:%M:%S")
    if isinstance(v, timedelta):
        return _hms(v.total_seconds())
    if isinstance(v, int | float):
        f = float(v)
        if kind == "time":
            return _hms((f % 1.0) * 86400)
        if kind == "duration":
            return _hms(f * 86400)
        if kind == "date":
            return (_EPOCH + timedelta(days=int(f))).strftime("%Y-%m-%d")
        if kind == "datetime":
            return (_EPOCH + timedelta(seconds=round(f * 86400))).strftime("%Y-%m-%d %H:%M:%S")
        if f.is_integer():
            return str(int(f))
        return repr(f)
    return str(v)


def read_table(
    path: str | os.PathLike[str],
    *,
    is_header: HeaderTest,
    describe: Callable[[], str],
    kinds_for: KindsFor,
    sheet: str | None = None,
) -> RawTable:
    """Read a CSV/TSV or XLSX export into a :class:`RawTable` of text."""
    p = Path(path)
    kind = file_kind(p)
    if kind == "xlsx":
        return read_xlsx_table(p, is_header=is_header, describe=describe, kinds_for=kinds_for,
                               sheet=sheet)
    return read_text_table(p, is_header=is_header, describe=describe)


def bad_cells(
    table: RawTable, mask: np.ndarray, column: str, message: str, *, limit: int = 10_000
) -> list[Problem]:
    """Problems for the rows of ``table`` where ``mask`` is True, naming the column."""
    idx = np.flatnonzero(mask)[:limit]
    values = table.frame[column].to_numpy(dtype=object)[idx] if column in table.frame else [None] * len(idx)
    return [
        Problem(message, row=int(table.rows[i]), column=column, value=v)
        for i, v in zip(idx, values, strict=True)
    ]

