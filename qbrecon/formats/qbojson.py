"""QuickBooks Online API query responses (JSON): reading name lists.

What ``POST /v3/company/<realm>/query`` returns, saved as a file::

    {"QueryResponse": {"Customer": [{"Id": "3", "DisplayName": "Website Redesign",
                                     "FullyQualifiedName": "Acme & Sons, LLC:Website Redesign",
                                     "Job": true, "ParentRef": {"value": "2"}, "Level": 1,
                                     "Active": true}, ...],
                       "startPosition": 1, "maxResults": 2},
     "time": "2026-11-16T08:30:12.345-08:00"}

Also accepted: a list of such responses (the pages of one query), a batch response
(``BatchItemResponse`` items with a ``QueryResponse``), and a single-entity read
(``{"Customer": {...}, "time": ...}``). Entities read: Employee, Vendor, Customer
(sub-customers and projects), Item and Class; the rates are Employee and Vendor
``BillRate`` and Item ``UnitPrice``. Inactive records keep QuickBooks'
``" (deleted)"`` name suffix here; :func:`qbrecon.qblists.lists_from_records` strips it.

Example:
    >>> doc = {"QueryResponse": {"Employee": [
    ...     {"Id": "55", "DisplayName": "Emily Platt (deleted)", "GivenName": "Emily",
    ...      "FamilyName": "Platt", "Active": False}], "startPosition": 1, "maxResults": 1}}
    >>> recs = qbo_json_records(doc)
    >>> recs[0].kind, recs[0].frame[["qb_id", "name", "active"]].values.tolist()
    ('employees', [['55', 'Emily Platt (deleted)', False]])
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .. import schema as S
from ..errors import InputError, Problem
from . import ROW, ListRecords, raw_frame

#: QBO entities and the list each fills
QBO_ENTITIES = {"Employee": "employees", "Vendor": "vendors", "Customer": "customers",
                "Item": "items", "Class": "classes"}
_QUERY_META = {"startPosition", "maxResults", "totalCount"}


class NotQueryResponse(Exception):
    """JSON that is not a QuickBooks Online query response (or holds no list qbrecon reads)."""


def _responses(doc: Any) -> list[dict]:
    """The query-response-like dicts in a document, in order."""
    if isinstance(doc, list):
        out = []
        for part in doc:
            out.extend(_responses(part))
        return out
    if not isinstance(doc, dict):
        return []
    if "BatchItemResponse" in doc and isinstance(doc["BatchItemResponse"], list):
        return _responses(doc["BatchItemResponse"])
    if "QueryResponse" in doc or "Fault" in doc or "fault" in doc:
        return [doc]
    entity = [k for k in doc if k in QBO_ENTITIES and isinstance(doc[k], dict)]
    if entity:  # a read by id: {"Customer": {...}, "time": "..."}
        return [{"QueryResponse": {entity[0]: [doc[entity[0]]]}}]
    return []


def _fault_text(fault: Any) -> str:
    if not isinstance(fault, dict):
        return str(fault)
    errors = fault.get("Error") or fault.get("error") or []
    parts = []
    for e in errors if isinstance(errors, list) else [errors]:
        if isinstance(e, dict):
            code = e.get("code", "?")
            msg = e.get("Message") or e.get("message") or ""
            detail = e.get("Detail") or e.get("detail") or ""
            parts.append(f"{code} {msg}" + (f" ({detail})" if detail else ""))
    return "; ".join(parts) or str(fault)


def qbo_json_records(doc: Any, *, file: str | None = None) -> list[ListRecords]:
    """The list records in a parsed QBO query response document.

    Raises:
        NotQueryResponse: the JSON is not a QBO response, or holds only entities
            qbrecon does not read (the message names them).
        InputError: a fault response, or records that cannot be read (no Id, no
            name, a bad Active flag or ParentRef); every one listed at once.
    """
    responses = _responses(doc)
    if not responses:
        raise NotQueryResponse("JSON that is not a QuickBooks Online query response")
    problems: list[Problem] = []
    found: dict[str, list[dict]] = {}
    unread: set[str] = set()
    counts: dict[str, int] = {}
    for resp in responses:
        fault = resp.get("Fault") or resp.get("fault")
        if fault is not None:
            problems.append(Problem(f"QuickBooks Online returned a fault: {_fault_text(fault)}"))
            continue
        qr = resp.get("QueryResponse")
        if not isinstance(qr, dict):
            problems.append(Problem("QueryResponse is not an object", column="QueryResponse"))
            continue
        for entity, records in qr.items():
            if entity in _QUERY_META:
                continue
            if entity not in QBO_ENTITIES:
                unread.add(entity)
                continue
            if not isinstance(records, list):
                problems.append(Problem(f"QueryResponse.{entity} is not a list", column=entity))
                continue
            for rec in records:
                counts[entity] = counts.get(entity, 0) + 1
                row = _record(entity, rec, counts[entity], problems)
                if row is not None:
                    found.setdefault(entity, []).append(row)
    if problems:
        raise InputError("QuickBooks Online query response cannot be read", file=file,
                         problems=problems)
    if not found and unread:
        raise NotQueryResponse(f"a query response holding {', '.join(sorted(unread))} records")
    out = []
    for entity, rows in found.items():
        frame = pd.DataFrame(rows)
        cols = {c: frame[c] for c in frame.columns}
        out.append(ListRecords(QBO_ENTITIES[entity], raw_frame(cols, len(frame)), file, "qbo-json",
                               {S.QB_ID: "Id", S.NAME: _NAME_FIELD[entity],
                                S.FULL_NAME: "FullyQualifiedName", S.PARENT_ID: "ParentRef",
                                S.ACTIVE: "Active", S.RATE: _RATE_FIELD.get(entity, "")}))
    return out


_NAME_FIELD = {"Employee": "DisplayName", "Vendor": "DisplayName", "Customer": "DisplayName",
               "Item": "Name", "Class": "Name"}


def _str(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _record(entity: str, rec: Any, n: int, problems: list[Problem]) -> dict | None:
    where = f"{entity} record {n}"
    if not isinstance(rec, dict):
        problems.append(Problem(f"{where} is not an object", row=n, value=_str(rec)[:40]))
        return None
    qb_id = _str(rec.get("Id")).strip()
    name_field = _NAME_FIELD[entity]
    name = _str(rec.get(name_field))
    fqn = _str(rec.get("FullyQualifiedName"))
    if not name and entity in ("Item", "Class") and fqn:
        name = fqn.rpartition(":")[2]
    label = where + (f" ({name!r})" if name else "")
    ok = True
    if not qb_id:
        problems.append(Problem(f"{label} has no Id", row=n, column="Id"))
        ok = False
    if not name:
        problems.append(Problem(f"{label} has no {name_field}", row=n, column=name_field))
        ok = False
    active = rec.get("Active", True)
    if isinstance(active, str) and active.lower() in ("true", "false"):
        active = active.lower() == "true"
    if not isinstance(active, bool):
        problems.append(Problem(f"{label}: Active must be true or false", row=n, column="Active",
                                value=_str(active)))
        ok = False
    parent_id = ""
    parent = rec.get("ParentRef")
    if parent is not None:
        if isinstance(parent, dict) and _str(parent.get("value")).strip():
            parent_id = _str(parent.get("value")).strip()
        else:
            problems.append(Problem(f"{label}: ParentRef has no value", row=n, column="ParentRef",
                                    value=_str(parent)[:40]))
            ok = False
    rate_field = _RATE_FIELD.get(entity)
    rate = _rate(rec.get(rate_field)) if rate_field else None
    if rate is False:
        problems.append(Problem(f"{label}: {rate_field} must be a number", row=n,
                                column=rate_field, value=_str(rec.get(rate_field))[:40]))
        ok = False
    if not ok:
        return None
    out = {S.QB_ID: qb_id, S.NAME: name, S.FULL_NAME: fqn, S.PARENT_ID: parent_id,
           S.ACTIVE: active, ROW: n}
    if entity in ("Employee", "Vendor"):
        email = rec.get("PrimaryEmailAddr")
        out.update({
            S.FIRST_NAME: _str(rec.get("GivenName")),
            S.LAST_NAME: _str(rec.get("FamilyName")),
            S.EMAIL: _str(email.get("Address")) if isinstance(email, dict) else "",
            S.NUMBER: _str(rec.get("EmployeeNumber") if entity == "Employee" else rec.get("AcctNum")),
        })
    elif entity == "Customer":
        email = rec.get("PrimaryEmailAddr")
        out[S.EMAIL] = _str(email.get("Address")) if isinstance(email, dict) else ""
    elif entity == "Item":
        out[S.ITEM_TYPE] = _str(rec.get("Type"))
    if rate_field:
        out[S.RATE] = float("nan") if rate is None else rate
    return out


#: where each entity keeps its rate: a person's bill rate, an item's sales price
_RATE_FIELD = {"Employee": "BillRate", "Vendor": "BillRate", "Item": "UnitPrice"}


def _rate(v: Any) -> float | bool | None:
    """A BillRate/UnitPrice as a float; None when absent; False when not a number.

    Numbers may come as JSON numbers or, from Decimal-serialising clients, as strings.
    """
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        return False
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v.strip().replace(",", ""))
        except ValueError:
            return False
    return False


__all__ = ["QBO_ENTITIES", "NotQueryResponse", "qbo_json_records"]
