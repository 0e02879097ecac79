"""``qbrecon demo``: the whole flow on the bundled samples, narrated.

The demo only connects public functions; each step is one call a notebook or script
would make. It writes its files into ``out`` (a new temporary folder by default).
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

Echo = Callable[[str], None]


def _step(echo: Echo, n: int, title: str) -> None:
    echo("")
    echo(f"{n}. {title}")
    echo("-" * (len(title) + 3))


def _indent(text: str) -> str:
    return "\n".join("   " + line for line in text.splitlines())


def run_demo(*, out: Path | None = None, echo: Echo = print) -> int:
    """Run the demo; returns the process exit status (0 when every step worked)."""
    import qbrecon
    from qbrecon.samples import samples_dir
    from qbrecon.sources import summarize_entries

    logging.getLogger("qbrecon").setLevel(logging.ERROR)  # the narration says what matters
    out = Path(out) if out else Path(tempfile.mkdtemp(prefix="qbrecon-demo-"))
    out.mkdir(parents=True, exist_ok=True)
    samples = samples_dir()
    echo(f"qbrecon demo on the bundled samples ({samples})")
    echo(f"files written to {out}")

    _step(echo, 1, "Load the time-tracker exports")
    files = [*sorted(samples.glob("clockify/*")), *sorted(samples.glob("toggl/*")),
             *sorted(samples.glob("harvest/*"))]
    for f in files:
        one = qbrecon.read_time_entries(f)
        echo(f"   {f.name}: {len(one)} entries ({one.attrs['layout']}, dates {one.attrs['date_order']})")
    entries = qbrecon.read_time_entries(files)
    echo(_indent(summarize_entries(entries)))

    _step(echo, 2, "Load the QuickBooks lists")
    lists = qbrecon.read_qb_lists(samples / "qbo")
    echo(_indent(lists.summary()))

    _step(echo, 3, "Suggest matches between tracker names and QuickBooks records")
    suggestions = qbrecon.suggest_matches(entries, lists)
    echo(_indent(qbrecon.summarize_matches(suggestions).to_string(index=False)))
    review = qbrecon.write_review_workbook(suggestions, out / "review.xlsx", lists=lists)
    echo(f"   review workbook for the accountant: {review}")

    _step(echo, 4, "The accountant's decisions")
    inactive = set(lists.people().query("~active")["name"]) | set(
        lists.customers.query("~active")["full_name"])
    answered = _play_accountant(review, samples / "expected_matches.csv", inactive)
    echo(f"   (the demo plays the accountant: {answered} open rows answered from "
         "expected_matches.csv, names whose QuickBooks record is inactive rejected; "
         "the rest were pre-filled 'accept')")
    mapping = qbrecon.read_review_workbook(review)
    decisions = qbrecon.read_review_decisions(review)
    store = qbrecon.remember(None, decisions, by="demo", how="review workbook")
    qbrecon.write_mapping_store(store, out / "mapping.csv")
    rejected = int((decisions["decision"] == "rejected").sum())
    echo(f"   {len(mapping)} names mapped, {rejected} rejected (no QuickBooks record yet); "
         f"remembered in {out / 'mapping.csv'}")

    _step(echo, 5, "Validate every entry against the rules")
    rules = qbrecon.Rules(rounding=qbrecon.Rounding("up", 6))
    ledger_path = out / "ledger.sqlite"
    report = qbrecon.validate(entries, mapping, rules=rules, lists=lists, ledger=ledger_path)
    echo(_indent(report.summary_text()))
    report.to_excel(out / "report.xlsx")
    echo(f"   report workbook (every failure beside its source row): {out / 'report.xlsx'}")

    _step(echo, 6, "Build the QuickBooks-ready batch")
    batch = qbrecon.build_batch(report)
    qbrecon.write_batch(batch, out / "batch.csv")
    echo(f"   {len(batch)} entries, {(batch['hours'] * 60 + batch['minutes']).sum() / 60:.2f} hours "
         f"(rounded up to 6 minutes per entry) -> {out / 'batch.csv'}")

    _step(echo, 7, "Send to QuickBooks Online (the local emulator), exactly once")
    with qbrecon.QBOEmulator(seed=samples / "qbo") as emu, \
            emu.connect(out / "tokens.json") as client:
        echo(f"   QuickBooks Online emulator at {emu.base_url}, company {emu.realm_id}")
        emu.inject("drop", after=1, match="batch")  # lose one answer, to show the recovery
        results = qbrecon.send_to_qbo(batch, client, ledger=ledger_path, progress=False)
        counts = results["status"].value_counts()
        found = int(results["message"].fillna("").str.contains("unanswered").sum())
        echo(f"   {int(counts.get('sent', 0))} sent, {int(counts.get('failed', 0))} failed; one answer "
             f"was lost on the way and its {found} entries were found in QuickBooks, not resent")
        again = qbrecon.send_to_qbo(batch, client, ledger=ledger_path, progress=False)
        echo(f"   sent again: {int((again['status'] == 'skipped').sum())} skipped, "
             f"{len(emu.time_activities())} TimeActivities in QuickBooks")
    echo(f"   every attempt is in the integration log: qbrecon log --ledger {ledger_path}")

    _step(echo, 8, "The same firm on QuickBooks Desktop: the Web Connector and IIF/qbXML files")
    _desktop(qbrecon, samples, entries, out, rules, echo)

    echo("")
    echo(f"Done. The files are in {out}")
    return 0


def _desktop(qbrecon, samples: Path, entries, out: Path, rules, echo: Echo) -> None:
    """Stage the Desktop lists through a test sync, match against them, queue, deliver."""
    from dataclasses import replace

    from .qbd import BackgroundServer
    from .qbd.emulator import FakeQuickBooks, WebConnectorClient

    company_file = r"C:\QuickBooks\Harborlight Design Studio.qbw"
    user, password = "harborlight-qbwc", "demo password"
    ledger = out / "desktop-ledger.sqlite"
    quickbooks = FakeQuickBooks.from_lists(qbrecon.read_qb_lists(samples / "qbd"),
                                          company_file=company_file)
    qwc = qbrecon.write_qwc(out / "Harborlight.qwc", url="https://qbrecon.example.com/qbwc",
                            user=user, ledger=ledger, company_file=company_file)
    echo(f"   .qwc file for the Web Connector: {qwc}")
    app = qbrecon.webconnector_app(
        ledger=ledger, users={user: {"password": password, "company_file": company_file}},
        settings=qbrecon.WebConnectorSettings(takeover_after=0.01))  # a dead update is replaced at once
    with BackgroundServer(app) as server:
        web_connector = WebConnectorClient(server.url, qb=quickbooks, user=user, password=password)
        first = web_connector.update()
        staged = qbrecon.staged_lists(ledger, company_file)
        echo(f"   the first update is a test sync ({'ok' if first.close else 'failed'}): "
             f"{len(staged.employees)} employees, {len(staged.customers)} customers and "
             f"{len(staged.items)} items staged from QuickBooks, nothing sent")
        suggestions = qbrecon.suggest_matches(entries, staged)
        mapping = qbrecon.accept_matches(suggestions)
        report = qbrecon.validate(entries, mapping, lists=staged,
                                  rules=replace(rules, target="qbd", default_item="Consulting"))
        batch = qbrecon.build_batch(report)
        qbrecon.export_iif(batch, out / "time.iif", company="Harborlight Design Studio")
        qbrecon.export_qbxml(batch, out / "time.qbxml")
        echo(f"   matched against the staged lists ({len(mapping)} names accepted automatically); "
             f"{len(batch)} entries clean for Desktop, also written as time.iif and time.qbxml")
        queued = qbrecon.queue_for_desktop(batch, ledger=ledger, company_file=company_file)
        echo(f"   queued {int((queued['status'] == 'queued').sum())} entries for {company_file}")
        # the next update dies after QuickBooks ran the first chunk of time, before its
        # answer came back: those entries are left with an unknown outcome
        lost = web_connector.update(lose_response_when=lambda n, rq: "TimeTrackingAddRq" in rq)
        time.sleep(0.05)  # past takeover_after: the dead update may be replaced
        entered_blind = len(quickbooks.time_entries)
        after = web_connector.update()
        echo(f"   an update died after QuickBooks entered {entered_blind} entries it never "
             f"confirmed (lost: {lost.lost}); the next one looked them up first: {after.close}")
        guids = {t.get("ExternalGUID") for t in quickbooks.time_entries}
        echo(f"   {len(quickbooks.time_entries)} time entries in QuickBooks Desktop for "
             f"{len(batch)} in the batch, {len(guids)} distinct: nothing entered twice")


def _play_accountant(workbook: Path, truth_csv: Path, inactive: set[str]) -> int:
    """Fill every empty decision cell the way the sample firm's accountant would: the true
    record, or "reject" where there is none or it is inactive."""
    import pandas as pd
    from openpyxl import load_workbook

    from .review import KIND_SHEETS

    truth = pd.read_csv(truth_csv, dtype=str, keep_default_na=False)
    answers = {(r.kind, r.source_name): r.qb_name if r.qb_name and r.qb_name not in inactive
               else "reject" for r in truth.itertuples()}
    wb = load_workbook(workbook)
    answered = 0
    for kind, sheet in KIND_SHEETS.items():
        if sheet not in wb.sheetnames:
            continue
        ws = wb[sheet]
        header = [c.value for c in ws[1]]
        name_col, decision_col = header.index("source name") + 1, header.index("decision") + 1
        for r in range(2, ws.max_row + 1):
            cell = ws.cell(r, decision_col)
            source = ws.cell(r, name_col).value
            if not cell.value and (kind, source) in answers:
                cell.value = answers[(kind, source)]
                answered += 1
    wb.save(workbook)
    return answered
