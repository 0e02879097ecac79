"""OAuth 2.0 for QuickBooks Online: the token file, refresh with rotation, authorization.

The token file is a JSON object holding at least ``access_token`` and ``refresh_token``
and optionally ``client_id``, ``client_secret``, ``expires_at`` (when the access token
expires: ISO 8601, or seconds since the epoch), ``refresh_token_expires_at``,
``realm_id``, ``environment`` and ``base_url``. qbrecon keeps it current:

* it is readable and writable by its owner only (mode 0600) and replaced atomically
  (a new file renamed over the old one), so a crash never leaves half a token file;
* the access token is refreshed shortly before it expires, and once after a 401;
* QuickBooks may rotate the refresh token on any refresh: the new one is written to the
  file **before** the new access token is used, so the newest token is never lost;
* refreshes happen on one code path, under a lock shared by threads and processes, and
  a refresh that another process already made is adopted instead of repeated;
* ``invalid_grant`` (the refresh token expired or was replaced) raises
  :class:`~qbrecon.errors.AuthError` telling the user to run ``qbrecon auth`` again.

Tokens are never logged and never written anywhere but the token file.

Client id and secret come from the arguments, else the token file, else the environment
variables ``QBRECON_CLIENT_ID`` and ``QBRECON_CLIENT_SECRET``. They and the identity
provider (intuit-oauth downloads its discovery document when its client is made) are
needed only to refresh, so the client is made at the first refresh, not at connect time.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import stat
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from .._net import is_loopback_url
from ..errors import AuthError, InputError, QbreconWarning, SettingsError, TransientSendError
from ..formats import decode_text

log = logging.getLogger("qbrecon")

ENV_CLIENT_ID = "QBRECON_CLIENT_ID"
ENV_CLIENT_SECRET = "QBRECON_CLIENT_SECRET"
ENV_REDIRECT_URI = "QBRECON_REDIRECT_URI"

SANDBOX_API = "https://sandbox-quickbooks.api.intuit.com/v3"
PRODUCTION_API = "https://quickbooks.api.intuit.com/v3"
DEFAULT_REDIRECT_URI = "http://localhost:8000/callback"
ACCOUNTING_SCOPE = "com.intuit.quickbooks.accounting"

#: refresh the access token when it expires within this many seconds
REFRESH_LEEWAY = 300.0
#: seconds to wait for the identity provider (discovery document, token endpoint)
AUTH_TIMEOUT = 30.0

_RUN_AUTH = "run `qbrecon auth --token-file {file}` to connect to QuickBooks again"


# ------------------------------------------------------------------ URL checks
def check_url(url: str, *, what: str) -> str:
    """Refuse URLs that would send credentials in the clear: https, or http to loopback only."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url.rstrip("/")
    if parts.scheme == "http" and parts.hostname:
        if is_loopback_url(url):
            return url.rstrip("/")
        raise SettingsError(
            f"{what} {url!r} uses plain http to another machine; tokens would travel "
            "unencrypted. Use https (plain http is allowed only for 127.0.0.1/localhost)",
            setting=what,
        )
    raise SettingsError(f"{what} {url!r} is not an http(s) URL", setting=what)


@dataclass(frozen=True)
class Environment:
    """Where the identity provider and the API live.

    ``oauth`` is what intuit-oauth receives ("sandbox", "production" or a discovery URL);
    ``api_base`` is the default API base URL (None for a custom discovery document).
    """

    name: str
    oauth: str
    api_base: str | None


def resolve_environment(environment: str) -> Environment:
    """Read ``environment``: "sandbox", "production" (any case, or "sand"/"prod"), or a URL.

    Raises:
        SettingsError: anything else, or an http URL that is not on loopback.

    Example:
        >>> resolve_environment("Sandbox").api_base
        'https://sandbox-quickbooks.api.intuit.com/v3'
    """
    text = str(environment or "").strip()
    low = text.lower()
    if low in ("sandbox", "sand"):
        # intuit-oauth and python-quickbooks disagree on "Sandbox" (qbo.md §16 #17):
        # pass the one spelling both read as the sandbox.
        return Environment("sandbox", "sandbox", SANDBOX_API)
    if low in ("production", "prod"):
        return Environment("production", "production", PRODUCTION_API)
    if low.startswith(("http://", "https://")):
        return Environment("custom", check_url(text, what="environment"), None)
    raise SettingsError(
        f"environment {text!r} is not allowed: use 'sandbox', 'production' or the URL of "
        "an OpenID discovery document",
        setting="environment",
    )


