"""A QuickBooks Desktop stand-in and a scripted Web Connector, for tests, demos and notebooks.

:class:`FakeQuickBooks` answers qbXML requests from an in-memory company the way
QuickBooks Desktop does for what qbrecon uses: list queries (``ActiveStatus``,
iterators with ``MaxReturned``/``iteratorID``/``iteratorRemainingCount``; an iterator
on a query that has none is a schema error), ``TimeTrackingAdd`` (schema order checked,
names resolved, ``3140`` for a missing or inactive name, TxnIDs returned) and
``TimeTrackingQuery`` (date and entity filters, iterators). A schema, order or version
error fails the whole message with HRESULT ``0x80040400``, as QuickBooks does.

:class:`WebConnectorClient` plays the Web Connector: it posts the raw SOAP envelopes the
real one posts, over HTTP (or straight into a WSGI app), runs each request against a
:class:`FakeQuickBooks`, and can lose a response or fail to open the company file on
purpose. It checks answers as strictly as the real one (``<string>`` items in the
Intuit namespace, an integer progress).
"""

from __future__ import annotations

import io
import itertools
import re
import time
import urllib.error
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pandas as pd

from .. import schema as S
from ._xmlsafe import parse_xml

NS = "http://developer.intuit.com/"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"

#: TimeTrackingAdd children in schema order, and the qbXML version each needs
_TTA_ORDER = ["TxnDate", "EntityRef", "CustomerRef", "ItemServiceRef", "Rate", "Duration",
              "ClassRef", "PayrollItemWageRef", "Notes", "BillableStatus", "ExternalGUID"]
