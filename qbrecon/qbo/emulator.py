"""A local QuickBooks Online v3 server: the embedded default for the demo, notebooks and tests.

:class:`QBOEmulator` serves, on 127.0.0.1 and a free port, the part of the QuickBooks
Online API that qbrecon uses, with the behaviour documented in qbo.md:

* OAuth: an OpenID discovery document, an authorization endpoint that consents at once
  and redirects with ``code``, ``state`` and ``realmId``, and a token endpoint for the
  ``authorization_code`` and ``refresh_token`` grants. Refreshing rotates the refresh
  token; the replaced one is refused with ``invalid_grant``. No ``id_token`` is returned.
* ``POST /v3/company/<realm>/query`` (and ``GET ?query=``) with ``WHERE`` conditions
  joined by ``AND`` (``=``, ``<``, ``>``, ``<=``, ``>=``, ``!=``, ``IN (...)``, ``LIKE``),
  ``ORDERBY``, ``STARTPOSITION``/``MAXRESULTS`` paging and ``COUNT(*)``; name lists
  return active records only unless the query names ``Active``.
* read, create, sparse/full update and ``?operation=delete`` for TimeActivity; read,
  create and update (deactivation adds `` (deleted)``) for Employee, Vendor, Customer
  (sub-customers with ``ParentRef``, ``Level``, ``FullyQualifiedName``), Item and Class.
  Deleting a name-list record is refused as QuickBooks refuses it.
* ``POST /batch`` (≤ 30 items, answered in shuffled order), ``requestid`` replay (the
  same id returns the stored response and runs nothing), the JSON fault shapes, the
  gateway's lowercase 401, and the XML (or JSON) 429 throttle reply.
* throttling at configurable limits (:class:`~qbrecon.qbo.limits.QBOLimits`, scalable),
  a configurable latency, and fault injection: :meth:`QBOEmulator.inject` ``"drop"``
  (commit, then close the connection without answering), ``"error"`` (a 5xx before
  running), ``"throttle"``, ``"slow"`` (commit, then answer late) and
  ``"expire_token"``.

State lives in memory unless ``state_file`` is given (then it is loaded at start and
saved after every change). Seeded from ``data/samples/qbo/*.json`` when present, else
from a small built-in company.

Example:
    >>> with QBOEmulator(seed="builtin") as emu:
    ...     emu.base_url.startswith("http://127.0.0.1:")
    True
"""

from __future__ import annotations

import base64
import copy
import json
import logging
import os
import random
import re
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pandas as pd

from ..errors import InputError, SettingsError
from .auth import TokenStore, write_private_file
from .limits import QBOLimits

log = logging.getLogger("qbrecon")

DEFAULT_REALM = "9341453908059321"
DEFAULT_CLIENT_ID = "qbrecon-emulator-client"
DEFAULT_CLIENT_SECRET = "qbrecon-emulator-secret"

DISCOVERY_PATH = "/.well-known/openid-configuration"
AUTHORIZE_PATH = "/connect/oauth2"
TOKEN_PATH = "/oauth2/v1/tokens/bearer"
REVOKE_PATH = "/oauth2/v1/tokens/revoke"
USERINFO_PATH = "/v1/openid_connect/userinfo"
JWKS_PATH = "/oauth2/v1/keys"

NAME_LISTS = ("Employee", "Vendor", "Customer", "Item", "Class")
ENTITIES = (*NAME_LISTS, "TimeActivity")
_BY_LOWER = {e.lower(): e for e in ENTITIES}
_PEOPLE_AND_CUSTOMERS = ("Employee", "Vendor", "Customer")
_PACIFIC = timezone(timedelta(hours=-8))

FAULT_KINDS = ("drop", "error", "throttle", "slow", "expire_token")
_QBO_LIMITS = QBOLimits()


def _now_text() -> str:
    return datetime.now(_PACIFIC).isoformat(timespec="milliseconds")


def _fault(code: str, message: str, detail: str = "", ftype: str = "ValidationFault") -> dict:
    err = {"Message": message, "Detail": detail or message, "code": str(code), "element": ""}
    return {"Fault": {"Error": [err], "type": ftype}, "time": _now_text()}


class _Fault(Exception):
    """A QuickBooks fault raised inside an operation: becomes a 400 (or item) fault."""

    def __init__(
        self,
        code: str,
        message: str,
        detail: str = "",
        status: int = 400,
        ftype: str = "ValidationFault",
    ) -> None:
        super().__init__(message)
        self.code, self.message, self.detail, self.status, self.ftype = (
            code,
            message,
            detail,
            status,
            ftype,
        )

    def body(self) -> dict:
        return _fault(self.code, self.message, self.detail, self.ftype)


def _inactive(what: str) -> _Fault:
    return _Fault(
        "610",
        "Object Not Found",
        "Object Not Found : Something you're trying to use has been made inactive. Check the "
        f"fields with accounts, customers, items, vendors or employees. ({what})",
    )


def _bad_ref(value: Any) -> _Fault:
    return _Fault(
        "2500", "Invalid Reference Id", f"Invalid Reference Id : Names element id {value} not found"
    )


def _missing(param: str) -> _Fault:
    return _Fault(
        "2020",
        "Required param missing, need to supply the required value for the API",
        f"Required parameter {param} is missing in the request",
    )


# ------------------------------------------------------------------- the query
_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:\\.|[^'\\])*')|(?P<op><=|>=|!=|<>|=|<|>)|(?P<punct>[(),*])|"
    r"(?P<word>[A-Za-z_][\w.]*)|(?P<num>-?\d+(?:\.\d+)?))",
)


class _QueryError(Exception):
    pass


@dataclass
class _Query:
    entity: str
    count: bool
    conditions: list[tuple[str, str, Any]]
    order_by: str | None
    descending: bool
    start: int
    max_results: int


def _tokenize(sql: str) -> list[tuple[str, str]]:
    pos, out = 0, []
    sql = sql.strip()
    while pos < len(sql):
        m = _TOKEN.match(sql, pos)
        if not m or m.end() == pos:
            raise _QueryError(
                f'QueryParserError: Encountered " {sql[pos : pos + 10]!r} " at column {pos + 1}'
            )
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
        while pos < len(sql) and sql[pos].isspace():
            pos += 1
    return out


def _value(tok: tuple[str, str]) -> Any:
    kind, text = tok
    if kind == "str":
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    if kind == "num":
        return float(text) if "." in text else int(text)
    if kind == "word" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    raise _QueryError(f'QueryParserError: Encountered " {text} " where a value was expected')


