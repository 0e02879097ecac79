"""Files people edit by hand or re-save from Excel or Notepad: encodings, separators, blank
rows, and outputs that cannot be written — each read as meant or refused with a clear error."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest

from qbrecon import InputError, OutputError, Rules, SettingsError, build_batch, validate
from qbrecon.batch import read_batch, write_batch
from qbrecon.mapping import read_mapping
from qbrecon.qbo.auth import TokenStore
from qbrecon.review import read_mapping_store
from qbrecon.testing import make_entries, make_mapping

MAPPING = pd.DataFrame(
    {
        "kind": ["employee", "customer"],
        "source_name": ["Zoë Müller", "Café & Co:Web"],
        "qb_id": ["55", "7"],
        "qb_name": ["Zoë Müller", "Café and Co:Web"],
    }
)


# ------------------------------------------------------------ rules and token files
@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"], ids=lambda e: e
)
def test_rules_file_in_any_editor_encoding(tmp_path, encoding):
    path = tmp_path / "rules.toml"
    path.write_text('[rules]\nrounding = "up:15"\ndefault_item = "Beratung für Café"\n', encoding=encoding)
    rules = Rules.from_toml(path)
    assert (rules.rounding.mode, rules.rounding.minutes) == ("up", 15)
    assert rules.default_item == "Beratung für Café"


def test_rules_file_that_is_not_text_is_a_settings_error(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_bytes(b"r\x00u\x00l\x00e\x00s\x00")  # UTF-16 without its byte-order mark
    with pytest.raises(SettingsError, match="not a text file") as info:
        Rules.from_toml(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_token_file_saved_with_a_byte_order_mark(tmp_path, encoding):
    path = tmp_path / "tokens.json"
    path.write_text('{"access_token": "a1", "refresh_token": "r1"}', encoding=encoding)
    os.chmod(path, 0o600)
    data = TokenStore(path).load()
    assert (data["access_token"], data["refresh_token"]) == ("a1", "r1")


# ------------------------------------------------------------------ mapping tables
@pytest.mark.parametrize(
    ("sep", "encoding"),
    [(",", "cp1252"), (";", "utf-8-sig"), (";", "cp1252"), ("\t", "utf-16")],
    ids=["excel-comma-ansi", "excel-semicolon", "semicolon-ansi", "unicode-text"],
)
def test_mapping_saved_by_excel_reads_the_same(tmp_path, sep, encoding):
    path = tmp_path / "mapping.csv"
    MAPPING.to_csv(path, sep=sep, index=False, encoding=encoding)
    got = read_mapping(path)
    assert got[["kind", "source_name", "qb_id", "qb_name"]].values.tolist() == MAPPING.values.tolist()


def test_blank_rows_are_skipped_and_rows_keep_their_numbers(tmp_path):
    path = tmp_path / "mapping.csv"
    path.write_text(
        "kind,source_name,qb_id,qb_name\n"
        "employee,Ada,55,Ada Lovelace\n"
        ",,,\n"  # row 3: what Excel writes for an empty row
        "\n"
        "custmer,Web,7,Web\n"  # row 5
        ",,,\n,,,\n"
    )
    with pytest.raises(InputError) as info:
        read_mapping(path)
    assert [(p.row, p.column) for p in info.value.problems] == [(5, "kind")]
    path.write_text(path.read_text().replace("custmer", "customer"))
    assert read_mapping(path)["source_name"].tolist() == ["Ada", "Web"]


def test_conflicting_rows_are_all_named(tmp_path):
    path = tmp_path / "mapping.csv"
    rows = ["employee,Ada,55,Ada Lovelace"] + [f"employee,P{i},{i},P{i}" for i in range(8)]
    rows.append("employee,ada,56,Ada King")  # row 11 contradicts row 2
    path.write_text("kind,source_name,qb_id,qb_name\n" + "\n".join(rows) + "\n")
    with pytest.raises(InputError, match=r"rows 2, 11") as info:
        read_mapping(path)
    assert info.value.rows == [2]


def test_a_stray_separator_names_the_row(tmp_path):
    path = tmp_path / "mapping.csv"
    path.write_text("kind;source_name;qb_id;qb_name\nemployee;Ada;55;Ada\nemployee;Bo;56;Bo;extra\n")
    with pytest.raises(InputError, match="separated by semicolons") as info:
        read_mapping(path)
    assert info.value.rows == [3]


def test_mapping_store_saved_with_semicolons(tmp_path):
    path = tmp_path / "store.csv"
    pd.DataFrame(
        [{"kind": "employee", "source_name": "Ada", "decision": "accepted", "qb_id": "55",
          "qb_name": "Ada Lovelace", "qb_type": "Employee"}]
    ).to_csv(path, sep=";", index=False, encoding="utf-8-sig")
    store = read_mapping_store(path)
    assert store[["source_name", "decision", "qb_id"]].values.tolist() == [["Ada", "accepted", "55"]]


# --------------------------------------------------------------------------- batches
def _batch():
    entries = make_entries([{"user": "Ada", "project": "Web"}, {"user": "Ada", "project": "Web"}])
    return build_batch(validate(entries, make_mapping(employee={"Ada": "55"}, customer={"Web": "7"})))


def test_batch_resaved_with_semicolons_and_blank_rows(tmp_path):
    batch = _batch()
    path = write_batch(batch, tmp_path / "batch.csv")
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    semi = tmp_path / "semi.csv"
    blank = ";" * (len(table.columns) - 1)
    body = [";".join(table.columns), ";".join(table.iloc[0]), blank, ";".join(table.iloc[1]), blank]
    semi.write_text("\n".join(body) + "\n", encoding="utf-8-sig")
    assert len(lines) == 3
    pd.testing.assert_frame_equal(read_batch(semi), read_batch(path))
    # a bad value after the blank row is reported on its spreadsheet row (4), not its position
    body[3] = body[3].replace(str(table.iloc[1]["hours"]) + ";", "x;", 1)
    semi.write_text("\n".join(body) + "\n", encoding="utf-8-sig")
    with pytest.raises(InputError) as info:
        read_batch(semi)
    assert (4, "hours") in [(p.row, p.column) for p in info.value.problems]


# --------------------------------------------------------------------------- outputs
def test_writing_onto_a_folder_is_an_output_error(tmp_path):
    folder = tmp_path / "batch.csv"
    folder.mkdir()
    with pytest.raises(OutputError, match="is a folder") as info:
        write_batch(_batch(), folder)
    assert info.value.file == str(folder)


def test_writing_below_a_file_is_an_output_error(tmp_path):
    blocker = tmp_path / "plain.txt"
    blocker.write_text("not a folder")
    with pytest.raises(OutputError, match="cannot write") as info:
        write_batch(_batch(), blocker / "batch.csv")
    assert "batch.csv" in info.value.file


@pytest.mark.parametrize(
    "args",
    [
        ["load", "{samples}/clockify", "--out", "{dir}"],
        ["load", "{samples}/clockify", "--out", "{blocker}/entries.csv"],
        ["samples", "{blocker}/copy"],
    ],
    ids=["onto-a-folder", "below-a-file", "samples-below-a-file"],
)
def test_cli_outputs_that_cannot_be_written_exit_2_in_one_line(tmp_path, args):
    from qbrecon.samples import samples_dir

    (tmp_path / "adir").mkdir()
    (tmp_path / "blocker").write_text("a file, not a folder")
    subs = {"{samples}": str(samples_dir()), "{dir}": str(tmp_path / "adir"),
            "{blocker}": str(tmp_path / "blocker")}
    argv = []
    for a in args:
        for k, v in subs.items():
            a = a.replace(k, v)
        argv.append(a)
    proc = subprocess.run([sys.executable, "-m", "qbrecon", *argv], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: ")
    assert str(tmp_path) in proc.stderr
