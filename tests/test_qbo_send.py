"""Sending to QuickBooks Online exactly once, over real HTTP against the local emulator."""

import json
import logging
import os
from dataclasses import replace

import hypothesis.strategies as st
import pandas as pd
import pytest
from hypothesis import given, settings
from qbo_support import (
    FAST_LIMITS,
    INACTIVE_EMPLOYEE,
    MARKER,
    QUICK_RETRY,
    ledger_bytes,
    make_batch,
    markers_in,
)

from qbrecon import schema as S
from qbrecon.errors import AuthError, InputError, LedgerError, SettingsError
from qbrecon.ledger import Ledger, request_id_for
from qbrecon.qbo.emulator import QBOEmulator
from qbrecon.qbo.limits import QBOLimits, RetryPolicy
from qbrecon.qbo.send import (
    FOUND_MESSAGE,
    build_payloads,
    marker_for,
    prepare_batch,
    send_to_qbo,
    undo_send,
)

PAYLOAD_COLUMNS = ["action", "request_id", "marker", "chunk", "payload"]


@pytest.fixture
def emu():
    with QBOEmulator(seed="builtin", limits=FAST_LIMITS) as e:
        yield e


@pytest.fixture
def client(emu, tmp_path):
    with emu.connect(tmp_path / "tokens.json", timeout=5) as c:
        yield c


def send(batch, client, ledger, **kw):
    kw.setdefault("retry", QUICK_RETRY)
    kw.setdefault("progress", False)
    return send_to_qbo(batch, client, ledger=ledger, **kw)


def assert_exactly_once(emu, ledger_path, batch):
    """Every batch entry is in QuickBooks once, and the ledger says so."""
    tas = emu.time_activities()
    marks = markers_in(emu)
    assert marks.notna().all()
    assert not marks.duplicated().any(), "a TimeActivity was created twice"
    with Ledger(ledger_path) as led:
        d = led.deliveries(entry_ids=batch[S.ENTRY_ID].tolist())
    assert sorted(d[S.ENTRY_ID]) == sorted(batch[S.ENTRY_ID])
    assert (d["state"] == "sent").all(), d["state"].value_counts()
    expected = {marker_for(r) for r in d["request_id"]}
    assert set(marks) == expected
    assert set(tas["qbo_id"]) == set(d["external_id"])


# ------------------------------------------------------------------ the full flow
def test_full_flow_dry_run_send_rerun_and_log(emu, client, tmp_path):
    batch = make_batch(75)
    original = batch.copy()
    ledger = tmp_path / "ledger.sqlite"

    plan = send(batch, client, ledger, dry_run=True)
    assert list(plan.columns) == [*S.SEND_RESULT_COLUMNS, *PAYLOAD_COLUMNS]
    assert plan[S.ENTRY_ID].tolist() == batch[S.ENTRY_ID].tolist()
    assert len(plan) == 75 and (plan[S.STATUS] == "would_send").all()
    assert (plan["action"] == "create").all() and plan[S.QBO_ID].isna().all()
    assert plan[S.MESSAGE].str.startswith("would be sent (its marker is not in QuickBooks)").all()
    assert plan["chunk"].max() == 3  # 30 + 30 + 15
    first = json.loads(plan["payload"].iloc[0])
    assert first["NameOf"] == "Employee" and first["EmployeeRef"] == {"value": "54"}
    assert first["Description"].startswith("work item 0 [qbr:") and MARKER.search(
        first["Description"]
    )
    assert not ledger.exists() and emu.time_activities().empty  # nothing sent, nothing written

    results = send(batch, client, ledger)
    pd.testing.assert_frame_equal(batch, original)  # input untouched
    assert list(results.columns) == S.SEND_RESULT_COLUMNS
    assert results[S.ENTRY_ID].tolist() == batch[S.ENTRY_ID].tolist()
    assert (results[S.STATUS] == "sent").all()
    assert_exactly_once(emu, ledger, batch)
    # the payload fields arrived as sent
    tas = emu.time_activities().set_index("qbo_id")
    row = tas.loc[results[S.QBO_ID].iloc[4]]
    assert (row["person_id"], row["customer_id"], row["hours"], row["minutes"]) == (
        "54",
        "1",
        4,
        29,
    )
    assert row["billable_status"] == "Billable" and row["hourly_rate"] == 95.5
    # the dry run showed exactly what was sent
    sent_desc = tas.loc[results[S.QBO_ID].iloc[0], "description"]
    assert sent_desc == first["Description"]

    requests_before = emu.stats["api_requests"]
    again = send(batch, client, ledger)
    assert (again[S.STATUS] == "skipped").all()
    assert again[S.QBO_ID].tolist() == results[S.QBO_ID].tolist()
    assert emu.stats["api_requests"] == requests_before  # nothing asked of QuickBooks
    assert len(emu.time_activities()) == 75

    with Ledger(ledger) as led:
        log = led.log_frame()
        runs = led.runs()
    http = log[log["event"] == "http"]
    # one search for the markers of entries this ledger had never seen, three batch requests
    assert http[S.MESSAGE].str.contains("/query").tolist() == [True, False, False, False]
    http = http.iloc[1:]
    req = json.loads(http["request"].iloc[0])
    assert len(req["body"]["BatchItemRequest"]) == 30 and len(req["params"]["requestid"]) <= 36
    assert all(len(i["bId"]) <= 10 for i in req["body"]["BatchItemRequest"])
    resp = json.loads(http["response"].iloc[0])
    assert resp["status"] == 200 and "BatchItemResponse" in resp["body"]
    assert (log[log["event"] == "sent"][S.ENTRY_ID].nunique()) == 75
    assert runs["status"].tolist()[-2:] == ["finished", "finished"]
    assert json.loads(runs["summary"].iloc[0])["sent"] == 75
    assert results.attrs["run_id"] == runs["run_id"].iloc[0]


