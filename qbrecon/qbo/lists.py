"""Load the QuickBooks lists from a QuickBooks Online company.

:func:`fetch_qb_lists` queries employees, vendors, customers (with sub-customers), items
and classes, active and inactive (``WHERE Active IN (true, false)``), every page of up
to 1000 rows, and returns a :class:`~qbrecon.qblists.QBLists`. The records are
QuickBooks Online query-response JSON, converted the same way as files of that format.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from .. import schema as S
from ..errors import RejectedSendError
from ..qblists import QBLists
from .auth import write_private_file

log = logging.getLogger("qbrecon")

#: the entities fetched, in order
LIST_ENTITIES = ("Employee", "Vendor", "Customer", "Item", "Class")
ALL_ACTIVE_STATES = "Active IN (true, false)"
DELETED_SUFFIX = " (deleted)"


def fetch_qb_records(
    client: Any, *, entities: Iterable[str] = LIST_ENTITIES, page_size: int = 1000
) -> dict[str, list[dict[str, Any]]]:
    """The raw QuickBooks Online records of each list entity, all pages, active and inactive.

    Classes are skipped with a log message when the company refuses the query (class
    tracking unavailable).
    """
    out: dict[str, list[dict[str, Any]]] = {}
    for entity in entities:
        try:
            out[entity] = client.query_rows(entity, ALL_ACTIVE_STATES, page_size=page_size)
        except RejectedSendError as exc:
            if entity != "Class":
                raise
            log.info("classes not loaded: %s", exc)
            out[entity] = []
        log.debug("fetched %d %s records", len(out[entity]), entity)
    return out


def fetch_qb_lists(client: Any, *, page_size: int = 1000) -> QBLists:
    """Employees, vendors, customers (with sub-customers), service items and classes.

    Args:
        client: a connected client (:func:`~qbrecon.connect_qbo`).
        page_size: rows per query page (QuickBooks allows at most 1000).

    Returns:
        the lists; inactive records are included with ``active`` False and their
        `` (deleted)`` suffix removed from the name.

    Example (against the local emulator)::

        lists = qbrecon.fetch_qb_lists(client)
        lists.customers[["full_name", "level", "active"]]
    """
    return records_to_lists(fetch_qb_records(client, page_size=page_size))


def write_query_responses(
    records: Mapping[str, list[dict[str, Any]]], folder: str | os.PathLike[str]
) -> list[Path]:
    """Save records as QuickBooks Online query-response files (``Employee.json``, ...)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for entity, rows in records.items():
        body = {"QueryResponse": {entity: rows, "startPosition": 1, "maxResults": len(rows)}}
        path = folder / f"{entity}.json"
        write_private_file(path, json.dumps(body, indent=1, ensure_ascii=False) + "\n")
        written.append(path)
    return written


# ----------------------------------------------------------------- conversion
def _strip_deleted(s: pd.Series) -> pd.Series:
    return s.str.replace(r" \(deleted\)$", "", regex=True)


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series([None] * len(frame), index=frame.index, dtype=object)


def _ref_value(s: pd.Series) -> pd.Series:
    return s.map(lambda v: str(v.get("value", "")) if isinstance(v, dict) else "").astype(S.STRING)


def _text(s: pd.Series) -> pd.Series:
    return s.astype(object).where(s.notna(), "").astype(str).astype(S.STRING)


def _base(records: list[dict[str, Any]], name_key: str) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records) if records else pd.DataFrame()
    n = len(frame)
    name = _strip_deleted(_text(_col(frame, name_key)))
    active = _col(frame, "Active")
    active = active.map(lambda v: str(v).lower() != "false" if v is not None else True).astype(bool)
    return pd.DataFrame(
        {
            S.QB_ID: _text(_col(frame, "Id")),
            S.NAME: name,
            S.FULL_NAME: name,
            S.PARENT_ID: _ref_value(_col(frame, "ParentRef")),
            S.LEVEL: pd.to_numeric(_col(frame, "Level"), errors="coerce").fillna(0).astype("int64"),
            S.ACTIVE: active,
        },
        index=range(n),
    ), frame


def _people(records: list[dict[str, Any]], number_key: str) -> pd.DataFrame:
    out, raw = _base(records, "DisplayName")
    email = _col(raw, "PrimaryEmailAddr").map(
        lambda v: v.get("Address", "") if isinstance(v, dict) else ""
    )
    out[S.FIRST_NAME] = _text(_col(raw, "GivenName"))
    out[S.LAST_NAME] = _text(_col(raw, "FamilyName"))
    out[S.EMAIL] = _text(email)
    out[S.NUMBER] = _text(_col(raw, number_key))
    return out


def _customers(records: list[dict[str, Any]]) -> pd.DataFrame:
    out, raw = _base(records, "DisplayName")
    fqn = _text(_col(raw, "FullyQualifiedName"))
    # an inactive customer's path carries the suffix on its own segment
    fqn = fqn.str.replace(r" \(deleted\)(?=:|$)", "", regex=True)
    out[S.FULL_NAME] = fqn.where(fqn != "", out[S.NAME])
    missing = (fqn == "") & (out[S.PARENT_ID] != "")
    if missing.any():  # rebuild paths from the tree where QuickBooks did not give them
        by_id = dict(
            zip(out[S.QB_ID], zip(out[S.NAME], out[S.PARENT_ID], strict=True), strict=True)
        )

        def path(qid: str, depth: int = 0) -> tuple[str, int]:
            name, parent = by_id.get(qid, ("", ""))
            if not parent or parent not in by_id or depth > 10:
                return name, 0
            p, level = path(parent, depth + 1)
            return f"{p}:{name}", level + 1

        rebuilt = out.loc[missing, S.QB_ID].map(path)
        out.loc[missing, S.FULL_NAME] = rebuilt.map(lambda t: t[0]).astype(S.STRING)
        out.loc[missing, S.LEVEL] = rebuilt.map(lambda t: t[1]).astype("int64")
    return out


def _items(records: list[dict[str, Any]]) -> pd.DataFrame:
    out, raw = _base(records, "Name")
    fqn = _text(_col(raw, "FullyQualifiedName"))
    out[S.FULL_NAME] = fqn.where(fqn != "", out[S.NAME])
    out[S.ITEM_TYPE] = _text(_col(raw, "Type"))
    return out


def records_to_lists(
    records: Mapping[str, list[dict[str, Any]]], *, service_items_only: bool = True
) -> QBLists:
    """QBLists from QuickBooks Online records keyed by entity (Employee, Vendor, ...)."""
    items = _items(records.get("Item", []))
    if service_items_only:
        items = items[items[S.ITEM_TYPE] == "Service"].reset_index(drop=True)
    classes, _ = _base(records.get("Class", []), "Name")
    return QBLists(
        employees=_people(records.get("Employee", []), "EmployeeNumber"),
        vendors=_people(records.get("Vendor", []), "AcctNum"),
        customers=_customers(records.get("Customer", [])),
        items=items,
        classes=classes,
    )


__all__ = ["fetch_qb_lists", "fetch_qb_records", "records_to_lists", "write_query_responses"]
