"""Serving the Web Connector app with the standard library's WSGI server.

For trying it out and for tests: on a loopback address the Web Connector accepts plain
http. In production run the same app under a real WSGI server behind TLS (see the
README); :func:`serve` refuses non-loopback hosts unless asked explicitly.
"""

from __future__ import annotations

import contextlib
import logging
import socketserver
import threading
from collections.abc import Callable, Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from .._net import is_loopback_host
from ..errors import SettingsError

log = logging.getLogger("qbrecon")


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        log.debug("webconnector http: " + format, *args)


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


def make_wsgi_server(app: Callable[..., Any], host: str = "127.0.0.1", port: int = 8080, *,
                     allow_remote: bool = False) -> WSGIServer:
    """A threaded stdlib WSGI server for ``app`` (port 0 picks a free port)."""
    if not is_loopback_host(host) and not allow_remote:
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


class BackgroundServer:
    """The app served by a background thread until :meth:`stop` (or the end of a ``with``).

    Example:
        >>> server = BackgroundServer(app)            # doctest: +SKIP
        >>> server.url                                # doctest: +SKIP
        'http://127.0.0.1:53117/qbwc'
        >>> server.stop()                             # doctest: +SKIP
    """

    def __init__(self, app: Callable[..., Any], host: str = "127.0.0.1", port: int = 0,
                 *, path: str = "/qbwc") -> None:
        self._server = make_wsgi_server(app, host, port)
        self.url = server_url(self._server, path)
        # a short poll interval: stop() returns promptly
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name="qbrecon-webconnector", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and release the port (idempotent)."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=10)
        self._server.server_close()

    def __enter__(self) -> BackgroundServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"BackgroundServer({self.url!r})"


@contextlib.contextmanager
def running_server(app: Callable[..., Any], host: str = "127.0.0.1", port: int = 0,
                   *, path: str = "/qbwc") -> Iterator[str]:
    """Serve ``app`` in a background thread for the duration of the block; yields its URL."""
    with BackgroundServer(app, host, port, path=path) as server:
        yield server.url
