"""Queueing for the desktop, the .qwc file, users and passwords, the SOAP layer's properties."""

from __future__ import annotations

import doctest
import importlib
import xml.etree.ElementTree as ET

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wchelpers import ALAN, batch

from qbrecon import InputError, SettingsError
from qbrecon import schema as S
from qbrecon.ledger import Ledger, request_id_for
from qbrecon.qbd import (
    hash_password,
    queue_for_desktop,
    read_users_file,
    target_for,
    verify_password,
    write_qwc,
)
from qbrecon.qbd.auth import make_users
from qbrecon.qbd.emulator import WebConnectorClient
from qbrecon.qbd.queue import payload_frame, payload_json
from qbrecon.qbd.soap import parse_request, render_response


# ------------------------------------------------------------------------ queue
def test_queue_records_each_entry_once_and_reports_what_was_there(tmp_path):
    ledger = tmp_path / "l.sqlite"
    b = batch([{"id": "a"}, {"id": "b"}])
    before = b.copy(deep=True)
    first = queue_for_desktop(b, ledger=ledger, company_file="C:\\QB\\Acme.qbw")
    pd.testing.assert_frame_equal(b, before)  # the input is never modified
    assert first.columns.tolist() == ["entry_id", "status", "state", "message"]
    assert first.status.tolist() == ["queued", "queued"] and first.state.tolist() == ["queued"] * 2
    again = queue_for_desktop(batch([{"id": "a"}, {"id": "c"}]), ledger=ledger,
                              company_file="c:\\qb\\ACME.QBW")  # same file, other spelling
    assert again.status.tolist() == ["skipped", "queued"]
    assert "already queued" in again.message.iloc[0]
    with Ledger(ledger) as led:
        d = led.deliveries()
    assert set(d.target) == {target_for("C:\\QB\\Acme.qbw")}
    assert d.request_id.tolist() == [request_id_for(d.target.iloc[0], e) for e in d.entry_id]


def test_failed_entries_are_queued_again_with_a_new_generation(tmp_path):
    ledger = tmp_path / "l.sqlite"
    queue_for_desktop(batch([{"id": "a"}]), ledger=ledger)
    with Ledger(ledger) as led:
        led.record_outcomes("qbd:", [{"entry_id": "a", "state": "failed", "error_code": "3140"}])
    out = queue_for_desktop(batch([{"id": "a"}]), ledger=ledger)
    assert out.status.tolist() == ["queued"] and "was failed" in out.message.iloc[0]
    with Ledger(ledger) as led:
        row = led.deliveries().iloc[0]
    assert row.state == "queued" and row.generation == 1
    assert row.request_id == request_id_for("qbd:", "a", 1)


def test_sent_entries_are_skipped_with_their_txn_id(tmp_path):
    ledger = tmp_path / "l.sqlite"
    queue_for_desktop(batch([{"id": "a"}]), ledger=ledger)
    with Ledger(ledger) as led:
        led.record_outcomes("qbd:", [{"entry_id": "a", "state": "sent", "external_id": "1A-2"}])
    out = queue_for_desktop(batch([{"id": "a"}]), ledger=ledger)
    assert out.status.tolist() == ["skipped"] and "TxnID 1A-2" in out.message.iloc[0]
    assert "changed" not in out.message.iloc[0]


def test_an_entry_edited_after_sending_is_skipped_and_says_so(tmp_path):
    ledger = tmp_path / "l.sqlite"
    queue_for_desktop(batch([{"id": "a"}]).assign(fingerprint="f1"), ledger=ledger)
    with Ledger(ledger) as led:
        led.record_outcomes("qbd:", [{"entry_id": "a", "state": "sent", "external_id": "1A-2"}])
    same = queue_for_desktop(batch([{"id": "a"}]).assign(fingerprint="f1"), ledger=ledger)
    edited = queue_for_desktop(batch([{"id": "a"}]).assign(fingerprint="f2"), ledger=ledger)
    assert "changed" not in same.message.iloc[0]
    assert edited.status.tolist() == ["skipped"] and "changed since it was sent" in edited.message.iloc[0]


def test_a_bad_batch_lists_every_problem_and_queues_nothing(tmp_path):
    ledger = tmp_path / "l.sqlite"
    b = batch([{"id": "ok"}, {"id": "long", "h": 25}, {"id": "zero", "h": 0, "m": 0},
               {"id": "nobody", "emp": ""}, {"id": "bill", "billable": True, "cust": ""},
               {"id": "ok"}])
    with pytest.raises(InputError) as info:
        queue_for_desktop(b, ledger=ledger)
    text = str(info.value)
    for what in ("row 2, column 'hours': entry long: longer than 24 hours",
                 "row 3, column 'hours': no time", "row 4, column 'employee_id': no employee",
                 "row 5, column 'customer_id': entry bill: billable time needs a customer",
                 "row 6, column 'entry_id': entry id occurs more than once"):
        assert what in text, what
    assert {p.row for p in info.value.problems} == {1, 2, 3, 4, 5, 6}
    with Ledger(ledger) as led:
        assert led.deliveries().empty