def parse_query(sql: str) -> _Query:
    """Parse the subset of the QuickBooks query language the emulator answers."""
    toks = _tokenize(sql)
    i = 0

    def peek(k: int = 0) -> tuple[str, str]:
        return toks[i + k] if i + k < len(toks) else ("", "")

    def word(expected: str | None = None) -> str:
        nonlocal i
        kind, text = peek()
        if kind != "word" or (expected and text.lower() != expected):
            raise _QueryError(
                f'QueryParserError: Encountered " {text or "<EOF>"} " at token {i + 1}'
            )
        i += 1
        return text

    word("select")
    count = False
    if peek()[1].lower() == "count":
        word()
        for p in "(*)":
            if peek()[1] != p:
                raise _QueryError("QueryParserError: COUNT(*) expected")
            i += 1
        count = True
    else:
        # "*" or "*, Sku" or a list of fields: the emulator always returns whole records
        while peek()[0] and peek()[1].lower() != "from":
            i += 1
    word("from")
    entity = word()
    conditions: list[tuple[str, str, Any]] = []
    order_by, desc, start, max_results = None, False, 1, 100
    while i < len(toks):
        kw = word().lower()
        if kw == "where":
            while True:
                field = word()
                kind, text = peek()
                if kind == "op":
                    i += 1
                    conditions.append((field, "!=" if text == "<>" else text, _value(peek())))
                    i += 1
                elif text.lower() == "in":
                    i += 1
                    if peek()[1] != "(":
                        raise _QueryError("QueryParserError: ( expected after IN")
                    i += 1
                    values = []
                    while peek()[1] != ")":
                        if not peek()[0]:
                            raise _QueryError("QueryParserError: ) expected")
                        values.append(_value(peek()))
                        i += 1
                        if peek()[1] == ",":
                            i += 1
                    i += 1
                    conditions.append((field, "in", values))
                elif text.lower() == "like":
                    i += 1
                    conditions.append((field, "like", _value(peek())))
                    i += 1
                else:
                    raise _QueryError(
                        f'QueryParserError: Encountered " {text or "<EOF>"} " after {field}'
                    )
                if peek()[1].lower() == "and":
                    i += 1
                    continue
                if peek()[1].lower() == "or":
                    raise _QueryError("QueryParserError: OR is not supported")
                break
        elif kw in ("orderby", "order"):
            if kw == "order":
                word("by")
            order_by = word()
            if peek()[1].lower() in ("asc", "desc"):
                desc = word().lower() == "desc"
        elif kw in ("startposition", "maxresults"):
            kind, text = peek()
            if kind != "num":
                raise _QueryError(f"QueryParserError: a number is expected after {kw.upper()}")
            i += 1
            if kw == "startposition":
                start = int(text)
            else:
                max_results = int(text)
        else:
            raise _QueryError(f'QueryParserError: Encountered " {kw} "')
    return _Query(entity, count, conditions, order_by, desc, start, max_results)


def _field(record: Mapping[str, Any], path: str) -> Any:
    cur: Any = record
    for part in path.split("."):
        if not isinstance(cur, Mapping):
            return None
        key = next((k for k in cur if k.lower() == part.lower()), None)
        if key is None:
            return None
        cur = cur[key]
    if isinstance(cur, Mapping) and "value" in cur:
        return cur["value"]
    return cur


def _compare(actual: Any, op: str, wanted: Any) -> bool:
    if actual is None:
        return op == "!="
    if op == "in":
        return any(_compare(actual, "=", w) for w in wanted)
    if op == "like":
        pattern = "^" + ".*".join(re.escape(p) for p in str(wanted).split("%")) + "$"
        return re.match(pattern, str(actual), re.I | re.S) is not None
    if isinstance(wanted, bool) or isinstance(actual, bool):
        a, w = str(actual).lower(), str(wanted).lower()
    else:
        try:
            a, w = float(actual), float(wanted)  # type: ignore[assignment]
        except (TypeError, ValueError):
            a, w = str(actual), str(wanted)
    return {
        "=": a == w,
        "!=": a != w,
        "<": a < w,  # type: ignore[operator]
        ">": a > w,  # type: ignore[operator]
        "<=": a <= w,  # type: ignore[operator]
        ">=": a >= w,  # type: ignore[operator]
    }[op]


def _sort_key(value: Any) -> tuple:
    try:
        return (0, float(value), "")
    except (TypeError, ValueError):
        return (1, 0.0, str(value))


# ----------------------------------------------------------------- fault rules
@dataclass
class _Rule:
    kind: str
    times: int
    after: int
    match: str | None
    status: int
    delay: float
    probability: float

    def applies(self, path: str, rng: random.Random) -> bool:
        if self.match and self.match not in path:
            return False
        if self.after > 0:
            self.after -= 1
            return False
        if self.times == 0:
            return False
        if self.probability < 1.0 and rng.random() >= self.probability:
            return False
        if self.times > 0:
            self.times -= 1
        return True


# -------------------------------------------------------------------- the seed
def _builtin_seed() -> dict[str, list[dict[str, Any]]]:
    def person(i, given, family, *, active=True, email=None, number=None):
        display = f"{given} {family}"
        rec = {
            "Id": str(i),
            "GivenName": given,
            "FamilyName": family,
            "DisplayName": display,
            "PrintOnCheckName": display,
            "Active": active,
        }
        if not active:
            rec["DisplayName"] = f"{display} (deleted)"
        if email:
            rec["PrimaryEmailAddr"] = {"Address": email}
        if number:
            rec["EmployeeNumber"] = number
        return rec

    employees = [
        person(54, "John", "Johnson", email="john.johnson@example.com", number="E054"),
        person(55, "Emily", "Platt", email="emily.platt@example.com", number="E055"),
        person(56, "Maria", "Garcia", email="maria.garcia@example.com", number="E056"),
        person(57, "Liam", "O'Brien", email="liam.obrien@example.com", number="E057"),
        person(58, "Tom", "Baker", active=False, email="tom.baker@example.com", number="E058"),
    ]
    vendors = [
        {
            "Id": "60",
            "DisplayName": "Nguyen Consulting",
            "CompanyName": "Nguyen Consulting",
            "GivenName": "Linh",
            "FamilyName": "Nguyen",
            "Active": True,
            "Vendor1099": True,
            "PrimaryEmailAddr": {"Address": "linh@nguyen-consulting.example.com"},
        },
        {
            "Id": "61",
            "DisplayName": "Sam Rivera",
            "GivenName": "Sam",
            "FamilyName": "Rivera",
            "Active": True,
            "Vendor1099": True,
        },
    ]
    customers = [
        {
            "Id": "1",
            "DisplayName": "Amy's Bird Sanctuary",
            "CompanyName": "Amy's Bird Sanctuary",
            "Active": True,
        },
        {"Id": "3", "DisplayName": "Cool Cars", "CompanyName": "Cool Cars", "Active": True},
        {
            "Id": "8",
            "DisplayName": "Freeman Sporting Goods",
            "CompanyName": "Freeman Sporting Goods",
            "Active": True,
        },
        {
            "Id": "9",
            "DisplayName": "0969 Ocean View Road",
            "ParentRef": {"value": "8"},
            "Job": True,
            "Active": True,
        },
        {
            "Id": "10",
            "DisplayName": "55 Twin Lane",
            "ParentRef": {"value": "8"},
            "Job": True,
            "Active": True,
        },
        {
            "Id": "11",
            "DisplayName": "Phase 2",
            "ParentRef": {"value": "9"},
            "Job": True,
            "Active": True,
        },
        {
            "Id": "12",
            "DisplayName": "Jeff's Jalopies",
            "CompanyName": "Jeff's Jalopies",
            "Active": False,
        },
        {
            "Id": "13",
            "DisplayName": "Kookies by Kathy",
            "CompanyName": "Kookies by Kathy",
            "Active": True,
        },
    ]
    items = [
        {"Id": "2", "Name": "Hours", "Type": "Service", "Active": True, "UnitPrice": 0},
        {"Id": "4", "Name": "Design", "Type": "Service", "Active": True, "UnitPrice": 75},
        {"Id": "5", "Name": "Gardening", "Type": "Service", "Active": True, "UnitPrice": 0},
        {"Id": "6", "Name": "Installation", "Type": "Service", "Active": True, "UnitPrice": 50},
        {"Id": "7", "Name": "Pump", "Type": "Inventory", "Active": True, "UnitPrice": 15},
        {"Id": "14", "Name": "Consulting", "Type": "Service", "Active": False, "UnitPrice": 100},
    ]
    classes = [
        {"Id": "5000000000000000001", "Name": "Design", "Active": True},
        {"Id": "5000000000000000002", "Name": "Landscaping", "Active": True},
    ]
    return {
        "Employee": employees,
        "Vendor": vendors,
        "Customer": customers,
        "Item": items,
        "Class": classes,
    }