# ------------------------------------------------------------------ token file
def _parse_time(value: Any) -> float | None:
    """Seconds since the epoch from a number or an ISO 8601 text; None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError("not a time")
    if isinstance(value, int | float):
        v = float(value)
        return v / 1000.0 if v > 1e11 else v  # milliseconds, as some tools write
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def write_private_file(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` atomically, readable and writable by the owner only.

    The text goes to a new 0600 file in the same folder, is flushed to disk, then
    renamed over ``path``; readers see the old file or the new one, never a mix.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp creates the file 0600 and never follows an existing path
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


class TokenStore:
    """The token file: load, save (atomic, 0600), and a lock shared across processes.

    Args:
        path: the JSON token file.

    Example:
        >>> import tempfile, os
        >>> store = TokenStore(os.path.join(tempfile.mkdtemp(), "tokens.json"))
        >>> store.save({"access_token": "a", "refresh_token": "r"})
        >>> oct(os.stat(store.path).st_mode & 0o777)
        '0o600'
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lockfile = self.path.with_name(self.path.name + ".lock")

    def __repr__(self) -> str:
        return f"TokenStore({str(self.path)!r})"

    def exists(self) -> bool:
        return self.path.is_file()

    def load(self) -> dict[str, Any]:
        """The token file's contents.

        Raises:
            AuthError: the file is missing, unreadable, not JSON, or lacks the tokens.
        """
        try:
            st = self.path.stat()
            raw = self.path.read_bytes()
        except FileNotFoundError:
            raise AuthError(
                f"{self.path}: no token file; " + _RUN_AUTH.format(file=self.path)
            ) from None
        except OSError as exc:
            raise AuthError(f"{self.path}: cannot read the token file ({exc.strerror})") from None
        if os.name == "posix" and st.st_mode & 0o077:
            # somebody loosened it: tokens are as good as passwords, so close it again
            with contextlib.suppress(OSError):
                os.chmod(self.path, stat.S_IRUSR | stat.S_IWUSR)
            warnings.warn(
                f"{self.path}: the token file was readable by others (mode "
                f"{oct(st.st_mode & 0o777)}); it is now 0600. Consider revoking the tokens.",
                QbreconWarning,
                stacklevel=3,
            )
        try:
            # an editor may have saved it with a BOM, or as UTF-16 ("Unicode" in Notepad)
            data = json.loads(decode_text(raw, file=str(self.path)))
        except InputError:
            raise AuthError(
                f"{self.path}: the token file is not text; " + _RUN_AUTH.format(file=self.path)
            ) from None
        except json.JSONDecodeError as exc:
            raise AuthError(
                f"{self.path}: the token file is not valid JSON (line {exc.lineno}, "
                f"column {exc.colno}); " + _RUN_AUTH.format(file=self.path)
            ) from None
        if not isinstance(data, dict):
            raise AuthError(f"{self.path}: the token file must hold a JSON object")
        missing = [k for k in ("access_token", "refresh_token") if not data.get(k)]
        if "refresh_token" in missing:
            raise AuthError(
                f"{self.path}: the token file has no {' or '.join(missing)}; "
                + _RUN_AUTH.format(file=self.path)
            )
        bad = []
        for key in ("expires_at", "refresh_token_expires_at"):
            try:
                _parse_time(data.get(key))
            except (TypeError, ValueError):
                bad.append(key)
        if bad:
            raise AuthError(
                f"{self.path}: {', '.join(bad)} must be an ISO 8601 time or seconds since the epoch"
            )
        return data

    def save(self, data: Mapping[str, Any]) -> None:
        """Replace the token file atomically with ``data`` (mode 0600)."""
        body = {k: v for k, v in data.items() if v is not None}
        body["updated_at"] = _iso(time.time())
        write_private_file(self.path, json.dumps(body, indent=2, sort_keys=True) + "\n")

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the token file's lock (an advisory lock on ``<file>.lock``)."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: threads are still serialised
            yield
            return
        self._lockfile.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._lockfile, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


# --------------------------------------------------------------- token sources
class TokenSource(Protocol):
    """What the QuickBooks client needs from its tokens (injectable for tests)."""

    def bearer(self) -> str:
        """A current access token (refreshing first when it is about to expire)."""
        ...

    def refresh(self, *, failed_token: str | None = None) -> None:
        """Get a new access token after ``failed_token`` was refused with a 401."""
        ...