_TTA_SINCE = {"BillableStatus": (6, 0), "ExternalGUID": (9, 0)}
_DURATION = re.compile(r"^[+-]?PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$")
_GUID = re.compile(r"^\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

#: list request -> (company list, Ret element, supports an iterator)
_LIST_RQ = {
    "EmployeeQueryRq": ("employees", "EmployeeRet", False),
    "VendorQueryRq": ("vendors", "VendorRet", True),
    "CustomerQueryRq": ("customers", "CustomerRet", True),
    "ItemServiceQueryRq": ("items", "ItemServiceRet", True),
    "PayrollItemWageQueryRq": ("payroll_items", "PayrollItemWageRet", False),
    "ClassQueryRq": ("classes", "ClassRet", False),
}


class QBComError(Exception):
    """QuickBooks refused the whole request (the Web Connector reports an HRESULT)."""

    def __init__(self, hresult: str, message: str) -> None:
        self.hresult = hresult
        self.message = message
        super().__init__(f"{hresult}: {message}")


def _x(text: Any) -> str:
    return escape("" if text is None else str(text))


@dataclass
class FakeQuickBooks:
    """An in-memory QuickBooks Desktop company that answers qbXML.

    Attributes:
        employees, vendors, customers, items, payroll_items, classes: records as dicts
            with ``ListID``, ``Name``, ``FullName``, ``IsActive`` (customers also
            ``ParentListID``, ``Sublevel``).
        time_entries: the TimeTracking transactions entered so far (dicts).
        company_file: the path of the open company file.
        max_version: the highest qbXML version this QuickBooks speaks.
        inject: called with each TimeTrackingAdd (a dict of its fields); may return
            ``(statusCode, statusSeverity, statusMessage)`` to answer with instead. A
            ``Warn`` severity still enters the time, as QuickBooks does.
        class_tracking: whether class tracking is on (reported in the HCP response).
    """

    employees: list[dict[str, Any]] = field(default_factory=list)
    vendors: list[dict[str, Any]] = field(default_factory=list)
    customers: list[dict[str, Any]] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)
    payroll_items: list[dict[str, Any]] = field(default_factory=list)
    classes: list[dict[str, Any]] = field(default_factory=list)
    time_entries: list[dict[str, Any]] = field(default_factory=list)
    company_file: str = "C:\\Users\\Public\\Documents\\Intuit\\QuickBooks\\Company Files\\Sample.qbw"
    max_version: tuple[int, int] = (13, 0)
    product: str = "QuickBooks Pro 2024"
    class_tracking: bool = False
    inject: Callable[[dict[str, Any]], tuple[int, str, str] | None] | None = None
    requests: list[str] = field(default_factory=list)
    _iterators: dict[str, list[ET.Element] | list[dict]] = field(default_factory=dict, repr=False)
    _txn: itertools.count = field(default_factory=lambda: itertools.count(0x1A2B), repr=False)

    # ------------------------------------------------------------ building
    @classmethod
    def from_lists(cls, lists: Any, **kw: Any) -> FakeQuickBooks:
        """A company holding the records of a :class:`~qbrecon.QBLists`."""

        def people(df: pd.DataFrame) -> list[dict[str, Any]]:
            return [{"ListID": r[S.QB_ID], "Name": r[S.NAME], "FullName": r[S.FULL_NAME] or r[S.NAME],
                     "IsActive": bool(r[S.ACTIVE]), "FirstName": r.get(S.FIRST_NAME, ""),
                     "LastName": r.get(S.LAST_NAME, "")} for r in df.to_dict("records")]

        def plain(df: pd.DataFrame) -> list[dict[str, Any]]:
            return [{"ListID": r[S.QB_ID], "Name": r[S.NAME], "FullName": r[S.FULL_NAME] or r[S.NAME],
                     "IsActive": bool(r[S.ACTIVE]), "ParentListID": r[S.PARENT_ID] or "",
                     "Sublevel": int(r[S.LEVEL])} for r in df.to_dict("records")]

        items = lists.items
        if S.ITEM_TYPE in items:
            items = items[items[S.ITEM_TYPE].fillna("Service").isin(["Service", ""])]
        return cls(employees=people(lists.employees), vendors=people(lists.vendors),
                   customers=plain(lists.customers), items=plain(items),
                   payroll_items=plain(lists.payroll_items), classes=plain(lists.classes), **kw)

    @classmethod
    def small(cls, **kw: Any) -> FakeQuickBooks:
        """A small company: 3 employees (one inactive), a vendor, customers with jobs,
        service items (one inactive), a payroll item and a class."""

        def rec(lid: str, name: str, full: str | None = None, active: bool = True,
                parent: str = "", level: int = 0) -> dict[str, Any]:
            return {"ListID": lid, "Name": name, "FullName": full or name, "IsActive": active,
                    "ParentListID": parent, "Sublevel": level}

        return cls(
            employees=[rec("80000001-1700000001", "Ada Lovelace"),
                       rec("80000002-1700000002", "Grace Hopper"),
                       rec("80000003-1700000003", "Alan Turing", active=False)],
            vendors=[rec("80000010-1700000010", "Linus Contracting")],
            customers=[rec("80000020-1700000020", "Acme & Sons"),
                       rec("80000021-1700000021", "Website", "Acme & Sons:Website",
                           parent="80000020-1700000020", level=1),
                       rec("80000022-1700000022", "Globex"),
                       rec("80000023-1700000023", "Old Client", active=False)],
            items=[rec("80000030-1700000030", "Consulting"),
                   rec("80000031-1700000031", "Design"),
                   rec("80000032-1700000032", "Legacy Support", active=False)],
            payroll_items=[rec("80000040-1700000040", "Regular Pay")],
            classes=[rec("80000050-1700000050", "West")],
            **kw,
        )

    def entries_frame(self) -> pd.DataFrame:
        """The time entered so far, one row per TimeTracking transaction."""
        cols = ["TxnID", "TxnDate", "EntityListID", "CustomerListID", "ItemListID", "Duration",
                "BillableStatus", "Notes", "ExternalGUID"]
        return pd.DataFrame(self.time_entries, columns=cols)

    # ------------------------------------------------------------ answering
    def hcp_response(self) -> str:
        """What the Web Connector passes as ``strHCPResponse`` on the first sendRequestXML."""
        versions = [f"{m}.0" for m in range(1, self.max_version[0] + 1)]
        sv = "".join(f"<SupportedQBXMLVersion>{v}</SupportedQBXMLVersion>" for v in versions)
        return (
            '<?xml version="1.0" ?><QBXML><QBXMLMsgsRs>'
            '<HostQueryRs requestID="0" statusCode="0" statusSeverity="Info" statusMessage="Status OK">'
            f"<HostRet><ProductName>{_x(self.product)}</ProductName><MajorVersion>34</MajorVersion>"
            f"<MinorVersion>0</MinorVersion><Country>US</Country>{sv}"
            "<IsAutomaticLogin>false</IsAutomaticLogin><QBFileMode>SingleUser</QBFileMode></HostRet>"
            "</HostQueryRs>"
            '<CompanyQueryRs requestID="1" statusCode="0" statusSeverity="Info" statusMessage="Status OK">'
            "<CompanyRet><IsSampleCompany>false</IsSampleCompany><CompanyName>Sample</CompanyName>"
            "</CompanyRet></CompanyQueryRs>"
            '<PreferencesQueryRs requestID="2" statusCode="0" statusSeverity="Info" statusMessage="Status OK">'
            "<PreferencesRet><AccountingPreferences><IsUsingClassTracking>"
            f"{'true' if self.class_tracking else 'false'}</IsUsingClassTracking>"
            "</AccountingPreferences></PreferencesRet></PreferencesQueryRs>"
            "</QBXMLMsgsRs></QBXML>"
        )

    def handle(self, request: str) -> str:
        """Answer one qbXML request document.

        Raises:
            QBComError: the request is not valid qbXML for this QuickBooks (0x80040400).
        """
        self.requests.append(request)
        m = re.search(r'<\?qbxml\s+version="(\d+)\.(\d+)"\s*\?>', request)
        if not request.lstrip().startswith("<?xml") or m is None:
            raise QBComError("0x80040400", "QuickBooks found an error when parsing the provided "
                             "XML text stream.")
        version = (int(m.group(1)), int(m.group(2)))
        if version > self.max_version:
            raise QBComError("0x80040400", f"qbXML version {version[0]}.{version[1]} is not "
                             "supported by this QuickBooks.")
        try:
            root = parse_xml(request)
        except ValueError as exc:
            raise QBComError("0x80040400", f"QuickBooks found an error when parsing the provided "
                             f"XML text stream. ({exc})") from None
        msgs = root.find("QBXMLMsgsRq")
        if root.tag != "QBXML" or msgs is None or msgs.get("onError") not in (
                "stopOnError", "continueOnError"):
            raise QBComError("0x80040400", "QuickBooks found an error when parsing the provided "
                             "XML text stream.")
        for rq in msgs:  # the whole message is checked before any of it runs
            self._check(rq, version)
        out = []
        for rq in msgs:
            rs = self._answer(rq, version)
            out.append(rs)
            if msgs.get("onError") == "stopOnError" and 'statusSeverity="Error"' in rs[:400]:
                break
        return '<?xml version="1.0" ?><QBXML><QBXMLMsgsRs>' + "".join(out) + "</QBXMLMsgsRs></QBXML>"

    def _schema_error(self, what: str) -> QBComError:
        return QBComError("0x80040400", f"QuickBooks found an error when parsing the provided "
                          f"XML text stream. ({what})")

    def _check(self, rq: ET.Element, version: tuple[int, int]) -> None:
        tag = rq.tag
        if tag in _LIST_RQ:
            if rq.get("iterator") and not _LIST_RQ[tag][2]:
                raise self._schema_error(f"{tag} does not take an iterator")
            return
        if tag == "TimeTrackingAddRq":
            add = rq.find("TimeTrackingAdd")
            if add is None:
                raise self._schema_error("TimeTrackingAdd missing")
            names = [c.tag for c in add]
            pos = [(_TTA_ORDER.index(n) if n in _TTA_ORDER else -1) for n in names]
            if -1 in pos or pos != sorted(pos) or len(set(names)) != len(names):
                raise self._schema_error(f"TimeTrackingAdd elements out of order or unknown: {names}")
            for n in names:
                if n in _TTA_SINCE and version < _TTA_SINCE[n]:
                    raise self._schema_error(f"{n} needs qbXML {_TTA_SINCE[n]}")
            if "EntityRef" not in names or "Duration" not in names:
                raise self._schema_error("EntityRef and Duration are required")
            if not _DURATION.match(add.findtext("Duration") or "") or add.findtext("Duration") in ("PT", ""):
                raise self._schema_error("Duration is not an xs:duration")
            if "TxnDate" in names and not _DATE.match(add.findtext("TxnDate") or ""):
                raise self._schema_error("TxnDate is not a date")
            if "ExternalGUID" in names and not _GUID.match(add.findtext("ExternalGUID") or ""):
                raise self._schema_error("ExternalGUID is not a GUID in braces")
            if len(add.findtext("Notes") or "") > 4095:
                raise self._schema_error("Notes longer than 4095")
            if len(rq.get("requestID", "")) > 50:
                raise self._schema_error("requestID too long")
            return
        if tag == "TimeTrackingQueryRq":
            names = [c.tag for c in rq]
            order = ["TxnID", "MaxReturned", "ModifiedDateRangeFilter", "TxnDateRangeFilter",
                     "TimeTrackingEntityFilter", "IncludeRetElement"]
            pos = [(order.index(n) if n in order else -1) for n in names]
            if -1 in pos or pos != sorted(pos):
                raise self._schema_error(f"TimeTrackingQueryRq filters out of order: {names}")
            return
        raise self._schema_error(f"unsupported request {tag}")

    @staticmethod
    def _status(tag: str, rid: str, code: int = 0, sev: str = "Info", msg: str = "Status OK",
                extra: str = "") -> str:
        return (f"<{tag} requestID={quoteattr(rid)} statusCode=\"{code}\" statusSeverity=\"{sev}\" "
                f"statusMessage={quoteattr(msg)}{extra}>")

    def _answer(self, rq: ET.Element, version: tuple[int, int]) -> str:
        tag, rid = rq.tag, rq.get("requestID", "")
        rs = tag[:-2] + "Rs"
        if tag in _LIST_RQ:
            name, ret, _ = _LIST_RQ[tag]
            status = (rq.findtext("ActiveStatus") or "ActiveOnly").strip()
            records = [r for r in getattr(self, name)
                       if status == "All" or (r["IsActive"] if status == "ActiveOnly" else not r["IsActive"])]
            return self._page(rq, rs, rid, [self._ret(ret, r) for r in records])
        if tag == "TimeTrackingAddRq":
            return self._add(rq, rs, rid)
        return self._query_time(rq, rs, rid)

    def _page(self, rq: ET.Element, rs: str, rid: str, rets: list[str]) -> str:
        it = rq.get("iterator")
        if not it:
            if not rets:
                return self._status(rs, rid, 1, "Info", "A query request did not find a matching "
                                    "object in QuickBooks") + f"</{rs}>"
            return self._status(rs, rid) + "".join(rets) + f"</{rs}>"
        size = int(rq.findtext("MaxReturned") or 1000)
        if it == "Start":
            iid = "{" + str(uuid.uuid4()) + "}"
            rest = rets
        else:
            iid = rq.get("iteratorID", "")
            if iid not in self._iterators:
                return self._status(rs, rid, 3000, "Error", f'The given iteratorID "{iid}" is '
                                    "invalid") + f"</{rs}>"
            rest = self._iterators.pop(iid)  # type: ignore[assignment]
        page, rest = rest[:size], rest[size:]
        if rest:
            self._iterators[iid] = rest  # type: ignore[assignment]
        extra = f' retCount="{len(page)}" iteratorRemainingCount="{len(rest)}" iteratorID="{iid}"'
        return self._status(rs, rid, extra=extra) + "".join(page) + f"</{rs}>"

    def _ret(self, ret: str, r: dict[str, Any]) -> str:
        parts = [f"<ListID>{_x(r['ListID'])}</ListID><TimeCreated>2025-01-01T09:00:00-05:00</TimeCreated>"
                 f"<EditSequence>1700000000</EditSequence><Name>{_x(r['Name'])}</Name>"]
        if ret not in ("EmployeeRet", "VendorRet"):
            parts.append(f"<FullName>{_x(r.get('FullName') or r['Name'])}</FullName>")
        parts.append(f"<IsActive>{'true' if r['IsActive'] else 'false'}</IsActive>")
        if ret in ("CustomerRet", "ItemServiceRet", "ClassRet") and r.get("ParentListID"):
            parent = next((p for p in self.customers + self.items + self.classes
                           if p["ListID"] == r["ParentListID"]), None)
            pname = parent.get("FullName", parent["Name"]) if parent else ""
            parts.append(f"<ParentRef><ListID>{_x(r['ParentListID'])}</ListID>"
                         f"<FullName>{_x(pname)}</FullName></ParentRef>")
        if ret in ("CustomerRet", "ItemServiceRet", "ClassRet"):
            parts.append(f"<Sublevel>{int(r.get('Sublevel', 0))}</Sublevel>")
        if ret in ("EmployeeRet", "VendorRet"):
            if r.get("FirstName"):
                parts.append(f"<FirstName>{_x(r['FirstName'])}</FirstName>")
            if r.get("LastName"):
                parts.append(f"<LastName>{_x(r['LastName'])}</LastName>")
        return f"<{ret}>{''.join(parts)}</{ret}>"

    def _lookup(self, ref: ET.Element | None, pools: Iterable[list[dict[str, Any]]]) -> dict | None:
        if ref is None:
            return None
        lid, full = (ref.findtext("ListID") or "").strip(), (ref.findtext("FullName") or "").strip()
        for pool in pools:
            for r in pool:
                if (lid and r["ListID"] == lid) or (full and (r.get("FullName") or r["Name"]).casefold()
                                                    == full.casefold()):
                    return r if r["IsActive"] else None
        return None

    def _add(self, rq: ET.Element, rs: str, rid: str) -> str:
        add = rq.find("TimeTrackingAdd")
        assert add is not None
        fields = {c.tag: c for c in add}

        def ref_text(name: str) -> str:
            el = fields.get(name)
            return "" if el is None else ((el.findtext("FullName") or el.findtext("ListID") or "").strip())

        entity = self._lookup(fields.get("EntityRef"), [self.employees, self.vendors])
        problems = []
        if entity is None:
            problems.append(f'There is an invalid reference to QuickBooks Employee "{ref_text("EntityRef")}" '
                            "in the Time Tracking. QuickBooks error message: Invalid argument. The "
                            "specified record does not exist in the list.")
        customer = None
        if "CustomerRef" in fields:
            customer = self._lookup(fields["CustomerRef"], [self.customers])
            if customer is None:
                problems.append(f'There is an invalid reference to QuickBooks Customer '
                                f'"{ref_text("CustomerRef")}" in the Time Tracking.')
        item = None
        if "ItemServiceRef" in fields:
            item = self._lookup(fields["ItemServiceRef"], [self.items])
            if item is None:
                problems.append(f'There is an invalid reference to QuickBooks Item '
                                f'"{ref_text("ItemServiceRef")}" in the Time Tracking.')
        if problems:
            return self._status(rs, rid, 3140, "Error", problems[0]) + f"</{rs}>"
        billable = (fields["BillableStatus"].text or "") if "BillableStatus" in fields else "NotBillable"
        if billable == "Billable" and (customer is None or item is None):
            return self._status(rs, rid, 3210, "Error", "A customer and a service item are required "
                                "for billable time.") + f"</{rs}>"
        record = {
            "TxnDate": (fields["TxnDate"].text if "TxnDate" in fields else time.strftime("%Y-%m-%d")),
            "EntityListID": entity["ListID"], "CustomerListID": customer["ListID"] if customer else "",
            "ItemListID": item["ListID"] if item else "", "Duration": fields["Duration"].text,
            "BillableStatus": billable, "Notes": (fields["Notes"].text or "") if "Notes" in fields else "",
            "ExternalGUID": (fields["ExternalGUID"].text or "") if "ExternalGUID" in fields else "",
        }
        code, sev, msg = 0, "Info", "Status OK"
        if self.inject is not None:
            verdict = self.inject(dict(record))
            if verdict is not None:
                code, sev, msg = verdict
                if sev == "Error":
                    return self._status(rs, rid, code, sev, msg) + f"</{rs}>"
        record["TxnID"] = f"{next(self._txn):X}-1700000000"
        record["EditSequence"] = "1700000000"
        self.time_entries.append(record)
        return self._status(rs, rid, code, sev, msg) + self._time_ret(record, rq) + f"</{rs}>"

    def _time_ret(self, rec: dict[str, Any], rq: ET.Element) -> str:
        wanted = [e.text for e in rq.findall("IncludeRetElement")]
        fields = [("TxnID", rec["TxnID"]), ("EditSequence", rec["EditSequence"]),
                  ("TxnDate", rec["TxnDate"]), ("Duration", rec["Duration"]),
                  ("Notes", rec["Notes"]), ("ExternalGUID", rec["ExternalGUID"])]
        body = "".join(f"<{k}>{_x(v)}</{k}>" for k, v in fields
                       if v and (not wanted or k in wanted))
        return f"<TimeTrackingRet>{body}</TimeTrackingRet>"

    def _query_time(self, rq: ET.Element, rs: str, rid: str) -> str:
        lo = rq.findtext("TxnDateRangeFilter/FromTxnDate") or "0000-00-00"
        hi = rq.findtext("TxnDateRangeFilter/ToTxnDate") or "9999-99-99"
        entity = (rq.findtext("TimeTrackingEntityFilter/ListID") or "").strip()
        found = [r for r in self.time_entries if lo <= r["TxnDate"] <= hi
                 and (not entity or r["EntityListID"] == entity)]
        rets = [self._time_ret(r, rq) for r in found]
        if not rq.get("iterator") and not rets:
            return self._status(rs, rid, 1, "Info", "A query request did not find a matching "
                                "object in QuickBooks") + f"</{rs}>"
        return self._page(rq, rs, rid, rets)


