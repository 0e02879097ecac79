"""Delivery to QuickBooks Online: OAuth tokens, the client, sending, undo, the emulator.

* :mod:`.auth` — the token file, refresh with rotation, the authorization flow;
* :mod:`.client` — :class:`~.client.QBOClient` and :func:`~.client.connect_qbo`;
* :mod:`.limits` — rate limits, the client-side limiter, retry policy;
* :mod:`.lists` — :func:`~.lists.fetch_qb_lists`;
* :mod:`.send` — :func:`~.send.send_to_qbo`, :func:`~.send.undo_send`,
  :func:`~.send.create_missing`;
* :mod:`.emulator` — :class:`~.emulator.QBOEmulator`, a local QBO v3 server.

Submodules are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "connect_qbo": "client",
    "QBOClient": "client",
    "QBOLimits": "limits",
    "RetryPolicy": "limits",
    "fetch_qb_lists": "lists",
    "send_to_qbo": "send",
    "undo_send": "send",
    "create_missing": "send",
    "QBOEmulator": "emulator",
    "start_authorization": "auth",
    "TokenStore": "auth",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'qbrecon.qbo' has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = list(_EXPORTS)