def default_seed_dir() -> Path | None:
    """The folder of bundled QBO list responses (``data/samples/qbo``), if there is one."""
    candidates = []
    try:
        from ..samples import samples_dir  # type: ignore[attr-defined]

        candidates.append(Path(samples_dir()) / "qbo")
    except Exception:
        pass
    candidates.append(Path(__file__).resolve().parents[2] / "data" / "samples" / "qbo")
    for c in candidates:
        if c.is_dir() and any(c.glob("*.json")):
            return c
    return None


def load_seed(seed: Any) -> dict[str, list[dict[str, Any]]]:
    """Records per entity from ``seed``: None (samples, else built-in), "builtin", a folder,
    a JSON file, a list of files, or a mapping ``{entity: [records]}``."""
    if seed is None:
        folder = default_seed_dir()
        return load_seed(folder) if folder is not None else _builtin_seed()
    if isinstance(seed, str) and seed == "builtin":
        return _builtin_seed()
    if isinstance(seed, Mapping):
        return {str(k): [dict(r) for r in v] for k, v in seed.items()}
    paths: list[Path] = []
    for item in seed if isinstance(seed, list | tuple) else [seed]:
        p = Path(item)
        if p.is_dir():
            paths.extend(sorted(p.glob("*.json")))
        elif p.is_file():
            paths.append(p)
        else:
            raise SettingsError(f"{p}: no such seed file or folder", setting="seed")
    out: dict[str, list[dict[str, Any]]] = {}
    for p in paths:
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read the seed file ({exc})", file=str(p)) from None
        body = data.get("QueryResponse", data) if isinstance(data, dict) else {}
        for key, value in body.items():
            ent = _BY_LOWER.get(str(key).lower())
            if ent is None:
                continue
            records = value if isinstance(value, list) else [value]
            out.setdefault(ent, []).extend(dict(r) for r in records if isinstance(r, dict))
    return out