class StaticTokens:
    """A fixed access token that cannot be refreshed (scripts that manage tokens elsewhere).

    Example:
        >>> StaticTokens("abc").bearer()
        'abc'
    """

    def __init__(self, access_token: str) -> None:
        self._token = access_token

    def bearer(self) -> str:
        return self._token

    def refresh(self, *, failed_token: str | None = None) -> None:
        raise AuthError("QuickBooks refused the access token, and it cannot be refreshed here")

    def __repr__(self) -> str:
        return "StaticTokens(<redacted>)"


def _auth_client_class():
    from intuitlib.client import AuthClient

    class _TimedAuthClient(AuthClient):
        """intuit-oauth's client with a timeout on every request (it sets none)."""

        timeout = AUTH_TIMEOUT

        def request(self, method, url, *args, **kwargs):  # type: ignore[override]
            kwargs.setdefault("timeout", self.timeout)
            return super().request(method, url, *args, **kwargs)

    return _TimedAuthClient


def make_auth_client(
    *,
    client_id: str,
    client_secret: str,
    environment: Environment,
    redirect_uri: str = DEFAULT_REDIRECT_URI,
    access_token: str | None = None,
    refresh_token: str | None = None,
):
    """An intuit-oauth ``AuthClient`` (it downloads the discovery document now).

    Raises:
        AuthError: the discovery document cannot be fetched or lacks endpoints.
    """
    import requests
    from intuitlib.exceptions import AuthClientError

    cls = _auth_client_class()
    try:
        ac = cls(
            client_id,
            client_secret,
            redirect_uri,
            environment.oauth,
            access_token=access_token,
            refresh_token=refresh_token,
        )
    except AuthClientError as exc:
        raise AuthError(
            f"the OpenID discovery document for environment {environment.oauth!r} could not "
            f"be loaded (HTTP {exc.status_code})"
        ) from None
    except requests.RequestException as exc:
        raise AuthError(
            f"cannot reach the QuickBooks identity provider for environment "
            f"{environment.oauth!r}: {type(exc).__name__}"
        ) from None
    except (KeyError, ValueError) as exc:
        raise AuthError(
            f"the discovery document for environment {environment.oauth!r} is not usable "
            f"(missing {exc})"
        ) from None
    check_url(ac.token_endpoint, what="token endpoint")
    return ac


def _auth_error_from(exc: Exception, *, store: TokenStore | None, action: str) -> Exception:
    """Turn an intuit-oauth / requests failure into a qbrecon error (never with tokens)."""
    import requests
    from intuitlib.exceptions import AuthClientError

    where = f"{store.path}: " if store is not None else ""
    fix = _RUN_AUTH.format(file=store.path if store is not None else "PATH")
    if isinstance(exc, AuthClientError):
        try:
            body = json.loads(exc.content or b"{}")
        except (ValueError, TypeError):
            body = {}
        code = body.get("error") if isinstance(body, dict) else None
        desc = body.get("error_description", "") if isinstance(body, dict) else ""
        if code == "invalid_grant":
            return AuthError(
                f"{where}QuickBooks refused the refresh token while trying to {action} "
                f"(invalid_grant{': ' + desc if desc else ''}). It expired, was revoked, "
                f"or was replaced by a newer one that was not saved; {fix}"
            )
        if code == "invalid_client" or exc.status_code == 401:
            return AuthError(
                f"{where}QuickBooks refused the client id/secret while trying to {action}; "
                f"check {ENV_CLIENT_ID}/{ENV_CLIENT_SECRET} or the token file"
            )
        if exc.status_code >= 500 or exc.status_code == 429:
            return TransientSendError(
                f"the QuickBooks token endpoint failed with HTTP {exc.status_code} while "
                f"trying to {action}; try again later",
                status=exc.status_code,
            )
        return AuthError(
            f"{where}the QuickBooks token endpoint answered HTTP {exc.status_code}"
            f"{' (' + code + ')' if code else ''} while trying to {action}; {fix}"
        )
    if isinstance(exc, requests.RequestException):
        return TransientSendError(
            f"cannot reach the QuickBooks token endpoint to {action}: {type(exc).__name__}"
        )
    return exc


