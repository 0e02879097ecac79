"""QuickBooks Desktop never gets the same time twice: one company file reached through
several queues ("" and its path), a new or mistyped ledger, and read-only commands on a
ledger that does not exist. Real HTTP on 127.0.0.1, a scripted Web Connector, a fake
QuickBooks, real SQLite ledgers."""

from __future__ import annotations

import collections
import doctest
import subprocess
import sys

import pytest
from wchelpers import batch, make_app, served

from qbrecon import InputError
from qbrecon.ledger import Ledger, request_id_for
from qbrecon.qbd import (
    desktop_status,
    export_staged,
    queue_for_desktop,
    request_list_staging,
    staged_lists,
    staging_info,
)
from qbrecon.qbd.emulator import FakeQuickBooks, WebConnectorClient
from qbrecon.qbd.queue import payload_json

BOOKS = r"C:\Books\Acme.qbw"
GLOBEX = r"C:\Books\Globex.qbw"
UNBOUND = {"qbwc": "pw-123456"}


def rows(n: int = 4, prefix: str = "e") -> list[dict]:
    return [{"id": f"{prefix}{i}", "date": f"2026-11-0{1 + i % 4}"} for i in range(n)]


def run_updates(url: str, qb: FakeQuickBooks, user: str = "qbwc", password: str = "pw-123456",
                limit: int = 8) -> list:
    wc = WebConnectorClient(url, qb=qb, user=user, password=password)
    done = []
    for _ in range(limit):
        res = wc.update()
        done.append(res)
        if res.auth == "none":
            break
    return done


def guid_counts(qb: FakeQuickBooks) -> collections.Counter:
    return collections.Counter(t.get("ExternalGUID") for t in qb.time_entries)


def deliveries(ledger):
    with Ledger(ledger) as led:
        return led.deliveries()


def log_of(ledger):
    with Ledger(ledger) as led:
        return led.log_frame()


# ------------------------------------------------ one company file, two queues
@pytest.mark.parametrize(("first", "second"), [
    ("", BOOKS),
    (BOOKS, ""),
    ("", "  c:/books/ACME.QBW "),  # the way Windows compares paths: case, / and spaces
])
def test_queued_for_the_open_file_and_for_its_path_is_entered_once(tmp_path, first, second):
    ledger = tmp_path / "l.sqlite"
    b = batch(rows())
    assert (queue_for_desktop(b, ledger=ledger, company_file=first).status == "queued").all()
    again = queue_for_desktop(b, ledger=ledger, company_file=second)
    assert (again.status == "skipped").all() and (again.state == "queued").all()
    assert again.message.str.contains("already queued for QuickBooks Desktop").all()
    assert again.message.str.contains("may be the same company file").all()
    qb = FakeQuickBooks.small(company_file=BOOKS)
    with served(make_app(ledger, UNBOUND)) as url:
        run_updates(url, qb)
    assert len(qb.time_entries) == 4 and max(guid_counts(qb).values()) == 1
    d = deliveries(ledger)
    assert len(d) == 4 and set(d.state) == {"sent"}


def test_sent_through_the_open_file_is_not_queued_for_its_path_but_for_another_file(tmp_path):
    """Once delivered through "", the file it went into is known: queueing for that file's
    path is skipped (naming the TxnID), queueing for another company file goes ahead."""
    ledger = tmp_path / "l.sqlite"
    queue_for_desktop(batch(rows(2)), ledger=ledger)
    qb = FakeQuickBooks.small(company_file=BOOKS)
    with served(make_app(ledger, UNBOUND)) as url:
        run_updates(url, qb)
    assert len(qb.time_entries) == 2
    same = queue_for_desktop(batch(rows(2)), ledger=ledger, company_file=BOOKS.upper())
    assert (same.status == "skipped").all() and (same.state == "sent").all()
    assert same.message.str.contains(r"already sent to C:\Books\Acme.qbw as TxnID", regex=False).all()
    assert same.message.str.contains("the same company file").all()
    other = queue_for_desktop(batch(rows(2)), ledger=ledger, company_file=GLOBEX)
    assert (other.status == "queued").all()
    qb_globex = FakeQuickBooks.small(company_file=GLOBEX)
    with served(make_app(ledger, {"g": {"password": "pw-globex", "company_file": GLOBEX}})) as url:
        run_updates(url, qb_globex, user="g", password="pw-globex")
    assert len(qb_globex.time_entries) == 2 and len(qb.time_entries) == 2


def test_two_named_company_files_each_get_the_entries(tmp_path):
    ledger = tmp_path / "l.sqlite"
    for path in (BOOKS, GLOBEX):
        assert (queue_for_desktop(batch(rows(3)), ledger=ledger,
                                  company_file=path).status == "queued").all()
    held = queue_for_desktop(batch(rows(3)), ledger=ledger)  # "" may be either of them
    assert (held.status == "skipped").all()
    qbs = {p: FakeQuickBooks.small(company_file=p) for p in (BOOKS, GLOBEX)}
    users = {"a": {"password": "pw-acme-1", "company_file": BOOKS},
             "g": {"password": "pw-globex", "company_file": GLOBEX}}
    with served(make_app(ledger, users)) as url:
        run_updates(url, qbs[BOOKS], user="a", password="pw-acme-1")
        run_updates(url, qbs[GLOBEX], user="g", password="pw-globex")
    assert [len(q.time_entries) for q in qbs.values()] == [3, 3]


