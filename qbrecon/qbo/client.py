"""The QuickBooks Online client: python-quickbooks with timeouts, limits and fault classes.

:class:`QBOClient` is a thin subclass of python-quickbooks' ``QuickBooks``. It keeps the
library's request building and JSON handling, and adds what qbo.md §16 lists as missing:

* a timeout on every request (the library sets none) and the injectable API base URL;
* the last HTTP response (status, headers, body), which the library discards;
* a client-side rate limiter (:mod:`qbrecon.qbo.limits`) shared by all threads;
* one access-token refresh after a 401, through an injectable token source;
* every fault classified from the HTTP status *and* the body (JSON ``Fault``, the
  gateway's lowercase ``fault``, or the XML throttle reply) into qbrecon errors:
  :class:`~qbrecon.errors.TransientSendError` (retry with the same request id),
  :class:`~qbrecon.errors.AuthError` and :class:`~qbrecon.errors.RejectedSendError`;
* hooks that see every exchange, so the sender can keep the integration log.

Build one with :func:`connect_qbo`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import requests
from quickbooks.client import QuickBooks
from quickbooks.exceptions import QuickbooksException

from ..errors import AuthError, RejectedSendError, SendError, SettingsError, TransientSendError
from .auth import (
    StaticTokens,
    TokenManager,
    TokenSource,
    TokenStore,
    check_url,
    make_auth_client,
    resolve_credentials,
    resolve_environment,
)
from .limits import QBOLimits, RateLimiter

log = logging.getLogger("qbrecon")

MINOR_VERSION = 75
DEFAULT_TIMEOUT = 60.0  # seconds; QuickBooks itself gives up on a request after 120 s
MAX_LOGGED_BODY = 1_000_000  # characters of a response body kept in an exchange record

#: fault classes (``SendError.fault["class"]``)
THROTTLED = "throttled"  # not executed: retry after waiting, same request id
NOT_SENT = "not_sent"  # never reached QuickBooks (connection refused)
UNKNOWN = "unknown"  # may or may not have run: timeout, lost response, 5xx
AUTH = "auth"  # refresh the access token, then retry once
COMPANY = "company"  # stop: the company or the connection must be fixed
PERMANENT = "permanent"  # this request or item will fail again unchanged

TRANSIENT_CLASSES = (THROTTLED, NOT_SENT, UNKNOWN)

_AUTH_CODES = {"100", "3200"}
_COMPANY_CODES = {"120", "3100", "6190"}
_CLOSED_BOOKS = ("account period closed", "account period has closed", "books are closed")


# ---------------------------------------------------------------------- faults
def parse_fault(text: str, content_type: str = "") -> dict[str, Any] | None:
    """The QuickBooks fault in a response body, in one shape, or None.

    Understands the standard JSON ``Fault`` (at any HTTP status), the gateway's
    lowercase ``fault`` (401s), and the XML ``IntuitResponse`` fault that throttling
    returns even when JSON was asked for. XML is parsed with DTDs and entities refused.

    Returns:
        ``{"type", "code", "message", "detail", "errors": [{"code", "message",
        "detail", "element"}, ...]}`` (codes are strings), or None.

    Example:
        >>> parse_fault('{"Fault":{"Error":[{"Message":"Object Not Found","code":"610"}],'
        ...             '"type":"ValidationFault"}}')["code"]
        '610'
    """
    text = (text or "").strip()
    if not text:
        return None
    errors: list[dict[str, Any]] = []
    ftype = ""
    if text.startswith("<"):
        try:
            from defusedxml import ElementTree as ET

            root = ET.fromstring(text.encode("utf-8"), forbid_dtd=True)
        except Exception:
            return None
        for node in root.iter():
            if node.tag.rsplit("}", 1)[-1] != "Fault":
                continue
            ftype = node.get("type", "")
            for err in node:
                if err.tag.rsplit("}", 1)[-1] != "Error":
                    continue
                fields = {c.tag.rsplit("}", 1)[-1]: (c.text or "") for c in err}
                errors.append(
                    {
                        "code": str(err.get("code", "")),
                        "message": fields.get("Message", ""),
                        "detail": fields.get("Detail", ""),
                        "element": err.get("element", ""),
                    }
                )
    else:
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        fault = data.get("Fault") or data.get("fault")
        if not isinstance(fault, dict):
            return None
        ftype = str(fault.get("type") or "")
        for err in fault.get("Error") or fault.get("error") or []:
            if not isinstance(err, dict):
                continue
            get = lambda k, e=err: e.get(k) if e.get(k) is not None else e.get(k.lower())  # noqa: E731
            errors.append(
                {
                    "code": "" if get("code") is None else str(get("code")),
                    "message": str(get("Message") or ""),
                    "detail": str(get("Detail") or ""),
                    "element": str(get("element") or ""),
                }
            )
    if not errors and not ftype:
        return None
    first = errors[0] if errors else {"code": "", "message": "", "detail": ""}
    return {
        "type": ftype,
        "code": first["code"],
        "message": first["message"],
        "detail": first["detail"],
        "errors": errors,
    }


def classify_fault(status: int | None, code: str | None, text: str = "") -> str:
    """The retry class of a fault (qbo.md §9): one of the class constants of this module.

    Args:
        status: the HTTP status (None for an item of a batch response).
        code: the QuickBooks error code, as text ("" when there is none).
        text: message and detail, searched for throttling and closed-books wording.

    Example:
        >>> classify_fault(429, "3001"), classify_fault(400, "610"), classify_fault(401, "3200")
        ('throttled', 'permanent', 'auth')
    """
    code = str(code or "").lstrip("0") or ""
    low = (text or "").lower()
    if status == 429 or code == "3001" or "throttleexceeded" in low:
        return THROTTLED
    if any(s in low for s in _CLOSED_BOOKS):
        return PERMANENT  # arrives as 6210 or as 5010; per item, never worth a retry
    if code in _COMPANY_CODES:
        return COMPANY
    if status == 401 or code in _AUTH_CODES:
        return AUTH
    if status == 403:
        return COMPANY
    if code == "10000" or (status is not None and status >= 500):
        return UNKNOWN
    return PERMANENT


def fault_text(fault: Mapping[str, Any] | None) -> str:
    """A one-line human description of a parsed fault: ``610 Object Not Found: detail``."""
    if not fault:
        return ""
    parts = [p for p in (fault.get("code"), fault.get("message")) if p]
    head = " ".join(str(p) for p in parts)
    detail = str(fault.get("detail") or "")
    if detail and detail != fault.get("message"):
        head = f"{head}: {detail}" if head else detail
    return head


def _error_for(
    cls: str,
    message: str,
    *,
    fault: dict[str, Any],
    status: int | None,
    retry_after: float | None = None,
) -> SendError | AuthError:
    fault = {**fault, "class": cls, "status": status}
    if cls in TRANSIENT_CLASSES:
        return TransientSendError(message, fault=fault, status=status, retry_after=retry_after)
    if cls == AUTH or (cls == COMPANY and fault.get("code") in ("120", "3100")):
        err = AuthError(message)
        err.fault = fault  # type: ignore[attr-defined]
        return err
    return RejectedSendError(message, fault=fault, status=status)


def _retry_after(resp: requests.Response) -> float | None:
    value = resp.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


# ---------------------------------------------------------------------- client
class QBOClient(QuickBooks):
    """python-quickbooks' client with timeouts, rate limiting and fault classification.

    Most users get one from :func:`connect_qbo`. Build one directly to inject the token
    source (any object with ``bearer()`` and ``refresh(failed_token=)``) and base URL.

    Args:
        realm_id: the QuickBooks company id.
        tokens: the token source, or an access token string (not refreshable).
        base_url: the API base, e.g. ``https://quickbooks.api.intuit.com/v3``.
        timeout: seconds to wait for each response.
        limits: the rate limits to keep (default: QuickBooks Online's).
        minorversion: the API minor version (75, the baseline since August 2025).

    Example:
        >>> c = QBOClient(realm_id="123", tokens="AT", base_url="http://127.0.0.1:1/v3")
        >>> c.target, c.api_url
        ('qbo:123', 'http://127.0.0.1:1/v3')
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> QBOClient:
        # the library's __new__ takes keyword settings and warns without minorversion
        return super().__new__(cls, minorversion=int(kwargs.get("minorversion", MINOR_VERSION)))

    def __init__(
        self,
        *,
        realm_id: str,
        tokens: TokenSource | str,
        base_url: str,
        timeout: float = DEFAULT_TIMEOUT,
        limits: QBOLimits | None = None,
        minorversion: int = MINOR_VERSION,
        environment: str = "custom",
    ) -> None:
        realm = str(realm_id or "").strip()
        if not realm or any(c in realm for c in "/?# \t"):
            raise SettingsError(
                f"realm_id {realm_id!r} is not a QuickBooks company id", setting="realm_id"
            )
        if not timeout or timeout <= 0:
            raise SettingsError("timeout must be a positive number of seconds", setting="timeout")
        self.company_id = realm
        self._api_base = check_url(str(base_url), what="base_url")
        self.tokens: TokenSource = StaticTokens(tokens) if isinstance(tokens, str) else tokens
        self.sandbox = environment == "sandbox"
        self.environment = environment
        self.timeout = float(timeout)
        self.limits = limits or QBOLimits()
        self.limiter = RateLimiter(self.limits)
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._sessions_lock = threading.Lock()
        self._hooks: list[Callable[[dict[str, Any]], None]] = []
        # the library only checks that a session exists; requests go through process_request
        self.session = self._http()

    def __repr__(self) -> str:
        return f"QBOClient(realm_id={self.company_id!r}, base_url={self._api_base!r})"

    # ------------------------------------------------------------ properties
    @property
    def auth_client(self) -> Any:  # type: ignore[override]
        """The token source's intuit-oauth client (None until a refresh needed one)."""
        return getattr(self.tokens, "auth_client", None)

    @property
    def api_url(self) -> str:  # type: ignore[override]
        return self._api_base

    @property
    def realm_id(self) -> str:
        return str(self.company_id)

    @property
    def target(self) -> str:
        """The ledger target of this company: ``qbo:<realm id>``."""
        return f"qbo:{self.company_id}"

    @property
    def last_response(self) -> requests.Response | None:
        """The last HTTP response this thread received (status, headers, body)."""
        return getattr(self._local, "response", None)

    def _http(self) -> requests.Session:
        s = getattr(self._local, "http", None)
        if s is None:
            s = requests.Session()
            s.headers.pop("Authorization", None)
            self._local.http = s
            with self._sessions_lock:
                self._sessions.append(s)
        return s

    def close(self) -> None:
        """Close the HTTP connections."""
        with self._sessions_lock:
            for s in self._sessions:
                s.close()
            self._sessions.clear()
        self._local = threading.local()

    def __enter__(self) -> QBOClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------- observing
    @contextlib.contextmanager
    def observe(self, hook: Callable[[dict[str, Any]], None]) -> Iterator[None]:
        """Call ``hook(exchange)`` after every HTTP exchange inside the block.

        An exchange is a dict: ``method, url, params, body, status, elapsed_ms,
        intuit_tid, response, error``. It never contains the Authorization header.
        """
        self._hooks.append(hook)
        try:
            yield
        finally:
            with contextlib.suppress(ValueError):
                self._hooks.remove(hook)

    def _emit(self, exchange: dict[str, Any]) -> None:
        for hook in list(self._hooks):
            try:
                hook(exchange)
            except Exception:  # the log must never break a send
                log.exception("an exchange hook failed")

    # ------------------------------------------------------------- transport
    def process_request(self, request_type, url, headers="", params="", data=""):  # type: ignore[override]
        """Send one request (the library's single transport method), with the additions.

        Raises:
            TransientSendError: throttled, gateway errors, timeouts, lost connections.
        """
        is_batch = url.rstrip("/").endswith("/batch")
        waited = self.limiter.acquire(batch=is_batch)
        if waited > 0.5:
            log.debug("waited %.2f s for the QuickBooks rate limit", waited)
        token = self.tokens.bearer()
        self._local.token = token
        hdrs = dict(headers or {})
        hdrs["Authorization"] = "Bearer " + token
        body = data.encode("utf-8") if isinstance(data, str) else data
        exchange: dict[str, Any] = {
            "method": request_type,
            "url": url,
            "params": dict(params or {}),
            "body": data if isinstance(data, str) else None,
        }
        started = time.monotonic()
        try:
            resp = self._http().request(
                request_type, url, headers=hdrs, params=params, data=body, timeout=self.timeout
            )
        except requests.RequestException as exc:
            cls = UNKNOWN
            if isinstance(exc, requests.ConnectTimeout) or (
                isinstance(exc, requests.ConnectionError) and "NewConnectionError" in repr(exc)
            ):
                cls = NOT_SENT
            what = (
                f"no answer from QuickBooks within {self.timeout:g} s"
                if isinstance(exc, requests.Timeout) and cls == UNKNOWN
                else f"connection to QuickBooks failed ({type(exc).__name__})"
            )
            exchange.update(
                status=None, elapsed_ms=round((time.monotonic() - started) * 1000, 1), error=what
            )
            self._local.response = None
            self._emit(exchange)
            code = "timeout" if isinstance(exc, requests.Timeout) else "connection"
            raise TransientSendError(
                what,
                fault={"class": cls, "code": code, "message": what, "detail": "", "errors": []},
            ) from None
        self._local.response = resp
        text = resp.text
        exchange.update(
            status=resp.status_code,
            elapsed_ms=round((time.monotonic() - started) * 1000, 1),
            intuit_tid=resp.headers.get("intuit_tid") or resp.headers.get("Intuit-Tid"),
            response=text if len(text) <= MAX_LOGGED_BODY else text[:MAX_LOGGED_BODY] + "...",
        )
        self._emit(exchange)
        status = resp.status_code
        if status == 429 or (status == 403 and "throttleexceeded" in text.lower()):
            fault = parse_fault(text, resp.headers.get("Content-Type", "")) or {}
            retry_after = _retry_after(resp)
            wait = self.limits.throttle_wait if retry_after is None else retry_after
            self.limiter.pause(wait)
            raise _error_for(
                THROTTLED,
                f"QuickBooks throttled the request (HTTP {status}); waiting {wait:g} s",
                fault={"code": "3001", "message": "ThrottleExceeded", "detail": "", **fault},
                status=status,
                retry_after=wait,
            )
        if status in (502, 503, 504):
            raise _error_for(
                UNKNOWN,
                f"QuickBooks is unavailable (HTTP {status})",
                fault={
                    "code": str(status),
                    "message": resp.reason or "",
                    "detail": "",
                    "errors": [],
                },
                status=status,
            )
        return resp

    def make_request(  # type: ignore[override]
        self,
        request_type,
        url,
        request_body=None,
        content_type="application/json",
        params=None,
        file_path=None,
        file_bytes=None,
        request_id=None,
    ):
        """The library's request, plus one token refresh on 401 and qbrecon errors.

        Raises:
            TransientSendError, AuthError, RejectedSendError: classified from the
                response; ``.fault`` holds the parsed fault with its ``class``.
        """
        for attempt in (1, 2):
            self._local.response = None
            try:
                return super().make_request(
                    request_type,
                    url,
                    request_body,
                    content_type,
                    params=dict(params or {}),
                    file_path=file_path,
                    file_bytes=file_bytes,
                    request_id=request_id,
                )
            except (QuickbooksException, TypeError, KeyError, ValueError) as exc:
                resp = self.last_response
                if resp is None and not isinstance(exc, QuickbooksException):
                    raise
                err = self._error_from_response(resp, exc)
                if attempt == 1 and getattr(err, "fault", {}).get("class") == AUTH:
                    log.info("QuickBooks refused the access token; refreshing it once")
                    self.tokens.refresh(failed_token=getattr(self._local, "token", None))
                    continue
                raise err from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _error_from_response(self, resp: requests.Response | None, exc: Exception) -> Exception:
        status = resp.status_code if resp is not None else None
        text = resp.text if resp is not None else ""
        fault = parse_fault(text, resp.headers.get("Content-Type", "") if resp is not None else "")
        if fault is None:
            code = str(getattr(exc, "error_code", "") or "")
            fault = {
                "type": "",
                "code": "" if code == "10000" and status and status != 200 else code,
                "message": getattr(exc, "message", "")
                or (f"HTTP {status}" if status else str(exc)),
                "detail": (text[:500] if text else ""),
                "errors": [],
            }
        if resp is not None:
            fault["intuit_tid"] = resp.headers.get("intuit_tid") or resp.headers.get("Intuit-Tid")
        joined = " ".join(f"{e.get('message', '')} {e.get('detail', '')}" for e in fault["errors"])
        cls = classify_fault(
            status, fault["code"], f"{fault['message']} {fault['detail']} {joined}"
        )
        if status == 200 and cls == UNKNOWN and not fault["code"]:
            cls = UNKNOWN  # an unreadable 200: the request may have run
        desc = fault_text(fault) or f"HTTP {status}"
        if cls == AUTH:
            msg = f"QuickBooks refused the access token ({desc})"
        elif cls == COMPANY:
            msg = f"QuickBooks refused access to company {self.company_id} ({desc})"
            if fault["code"] == "120":
                msg += "; the connected user is no longer an administrator: run `qbrecon auth` as an admin"
        elif cls in TRANSIENT_CLASSES:
            msg = f"QuickBooks failed to answer the request ({desc})"
        else:
            msg = f"QuickBooks refused the request ({desc})"
        return _error_for(cls, msg, fault=fault, status=status)

    # ------------------------------------------------------------ operations
    def _url(self, path: str) -> str:
        return f"{self.api_url}/company/{self.company_id}/{path.lstrip('/')}"

    def request_json(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, Any] | None = None,
        request_id: str | None = None,
        content_type: str = "application/json",
    ) -> dict[str, Any]:
        """One API call on this company; ``path`` is relative to ``/company/<realm>/``."""
        data = (
            body if isinstance(body, str) or body is None else json.dumps(body, ensure_ascii=False)
        )
        out = self.make_request(
            method,
            self._url(path),
            data,
            content_type,
            params=dict(params or {}),
            request_id=request_id,
        )
        if not isinstance(out, dict):
            raise TransientSendError(
                "QuickBooks answered with something that is not a JSON object",
                fault={
                    "class": UNKNOWN,
                    "code": "",
                    "message": "bad response",
                    "detail": "",
                    "errors": [],
                },
            )
        return out

    def query_rows(
        self, entity: str, where: str | None = None, *, page_size: int = 1000
    ) -> list[dict[str, Any]]:
        """Every row of ``SELECT * FROM entity [WHERE ...]``, all pages (qbo.md §5).

        Example (against a server)::

            rows = client.query_rows("Employee", "Active IN (true, false)")
        """
        if not 1 <= page_size <= 1000:
            raise SettingsError("page_size must be between 1 and 1000", setting="page_size")
        rows: list[dict[str, Any]] = []
        start = 1
        while True:
            sql = f"SELECT * FROM {entity}"
            if where:
                sql += f" WHERE {where}"
            sql += f" ORDERBY Id STARTPOSITION {start} MAXRESULTS {page_size}"
            data = self.request_json("POST", "query", body=sql, content_type="application/text")
            chunk = (data.get("QueryResponse") or {}).get(entity) or []
            rows.extend(chunk)
            if len(chunk) < page_size:
                return rows
            start += page_size

    def read(self, entity: str, entity_id: str) -> dict[str, Any]:
        """One record by id."""
        return self.request_json("GET", f"{entity.lower()}/{entity_id}").get(entity) or {}

    def create(
        self, entity: str, body: Mapping[str, Any], *, request_id: str | None = None
    ) -> dict[str, Any]:
        """Create one record; returns it as QuickBooks stored it."""
        return (
            self.request_json("POST", entity.lower(), body=dict(body), request_id=request_id).get(
                entity
            )
            or {}
        )

    def delete(
        self, entity: str, entity_id: str, sync_token: str, *, request_id: str | None = None
    ) -> dict[str, Any]:
        """Delete one record (``?operation=delete``)."""
        return (
            self.request_json(
                "POST",
                entity.lower(),
                body={"Id": str(entity_id), "SyncToken": str(sync_token)},
                params={"operation": "delete"},
                request_id=request_id,
            ).get(entity)
            or {}
        )

    def batch(
        self, items: Sequence[Mapping[str, Any]], *, request_id: str | None = None
    ) -> dict[str, dict[str, Any]]:
        """One batch request (≤ 30 items, each with a ``bId``); results keyed by ``bId``.

        Results come back in any order (qbo.md §11), so they are returned by ``bId``;
        an item QuickBooks did not answer is simply absent.
        """
        if not 0 < len(items) <= 30:
            raise SettingsError("a batch request holds 1 to 30 items", setting="batch")
        data = self.request_json(
            "POST", "batch", body={"BatchItemRequest": list(items)}, request_id=request_id
        )
        answers = data.get("BatchItemResponse")
        if not isinstance(answers, list):
            raise TransientSendError(
                "QuickBooks answered the batch request without BatchItemResponse",
                fault={
                    "class": UNKNOWN,
                    "code": "",
                    "message": "bad batch response",
                    "detail": "",
                    "errors": [],
                },
            )
        return {
            str(a.get("bId")): a
            for a in answers
            if isinstance(a, dict) and a.get("bId") is not None
        }