class TokenManager:
    """Tokens from a token file, refreshed through intuit-oauth, rotation-safe.

    The identity provider is needed only to refresh: with ``auth_client_factory`` the
    intuit-oauth client (whose constructor downloads the OpenID discovery document) is
    made on the first refresh, so a valid access token works offline.

    Args:
        store: the token file.
        auth_client: an intuit-oauth ``AuthClient`` (None: made by ``auth_client_factory``
            when a refresh is needed; without either, refreshing raises AuthError).
        auth_client_factory: makes the ``AuthClient`` on the first refresh; it raises
            :class:`~qbrecon.errors.AuthError` when it cannot (no client id/secret, the
            identity provider unreachable), and is tried again on the next refresh.
        leeway: refresh when the access token expires within this many seconds.
        clock: injectable for tests.
    """

    def __init__(
        self,
        store: TokenStore,
        auth_client: Any = None,
        *,
        auth_client_factory: Any = None,
        leeway: float = REFRESH_LEEWAY,
        clock: Any = time.time,
    ) -> None:
        self.store = store
        self.auth_client = auth_client
        self.auth_client_factory = auth_client_factory
        self.leeway = leeway
        self._clock = clock
        self._lock = threading.RLock()
        self._data = store.load()
        self.refreshes = 0

    def __repr__(self) -> str:
        return f"TokenManager({self.store!r})"

    @property
    def expires_at(self) -> float | None:
        return _parse_time(self._data.get("expires_at"))

    def _expiring(self, data: Mapping[str, Any]) -> bool:
        if not data.get("access_token"):
            return True
        exp = _parse_time(data.get("expires_at"))
        return exp is not None and exp - self._clock() <= self.leeway

    def bearer(self) -> str:
        with self._lock:
            if self._expiring(self._data):
                self.refresh(failed_token=self._data.get("access_token"))
            return str(self._data["access_token"])

    def refresh(self, *, failed_token: str | None = None) -> None:
        """Refresh the access token (rotating the refresh token), saving before use.

        When another thread or process refreshed meanwhile (the token file holds an
        access token other than ``failed_token`` that is not about to expire), that
        one is adopted and no refresh is made.
        """
        with self._lock, self.store.locked():
            latest = self.store.load()
            if latest.get("access_token") != failed_token and not self._expiring(latest):
                self._data = latest
                log.debug("adopted tokens refreshed by another process")
                return
            if self.auth_client is None and self.auth_client_factory is not None:
                self.auth_client = self.auth_client_factory()  # AuthError when it cannot
            if self.auth_client is None:
                raise AuthError(
                    f"{self.store.path}: the access token expired and no client id/secret "
                    f"is known to refresh it; set {ENV_CLIENT_ID}/{ENV_CLIENT_SECRET} or "
                    + _RUN_AUTH.format(file=self.store.path)
                )
            try:
                self.auth_client.refresh(refresh_token=latest["refresh_token"])
            except Exception as exc:
                raise _auth_error_from(
                    exc, store=self.store, action="refresh the access token"
                ) from None
            ac = self.auth_client
            now = self._clock()
            new = dict(latest)
            new["access_token"] = ac.access_token
            new["refresh_token"] = ac.refresh_token or latest["refresh_token"]
            if getattr(ac, "expires_in", None):
                new["expires_at"] = _iso(now + float(ac.expires_in))
            if getattr(ac, "x_refresh_token_expires_in", None):
                new["refresh_token_expires_at"] = _iso(now + float(ac.x_refresh_token_expires_in))
            # saved before anything uses the new access token: a rotated refresh token
            # must never exist only in memory
            self.store.save(new)
            self._data = self.store.load()
            self.refreshes += 1
            log.info(
                "refreshed the QuickBooks access token (valid until %s)", new.get("expires_at")
            )


# ------------------------------------------------------------ credentials
def resolve_credentials(
    client_id: str | None, client_secret: str | None, file_data: Mapping[str, Any] | None
) -> tuple[str | None, str | None]:
    """Client id and secret: the arguments, else the token file, else the environment."""
    file_data = file_data or {}
    cid = client_id or file_data.get("client_id") or os.environ.get(ENV_CLIENT_ID) or None
    secret = (
        client_secret or file_data.get("client_secret") or os.environ.get(ENV_CLIENT_SECRET) or None
    )
    return cid, secret