@pytest.mark.parametrize("check", [False, True])
@pytest.mark.parametrize("order", ["open file first", "path first"])
def test_queued_twice_in_an_older_ledger_is_delivered_once(tmp_path, order, check):
    """Entries queued for both "" and the path (as an earlier qbrecon allowed): the update
    that learns the open file skips what the other queue already sent there, and records
    it sent with that TxnID (from the ledger; with the search on, QuickBooks' own records
    find them first)."""
    ledger = tmp_path / "l.sqlite"
    b = batch(rows(3))
    with Ledger(ledger) as led:
        for target in ("qbd:", "qbd:" + BOOKS):
            led.record_queued(target, [
                {"entry_id": e, "request_id": request_id_for(target, e), "generation": 0,
                 "payload": p} for e, p in zip(b.entry_id, payload_json(b), strict=True)])
    qb = FakeQuickBooks.small(company_file=BOOKS)
    users = ({"o": {"password": "pw-open-1"}} if order == "open file first" else
             {"o": {"password": "pw-open-1", "company_file": BOOKS}})
    other = ({"n": {"password": "pw-named1", "company_file": BOOKS}}
             if order == "open file first" else {"n": {"password": "pw-named1"}})
    # the test syncs happen in the updates' first sessions; turn them off to keep it short
    with served(make_app(ledger, {**users, **other}, test_sync=False,
                         check_quickbooks=check)) as url:
        first = run_updates(url, qb, user="o", password="pw-open-1", limit=1)
        assert first[0].company_file == BOOKS and "3 sent" in first[0].close
        assert len(qb.time_entries) == 3
        second = run_updates(url, qb, user="n", password="pw-named1", limit=2)
    assert len(qb.time_entries) == 3 and max(guid_counts(qb).values()) == 1
    why = "already in QuickBooks" if check else "already sent through another queue"
    assert f"0 sent, 0 refused, 3 {why}" in second[0].close
    d = deliveries(ledger)
    assert len(d) == 6 and set(d.state) == {"sent"}
    # both targets name the same TxnID for each entry
    assert (d.groupby("entry_id").external_id.nunique() == 1).all()
    log = log_of(ledger)
    assert (log.event == ("found" if check else "already_sent")).sum() == 3


# ------------------------------------------------------- a new or mistyped ledger
@pytest.mark.parametrize("version", [(13, 0), (8, 0)])  # 8.0: no ExternalGUID, Notes marker
def test_a_new_ledger_finds_what_quickbooks_already_holds(tmp_path, version):
    qb = FakeQuickBooks.small(max_version=version)
    first, second = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    queue_for_desktop(batch(rows(4)), ledger=first)
    with served(make_app(first, UNBOUND, test_sync=False)) as url:
        run_updates(url, qb)
    assert len(qb.time_entries) == 4
    txns = dict(zip(deliveries(first).entry_id, deliveries(first).external_id, strict=True))
    # the same 4 and 2 new ones, queued in a fresh ledger
    queue_for_desktop(batch(rows(4) + rows(2, prefix="new")), ledger=second)
    with served(make_app(second, UNBOUND, test_sync=False)) as url:
        res = run_updates(url, qb)
    assert len(qb.time_entries) == 6
    assert len({t["Notes"] for t in qb.time_entries}) == 6  # each entry's marker once
    assert "2 sent" in res[0].close and "4 already in QuickBooks" in res[0].close
    d = deliveries(second).set_index("entry_id")
    assert set(d.state) == {"sent"}
    assert all(d.loc[e, "external_id"] == t for e, t in txns.items())
    assert d.loc["e0", "message"].startswith("already in QuickBooks")
    log = log_of(second)
    assert sorted(log.loc[log.event == "found", "entry_id"]) == sorted(txns)
    # one search, over the dates of the entries the ledger had no record of
    queries = [r for r in qb.requests if "TimeTrackingQueryRq" in r]
    assert len(queries) == 2  # one per ledger, before its first delivery
    assert "<FromTxnDate>2026-11-01</FromTxnDate>" in queries[-1]
    assert "<ToTxnDate>2026-11-04</ToTxnDate>" in queries[-1]