# --------------------------------------------------------------------- connect
def connect_qbo(
    *,
    realm_id: str,
    token_file: str | os.PathLike[str],
    environment: str = "sandbox",
    base_url: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    limits: QBOLimits | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    minorversion: int = MINOR_VERSION,
) -> QBOClient:
    """Connect to a QuickBooks Online company with the tokens in ``token_file``.

    Args:
        realm_id: the company (realm) id.
        token_file: the JSON token file (see :mod:`qbrecon.qbo.auth`); kept current as
            tokens rotate.
        environment: "sandbox", "production", or an OpenID discovery-document URL.
        base_url: the API base URL (e.g. ``http://127.0.0.1:8765/v3``); defaults to
            Intuit's for "sandbox"/"production" and is required with a discovery URL.
            Plain http is accepted for loopback hosts only.
        client_id, client_secret: the app's keys; else the token file's, else the
            ``QBRECON_CLIENT_ID`` / ``QBRECON_CLIENT_SECRET`` environment variables.
        limits: client-side rate limits (default: QuickBooks Online's).
        timeout: seconds to wait for each response.
        minorversion: the API minor version.

    Connecting needs neither the identity provider nor the client id and secret while
    the access token is valid: both are needed only to refresh it (shortly before it
    expires, or after a 401), and a refresh that cannot get them raises AuthError then.

    Raises:
        AuthError: no usable token file (at once); later, from the call that needs a
            refresh, when no client id/secret is known or the identity provider cannot
            be reached.
        SettingsError: a bad environment, base URL or realm id.

    Example (against the local emulator)::

        with QBOEmulator() as emu:
            emu.write_token_file("tokens.json")
            client = connect_qbo(realm_id=emu.realm_id, token_file="tokens.json",
                                 environment=emu.discovery_url, base_url=emu.base_url)
    """
    env = resolve_environment(environment)
    api = base_url or env.api_base
    if api is None:
        raise SettingsError(
            "environment is a discovery-document URL: also give base_url, the API base "
            "(for example http://127.0.0.1:8765/v3)",
            setting="base_url",
        )
    api = check_url(api, what="base_url")
    store = TokenStore(token_file)
    store.load()  # a missing or unusable token file is reported now, not at the first call

    def auth_client() -> Any:
        # made on the first refresh only: intuit-oauth's constructor downloads the
        # discovery document, which a valid access token does not need
        cid, secret = resolve_credentials(client_id, client_secret, store.load())
        if not cid or not secret:
            raise AuthError(
                f"{store.path}: the access token needs refreshing, and the app's client id "
                "and secret are needed for that; pass client_id/client_secret, store them in "
                "the token file, or set QBRECON_CLIENT_ID and QBRECON_CLIENT_SECRET (or run "
                f"`qbrecon auth --token-file {store.path}` again)"
            )
        return make_auth_client(client_id=cid, client_secret=secret, environment=env)

    tokens = TokenManager(store, auth_client_factory=auth_client)
    return QBOClient(
        realm_id=realm_id,
        tokens=tokens,
        base_url=api,
        timeout=timeout,
        limits=limits,
        minorversion=minorversion,
        environment=env.name,
    )


__all__ = [
    "AUTH",
    "COMPANY",
    "NOT_SENT",
    "PERMANENT",
    "THROTTLED",
    "UNKNOWN",
    "QBOClient",
    "classify_fault",
    "connect_qbo",
    "fault_text",
    "parse_fault",
]