def test_vendor_entries_use_vendor_ref(emu, client, tmp_path):
    batch = make_batch(3, people=("60",)).assign(**{S.NAME_OF: "Vendor"})
    results = send(batch, client, tmp_path / "l.sqlite")
    assert (results[S.STATUS] == "sent").all()
    tas = emu.time_activities()
    assert set(tas["name_of"]) == {"Vendor"} and set(tas["person_id"]) == {"60"}


def test_empty_batch_sends_nothing(client, emu, tmp_path):
    results = send(make_batch(0), client, tmp_path / "l.sqlite")
    assert results.empty and list(results.columns) == S.SEND_RESULT_COLUMNS
    assert emu.stats["api_requests"] == 0


# ------------------------------------------------------------------ lost answers
@pytest.mark.parametrize("remember", [True, False], ids=["requestid-replay", "lookup-only"])
def test_dropped_responses_after_commit_never_duplicate(tmp_path, remember):
    # the emulator runs and commits the batch, then closes the connection unanswered;
    # without request-id memory, only the marker lookup prevents a duplicate
    with QBOEmulator(seed="builtin", limits=FAST_LIMITS, remember_request_ids=remember) as emu:
        client = emu.connect(tmp_path / "t.json", timeout=5)
        emu.inject("drop", times=3, match="batch")
        batch = make_batch(90)
        results = send(batch, client, tmp_path / "l.sqlite")
        assert (results[S.STATUS] == "sent").all()
        assert emu.stats["dropped"] == 3
        assert_exactly_once(emu, tmp_path / "l.sqlite", batch)
        with Ledger(tmp_path / "l.sqlite") as led:
            found = led.log_frame()
        assert (
            found[S.MESSAGE].str.contains("found in QuickBooks after an unanswered request").sum()
            == 90
        )


def test_server_errors_and_slow_answers_are_retried_without_duplicates(tmp_path):
    with QBOEmulator(seed="builtin", limits=FAST_LIMITS, remember_request_ids=False) as emu:
        client = emu.connect(tmp_path / "t.json", timeout=0.6)
        emu.inject("error", status=500, times=2, match="batch")  # refused before running
        emu.inject("error", status=503, times=1, match="batch")
        emu.inject("slow", delay=1.5, times=1, match="batch")  # runs, answers after the timeout
        batch = make_batch(60)
        results = send(batch, client, tmp_path / "l.sqlite")
        assert (results[S.STATUS] == "sent").all()
        assert emu.stats["injected_errors"] == 3 and emu.stats["slowed"] == 1
        assert_exactly_once(emu, tmp_path / "l.sqlite", batch)


def test_unconfirmed_entries_stay_pending_and_the_next_run_resolves_them(tmp_path):
    with QBOEmulator(seed="builtin", limits=FAST_LIMITS, remember_request_ids=False) as emu:
        client = emu.connect(tmp_path / "t.json", timeout=5)
        # every batch answer lost, and the lookups after the first search (the fresh
        # ledger's) fail too: nothing can be confirmed
        emu.inject("drop", times=-1, match="batch")
        emu.inject("error", status=500, times=-1, after=1, match="query")
        batch = make_batch(10)
        first = send(batch, client, tmp_path / "l.sqlite")
        assert (first[S.STATUS] == "failed").all()
        assert first[S.MESSAGE].str.contains("outcome unknown").all()
        with Ledger(tmp_path / "l.sqlite") as led:
            assert (led.deliveries()["state"] == "pending").all()
        created = len(emu.time_activities())
        assert created == 10  # the first request ran; nothing was sent again unchecked
        emu.clear_faults()
        second = send(batch, client, tmp_path / "l.sqlite")
        assert (second[S.STATUS] == "sent").all()
        assert second[S.MESSAGE].str.contains("interrupted send").all()
        assert_exactly_once(emu, tmp_path / "l.sqlite", batch)


# ------------------------------------------------------------------ throttling
@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_429_storm_waits_and_retries(tmp_path, fmt):
    with QBOEmulator(seed="builtin", limits=FAST_LIMITS, throttle_format=fmt) as emu:
        client = emu.connect(tmp_path / "t.json", timeout=5, limits=FAST_LIMITS.scaled(20))
        emu.inject("throttle", times=-1, probability=0.5, match="batch")
        batch = make_batch(120)
        results = send(
            batch,
            client,
            tmp_path / "l.sqlite",
            retry=RetryPolicy(max_attempts=30, base_delay=0.01, max_delay=0.02),
        )
        assert (results[S.STATUS] == "sent").all()
        assert emu.stats["throttled"] >= 1
        assert_exactly_once(emu, tmp_path / "l.sqlite", batch)
        with Ledger(tmp_path / "l.sqlite") as led:
            summary = json.loads(led.runs()["summary"].iloc[-1])
        assert summary["throttled"] == emu.stats["throttled"]


