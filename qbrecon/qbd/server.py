"""Serving the Web Connector app with the standard library's WSGI server.

For trying it out and for tests: on a loopback address the Web Connector accepts plain
http. In production run the same app under a real WSGI server behind TLS (see the
README); :func:`serve` refuses non-loopback hosts unless asked explicitly.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socketserver
import threading
from collections.abc import Callable, Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from ..errors import SettingsError

log = logging.getLogger("qbrecon")


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        log.debug("webconnector http: " + format, *args)


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def make_wsgi_server(app: Callable[..., Any], host: str = "127.0.0.1", port: int = 8080, *,
                     allow_remote: bool = False) -> WSGIServer:
    """A threaded stdlib WSGI server for ``app`` (port 0 picks a free port)."""
    if not is_loopback(host) and not allow_remote:
        raise SettingsError(
            f"refusing to serve on {host}: the built-in server speaks plain http, which the "
            "Web Connector accepts only on localhost. Put the app behind a TLS server, or "
            "pass allow_remote (--allow-remote) if a TLS proxy in front of it forwards here.",
            setting="host")
    try:
        return make_server(host, port, app, server_class=_ThreadingServer,
                           handler_class=_QuietHandler)
    except OSError as exc:
        raise SettingsError(f"cannot listen on {host}:{port} ({exc.strerror or exc})",
                            setting="port") from None


def server_url(server: WSGIServer, path: str = "/qbwc") -> str:
    host, port = server.server_address[:2]
    host = f"[{host}]" if ":" in str(host) else host
    return f"http://{host}:{port}{path}"


@contextlib.contextmanager
def running_server(app: Callable[..., Any], host: str = "127.0.0.1", port: int = 0,
                   *, path: str = "/qbwc") -> Iterator[str]:
    """Serve ``app`` in a background thread for the duration of the block; yields its URL.

    Example:
        >>> from qbrecon.qbd import webconnector_app             # doctest: +SKIP
        >>> with running_server(app) as url:                     # doctest: +SKIP
        ...     print(url)
        http://127.0.0.1:53117/qbwc
    """
    server = make_wsgi_server(app, host, port)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="qbrecon-webconnector",
                              daemon=True)
    thread.start()
    try:
        yield server_url(server, path)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
