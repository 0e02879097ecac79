"""The QuickBooks Online commands, run as subprocesses against the in-process emulator."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import requests
from openpyxl import load_workbook
from qbo_support import FAST_LIMITS, INACTIVE_EMPLOYEE, make_batch, offline_env

from qbrecon import schema as S
from qbrecon.ledger import Ledger
from qbrecon.qbo.auth import write_private_file
from qbrecon.qbo.emulator import QBOEmulator


def qbrecon(*args, input=None, cwd=None, timeout=60):
    return subprocess.run(
        [sys.executable, "-m", "qbrecon", *map(str, args)],
        capture_output=True,
        text=True,
        input=input,
        cwd=cwd,
        timeout=timeout,
    )


@pytest.fixture
def emu():
    with QBOEmulator(seed="builtin", limits=FAST_LIMITS) as e:
        yield e


@pytest.fixture
def setup(emu, tmp_path):
    """A token file (naming company, environment and base URL) and a ledger path."""
    token_file = emu.write_token_file(tmp_path / "tokens.json")
    return token_file, tmp_path / "ledger.sqlite"


def write_batch(batch, path):
    out = batch.copy()
    out[S.TXN_DATE] = out[S.TXN_DATE].dt.strftime("%Y-%m-%d")
    if path.suffix == ".xlsx":
        out.to_excel(path, index=False)
    else:
        out.to_csv(path, index=False)
    return path


def test_send_exit_codes_rerun_and_undo(emu, setup, tmp_path):
    token_file, ledger = setup
    batch = make_batch(40)
    batch.loc[5, S.EMPLOYEE_ID] = INACTIVE_EMPLOYEE
    path = write_batch(batch, tmp_path / "batch.csv")
    conn = [
        "--ledger",
        ledger,
        "--token-file",
        token_file,
        "--realm-id",
        emu.realm_id,
        "--environment",
        emu.discovery_url,
        "--base-url",
        emu.base_url,
    ]

    dry = qbrecon("send", path, *conn, "--dry-run", "--out", tmp_path / "plan.csv")
    assert dry.returncode == 0, dry.stderr
    assert "dry run: 40 entries, nothing sent" in dry.stdout and "2 batch request(s)" in dry.stdout
    assert re.search(r"would_send\s+40", dry.stdout)
    assert emu.time_activities().empty
    plan = pd.read_csv(tmp_path / "plan.csv")
    assert len(plan) == 40 and list(plan.columns[:5]) == S.SEND_RESULT_COLUMNS
    assert list(plan.columns[5:]) == ["action", "request_id", "marker", "chunk", "payload"]
    assert (plan["status"] == "would_send").all()

    first = qbrecon("send", path, *conn, "--out", tmp_path / "results.xlsx")
    assert first.returncode == 1, first.stderr  # one entry failed
    assert re.search(r"sent\s+39", first.stdout) and re.search(r"failed\s+1", first.stdout)
    assert "610" in first.stdout and "e00005" in first.stdout
    assert len(emu.time_activities()) == 39
    run_id = re.search(r"send (send-\S+):", first.stdout).group(1)

    batch.loc[5, S.EMPLOYEE_ID] = "55"  # re-mapped
    write_batch(batch, path)
    second = qbrecon("send", path, *conn)
    assert second.returncode == 0, second.stdout + second.stderr
    assert re.search(r"skipped\s+39", second.stdout) and re.search(r"sent\s+1\b", second.stdout)
    assert len(emu.time_activities()) == 40

    undone = qbrecon("undo", run_id, *conn)
    assert undone.returncode == 0, undone.stderr
    assert re.search(r"undone\s+39", undone.stdout)
    assert len(emu.time_activities()) == 1
    unknown = qbrecon("undo", "send-nope", *conn)
    assert unknown.returncode == 2 and "no send run" in unknown.stderr


def test_send_reads_company_and_urls_from_the_token_file(emu, setup, tmp_path):
    token_file, ledger = setup
    path = write_batch(make_batch(3), tmp_path / "batch.csv")
    done = qbrecon("send", path, "--ledger", ledger, "--token-file", token_file, "--no-progress")
    assert done.returncode == 0, done.stderr
    assert len(emu.time_activities()) == 3


def test_send_with_a_valid_access_token_needs_no_identity_provider(emu, tmp_path):
    # only the tokens, no client id/secret, no environment: the default "sandbox" must
    # not fetch Intuit's discovery document while the access token is still valid
    tokens = emu.issue_tokens()
    token_file = tmp_path / "tokens.json"
    only = {
        "access_token": tokens["access_token"],
        "refresh_token": tokens["refresh_token"],
        "expires_at": int(time.time()) + 3600,
    }
    write_private_file(token_file, json.dumps(only))
    path = write_batch(make_batch(3), tmp_path / "batch.csv")
    env, attempts = offline_env(tmp_path)
    args = ["--ledger", tmp_path / "l.sqlite", "--token-file", token_file]
    args += ["--realm-id", emu.realm_id, "--base-url", emu.base_url, "--no-progress"]
    done = subprocess.run(
        [sys.executable, "-m", "qbrecon", "send", path, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert not attempts.exists(), attempts.read_text()
    assert re.search(r"sent\s+3", done.stdout)
    assert len(emu.time_activities()) == 3


def test_send_lists_entries_changed_since_they_were_sent(emu, setup, tmp_path):
    token_file, ledger = setup
    batch = make_batch(3).assign(**{S.FINGERPRINT: ["a", "b", "c"]})
    path = write_batch(batch, tmp_path / "batch.csv")
    args = ["--ledger", ledger, "--token-file", token_file, "--no-progress"]
    assert qbrecon("send", path, *args).returncode == 0
    batch.loc[2, [S.HOURS, S.FINGERPRINT]] = [6, "c2"]
    write_batch(batch, path)
    again = qbrecon("send", path, *args)
    assert again.returncode == 0, again.stderr  # skipped is not a failure
    assert re.search(r"skipped\s+3", again.stdout)
    listed = again.stdout.split("changed in the tracker after they were sent")[1]
    assert "e00002" in listed and "e00001" not in listed
    assert len(emu.time_activities()) == 3


def test_a_fresh_ledger_finds_earlier_sends_in_quickbooks(emu, setup, tmp_path):
    token_file, ledger = setup
    path = write_batch(make_batch(5), tmp_path / "batch.csv")
    conn = ["--token-file", token_file, "--no-progress"]
    assert qbrecon("send", path, "--ledger", ledger, *conn).returncode == 0
    fresh = ["--ledger", tmp_path / "mistyped.sqlite", *conn]
    blind = qbrecon("send", path, *fresh, "--dry-run", "--no-check-quickbooks")
    assert re.search(r"would_send\s+5", blind.stdout), blind.stdout + blind.stderr
    plan = qbrecon("send", path, *fresh, "--dry-run")
    assert re.search(r"skipped\s+5", plan.stdout) and re.search(r"would_send\s+0", plan.stdout)
    again = qbrecon("send", path, *fresh)
    assert again.returncode == 0, again.stdout + again.stderr
    assert re.search(r"skipped\s+5", again.stdout) and "found by their markers" in again.stdout
    assert len(emu.time_activities()) == 5


def test_a_bad_batch_file_exits_2_and_names_every_row(setup, tmp_path, emu):
    token_file, ledger = setup
    batch = make_batch(5)
    batch.loc[1, S.MINUTES] = 90
    batch.loc[3, S.BILLABLE_STATUS] = "Maybe"
    path = write_batch(batch, tmp_path / "batch.csv")
    text = path.read_text().splitlines()
    text[5] = text[5].replace("2026-11-06", "not a date")
    path.write_text("\n".join(text) + "\n")
    r = qbrecon("send", path, "--ledger", ledger, "--token-file", token_file)
    assert r.returncode == 2
    assert "row 6, column 'txn_date'" in r.stderr and "Traceback" not in r.stderr
    path = write_batch(batch, tmp_path / "batch.csv")
    r = qbrecon("send", path, "--ledger", ledger, "--token-file", token_file)
    assert r.returncode == 2
    assert "row 3, column 'minutes'" in r.stderr and "row 5, column 'billable_status'" in r.stderr
    assert emu.stats["api_requests"] == 0
    missing = qbrecon("send", tmp_path / "nope.csv", "--ledger", ledger, "--token-file", token_file)
    assert missing.returncode == 2 and "no such batch file" in missing.stderr


def test_log_shows_runs_attempts_and_writes_safe_xlsx(emu, setup, tmp_path):
    token_file, ledger = setup
    batch = make_batch(3)
    batch.loc[0, S.DESCRIPTION] = '=HYPERLINK("http://example.com","x")'
    path = write_batch(batch, tmp_path / "batch.csv")
    emu.inject("expire_token")
    assert (
        qbrecon("-vv", "send", path, "--ledger", ledger, "--token-file", token_file).returncode == 0
    )

    log = qbrecon("log", "--ledger", ledger)
    assert log.returncode == 0 and "http" in log.stdout and "run_finished" in log.stdout
    runs = qbrecon("log", "--ledger", ledger, "--runs")
    assert "send-" in runs.stdout and "finished" in runs.stdout
    deliveries = qbrecon("log", "--ledger", ledger, "--deliveries")
    assert re.search(r"sent\s+3", deliveries.stdout)

    out = qbrecon("log", "--ledger", ledger, "--deliveries", "--full", "--out", tmp_path / "d.xlsx")
    assert out.returncode == 0
    ws = load_workbook(tmp_path / "d.xlsx").active
    header = [c.value for c in ws[1]]
    payloads = [row[header.index("payload")] for row in ws.iter_rows(min_row=2)]
    assert all(c.data_type == "s" for c in payloads)
    # a formula-looking value is text, never a formula
    cells = [c for row in ws.iter_rows(min_row=2) for c in row if isinstance(c.value, str)]
    assert all(not c.value.startswith("=") or c.data_type == "s" for c in cells)

    xlsx = qbrecon(
        "log", "--ledger", ledger, "--limit", "0", "--full", "--out", tmp_path / "log.xlsx"
    )
    assert xlsx.returncode == 0
    texts = [c for row in load_workbook(tmp_path / "log.xlsx").active.iter_rows() for c in row]
    assert any(isinstance(c.value, str) and "HYPERLINK" in c.value for c in texts)
    assert all(c.data_type != "f" for c in texts)

    for token in emu.issued_tokens:  # never printed, never logged
        for r in (log, runs, deliveries):
            assert token not in r.stdout and token not in r.stderr
    assert qbrecon("log", "--ledger", tmp_path / "none.sqlite").returncode == 2


def test_auth_command_with_the_emulator(emu, tmp_path):
    env_args = [
        "--environment",
        emu.discovery_url,
        "--client-id",
        emu.client_id,
        "--client-secret",
        emu.client_secret,
    ]
    # run it, read the printed URL, consent in the "browser", paste the redirect back
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "qbrecon",
            "auth",
            "--token-file",
            str(tmp_path / "t.json"),
            *env_args,
            "--base-url",
            emu.base_url,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = None
    while url is None:
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        if line.strip().startswith("http"):
            url = line.strip()
    redirect = requests.get(url, allow_redirects=False, timeout=5).headers["Location"]
    out, err = proc.communicate(redirect + "\n", timeout=30)
    assert proc.returncode == 0, err
    assert f"connected to company {emu.realm_id}" in out
    data = json.loads((tmp_path / "t.json").read_text())
    assert data["refresh_token"] in emu.valid_refresh_tokens()
    assert oct(os.stat(tmp_path / "t.json").st_mode & 0o777) == "0o600"
    assert data["access_token"] not in out + err

    fetched = qbrecon(
        "fetch-lists", "--token-file", tmp_path / "t.json", "--out", tmp_path / "lists"
    )
    assert fetched.returncode == 0, fetched.stderr
    assert "employees" in fetched.stdout and "sub-customers" in fetched.stdout
    employees = json.loads((tmp_path / "lists" / "Employee.json").read_text())["QueryResponse"][
        "Employee"
    ]
    assert len(employees) == 5

    refused = qbrecon(
        "auth",
        "--token-file",
        tmp_path / "t2.json",
        *env_args,
        "--response",
        "http://localhost:8000/callback?code=x&state=wrong",
    )
    assert refused.returncode == 2 and "state differs" in refused.stderr


def test_create_missing_command(emu, setup, tmp_path):
    token_file, ledger = setup
    pd.DataFrame(
        {
            "kind": ["customer", "customer", "employee"],
            "name": ["Harbor Works", "Dock 4", "Ada Park"],
            "parent_full_name": ["", "Harbor Works", ""],
        }
    ).to_csv(tmp_path / "proposals.csv", index=False)
    dry = qbrecon(
        "create-missing",
        tmp_path / "proposals.csv",
        "--ledger",
        ledger,
        "--token-file",
        token_file,
        "--dry-run",
    )
    assert dry.returncode == 0 and dry.stdout.count("would_create") == 3
    assert len(emu.records("Customer")) == 8
    done = qbrecon(
        "create-missing", tmp_path / "proposals.csv", "--ledger", ledger, "--token-file", token_file
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("created") >= 3
    paths = {r["FullyQualifiedName"] for r in emu.records("Customer")}
    assert "Harbor Works:Dock 4" in paths


def test_emulator_command_runs_in_the_foreground(tmp_path):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "qbrecon",
            "emulator",
            "--port",
            "0",
            "--seed",
            "builtin",
            "--token-file",
            str(tmp_path / "t.json"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        while not any("Ctrl-C" in x for x in lines):
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            lines.append(line)
        discovery = next(x for x in lines if "discovery" in x).split()[-1]
        assert (
            requests.get(discovery, timeout=5)
            .json()["token_endpoint"]
            .startswith("http://127.0.0.1:")
        )
        assert json.loads((tmp_path / "t.json").read_text())["environment"] == discovery
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
    assert proc.returncode == 130


def test_send_reads_an_xlsx_batch(emu, setup, tmp_path):
    token_file, ledger = setup
    path = write_batch(make_batch(31), tmp_path / "batch.xlsx")
    done = qbrecon("send", path, "--ledger", ledger, "--token-file", token_file)
    assert done.returncode == 0, done.stderr
    with Ledger(ledger) as led:
        d = led.deliveries()
    assert len(d) == 31 and (d["state"] == "sent").all()
    assert set(d["external_id"]) == set(emu.time_activities()["qbo_id"])


def test_xlsx_output_never_contains_formulas(tmp_path):
    from qbrecon.errors import InputError
    from qbrecon.qbo.tables import write_frame

    risky = ["=1+1", "+SUM(A1:A2)", "-2+3", "@SUM(A1)", '=HYPERLINK("http://example.com")', "plain"]
    frame = pd.DataFrame(
        {"message": risky, "n": range(len(risky)), "when": pd.Timestamp("2026-11-20")}
    )
    write_frame(frame, tmp_path / "out.xlsx")
    ws = load_workbook(tmp_path / "out.xlsx").active
    cells = [row[0] for row in ws.iter_rows(min_row=2)]
    assert [c.value for c in cells] == risky
    assert all(c.data_type == "s" for c in cells)
    back = pd.read_excel(tmp_path / "out.xlsx")
    assert back["message"].tolist() == risky and back["n"].tolist() == list(range(6))
    with pytest.raises(InputError, match=r"\.csv or \.xlsx"):
        write_frame(frame, tmp_path / "out.json")