def test_client_limiter_keeps_below_the_server_limit(tmp_path):
    server = QBOLimits(requests_per_window=500, batches_per_window=4, window=0.3, throttle_wait=0.3)
    # the client keeps a window twice as long: in so short a window that covers the jitter
    # between sending and arrival on a busy machine (2% of a real minute does)
    client_limits = replace(server, margin=1.0)
    with QBOEmulator(seed="builtin", limits=server) as emu:
        client = emu.connect(tmp_path / "t.json", timeout=5, limits=client_limits)
        results = send(make_batch(300), client, tmp_path / "l.sqlite", concurrency=3)
        assert (results[S.STATUS] == "sent").all()
        assert emu.stats["throttled"] == 0  # 10 batch requests at 4 per window, never a 429
        assert client.limiter.waited > 0  # it did have to hold requests back


# ------------------------------------------------------------------ tokens
def test_token_expiry_mid_send_rotates_and_saves_the_newest_refresh_token(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    token_file = tmp_path / "tokens.json"
    with QBOEmulator(seed="builtin", limits=FAST_LIMITS) as emu:
        client = emu.connect(token_file, timeout=5)
        first_refresh = json.loads(token_file.read_text())["refresh_token"]
        emu.inject("expire_token", after=2, match="batch")
        emu.inject("expire_token", after=4, match="batch")
        batch = make_batch(200)
        results = send(batch, client, tmp_path / "l.sqlite", concurrency=2)
        assert (results[S.STATUS] == "sent").all()
        assert_exactly_once(emu, tmp_path / "l.sqlite", batch)
        saved = json.loads(token_file.read_text())
        assert emu.stats["token_refreshes"] == 2 and emu.stats["unauthorized"] >= 2
        assert emu.valid_refresh_tokens() == {saved["refresh_token"]}  # the newest, saved
        assert saved["refresh_token"] != first_refresh
        assert oct(os.stat(token_file).st_mode & 0o777) == "0o600"
        assert not [
            p for p in tmp_path.iterdir() if p.name.startswith(".tokens.json")
        ]  # no temp files
        # no token anywhere in the ledger or the logs
        stored = ledger_bytes(tmp_path / "l.sqlite")
        logged = caplog.text
        assert len(emu.issued_tokens) >= 6
        for tok in emu.issued_tokens:
            assert tok.encode() not in stored
            assert tok not in logged
        assert "OAUTHLIB_INSECURE_TRANSPORT" not in os.environ


def test_access_token_about_to_expire_is_refreshed_before_use(tmp_path):
    token_file = tmp_path / "tokens.json"
    with QBOEmulator(seed="builtin", limits=FAST_LIMITS) as emu:
        emu.write_token_file(token_file)
        data = json.loads(token_file.read_text())
        data["expires_at"] = "2000-01-01T00:00:00+00:00"
        token_file.write_text(json.dumps(data))
        os.chmod(token_file, 0o600)
        client = emu.connect(token_file)  # a fresh file...
        client.tokens.store.save(data)  # ...then the expired one: the client must refresh first
        client.tokens._data = data
        results = send(make_batch(5), client, tmp_path / "l.sqlite")
        assert (results[S.STATUS] == "sent").all()
        assert emu.stats["unauthorized"] == 0 and emu.stats["token_refreshes"] == 1


def test_revoked_refresh_token_stops_with_auth_error_and_keeps_what_was_sent(tmp_path):
    token_file = tmp_path / "tokens.json"
    with QBOEmulator(seed="builtin", limits=FAST_LIMITS) as emu:
        client = emu.connect(token_file, timeout=5)
        sent_first = send(make_batch(30), client, tmp_path / "l.sqlite")
        assert (sent_first[S.STATUS] == "sent").all()
        emu._refresh.clear()  # the refresh token was revoked in QuickBooks
        emu.expire_tokens()
        with pytest.raises(AuthError, match="qbrecon auth") as info:
            send(make_batch(60), client, tmp_path / "l.sqlite")
        partial = info.value.results
        assert (partial[S.STATUS].iloc[:30] == "skipped").all()
        assert (partial[S.STATUS].iloc[30:] == "failed").all()
        with Ledger(tmp_path / "l.sqlite") as led:
            assert led.runs()["status"].iloc[-1] == "aborted"
            d = led.deliveries()
            assert (d[d["state"] == "sent"][S.ENTRY_ID] < "e00030").all()


# ------------------------------------------------------------------ per-item faults
def test_permanent_item_faults_are_recorded_and_the_rest_is_sent(tmp_path):
    with QBOEmulator(seed="builtin", limits=FAST_LIMITS, book_close_date="2026-10-31") as emu:
        client = emu.connect(tmp_path / "t.json", timeout=5)
        batch = make_batch(40)
        batch.loc[3, S.EMPLOYEE_ID] = INACTIVE_EMPLOYEE  # inactive: 610
        batch.loc[7, S.CUSTOMER_ID] = "999"  # unknown: 2500
        batch.loc[11, S.TXN_DATE] = pd.Timestamp("2026-10-15")  # closed books: 6210
        results = send(batch, client, tmp_path / "l.sqlite").set_index(S.ENTRY_ID)
        assert results.loc["e00003", S.ERROR_CODE] == "610"
        assert "inactive" in results.loc["e00003", S.MESSAGE]
        assert results.loc["e00007", S.ERROR_CODE] == "2500"
        assert results.loc["e00011", S.ERROR_CODE] == "6210"
        assert "books are closed" in results.loc["e00011", S.MESSAGE]
        assert (results[S.STATUS] == "sent").sum() == 37
        assert len(emu.time_activities()) == 37
        with Ledger(tmp_path / "l.sqlite") as led:
            d = led.deliveries().set_index(S.ENTRY_ID)
        assert d.loc["e00003", "state"] == "failed" and d.loc["e00003", "generation"] == 1

        # fixed in the batch and sent again: only the three go out, under new request ids
        batch.loc[3, S.EMPLOYEE_ID] = "55"
        batch.loc[7, S.CUSTOMER_ID] = "3"
        batch.loc[11, S.TXN_DATE] = pd.Timestamp("2026-11-15")
        again = send(batch, client, tmp_path / "l.sqlite").set_index(S.ENTRY_ID)
        assert (again[S.STATUS] == "skipped").sum() == 37
        assert set(again.index[again[S.STATUS] == "sent"]) == {"e00003", "e00007", "e00011"}
        assert len(emu.time_activities()) == 40
        with Ledger(tmp_path / "l.sqlite") as led:
            d = led.deliveries().set_index(S.ENTRY_ID)
        assert d.loc["e00003", "request_id"] == request_id_for(client.target, "e00003", 1)


def test_a_changed_entry_is_skipped_with_a_note(emu, client, tmp_path):
    ledger = tmp_path / "l.sqlite"
    batch = make_batch(3)
    batch[S.FINGERPRINT] = ["fp0", "fp1", "fp2"]
    first = send(batch, client, ledger)
    with Ledger(ledger) as led:
        sent_on = led.deliveries()["updated_at"].str[:10].tolist()
    # edited in the tracker after sending: the batch carries the new content hash
    batch.loc[1, S.DESCRIPTION] = "corrected after sending"
    batch.loc[1, S.HOURS] = 7
    batch.loc[1, S.FINGERPRINT] = "fp1-edited"
    results = send(batch, client, ledger)
    assert (results[S.STATUS] == "skipped").all()  # never resent automatically
    assert len(emu.time_activities()) == 3
    qid = first[S.QBO_ID].tolist()
    assert results[S.QBO_ID].tolist() == qid
    changed = results[S.MESSAGE].iloc[1]
    assert changed.startswith(f"already sent as TimeActivity {qid[1]} on {sent_on[1]}")
    assert "changed since in the tracker" in changed and "fix it in QuickBooks" in changed
    assert results[S.ERROR_CODE].fillna("").tolist() == ["", "changed_since_sent", ""]
    unchanged = results[S.MESSAGE].iloc[0]
    assert unchanged.startswith(f"already sent as TimeActivity {qid[0]} on {sent_on[0]}")
    assert "changed" not in unchanged
    with Ledger(ledger) as led:
        warned = led.log_frame(level="warning")
    assert (
        warned[S.ENTRY_ID].tolist() == ["e00001"]
        and "fix it in QuickBooks" in warned[S.MESSAGE].iloc[0]
    )


def test_interrupted_entries_outside_the_batch_are_finished(emu, client, tmp_path):
    # a run left entries pending (intent recorded, request never answered); the next
    # batch does not carry them (validation excluded them as held), yet they are finished
    ledger = tmp_path / "l.sqlite"
    batch = make_batch(8)
    b = prepare_batch(batch)
    target = client.target
    rids = pd.Series([request_id_for(target, e) for e in b[S.ENTRY_ID]])
    payloads = build_payloads(b, rids)
    with Ledger(ledger) as led:
        led.record_intent(
            target,
            [
                {
                    "entry_id": e,
                    "request_id": r,
                    "payload": {
                        "requestid": "qbrb" + "0" * 32,
                        "bId": f"b{i}",
                        "size": 8,
                        "TimeActivity": p,
                    },
                }
                for i, (e, r, p) in enumerate(zip(b[S.ENTRY_ID], rids, payloads, strict=True))
            ],
        )
    # QuickBooks had run half of them before the crash (same payloads, same markers)
    for p in payloads[:4]:
        client.create("TimeActivity", p)
    other = make_batch(2, prefix="x")
    results = send(other, client, ledger)
    assert (results[S.STATUS] == "sent").all() and len(results) == 2
    assert_exactly_once(emu, ledger, pd.concat([batch, other], ignore_index=True))


# ------------------------------------------------------------------ a new or mistyped ledger
def queries_in(ledger):
    with Ledger(ledger) as led:
        log = led.log_frame()
    http = log[log["event"] == "http"]
    return http[http[S.MESSAGE].str.contains("/query")]


def test_a_fresh_ledger_finds_what_quickbooks_holds_and_sends_nothing_twice(
    emu, client, tmp_path, monkeypatch
):
    batch = make_batch(75)
    first = send(batch, client, tmp_path / "a.sqlite")
    assert (first[S.STATUS] == "sent").all()
    monkeypatch.setattr("qbrecon.qbo.send.LOOKUP_PAGE_SIZE", 20)  # so that the search pages

    again = send(batch, client, tmp_path / "b.sqlite")  # a new (or mistyped) ledger path
    assert len(emu.time_activities()) == 75  # zero new TimeActivities
    assert (again[S.STATUS] == "skipped").all()
    assert (again[S.MESSAGE] == "already in QuickBooks (found by its marker), not resent").all()
    assert again[S.QBO_ID].tolist() == first[S.QBO_ID].tolist()
    # one query sequence over the batch's 20 days, in pages: 20 + 20 + 20 + 15 rows
    sql = queries_in(tmp_path / "b.sqlite")["request"].map(lambda r: json.loads(r)["body"])
    assert len(sql) == 4 and sql.str.contains("TxnDate >= '2026-11-02'").all()
    assert sql.str.contains("TxnDate <= '2026-11-21'").all()
    # ledger B now knows them: a third run skips without asking QuickBooks anything
    with Ledger(tmp_path / "b.sqlite") as led:
        d = led.deliveries().set_index(S.ENTRY_ID)
        summary = json.loads(led.runs()["summary"].iloc[-1])
    assert (d["state"] == "sent").all()
    assert d.loc[batch[S.ENTRY_ID], "external_id"].tolist() == first[S.QBO_ID].tolist()
    assert summary["found_in_quickbooks"] == 75 and summary["sent"] == 0
    requests_before = emu.stats["api_requests"]
    third = send(batch, client, tmp_path / "b.sqlite")
    assert (third[S.STATUS] == "skipped").all()
    assert emu.stats["api_requests"] == requests_before


def test_a_fresh_ledger_sends_only_what_quickbooks_lacks(emu, client, tmp_path):
    batch = make_batch(12)
    batch.loc[3, S.EMPLOYEE_ID] = INACTIVE_EMPLOYEE
    a = tmp_path / "a.sqlite"
    assert send(batch, client, a)[S.STATUS].tolist().count("failed") == 1
    batch.loc[3, S.EMPLOYEE_ID] = "55"  # re-mapped: sent under the next generation's marker
    assert (send(batch, client, a)[S.STATUS] == "skipped").sum() == 11
    more = pd.concat([batch, make_batch(5, prefix="n")], ignore_index=True)

    results = send(more, client, tmp_path / "b.sqlite")
    assert results[S.STATUS].tolist() == ["skipped"] * 12 + ["sent"] * 5
    assert len(emu.time_activities()) == 17 and not markers_in(emu).duplicated().any()
    with Ledger(tmp_path / "b.sqlite") as led:
        d = led.deliveries().set_index(S.ENTRY_ID)
    assert d.loc["e00003", "generation"] == 1
    assert d.loc["e00003", "request_id"] == request_id_for(client.target, "e00003", 1)
    assert d.loc["e00000", "fingerprint"] == prepare_batch(more)[S.FINGERPRINT].iloc[0]
    # undoing that run takes back what it created, not what it found
    undone = undo_send(results.attrs["run_id"], client, ledger=tmp_path / "b.sqlite")
    assert sorted(undone[S.ENTRY_ID]) == [f"n{k:05d}" for k in range(5)]
    assert (undone[S.STATUS] == "undone").all() and len(emu.time_activities()) == 12


def test_the_quickbooks_search_can_be_turned_off(emu, client, tmp_path):
    batch = make_batch(4)
    send(batch, client, tmp_path / "a.sqlite")
    requests_before = emu.stats["api_requests"]
    results = send(batch, client, tmp_path / "b.sqlite", check_quickbooks=False)
    assert (results[S.STATUS] == "sent").all()
    assert emu.stats["api_requests"] == requests_before + 1  # the batch request, no search
    assert len(emu.time_activities()) == 8  # the ledger alone decides: sent twice


def test_when_quickbooks_cannot_be_searched_nothing_unknown_is_sent(emu, client, tmp_path):
    batch = make_batch(6)
    ledger = tmp_path / "l.sqlite"
    emu.inject("error", status=503, times=-1, match="query")
    results = send(batch, client, ledger)
    assert (results[S.STATUS] == "failed").all() and (results[S.ERROR_CODE] == "not_checked").all()
    assert results[S.MESSAGE].str.contains("could not be searched for its marker").all()
    assert emu.time_activities().empty
    with Ledger(ledger) as led:
        assert led.deliveries().empty  # nothing recorded: the next run searches again
    emu.clear_faults()
    assert (send(batch, client, ledger)[S.STATUS] == "sent").all()
    assert len(emu.time_activities()) == 6


# ------------------------------------------------------------------ dry run
def test_dry_run_says_per_entry_what_a_send_would_do(emu, client, tmp_path):
    ledger = tmp_path / "l.sqlite"
    batch = make_batch(8).assign(**{S.FINGERPRINT: [f"fp{k}" for k in range(8)]})
    batch.loc[2, S.EMPLOYEE_ID] = INACTIVE_EMPLOYEE
    sent = send(batch.iloc[:4], client, ledger)  # 0, 1, 3 sent; 2 refused
    send(batch.iloc[[4]], client, tmp_path / "other.sqlite")  # 4 sent through another ledger
    batch.loc[1, S.FINGERPRINT] = "fp1-edited"
    rid = request_id_for(client.target, "e00005")
    with Ledger(ledger) as led:  # 5 left open by an interrupted send
        led.record_intent(client.target, [{"entry_id": "e00005", "request_id": rid}])
    ledger_before = ledger_bytes(ledger)
    tas_before = len(emu.time_activities())

    plan = send(batch, client, ledger, dry_run=True).set_index(S.ENTRY_ID)
    assert ledger_bytes(ledger) == ledger_before and len(emu.time_activities()) == tas_before
    skip, send_ = "skipped", "would_send"
    assert plan[S.STATUS].tolist() == [skip, skip, send_, skip, skip, send_, send_, send_]
    assert plan.loc["e00000", S.QBO_ID] == sent[S.QBO_ID].iloc[0]
    assert plan.loc["e00000", S.MESSAGE].startswith("already sent as TimeActivity")
    assert plan.loc["e00001", S.ERROR_CODE] == "changed_since_sent"
    assert "fix it in QuickBooks" in plan.loc["e00001", S.MESSAGE]
    assert plan.loc["e00002", S.MESSAGE].startswith("would be sent again under a new request id")
    assert "610" in plan.loc["e00002", S.MESSAGE]
    assert plan.loc["e00002", "marker"] == marker_for(request_id_for(client.target, "e00002", 1))
    assert plan.loc["e00004", S.MESSAGE] == FOUND_MESSAGE
    assert plan.loc["e00004", S.QBO_ID] in set(emu.time_activities()["qbo_id"])
    assert plan.loc["e00005", "action"] == "check, then create"
    assert "interrupted send" in plan.loc["e00005", S.MESSAGE]
    assert plan.loc["e00006", S.MESSAGE].startswith("would be sent (its marker is not in")
    skipped = plan[plan[S.STATUS] == "skipped"]
    assert skipped[["request_id", "marker", "chunk", "payload"]].isna().all().all()
    assert (skipped["action"] == "skip").all()
    todo = plan[plan[S.STATUS] == "would_send"]
    assert todo[S.QBO_ID].isna().all()
    # the entry left open goes first, in a request of its own: it is looked up before sending
    assert todo["chunk"].tolist() == [2, 1, 2, 2]
    assert todo[S.MESSAGE].str.endswith(("batch request 1 of 2", "batch request 2 of 2")).all()
    for payload, marker in zip(todo["payload"], todo["marker"], strict=True):
        assert json.loads(payload)["Description"].endswith(" " + marker)

    # without the search, the entry another ledger sent looks unsent, and the plan says so
    blind = send(batch, client, ledger, dry_run=True, check_quickbooks=False)
    blind = blind.set_index(S.ENTRY_ID)
    assert blind.loc["e00004", S.STATUS] == "would_send"
    assert "QuickBooks not searched" in blind.loc["e00004", S.MESSAGE]

    # what the plan said is what the send does
    results = send(batch, client, ledger).set_index(S.ENTRY_ID)
    assert (results[S.STATUS] == "skipped").tolist() == (plan[S.STATUS] == "skipped").tolist()
    assert results.loc["e00002", S.STATUS] == "failed"  # tried, and refused again (inactive)
    assert len(emu.time_activities()) == tas_before + 3


def test_a_second_sender_on_the_same_company_is_refused(client, tmp_path):
    ledger = tmp_path / "l.sqlite"
    with (
        Ledger(ledger) as holder,
        holder.exclusive(client.target),
        pytest.raises(LedgerError, match="another qbrecon process"),
    ):
        send(make_batch(2), client, ledger)


# ------------------------------------------------------------------ undo
def test_undo_deletes_what_a_send_created_and_allows_sending_again(emu, client, tmp_path):
    ledger = tmp_path / "l.sqlite"
    first = send(make_batch(35), client, ledger)
    second = send(make_batch(5, prefix="z"), client, ledger)
    assert len(emu.time_activities()) == 40

    # someone edited one in QuickBooks (SyncToken moved on), and deleted another
    edited, gone = first[S.QBO_ID].iloc[0], first[S.QBO_ID].iloc[1]
    rec = client.read("TimeActivity", edited)
    client.request_json(
        "POST",
        "timeactivity",
        body={"Id": edited, "SyncToken": rec["SyncToken"], "sparse": True, "Hours": 3},
    )
    rec = client.read("TimeActivity", gone)
    client.delete("TimeActivity", gone, rec["SyncToken"])

    plan = undo_send(first.attrs["run_id"], client, ledger=ledger, dry_run=True)
    assert (plan[S.STATUS] == "delete").sum() == 35 and len(emu.time_activities()) == 39

    undone = undo_send(first.attrs["run_id"], client, ledger=ledger, retry=QUICK_RETRY)
    assert (undone[S.STATUS] == "undone").all()
    assert "already gone" in undone.set_index(S.QBO_ID).loc[gone, S.MESSAGE]
    left = emu.time_activities()
    assert len(left) == 5 and set(left["qbo_id"]) == set(second[S.QBO_ID])
    with Ledger(ledger) as led:
        d = led.deliveries(run_id=first.attrs["run_id"])
        assert (d["state"] == "undone").all() and (d["generation"] == 1).all()
        assert led.runs(kind="undo")["status"].tolist() == ["finished"]

    again = undo_send(first.attrs["run_id"], client, ledger=ledger)  # idempotent
    assert (again[S.STATUS] == "skipped").all()

    resent = send(make_batch(35), client, ledger)  # undone entries can be sent again
    assert (resent[S.STATUS] == "sent").all()
    assert not set(resent[S.QBO_ID]) & set(first[S.QBO_ID])
    assert len(emu.time_activities()) == 40 and not markers_in(emu).duplicated().any()

    last = undo_send("last", client, ledger=ledger)
    assert (last[S.STATUS] == "undone").all() and len(emu.time_activities()) == 5


def test_undo_of_an_interrupted_run_deletes_what_arrived_and_cancels_the_rest(
    emu, client, tmp_path
):
    ledger = tmp_path / "l.sqlite"
    b = prepare_batch(make_batch(6))
    target = client.target
    rids = pd.Series([request_id_for(target, e) for e in b[S.ENTRY_ID]])
    payloads = build_payloads(b, rids)
    with Ledger(ledger) as led:  # a send that was killed after its intent was committed
        run = led.start_run(target=target, kind="send")
        led.record_intent(
            target,
            [
                {
                    "entry_id": e,
                    "request_id": r,
                    "payload": {
                        "requestid": "qbrb" + "1" * 32,
                        "bId": f"b{i}",
                        "size": 6,
                        "TimeActivity": p,
                    },
                }
                for i, (e, r, p) in enumerate(zip(b[S.ENTRY_ID], rids, payloads, strict=True))
            ],
            run_id=run,
        )
    for p in payloads[:2]:  # QuickBooks had created two of them
        client.create("TimeActivity", p)
    undone = undo_send(run, client, ledger=ledger).set_index(S.ENTRY_ID)
    assert (undone[S.STATUS] == "undone").all()
    assert undone[S.MESSAGE].str.contains("cancelled").sum() == 4
    assert emu.time_activities().empty
    # a later send of another batch does not finish the cancelled entries
    other = send(make_batch(2, prefix="x"), client, ledger)
    assert (other[S.STATUS] == "sent").all() and len(emu.time_activities()) == 2
    with Ledger(ledger) as led:
        d = led.deliveries(run_id=run)
    assert (d["state"] == "undone").all()


def test_undo_refuses_unknown_runs(client, tmp_path):
    ledger = tmp_path / "l.sqlite"
    send(make_batch(2), client, ledger)
    with pytest.raises(SettingsError, match="no send run"):
        undo_send("send-nope", client, ledger=ledger)
    with Ledger(ledger) as led:
        other = led.start_run(target="qbo:1", kind="send")
    with pytest.raises(SettingsError, match="not to"):
        undo_send(other, client, ledger=ledger)


# ------------------------------------------------------------------ input checks
@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        (S.EMPLOYEE_ID, "", "no QuickBooks employee"),
        (S.MINUTES, 75, "minutes must be 0 to 59"),
        (S.HOURS, -1, "hours cannot be negative"),
        (S.HOURS, 30, "24 hours or more"),
        (S.HOURS, 24, "24 hours or more"),
        (S.HOURS, 9000, "24 hours or more"),
        (S.MINUTES, 60, "minutes must be 0 to 59"),
        (S.MINUTES, -1, "minutes must be 0 to 59"),
        (S.BILLABLE_STATUS, "HasBeenBilled", "Billable or NotBillable"),
        (S.CUSTOMER_ID, "", "billable entry needs a customer"),
        (S.HOURLY_RATE, float("nan"), "needs an hourly rate"),
        (S.DESCRIPTION, "x" * 3990, "longer than"),
        (S.ENTRY_ID, "e00000", "occurs more than once"),
        (S.NAME_OF, "Other", "Employee or Vendor"),
    ],
)
def test_bad_batches_are_refused_before_anything_is_sent(
    client, emu, tmp_path, column, value, expected
):
    batch = make_batch(3)
    batch[S.NAME_OF] = "Employee"
    batch.loc[1, column] = value
    if column in (S.CUSTOMER_ID, S.HOURLY_RATE):
        batch.loc[1, S.BILLABLE_STATUS] = "Billable"
    with pytest.raises(InputError, match=expected) as info:
        send(batch, client, tmp_path / "l.sqlite")
    assert info.value.problems[0].column == column
    assert emu.stats["api_requests"] == 0


