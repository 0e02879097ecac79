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
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import schema as S
from ..errors import RejectedSendError
from ..qblists import QBLists
from .auth import write_private_file

if TYPE_CHECKING:
    from .client import QBOClient

log = logging.getLogger("qbrecon")

#: the entities fetched, in order
LIST_ENTITIES = ("Employee", "Vendor", "Customer", "Item", "Class")
ALL_ACTIVE_STATES = "Active IN (true, false)"


def fetch_qb_records(
    client: QBOClient, *, entities: Iterable[str] = LIST_ENTITIES, page_size: int = 1000
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


def fetch_qb_lists(client: QBOClient, *, page_size: int = 1000) -> QBLists:
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
    records = fetch_qb_records(client, page_size=page_size)
    return records_to_lists(records, source=f"QuickBooks Online company {client.realm_id}")


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
def records_to_lists(
    records: Mapping[str, list[dict[str, Any]]],
    *,
    service_items_only: bool = True,
    source: str | None = None,
) -> QBLists:
    """QBLists from QuickBooks Online records keyed by entity (Employee, Vendor, ...).

    The records go through the same conversion as QBO query-response files
    (:func:`qbrecon.formats.qbojson.qbo_json_records`, then
    :func:`qbrecon.qblists.lists_from_records`): names lose the `` (deleted)`` suffix,
    the customer tree is rebuilt and checked.

    Args:
        records: raw records per entity, as :func:`fetch_qb_records` returns them.
        service_items_only: keep only items of type Service (what TimeActivity uses).
        source: how errors name where the records came from.
    """
    from ..formats.qbojson import qbo_json_records
    from ..qblists import lists_from_records

    doc = [{"QueryResponse": {entity: rows}} for entity, rows in records.items() if rows]
    if not doc:
        return QBLists()
    lists = lists_from_records(qbo_json_records(doc, file=source))
    if service_items_only:
        items = lists.items[lists.items[S.ITEM_TYPE] == "Service"].reset_index(drop=True)
        lists = replace(lists, items=items)
    return lists


__all__ = ["fetch_qb_lists", "fetch_qb_records", "records_to_lists", "write_query_responses"]
