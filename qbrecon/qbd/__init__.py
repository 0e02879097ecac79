"""QuickBooks Desktop delivery through the QuickBooks Web Connector.

* :func:`queue_for_desktop` — queue a batch for a company file (only what is queued
  is delivered);
* :func:`webconnector_app` — the WSGI app of the SOAP service the Web Connector polls;
* :func:`write_qwc` — the .qwc file that points a Web Connector at the service;
* :func:`staged_lists` — the QuickBooks lists the sessions staged, as :class:`~qbrecon.QBLists`;
* :mod:`qbrecon.qbd.emulator` — a QuickBooks Desktop stand-in and a scripted Web
  Connector for tests, demos and notebooks.
"""

from .app import WebConnectorApp, webconnector_app
from .auth import WebConnectorUser, hash_password, read_users_file, verify_password
from .queue import QUEUE_RESULT_COLUMNS, queue_for_desktop, target_for
from .qwc import qwc_xml, write_qwc
from .server import BackgroundServer, make_wsgi_server, running_server
from .service import WebConnectorService, WebConnectorSettings
from .staging import desktop_status, export_staged, request_list_staging, staged_lists, staging_info

__all__ = [
    "QUEUE_RESULT_COLUMNS",
    "BackgroundServer",
    "WebConnectorApp",
    "WebConnectorService",
    "WebConnectorSettings",
    "WebConnectorUser",
    "desktop_status",
    "export_staged",
    "hash_password",
    "make_wsgi_server",
    "queue_for_desktop",
    "qwc_xml",
    "read_users_file",
    "request_list_staging",
    "running_server",
    "staged_lists",
    "staging_info",
    "target_for",
    "verify_password",
    "webconnector_app",
    "write_qwc",
]
