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
