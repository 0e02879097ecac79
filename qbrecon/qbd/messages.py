"""The qbXML the Web Connector session sends and reads, apart from TimeTrackingAdd.

List queries (with iterators where qbXML allows them), the TimeTracking query used to
recover unknown outcomes, and reading responses: status codes,
iterator state, the ``TimeTrackingRet`` records, and the HCP response of the first
``sendRequestXML`` (QuickBooks product, supported qbXML versions, class tracking).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from ._xmlsafe import parse_xml

#: the staged lists, in the order a session queries them: list -> (request, iterator?)
LIST_QUERIES: dict[str, tuple[str, bool]] = {
    "employees": ("EmployeeQueryRq", False),  # qbXML refuses an iterator here
    "vendors": ("VendorQueryRq", True),
    "customers": ("CustomerQueryRq", True),
    "items": ("ItemServiceQueryRq", True),
    "payroll_items": ("PayrollItemWageQueryRq", False),
    "classes": ("ClassQueryRq", False),
}

#: status codes worth trying again in a later session (QuickBooks was busy or locked)
RETRYABLE_CODES = frozenset({1000, 3170, 3175, 3176, 3180})

#: what the COM-level HRESULTs QuickBooks reports mean, and what the user can do
HRESULT_HINTS = {
    "0x80040400": "QuickBooks could not parse the request (a qbXML schema, order or encoding "
                  "error): please report it with the qbrecon log",
    "0x80040401": "QuickBooks could not be accessed",
    "0x80040402": "QuickBooks reported an unexpected error (see qbsdklog.txt on the QuickBooks "
                  "machine)",
    "0x80040408": "QuickBooks could not be started: open it, or allow access even when "
                  "QuickBooks is not running",
    "0x8004040d": "QuickBooks refused the ticket",
    "0x80040410": "the company file is open in another mode (single-user vs multi-user)",
    "0x80040416": "QuickBooks is not running and no company file could be opened",
    "0x80040417": "no company file is open in QuickBooks",
    "0x80040418": "this application has not accessed the company file before: open it as the "
                  "QuickBooks Admin in single-user mode and grant access once",
}


def hresult_text(hresult: str, message: str) -> str:
    """A user-facing explanation of a Web Connector HRESULT and its message."""
    code = (hresult or "").strip().lower()
    hint = HRESULT_HINTS.get(code)
    parts = [p for p in (f"{hresult.strip()}" if hresult else "", (message or "").strip()) if p]
    text = ": ".join(parts) or "no details"
    return f"{text} ({hint})" if hint else text


def list_query(
    list_name: str, request_id: str, *, page_size: int, iterator_id: str | None = None
) -> str:
    """The query of one staged list: all records, active and inactive.

    Lists that support iterators are read in pages of ``page_size``; pass the
    ``iterator_id`` of the previous page to continue.
    """
    rq, iterates = LIST_QUERIES[list_name]
    if not iterates:
        return f'<{rq} requestID="{escape(request_id)}"><ActiveStatus>All</ActiveStatus></{rq}>'
    it = (
        f'iterator="Continue" iteratorID="{escape(iterator_id)}"'
        if iterator_id
        else 'iterator="Start"'
    )
    return (
        f'<{rq} requestID="{escape(request_id)}" {it}><MaxReturned>{int(page_size)}</MaxReturned>'
        f"<ActiveStatus>All</ActiveStatus></{rq}>"
    )


def time_tracking_query(
    request_id: str,
    *,
    from_date: str,
    to_date: str,
    entity_id: str | None,
    page_size: int,
    iterator_id: str | None = None,
    external_guid: bool = True,
) -> str:
    """The TimeTracking query that finds entries a lost response left unknown.

    There is no filter by ExternalGUID, so it filters by date range (and by the one
    person when all unknown entries are theirs) and the caller matches GUIDs locally.
    Element order is fixed by the schema: MaxReturned, date filter, entity filter.
    """
    it = (
        f'iterator="Continue" iteratorID="{escape(iterator_id)}"'
        if iterator_id
        else 'iterator="Start"'
    )
    entity = (
        f"<TimeTrackingEntityFilter><ListID>{escape(entity_id)}</ListID></TimeTrackingEntityFilter>"
        if entity_id
        else ""
    )
    wanted = ["TxnID", "EditSequence", "TxnDate", "Notes"] + (["ExternalGUID"] if external_guid else [])
    include = "".join(f"<IncludeRetElement>{w}</IncludeRetElement>" for w in wanted)
    return (
        f'<TimeTrackingQueryRq requestID="{escape(request_id)}" {it}>'
        f"<MaxReturned>{int(page_size)}</MaxReturned>"
        f"<TxnDateRangeFilter><FromTxnDate>{from_date}</FromTxnDate>"
        f"<ToTxnDate>{to_date}</ToTxnDate></TxnDateRangeFilter>"
        f"{entity}{include}</TimeTrackingQueryRq>"
    )


# --------------------------------------------------------------------- responses
@dataclass
class Rs:
    """One ``*Rs`` element of a response: its status and, for queries, iterator state."""

    tag: str
    request_id: str
    code: int
    severity: str
    message: str
    element: ET.Element
    remaining: int | None = None
    iterator_id: str | None = None

    @property
    def ok(self) -> bool:
        """Info (0–499) and warnings (500–999) are not failures."""
        return self.code < 1000 and self.severity.lower() != "error"


def read_response(text: str) -> list[Rs]:
    """Every ``*Rs`` of a qbXML response document, in order.

    Raises:
        XMLRejected: not well-formed, or it declares a DTD or entities.
        ValueError: well-formed, but not a qbXML response.
    """
    root = parse_xml(text)
    msgs = root.find("QBXMLMsgsRs") if root.tag == "QBXML" else None
    if msgs is None:
        raise ValueError(f"not a qbXML response (root element {root.tag!r})")
    out = []
    for el in msgs:
        a = el.attrib
        try:
            code = int(a.get("statusCode", "0"))
        except ValueError:
            code = 9999
        remaining = a.get("iteratorRemainingCount")
        out.append(
            Rs(
                tag=el.tag,
                request_id=a.get("requestID", ""),
                code=code,
                severity=a.get("statusSeverity", "Info"),
                message=a.get("statusMessage", ""),
                element=el,
                remaining=int(remaining) if remaining and remaining.isdigit() else None,
                iterator_id=a.get("iteratorID"),
            )
        )
    return out


def time_tracking_rets(rs: Rs) -> list[dict[str, str]]:
    """The ``TimeTrackingRet`` records of one response: TxnID, EditSequence, ExternalGUID, Notes."""
    rows = []
    for ret in rs.element.iter("TimeTrackingRet"):
        rows.append({k: (ret.findtext(k) or "").strip() for k in
                     ("TxnID", "EditSequence", "ExternalGUID", "Notes", "TxnDate")})
    return rows


@dataclass
class HostInfo:
    """What the HCP response of the first ``sendRequestXML`` says about QuickBooks."""

    product: str = ""
    versions: list[str] = field(default_factory=list)
    file_mode: str = ""
    class_tracking: bool | None = None
    data_ext: dict[str, str] = field(default_factory=dict)  # (OwnerID:name) -> value


def read_hcp(text: str) -> HostInfo:
    """Read the Host/Company/Preferences query responses; empty input gives an empty HostInfo.

    Raises:
        XMLRejected: hostile or malformed XML.
    """
    info = HostInfo()
    if not text or not text.strip():
        return info
    root = parse_xml(text)
    host = next(root.iter("HostRet"), None)
    if host is not None:
        info.product = (host.findtext("ProductName") or "").strip()
        info.versions = [(v.text or "").strip() for v in host.iter("SupportedQBXMLVersion")]
        info.file_mode = (host.findtext("QBFileMode") or "").strip()
    prefs = next(root.iter("PreferencesRet"), None)
    if prefs is not None:
        flag = next(prefs.iter("IsUsingClassTracking"), None)
        if flag is not None and flag.text:
            info.class_tracking = flag.text.strip().lower() == "true"
    for ext in root.iter("DataExtRet"):
        owner = (ext.findtext("OwnerID") or "").strip()
        name = (ext.findtext("DataExtName") or "").strip()
        info.data_ext[f"{owner}:{name}"] = (ext.findtext("DataExtValue") or "").strip()
    return info


_VERSION = re.compile(r"^(?:[A-Z]{2})?(\d+)\.(\d+)$")


def version_tuple(text: str) -> tuple[int, int] | None:
    m = _VERSION.match((text or "").strip())
    return (int(m.group(1)), int(m.group(2))) if m else None


def choose_version(
    *, highest: str, major: str, minor: str, supported: list[str]
) -> tuple[int, int]:
    """The qbXML version to speak: ``highest`` lowered to what QuickBooks reports."""
    best = version_tuple(highest) or (13, 0)
    reported = None
    if str(major).strip().isdigit():
        reported = (int(str(major).strip()), int(str(minor).strip() or 0) if str(minor).strip().isdigit() else 0)
    if reported and reported != (0, 0):
        best = min(best, reported)
    sup = [v for v in (version_tuple(s) for s in supported) if v]
    if sup:
        best = min(best, max(sup))
    return best