def test_every_problem_is_listed_at_once(client, tmp_path):
    batch = make_batch(4)
    batch.loc[0, S.MINUTES] = 61
    batch.loc[2, S.EMPLOYEE_ID] = ""
    batch.loc[3, S.HOURS] = 0
    batch.loc[3, S.MINUTES] = 0
    with pytest.raises(InputError) as info:
        prepare_batch(batch, file="batch.csv")
    assert [(p.row, p.column) for p in info.value.problems] == [
        (2, S.MINUTES),
        (4, S.EMPLOYEE_ID),
        (5, S.HOURS),
    ]
    assert "batch.csv" in str(info.value)


def test_entries_of_a_day_or_more_are_refused_every_row_listed(client, emu, tmp_path):
    # a hand-edited batch: validation's 23:55 limit no longer guards it
    batch = make_batch(6)
    edits = {0: (30, 0), 1: (23, 59), 2: (24, 0), 3: (5, 60), 4: (-2, 10)}
    for row, (hours, minutes) in edits.items():
        batch.loc[row, [S.HOURS, S.MINUTES]] = [hours, minutes]
    with pytest.raises(InputError, match="nothing was sent") as info:
        send(batch, client, tmp_path / "l.sqlite")
    assert [(p.row, p.column, p.value) for p in info.value.problems] == [
        (1, S.HOURS, 30),
        (3, S.HOURS, 24),
        (4, S.MINUTES, 60),
        (5, S.HOURS, -2),
    ]
    assert "24 hours or more" in info.value.problems[0].message
    assert emu.stats["api_requests"] == 0
    # the longest entry QuickBooks takes is sent as it is
    longest = batch.iloc[[1]].reset_index(drop=True)
    assert prepare_batch(longest)[[S.HOURS, S.MINUTES]].iloc[0].tolist() == [23, 59]