def test_a_batch_without_required_columns_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="lack required columns"):
        queue_for_desktop(pd.DataFrame({"entry_id": ["a"]}), ledger=tmp_path / "l.sqlite")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40),
    st.integers(0, 23), st.integers(0, 59), st.booleans()), min_size=1, max_size=8))
def test_queued_rows_come_back_exactly_as_queued(rows):
    b = batch([{"id": f"p{i}", "note": note, "h": h, "m": m, "billable": bill,
                "item": "80000030-1700000030" if bill else ""}
               for i, (note, h, m, bill) in enumerate(rows)])
    back = payload_frame(payload_json(b))
    for col in (S.TXN_DATE, S.EMPLOYEE_ID, S.CUSTOMER_ID, S.ITEM_ID, S.HOURS, S.MINUTES,
                S.BILLABLE_STATUS, S.DESCRIPTION):
        assert back[col].tolist() == b[col].tolist(), col


# -------------------------------------------------------------------------- SOAP
_XML_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
                    max_size=80)


@settings(max_examples=80, deadline=None)
@given(user=_XML_TEXT, password=_XML_TEXT)
def test_any_parameter_text_survives_the_envelope(user, password):
    body = WebConnectorClient.envelope("authenticate", [("strUserName", user),
                                                        ("strPassword", password)])
    call = parse_request(body)
    assert call.operation == "authenticate"
    assert call.params == {"strUserName": user.replace("\r", "\n"), "strPassword": password.replace("\r", "\n")}


@settings(max_examples=80, deadline=None)
@given(items=st.lists(_XML_TEXT, min_size=2, max_size=4), text=_XML_TEXT)
def test_any_result_survives_the_response_envelope(items, text):
    ns = "{http://developer.intuit.com/}"
    env = "{http://schemas.xmlsoap.org/soap/envelope/}"
    root = ET.fromstring(render_response("authenticate", items))
    got = root.find(f"{env}Body/{ns}authenticateResponse/{ns}authenticateResult")
    assert [(s.text or "") for s in got.findall(f"{ns}string")] == [i.replace("\r", "\n") for i in items]
    one = ET.fromstring(render_response("getLastError", text))
    assert (one.find(f"{env}Body/{ns}getLastErrorResponse/{ns}getLastErrorResult").text or "") == \
        text.replace("\r", "\n")


def test_a_boolean_is_never_written_as_an_int_result():
    with pytest.raises(TypeError):
        render_response("receiveResponseXML", True)
    assert b"<receiveResponseXMLResult>42</receiveResponseXMLResult>" in render_response(
        "receiveResponseXML", 42)


# ------------------------------------------------------------------ passwords
def test_passwords_are_salted_hashes_checked_both_ways():
    a, b = hash_password("s3cret"), hash_password("s3cret")
    assert a != b and "s3cret" not in a
    assert verify_password(a, "s3cret") and verify_password(b, "s3cret")
    assert not verify_password(a, "s3cret ") and not verify_password(a, "")
    users = make_users({"x": "pw", "y": {"password_hash": a, "company_file": "C:\\a.qbw"}})
    assert users["y"].company_file == "C:\\a.qbw" and "pw" not in repr(users["x"])


@pytest.mark.parametrize("users, why", [
    ({}, "at least one"),
    ({"x": ""}, "non-empty"),
    ({"x": {"password": "a", "password_hash": "b"}}, "not both"),
    ({"x": {"company_file": "C:\\a.qbw"}}, "needs a password"),
    ({"x": {"password_hash": "md5$abc"}}, "not a qbrecon password hash"),
    ({"x": {"password": "a", "role": "admin"}}, "unknown keys"),
    ({"x": 42}, "expected a password"),
])
def test_unusable_users_are_settings_errors(users, why):
    with pytest.raises(SettingsError, match=why):
        make_users(users)


