"""Web Connector users: salted password hashes, company-file binding, the users file.

The service never keeps a password: each one is turned into a salted scrypt hash when
the app is built, and a login is checked in constant time (a name that does not exist
costs the same as a wrong password, so timing tells nothing).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError, SettingsError
from ..formats import decode_text

log = logging.getLogger("qbrecon")

_N, _R, _P = 2**14, 8, 1
_PREFIX = "scrypt"


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """A salted scrypt hash of ``password``, as one text ``scrypt$n$r$p$salt$key``.

    Example:
        >>> h = hash_password("s3cret")
        >>> h.startswith("scrypt$") and verify_password(h, "s3cret")
        True
        >>> verify_password(h, "S3cret")
        False
    """
    if not isinstance(password, str) or not password:
        raise SettingsError("a Web Connector password must be a non-empty text")
    salt = salt if salt is not None else secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    b64 = base64.b64encode
    return f"{_PREFIX}${_N}${_R}${_P}${b64(salt).decode()}${b64(key).decode()}"


def _parse_hash(text: str) -> tuple[int, int, int, bytes, bytes]:
    try:
        prefix, n, r, p, salt, key = text.split("$")
        if prefix != _PREFIX:
            raise ValueError(prefix)
        n_, r_, p_ = int(n), int(r), int(p)
        if not (2 <= n_ <= 2**20 and n_ & (n_ - 1) == 0 and 1 <= r_ <= 32 and 1 <= p_ <= 16):
            raise ValueError("cost")
        return n_, r_, p_, base64.b64decode(salt, validate=True), base64.b64decode(key, validate=True)
    except (ValueError, TypeError) as exc:
        raise SettingsError(
            "not a qbrecon password hash (expected scrypt$N$r$p$salt$key, as "
            "`qbrecon webconnector hash-password` prints)"
        ) from exc


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash`` (constant-time comparison)."""
    n, r, p, salt, key = _parse_hash(password_hash)
    got = hashlib.scrypt(
        (password or "").encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=len(key),
        maxmem=256 * 1024 * 1024,
    )
    return hmac.compare_digest(got, key)


#: checked when a user name is unknown, so that an unknown name costs a full hash too
_DUMMY_HASH = hash_password(secrets.token_hex(16))


@dataclass(frozen=True)
class WebConnectorUser:
    """One Web Connector login.

    Attributes:
        name: the ``UserName`` in the .qwc file.
        password_hash: from :func:`hash_password` (never the password itself).
        company_file: the one company file this user may reach (full path as QuickBooks
            shows it), or "" for none in particular: then each update serves a company
            file that has work queued (or the open file, when that is where work waits).
    """

    name: str
    password_hash: str
    company_file: str = ""

    def __repr__(self) -> str:  # never show the hash
        return f"WebConnectorUser(name={self.name!r}, company_file={self.company_file!r})"


def make_users(users: Mapping[str, Any]) -> dict[str, WebConnectorUser]:
    """Normalise the ``users`` argument of :func:`qbrecon.webconnector_app`.

    Each value is a password (text), a mapping with ``password`` or ``password_hash`` and
    optionally ``company_file``, or a :class:`WebConnectorUser`. Passwords are hashed here
    and not kept.

    Raises:
        SettingsError: naming every user whose entry is unusable.
    """
    if not isinstance(users, Mapping) or not users:
        raise SettingsError("users must map at least one Web Connector user name to a password",
                            setting="users")
    out: dict[str, WebConnectorUser] = {}
    problems: list[str] = []
    for name, value in users.items():
        try:
            out[str(name)] = _make_user(str(name), value)
        except SettingsError as exc:
            problems.append(f"{name}: {exc}")
    if problems:
        raise SettingsError("unusable Web Connector users:\n  - " + "\n  - ".join(problems),
                            setting="users")
    return out


def _make_user(name: str, value: Any) -> WebConnectorUser:
    if not name.strip():
        raise SettingsError("a user name cannot be empty")
    if isinstance(value, WebConnectorUser):
        _parse_hash(value.password_hash)
        return value
    if isinstance(value, str):
        return WebConnectorUser(name, hash_password(value))
    if isinstance(value, Mapping):
        unknown = set(value) - {"password", "password_hash", "company_file"}
        if unknown:
            raise SettingsError(f"unknown keys {sorted(unknown)} (allowed: password, "
                                "password_hash, company_file)")
        company = value.get("company_file", "") or ""
        if not isinstance(company, str):
            raise SettingsError("company_file must be a text (a full path, or empty)")
        if "password_hash" in value:
            if "password" in value:
                raise SettingsError("give password or password_hash, not both")
            _parse_hash(str(value["password_hash"]))
            return WebConnectorUser(name, str(value["password_hash"]), company.strip())
        if "password" in value:
            return WebConnectorUser(name, hash_password(value["password"]), company.strip())
        raise SettingsError("needs a password or a password_hash")
    raise SettingsError(f"expected a password, a mapping or a WebConnectorUser, "
                        f"not {type(value).__name__}")


def check_login(users: Mapping[str, WebConnectorUser], name: str, password: str) -> WebConnectorUser | None:
    """The user if ``name``/``password`` are right, else None; always costs one hash."""
    user = users.get(name)
    ok = verify_password(user.password_hash if user else _DUMMY_HASH, password)
    return user if (user is not None and ok) else None


def read_users_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a users file (TOML or JSON) into the ``users`` mapping of the app.

    Either the whole file or its ``users`` table maps names to a password or to a table
    with ``password`` or ``password_hash`` and optionally ``company_file``::

        [users.acme-qbwc]
        password_hash = "scrypt$16384$8$1$..."
        company_file = 'C:\\Users\\Public\\Documents\\Intuit\\QuickBooks\\Acme.qbw'

    Raises:
        SettingsError: the file is missing, unreadable or not a users mapping.
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise SettingsError(f"cannot read the users file ({exc.strerror})", file=str(p)) from None
    try:
        text = decode_text(raw, file=str(p))  # UTF-8 (BOM or not), UTF-16, Windows-1252
        data = json.loads(text) if p.suffix.lower() == ".json" else tomllib.loads(text)
    except (InputError, json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"not a readable users file ({exc})", file=str(p)) from None
    if isinstance(data, Mapping) and isinstance(data.get("users"), Mapping):
        data = data["users"]
    if not isinstance(data, Mapping) or not data:
        raise SettingsError("the users file must map user names to passwords", file=str(p))
    clear = any(isinstance(v, str) or (isinstance(v, Mapping) and "password" in v)
                for v in data.values())
    if clear and os.name == "posix" and p.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("%s holds clear-text passwords and is readable by other users: "
                    "chmod 600 it, or store password_hash values instead", p)
    try:
        make_users(data)  # check now, to name the file in the error
    except SettingsError as exc:
        raise SettingsError(str(exc), file=str(p)) from None
    return dict(data)