def test_missing_columns_are_named():
    with pytest.raises(InputError, match="hours"):
        prepare_batch(make_batch(2).drop(columns=[S.HOURS]))


# ------------------------------------------------------------------ properties
@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 23),
            st.integers(0, 59),
            st.booleans(),
            st.text(max_size=300),
            st.sampled_from(["Employee", "Vendor"]),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_payloads_keep_every_value_and_end_with_the_marker(rows):
    rows = [r if r[0] or r[1] else (r[0], 1, *r[2:]) for r in rows]
    n = len(rows)
    batch = make_batch(n)
    batch[S.HOURS] = [r[0] for r in rows]
    batch[S.MINUTES] = [r[1] for r in rows]
    batch[S.BILLABLE_STATUS] = ["Billable" if r[2] else "NotBillable" for r in rows]
    batch[S.DESCRIPTION] = pd.array([r[3] for r in rows], dtype="string")
    batch[S.NAME_OF] = [r[4] for r in rows]
    b = prepare_batch(batch)
    rids = pd.Series([request_id_for("qbo:1", e) for e in b[S.ENTRY_ID]])
    payloads = build_payloads(b, rids)
    for p, r, rid in zip(payloads, rows, rids, strict=True):
        assert (p["Hours"], p["Minutes"]) == (r[0], r[1])
        assert p["BillableStatus"] == ("Billable" if r[2] else "NotBillable")
        assert p["NameOf"] == r[4] and f"{r[4]}Ref" in p
        assert p["Description"].endswith(marker_for(rid))
        assert p["Description"].startswith(r[3].strip())
        assert len(p["Description"]) <= 4000
        assert json.loads(json.dumps(p)) == p  # plain JSON types only


