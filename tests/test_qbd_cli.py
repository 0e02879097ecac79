"""`qbrecon queue`, `qbrecon qwc`, `qbrecon webconnector` and `qbrecon log`, run in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest
from wchelpers import batch

from qbrecon.ledger import Ledger
from qbrecon.qbd.emulator import FakeQuickBooks, WebConnectorClient


def run(*args: str, cwd: Path | None = None, stdin: str | None = None,
        env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qbrecon", *args], capture_output=True, text=True,
                          cwd=cwd, input=stdin, timeout=120, env=env)


def write_batch(path: Path, rows: list[dict]) -> Path:
    b = batch(rows)
    b.to_csv(path, index=False)
    return path


def test_queue_then_queue_again(tmp_path):
    csv = write_batch(tmp_path / "batch.csv", [{"id": "a"}, {"id": "b", "note": "=SUM(A1)"}])
    first = run("queue", str(csv), "--ledger", str(tmp_path / "l.sqlite"),
                "--company-file", "C:\\QB\\Acme.qbw")
    assert first.returncode == 0, first.stderr
    assert "2 entries queued for C:\\QB\\Acme.qbw, 0 already there" in first.stdout
    again = run("queue", str(csv), "--ledger", str(tmp_path / "l.sqlite"),
                "--company-file", "C:\\QB\\Acme.qbw")
    assert "0 entries queued" in again.stdout and "already queued" in again.stdout
    with Ledger(tmp_path / "l.sqlite") as led:
        d = led.deliveries()
    assert d.state.tolist() == ["queued", "queued"]


def test_queue_bad_batch_exits_2_naming_file_rows_and_columns(tmp_path):
    csv = tmp_path / "batch.csv"
    write_batch(csv, [{"id": "a"}, {"id": "b"}])
    text = csv.read_text().replace("2026-11-02", "someday", 1)
    csv.write_text(text)
    out = run("queue", str(csv), "--ledger", str(tmp_path / "l.sqlite"))
    assert out.returncode == 2
    assert "batch.csv" in out.stderr and "row 2" in out.stderr and "txn_date" in out.stderr
    assert "Traceback" not in out.stderr


def test_qwc_command_writes_a_parseable_file_and_keeps_its_guids(tmp_path):
    users = tmp_path / "users.toml"
    users.write_text("[users.acme]\npassword = 'pw'\ncompany_file = 'C:\\QB\\Acme.qbw'\n")
    users.chmod(0o600)
    args = ["qwc", "--url", "https://qb.example.com/qbwc", "--user", "acme", "--users", str(users),
            "--ledger", str(tmp_path / "l.sqlite")]
    one = run(*args, "--out", str(tmp_path / "acme.qwc"))
    two = run(*args, "--out", str(tmp_path / "copy.qwc"), "--minutes", "0")
    assert one.returncode == 0 and two.returncode == 0, one.stderr + two.stderr
    a = ET.parse(tmp_path / "acme.qwc").getroot()
    b = ET.parse(tmp_path / "copy.qwc").getroot()
    assert a.findtext("AppName") == "qbrecon (Acme)"
    assert a.findtext("OwnerID") == b.findtext("OwnerID") and a.findtext("FileID") == b.findtext("FileID")
    assert a.find("Scheduler") is not None and b.find("Scheduler") is None
    assert "pw" not in (tmp_path / "acme.qwc").read_text().replace("pdp", "")


def test_qwc_without_ledger_uses_the_default_ledger_in_the_current_folder(tmp_path):
    out = run("qwc", "--url", "http://localhost:8080/qbwc", "--user", "u", "--out", "u.qwc",
              cwd=tmp_path, env={k: v for k, v in os.environ.items() if k != "QBRECON_LEDGER"})
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "qbrecon-ledger.sqlite").exists() and (tmp_path / "u.qwc").exists()


def test_qwc_refuses_plain_http_to_a_remote_host(tmp_path):
    out = run("qwc", "--url", "http://qb.example.com/qbwc", "--user", "u",
              "--ledger", str(tmp_path / "l.sqlite"), "--out", str(tmp_path / "u.qwc"))
    assert out.returncode == 2 and "https" in out.stderr and not (tmp_path / "u.qwc").exists()


def test_hash_password_reads_stdin_and_prints_a_verifiable_hash():
    from qbrecon.qbd import verify_password

    out = run("webconnector", "hash-password", "--stdin", stdin="correct horse\n")
    assert out.returncode == 0
    digest = out.stdout.strip()
    assert verify_password(digest, "correct horse") and "correct horse" not in digest


def test_serve_refuses_a_non_loopback_host(tmp_path):
    users = tmp_path / "users.json"
    users.write_text('{"u": {"password": "pw"}}')
    users.chmod(0o600)
    out = run("webconnector", "serve", "--ledger", str(tmp_path / "l.sqlite"), "--users",
              str(users), "--host", "0.0.0.0", "--port", "0")
    assert out.returncode == 2 and "refusing to serve on 0.0.0.0" in out.stderr


@pytest.fixture
def serving(tmp_path):
    users = tmp_path / "users.json"
    users.write_text('{"acme": {"password": "pw"}}')
    users.chmod(0o600)
    proc = subprocess.Popen(
        [sys.executable, "-m", "qbrecon", "webconnector", "serve", "--ledger",
         str(tmp_path / "l.sqlite"), "--users", str(users), "--port", "0", "--no-test-sync"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert "qbrecon Web Connector service at http://127.0.0.1:" in line, proc.stderr.read()
        yield line.split(" at ", 1)[1].split()[0]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_serve_runs_a_whole_update_then_log_shows_it(tmp_path, serving):
    csv = write_batch(tmp_path / "batch.csv", [{"id": "a"}, {"id": "b", "emp": "80000099-1"}])
    assert run("queue", str(csv), "--ledger", str(tmp_path / "l.sqlite")).returncode == 0
    with urllib.request.urlopen(serving + "?wsdl", timeout=30) as resp:
        assert b"sendRequestXML" in resp.read()
    qb = FakeQuickBooks.small()
    res = WebConnectorClient(serving, qb=qb, user="acme", password="pw").update()
    assert res.completed and len(qb.time_entries) == 1
    log = run("log", "--ledger", str(tmp_path / "l.sqlite"), "--desktop", "--limit", "0")
    assert log.returncode == 0
    assert "wc_authenticate" in log.stdout and "refused" in log.stdout and "3140" in log.stdout
    hist = run("log", "--ledger", str(tmp_path / "l.sqlite"), "--deliveries", "--desktop")
    assert hist.returncode == 0 and "sent" in hist.stdout and "failed" in hist.stdout
    out = run("log", "--ledger", str(tmp_path / "l.sqlite"), "--deliveries",
              "--out", str(tmp_path / "history.xlsx"))
    assert out.returncode == 0 and "wrote 2 rows" in out.stdout
    csv = run("log", "--ledger", str(tmp_path / "l.sqlite"), "--desktop", "--limit", "0",
              "--out", str(tmp_path / "log.csv"))
    assert csv.returncode == 0
    logged = pd.read_csv(tmp_path / "log.csv")
    assert "wc_authenticate" in set(logged.event) and "request" not in logged.columns
    runs = run("log", "--ledger", str(tmp_path / "l.sqlite"), "--runs", "--desktop")
    assert "webconnector" in runs.stdout and "queue" in runs.stdout

    back = pd.read_excel(tmp_path / "history.xlsx")
    assert sorted(back.state) == ["failed", "sent"]
    status = run("webconnector", "status", "--ledger", str(tmp_path / "l.sqlite"))
    assert status.returncode == 1 and "QuickBooks Pro 2024" in status.stdout  # one failed entry
    lists = run("webconnector", "lists", "--ledger", str(tmp_path / "l.sqlite"),
                "--out", str(tmp_path / "staged"))
    assert lists.returncode == 0, lists.stderr
    assert "customers" in lists.stdout and (tmp_path / "staged" / "customers.xml").exists()
    from qbrecon import read_qb_lists

    assert len(read_qb_lists(tmp_path / "staged").employees) == 3


def test_log_of_a_missing_ledger_exits_2(tmp_path):
    out = run("log", "--ledger", str(tmp_path / "nope.sqlite"))
    assert out.returncode == 2 and "ledger not found" in out.stderr