# ======================================================================= client
class WebConnectorProtocolError(Exception):
    """The service answered something the real Web Connector would fail on."""


@dataclass
class UpdateResult:
    """What one scripted Web Connector update saw."""

    auth: str = ""                  # "" (proceed with the open file), a path, none, nvu, busy
    ticket: str = ""
    company_file: str = ""          # the company file the update worked in ("" if none)
    server_version: str = ""
    client_version: str = ""
    requests: int = 0
    percents: list[int] = field(default_factory=list)
    last_error: str = ""
    close: str = ""
    lost: bool = False
    connection_error: str = ""
    calls: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def completed(self) -> bool:
        return bool(self.percents) and self.percents[-1] == 100 and not self.last_error


class WebConnectorClient:
    """A scripted QuickBooks Web Connector.

    Args:
        service: the service URL (real HTTP), or a WSGI app (called in-process).
        qb: the QuickBooks that runs the requests: one company file open in QuickBooks
            (asked for another, the update fails with ``connectionError``), or a mapping
            of company-file paths to companies, for QuickBooks closed and allowed to run
            unattended: each update opens the file ``authenticate`` names ("" keeps the
            one opened last, at first the first one).
        user, password: the Web Connector login.
        version: the Web Connector version it reports.
    """

    def __init__(self, service: str | Callable[..., Any], *,
                 qb: FakeQuickBooks | Mapping[str, FakeQuickBooks], user: str,
                 password: str, version: str = "2.3.0.215") -> None:
        self.service = service
        self.qb = qb
        self.user = user
        self.password = password
        self.version = version
        # one company (anything that handles requests) or a mapping of company files
        self._many = isinstance(qb, Mapping)
        self._opened = next(iter(qb), "") if self._many else ""

    def _open(self, path: str) -> FakeQuickBooks | None:
        """The company QuickBooks works in when told to open ``path`` ("" = the open one)."""
        if not self._many:
            return self.qb if not path or path.casefold() == self.qb.company_file.casefold() else None
        key = next((k for k in self.qb if k.casefold() == (path or self._opened).casefold()), None)
        if key is None:
            return None
        self._opened = key
        return self.qb[key]

    # --------------------------------------------------------------- wire
    @staticmethod
    def envelope(op: str, params: list[tuple[str, str | int]]) -> bytes:
        """The request envelope exactly as the Web Connector (.NET) writes it."""
        inner = "".join(f"<{k} />" if v == "" else f"<{k}>{escape(str(v))}</{k}>" for k, v in params)
        body = f'<{op} xmlns="{NS}" />' if not params else f'<{op} xmlns="{NS}">{inner}</{op}>'
        return ('<?xml version="1.0" encoding="utf-8"?><soap:Envelope '
                f'xmlns:soap="{SOAP_ENV}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                f'xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Body>{body}</soap:Body>'
                "</soap:Envelope>").encode()

    def post(self, op: str, body: bytes) -> tuple[int, bytes]:
        """POST a raw body as the Web Connector does; returns (HTTP status, body)."""
        headers = {"Content-Type": "text/xml; charset=utf-8",
                   "SOAPAction": f'"{NS}{op}"',
                   "User-Agent": "Mozilla/4.0 (compatible; MSIE 6.0; MS Web Services Client "
                                 "Protocol 4.0.30319.42000)"}
        if isinstance(self.service, str):
            req = urllib.request.Request(self.service, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(req, timeout=60) as resp:
                    return resp.status, resp.read()
            except urllib.error.HTTPError as exc:
                return exc.code, exc.read()
        return call_wsgi(self.service, body, headers)

    def call(self, op: str, params: list[tuple[str, str | int]]) -> str | int | list[str]:
        status, raw = self.post(op, self.envelope(op, params))
        if status != 200:
            raise WebConnectorProtocolError(f"{op}: HTTP {status}: {raw[:300]!r}")
        root = parse_xml(raw)
        body = root.find(f"{{{SOAP_ENV}}}Body")
        resp = body.find(f"{{{NS}}}{op}Response") if body is not None else None
        result = resp.find(f"{{{NS}}}{op}Result") if resp is not None else None
        if result is None:
            raise WebConnectorProtocolError(f"{op}: no {op}Result in the {NS} namespace")
        if op == "authenticate":
            items = result.findall(f"{{{NS}}}string")
            if len(items) < 2:  # QBWC1012: "Index was outside the bounds of the array"
                raise WebConnectorProtocolError("authenticate: fewer than 2 <string> items in "
                                                f"the {NS} namespace")
            return [(i.text or "") for i in items]
        text = result.text or ""
        if op == "receiveResponseXML":
            if not re.fullmatch(r"-?\d+", text.strip()):
                raise WebConnectorProtocolError(f"receiveResponseXML: not an integer: {text!r}")
            return int(text)
        return text

    # -------------------------------------------------------------- update
    def update(self, *, lose_response_at: int | None = None,
               lose_response_when: Callable[[int, str], bool] | None = None,
               drop_request_when: Callable[[int, str], bool] | None = None,
               connection_error: tuple[str, str] | None = None,
               country: str = "US") -> UpdateResult:
        """Run one update (what "Update Selected" does).

        Args:
            lose_response_at: after QuickBooks has run the n-th request (1-based), the
                update dies before the response is posted (no receiveResponseXML, no
                closeConnection), like a crash or a dropped connection.
            lose_response_when: the same, for the first request ``f(n, qbxml)`` is true of.
            drop_request_when: the update dies before QuickBooks runs the first request
                ``f(n, qbxml)`` is true of (it never reaches QuickBooks).
            connection_error: ``(hresult, message)``: QuickBooks cannot be opened.
        """
        t0 = time.perf_counter()
        res = UpdateResult()
        res.server_version = str(self.call("serverVersion", []))
        res.calls.append("serverVersion")
        res.client_version = str(self.call("clientVersion", [("strVersion", self.version)]))
        res.calls.append("clientVersion")
        if res.client_version.startswith("E:"):
            res.seconds = time.perf_counter() - t0
            return res
        arr = self.call("authenticate", [("strUserName", self.user), ("strPassword", self.password)])
        assert isinstance(arr, list)
        res.calls.append("authenticate")
        res.ticket, res.auth = arr[0], arr[1]
        if res.auth in ("none", "nvu", "busy"):
            res.seconds = time.perf_counter() - t0
            return res
        ticket = res.ticket
        qb = self._open(res.auth)
        if connection_error or qb is None:
            hresult, msg = connection_error or (
                "0x80040408", f"Could not open {res.auth}: QuickBooks has another company file open.")
            res.connection_error = str(self.call("connectionError", [
                ("ticket", ticket), ("hresult", hresult), ("message", msg)]))
            res.calls.append("connectionError")
            res.last_error = str(self.call("getLastError", [("ticket", ticket)]))
            res.close = str(self.call("closeConnection", [("ticket", ticket)]))
            res.calls += ["getLastError", "closeConnection"]
            res.seconds = time.perf_counter() - t0
            return res
        res.company_file = qb.company_file
        major, minor = qb.max_version
        first = True
        while True:
            req = str(self.call("sendRequestXML", [
                ("ticket", ticket), ("strHCPResponse", qb.hcp_response() if first else ""),
                ("strCompanyFileName", qb.company_file), ("qbXMLCountry", country),
                ("qbXMLMajorVers", major), ("qbXMLMinorVers", minor)]))
            res.calls.append("sendRequestXML")
            first = False
            if req == "":
                res.last_error = str(self.call("getLastError", [("ticket", ticket)]))
                res.calls.append("getLastError")
                break
            res.requests += 1
            if drop_request_when is not None and drop_request_when(res.requests, req):
                res.lost = True
                res.seconds = time.perf_counter() - t0
                return res
            try:
                response, hresult, message = qb.handle(req), "", ""
            except QBComError as exc:
                response, hresult, message = "", exc.hresult, exc.message
            if (lose_response_at is not None and res.requests == lose_response_at) or (
                    lose_response_when is not None and lose_response_when(res.requests, req)):
                res.lost = True
                res.seconds = time.perf_counter() - t0
                return res
            pct = self.call("receiveResponseXML", [("ticket", ticket), ("response", response),
                                                   ("hresult", hresult), ("message", message)])
            res.calls.append("receiveResponseXML")
            assert isinstance(pct, int)
            res.percents.append(pct)
            if pct < 0:
                res.last_error = str(self.call("getLastError", [("ticket", ticket)]))
                res.calls.append("getLastError")
                break
            if pct >= 100:
                break
        res.close = str(self.call("closeConnection", [("ticket", ticket)]))
        res.calls.append("closeConnection")
        res.seconds = time.perf_counter() - t0
        return res


def call_wsgi(app: Callable[..., Any], body: bytes, headers: dict[str, str] | None = None,
              *, method: str = "POST", query: str = "") -> tuple[int, bytes]:
    """Call a WSGI app in-process with one request; returns (status, body)."""
    from wsgiref.util import setup_testing_defaults

    environ: dict[str, Any] = {"REQUEST_METHOD": method, "QUERY_STRING": query,
                               "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
                               "PATH_INFO": "/qbwc"}
    for k, v in (headers or {}).items():
        key = k.upper().replace("-", "_")
        environ[key if key == "CONTENT_TYPE" else "HTTP_" + key] = v
    setup_testing_defaults(environ)
    status: list[str] = []

    def start_response(s: str, h: list[tuple[str, str]], exc_info: Any = None) -> None:
        status.append(s)

    out = b"".join(app(environ, start_response))
    return int(status[0].split()[0]), out
