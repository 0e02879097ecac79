"""The WSGI app of the Web Connector service (standard library only, no SOAP framework).

Served at any path: ``POST`` carries the SOAP calls, ``GET ?wsdl`` returns the WSDL and
any other ``GET`` a short support page (the .qwc file's AppSupport URL points at it).
"""

from __future__ import annotations

import contextlib
import html
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs
from wsgiref.util import request_uri

from ..ledger import Ledger
from . import soap
from .service import WebConnectorService, WebConnectorSettings

log = logging.getLogger("qbrecon")

_XML = "text/xml; charset=utf-8"


class WebConnectorApp:
    """A WSGI callable around a :class:`~qbrecon.qbd.service.WebConnectorService`."""

    def __init__(self, service: WebConnectorService) -> None:
        self.service = service

    def __repr__(self) -> str:
        return f"WebConnectorApp(ledger={str(self.service._path)!r}, users={sorted(self.service.users)})"

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if method in ("GET", "HEAD"):
            status, ctype, body = self._get(environ)
        elif method == "POST":
            status, ctype, body = self._post(environ)
        else:
            status, ctype, body = "405 Method Not Allowed", "text/plain; charset=utf-8", b"POST SOAP calls here\n"
        headers = [("Content-Type", ctype), ("Content-Length", str(len(body))),
                   ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff")]
        if status.startswith("405"):
            headers.append(("Allow", "GET, HEAD, POST"))
        start_response(status, headers)
        return [b"" if method == "HEAD" else body]

    def _get(self, environ: dict[str, Any]) -> tuple[str, str, bytes]:
        query = {k.lower() for k in parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)}
        if "wsdl" in query:
            location = request_uri(environ, include_query=False)
            return "200 OK", _XML, soap.wsdl(location)
        from .. import __version__

        page = (
            "<!doctype html><html><head><meta charset='utf-8'><title>qbrecon Web Connector "
            "service</title></head><body><h1>qbrecon Web Connector service</h1>"
            f"<p>qbrecon {html.escape(__version__)} delivers queued time entries to QuickBooks "
            "Desktop through the QuickBooks Web Connector.</p><p>If an update fails, read the "
            "message in the Web Connector, then the integration log: <code>qbrecon log "
            "--ledger LEDGER --desktop</code>.</p></body></html>"
        )
        return "200 OK", "text/html; charset=utf-8", page.encode("utf-8")

    def _post(self, environ: dict[str, Any]) -> tuple[str, str, bytes]:
        limit = self.service.settings.max_body
        try:
            length = int(environ.get("CONTENT_LENGTH") or -1)
        except ValueError:
            length = -1
        if length > limit:
            log.warning("Web Connector request of %d bytes refused (limit %d)", length, limit)
            return ("413 Payload Too Large", _XML,
                    soap.render_fault(f"request larger than {limit} bytes", code="Client"))
        stream = environ["wsgi.input"]
        body = stream.read(length) if length >= 0 else stream.read(limit + 1)
        if len(body) > limit:
            return ("413 Payload Too Large", _XML,
                    soap.render_fault(f"request larger than {limit} bytes", code="Client"))
        try:
            call = soap.parse_request(body)
        except soap.SoapFault as exc:
            self.service._log("wc_bad_request", level="warning", message=f"refused: {exc}")
            return "500 Internal Server Error", _XML, soap.render_fault(str(exc), code=exc.code)
        try:
            result = self.service.call(call)
        except soap.SoapFault as exc:
            return "500 Internal Server Error", _XML, soap.render_fault(str(exc), code=exc.code)
        except Exception:
            # details go to the server log only: a fault body must not leak internals
            log.exception("Web Connector %s failed", call.operation)
            with contextlib.suppress(Exception):  # the ledger itself may be what failed
                self.service._log("wc_server_error", level="error",
                                  message=f"{call.operation} failed on the server (see the server log)")
            return "500 Internal Server Error", _XML, soap.render_fault("internal error", code="Server")
        return "200 OK", _XML, soap.render_response(call.operation, result)


def webconnector_app(
    *,
    ledger: Ledger | str | os.PathLike[str],
    users: Mapping[str, Any],
    settings: WebConnectorSettings | None = None,
) -> WebConnectorApp:
    """The WSGI app of the QuickBooks Web Connector service.

    Args:
        ledger: the ledger (a path or a :class:`~qbrecon.ledger.Ledger`): queued
            entries come from it, outcomes, sessions, staged lists and the
            integration log go to it. Several worker processes may serve one ledger.
        users: Web Connector user names mapped to either a password (text), or a mapping
            ``{"password": ..., "company_file": ...}`` (or ``"password_hash"`` from
            :func:`qbrecon.qbd.hash_password` instead of the password) that binds the
            user to one company file (full path as QuickBooks shows it). A user bound to
            none is served work queued for any company file, one file per update (the
            Web Connector is told to open it; work queued for "" goes to the open file).
            Passwords are kept only as salted scrypt hashes.
        settings: a :class:`~qbrecon.qbd.WebConnectorSettings` (ticket lifetime, lockout,
            chunk and page sizes, default service item, ...).

    Returns:
        A WSGI application: serve it at any path (``GET ?wsdl`` gives the WSDL).

    Raises:
        SettingsError: unusable users or settings.
        LedgerError: the ledger file cannot be used.

    Example:
        >>> import tempfile, os
        >>> app = webconnector_app(ledger=os.path.join(tempfile.mkdtemp(), "l.sqlite"),
        ...                        users={"acme-qbwc": {"password": "s3cret",
        ...                                             "company_file": r"C:\\QB\\Acme.qbw"}})
        >>> app.service.users["acme-qbwc"].company_file
        'C:\\\\QB\\\\Acme.qbw'
    """
    return WebConnectorApp(WebConnectorService(ledger=ledger, users=users, settings=settings))