# ------------------------------------------------------------ authorization
@dataclass
class Authorization:
    """One authorization attempt: send the user to :attr:`url`, then :meth:`complete`.

    Built by :func:`start_authorization`.
    """

    url: str
    state: str
    environment: Environment
    redirect_uri: str
    client_id: str
    client_secret: str
    _auth_client: Any = field(repr=False, default=None)

    def complete(
        self,
        response: str,
        *,
        token_file: str | os.PathLike[str],
        realm_id: str | None = None,
        store_credentials: bool = True,
        base_url: str | None = None,
    ) -> dict[str, Any]:
        """Exchange the authorization code and write the token file (0600, atomic).

        Args:
            response: the full redirect URL the browser landed on (preferred: its state
                is checked), or just the authorization code.
            token_file: where to store the tokens.
            realm_id: the company id, if ``response`` is a bare code.
            store_credentials: also keep client id and secret in the token file.
            base_url: an API base URL to remember in the token file.

        Returns:
            what was stored, without the tokens and secret (``realm_id``, ``expires_at``...).

        Raises:
            AuthError: the user declined, the state does not match, or the code was refused.
        """
        text = (response or "").strip()
        code = text
        if "?" in text or "://" in text or "code=" in text:
            query = parse_qs(urlsplit(text).query if "?" in text else text)
            if "error" in query:
                raise AuthError(
                    f"QuickBooks did not authorize qbrecon: {query['error'][0]}"
                    + (
                        f" ({query['error_description'][0]})"
                        if "error_description" in query
                        else ""
                    )
                )
            if query.get("state", [None])[0] != self.state:
                raise AuthError(
                    "the redirect URL does not belong to this authorization (its state "
                    "differs); start `qbrecon auth` again and use the URL it prints"
                )
            code = query.get("code", [""])[0]
            realm_id = query.get("realmId", [realm_id])[0] or realm_id
        if not code:
            raise AuthError("no authorization code in what was entered")
        ac = self._auth_client
        try:
            ac.get_bearer_token(code, realm_id=realm_id)
        except Exception as exc:
            raise _auth_error_from(
                exc, store=None, action="exchange the authorization code"
            ) from None
        now = time.time()
        data: dict[str, Any] = {
            "access_token": ac.access_token,
            "refresh_token": ac.refresh_token,
            "expires_at": _iso(now + float(ac.expires_in))
            if getattr(ac, "expires_in", None)
            else None,
            "refresh_token_expires_at": (
                _iso(now + float(ac.x_refresh_token_expires_in))
                if getattr(ac, "x_refresh_token_expires_in", None)
                else None
            ),
            "realm_id": realm_id,
            "environment": self.environment.oauth,
            "base_url": base_url,
        }
        if store_credentials:
            data["client_id"] = self.client_id
            data["client_secret"] = self.client_secret
        store = TokenStore(token_file)
        with store.locked():
            store.save(data)
        shown = {
            k: v
            for k, v in data.items()
            if k not in ("access_token", "refresh_token", "client_secret")
        }
        return {k: v for k, v in shown.items() if v is not None}


def start_authorization(
    *,
    environment: str = "sandbox",
    client_id: str | None = None,
    client_secret: str | None = None,
    redirect_uri: str | None = None,
) -> Authorization:
    """Begin the OAuth authorization-code flow: returns the URL the user must open.

    Args:
        environment: "sandbox", "production" or an OpenID discovery-document URL.
        client_id, client_secret: the app's keys (else ``QBRECON_CLIENT_ID``/``_SECRET``).
        redirect_uri: one of the app's registered redirect URIs (else
            ``QBRECON_REDIRECT_URI``, else ``http://localhost:8000/callback``).

    Raises:
        AuthError: client id or secret missing, or the identity provider unreachable.
    """
    from intuitlib.enums import Scopes

    env = resolve_environment(environment)
    cid, secret = resolve_credentials(client_id, client_secret, None)
    if not cid or not secret:
        raise AuthError(
            f"the app's client id and secret are needed: pass them, or set {ENV_CLIENT_ID} "
            f"and {ENV_CLIENT_SECRET} (from the Keys page of the app on developer.intuit.com)"
        )
    redirect = redirect_uri or os.environ.get(ENV_REDIRECT_URI) or DEFAULT_REDIRECT_URI
    ac = make_auth_client(
        client_id=cid, client_secret=secret, environment=env, redirect_uri=redirect
    )
    url = ac.get_authorization_url([Scopes.ACCOUNTING])
    return Authorization(
        url=url,
        state=ac.state_token,
        environment=env,
        redirect_uri=redirect,
        client_id=cid,
        client_secret=secret,
        _auth_client=ac,
    )


__all__ = [
    "ENV_CLIENT_ID",
    "ENV_CLIENT_SECRET",
    "Authorization",
    "Environment",
    "StaticTokens",
    "TokenManager",
    "TokenSource",
    "TokenStore",
    "check_url",
    "is_loopback_url",
    "resolve_credentials",
    "resolve_environment",
    "start_authorization",
    "write_private_file",
]
