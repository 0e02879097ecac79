"""qbrecon: get tracked time into QuickBooks correctly.

Load time-tracker exports, reconcile names with the QuickBooks lists, validate every
entry against the rules, and deliver the clean batch to QuickBooks exactly once.

The public API is re-exported here; everything else is internal. Names are imported
on first use, so ``import qbrecon`` stays quick.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    AuthError,
    InputError,
    LedgerError,
    OutputError,
    QbreconError,
    QbreconWarning,
    RejectedSendError,
    SendError,
    SettingsError,
    TransientSendError,
    ValidationFailed,
)

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # loading
    "read_time_entries": "qbrecon.sources",
    "detect_source": "qbrecon.sources",
    "read_qb_lists": "qbrecon.qblists",
    "QBLists": "qbrecon.qblists",
    # matching
    "suggest_matches": "qbrecon.match",
    "accept_matches": "qbrecon.match",
    "remember": "qbrecon.match",
    "propose_new_records": "qbrecon.match",
    "source_names": "qbrecon.match",
    "summarize_matches": "qbrecon.match",
    "write_review_workbook": "qbrecon.review",
    "read_review_workbook": "qbrecon.review",
    "read_review_decisions": "qbrecon.review",
    "read_mapping_store": "qbrecon.review",
    "write_mapping_store": "qbrecon.review",
    "write_new_records": "qbrecon.review",
    # ledger
    "Ledger": "qbrecon.ledger",
    # samples
    "samples_dir": "qbrecon.samples",
    # QuickBooks Online
    "connect_qbo": "qbrecon.qbo.client",
    "fetch_qb_lists": "qbrecon.qbo.lists",
    "send_to_qbo": "qbrecon.qbo.send",
    "undo_send": "qbrecon.qbo.send",
    "create_missing": "qbrecon.qbo.send",
    "QBOEmulator": "qbrecon.qbo.emulator",
    "QBOLimits": "qbrecon.qbo.limits",
    # validation, the batch, QuickBooks Desktop files
    "read_mapping": "qbrecon.mapping",
    "Rules": "qbrecon.rules",
    "Rounding": "qbrecon.rules",
    "validate": "qbrecon.rules",
    "Report": "qbrecon.report",
    "build_batch": "qbrecon.batch",
    "read_batch": "qbrecon.batch",
    "write_batch": "qbrecon.batch",
    "export_iif": "qbrecon.formats.iif",
    "export_qbxml": "qbrecon.formats.qbxml",
    # QuickBooks Desktop through the Web Connector
    "queue_for_desktop": "qbrecon.qbd",
    "webconnector_app": "qbrecon.qbd",
    "write_qwc": "qbrecon.qbd",
    "staged_lists": "qbrecon.qbd",
    "WebConnectorSettings": "qbrecon.qbd",
}

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from .batch import build_batch, read_batch, write_batch
    from .formats.iif import export_iif
    from .formats.qbxml import export_qbxml
    from .ledger import Ledger
    from .mapping import read_mapping
    from .match import (
        accept_matches,
        propose_new_records,
        remember,
        source_names,
        suggest_matches,
        summarize_matches,
    )
    from .qbd import (
        WebConnectorSettings,
        queue_for_desktop,
        staged_lists,
        webconnector_app,
        write_qwc,
    )
    from .qblists import QBLists, read_qb_lists
    from .qbo.client import connect_qbo
    from .qbo.emulator import QBOEmulator
    from .qbo.limits import QBOLimits
    from .qbo.lists import fetch_qb_lists
    from .qbo.send import create_missing, send_to_qbo, undo_send
    from .report import Report
    from .review import (
        read_mapping_store,
        read_review_decisions,
        read_review_workbook,
        write_mapping_store,
        write_new_records,
        write_review_workbook,
    )
    from .rules import Rounding, Rules, validate
    from .samples import samples_dir
    from .sources import detect_source, read_time_entries


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'qbrecon' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


__all__ = [
    "AuthError",
    "InputError",
    "LedgerError",
    "OutputError",
    "QbreconError",
    "QbreconWarning",
    "RejectedSendError",
    "SendError",
    "SettingsError",
    "TransientSendError",
    "ValidationFailed",
    *_EXPORTS,
]
