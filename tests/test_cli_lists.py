"""`qbrecon lists` and `qbrecon samples`, run as the user runs them: in a subprocess."""

from __future__ import annotations

import doctest
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qbrecon", *args], capture_output=True, text=True,
                          encoding="utf-8", cwd=cwd, timeout=120)


def test_lists_summarises_and_shows_a_list():
    res = run("lists", str(SAMPLES / "qbo"), "--show", "customers", "--show", "vendors")
    assert res.returncode == 0, res.stderr
    assert "customers          21 (2 inactive)" in res.stdout
    assert "up to 2 level(s) deep" in res.stdout
    assert "Anadolu Tekstil A.Ş.:Catalog 2027:Photography" in res.stdout
    assert "Peter Novak Consulting" in res.stdout


def test_lists_reads_several_desktop_files():
    res = run("lists", str(SAMPLES / "qbd" / "lists.IIF"), str(SAMPLES / "qbd" / "EmployeeQueryRs.xml"))
    assert res.returncode == 0, res.stderr
    assert "employees          14 (1 inactive)" in res.stdout


def test_lists_bad_file_exits_2_naming_file_and_line(tmp_path):
    bad = tmp_path / "lists.iif"
    bad.write_text("!CUST\tNAME\tREFNUM\tHIDDEN\nCUST\tAcme\t1\n")
    res = run("lists", str(bad))
    assert res.returncode == 2
    assert "lists.iif" in res.stderr and "row 2" in res.stderr and "Traceback" not in res.stderr
    assert res.stdout == ""


def test_lists_mixed_systems_exits_2():
    res = run("lists", str(SAMPLES))
    assert res.returncode == 2
    assert "QuickBooks Online and QuickBooks Desktop" in res.stderr


def test_samples_writes_the_same_files_as_the_repository(tmp_path):
    res = run("samples", str(tmp_path / "out"))
    assert res.returncode == 0, res.stderr
    assert "wrote 15 sample files" in res.stdout
    assert (tmp_path / "out" / "expected_matches.csv").read_bytes() == (
        SAMPLES / "expected_matches.csv").read_bytes()


@pytest.mark.parametrize(
    "module",
    ["qbrecon._xml", "qbrecon.formats.iif", "qbrecon.formats.qbxml", "qbrecon.formats.qbojson",
     "qbrecon.formats.qboexport", "qbrecon.qblists", "qbrecon.samples"],
)
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
