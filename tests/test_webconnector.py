"""The Web Connector service over real HTTP on 127.0.0.1, driven by a scripted Web Connector
that posts the raw SOAP envelopes the real one posts, against a fake QuickBooks."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

import pandas as pd
import pytest
from wchelpers import (
    ALAN,
    CONSULTING,
    GRACE,
    LEGACY,
    LINUS,
    WEBSITE,
    Clock,
    batch,
    make_app,
    served,
)

from qbrecon.ledger import Ledger
from qbrecon.qbd import desktop_status, queue_for_desktop, staged_lists, staging_info
from qbrecon.qbd.emulator import FakeQuickBooks, WebConnectorClient

NS = "http://developer.intuit.com/"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
USERS = {"acme-qbwc": "s3cret-pw"}


def post(url: str, body: bytes | str, action: str = "serverVersion") -> tuple[int, bytes, str]:
    data = body.encode("utf-8") if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, method="POST", headers={
        "Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{NS}{action}"'})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read(), resp.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers.get("Content-Type", "")


def envelope(op: str, inner: str = "") -> str:
    return ('<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.'
            'xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Body>'
            + (f'<{op} xmlns="{NS}" />' if not inner else f'<{op} xmlns="{NS}">{inner}</{op}>')
            + "</soap:Body></soap:Envelope>")


def result_of(raw: bytes, op: str) -> ET.Element:
    root = ET.fromstring(raw)
    el = root.find(f"{{{SOAP}}}Body/{{{NS}}}{op}Response/{{{NS}}}{op}Result")
    assert el is not None, raw
    return el


@pytest.fixture
def ledger(tmp_path):
    return tmp_path / "ledger.sqlite"


def states(ledger) -> dict[str, str]:
    with Ledger(ledger) as led:
        d = led.deliveries()
    return dict(zip(d.entry_id, d.state, strict=True))


# ------------------------------------------------------------------ the wire format
def test_server_version_answers_the_captured_qbwc_envelope(ledger):
    # byte for byte what the Web Connector posts (a self-closing operation element)
    captured = ('<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.'
                'xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
                ' xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Body><serverVersion xmlns='
                '"http://developer.intuit.com/" /></soap:Body></soap:Envelope>')
    with served(make_app(ledger, USERS)) as url:
        status, raw, ctype = post(url, captured)
    assert status == 200 and ctype == "text/xml; charset=utf-8"
    assert raw.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    assert re.fullmatch(r"qbrecon \d+\.\d+\.\d+", result_of(raw, "serverVersion").text)


def test_authenticate_returns_string_items_in_the_intuit_namespace(ledger):
    queue_for_desktop(batch([{}]), ledger=ledger)
    with served(make_app(ledger, USERS)) as url:
        _, raw, _ = post(url, envelope("authenticate", "<strUserName>acme-qbwc</strUserName>"
                                       "<strPassword>s3cret-pw</strPassword>"), "authenticate")
        _, bad, _ = post(url, envelope("authenticate", "<strUserName>acme-qbwc</strUserName>"
                                       "<strPassword>nope</strPassword>"), "authenticate")
    items = result_of(raw, "authenticate").findall(f"{{{NS}}}string")
    assert len(items) == 2
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", items[0].text)
    # the empty company file is an explicit element, never dropped
    assert b"<string></string>" in raw
    assert [i.text or "" for i in result_of(bad, "authenticate")] == ["", "nvu"]


def test_receive_response_result_is_an_integer_and_interactive_calls_are_polite(ledger):
    with served(make_app(ledger, USERS)) as url:
        _, raw, _ = post(url, envelope("receiveResponseXML", "<ticket>nope</ticket><response />"
                                       "<hresult /><message />"), "receiveResponseXML")
        _, done, _ = post(url, envelope("interactiveDone", "<wcTicket>x</wcTicket>"))
        _, iurl, _ = post(url, envelope("getInteractiveURL", "<wcTicket>x</wcTicket>"
                                        "<sessionID>1</sessionID>"))
        _, rej, _ = post(url, envelope("interactiveRejected", "<wcTicket>x</wcTicket>"
                                       "<reason>no</reason>"))
    assert result_of(raw, "receiveResponseXML").text == "-1"
    assert result_of(done, "interactiveDone").text == "Done"
    assert (result_of(iurl, "getInteractiveURL").text or "") == ""
    assert result_of(rej, "interactiveRejected").text


def test_wsdl_is_served_with_every_operation_and_the_request_url(ledger):
    with served(make_app(ledger, USERS)) as url:
        with urllib.request.urlopen(url + "?wsdl", timeout=30) as resp:
            raw, ctype = resp.read(), resp.headers["Content-Type"]
        with urllib.request.urlopen(url + "?support", timeout=30) as resp:
            page = resp.read().decode()
    assert ctype.startswith("text/xml")
    root = ET.fromstring(raw)
    wsdl = "http://schemas.xmlsoap.org/wsdl/"
    ops = {o.get("name") for o in root.iter(f"{{{wsdl}}}operation")}
    assert ops == {"serverVersion", "clientVersion", "authenticate", "sendRequestXML",
                   "receiveResponseXML", "connectionError", "getLastError", "closeConnection",
                   "getInteractiveURL", "interactiveDone", "interactiveRejected"}
    assert root.get("targetNamespace") == NS
    address = next(root.iter("{http://schemas.xmlsoap.org/wsdl/soap/}address"))
    assert address.get("location") == url
    assert "qbrecon Web Connector service" in page


@pytest.mark.parametrize("body, why", [
    ('<?xml version="1.0"?><!DOCTYPE soap:Envelope [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
     + envelope("serverVersion").split("?>", 1)[1].replace("<soap:Body>", "<soap:Body>&x;"),
     "external entity"),
    ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">'
     '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]><lolz>&lol3;</lolz>', "billion laughs"),
    ('<?xml version="1.0"?><!doctype x><x/>', "plain DOCTYPE"),
    ("this is not xml", "not XML"),
    ('<a xmlns="urn:x"><b/></a>', "not a SOAP envelope"),
    (envelope("getServerVersion"), "unknown operation"),
    (envelope("authenticate", "<strUserName>a</strUserName>").replace(
        'xmlns="http://developer.intuit.com/"', 'xmlns="http://localhost:8000//"'), "wrong namespace"),
])
def test_hostile_or_malformed_requests_get_a_soap_client_fault(ledger, body, why):
    with served(make_app(ledger, USERS)) as url:
        status, raw, ctype = post(url, body)
        again, ok, _ = post(url, envelope("serverVersion"))  # the service is unharmed
    assert status == 500 and ctype.startswith("text/xml"), why
    fault = ET.fromstring(raw).find(f"{{{SOAP}}}Body/{{{SOAP}}}Fault")
    assert fault.findtext("faultcode") == "soap:Client"
    assert "passwd" not in raw.decode() and "root:" not in raw.decode()
    assert again == 200 and result_of(ok, "serverVersion").text.startswith("qbrecon")


def test_oversize_request_is_refused_with_413(ledger):
    with served(make_app(ledger, USERS, max_body=4096)) as url:
        status, raw, _ = post(url, envelope("serverVersion").replace(
            "<soap:Body>", "<soap:Body>" + "<!-- pad -->" * 1000))
    assert status == 413 and b"soap:Client" in raw


def test_server_error_is_a_soap_server_fault_without_details(ledger, caplog):
    app = make_app(ledger, USERS)

    def boom(*a, **k):
        raise RuntimeError("secret internals")

    app.service.getLastError = boom
    with served(app) as url:
        status, raw, _ = post(url, envelope("getLastError", "<ticket>t</ticket>"))
    assert status == 500
    fault = ET.fromstring(raw).find(f"{{{SOAP}}}Body/{{{SOAP}}}Fault")
    assert fault.findtext("faultcode") == "soap:Server"
    assert fault.findtext("faultstring") == "internal error"
    assert b"secret internals" not in raw


# ------------------------------------------------------------------ whole sessions
def rows_mixed() -> list[dict]:
    return [
        {"id": "ok-1", "billable": True, "item": CONSULTING},
        {"id": "ok-2", "emp": GRACE},
        {"id": "vendor", "emp": LINUS, "cust": "", "note": "Contract work & <review>"},
        {"id": "unknown-emp", "emp": "80000099-1700000099"},  # 3140: not in QuickBooks
        {"id": "inactive-emp", "emp": ALAN},                  # 3140: inactive
        {"id": "warned", "note": "warn me"},                  # a Warn status is not a failure
        {"id": "default-item", "billable": True},             # gets the default service item
        {"id": "by-name", "emp": "", "emp_name": "Ada Lovelace", "cust": "",
         "cust_name": "Acme & Sons:Website"},
    ]


def test_a_whole_session_test_sync_then_delivery_with_mixed_statuses(ledger):
    qb = FakeQuickBooks.small(inject=lambda add: (530, "Warn", "Field value truncated")
                              if add["Notes"].startswith("warn me") else None)
    queue_for_desktop(batch(rows_mixed()), ledger=ledger)
    app = make_app(ledger, USERS, page_size=2, chunk_size=3, default_service_item="consulting")
    with served(app) as url:
        wc = WebConnectorClient(url, qb=qb, user="acme-qbwc", password="s3cret-pw")
        first = wc.update()
        # the first connection of a company file is a test sync: lists only
        assert first.auth == "" and first.completed
        assert qb.time_entries == []
        assert set(states(ledger).values()) == {"queued"}
        assert first.close.startswith("Test sync complete")
        assert first.calls[:3] == ["serverVersion", "clientVersion", "authenticate"]
        assert first.calls[-1] == "closeConnection"
        second = wc.update()
    assert second.completed, second.last_error
    assert second.percents == sorted(second.percents) and second.percents[-1] == 100
    assert all(isinstance(p, int) and 0 <= p <= 100 for p in second.percents)
    st = states(ledger)
    assert st == {"ok-1": "sent", "ok-2": "sent", "vendor": "sent", "unknown-emp": "failed",
                  "inactive-emp": "failed", "warned": "sent", "default-item": "sent",
                  "by-name": "sent"}
    with Ledger(ledger) as led:
        d = led.deliveries().set_index("entry_id")
    assert d.loc["unknown-emp", "error_code"] == "3140"
    assert "invalid reference to QuickBooks Employee" in d.loc["unknown-emp", "message"]
    assert d.loc["warned", "error_code"] == "530"  # kept as a note, the entry is sent
    entries = qb.entries_frame()
    assert len(entries) == 6
    # what QuickBooks holds is exactly what the ledger says, TxnID for TxnID
    assert sorted(entries.TxnID) == sorted(d.loc[d.state == "sent", "external_id"])
    assert entries.ExternalGUID.is_unique and entries.ExternalGUID.str.match(r"^\{[0-9A-F-]{36}\}$").all()
    # Notes carry the description, then the entry's marker (the start of its ExternalGUID)
    assert entries.Notes.str.match(r"^.* \[qbr:[0-9a-f]{12}\]$").all()
    notes = entries.Notes.str.replace(r" \[qbr:[0-9a-f]{12}\]$", "", regex=True)
    default = entries[notes == "work 7"].iloc[0]
    assert default.ItemListID == CONSULTING and default.BillableStatus == "Billable"
    assert entries.loc[notes == "Contract work & <review>", "EntityListID"].tolist() == [LINUS]
    # iterators were used (page size 2): Start then Continue until nothing remains
    lists_rq = [r for r in qb.requests if "CustomerQueryRq" in r]
    assert 'iterator="Start"' in lists_rq[0] and 'iterator="Continue"' in lists_rq[1]
    assert all("iterator" not in r for r in qb.requests if "EmployeeQueryRq" in r)
    # chunks of at most 3 adds, one requestID per entry, each at most 50 characters
    adds = [r for r in qb.requests if "TimeTrackingAddRq" in r]
    per = [r.count("<TimeTrackingAddRq ") for r in adds]
    assert max(per) <= 3 and sum(per) == 8
    rids = re.findall(r'<TimeTrackingAddRq requestID="([^"]+)"', "".join(adds))
    assert len(set(rids)) == 8 and max(map(len, rids)) <= 50
    assert "2 refused" in second.close and "6 sent" in second.close
    status = desktop_status(ledger).iloc[0]
    assert (status.company_file, status.queued, status.pending, status.sent, status.failed) == (
        "", 0, 0, 6, 2)
    assert status.test_sync and status.lists_staged and status.qbxml_version == "13.0"


def test_staged_lists_load_as_qblists_with_inactive_records_and_jobs(ledger):
    queue_for_desktop(batch([{}]), ledger=ledger)
    app = make_app(ledger, USERS, page_size=2)
    with served(app) as url:
        WebConnectorClient(url, qb=FakeQuickBooks.small(), user="acme-qbwc",
                           password="s3cret-pw").update()
    lists = staged_lists(ledger)
    assert len(lists.employees) == 3 and not lists.employees.set_index("qb_id").loc[ALAN, "active"]
    job = lists.customers.set_index("qb_id").loc[WEBSITE]
    assert job.full_name == "Acme & Sons:Website" and job.level == 1
    assert set(lists.items.qb_id) >= {CONSULTING, LEGACY}
    assert len(lists.vendors) == 1 and len(lists.payroll_items) == 1 and len(lists.classes) == 1
    info = staging_info(ledger).set_index("list")
    assert info.loc["customers", "pages"] == 2 and info.loc["customers", "records"] == 4


def test_nothing_queued_and_lists_fresh_answers_none(ledger):
    app = make_app(ledger, USERS)
    qb = FakeQuickBooks.small()
    with served(app) as url:
        wc = WebConnectorClient(url, qb=qb, user="acme-qbwc", password="s3cret-pw")
        assert wc.update().completed  # first connection: the test sync (lists only)
        again = wc.update()
    assert again.auth == "none" and again.calls == ["serverVersion", "clientVersion", "authenticate"]


def test_default_service_item_inactive_refuses_billable_entries_before_sending(ledger):
    qb = FakeQuickBooks.small()
    queue_for_desktop(batch([{"id": "bill", "billable": True}, {"id": "plain"}]), ledger=ledger)
    app = make_app(ledger, USERS, default_service_item="Legacy Support", test_sync=False)
    with served(app) as url:
        res = WebConnectorClient(url, qb=qb, user="acme-qbwc", password="s3cret-pw").update()
    assert res.completed
    with Ledger(ledger) as led:
        d = led.deliveries().set_index("entry_id")
    assert d.loc["bill", "state"] == "failed" and "inactive" in d.loc["bill", "message"]
    assert d.loc["plain", "state"] == "sent"
    assert len(qb.time_entries) == 1


def test_retryable_status_is_queued_for_the_next_update_with_a_new_request_id(ledger):
    calls = {"n": 0}

    def busy_once(add):
        calls["n"] += 1
        return (3175, "Error", "Cannot acquire a lock") if calls["n"] == 1 else None

    qb = FakeQuickBooks.small(inject=busy_once)
    queue_for_desktop(batch([{"id": "locked"}]), ledger=ledger)
    app = make_app(ledger, USERS, test_sync=False)
    with served(app) as url:
        wc = WebConnectorClient(url, qb=qb, user="acme-qbwc", password="s3cret-pw")
        first = wc.update()
        with Ledger(ledger) as led:
            d1 = led.deliveries().iloc[0]
        second = wc.update()
    assert first.completed and "1 to retry" in first.close
    assert d1.state == "queued" and d1.generation == 1
    assert second.completed and states(ledger) == {"locked": "sent"}
    assert len(qb.time_entries) == 1


@pytest.mark.parametrize("lose", ["response", "request"])
def test_lost_exchange_is_recovered_without_a_duplicate(ledger, lose):
    qb = FakeQuickBooks.small()
    rows = [{"id": f"r{i}", "date": f"2026-11-0{1 + i % 3}"} for i in range(7)]
    queue_for_desktop(batch(rows), ledger=ledger)
    clock = Clock()
    app = make_app(ledger, USERS, clock=clock, chunk_size=3, test_sync=False)

    def first_add(n, req):
        return "TimeTrackingAddRq" in req

    with served(app) as url:
        wc = WebConnectorClient(url, qb=qb, user="acme-qbwc", password="s3cret-pw")
        if lose == "response":
            res = wc.update(lose_response_when=first_add)  # QuickBooks entered 3; we never heard
            assert len(qb.time_entries) == 3
        else:
            res = wc.update(drop_request_when=first_add)  # QuickBooks never saw the request
            assert len(qb.time_entries) == 0
        assert res.lost
        assert sorted(states(ledger).values()).count("pending") == 3
        # right away the abandoned session still holds the file: busy
        assert wc.update().auth == "busy"
        clock.advance(300)  # idle long enough: a new update takes over
        again = wc.update()
    assert again.completed, again.last_error
    queries = [r for r in qb.requests if "TimeTrackingQueryRq" in r]
    # one search before the first delivery (the ledger had no record of the entries), one
    # to confirm the lost exchange; none for the entries already searched for
    assert len(queries) == 2
    assert all("<FromTxnDate>2026-11-01</FromTxnDate>" in q for q in queries)
    # every entry once in QuickBooks, and the ledger agrees
    entries = qb.entries_frame()
    assert len(entries) == 7 and entries.ExternalGUID.is_unique
    assert set(states(ledger).values()) == {"sent"}
    with Ledger(ledger) as led:
        log = led.log_frame()
        sent = led.deliveries()
    assert sorted(entries.TxnID) == sorted(sent.external_id)
    recovered = log[log.event == "recovered"]
    requeued = log[log.event == "requeued"]
    if lose == "response":
        assert len(recovered) == 3 and requeued.empty and "3 confirmed after a lost response" in again.close
    else:
        assert recovered.empty and len(requeued) == 3 and "3 queued again" in again.close


def test_recovery_below_qbxml_9_matches_the_notes_marker(ledger):
    qb = FakeQuickBooks.small(max_version=(8, 0))
    queue_for_desktop(batch([{"id": "a"}, {"id": "b"}]), ledger=ledger)
    clock = Clock()
    app = make_app(ledger, USERS, clock=clock, test_sync=False)
    with served(app) as url:
        wc = WebConnectorClient(url, qb=qb, user="acme-qbwc", password="s3cret-pw")
        wc.update(lose_response_when=lambda n, r: "TimeTrackingAddRq" in r)
        clock.advance(300)
        again = wc.update()
    assert again.completed
    adds = [r for r in qb.requests if "TimeTrackingAddRq" in r]
    assert adds and all("ExternalGUID" not in r and '<?qbxml version="8.0"?>' in r for r in adds)
    assert len(qb.time_entries) == 2 and states(ledger) == {"a": "sent", "b": "sent"}


def test_qbxml_older_than_6_is_refused_with_a_clear_error(ledger):
    qb = FakeQuickBooks.small(max_version=(5, 0))
    queue_for_desktop(batch([{}]), ledger=ledger)
    with served(make_app(ledger, USERS, test_sync=False)) as url:
        res = WebConnectorClient(url, qb=qb, user="acme-qbwc", password="s3cret-pw").update()
    assert "qbXML 5.0" in res.last_error and "6.0" in res.last_error
    assert qb.requests == [] and states(ledger) == {"e001": "queued"}


@pytest.mark.parametrize("hresult, state", [("0x80040400", "failed"), ("0x80040402", "pending")])
def test_com_error_on_an_add_ends_the_update_with_a_clear_last_error(ledger, hresult, state):
    qb = FakeQuickBooks.small()
    queue_for_desktop(batch([{"id": "x"}]), ledger=ledger)
    app = make_app(ledger, USERS, test_sync=False)
    original = qb.handle

    def failing(req):
        if "TimeTrackingAddRq" in req:
            from qbrecon.qbd.emulator import QBComError

            raise QBComError(hresult, "QuickBooks found an error")
        return original(req)

    qb.handle = failing
    with served(app) as url:
        res = WebConnectorClient(url, qb=qb, user="acme-qbwc", password="s3cret-pw").update()
    assert res.percents[-1] < 0
    assert hresult in res.last_error and "TimeTrackingAddRq" in res.last_error
    assert states(ledger) == {"x": state}
    assert "stopped early" in res.close


def test_bad_credentials_nvu_then_lockout_then_unlock(ledger):
    clock = Clock()
    queue_for_desktop(batch([{}]), ledger=ledger)
    app = make_app(ledger, USERS, clock=clock, max_failures=3, lockout=600)
    with served(app) as url:
        wrong = WebConnectorClient(url, qb=FakeQuickBooks.small(), user="acme-qbwc", password="x")
        right = WebConnectorClient(url, qb=FakeQuickBooks.small(), user="acme-qbwc",
                                   password="s3cret-pw")
        stranger = WebConnectorClient(url, qb=FakeQuickBooks.small(), user="nobody", password="x")
        assert stranger.update().auth == "nvu"
        assert WebConnectorClient(url, qb=FakeQuickBooks.small(), user="x" * 5000,
                                  password="x").update().auth == "nvu"
        assert [wrong.update().auth for _ in range(3)] == ["nvu"] * 3
        locked = right.update()
        assert locked.auth == "nvu" and locked.ticket == ""  # even the right password, for now
        clock.advance(601)
        assert right.update().auth == ""
    with Ledger(ledger) as led:
        log = led.log_frame()
    text = " ".join(log.message.astype(str)) + " ".join(log.request.dropna().astype(str))
    assert "s3cret-pw" not in text and "locked" in text
    assert not any(re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", m) for m in log.message.astype(str))


def test_expired_ticket_is_refused_and_explained(ledger):
    clock = Clock()
    queue_for_desktop(batch([{}]), ledger=ledger)
    app = make_app(ledger, USERS, clock=clock, ticket_ttl=60)
    with served(app) as url:
        _, raw, _ = post(url, envelope("authenticate", "<strUserName>acme-qbwc</strUserName>"
                                       "<strPassword>s3cret-pw</strPassword>"), "authenticate")
        ticket = result_of(raw, "authenticate")[0].text
        clock.advance(61)
        _, send, _ = post(url, envelope("sendRequestXML", f"<ticket>{ticket}</ticket>"
                                        "<strHCPResponse /><strCompanyFileName>C:\\a.qbw"
                                        "</strCompanyFileName><qbXMLCountry>US</qbXMLCountry>"
                                        "<qbXMLMajorVers>13</qbXMLMajorVers><qbXMLMinorVers>0"
                                        "</qbXMLMinorVers>"), "sendRequestXML")
        _, err, _ = post(url, envelope("getLastError", f"<ticket>{ticket}</ticket>"))
    assert (result_of(send, "sendRequestXML").text or "") == ""
    assert "expired" in result_of(err, "getLastError").text


def test_tickets_are_bound_to_their_users_company_file(ledger):
    acme, globex = "C:\\QB\\Acme.qbw", "C:\\QB\\Globex.qbw"
    users = {"acme": {"password": "pw-a", "company_file": acme},
             "globex": {"password": "pw-g", "company_file": globex}}
    queue_for_desktop(batch([{"id": "for-acme"}]), ledger=ledger, company_file=acme)
    queue_for_desktop(batch([{"id": "for-globex"}]), ledger=ledger, company_file=globex)
    qb_acme = FakeQuickBooks.small(company_file=acme)
    qb_globex = FakeQuickBooks.small(company_file=globex)
    app = make_app(ledger, users, test_sync=False)
    with served(app) as url:
        # QuickBooks has the other file open: the Web Connector cannot open the bound one
        wrong = WebConnectorClient(url, qb=qb_globex, user="acme", password="pw-a").update()
        assert wrong.auth == acme and wrong.connection_error == "done"
        assert "could not be opened" in wrong.last_error and qb_globex.requests == []
        a = WebConnectorClient(url, qb=qb_acme, user="acme", password="pw-a").update()
        g = WebConnectorClient(url, qb=qb_globex, user="globex", password="pw-g").update()
        # a ticket used with another company file than its user's is refused
        _, raw, _ = post(url, envelope("authenticate", "<strUserName>acme</strUserName>"
                                       "<strPassword>pw-a</strPassword>"), "authenticate")
    assert a.completed and g.completed
    assert qb_acme.entries_frame().Notes.str.startswith("work 1 [qbr:").tolist() == [True]
    assert len(qb_globex.time_entries) == 1
    assert states(ledger) == {"for-acme": "sent", "for-globex": "sent"}
    assert [s.text for s in result_of(raw, "authenticate")][1] == "none"


@pytest.mark.parametrize("users", [
    {"acme": {"password": "pw-a", "company_file": "C:\\QB\\Acme.qbw"}},  # bound to the file
    {"acme": "pw-a"},  # bound to none: Acme.qbw was handed out because work is queued for it
], ids=["bound", "unbound"])
def test_send_with_another_company_file_than_the_one_handed_out_is_refused(ledger, users):
    queue_for_desktop(batch([{}]), ledger=ledger, company_file="C:\\QB\\Acme.qbw")
    with served(make_app(ledger, users)) as url:
        _, raw, _ = post(url, envelope("authenticate", "<strUserName>acme</strUserName>"
                                       "<strPassword>pw-a</strPassword>"), "authenticate")
        ticket, path = [s.text or "" for s in result_of(raw, "authenticate")]
        assert path == "C:\\QB\\Acme.qbw"
        _, send, _ = post(url, envelope("sendRequestXML", f"<ticket>{ticket}</ticket>"
                                        "<strHCPResponse /><strCompanyFileName>C:\\QB\\Other.qbw"
                                        "</strCompanyFileName><qbXMLCountry>US</qbXMLCountry>"
                                        "<qbXMLMajorVers>13</qbXMLMajorVers><qbXMLMinorVers>0"
                                        "</qbXMLMinorVers>"), "sendRequestXML")
        _, err, _ = post(url, envelope("getLastError", f"<ticket>{ticket}</ticket>"))
    assert (result_of(send, "sendRequestXML").text or "") == ""
    text = result_of(err, "getLastError").text
    assert "Acme.qbw" in text and "Other.qbw" in text
    assert states(ledger) == {"e001": "queued"}


# ------------------------------------------------- a user bound to no company file
BOOKS, GLOBEX_FILE = r"C:\Books\Acme.qbw", r"C:\Books\Globex.qbw"


def test_an_unbound_user_gets_work_queued_for_a_named_company_file(ledger):
    """users maps a name to a password only: queued for a named file, it is still delivered,
    the Web Connector being told to open that file (after its test sync)."""
    queue_for_desktop(batch([{"id": "a1"}, {"id": "a2"}]), ledger=ledger, company_file=BOOKS)
    qb = FakeQuickBooks.small(company_file=BOOKS)
    with served(make_app(ledger, {"qbwc": "pw"})) as url:
        wc = WebConnectorClient(url, qb=qb, user="qbwc", password="pw")
        first = wc.update()
        assert (first.auth, first.company_file) == (BOOKS, BOOKS) and first.completed
        assert first.close.startswith("Test sync complete") and qb.time_entries == []
        second = wc.update()
        assert second.auth == BOOKS and second.completed, second.last_error
        # then, as before, the open company file's own first connection (lists only)
        third = wc.update()
        fourth = wc.update()
    assert "2 sent" in second.close and len(qb.time_entries) == 2
    assert states(ledger) == {"a1": "sent", "a2": "sent"}
    assert third.auth == "" and third.close.startswith("Test sync complete")
    assert fourth.auth == "none"  # nothing left, and the lists are fresh
    status = desktop_status(ledger).set_index("company_file")
    assert status.loc[BOOKS, "sent"] == 2 and status.loc[BOOKS, "test_sync"]
    assert len(staged_lists(ledger, BOOKS).employees) == 3
    with Ledger(ledger) as led:
        log = led.log_frame()
    accepted = log[(log.event == "wc_authenticate") & log.message.str.contains("accepted")]
    told = accepted.message.str.contains("told to open C:\\Books\\Acme.qbw", regex=False)
    assert told.tolist() == [True, True, False]


def test_an_unbound_user_gets_each_company_file_in_turn_oldest_queue_first(ledger):
    queue_for_desktop(batch([{"id": "acme-1"}, {"id": "acme-2"}]), ledger=ledger,
                      company_file=BOOKS)
    queue_for_desktop(batch([{"id": "open-1"}]), ledger=ledger)  # whichever file is open
    queue_for_desktop(batch([{"id": "globex-1"}]), ledger=ledger, company_file=GLOBEX_FILE)
    qb_acme = FakeQuickBooks.small(company_file=BOOKS)
    qb_globex = FakeQuickBooks.small(company_file=GLOBEX_FILE)
    users = {"qbwc": "pw", "globex": {"password": "pw-g", "company_file": GLOBEX_FILE}}
    app = make_app(ledger, users, test_sync=False, lists_max_age=None)
    with served(app) as url:
        # QuickBooks closed, allowed to run unattended: each update opens the file named
        wc = WebConnectorClient(url, qb={BOOKS: qb_acme, GLOBEX_FILE: qb_globex}, user="qbwc",
                                password="pw")
        runs = [wc.update() for _ in range(3)]
        assert wc.update().auth == "none"
        # a user bound to a company file sees only that file's work
        bound = WebConnectorClient(url, qb=qb_globex, user="globex", password="pw-g").update()
    assert [r.auth for r in runs] == [BOOKS, "", GLOBEX_FILE]
    assert all(r.completed for r in runs), [r.last_error for r in runs]
    assert [r.company_file for r in runs] == [BOOKS, BOOKS, GLOBEX_FILE]  # "" = the open file
    assert "work waits for 2 other company files" in runs[0].close
    assert "work waits for 1 other company file: the next update" in runs[1].close
    assert "work waits" not in runs[2].close
    assert len(qb_acme.time_entries) == 3 and len(qb_globex.time_entries) == 1
    assert set(states(ledger).values()) == {"sent"}
    assert bound.auth == "none"
    with Ledger(ledger) as led:
        log = led.log_frame()
    said = log.loc[log.event == "wc_company_files", "message"].tolist()
    assert len(said) == 2 and "3 company files have work" in said[0]
    assert said[0].index(BOOKS) < said[0].index("the open company file") < said[0].index(GLOBEX_FILE)


def test_a_company_file_that_cannot_be_opened_does_not_hold_up_the_others(ledger):
    queue_for_desktop(batch([{"id": "acme"}]), ledger=ledger, company_file=BOOKS)  # oldest
    queue_for_desktop(batch([{"id": "globex"}]), ledger=ledger, company_file=GLOBEX_FILE)
    qb_globex = FakeQuickBooks.small(company_file=GLOBEX_FILE)
    app = make_app(ledger, {"qbwc": "pw"}, test_sync=False, lists_max_age=None)
    with served(app) as url:
        wc = WebConnectorClient(url, qb={GLOBEX_FILE: qb_globex}, user="qbwc", password="pw")
        runs = [wc.update() for _ in range(3)]
    assert [r.auth for r in runs] == [BOOKS, GLOBEX_FILE, BOOKS]
    assert runs[0].connection_error == "done" and "could not be opened" in runs[0].last_error
    assert runs[1].completed and len(qb_globex.time_entries) == 1
    assert runs[2].connection_error == "done"  # still queued, tried again in its turn
    assert states(ledger) == {"acme": "queued", "globex": "sent"}


def test_an_unbound_user_is_not_kept_busy_by_a_session_another_file_still_holds(ledger):
    queue_for_desktop(batch([{"id": "acme"}]), ledger=ledger, company_file=BOOKS)  # oldest
    queue_for_desktop(batch([{"id": "globex"}]), ledger=ledger, company_file=GLOBEX_FILE)
    qb = {BOOKS: FakeQuickBooks.small(company_file=BOOKS),
          GLOBEX_FILE: FakeQuickBooks.small(company_file=GLOBEX_FILE)}
    clock = Clock()
    app = make_app(ledger, {"qbwc": "pw"}, clock=clock, test_sync=False, lists_max_age=None)
    with served(app) as url:
        wc = WebConnectorClient(url, qb=qb, user="qbwc", password="pw")
        lost = wc.update(lose_response_when=lambda n, r: "TimeTrackingAddRq" in r)
        other = wc.update()  # Acme's session still looks alive: Globex goes first
        busy = wc.update()   # only Acme has work, and its session is not idle long enough
        clock.advance(300)
        again = wc.update()  # idle long enough: taken over, the lost answer confirmed
    assert (lost.auth, lost.lost) == (BOOKS, True)
    assert other.auth == GLOBEX_FILE and other.completed
    assert busy.auth == "busy"
    assert again.auth == BOOKS and again.completed and "1 confirmed after a lost response" in again.close
    assert states(ledger) == {"acme": "sent", "globex": "sent"}
    assert len(qb[BOOKS].time_entries) == 1 and len(qb[GLOBEX_FILE].time_entries) == 1


def test_two_worker_processes_share_one_session_through_the_ledger(ledger):
    """Each call may land on another worker: state lives in SQLite, not in memory."""
    qb = FakeQuickBooks.small()
    queue_for_desktop(batch([{"id": f"w{i}"} for i in range(5)]), ledger=ledger)
    workers = [make_app(str(ledger), USERS, chunk_size=2, test_sync=False) for _ in range(2)]
    turn = {"n": 0}

    def round_robin(environ, start_response):
        turn["n"] += 1
        return workers[turn["n"] % 2](environ, start_response)

    with served(round_robin) as url:
        res = WebConnectorClient(url, qb=qb, user="acme-qbwc", password="s3cret-pw").update()
    assert res.completed and len(qb.time_entries) == 5
    assert set(states(ledger).values()) == {"sent"}


def test_every_exchange_is_in_the_integration_log_without_secrets(ledger):
    queue_for_desktop(batch([{"id": "a"}, {"id": "b", "emp": ALAN}]), ledger=ledger)
    with served(make_app(ledger, USERS, test_sync=False)) as url:
        res = WebConnectorClient(url, qb=FakeQuickBooks.small(), user="acme-qbwc",
                                 password="s3cret-pw").update()
    with Ledger(ledger) as led:
        log = led.log_frame()
    events = log.event.tolist()
    for e in ("wc_server_version", "wc_client_version", "wc_authenticate", "wc_host", "wc_send",
              "wc_receive", "wc_lists_staged", "sent", "refused", "wc_close"):
        assert e in events, e
    assert log.loc[log.entry_id == "b", "level"].tolist() == ["error"]
    adds = log[(log.event == "wc_send") & log.message.str.contains("TimeTrackingAdd")]
    assert "<TimeTrackingAddRq" in adds.request.iloc[0]
    everything = log.astype(str).to_string()
    assert "s3cret-pw" not in everything and res.ticket not in everything
    assert res.ticket[:8] in everything  # a short prefix only
    assert log.run_id.dropna().nunique() >= 1


def test_client_version_warns_very_old_web_connectors(ledger):
    with served(make_app(ledger, USERS)) as url:
        old = WebConnectorClient(url, qb=FakeQuickBooks.small(), user="acme-qbwc",
                                 password="s3cret-pw", version="1.5.0.1").update()
    assert old.client_version.startswith("W:")


def test_request_list_staging_makes_the_next_update_stage_lists(ledger):
    from qbrecon.qbd import request_list_staging

    qb = FakeQuickBooks.small()
    with served(make_app(ledger, USERS)) as url:
        wc = WebConnectorClient(url, qb=qb, user="acme-qbwc", password="s3cret-pw")
        wc.update()
        assert wc.update().auth == "none"
        request_list_staging(ledger)
        staged = wc.update()
    assert staged.auth == "" and staged.completed
    assert sum("EmployeeQueryRq" in r for r in qb.requests) == 2


def test_queue_during_a_pending_session_never_double_queues(ledger):
    queue_for_desktop(batch([{"id": "p"}]), ledger=ledger)
    with served(make_app(ledger, USERS, test_sync=False)) as url:
        WebConnectorClient(url, qb=FakeQuickBooks.small(), user="acme-qbwc",
                           password="s3cret-pw").update(lose_response_when=lambda n, r: "TimeTrackingAddRq" in r)
    again = queue_for_desktop(batch([{"id": "p"}]), ledger=ledger)
    assert again.status.tolist() == ["skipped"] and again.state.tolist() == ["pending"]
    assert isinstance(again, pd.DataFrame)


def test_a_row_the_qbxml_builder_refuses_fails_alone_with_its_reason(ledger):
    qb = FakeQuickBooks.small()
    queue_for_desktop(batch([{"id": "ok-a"}, {"id": "ctrl", "note": "bell\x07 in the notes"},
                             {"id": "ok-b"}]), ledger=ledger)
    with served(make_app(ledger, USERS, test_sync=False, chunk_size=2)) as url:
        res = WebConnectorClient(url, qb=qb, user="acme-qbwc", password="s3cret-pw").update()
    assert res.completed
    with Ledger(ledger) as led:
        d = led.deliveries().set_index("entry_id")
    assert d.state.to_dict() == {"ok-a": "sent", "ctrl": "failed", "ok-b": "sent"}
    assert "control characters" in d.loc["ctrl", "message"]
    assert len(qb.time_entries) == 2
    # chunks of 2 from one prepared block, nothing left prepared after the session
    assert sum("TimeTrackingAddRq" in r for r in qb.requests) == 1
    with Ledger(ledger) as led:
        assert led._conn.execute("SELECT COUNT(*) FROM qbwc_prepared").fetchone()[0] == 0
