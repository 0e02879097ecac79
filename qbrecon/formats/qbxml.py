"""QuickBooks Desktop qbXML: reading list query responses.

A response file holds one ``QBXML`` document, or several written one after another
(the pages of an iterator query: ``iterator="Start"``, then ``"Continue"`` until
``iteratorRemainingCount`` is 0)::

    <?xml version="1.0" ?>
    <QBXML><QBXMLMsgsRs>
      <CustomerQueryRs requestID="1" statusCode="0" statusSeverity="Info" statusMessage="Status OK"
                       iteratorRemainingCount="0" iteratorID="{...}">
        <CustomerRet><ListID>80000002-1729000000</ListID><Name>Website Redesign</Name>
          <FullName>Acme &amp; Sons, LLC:Website Redesign</FullName><IsActive>true</IsActive>
          <ParentRef><ListID>80000001-1729000000</ListID><FullName>Acme &amp; Sons, LLC</FullName></ParentRef>
          <Sublevel>1</Sublevel></CustomerRet>
      </CustomerQueryRs>
    </QBXMLMsgsRs></QBXML>

Read: ``EmployeeQueryRs``, ``VendorQueryRs``, ``CustomerQueryRs``, ``ItemQueryRs`` and
the per-type item queries (``ItemServiceQueryRs``...), ``ClassQueryRs`` and
``PayrollItemWageQueryRs``. ``qb_id`` is the ``ListID``. Parsing goes through
:func:`qbrecon._xml.parse_xml` (no DTDs, no entities, size limit).

Example:
    >>> xml = ("<QBXML><QBXMLMsgsRs><EmployeeQueryRs statusCode='0' statusSeverity='Info'>"
    ...        "<EmployeeRet><ListID>8000-1</ListID><Name>Ada Lovelace</Name>"
    ...        "<IsActive>false</IsActive></EmployeeRet></EmployeeQueryRs></QBXMLMsgsRs></QBXML>")
    >>> recs = read_qbxml_lists(xml)
    >>> recs[0].kind, recs[0].frame[["qb_id", "name", "active"]].values.tolist()
    ('employees', [['8000-1', 'Ada Lovelace', False]])
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET

import pandas as pd

from .. import schema as S
from .._xml import FRAGMENTS_ROOT, MAX_XML_BYTES, local_name, parse_xml
from ..errors import InputError, Problem
from . import PARENT_FULL, ROW, ListRecords, parse_flags, raw_frame

log = logging.getLogger("qbrecon")

#: ``*Ret`` elements and the list they belong to
RET_LISTS = {
    "EmployeeRet": "employees",
    "VendorRet": "vendors",
    "CustomerRet": "customers",
    "ClassRet": "classes",
    "PayrollItemWageRet": "payroll_items",
}
#: item ``*Ret`` elements and the item type qbrecon reports (QuickBooks Online's words)
ITEM_RETS = {
    "ItemServiceRet": "Service",
    "ItemNonInventoryRet": "NonInventory",
    "ItemOtherChargeRet": "OtherCharge",
    "ItemInventoryRet": "Inventory",
    "ItemInventoryAssemblyRet": "InventoryAssembly",
    "ItemFixedAssetRet": "FixedAsset",
    "ItemSubtotalRet": "Subtotal",
    "ItemDiscountRet": "Discount",
    "ItemPaymentRet": "Payment",
    "ItemSalesTaxRet": "SalesTax",
    "ItemSalesTaxGroupRet": "SalesTaxGroup",
    "ItemGroupRet": "Group",
}
_KIND_OF = {**RET_LISTS, **dict.fromkeys(ITEM_RETS, "items")}


class NotListResponse(Exception):
    """The XML is qbXML-shaped but holds no list query response qbrecon reads."""


def _text(el: ET.Element, path: str) -> str:
    found = el.find(path)
    return "" if found is None or found.text is None else found.text


def _responses(root: ET.Element) -> list[ET.Element]:
    docs = list(root) if local_name(root.tag) == FRAGMENTS_ROOT else [root]
    out = []
    for doc in docs:
        if local_name(doc.tag) != "QBXML":
            continue
        for msgs in doc:
            if local_name(msgs.tag) == "QBXMLMsgsRs":
                out.extend(msgs)
    return out


def is_qbxml(root: ET.Element) -> bool:
    """True when ``root`` (from ``parse_xml(..., fragments=True)`` or not) is qbXML."""
    docs = list(root) if local_name(root.tag) == FRAGMENTS_ROOT else [root]
    return bool(docs) and all(local_name(d.tag) == "QBXML" for d in docs)


def qbxml_list_records(root: ET.Element, *, file: str | None = None) -> list[ListRecords]:
    """The list records in parsed qbXML (see :func:`read_qbxml_lists`).

    Raises:
        NotListResponse: qbXML, but no list query response qbrecon reads (a request
            file, or responses to other queries); the message says what it holds.
        InputError: a response with statusSeverity Error, or a record without a
            ListID or Name; all listed at once.
    """
    responses = _responses(root)
    if not responses:
        docs = list(root) if local_name(root.tag) == FRAGMENTS_ROOT else [root]
        inner = sorted({local_name(m.tag) for d in docs for m in d})
        if "QBXMLMsgsRq" in inner:
            raise NotListResponse("a qbXML request, not a response")
        raise NotListResponse("qbXML without a QBXMLMsgsRs response")
    problems: list[Problem] = []
    rows: dict[str, list[dict]] = {}
    unread: set[str] = set()
    ordinal = 0
    for rs in responses:
        rs_name = local_name(rs.tag)
        severity = rs.get("statusSeverity", "Info")
        if severity == "Error":
            problems.append(Problem(
                f"{rs_name} (requestID {rs.get('requestID', '?')}) failed with status "
                f"{rs.get('statusCode', '?')}: {rs.get('statusMessage', '')}"))
            continue
        if severity == "Warn":
            log.warning("%s: %s status %s: %s", file or "qbXML", rs_name,
                        rs.get("statusCode"), rs.get("statusMessage"))
        for ret in rs:
            tag = local_name(ret.tag)
            kind = _KIND_OF.get(tag)
            if kind is None:
                unread.add(tag if tag.endswith("Ret") else rs_name)
                continue
            ordinal += 1
            rows.setdefault(kind, []).append(_record(ret, tag, ordinal, problems))
        if not len(rs) and not rs_name.endswith("QueryRs"):
            unread.add(rs_name)
    if problems:
        raise InputError("qbXML list responses cannot be read", file=file, problems=problems)
    if not rows:
        if unread:
            raise NotListResponse(f"qbXML responses holding {', '.join(sorted(unread))}")
    elif unread:
        log.info("%s: skipped qbXML elements qbrecon does not read: %s",
                 file or "qbXML", ", ".join(sorted(unread)))
    out = []
    for kind, recs in rows.items():
        frame = pd.DataFrame(recs)
        active, bad = parse_flags(frame[S.ACTIVE])
        if bad.any():
            raise InputError("qbXML list records have a bad IsActive", file=file, problems=[
                Problem(f"record {o}: IsActive must be true or false", row=int(o), column="IsActive",
                        value=v)
                for o, v in zip(frame.loc[bad, ROW], frame.loc[bad, S.ACTIVE], strict=True)])
        cols = {c: frame[c] for c in frame.columns if c not in (S.ACTIVE, ROW)}
        cols[S.ACTIVE] = active.fillna(True)
        cols[ROW] = frame[ROW]
        out.append(ListRecords(kind, raw_frame(cols, len(frame)), file, "qbxml",
                               {S.QB_ID: "ListID", S.NAME: "Name", S.FULL_NAME: "FullName",
                                S.PARENT_ID: "ParentRef", PARENT_FULL: "ParentRef",
                                S.ACTIVE: "IsActive"}))
    return out


def _record(ret: ET.Element, tag: str, ordinal: int, problems: list[Problem]) -> dict:
    # qbXML responses carry no namespace; index children by local name to be safe
    kids = {local_name(c.tag): c for c in ret}

    def text(name: str) -> str:
        el = kids.get(name)
        return "" if el is None or el.text is None else el.text

    list_id, name = text("ListID"), text("Name")
    label = f"{tag} {ordinal}" + (f" ({name!r})" if name else "")
    if not list_id:
        problems.append(Problem(f"{label} has no ListID", row=ordinal, column="ListID"))
    if not name:
        problems.append(Problem(f"{label} has no Name", row=ordinal, column="Name"))
    rec = {
        S.QB_ID: list_id,
        S.NAME: name,
        S.FULL_NAME: text("FullName"),
        S.ACTIVE: text("IsActive"),
        ROW: ordinal,
    }
    parent = kids.get("ParentRef")
    if parent is not None:
        rec[S.PARENT_ID] = _text(parent, "ListID")
        rec[PARENT_FULL] = _text(parent, "FullName")
    if tag in ("EmployeeRet", "VendorRet"):
        rec.update({S.FIRST_NAME: text("FirstName"), S.LAST_NAME: text("LastName"),
                    S.EMAIL: text("Email"),
                    S.NUMBER: text("EmployeeNumber") or text("AccountNumber")})
    elif tag == "CustomerRet":
        rec[S.EMAIL] = text("Email")
    elif tag in ITEM_RETS:
        rec[S.ITEM_TYPE] = ITEM_RETS[tag]
    return rec


def read_qbxml_lists(
    data: bytes | str, *, file: str | None = None, max_bytes: int = MAX_XML_BYTES
) -> list[ListRecords]:
    """The list records in qbXML query responses (one document or several concatenated).

    Args:
        data: the response text or bytes (what ``receiveResponseXML`` delivers, or a file).
        file: where it came from, for error messages.
        max_bytes: refuse larger input.

    Raises:
        InputError: malformed or hostile XML (DOCTYPE, entities), a failed response,
            incomplete records, or qbXML holding no list response qbrecon reads.
    """
    root = parse_xml(data, file=file, max_bytes=max_bytes, fragments=True)
    if not is_qbxml(root):
        tags = sorted({local_name(d.tag) for d in root})
        raise InputError(f"is not qbXML (root element {', '.join(tags) or 'none'}; expected QBXML)",
                         file=file)
    try:
        return qbxml_list_records(root, file=file)
    except NotListResponse as exc:
        raise InputError(
            f"holds {exc}; qbrecon reads Employee, Vendor, Customer, Item, Class and "
            "PayrollItemWage query responses", file=file) from None


__all__ = ["ITEM_RETS", "RET_LISTS", "NotListResponse", "is_qbxml", "qbxml_list_records",
           "read_qbxml_lists"]