def test_a_later_generation_sent_from_another_ledger_is_found(tmp_path):
    """Another ledger refused the first attempt and sent the entry's second generation."""
    qb = FakeQuickBooks.small()
    first, second = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    queue_for_desktop(batch(rows(1)), ledger=first)
    with Ledger(first) as led:
        led.record_outcomes("qbd:", [{"entry_id": "e0", "state": "failed", "error_code": "3140"}])
    queue_for_desktop(batch(rows(1)), ledger=first)  # generation 1
    with served(make_app(first, UNBOUND, test_sync=False)) as url:
        run_updates(url, qb)
    queue_for_desktop(batch(rows(1)), ledger=second)  # generation 0 here
    with served(make_app(second, UNBOUND, test_sync=False)) as url:
        run_updates(url, qb)
    assert len(qb.time_entries) == 1
    assert deliveries(second).state.tolist() == ["sent"]


def test_without_the_search_a_new_ledger_delivers_again(tmp_path):
    """check_quickbooks=False: the search is what keeps the second ledger from sending."""
    qb = FakeQuickBooks.small()
    for name in ("a", "b"):
        ledger = tmp_path / f"{name}.sqlite"
        queue_for_desktop(batch(rows(2)), ledger=ledger)
        with served(make_app(ledger, UNBOUND, test_sync=False, check_quickbooks=False)) as url:
            run_updates(url, qb)
    assert len(qb.time_entries) == 4
    assert not any("TimeTrackingQueryRq" in r for r in qb.requests)


class FailingSearch(FakeQuickBooks):
    """QuickBooks answers the first TimeTracking queries with an error."""

    fail_queries: int = 1

    def _query_time(self, rq, rs, rid):
        if self.fail_queries > 0:
            self.fail_queries -= 1
            return self._status(rs, rid, 3250, "Error", "This feature is not enabled") + f"</{rs}>"
        return super()._query_time(rq, rs, rid)


def test_entries_that_could_not_be_looked_for_wait_for_the_next_update(tmp_path):
    ledger = tmp_path / "l.sqlite"
    qb = FailingSearch.small()
    queue_for_desktop(batch(rows(3)), ledger=ledger)
    with served(make_app(ledger, UNBOUND, test_sync=False)) as url:
        wc = WebConnectorClient(url, qb=qb, user="qbwc", password="pw-123456")
        first = wc.update()
        assert first.completed and qb.time_entries == []
        assert "3 held back" in first.close
        assert set(deliveries(ledger).state) == {"queued"}
        second = wc.update()
    assert second.completed and "3 sent" in second.close and len(qb.time_entries) == 3
    log = log_of(ledger)
    assert (log.event == "not_checked").sum() == 1


def test_entries_queued_during_an_update_are_looked_for_before_they_go(tmp_path):
    ledger = tmp_path / "l.sqlite"
    qb = FakeQuickBooks.small()
    queue_for_desktop(batch(rows(2)), ledger=ledger)

    def queue_more(n, req):  # while the first add is in QuickBooks' hands
        if "TimeTrackingAddRq" in req and not (tmp_path / "done").exists():
            (tmp_path / "done").write_text("")
            queue_for_desktop(batch(rows(2, prefix="late")), ledger=ledger)
        return False

    with served(make_app(ledger, UNBOUND, test_sync=False, chunk_size=1)) as url:
        wc = WebConnectorClient(url, qb=qb, user="qbwc", password="pw-123456")
        first = wc.update(lose_response_when=queue_more)
        assert first.completed and len(qb.time_entries) == 2
        assert "2 held back" in first.close
        second = wc.update()
    assert second.completed and len(qb.time_entries) == 4
    queries = [r for r in qb.requests if "TimeTrackingQueryRq" in r]
    assert len(queries) == 2 and "<ToTxnDate>2026-11-02</ToTxnDate>" in queries[1]


# -------------------------------------------------- reading a ledger never creates it
@pytest.mark.parametrize("read", [
    desktop_status, staging_info, staged_lists, request_list_staging,
    lambda p: export_staged(p, p.parent / "out"),
])
def test_read_only_calls_refuse_a_missing_ledger_without_creating_it(tmp_path, read):
    path = tmp_path / "typo.sqlite"
    with pytest.raises(InputError, match="ledger not found") as info:
        read(path)
    assert info.value.file == str(path) and not path.exists()


@pytest.mark.parametrize("args", [["status"], ["lists"], ["lists", "--refresh"]])
def test_webconnector_read_commands_exit_2_on_a_missing_ledger(tmp_path, args):
    path = tmp_path / "typo.sqlite"
    p = subprocess.run([sys.executable, "-m", "qbrecon", "webconnector", *args, "--ledger",
                        str(path)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert "ledger not found" in p.stderr and "Traceback" not in p.stderr
    assert not path.exists()


def test_status_of_an_existing_ledger_still_works(tmp_path):
    ledger = tmp_path / "l.sqlite"
    queue_for_desktop(batch(rows(2)), ledger=ledger, company_file=BOOKS)
    status = desktop_status(ledger)
    assert status.company_file.tolist() == [BOOKS] and status.queued.tolist() == [2]


@pytest.mark.parametrize("module", ["qbrecon.qbd.queue", "qbrecon.qbd.staging"])
def test_docstring_examples(module):
    import importlib

    result = doctest.testmod(importlib.import_module(module),
                             optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0