def test_users_file_toml_and_json(tmp_path):
    toml = tmp_path / "users.toml"
    toml.write_text(f'[users.acme]\npassword_hash = "{hash_password("pw")}"\n'
                    "company_file = 'C:\\QB\\Acme.qbw'\n", encoding="utf-8")
    js = tmp_path / "users.json"
    js.write_text('{"globex": {"password": "pw2"}}', encoding="utf-8")
    assert make_users(read_users_file(toml))["acme"].company_file == "C:\\QB\\Acme.qbw"
    assert verify_password(make_users(read_users_file(js))["globex"].password_hash, "pw2")
    bad = tmp_path / "bad.toml"
    bad.write_text("[users\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"bad\.toml"):
        read_users_file(bad)


# ------------------------------------------------------------------------ .qwc
def qwc(path) -> dict[str, str]:
    root = ET.parse(path).getroot()
    assert root.tag == "QBWCXML"
    out = {c.tag: (c.text or "") for c in root}
    out["RunEveryNMinutes"] = root.findtext("Scheduler/RunEveryNMinutes") or ""
    return out


def test_qwc_has_every_element_and_stable_guids(tmp_path):
    ledger = tmp_path / "l.sqlite"
    p1 = write_qwc(tmp_path / "a.qwc", url="https://qb.example.com/qbwc", user="acme-qbwc",
                   ledger=ledger, company_file="C:\\QB\\Acme & Co.qbw")
    p2 = write_qwc(tmp_path / "again" / "b.qwc", url="https://qb.example.com/qbwc",
                   user="acme-qbwc", ledger=ledger, company_file="C:\\QB\\Acme & Co.qbw",
                   run_every_minutes=60)
    other = write_qwc(tmp_path / "c.qwc", url="https://qb.example.com/qbwc", user="acme-qbwc",
                      ledger=ledger, company_file="C:\\QB\\Globex.qbw")
    a, b, c = qwc(p1), qwc(p2), qwc(other)
    assert a["AppName"] == "qbrecon (Acme & Co)" and c["AppName"] == "qbrecon (Globex)"
    assert a["AppURL"] == "https://qb.example.com/qbwc"
    assert a["AppSupport"] == "https://qb.example.com/qbwc?support"
    assert a["UserName"] == "acme-qbwc" and a["QBType"] == "QBFS" and a["IsReadOnly"] == "false"
    assert a["AppID"] == "" and a["RunEveryNMinutes"] == "30" and b["RunEveryNMinutes"] == "60"
    # never regenerated: same OwnerID and FileID however often and wherever it is written
    assert (a["OwnerID"], a["FileID"]) == (b["OwnerID"], b["FileID"])
    assert c["OwnerID"] == a["OwnerID"] and c["FileID"] != a["FileID"]
    for g in (a["OwnerID"], a["FileID"]):
        assert len(g) == 38 and g[0] == "{" and g[-1] == "}"
    assert "password" not in p1.read_text().lower()


def test_qwc_adopts_the_guids_of_an_existing_file_when_the_ledger_has_none(tmp_path):
    path = write_qwc(tmp_path / "a.qwc", url="https://qb.example.com/qbwc", user="u",
                     ledger=tmp_path / "one.sqlite")
    before = qwc(path)
    write_qwc(path, url="https://qb.example.com/qbwc", user="u", ledger=tmp_path / "two.sqlite")
    after = qwc(path)
    assert (before["OwnerID"], before["FileID"]) == (after["OwnerID"], after["FileID"])


@pytest.mark.parametrize("kw, why", [
    ({"url": "http://qb.example.com/qbwc"}, "https"),
    ({"url": "ftp://localhost/x"}, "http"),
    ({"support_url": "https://elsewhere.example.com/help"}, "same host"),
    ({"run_every_minutes": 5}, "15 or more"),
    ({"user": " "}, "user"),
])
def test_qwc_refuses_what_the_web_connector_refuses(tmp_path, kw, why):
    args = {"url": "https://qb.example.com/qbwc", "user": "u", "ledger": tmp_path / "l.sqlite"}
    args.update(kw)
    with pytest.raises(SettingsError, match=why):
        write_qwc(tmp_path / "x.qwc", **args)
    assert not (tmp_path / "x.qwc").exists()


@pytest.mark.parametrize("url", ["http://localhost:8080/qbwc", "http://127.0.0.1/qbwc"])
def test_qwc_allows_plain_http_on_localhost(tmp_path, url):
    assert qwc(write_qwc(tmp_path / "x.qwc", url=url, user="u",
                         ledger=tmp_path / "l.sqlite"))["AppURL"] == url


@pytest.mark.parametrize("module", ["qbrecon.qbd.auth", "qbrecon.qbd.queue", "qbrecon.qbd.qwc",
                                    "qbrecon.qbd.app", "qbrecon.qbd.staging"])
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_unknown_and_inactive_refs_are_left_to_quickbooks(tmp_path):
    # queueing does not second-guess names: QuickBooks answers 3140 per entry
    out = queue_for_desktop(batch([{"id": "x", "emp": ALAN}]), ledger=tmp_path / "l.sqlite")
    assert out.status.tolist() == ["queued"]
