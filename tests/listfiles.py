"""Writers of small QuickBooks list files in every format, for the list-reader tests.

Each takes customers as ``(id, full_name, active)`` and people as
``(id, display_name, active)`` and returns the file's bytes, written the way the
format writes it (QBO: " (deleted)" on inactive names; IIF: Windows-1252, quoted
commas; qbXML: ListIDs and ParentRef).
"""

from __future__ import annotations

import io
import json
from xml.sax.saxutils import escape

Record = tuple[str, str, bool]


def qbo_json(entity: str, records: list[dict], start: int = 1) -> bytes:
    return json.dumps({"QueryResponse": {entity: records, "startPosition": start,
                                         "maxResults": len(records)},
                       "time": "2026-11-16T08:30:12.345-08:00"}, ensure_ascii=False).encode()


def qbo_customers(customers: list[Record], *, fqn: bool = True) -> list[dict]:
    ids = {full: cid for cid, full, _ in customers}
    out = []
    for cid, full, active in customers:
        parts = full.split(":")
        leaf = parts[-1] + ("" if active else " (deleted)")
        rec = {"Id": cid, "DisplayName": leaf, "Active": active, "Job": len(parts) > 1}
        if fqn:
            rec["FullyQualifiedName"] = ":".join([*parts[:-1], leaf])
        if len(parts) > 1:
            rec["ParentRef"] = {"value": ids[":".join(parts[:-1])]}
            rec["Level"] = len(parts) - 1
        out.append(rec)
    return out


def qbo_people(people: list[Record]) -> list[dict]:
    return [{"Id": pid, "DisplayName": name + ("" if active else " (deleted)"),
             "GivenName": name.split(" ")[0], "FamilyName": name.split(" ")[-1],
             "PrimaryEmailAddr": {"Address": f"{name.split(' ')[0].lower()}@example.com"},
             "EmployeeNumber": f"E{pid}", "Active": active} for pid, name, active in people]


def _iif_field(v: str) -> str:
    return f'"{v}"' if "," in v else v


def iif(customers: list[Record], employees: list[Record] = (), *, encoding: str = "cp1252") -> bytes:
    lines = ["!HDR\tPROD\tVER\tREL\tIIFVER\tDATE\tTIME\tACCNTNT\tACCNTNTSPLITTIME",
             "HDR\tQuickBooks Pro\tVersion 34.0D\tRelease R6P\t1\t2026-11-16\t1794268800\tN\t0"]
    if employees:
        lines.append("!EMP\tNAME\tREFNUM\tTIMESTAMP\tINIT\tFIRSTNAME\tLASTNAME\tHIDDEN\tDELCOUNT")
        for pid, name, active in employees:
            first, last = name.split(" ")[0], name.split(" ")[-1]
            lines.append(f"EMP\t{_iif_field(name)}\t{pid}\t1794268800\t{first[0]}{last[0]}\t{first}"
                         f"\t{last}\t{'N' if active else 'Y'}\t0")
    lines.append("!CUST\tNAME\tREFNUM\tTIMESTAMP\tBADDR1\tEMAIL\tHIDDEN\tDELCOUNT")
    for cid, full, active in customers:
        lines.append(f"CUST\t{_iif_field(full)}\t{cid}\t1794268800\t\t\t{'N' if active else 'Y'}\t0")
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def qbxml(customers: list[Record], *, pages: int = 1) -> bytes:
    ids = {full: f"8000{int(cid):04X}-1729000000" for cid, full, _ in customers}
    rets = []
    for _, full, active in customers:
        parts = full.split(":")
        parent = ""
        if len(parts) > 1:
            pfull = ":".join(parts[:-1])
            parent = (f"<ParentRef><ListID>{ids[pfull]}</ListID><FullName>{escape(pfull)}"
                      f"</FullName></ParentRef>")
        rets.append(f"<CustomerRet><ListID>{ids[full]}</ListID><Name>{escape(parts[-1])}</Name>"
                    f"<FullName>{escape(full)}</FullName><IsActive>{str(active).lower()}</IsActive>"
                    f"{parent}<Sublevel>{len(parts) - 1}</Sublevel></CustomerRet>\n")
    size = -(-len(rets) // pages) if rets else 1
    chunks = [rets[i:i + size] for i in range(0, len(rets), size)] or [[]]
    docs = []
    for n, chunk in enumerate(chunks):
        left = len(rets) - size * (n + 1)
        docs.append('<?xml version="1.0" ?>\n<?qbxml version="13.0"?>\n<QBXML><QBXMLMsgsRs>\n'
                    f'<CustomerQueryRs requestID="{n + 1}" statusCode="0" statusSeverity="Info" '
                    f'statusMessage="Status OK" iteratorRemainingCount="{max(left, 0)}">\n'
                    + "".join(chunk) + "</CustomerQueryRs>\n</QBXMLMsgsRs></QBXML>\n")
    return "".join(docs).encode("utf-8")


def qbo_export_csv(customers: list[Record], *, title: bool = True) -> bytes:
    import csv

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    if title:
        w.writerows([["Harborlight Design Studio"], ["Customer Contact List"], ["All Dates"], []])
    w.writerow(["Customer", "Phone Numbers", "Email", "Full Name", "Status"])
    for _, full, active in customers:
        w.writerow([full + ("" if active else " (deleted)"), "", "", "", "Active" if active else "Inactive"])
    if title:
        w.writerows([[], ["Monday, November 16, 2026 08:30 AM GMT-08:00"]])
    return buf.getvalue().encode("utf-8-sig")


def qbo_export_xlsx(customers: list[Record]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Customer Contact List"
    ws.append(["Harborlight Design Studio"])
    ws.append(["Customer Contact List"])
    ws.append([])
    ws.append([None, "Customer", "Email", "Status"])
    for _, full, active in customers:
        ws.append([None, full, None, "Active" if active else "Inactive"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
