"""The foundation pieces: errors, ids, schema conformance, the ledger."""

import os
import sqlite3
import subprocess
import sys

import pandas as pd
import pytest

from qbrecon import schema as S
from qbrecon.errors import InputError, LedgerError, Problem, QbreconError
from qbrecon.ids import entry_fingerprints, make_entry_ids
from qbrecon.ledger import Ledger, request_id_for


def test_input_error_lists_every_problem_with_row_and_column():
    err = InputError(
        "bad dates",
        file="x.csv",
        problems=[Problem("not a date", row=r, column="Start Date", value="99/99") for r in range(2, 60)],
    )
    text = str(err)
    assert text.startswith("x.csv: bad dates")
    assert "row 2, column 'Start Date': not a date (got '99/99')" in text
    assert "... and 8 more" in text
    assert err.rows[:3] == [2, 3, 4]
    assert len(err.problems_frame()) == 58
    assert isinstance(err, QbreconError)


def test_entry_ids_are_stable_and_unique_for_duplicates():
    keys = pd.Series(["a|1", "b|2", "a|1", "a|1"])
    ids = make_entry_ids("clockify", keys)
    assert ids.is_unique
    assert ids.iloc[0] == make_entry_ids("clockify", pd.Series(["a|1"])).iloc[0]
    assert ids.iloc[0].startswith("clockify-") and len(ids.iloc[0]) == len("clockify-") + 16
    # a duplicate never changes the id of the original
    assert make_entry_ids("clockify", keys.iloc[:2]).tolist() == ids.iloc[:2].tolist()


def test_fingerprint_changes_when_content_changes():
    e = S.empty_frame(S.ENTRY_DTYPES)
    e = pd.concat([e, pd.DataFrame({
        S.ENTRY_ID: ["a"], S.SOURCE: ["clockify"], S.ROW: [2], S.USER: ["Ada"], S.EMAIL: [""],
        S.CLIENT: [""], S.PROJECT: ["P"], S.TASK: [""], S.DESCRIPTION: ["x"], S.TAGS: [""],
        S.DATE: [pd.Timestamp("2026-11-02")], S.START: [pd.NaT], S.END: [pd.NaT],
        S.DURATION: [pd.Timedelta(minutes=30)], S.BILLABLE: [True], S.BILLABLE_RATE: [float("nan")],
        S.APPROVED: [pd.NA]})], ignore_index=True)
    e = S.conform(e, S.ENTRY_DTYPES, what="entries")
    f1 = entry_fingerprints(e).iloc[0]
    e2 = e.copy()
    e2[S.DESCRIPTION] = pd.array(["y"], dtype="string")
    assert entry_fingerprints(e2).iloc[0] != f1
    assert entry_fingerprints(e.copy()).iloc[0] == f1


def test_conform_names_missing_columns():
    with pytest.raises(InputError) as info:
        S.conform(pd.DataFrame({"entry_id": ["a"]}), S.BATCH_DTYPES, what="batch")
    assert "txn_date" in str(info.value)


def test_ledger_intent_then_outcome_survives_reopen(tmp_path):
    path = tmp_path / "sub" / "ledger.sqlite"
    with Ledger(path) as led:
        run = led.start_run(target="qbo:1", kind="send")
        rid = request_id_for("qbo:1", "e1")
        assert len(rid) <= 36 and rid == request_id_for("qbo:1", "e1")
        assert rid != request_id_for("qbo:1", "e1", 1)
        led.record_intent("qbo:1", [{"entry_id": "e1", "request_id": rid, "fingerprint": "f"}], run_id=run)
        assert led.deliveries().state.tolist() == ["pending"]
    with Ledger(path) as led:  # reopened: the intent was committed
        led.record_outcomes("qbo:1", [{"entry_id": "e1", "state": "sent", "external_id": "71"}])
        d = led.deliveries(entry_ids=["e1", "zz"])
        assert d.state.tolist() == ["sent"] and d.external_id.tolist() == ["71"]
        assert led.sent_status()["entry_id"].tolist() == ["e1"]
        led.record_outcomes("qbo:1", [{"entry_id": "e1", "state": "undone"}])
        assert led.deliveries().generation.tolist() == [1]
        assert led.sent_status().empty
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_ledger_refuses_foreign_sqlite(tmp_path):
    path = tmp_path / "other.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    con.execute("INSERT INTO meta VALUES ('application', 'something else')")
    con.commit()
    con.close()
    with pytest.raises(LedgerError):
        Ledger(path)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(LedgerError):
        Ledger(junk)


def test_ledger_lock_is_exclusive_and_stale_locks_are_taken_over(tmp_path):
    path = tmp_path / "l.sqlite"
    led = Ledger(path)
    # a lock held by a process that is gone is taken over
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    led._conn.execute(
        "INSERT INTO locks VALUES ('qbo:1', 'x', ?, ?, 'then')", (os.uname().nodename, dead.pid)
    )
    with led.exclusive("qbo:1"):
        other = Ledger(path)
        with pytest.raises(LedgerError, match="another qbrecon process"), other.exclusive("qbo:1"):
            pass
        # our own pid counts as alive too: a second lock in the same process is refused
        other.close()
    with led.exclusive("qbo:1"):  # released after the block
        pass
    assert led.log_frame().event.tolist().count("run_started") == 0
