"""The .qwc file: how the Web Connector finds the service, one file per company file.

The file names the service URL, the user name (never the password: the user types it
into the Web Connector, which keeps it encrypted), and two GUIDs that must never change:
the OwnerID (one per Web Connector user of this qbrecon install) and the FileID (one per
company file), which QuickBooks stores in the company file on the first run. Both are
generated once and kept in the ledger, so writing the .qwc again gives the same file.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path, PurePosixPath, PureWindowsPath
from urllib.parse import urlsplit, urlunsplit

from .._io import atomic_path
from .._net import is_loopback_host
from ..errors import SettingsError
from ..ledger import Ledger
from . import store
from ._xmlsafe import XMLRejected, parse_xml
from .queue import resolve_company_file

_GUID = re.compile(r"^\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}$")


def _check_url(url: str, what: str) -> tuple[str, str]:
    parts = urlsplit(url or "")
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise SettingsError(f"{what} must be an http(s) URL, not {url!r}", setting=what)
    if parts.scheme == "http" and not is_loopback_host(host):
        raise SettingsError(
            f"{what} must use https (the Web Connector refuses plain http except for "
            f"localhost): {url!r}", setting=what)
    return parts.scheme, host


def default_support_url(url: str) -> str:
    """The service URL with ``?support``: the service answers it with a help page."""
    parts = urlsplit(url)
    query = f"{parts.query}&support" if parts.query else "support"
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", query, ""))


def _default_app_name(company_file: str) -> str:
    if not company_file:
        return "qbrecon"
    stem = PureWindowsPath(company_file).stem if "\\" in company_file else PurePosixPath(company_file).stem
    return f"qbrecon ({stem})"


def qwc_xml(
    *,
    url: str,
    user: str,
    owner_id: str,
    file_id: str,
    app_name: str,
    app_description: str = "Send approved time entries to QuickBooks",
    support_url: str | None = None,
    run_every_minutes: int | None = 30,
    app_id: str = "",
    unattended: bool = True,
) -> bytes:
    """The .qwc document (UTF-8 bytes), built with an XML library and checked.

    Raises:
        SettingsError: a URL that the Web Connector refuses, a support URL on another
            host, a schedule under 15 minutes, an empty user or app name, bad GUIDs.
    """
    problems = []
    try:
        _, host = _check_url(url, "url")
    except SettingsError as exc:
        problems.append(str(exc))
        host = ""
    support = support_url or (default_support_url(url) if not problems else "")
    if support_url:
        try:
            _, support_host = _check_url(support_url, "support_url")
            if host and support_host != host:
                problems.append(f"support_url must be on the same host as url ({host}), "
                                f"not {support_host}")
        except SettingsError as exc:
            problems.append(str(exc))
    if not (user or "").strip():
        problems.append("user (the Web Connector user name) is empty")
    if not (app_name or "").strip():
        problems.append("app_name is empty")
    if len(app_description or "") > 80:
        problems.append("app_description should be at most 80 characters")
    if run_every_minutes is not None and (not isinstance(run_every_minutes, int)
                                          or run_every_minutes < 15):
        problems.append("run_every_minutes must be a whole number of 15 or more "
                        "(the shortest auto-run interval), or None for no schedule")
    for name, g in (("owner_id", owner_id), ("file_id", file_id)):
        if not _GUID.match(g or ""):
            problems.append(f"{name} must be a GUID in braces, not {g!r}")
    if problems:
        raise SettingsError("cannot write the .qwc file: " + "; ".join(problems), setting="qwc")
    root = ET.Element("QBWCXML")
    for tag, text in (
        ("AppName", app_name.strip()),
        ("AppID", app_id),
        ("AppURL", url),
        ("AppDescription", app_description),
        ("AppSupport", support),
        ("UserName", user.strip()),
        ("OwnerID", owner_id.upper()),
        ("FileID", file_id.upper()),
        ("QBType", "QBFS"),
        ("PersonalDataPref", "pdpNotNeeded"),
        ("UnattendedModePref", "umpOptional" if unattended else "umpRequired"),
    ):
        ET.SubElement(root, tag).text = text
    if run_every_minutes is not None:
        sched = ET.SubElement(root, "Scheduler")
        ET.SubElement(sched, "RunEveryNMinutes").text = str(run_every_minutes)
    ET.SubElement(root, "IsReadOnly").text = "false"
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode", short_empty_elements=False)
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n").encode("utf-8")


def _ids_from_file(path: Path, user: str) -> tuple[str, str] | None:
    try:
        root = parse_xml(path.read_bytes())
    except (OSError, XMLRejected):
        return None
    if root.tag != "QBWCXML" or (root.findtext("UserName") or "").strip() != user:
        return None
    owner, file_id = (root.findtext("OwnerID") or "").strip(), (root.findtext("FileID") or "").strip()
    return (owner, file_id) if _GUID.match(owner) and _GUID.match(file_id) else None


def write_qwc(
    path: str | os.PathLike[str],
    *,
    url: str,
    user: str,
    ledger: Ledger | str | os.PathLike[str],
    company_file: str = "",
    app_name: str | None = None,
    app_description: str = "Send approved time entries to QuickBooks",
    support_url: str | None = None,
    run_every_minutes: int | None = 30,
) -> Path:
    """Write the .qwc file that connects one company file's Web Connector to the service.

    The OwnerID (per user name) and FileID (per company file) are generated once and
    kept in the ledger; writing the file again, anywhere, gives the same GUIDs. When the
    ledger has none yet but ``path`` is an earlier .qwc for the same user, its GUIDs are
    adopted rather than replaced (QuickBooks has already stored them).

    Args:
        path: where to write (``<App>.qwc``); written atomically.
        url: the service URL the Web Connector calls (https, or http on localhost).
        user: the Web Connector user name (the password is never written).
        ledger: the ledger that keeps the GUIDs.
        company_file: the company file this .qwc is for ("" = whichever file is open).
        app_name: shown in the Web Connector and QuickBooks; unique per company file.
            Defaults to ``qbrecon (<company file name>)``.
        app_description: a line of description (at most 80 characters).
        support_url: AppSupport, on the same host as ``url`` (default ``url?support``).
        run_every_minutes: the auto-run interval, 15 or more (None: no Scheduler).

    Returns:
        The path written.

    Raises:
        SettingsError: see :func:`qwc_xml`.

    Example:
        >>> import tempfile, os
        >>> d = tempfile.mkdtemp()
        >>> p = write_qwc(os.path.join(d, "acme.qwc"), url="https://qb.example.com/qbwc",
        ...               user="acme-qbwc", ledger=os.path.join(d, "l.sqlite"),
        ...               company_file=r"C:\\QB\\Acme.qbw")
        >>> b"<AppName>qbrecon (Acme)</AppName>" in p.read_bytes()
        True
    """
    out = Path(path)
    led = Ledger.open(ledger)
    try:
        company = resolve_company_file(led, company_file)
        user = (user or "").strip()
        old = _ids_from_file(out, user) if out.exists() else None
        if old:
            store.adopt_guid(led, "owner", user, old[0])
            store.adopt_guid(led, "file", company, old[1])
        owner_id = store.stable_guid(led, "owner", user) if user else ""
        file_id = store.stable_guid(led, "file", company)
        data = qwc_xml(url=url, user=user, owner_id=owner_id, file_id=file_id,
                       app_name=app_name or _default_app_name(company),
                       app_description=app_description, support_url=support_url,
                       run_every_minutes=run_every_minutes)
        with atomic_path(out) as tmp:
            tmp.write_bytes(data)
        return out
    finally:
        if led is not ledger:
            led.close()
