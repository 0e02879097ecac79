"""`qbrecon match` and `qbrecon apply-review` run as subprocesses on the bundled samples."""

import subprocess
import sys

import pandas as pd
from openpyxl import load_workbook

from qbrecon import schema as S
from qbrecon.samples import samples_dir


def _run(*args, cwd):
    return subprocess.run([sys.executable, "-m", "qbrecon", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_match_then_apply_review_then_next_period(tmp_path):
    d = samples_dir()
    entries = [d / "clockify", d / "toggl", d / "harvest"]
    r = _run("match", *entries, "--lists", d / "qbo", "--store", "store.csv", "--out", "review.xlsx",
             "--new-records", "new.iif", "--suggestions", "suggestions.csv", "--check", cwd=tmp_path)
    assert r.returncode == 1, r.stderr  # --check: some names need a decision
    assert "need a decision" in r.stdout and "Lena Fischer" in r.stdout
    assert (tmp_path / "review.xlsx").exists() and (tmp_path / "new.iif").exists()
    iif = (tmp_path / "new.iif").read_bytes().decode("cp1252")
    assert "EMP\tLena Fischer\tLena\tFischer" in iif and "CUST\tSolstice Yoga:Brand Identity" in iif
    sugg = pd.read_csv(tmp_path / "suggestions.csv", dtype=str, keep_default_na=False,
                       encoding="utf-8-sig")
    assert list(sugg.columns[:7]) == S.SUGGESTION_COLUMNS

    # an accountant leaves the rows blank: every blank decision is reported, exit 2
    r = _run("apply-review", "review.xlsx", "--store", "store.csv", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.count("no decision") == 5 and "Employees!D (decision)" in r.stderr
    assert not (tmp_path / "store.csv").exists()

    # ... then decides every row
    wb = load_workbook(tmp_path / "review.xlsx")
    for title in ("Employees", "Customers"):
        ws = wb[title]
        header = [c.value for c in ws[1]]
        dec = header.index("decision") + 1
        for row in range(2, ws.max_row + 1):
            name = ws.cell(row, 1).value
            if ws.cell(row, dec).value is None:
                ws.cell(row, dec).value = ("Hartwell Dental Group:Patient Portal"
                                           if name == "Hartwell Dental:Patient Portal" else "reject")
    wb.save(tmp_path / "review.xlsx")
    r = _run("apply-review", "review.xlsx", "--store", "store.csv", "--by", "ana",
             "--mapping", "mapping.xlsx", "--new-records", "new.csv", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "31 name(s) accepted, 4 rejected" in r.stdout
    store = pd.read_csv(tmp_path / "store.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert set(store["decided_by"]) == {"ana"}
    assert (store["decision"] == "accepted").sum() == 31
    mapping = load_workbook(tmp_path / "mapping.xlsx").active
    assert mapping.max_row == 32
    new = pd.read_csv(tmp_path / "new.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert "Hannah Brooks" in set(new["name"])  # the inactive employee was rejected

    # next period: every name is remembered, nothing needs a decision
    r = _run("match", *entries, "--lists", d / "qbo", "--store", "store.csv", "--out", "review2.xlsx",
             "--check", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "need a decision" not in r.stdout


def test_match_reports_bad_input_cleanly(tmp_path):
    bad = tmp_path / "entries.csv"
    bad.write_text("nothing,useful\n1,2\n", encoding="utf-8")
    r = _run("match", bad, "--lists", samples_dir() / "qbo", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.startswith("error:") and "Traceback" not in r.stderr
    r = _run("apply-review", "missing.xlsx", "--store", "s.csv", cwd=tmp_path)
    assert r.returncode == 2 and "not found" in r.stderr