# ------------------------------------------------------------------ create missing
def test_create_missing_lists_first_then_creates_once(emu, client, tmp_path):
    from qbrecon.qbo.send import create_missing

    ledger = tmp_path / "l.sqlite"
    proposals = pd.DataFrame(
        {
            "kind": [
                "customer",
                "customer",
                "customer",
                "employee",
                "employee",
                "employee",
                "customer",
            ],
            "name": [
                "Dock 4",
                "Harbor Works",
                "Phase 3",
                "Ada Park",
                "Nguyen Consulting",
                "Emily Platt",
                "Orphan Job",
            ],
            "parent_full_name": [
                "Harbor Works",
                "",
                "Freeman Sporting Goods:0969 Ocean View Road",
                "",
                "",
                "",
                "Nobody",
            ],
            "qb_type": ["", "", "", "", "Employee", "", ""],
            "email": ["", "", "", "ada@example.com", "", "", ""],
        }
    )
    plan = create_missing(proposals, client, ledger=ledger, dry_run=True).set_index(S.FULL_NAME)
    assert not ledger.exists() and len(emu.records("Customer")) == 8
    assert plan.loc["Harbor Works", S.STATUS] == "would_create"
    assert plan.loc["Harbor Works:Dock 4", S.STATUS] == "would_create"  # its parent is proposed too
    assert (
        plan.loc["Emily Platt", S.STATUS] == "exists" and plan.loc["Emily Platt", S.QB_ID] == "55"
    )
    assert plan.loc["Nguyen Consulting", S.STATUS] == "failed"  # a vendor holds that name
    assert plan.loc["Nobody:Orphan Job", S.STATUS] == "failed"
    assert json.loads(plan.loc["Ada Park", "payload"]) == {
        "DisplayName": "Ada Park",
        "GivenName": "Ada",
        "FamilyName": "Park",
        "PrimaryEmailAddr": {"Address": "ada@example.com"},
    }

    done = create_missing(proposals, client, ledger=ledger).set_index(S.FULL_NAME)
    assert (
        done.loc[["Harbor Works", "Harbor Works:Dock 4", "Ada Park"], S.STATUS] == "created"
    ).all()
    created = {r["FullyQualifiedName"]: r for r in emu.records("Customer")}
    dock = created["Harbor Works:Dock 4"]
    assert dock["ParentRef"]["value"] == done.loc["Harbor Works", S.QB_ID] and dock["Level"] == 1
    deep = created["Freeman Sporting Goods:0969 Ocean View Road:Phase 3"]
    assert deep["Level"] == 2

    again = create_missing(proposals, client, ledger=ledger).set_index(S.FULL_NAME)
    assert (
        again.loc[["Harbor Works", "Harbor Works:Dock 4", "Ada Park"], S.STATUS] == "exists"
    ).all()
    assert len(emu.records("Customer")) == 11 and len(emu.records("Employee")) == 6


