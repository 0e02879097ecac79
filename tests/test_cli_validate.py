"""The validate and export commands, run as real subprocesses."""

import subprocess
import sys

import pandas as pd
import pytest
from defusedxml import ElementTree as SafeET

from qbrecon import Rules, build_batch, validate, write_batch
from qbrecon import schema as S
from qbrecon.testing import make_entries, make_mapping


def run(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "qbrecon", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


@pytest.fixture
def batch_csv(tmp_path):
    entries = make_entries(
        [
            {
                "user": "Ada",
                "client": "Acme",
                "project": "Site",
                "duration": "1:30",
                "date": "2026-11-20",
                "description": "=cmd|' /C calc'!A0",
            },
            {"user": "Ada", "project": "Web", "duration": "0:45", "date": "2026-11-21"},
        ]
    )
    mapping = make_mapping(
        employee={"Ada": ("80000005-1234567890", "Lovelace, Ada")},
        customer={"Acme:Site": ("7", "Acme Corp:Site"), "Web": ("8", "Web Co")},
    )
    report = validate(entries, mapping, rules=Rules(target="qbd", default_item="Consulting"))
    return write_batch(build_batch(report), tmp_path / "batch.csv")


@pytest.mark.parametrize(
    "out, fmt",
    [
        ("t.iif", None),
        ("t.xml", None),
        ("t.qbxml", "qbxml"),
        ("copy.xlsx", None),
        ("copy.csv", "csv"),
    ],
)
def test_export_writes_each_format(batch_csv, tmp_path, out, fmt):
    args = ["export", batch_csv, "--out", tmp_path / out, "--company", "Acme Corp"]
    if fmt:
        args += ["--format", fmt]
    proc = run(*args)
    assert proc.returncode == 0, proc.stderr
    assert f"wrote 2 entries to {tmp_path / out}" in proc.stdout
    path = tmp_path / out
    if out.endswith(".iif"):
        lines = path.read_bytes().decode("cp1252").split("\r\n")
        assert lines[1].split("\t")[3] == "Acme Corp" and lines[3].startswith("TIMEACT\t11/20/26\t")
    elif "xml" in out:
        root = SafeET.fromstring(path.read_bytes())
        assert len(root.findall("QBXMLMsgsRq/TimeTrackingAddRq")) == 2
    elif out.endswith(".xlsx"):
        back = pd.read_excel(path, dtype=str)
        assert back[S.DESCRIPTION].iat[0] == "=cmd|' /C calc'!A0"
    else:
        assert pd.read_csv(path, dtype=str)[S.ENTRY_ID].tolist() == ["e1", "e2"]


def test_export_errors_exit_2_with_the_row(batch_csv, tmp_path):
    frame = pd.read_csv(batch_csv, dtype=str, keep_default_na=False)
    frame.loc[1, S.MINUTES] = "90"
    frame.to_csv(batch_csv, index=False)
    proc = run("export", batch_csv, "--out", tmp_path / "t.iif")
    assert proc.returncode == 2
    assert "row 3, column 'minutes': minutes must be 0 to 59" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = run("export", batch_csv, "--out", tmp_path / "t.pdf")
    assert proc.returncode == 2 and "pass --format" in proc.stderr


def test_export_iif_refusal_is_reported_not_raised(batch_csv, tmp_path):
    frame = pd.read_csv(batch_csv, dtype=str, keep_default_na=False)
    frame.loc[0, S.DESCRIPTION] = "naïve → arrow"
    frame.to_csv(batch_csv, index=False)
    proc = run("export", batch_csv, "--out", tmp_path / "t.iif")
    assert proc.returncode == 2
    assert "entry e1: '→' (U+2192) cannot be written in Windows-1252" in proc.stderr
    assert not (tmp_path / "t.iif").exists()


# ------------------------------------------------------------------ validate
@pytest.fixture
def samples():
    from qbrecon.samples import samples_dir

    return samples_dir()


def test_validate_on_the_samples_writes_report_and_batch(samples, tmp_path):
    report, batch = tmp_path / "report.xlsx", tmp_path / "batch.csv"
    proc = run(
        "validate",
        samples / "clockify",
        samples / "toggl",
        samples / "harvest",
        "--mapping",
        samples / "expected_matches.csv",
        "--lists",
        samples / "qbo",
        "--report",
        report,
        "--batch",
        batch,
        "--show",
        "5",
    )
    assert proc.returncode == 1, proc.stderr  # the samples hold entries that break rules
    out = proc.stdout
    assert out.startswith("336 entries checked: ")
    assert "too_long(23:55)" in out and "error" in out
    assert "... and " in out and "more failures (see the report workbook)" in out
    assert f"wrote the report to {report}" in out
    from qbrecon import read_batch

    back = read_batch(batch)
    clean = int(out.split(" clean ")[0].rsplit(" ", 1)[1])
    assert len(back) == clean and f"wrote the batch of {clean} clean entries" in out
    failures = pd.read_excel(report, sheet_name="Failures")
    assert {"entry_id", "rule", "message", "row", "source"} <= set(failures.columns)


def test_validate_exit_0_when_every_entry_passes(samples, tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text(
        "[rules]\nrequire_billable = false\nrequire_rate = false\n"
        '[rules.severity]\nno_employee_match = "warning"\nno_customer_match = "warning"\n'
        'inactive_record = "off"\nno_project = "off"\ntoo_long = "warning"\n'
        'zero_duration = "warning"\n'
    )
    proc = run(
        "validate",
        samples / "toggl",
        "--mapping",
        samples / "expected_matches.csv",
        "--rules",
        rules,
        "--rounding",
        "up:15",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " 0 rejected " in proc.stdout
    assert "rounding (round up 15 min) changed the clean hours by +" in proc.stdout


def test_validate_with_a_ledger_reports_sent_entries(samples, tmp_path):
    from qbrecon import read_mapping, read_time_entries
    from qbrecon.ledger import Ledger
    from qbrecon.rules import validate as run_validate

    entries = read_time_entries(samples / "harvest")
    report = run_validate(entries, read_mapping(samples / "expected_matches.csv"))
    sent = report.clean.iloc[:3]
    with Ledger(tmp_path / "ledger.sqlite") as led:
        led.record_intent(
            "qbo:9130",
            [
                {"entry_id": e, "request_id": f"r{i}", "fingerprint": f}
                for i, (e, f) in enumerate(zip(sent.entry_id, sent.fingerprint, strict=True))
            ],
        )
        led.record_outcomes("qbo:9130", [{"entry_id": e, "state": "sent"} for e in sent.entry_id])
    proc = run(
        "validate",
        samples / "harvest",
        "--mapping",
        samples / "expected_matches.csv",
        "--ledger",
        tmp_path / "ledger.sqlite",
        "--show",
        "0",
    )
    assert (
        "already_sent" in proc.stdout and "3 entries" in proc.stdout.split("already_sent")[1][:40]
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["--rules", "missing.toml"], "no such rules file"),
        (["--rounding", "sideways"], "rounding 'sideways' is not understood"),
        (["--mapping", "nope.csv"], "no such mapping file"),
    ],
)
def test_validate_bad_settings_exit_2(samples, tmp_path, args, message):
    base = ["validate", samples / "toggl", "--mapping", samples / "expected_matches.csv"]
    if args[0] == "--mapping":
        base = base[:-2]
    proc = run(*base, *args, cwd=tmp_path)
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr


def test_export_warns_about_billable_entries_without_item_and_takes_a_default(tmp_path):
    import subprocess
    import sys

    from qbrecon import Rules, build_batch, validate, write_batch
    from qbrecon.testing import make_entries, make_mapping

    batch = build_batch(validate(make_entries([{"user": "Ada", "project": "Web", "duration": "1:00"}]),
                                 make_mapping(employee={"Ada": "55"}, customer={"Web": "7"}),
                                 rules=Rules()))
    assert (batch["item_name"] == "").all()
    path = write_batch(batch, tmp_path / "b.csv")

    def run(*extra):
        return subprocess.run([sys.executable, "-m", "qbrecon", "export", str(path), *extra],
                              capture_output=True, text=True)

    warned = run("--out", str(tmp_path / "t.iif"), "--company", "Acme")
    assert warned.returncode == 0, warned.stderr
    assert warned.stderr.count("has no service item") == 1 and "warning:" in warned.stderr
    strict = run("--out", str(tmp_path / "s.iif"), "--strict-items")
    assert strict.returncode == 2 and "needs a service item" in strict.stderr
    assert not (tmp_path / "s.iif").exists()
    filled = run("--out", str(tmp_path / "d.xml"), "--default-item", "Consulting")
    assert filled.returncode == 0 and "service item" not in filled.stderr
    assert "<ItemServiceRef><FullName>Consulting</FullName></ItemServiceRef>" in (
        tmp_path / "d.xml").read_text()