# ------------------------------------------------------------------ the server
class QBOEmulator:
    """A QuickBooks Online v3 API server on 127.0.0.1 (see the module docstring).

    Args:
        seed: the company's lists (see :func:`load_seed`).
        realm_id: the company id it answers for.
        port: 0 for a free port.
        limits: throttle limits (None: never throttle). Default: QuickBooks Online's.
        latency: seconds added to every API answer.
        client_id, client_secret: the app credentials the token endpoint accepts.
        access_token_ttl, refresh_token_ttl: token lifetimes in seconds.
        rotate_refresh_tokens: every refresh returns a new refresh token (the old one
            is refused from then on).
        remember_request_ids: replay stored responses for a repeated ``requestid``.
        shuffle_batches: answer batch items in shuffled order, as QuickBooks may.
        throttle_format: "xml" or "json" body for 429 replies.
        book_close_date: refuse TimeActivity on or before this date (fault 6210).
        state_file: load state from and save it to this JSON file (0600).
        random_seed: seeds the shuffling and probabilistic faults.
    """

    def __init__(
        self,
        *,
        seed: Any = None,
        realm_id: str = DEFAULT_REALM,
        host: str = "127.0.0.1",
        port: int = 0,
        limits: QBOLimits | None = _QBO_LIMITS,
        latency: float = 0.0,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        access_token_ttl: float = 3600.0,
        refresh_token_ttl: float = 8_726_400.0,
        rotate_refresh_tokens: bool = True,
        remember_request_ids: bool = True,
        shuffle_batches: bool = True,
        throttle_format: str = "xml",
        book_close_date: str | date | None = None,
        state_file: str | os.PathLike[str] | None = None,
        random_seed: int = 0,
    ) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise SettingsError("the emulator serves loopback only (127.0.0.1)", setting="host")
        if throttle_format not in ("xml", "json"):
            raise SettingsError(
                "throttle_format must be 'xml' or 'json'", setting="throttle_format"
            )
        self.realm_id = str(realm_id)
        self.host, self._port = host, int(port)
        self.limits = limits
        self.latency = float(latency)
        self.client_id, self.client_secret = client_id, client_secret
        self.access_token_ttl, self.refresh_token_ttl = (
            float(access_token_ttl),
            float(refresh_token_ttl),
        )
        self.rotate_refresh_tokens = rotate_refresh_tokens
        self.remember_request_ids = remember_request_ids
        self.shuffle_batches = shuffle_batches
        self.throttle_format = throttle_format
        self.book_close_date = (
            None if book_close_date is None else str(pd.Timestamp(book_close_date).date())
        )
        self.state_file = None if state_file is None else Path(state_file)
        self._rng = random.Random(random_seed)
        self._lock = threading.RLock()
        self._rate_lock = threading.Lock()
        self._arrivals: deque[float] = deque()
        self._batch_arrivals: deque[float] = deque()
        self._rules: list[_Rule] = []
        self.stats: Counter[str] = Counter()
        self._seen = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        # company state
        self._records: dict[str, dict[str, dict[str, Any]]] = {e: {} for e in ENTITIES}
        self._deleted: dict[str, dict[str, Any]] = {}
        self._next_id = 1
        self._replays: dict[str, list[Any]] = {}
        self._access: dict[str, float] = {}
        self._refresh: dict[str, float] = {}
        self._codes: dict[str, dict[str, Any]] = {}
        #: every access and refresh token ever issued (tests check none leaks into logs)
        self.issued_tokens: list[str] = []
        if self.state_file is not None and self.state_file.exists():
            self._load_state()
        else:
            self._seed(load_seed(seed))

    # ----------------------------------------------------------------- life
    def start(self) -> QBOEmulator:
        """Start serving in a background thread (idempotent)."""
        if self._server is not None:
            return self
        emu = self

        class Handler(_Handler):
            emulator = emu

        server = _Server((self.host, self._port), Handler)
        self._server = server
        self._port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="qbo-emulator",
            daemon=True,
        )
        self._thread.start()
        log.info("QuickBooks Online emulator on %s (company %s)", self.base_url, self.realm_id)
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server = None

    def __enter__(self) -> QBOEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"QBOEmulator(realm_id={self.realm_id!r}, url={self.root_url!r})"

    @property
    def port(self) -> int:
        return self._port

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self._port}"

    @property
    def base_url(self) -> str:
        """The API base to pass as ``base_url``: ``http://127.0.0.1:<port>/v3``."""
        return f"{self.root_url}/v3"

    @property
    def discovery_url(self) -> str:
        """The OpenID discovery document URL to pass as ``environment``."""
        return self.root_url + DISCOVERY_PATH

    # --------------------------------------------------------------- tokens
    def issue_tokens(self) -> dict[str, Any]:
        """A fresh access/refresh token pair, as if the user had just authorized."""
        with self._lock:
            return self._issue(None)

    def _issue(self, old_refresh: str | None) -> dict[str, Any]:
        now = time.time()
        access = "emu-at-" + secrets.token_urlsafe(24)
        self._access[access] = now + self.access_token_ttl
        if old_refresh is not None and not self.rotate_refresh_tokens:
            refresh = old_refresh
        else:
            refresh = "emu-rt-" + secrets.token_urlsafe(24)
            if old_refresh is not None:
                self._refresh.pop(old_refresh, None)
            self._refresh[refresh] = now + self.refresh_token_ttl
        self.issued_tokens.extend([access, refresh])
        self._save_state()
        return {
            "token_type": "bearer",
            "access_token": access,
            "expires_in": int(self.access_token_ttl),
            "refresh_token": refresh,
            "x_refresh_token_expires_in": int(self.refresh_token_ttl),
        }

    def write_token_file(
        self, path: str | os.PathLike[str], *, include_credentials: bool = True
    ) -> Path:
        """Authorize and write a token file (0600) that :func:`~qbrecon.connect_qbo` reads."""
        tok = self.issue_tokens()
        now = time.time()
        data = {
            "access_token": tok["access_token"],
            "refresh_token": tok["refresh_token"],
            "expires_at": datetime.fromtimestamp(now + tok["expires_in"], UTC).isoformat(
                timespec="seconds"
            ),
            "refresh_token_expires_at": datetime.fromtimestamp(
                now + tok["x_refresh_token_expires_in"], UTC
            ).isoformat(timespec="seconds"),
            "realm_id": self.realm_id,
            "environment": self.discovery_url,
            "base_url": self.base_url,
        }
        if include_credentials:
            data["client_id"] = self.client_id
            data["client_secret"] = self.client_secret
        store = TokenStore(path)
        with store.locked():
            store.save(data)
        return store.path

    def connect(self, token_file: str | os.PathLike[str], **kwargs: Any):
        """Write a fresh token file and return a connected :class:`~qbrecon.qbo.client.QBOClient`
        whose rate limits match the emulator's (extra keywords go to ``connect_qbo``)."""
        from .client import connect_qbo

        self.write_token_file(token_file)
        kwargs.setdefault("limits", self.limits)
        return connect_qbo(
            realm_id=self.realm_id,
            token_file=token_file,
            environment=self.discovery_url,
            base_url=self.base_url,
            **kwargs,
        )

    def expire_tokens(self) -> None:
        """Expire every access token now (the next API call gets a 401)."""
        with self._lock:
            past = time.time() - 1
            for t in self._access:
                self._access[t] = past
            self._save_state()

    def valid_refresh_tokens(self) -> set[str]:
        """The refresh tokens the token endpoint would accept now."""
        now = time.time()
        with self._lock:
            return {t for t, exp in self._refresh.items() if exp > now}

    # ------------------------------------------------------------ inspecting
    def records(self, entity: str, *, include_inactive: bool = True) -> list[dict[str, Any]]:
        """Copies of the stored records of one entity, by id."""
        ent = _BY_LOWER.get(entity.lower())
        if ent is None:
            raise SettingsError(f"unknown entity {entity!r}", setting="entity")
        with self._lock:
            rows = [copy.deepcopy(r) for r in self._records[ent].values()]
        if not include_inactive:
            rows = [r for r in rows if r.get("Active", True)]
        return sorted(rows, key=lambda r: _sort_key(r.get("Id")))

    def time_activities(self) -> pd.DataFrame:
        """The TimeActivities in the company, one row each (deleted ones excluded)."""
        rows = []
        for r in self.records("TimeActivity"):
            person = r.get("EmployeeRef") or r.get("VendorRef") or {}
            rows.append(
                {
                    "qbo_id": r.get("Id"),
                    "txn_date": r.get("TxnDate"),
                    "name_of": r.get("NameOf"),
                    "person_id": person.get("value"),
                    "person_name": person.get("name"),
                    "customer_id": (r.get("CustomerRef") or {}).get("value"),
                    "item_id": (r.get("ItemRef") or {}).get("value"),
                    "hours": r.get("Hours"),
                    "minutes": r.get("Minutes"),
                    "billable_status": r.get("BillableStatus"),
                    "hourly_rate": r.get("HourlyRate"),
                    "description": r.get("Description"),
                }
            )
        cols = [
            "qbo_id",
            "txn_date",
            "name_of",
            "person_id",
            "person_name",
            "customer_id",
            "item_id",
            "hours",
            "minutes",
            "billable_status",
            "hourly_rate",
            "description",
        ]
        frame = pd.DataFrame(rows, columns=cols)
        for c in (
            "qbo_id",
            "txn_date",
            "name_of",
            "person_id",
            "person_name",
            "customer_id",
            "item_id",
            "billable_status",
            "description",
        ):
            frame[c] = frame[c].astype("string")
        return frame

    def deactivate(self, entity: str, entity_id: str) -> None:
        """Make a name-list record inactive, as QuickBooks does (`` (deleted)`` suffix)."""
        ent = _BY_LOWER.get(entity.lower())
        with self._lock:
            rec = self._records.get(ent or "", {}).get(str(entity_id))
            if rec is None:
                raise SettingsError(f"no {entity} with id {entity_id}", setting="entity_id")
            self._set_active(ent or "", rec, False)
            self._save_state()

    def wait_for_requests(self, n: int, timeout: float = 10.0) -> bool:
        """Block until at least ``n`` API requests arrived (True) or ``timeout`` passed."""
        deadline = time.monotonic() + timeout
        with self._seen:
            while self.stats["api_requests"] < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._seen.wait(left)
        return True

    # ------------------------------------------------------------ faults
    def inject(
        self,
        kind: str,
        *,
        times: int = 1,
        after: int = 0,
        match: str | None = None,
        status: int = 500,
        delay: float = 1.0,
        probability: float = 1.0,
    ) -> None:
        """Arrange a fault for coming API requests.

        Args:
            kind: "drop" (run and commit, then close the connection unanswered),
                "error" (answer ``status`` without running), "throttle" (a 429),
                "slow" (run and commit, then wait ``delay`` seconds before answering),
                "expire_token" (expire the access tokens, so this request gets a 401).
            times: how many requests it hits (-1: until :meth:`clear_faults`).
            after: let this many matching requests through first.
            match: only requests whose path contains this text ("batch", "query", ...).
            probability: hit each matching request with this probability.
        """
        if kind not in FAULT_KINDS:
            raise SettingsError(f"fault kind {kind!r} is not one of {FAULT_KINDS}", setting="kind")
        with self._lock:
            self._rules.append(
                _Rule(
                    kind,
                    int(times),
                    int(after),
                    match,
                    int(status),
                    float(delay),
                    float(probability),
                )
            )

    def clear_faults(self) -> None:
        """Remove every pending injected fault."""
        with self._lock:
            self._rules.clear()

    def _pick_rule(self, path: str) -> _Rule | None:
        with self._lock:
            for rule in self._rules:
                if rule.applies(path, self._rng):
                    return rule
        return None

    # ------------------------------------------------------------ state
    def _seed(self, seed: Mapping[str, list[dict[str, Any]]]) -> None:
        max_id = 0
        for ent in ENTITIES:
            for raw in seed.get(ent, []):
                rec = copy.deepcopy(raw)
                if "Id" not in rec:
                    continue
                rec["Id"] = str(rec["Id"])
                rec.setdefault("Active", True)
                rec.setdefault("SyncToken", "0")
                rec.setdefault("domain", "QBO")
                rec.setdefault("sparse", False)
                rec.setdefault(
                    "MetaData", {"CreateTime": _now_text(), "LastUpdatedTime": _now_text()}
                )
                if ent == "Item":
                    rec.setdefault("FullyQualifiedName", rec.get("Name", ""))
                if ent == "Class":
                    rec.setdefault("FullyQualifiedName", rec.get("Name", ""))
                self._records[ent][rec["Id"]] = rec
                if rec["Id"].isdigit() and len(rec["Id"]) < 12:
                    max_id = max(max_id, int(rec["Id"]))
        self._fix_customer_tree()
        self._next_id = max_id + 1

    def _fix_customer_tree(self) -> None:
        customers = self._records["Customer"]

        def base_name(rec: Mapping[str, Any]) -> str:
            name = str(rec.get("DisplayName", ""))
            return name[: -len(" (deleted)")] if name.endswith(" (deleted)") else name

        def fill(rec: dict[str, Any], depth: int = 0) -> None:
            parent_id = (rec.get("ParentRef") or {}).get("value")
            parent = customers.get(str(parent_id)) if parent_id else None
            if parent is None or depth > 10:
                rec.setdefault("Level", 0)
                rec.setdefault("FullyQualifiedName", base_name(rec))
                rec.setdefault("Job", False)
                return
            if "FullyQualifiedName" not in parent or "Level" not in parent:
                fill(parent, depth + 1)
            rec.setdefault("Level", int(parent["Level"]) + 1)
            rec.setdefault("FullyQualifiedName", f"{parent['FullyQualifiedName']}:{base_name(rec)}")
            rec.setdefault("Job", True)

        for rec in customers.values():
            fill(rec)

    def _state(self) -> dict[str, Any]:
        return {
            "realm_id": self.realm_id,
            "next_id": self._next_id,
            "records": self._records,
            "deleted": self._deleted,
            "replays": self._replays,
            "access": self._access,
            "refresh": self._refresh,
        }

    def _save_state(self) -> None:
        if self.state_file is None:
            return
        write_private_file(self.state_file, json.dumps(self._state()))

    def _load_state(self) -> None:
        assert self.state_file is not None
        try:
            data = json.loads(self.state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(
                f"cannot read the emulator state ({exc})", file=str(self.state_file)
            ) from None
        self.realm_id = str(data.get("realm_id", self.realm_id))
        self._next_id = int(data["next_id"])
        self._records = {e: dict(data["records"].get(e, {})) for e in ENTITIES}
        self._deleted = dict(data.get("deleted", {}))
        self._replays = dict(data.get("replays", {}))
        self._access = {k: float(v) for k, v in data.get("access", {}).items()}
        self._refresh = {k: float(v) for k, v in data.get("refresh", {}).items()}

    def _new_id(self) -> str:
        i = self._next_id
        self._next_id += 1
        return str(i)

    # ------------------------------------------------------------ dispatch
    def _oauth(
        self, h: _Handler, method: str, path: str, query: dict[str, list[str]], body: bytes
    ) -> None:
        if path == DISCOVERY_PATH and method == "GET":
            root = self.root_url
            h.reply(
                200,
                {
                    "issuer": root,
                    "authorization_endpoint": root + AUTHORIZE_PATH,
                    "token_endpoint": root + TOKEN_PATH,
                    "userinfo_endpoint": root + USERINFO_PATH,
                    "revocation_endpoint": root + REVOKE_PATH,
                    "jwks_uri": root + JWKS_PATH,
                    "response_types_supported": ["code"],
                    "scopes_supported": ["openid", "com.intuit.quickbooks.accounting"],
                    "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                },
            )
            return
        if path == AUTHORIZE_PATH and method == "GET":
            q = {k: v[0] for k, v in query.items()}
            redirect = q.get("redirect_uri", "")
            if q.get("client_id") != self.client_id or not redirect:
                h.reply(
                    400,
                    {
                        "error": "invalid_request",
                        "error_description": "unknown client or no redirect_uri",
                    },
                )
                return
            code = "emu-code-" + secrets.token_urlsafe(12)
            with self._lock:
                self._codes[code] = {"redirect_uri": redirect, "expires": time.time() + 300}
            sep = "&" if "?" in redirect else "?"
            loc = (
                redirect
                + sep
                + urlencode({"code": code, "state": q.get("state", ""), "realmId": self.realm_id})
            )
            h.reply(302, b"", content_type="text/plain", headers={"Location": loc})
            return
        if path == TOKEN_PATH and method == "POST":
            self._token_endpoint(h, body)
            return
        if path == REVOKE_PATH and method == "POST":
            try:
                token = json.loads(body or b"{}").get("token")
            except ValueError:
                token = None
            with self._lock:
                self._refresh.pop(token, None)
                self._access.pop(token, None)
                self._save_state()
            h.reply(200, b"", content_type="text/plain")
            return
        h.reply(404, {"error": "not_found"})

    def _token_endpoint(self, h: _Handler, body: bytes) -> None:
        auth = h.headers.get("Authorization", "")
        try:
            cid, secret = base64.b64decode(auth.split(" ", 1)[1]).decode("utf-8").split(":", 1)
        except Exception:
            cid, secret = "", ""
        if cid != self.client_id or secret != self.client_secret:
            h.reply(401, {"error": "invalid_client"})
            return
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8")).items()}
        grant = form.get("grant_type")
        with self._lock:
            self.stats["token_requests"] += 1
            if grant == "authorization_code":
                code = self._codes.pop(form.get("code", ""), None)
                if (
                    code is None
                    or code["expires"] < time.time()
                    or code["redirect_uri"] != form.get("redirect_uri")
                ):
                    h.reply(
                        400,
                        {
                            "error": "invalid_grant",
                            "error_description": "Invalid authorization code",
                        },
                    )
                    return
                h.reply(200, self._issue(None), headers={"Cache-Control": "no-store"})
                return
            if grant == "refresh_token":
                rt = form.get("refresh_token", "")
                if self._refresh.get(rt, 0) <= time.time():
                    self.stats["invalid_grant"] += 1
                    h.reply(
                        400,
                        {
                            "error": "invalid_grant",
                            "error_description": "Incorrect or invalid refresh token",
                        },
                    )
                    return
                self.stats["token_refreshes"] += 1
                h.reply(200, self._issue(rt), headers={"Cache-Control": "no-store"})
                return
        h.reply(400, {"error": "unsupported_grant_type"})

    def _throttled(self, is_batch: bool) -> bool:
        if self.limits is None:
            return False
        now = time.monotonic()
        window = self.limits.window
        with self._rate_lock:
            for q in (self._arrivals, self._batch_arrivals):
                while q and q[0] + window <= now:
                    q.popleft()
            if len(self._arrivals) >= self.limits.requests_per_window:
                return True
            if is_batch and len(self._batch_arrivals) >= self.limits.batches_per_window:
                return True
            self._arrivals.append(now)
            if is_batch:
                self._batch_arrivals.append(now)
            return False

    def _throttle_reply(self, h: _Handler) -> None:
        self.stats["throttled"] += 1
        message = "message=ThrottleExceeded; errorCode=003001; statusCode=429"
        detail = "The request limit was reached.  Try again later"
        if self.throttle_format == "json":
            body = {
                "Fault": {
                    "Error": [{"Message": message, "Detail": detail, "code": "3001"}],
                    "type": "SERVICE",
                },
                "time": _now_text(),
            }
            h.reply(429, body)
            return
        xml = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            f'<IntuitResponse xmlns="http://schema.intuit.com/finance/v3" time="{_now_text()}">'
            f'<Fault type="SERVICE"><Error code="3001"><Message>{message}</Message>'
            f"<Detail>{detail}</Detail></Error></Fault></IntuitResponse>"
        )
        h.reply(429, xml.encode("utf-8"), content_type="application/xml")

    def _unauthorized(self, h: _Handler, detail: str) -> None:
        self.stats["unauthorized"] += 1
        body = {
            "warnings": None,
            "intuitObject": None,
            "fault": {
                "error": [
                    {
                        "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                        "detail": detail,
                        "code": "3200",
                        "element": None,
                    }
                ],
                "type": "AUTHENTICATION",
            },
            "time": int(time.time() * 1000),
        }
        h.reply(
            401, body, headers={"WWW-Authenticate": 'Bearer realm="Intuit", error="invalid_token"'}
        )

    def _api(
        self, h: _Handler, method: str, path: str, query: dict[str, list[str]], body: bytes
    ) -> None:
        with self._seen:
            self.stats["api_requests"] += 1
            self._seen.notify_all()
        parts = [p for p in path.split("/") if p]
        auth = h.headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else ""
        with self._lock:
            expires = self._access.get(token)
        if expires is None:
            self._unauthorized(h, "Token invalid: the access token is not known")
            return
        if expires <= time.time():
            self._unauthorized(h, "Token expired: the access token has expired")
            return
        if len(parts) < 4 or parts[0] != "v3" or parts[1] != "company":
            h.reply(400, _fault("500", "Unsupported Operation", f"Unsupported path {path}"))
            return
        if parts[2] != self.realm_id:
            h.reply(
                403,
                _fault(
                    "3100",
                    "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
                    "The application is not authorized for this company",
                    "AUTHORIZATION",
                ),
            )
            return
        resource = parts[3].lower()
        rule = self._pick_rule(path)
        if rule is not None and rule.kind == "expire_token":
            self.expire_tokens()
            self._unauthorized(h, "Token expired: the access token has expired")
            return
        if self._throttled(resource == "batch") or (rule is not None and rule.kind == "throttle"):
            self._throttle_reply(h)
            return
        if rule is not None and rule.kind == "error":
            self.stats["injected_errors"] += 1
            if rule.status >= 502:
                h.reply(
                    rule.status,
                    f"<html><body><h1>{rule.status} Service Unavailable</h1></body></html>".encode(),
                    content_type="text/html",
                )
            else:
                h.reply(
                    rule.status,
                    _fault(
                        "10000",
                        "An application error has occurred while processing your request",
                        "System Failure Error: An unexpected error occurred while accessing or saving your data.",
                        "SystemFault",
                    ),
                )
            return
        request_id = (query.get("requestid") or [None])[0]
        with self._lock:
            stored = (
                self._replays.get(request_id) if request_id and self.remember_request_ids else None
            )
            if stored is not None:
                self.stats["replayed"] += 1
                status, payload = int(stored[0]), stored[1]
            else:
                try:
                    status, payload = self._execute(
                        method, resource, parts[4:], query, body, request_id
                    )
                except _Fault as f:
                    status, payload = f.status, f.body()
                if request_id and self.remember_request_ids:
                    self._replays[request_id] = [status, payload]
                self._save_state()
        if self.latency > 0:
            time.sleep(self.latency)
        if rule is not None and rule.kind == "drop":
            self.stats["dropped"] += 1
            h.drop()
            return
        if rule is not None and rule.kind == "slow":
            self.stats["slowed"] += 1
            time.sleep(rule.delay)
        h.reply(status, payload, headers={"intuit_tid": "emu-" + secrets.token_hex(8)})

    # --------------------------------------------------------- operations
    def _execute(
        self,
        method: str,
        resource: str,
        rest: list[str],
        query: dict[str, list[str]],
        body: bytes,
        request_id: str | None,
    ) -> tuple[int, dict[str, Any]]:
        if resource == "query":
            sql = (query.get("query") or [""])[0] if method == "GET" else body.decode("utf-8")
            return 200, self._query(sql)
        if resource == "batch" and method == "POST":
            return 200, self._batch(self._json(body), request_id)
        if resource == "preferences" and method == "GET":
            return 200, {"Preferences": self._preferences(), "time": _now_text()}
        if request_id is not None and len(request_id) > 50:
            raise _Fault(
                "6000",
                "A business validation error has occurred while processing your request",
                "You cannot enter more than 50 characters in the request_id field",
            )
        entity = _BY_LOWER.get(resource)
        if entity is None:
            raise _Fault("500", "Unsupported Operation", f"Operation {resource} is not supported.")
        if method == "GET":
            if not rest:
                raise _Fault("500", "Unsupported Operation", "An entity id is required.")
            rec = self._records[entity].get(rest[0])
            if rec is None:
                raise _Fault(
                    "610",
                    "Object Not Found",
                    f"Object Not Found : {entity} {rest[0]} was not found",
                )
            return 200, {entity: copy.deepcopy(rec), "time": _now_text()}
        data = self._json(body)
        operation = (query.get("operation") or ["create" if not data.get("Id") else "update"])[0]
        return 200, {entity: self._operate(entity, operation, data), "time": _now_text()}

    @staticmethod
    def _json(body: bytes) -> dict[str, Any]:
        try:
            data = json.loads(body.decode("utf-8") or "{}")
        except (UnicodeDecodeError, ValueError):
            raise _Fault("500", "Unsupported Operation", "Request body is not valid JSON") from None
        if not isinstance(data, dict):
            raise _Fault("500", "Unsupported Operation", "Request body must be a JSON object")
        return data

    def _operate(self, entity: str, operation: str, data: dict[str, Any]) -> dict[str, Any]:
        if operation == "delete":
            return self._delete(entity, data)
        if operation == "update":
            return self._update(entity, data)
        if operation == "create":
            if data.get("Id"):
                return self._update(entity, data)
            return self._create(entity, data)
        raise _Fault("500", "Unsupported Operation", f"Operation {operation} is not supported.")

    def _preferences(self) -> dict[str, Any]:
        acct: dict[str, Any] = {
            "ClassTrackingPerTxn": bool(self._records["Class"]),
            "TrackDepartments": False,
        }
        if self.book_close_date:
            acct["BookCloseDate"] = self.book_close_date
        return {
            "Id": "1",
            "SyncToken": "0",
            "AccountingInfoPrefs": acct,
            "TimeTrackingPrefs": {
                "UseServices": True,
                "BillCustomers": True,
                "ShowBillRateToAll": False,
                "WorkWeekStartDate": "Monday",
                "MarkTimeEntriesBillable": True,
            },
        }

    def _query(self, sql: str) -> dict[str, Any]:
        try:
            q = parse_query(sql)
        except _QueryError as exc:
            raise _Fault("4000", "Error parsing query", str(exc)) from None
        entity = _BY_LOWER.get(q.entity.lower())
        if entity is None:
            raise _Fault(
                "4001", "Invalid query", f"QueryValidationError: Unknown entity {q.entity}"
            )
        if not 1 <= q.max_results <= 1000:
            raise _Fault(
                "4001",
                "Invalid query",
                f"QueryValidationError: value {q.max_results} is out of range for property MaxResults",
            )
        if q.start < 1:
            raise _Fault(
                "4001",
                "Invalid query",
                f"QueryValidationError: value {q.start} is out of range for property StartPosition",
            )
        rows = list(self._records[entity].values())
        conds = list(q.conditions)
        if entity in NAME_LISTS and not any(f.lower() == "active" for f, _, _ in conds):
            conds.append(("Active", "=", True))
        rows = [r for r in rows if all(_compare(_field(r, f), op, v) for f, op, v in conds)]
        if q.count:
            return {"QueryResponse": {"totalCount": len(rows)}, "time": _now_text()}
        key = q.order_by or "Id"
        rows.sort(key=lambda r: _sort_key(_field(r, key)), reverse=q.descending)
        page = rows[q.start - 1 : q.start - 1 + q.max_results]
        if not page:
            return {"QueryResponse": {}, "time": _now_text()}
        return {
            "QueryResponse": {
                entity: copy.deepcopy(page),
                "startPosition": q.start,
                "maxResults": len(page),
            },
            "time": _now_text(),
        }

    def _batch(self, data: dict[str, Any], request_id: str | None) -> dict[str, Any]:
        items = data.get("BatchItemRequest")
        if not isinstance(items, list) or not items:
            raise _Fault(
                "2020",
                "Required param missing, need to supply the required value for the API",
                "Required parameter BatchItemRequest is missing in the request",
            )
        if len(items) > 30:
            raise _Fault(
                "6000",
                "A business validation error has occurred while processing your request",
                f"Batch request exceeds the limit of 30 items ({len(items)} given)",
            )
        out = []
        for item in items:
            bid = item.get("bId") if isinstance(item, dict) else None
            result: dict[str, Any] = {"bId": bid}
            try:
                if not isinstance(item, dict) or not bid:
                    raise _missing("bId")
                if request_id is not None and (len(request_id) > 36 or len(str(bid)) > 10):
                    raise _Fault(
                        "6000",
                        "A business validation error has occurred while processing your request",
                        "You cannot enter more than 50 characters in the request_id field",
                    )
                if "Query" in item:
                    result.update(self._query(str(item["Query"])))
                    result.pop("time", None)
                else:
                    entity = next((e for e in ENTITIES if e in item), None)
                    if entity is None:
                        raise _Fault(
                            "500",
                            "Unsupported Operation",
                            "The batch item names no supported entity",
                        )
                    op = item.get("operation") or "create"
                    result[entity] = self._operate(entity, op, dict(item[entity]))
            except _Fault as f:
                result["Fault"] = f.body()["Fault"]
            out.append(result)
        if self.shuffle_batches:
            self._rng.shuffle(out)
        return {"BatchItemResponse": out, "time": _now_text()}

    # -- name lists and time activities
    def _ref(
        self, entity: str, ref: Any, *, what: str, check_active: bool = True
    ) -> dict[str, Any]:
        value = ref.get("value") if isinstance(ref, Mapping) else None
        if not value:
            raise _missing(f"{what}.value")
        rec = self._records[entity].get(str(value))
        if rec is None:
            raise _bad_ref(value)
        if check_active and not rec.get("Active", True):
            raise _inactive(f"{what} {value}")
        return rec

    def _display_taken(self, name: str, *, except_id: tuple[str, str] | None = None) -> bool:
        low = name.strip().lower()
        for ent in _PEOPLE_AND_CUSTOMERS:
            for rid, rec in self._records[ent].items():
                if except_id == (ent, rid):
                    continue
                if str(rec.get("DisplayName", "")).strip().lower() == low:
                    return True
        return False

    def _meta(self) -> dict[str, str]:
        t = _now_text()
        return {"CreateTime": t, "LastUpdatedTime": t}

    def _create(self, entity: str, data: dict[str, Any]) -> dict[str, Any]:
        if entity == "TimeActivity":
            rec = self._new_time_activity(data)
        elif entity in _PEOPLE_AND_CUSTOMERS:
            rec = self._new_name(entity, data)
        else:
            name = str(data.get("Name") or "").strip()
            if not name:
                raise _missing("Name")
            if any(
                str(r.get("Name", "")).lower() == name.lower()
                for r in self._records[entity].values()
            ):
                raise _Fault(
                    "6240",
                    "Duplicate Name Exists Error",
                    "The name supplied already exists. : Another product or service is using this name.",
                )
            rec = {
                **data,
                "Name": name,
                "FullyQualifiedName": name,
                "Active": data.get("Active", True),
            }
            if entity == "Item":
                rec.setdefault("Type", "Service")
        rec.update(
            {
                "Id": self._new_id(),
                "SyncToken": "0",
                "domain": "QBO",
                "sparse": False,
                "MetaData": self._meta(),
            }
        )
        self._records[entity][rec["Id"]] = rec
        self.stats[f"created_{entity}"] += 1
        return copy.deepcopy(rec)

    def _new_name(self, entity: str, data: dict[str, Any]) -> dict[str, Any]:
        display = str(data.get("DisplayName") or "").strip()
        if not display:
            parts = [
                data.get(k) for k in ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")
            ]
            display = " ".join(str(p) for p in parts if p) or str(data.get("CompanyName") or "")
        if not display:
            raise _missing("DisplayName")
        if any(c in display for c in ":\t\n"):
            raise _Fault(
                "2010",
                "Request has invalid or unsupported property",
                "DisplayName cannot contain a colon, tab or newline",
            )
        if len(display) > 500:
            raise _Fault(
                "2050",
                "String length is either shorter or longer than supported by specification",
                f"Min:1 Max:500 supported. Supplied length:{len(display)}",
            )
        if self._display_taken(display):
            raise _Fault(
                "6240",
                "Duplicate Name Exists Error",
                "The name supplied already exists. : Another customer, vendor or employee is "
                "already using this name. Please use a different name.",
            )
        rec = {**data, "DisplayName": display, "Active": data.get("Active", True)}
        rec.setdefault("PrintOnCheckName", display)
        if entity == "Customer":
            parent_ref = data.get("ParentRef")
            if parent_ref:
                parent = self._ref("Customer", parent_ref, what="ParentRef")
                level = int(parent.get("Level", 0)) + 1
                if level > 4:
                    raise _Fault(
                        "6000",
                        "A business validation error has occurred while processing your request",
                        "Sub-customers can be nested at most 4 levels deep",
                    )
                rec.update(
                    {
                        "Job": True,
                        "Level": level,
                        "ParentRef": {"value": parent["Id"]},
                        "FullyQualifiedName": f"{parent['FullyQualifiedName']}:{display}",
                    }
                )
                rec.setdefault("BillWithParent", False)
            else:
                rec.update({"Job": False, "Level": 0, "FullyQualifiedName": display})
        return rec

    def _new_time_activity(self, data: dict[str, Any]) -> dict[str, Any]:
        name_of = data.get("NameOf")
        if not name_of:
            raise _missing("NameOf")
        if name_of not in ("Employee", "Vendor"):
            raise _Fault("2170", "Invalid Enumeration", f"Invalid Enumeration : {name_of}")
        rec = copy.deepcopy(data)
        person = self._ref(name_of, data.get(f"{name_of}Ref"), what=f"{name_of}Ref")
        rec[f"{name_of}Ref"] = {"value": person["Id"], "name": person.get("DisplayName", "")}
        status = data.get("BillableStatus", "NotBillable")
        if status not in ("Billable", "NotBillable"):
            raise _Fault("2170", "Invalid Enumeration", f"Invalid Enumeration : {status}")
        rec["BillableStatus"] = status
        if data.get("CustomerRef"):
            cust = self._ref("Customer", data["CustomerRef"], what="CustomerRef")
            rec["CustomerRef"] = {"value": cust["Id"], "name": cust.get("FullyQualifiedName", "")}
        elif status == "Billable":
            raise _missing("CustomerRef")
        if status == "Billable" and data.get("HourlyRate") is None:
            raise _missing("HourlyRate")
        if data.get("HourlyRate") is not None:
            try:
                rate = float(data["HourlyRate"])
            except (TypeError, ValueError):
                raise _Fault(
                    "2010",
                    "Request has invalid or unsupported property",
                    "HourlyRate must be a number",
                ) from None
            if not 0 <= rate <= 99_999_999_999:
                raise _Fault("2050", "Invalid Number", "HourlyRate is out of range")
        if data.get("ItemRef"):
            item = self._ref("Item", data["ItemRef"], what="ItemRef")
            rec["ItemRef"] = {"value": item["Id"], "name": item.get("Name", "")}
        else:
            hours_item = next(
                (r for r in self._records["Item"].values() if r.get("Name") == "Hours"), None
            )
            if hours_item is not None:
                rec["ItemRef"] = {"value": hours_item["Id"], "name": "Hours"}
        if data.get("ClassRef"):
            cls = self._ref("Class", data["ClassRef"], what="ClassRef")
            rec["ClassRef"] = {"value": cls["Id"], "name": cls.get("Name", "")}
        if not (data.get("StartTime") and data.get("EndTime")):
            if data.get("Hours") is None and data.get("Minutes") is None:
                raise _missing("Hours")
            for key, top in (("Hours", 8760), ("Minutes", 59)):
                v = data.get(key, 0)
                if isinstance(v, bool) or not isinstance(v, int):
                    raise _Fault(
                        "2010",
                        "Request has invalid or unsupported property",
                        f"{key} must be a whole number (got {v!r})",
                    )
                if not 0 <= v <= top:
                    raise _Fault(
                        "2050", "Invalid Number", f"{key} must be between 0 and {top} (got {v})"
                    )
            if data.get("Hours", 0) == 8760 and data.get("Minutes", 0):
                raise _Fault("2050", "Invalid Number", "At 8760 hours, Minutes must be 0")
        desc = data.get("Description")
        if desc is not None and len(str(desc)) > 4000:
            raise _Fault(
                "2050",
                "String length is either shorter or longer than supported by specification",
                f"Min:0 Max:4000 supported. Supplied length:{len(str(desc))}",
            )
        txn = data.get("TxnDate") or datetime.now(_PACIFIC).date().isoformat()
        try:
            txn = date.fromisoformat(str(txn)).isoformat()
        except ValueError:
            raise _Fault(
                "2010",
                "Request has invalid or unsupported property",
                f"TxnDate {txn!r} is not a date",
            ) from None
        if self.book_close_date and txn <= self.book_close_date:
            raise _Fault(
                "6210",
                "Account Period Closed",
                f"Account Period Closed : The account period has closed and the books are locked for {txn}.",
            )
        rec["TxnDate"] = txn
        rec.setdefault("Taxable", False)
        return rec

    def _set_active(self, entity: str, rec: dict[str, Any], active: bool) -> None:
        was = rec.get("Active", True)
        rec["Active"] = active
        if entity in _PEOPLE_AND_CUSTOMERS:
            name = str(rec.get("DisplayName", ""))
            if was and not active and not name.endswith(" (deleted)"):
                rec["DisplayName"] = name + " (deleted)"
            if active and not was and name.endswith(" (deleted)"):
                rec["DisplayName"] = name[: -len(" (deleted)")]
        rec["SyncToken"] = str(int(rec.get("SyncToken", "0")) + 1)
        rec.setdefault("MetaData", {})["LastUpdatedTime"] = _now_text()

    def _stored_for_change(self, entity: str, data: dict[str, Any]) -> dict[str, Any]:
        rid = str(data.get("Id") or "")
        if not rid:
            raise _missing("Id")
        rec = self._records[entity].get(rid)
        if rec is None:
            if rid in self._deleted and entity == "TimeActivity":
                raise _Fault(
                    "610",
                    "Object Not Found",
                    "Object Not Found : Another user has deleted this transaction.",
                )
            raise _Fault(
                "610", "Object Not Found", f"Object Not Found : {entity} {rid} was not found"
            )
        if str(data.get("SyncToken", "")) != str(rec.get("SyncToken", "0")):
            raise _Fault(
                "5010",
                "Stale Object Error",
                "Stale Object Error : You and root were working on this at the same time. root "
                "finished before you did, so your work was not saved.",
            )
        return rec

    def _update(self, entity: str, data: dict[str, Any]) -> dict[str, Any]:
        rec = self._stored_for_change(entity, data)
        changes = {
            k: v
            for k, v in data.items()
            if k not in ("Id", "SyncToken", "sparse", "MetaData", "domain")
        }
        if "Active" in changes and entity in NAME_LISTS:
            self._set_active(entity, rec, bool(changes.pop("Active")))
        if (
            "DisplayName" in changes
            and entity in _PEOPLE_AND_CUSTOMERS
            and self._display_taken(str(changes["DisplayName"]), except_id=(entity, rec["Id"]))
        ):
            raise _Fault("6240", "Duplicate Name Exists Error", "The name supplied already exists.")
        if not data.get("sparse") and entity == "TimeActivity":
            keep = {k: rec[k] for k in ("Id", "SyncToken", "domain", "MetaData") if k in rec}
            rec.clear()
            rec.update(keep)
        rec.update(changes)
        rec["SyncToken"] = str(int(rec.get("SyncToken", "0")) + 1)
        rec.setdefault("MetaData", {})["LastUpdatedTime"] = _now_text()
        return copy.deepcopy(rec)

    def _delete(self, entity: str, data: dict[str, Any]) -> dict[str, Any]:
        if entity != "TimeActivity":
            raise _Fault("500", "Unsupported Operation", "Operation Delete is not supported.")
        rec = self._stored_for_change(entity, data)
        self._deleted[rec["Id"]] = self._records[entity].pop(rec["Id"])
        self.stats["deleted_TimeActivity"] += 1
        return {"status": "Deleted", "domain": "QBO", "Id": rec["Id"]}


# -------------------------------------------------------------------- handler
class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        # a client that goes away mid-request (a killed sender) is normal here
        log.debug("emulator: connection from %s ended abruptly", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out in separate writes: without TCP_NODELAY the body waits for
    # the client's delayed ACK (~40 ms per answer)
    disable_nagle_algorithm = True
    server_version = "QBOEmulator/1.0"
    timeout = 60
    emulator: QBOEmulator

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("emulator: " + format, *args)

    def reply(
        self,
        status: int,
        payload: Any,
        *,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header(
            "Content-Type",
            content_type if not isinstance(payload, dict) else "application/json;charset=UTF-8",
        )
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def drop(self) -> None:
        """Close the connection without answering (the client sees it reset)."""
        self.close_connection = True
        try:
            import socket

            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        query = parse_qs(url.query, keep_blank_values=True)
        emu = self.emulator
        try:
            if url.path.startswith("/v3/"):
                emu._api(self, method, url.path, query, body)
            else:
                emu._oauth(self, method, url.path, query, body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception:  # a bug in the emulator: answer like QuickBooks' system failure
            log.exception("emulator error")
            self.reply(
                500,
                _fault(
                    "10000",
                    "An application error has occurred while processing your request",
                    "System Failure Error",
                    "SystemFault",
                ),
            )

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")


def serve(emulator: QBOEmulator, *, echo: Any = None, token_file: str | None = None) -> None:
    """Run ``emulator`` in the foreground until interrupted (``qbrecon emulator``).

    ``echo`` receives the lines that tell how to connect (default: the qbrecon log).
    """
    echo = echo or log.info
    emulator.start()
    try:
        echo(f"QuickBooks Online emulator, company {emulator.realm_id}")
        echo(f"  API base (--base-url):        {emulator.base_url}")
        echo(f"  discovery (--environment):    {emulator.discovery_url}")
        echo(f"  client id / secret:           {emulator.client_id} / {emulator.client_secret}")
        if token_file:
            emulator.write_token_file(token_file)
            echo(f"  token file:                   {token_file}")
        echo("Press Ctrl-C to stop.")
        while True:
            time.sleep(3600)
    finally:
        emulator.stop()


__all__ = ["QBOEmulator", "default_seed_dir", "load_seed", "parse_query", "serve"]