def test_create_missing_refuses_bad_proposals(client, tmp_path):
    from qbrecon.qbo.send import create_missing

    bad = pd.DataFrame({"kind": ["customer", "robot", "employee"], "name": ["A:B", "X", ""]})
    with pytest.raises(InputError) as info:
        create_missing(bad, client, ledger=tmp_path / "l.sqlite", dry_run=True)
    assert {(p.row, p.column) for p in info.value.problems} == {
        (2, "name"),
        (3, "kind"),
        (4, "name"),
    }


def test_create_missing_takes_what_matching_proposes(tmp_path):
    import qbrecon
    from qbrecon.qbo.send import create_missing
    from qbrecon.samples import samples_dir

    samples = samples_dir()
    entries = qbrecon.read_time_entries([*samples.glob("clockify/*"), *samples.glob("toggl/*")])
    lists = qbrecon.read_qb_lists(samples / "qbo")
    proposals = qbrecon.propose_new_records(qbrecon.suggest_matches(entries, lists))
    assert len(proposals)
    with (
        QBOEmulator(seed=samples / "qbo", limits=FAST_LIMITS) as emu,
        emu.connect(tmp_path / "t.json") as client,
    ):
        done = create_missing(proposals, client, ledger=tmp_path / "l.sqlite")
        assert (done[S.STATUS] == "created").all(), done
        after = qbrecon.fetch_qb_lists(client)
    names = set(after.customers[S.FULL_NAME]) | set(after.employees[S.NAME])
    assert set(done[S.FULL_NAME]) <= names
