"""The ``qbrecon`` command: a thin layer over the public API.

Commands parse their arguments, call library functions, print a short summary and
exit 0 on success, 1 when the work finished but found problems (invalid entries,
failed sends), and 2 when the input or settings were unusable (a QbreconError).
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from .errors import QbreconError

EXIT_OK, EXIT_PROBLEMS, EXIT_ERROR = 0, 1, 2

Handler = Callable[[argparse.Namespace], int]
_COMMANDS: list[tuple[str, str, Callable[[argparse.ArgumentParser], None], Handler]] = []


def command(name: str, help: str, configure: Callable[[argparse.ArgumentParser], None]):
    """Register ``qbrecon <name>``: ``configure`` adds its arguments; the function runs it."""

    def register(func: Handler) -> Handler:
        _COMMANDS.append((name, help, configure, func))
        return func

    return register


def _out(text: str = "") -> None:
    print(text, flush=True)


def _frame_text(df, max_rows: int = 20) -> str:
    import pandas as pd

    with pd.option_context(
        "display.max_rows", max_rows, "display.max_columns", 20, "display.width", 120
    ):
        return df.to_string(max_rows=max_rows)


# ----------------------------------------------------------------------- load
def _load_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", type=Path, help="time-tracker exports (CSV or XLSX)")
    p.add_argument(
        "--source",
        default="auto",
        choices=["auto", "clockify", "toggl", "harvest", "qbtime", "generic"],
        help="the tracker that made the export (default: detect from the header)",
    )
    day = p.add_mutually_exclusive_group()
    day.add_argument("--dayfirst", dest="dayfirst", action="store_true", default=None,
                     help="dates are DD/MM/YYYY when the file cannot tell")
    day.add_argument("--monthfirst", dest="dayfirst", action="store_false",
                     help="dates are MM/DD/YYYY when the file cannot tell")
    p.add_argument("--out", type=Path, help="also write the canonical entries (.csv or .xlsx)")


@command("load", "read time-tracker exports and summarise what was loaded", _load_args)
def _load(args: argparse.Namespace) -> int:
    import pandas as pd

    from .sources import read_time_entries, summarize_entries

    frames = [read_time_entries(p, source=args.source, dayfirst=args.dayfirst) for p in args.paths]
    entries = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    _out(summarize_entries(entries))
    if args.out:
        from .sources import write_entries

        write_entries(entries, args.out)
        _out(f"\nwrote {len(entries)} entries to {args.out}")
    return EXIT_OK


# ---------------------------------------------------------------------- lists
def _lists_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "paths", nargs="+", type=Path,
        help="QuickBooks list files or folders (QBO JSON, CSV/XLSX exports, IIF, qbXML)",
    )
    p.add_argument(
        "--show", action="append", default=[], metavar="LIST",
        choices=["employees", "vendors", "customers", "items", "classes", "payroll_items"],
        help="also print this list (repeatable): employees, vendors, customers, items, "
             "classes, payroll_items",
    )


@command("lists", "read QuickBooks lists (employees, vendors, customers, items) and summarise", _lists_args)
def _lists(args: argparse.Namespace) -> int:
    from .qblists import read_qb_lists

    lists = read_qb_lists(args.paths if len(args.paths) > 1 else args.paths[0])
    _out(lists.summary())
    for name in dict.fromkeys(args.show):
        frame = getattr(lists, name)
        _out(f"\n{name} ({len(frame)})")
        _out(_frame_text(frame, max_rows=500) if len(frame) else "  (none)")
    return EXIT_OK


# ---------------------------------------------------------------------- match
def _match_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("entries", nargs="+", type=Path,
                   help="time-tracker exports (CSV or XLSX files, or folders of them)")
    p.add_argument("--lists", nargs="+", type=Path, required=True, metavar="PATH",
                   help="QuickBooks list files or folders (QBO JSON, CSV/XLSX exports, IIF, qbXML)")
    p.add_argument("--store", type=Path, metavar="CSV",
                   help="the mapping store: remembered decisions are applied first")
    p.add_argument("--out", type=Path, default=Path("review.xlsx"),
                   help="the review workbook to write (default: review.xlsx)")
    p.add_argument("--limit", type=int, default=3, help="candidates per name (default: 3)")
    p.add_argument("--suggestions", type=Path, metavar="FILE",
                   help="also write every suggestion (.csv or .xlsx)")
    p.add_argument("--new-records", type=Path, metavar="FILE",
                   help="also write the names with no QuickBooks record (.csv, .xlsx or .iif)")
    p.add_argument("--check", action="store_true",
                   help="exit 1 when some names still need a decision")
    p.add_argument("--dayfirst", dest="dayfirst", action="store_true", default=None,
                   help="dates are DD/MM/YYYY when a file cannot tell")
    p.add_argument("--monthfirst", dest="dayfirst", action="store_false",
                   help="dates are MM/DD/YYYY when a file cannot tell")


@command("match", "suggest QuickBooks names for tracker users and projects; write the review workbook",
         _match_args)
def _match(args: argparse.Namespace) -> int:
    import pandas as pd

    from .match import propose_new_records, suggest_matches, summarize_matches
    from .qblists import read_qb_lists
    from .review import read_mapping_store, write_new_records, write_review_workbook, write_table
    from .sources import read_time_entries

    frames = [read_time_entries(p, dayfirst=args.dayfirst) for p in args.entries]
    entries = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    lists = read_qb_lists(args.lists if len(args.lists) > 1 else args.lists[0])
    store = read_mapping_store(args.store) if args.store else None
    sugg = suggest_matches(entries, lists, limit=args.limit, remembered=store)
    write_review_workbook(sugg, args.out, lists=lists)
    summary = summarize_matches(sugg)
    _out(f"{len(entries)} entries, {len(sugg[sugg['rank'] == 1])} names to match")
    _out(_frame_text(summary.set_index("kind")))
    review = sugg[(sugg["rank"] == 1) & sugg["needs_review"]]
    if len(review):
        _out(f"\n{len(review)} name(s) need a decision:")
        _out(_frame_text(review[["kind", "source_name", "qb_name", "score", "band", "why"]]
                         .set_index(["kind", "source_name"]), max_rows=30))
    _out(f"\nwrote the review workbook {args.out}")
    if args.suggestions:
        write_table(sugg, args.suggestions, sheet="Suggestions")
        _out(f"wrote {len(sugg)} suggestions to {args.suggestions}")
    if args.new_records:
        new = propose_new_records(sugg)
        write_new_records(new, args.new_records)
        _out(f"wrote {len(new)} proposed new QuickBooks records to {args.new_records}")
    return EXIT_PROBLEMS if args.check and len(review) else EXIT_OK


def _apply_review_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("workbook", type=Path, help="the review workbook with the decisions filled in")
    p.add_argument("--store", type=Path, required=True, metavar="CSV",
                   help="the mapping store to update (created if missing)")
    p.add_argument("--by", default=None, help="who decided (default: the login name)")
    p.add_argument("--mapping", type=Path, metavar="FILE",
                   help="also write the accepted mapping (.csv or .xlsx)")
    p.add_argument("--new-records", type=Path, metavar="FILE",
                   help="also write the rejected names as new records (.csv, .xlsx or .iif)")
    p.add_argument("--allow-blank", action="store_true",
                   help="leave rows without a decision undecided instead of failing")


@command("apply-review", "read the accountant's decisions from a review workbook into the mapping store",
         _apply_review_args)
def _apply_review(args: argparse.Namespace) -> int:
    import getpass

    from .match import remember
    from .review import (
        read_mapping_store,
        read_review_decisions,
        write_mapping_store,
        write_new_records,
        write_table,
    )

    decisions = read_review_decisions(args.workbook, allow_blank=args.allow_blank)
    store = read_mapping_store(args.store)
    by = args.by if args.by is not None else getpass.getuser()
    new_store = remember(store, decisions, by=by, how="review")
    write_mapping_store(new_store, args.store)
    accepted = decisions[decisions["decision"] == "accepted"]
    rejected = decisions[decisions["decision"] == "rejected"].drop_duplicates(["kind", "source_name"])
    rejected = rejected[~rejected.set_index(["kind", "source_name"]).index.isin(
        accepted.set_index(["kind", "source_name"]).index)]
    _out(f"{len(accepted)} name(s) accepted, {len(rejected)} rejected")
    _out(f"the mapping store {args.store} now remembers {len(new_store)} decision(s)")
    if args.mapping:
        cols = ["kind", "source_name", "qb_id", "qb_name", "qb_type"]
        write_table(accepted[cols].reset_index(drop=True), args.mapping, sheet="Mapping")
        _out(f"wrote the mapping ({len(accepted)} names) to {args.mapping}")
    if args.new_records:
        from .match import propose_new_records

        new = propose_new_records(None, decisions=decisions)
        write_new_records(new, args.new_records)
        _out(f"wrote {len(new)} proposed new QuickBooks records to {args.new_records}")
    return EXIT_OK


# -------------------------------------------------------------------- samples
def _samples_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("out", type=Path, help="folder to write the sample files into")


@command("samples", "write the bundled sample exports and QuickBooks lists to a folder", _samples_args)
def _samples(args: argparse.Namespace) -> int:
    from .samples import write_samples

    files = write_samples(args.out)
    _out(f"wrote {len(files)} sample files to {args.out}")
    return EXIT_OK


# ----------------------------------------------------------------------- demo
def _demo_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, default=None,
                   help="folder for the files the demo writes (default: a new temporary folder)")


@command("demo", "run the whole flow on the bundled samples and print what happens", _demo_args)
def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(out=args.out, echo=_out)


# ------------------------------------------------- QuickBooks Desktop (Web Connector)
def _default_ledger() -> Path:
    import os

    return Path(os.environ.get("QBRECON_LEDGER") or "qbrecon-ledger.sqlite")


def _queue_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("batch", type=Path, help="a saved batch (CSV or XLSX with the batch columns)")
    p.add_argument("--ledger", type=Path, required=True, help="the ledger file")
    p.add_argument("--company-file", default="",
                   help="full path of the QuickBooks company file, as the Web Connector user is "
                        "bound to it (default: whichever file QuickBooks has open)")
    p.add_argument("--show", action="store_true", help="print one line per entry")


@command("queue", "queue a batch for QuickBooks Desktop: the next Web Connector update delivers it",
         _queue_args)
def _queue(args: argparse.Namespace) -> int:
    from .batch import read_batch
    from .qbd import queue_for_desktop

    batch = read_batch(args.batch)
    result = queue_for_desktop(batch, ledger=args.ledger, company_file=args.company_file)
    queued = int((result["status"] == "queued").sum())
    _out(f"{queued} entries queued for {args.company_file or 'the open company file'}, "
         f"{len(result) - queued} already there")
    if args.show or (len(result) - queued and len(result) <= 20):
        _out(_frame_text(result, max_rows=200 if args.show else 20))
    return EXIT_OK


def _qwc_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--url", required=True,
                   help="the service URL the Web Connector calls (https, or http://localhost)")
    p.add_argument("--user", required=True, help="the Web Connector user name")
    p.add_argument("--company-file", default=None,
                   help="the company file this .qwc is for (default: the user's binding in "
                        "--users, else whichever file is open)")
    p.add_argument("--app-name", default=None, help="default: qbrecon (<company file name>)")
    p.add_argument("--description", default="Send approved time entries to QuickBooks")
    p.add_argument("--support-url", default=None, help="default: URL?support (same host)")
    p.add_argument("--minutes", type=int, default=30,
                   help="auto-run interval in minutes, 15 or more; 0 leaves the schedule out")
    p.add_argument("--ledger", type=Path, default=None,
                   help="the ledger that keeps the .qwc GUIDs (default: $QBRECON_LEDGER, else "
                        "qbrecon-ledger.sqlite here)")
    p.add_argument("--users", type=Path, default=None,
                   help="the users file: checks the user exists and takes its company file")
    p.add_argument("--out", type=Path, required=True, help="the .qwc file to write")


@command("qwc", "write the .qwc file that connects a Web Connector to the service", _qwc_args)
def _qwc(args: argparse.Namespace) -> int:
    from .errors import SettingsError
    from .qbd import read_users_file, write_qwc
    from .qbd.auth import make_users

    company = args.company_file
    if args.users is not None:
        users = make_users(read_users_file(args.users))
        if args.user not in users:
            raise SettingsError(f"user {args.user!r} is not in the users file", file=str(args.users))
        bound = users[args.user].company_file
        if company is None:
            company = bound
        elif bound and company.strip().casefold() != bound.casefold():
            raise SettingsError(f"user {args.user!r} is bound to {bound!r}, not {company!r}",
                                file=str(args.users))
    ledger = args.ledger or _default_ledger()
    path = write_qwc(args.out, url=args.url, user=args.user, ledger=ledger,
                     company_file=company or "", app_name=args.app_name,
                     app_description=args.description, support_url=args.support_url,
                     run_every_minutes=args.minutes or None)
    _out(f"wrote {path} for user {args.user} and {company or 'whichever company file is open'}")
    _out(f"its OwnerID and FileID are kept in {ledger}; in QuickBooks: File > Update Web "
         "Services > Add an Application")
    return EXIT_OK


def _webconnector_args(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="wc_action", metavar="ACTION")
    sub.required = True
    s = sub.add_parser("serve", help="serve the Web Connector service with the built-in server",
                       description="Serve the Web Connector service (plain http, for localhost; "
                                   "in production run the WSGI app behind TLS).")
    s.add_argument("--ledger", type=Path, required=True)
    s.add_argument("--users", type=Path, required=True,
                   help="users file (TOML or JSON): user name -> password, or a table with "
                        "password / password_hash and company_file")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    s.add_argument("--path", default="/qbwc", help="the path shown in the URL (any path is served)")
    s.add_argument("--allow-remote", action="store_true",
                   help="listen on a non-loopback address (only behind a TLS proxy)")
    s.add_argument("--default-item", default=None,
                   help="service item for billable entries whose batch row has none")
    s.add_argument("--chunk-size", type=int, default=50, help="TimeTrackingAdd requests per exchange")
    s.add_argument("--ticket-minutes", type=float, default=30.0,
                   help="minutes without a call before a session ticket expires")
    s.add_argument("--no-test-sync", action="store_true",
                   help="deliver from the first connection (no lists-only test sync)")
    h = sub.add_parser("hash-password", help="print a password hash for the users file",
                       description="Read a password (from standard input, or prompted) and print "
                                   "its salted hash, for password_hash in the users file.")
    h.add_argument("--stdin", action="store_true", help="read the password from standard input")
    stat = sub.add_parser("status", help="per company file: queued, pending, sent, failed, last update")
    stat.add_argument("--ledger", type=Path, required=True)
    lst = sub.add_parser("lists", help="show (or export) the lists staged by the Web Connector")
    lst.add_argument("--ledger", type=Path, required=True)
    lst.add_argument("--company-file", default="")
    lst.add_argument("--out", type=Path, default=None,
                     help="a folder to write the staged qbXML responses to (read_qb_lists reads it)")
    lst.add_argument("--refresh", action="store_true",
                     help="ask the next update to stage the lists again even if nothing is queued")


@command("webconnector", "the QuickBooks Web Connector service: serve, status, lists, hash-password",
         _webconnector_args)
def _webconnector(args: argparse.Namespace) -> int:
    if args.wc_action == "hash-password":
        return _wc_hash(args)
    if args.wc_action == "lists":
        return _wc_lists(args)
    if args.wc_action == "status":
        from .qbd import desktop_status

        status = desktop_status(args.ledger)
        _out(_frame_text(status.astype(object).fillna("")) if len(status) else
             "nothing queued for QuickBooks Desktop yet")
        return EXIT_PROBLEMS if len(status) and (status["failed"] > 0).any() else EXIT_OK
    from .qbd import WebConnectorSettings, read_users_file, webconnector_app
    from .qbd.server import make_wsgi_server, server_url

    settings = WebConnectorSettings(default_service_item=args.default_item,
                                    chunk_size=args.chunk_size,
                                    ticket_ttl=args.ticket_minutes * 60,
                                    test_sync=not args.no_test_sync)
    app = webconnector_app(ledger=args.ledger, users=read_users_file(args.users), settings=settings)
    server = make_wsgi_server(app, args.host, args.port, allow_remote=args.allow_remote)
    _out(f"qbrecon Web Connector service at {server_url(server, args.path)} "
         f"(WSDL: ?wsdl); ledger {args.ledger}; users {', '.join(sorted(app.service.users))}")
    _out("press Ctrl+C to stop")
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return EXIT_OK


def _wc_hash(args: argparse.Namespace) -> int:
    import getpass

    from .errors import SettingsError
    from .qbd import hash_password

    if args.stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Web Connector password: ")
        if getpass.getpass("again: ") != password:
            raise SettingsError("the two passwords differ")
    _out(hash_password(password))
    return EXIT_OK


def _wc_lists(args: argparse.Namespace) -> int:
    from .qbd import export_staged, request_list_staging, staged_lists, staging_info

    if args.refresh:
        request_list_staging(args.ledger, args.company_file)
        _out("the next Web Connector update stages the lists again")
    info = staging_info(args.ledger, args.company_file)
    if info.empty:
        _out("no lists staged yet for "
             f"{args.company_file or 'the open company file'}: run an update in the Web Connector")
        return EXIT_OK if args.refresh else EXIT_PROBLEMS
    _out(_frame_text(info))
    _out(staged_lists(args.ledger, args.company_file).summary())
    if args.out:
        files = export_staged(args.ledger, args.out, args.company_file)
        _out(f"wrote {len(files)} qbXML files to {args.out}")
    return EXIT_OK


def _log_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ledger", type=Path, required=True, help="the ledger file")
    view = p.add_mutually_exclusive_group()
    view.add_argument("--runs", action="store_true",
                      help="list the runs (sends, queues, Web Connector updates) instead")
    view.add_argument("--deliveries", action="store_true",
                      help="list each entry's delivery state instead (the transfer history)")
    p.add_argument("--desktop", action="store_true",
                   help="only QuickBooks Desktop (Web Connector) rows")
    p.add_argument("--company-file", default=None,
                   help="only this QuickBooks Desktop company file (as queued)")
    p.add_argument("--run", help="only this run")
    p.add_argument("--entry", help="only this entry id")
    p.add_argument("--level", choices=["info", "warning", "error"], help="only this level")
    p.add_argument("--limit", type=int, default=50, help="the newest N rows (default 50; 0 = all)")
    p.add_argument("--full", action="store_true", help="include the request and response bodies")
    p.add_argument("--out", type=Path,
                   help="write the rows to .csv or .xlsx instead of printing them")


@command("log", "show the integration log: every run, exchange, request and response", _log_args)
def _log(args: argparse.Namespace) -> int:
    from .errors import InputError
    from .ledger import Ledger

    if not args.ledger.exists():
        raise InputError("ledger not found", file=str(args.ledger))
    target = None if args.company_file is None else "qbd:" + args.company_file.strip()
    with Ledger(args.ledger) as led:
        if args.runs:
            frame = led.runs(target=target)
            desktop = frame["target"].fillna("").str.startswith("qbd:")
        elif args.deliveries:
            frame = led.deliveries(target=target, run_id=args.run,
                                   entry_ids=[args.entry] if args.entry else None)
            desktop = frame["target"].str.startswith("qbd:")
            if not args.full:
                frame = frame.drop(columns=["payload"])
        else:
            frame = led.log_frame(run_id=args.run, target=target, entry_id=args.entry,
                                  level=args.level)
            desktop = frame["target"].fillna("").str.startswith("qbd:") | frame["event"].str.startswith("wc_")
            if not args.full:
                frame = frame.drop(columns=["request", "response"])
    if args.desktop:
        frame = frame[desktop.to_numpy(dtype=bool)]
    frame = frame.reset_index(drop=True)
    if args.limit:
        frame = frame.tail(args.limit)
    if args.out:
        if args.out.suffix.lower() == ".xlsx":
            from ._io import write_workbook

            write_workbook(args.out, {"log": frame})
        else:
            from ._io import atomic_path, escape_cell

            with atomic_path(args.out) as tmp:  # formula-like text kept inert, as everywhere
                frame.astype(object).map(escape_cell).to_csv(tmp, index=False)
        _out(f"wrote {len(frame)} rows to {args.out}")
        return EXIT_OK
    if frame.empty:
        _out("(nothing recorded)")
        return EXIT_OK
    if args.deliveries:
        _out(frame["state"].value_counts().to_string())
        _out("")
    import pandas as pd

    with pd.option_context("display.max_colwidth", 90):
        _out(_frame_text(frame.astype(object).fillna(""), max_rows=max(len(frame), 20)))
    return EXIT_OK


# ------------------------------------------------------------------- validate
def _validate_args(p: argparse.ArgumentParser) -> None:
    from .rules import TARGETS

    p.add_argument("entries", nargs="+", type=Path,
                   help="time-tracker exports (CSV or XLSX files, or folders)")
    p.add_argument("--mapping", required=True, type=Path,
                   help="the mapping: a CSV/XLSX table (kind, source_name, qb_id, qb_name), "
                        "the mapping store, or a review workbook with the decisions")
    p.add_argument("--lists", type=Path, action="append", metavar="PATH",
                   help="QuickBooks lists (file or folder; repeatable): enables the inactive and "
                        "missing record checks and the QuickBooks full names")
    p.add_argument("--rules", type=Path, help="rules settings (TOML)")
    p.add_argument("--ledger", type=Path, help="the ledger: report entries already sent")
    p.add_argument("--report", type=Path, help="write the review workbook (.xlsx)")
    p.add_argument("--batch", type=Path, help="write the clean batch (.csv or .xlsx)")
    p.add_argument("--source", default="auto",
                   choices=["auto", "clockify", "toggl", "harvest", "qbtime", "generic"],
                   help="the tracker that made the exports (default: detect)")
    day = p.add_mutually_exclusive_group()
    day.add_argument("--dayfirst", dest="dayfirst", action="store_true", default=None,
                     help="dates are DD/MM/YYYY when the file cannot tell")
    day.add_argument("--monthfirst", dest="dayfirst", action="store_false",
                     help="dates are MM/DD/YYYY when the file cannot tell")
    p.add_argument("--rounding", metavar="MODE:MINUTES",
                   help='round each entry, e.g. "up:15" (overrides the rules file; "none" for none)')
    p.add_argument("--target", choices=TARGETS, help="where the batch goes (overrides the rules file)")
    p.add_argument("--split-long", action="store_true", default=None,
                   help="split entries over the limit or across midnight instead of rejecting them")
    p.add_argument("--default-item", metavar="ITEM", help="service item for unmapped tasks")
    p.add_argument("--rate-fallback", metavar="SOURCES",
                   help='where billable time without a tracker rate takes one, in order, e.g. '
                        '"employee,item,default" (the default; "none" for none; overrides the '
                        "rules file)")
    p.add_argument("--default-rate", type=float, metavar="RATE",
                   help="hourly rate for billable time no other source rates (overrides the "
                        "rules file)")
    p.add_argument("--show", type=int, default=20, metavar="N",
                   help="how many failures to print (default 20; the workbook has all)")


@command("validate", "check entries against the rules; write the report and the clean batch",
         _validate_args)
def _validate(args: argparse.Namespace) -> int:
    from .batch import build_batch, write_batch
    from .mapping import read_mapping
    from .rules import Rules, validate
    from .sources import read_time_entries

    rules = Rules.from_toml(args.rules) if args.rules else Rules()
    fallback = args.rate_fallback
    if fallback is not None and fallback.strip().lower() in ("none", "off", ""):
        fallback = ()
    changes = {k: v for k, v in {
        "rounding": args.rounding, "target": args.target, "split_long": args.split_long,
        "default_item": args.default_item, "rate_fallback": fallback,
        "default_rate": args.default_rate}.items() if v is not None}
    if changes:
        rules = rules.replace(**changes)
    mapping = read_mapping(args.mapping)
    lists = None
    if args.lists:
        from .qblists import read_qb_lists

        lists = read_qb_lists(args.lists if len(args.lists) > 1 else args.lists[0])
    paths = args.entries if len(args.entries) > 1 else args.entries[0]
    entries = read_time_entries(paths, source=args.source, dayfirst=args.dayfirst)
    report = validate(entries, mapping, rules=rules, lists=lists, ledger=args.ledger)
    _out(report.summary_text())
    if len(report.failures) and args.show > 0:
        shown = report.details()[["entry_id", "row", "rule", "severity", "message"]]
        _out("")
        _out(_frame_text(shown.head(args.show).reset_index(drop=True), max_rows=args.show))
        if len(shown) > args.show:
            _out(f"... and {len(shown) - args.show} more failures"
                 + (" (see the report workbook)" if args.report else " (write them with --report)"))
    if args.report:
        report.to_excel(args.report)
        _out(f"\nwrote the report to {args.report}")
    if args.batch:
        batch = build_batch(report)
        write_batch(batch, args.batch)
        _out(f"wrote the batch of {len(batch)} clean entries to {args.batch}")
    return EXIT_OK if report.ok else EXIT_PROBLEMS


# --------------------------------------------------------------------- export
_EXPORT_FORMATS = {".iif": "iif", ".xml": "qbxml", ".qbxml": "qbxml", ".csv": "csv", ".xlsx": "xlsx"}


def _export_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("batch", type=Path, help="a batch written by qbrecon validate --batch (CSV or XLSX)")
    p.add_argument("--out", required=True, type=Path, help="the file to write")
    p.add_argument("--format", choices=["iif", "qbxml", "csv", "xlsx"],
                   help="default: from the --out extension (.iif, .xml/.qbxml, .csv, .xlsx)")
    p.add_argument("--company", help="IIF: the company name exactly as in QuickBooks")
    p.add_argument("--company-create-time", help="IIF: COMPANYCREATETIME from a Timer Lists export")
    p.add_argument("--payroll-item", help="IIF PITEM / qbXML PayrollItemWageRef for every entry")
    p.add_argument("--class", dest="class_name", help="QuickBooks class for every entry")
    p.add_argument("--qbxml-version", default="13.0", help="qbXML version (default 13.0)")
    p.add_argument("--default-item",
                   help="IIF/qbXML: the service item of entries whose batch names none")
    p.add_argument("--strict-items", action="store_true",
                   help="IIF/qbXML: refuse billable entries without a service item (QuickBooks "
                        "Desktop refuses them) instead of writing them with a warning")


@command("export", "write a batch as IIF or qbXML for QuickBooks Desktop, or as CSV/XLSX",
         _export_args)
def _export(args: argparse.Namespace) -> int:
    from .batch import read_batch, write_batch
    from .errors import SettingsError

    fmt = args.format or _EXPORT_FORMATS.get(args.out.suffix.lower())
    if fmt is None:
        raise SettingsError(f"cannot tell the format from {args.out.name!r}; pass --format "
                            "iif, qbxml, csv or xlsx", setting="format")
    batch = read_batch(args.batch)
    if fmt == "iif":
        from .formats.iif import export_iif

        export_iif(batch, args.out, company=args.company,
                   company_create_time=args.company_create_time,
                   payroll_item=args.payroll_item, class_name=args.class_name,
                   default_item=args.default_item,
                   missing_item="error" if args.strict_items else "warn")
    elif fmt == "qbxml":
        from .formats.qbxml import export_qbxml

        export_qbxml(batch, args.out, version=args.qbxml_version,
                     payroll_item=args.payroll_item, class_name=args.class_name,
                     default_item=args.default_item,
                     missing_item="error" if args.strict_items else "warn")
    else:
        write_batch(batch, args.out, format=fmt)
    _out(f"wrote {len(batch)} entries to {args.out} ({fmt})")
    return EXIT_OK


# ------------------------------------------------------- QuickBooks Online
def _qbo_args(p: argparse.ArgumentParser, *, ledger: bool = True) -> None:
    g = p.add_argument_group("QuickBooks Online connection")
    g.add_argument("--token-file", type=Path, required=True,
                   help="the JSON token file written by `qbrecon auth` (kept current, mode 0600)")
    g.add_argument("--realm-id", help="the company (realm) id (default: the token file's)")
    g.add_argument("--environment",
                   help="sandbox, production, or an OpenID discovery-document URL "
                        "(default: the token file's, else sandbox)")
    g.add_argument("--base-url", help="the API base URL, e.g. http://127.0.0.1:8765/v3")
    g.add_argument("--client-id", help="the app's client id (default: the token file's or $QBRECON_CLIENT_ID)")
    g.add_argument("--client-secret",
                   help="the app's client secret (prefer $QBRECON_CLIENT_SECRET: arguments are visible to others)")
    g.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for each answer (default 60)")
    if ledger:
        p.add_argument("--ledger", type=Path, required=True,
                       help="the ledger file (SQLite): what was sent, every attempt")


def _connect(args: argparse.Namespace):
    from .errors import SettingsError
    from .qbo.auth import TokenStore
    from .qbo.client import connect_qbo

    data = TokenStore(args.token_file).load()
    realm = args.realm_id or data.get("realm_id")
    if not realm:
        raise SettingsError("give --realm-id: the token file does not name the company", setting="realm_id")
    environment = args.environment or data.get("environment") or "sandbox"
    base_url = args.base_url or (data.get("base_url") if not args.environment else None)
    return connect_qbo(realm_id=str(realm), token_file=args.token_file, environment=environment,
                       base_url=base_url, client_id=args.client_id, client_secret=args.client_secret,
                       timeout=args.timeout)


def _auth_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--token-file", type=Path, required=True, help="where to store the tokens (mode 0600)")
    p.add_argument("--environment", default="sandbox",
                   help="sandbox (default), production, or an OpenID discovery-document URL")
    p.add_argument("--client-id", help="the app's client id (default: $QBRECON_CLIENT_ID)")
    p.add_argument("--client-secret", help="the app's client secret (default: $QBRECON_CLIENT_SECRET)")
    p.add_argument("--redirect-uri",
                   help="a redirect URI registered for the app (default: $QBRECON_REDIRECT_URI, "
                        "else http://localhost:8000/callback)")
    p.add_argument("--response", metavar="URL_OR_CODE",
                   help="the URL the browser was redirected to (else it is asked for)")
    p.add_argument("--realm-id", help="the company id, when only a code is given")
    p.add_argument("--base-url", help="an API base URL to remember in the token file")
    p.add_argument("--no-store-credentials", action="store_true",
                   help="do not keep the client id and secret in the token file")


@command("auth", "connect to a QuickBooks Online company: authorize and store the tokens", _auth_args)
def _auth(args: argparse.Namespace) -> int:
    from .errors import AuthError
    from .qbo.auth import start_authorization

    flow = start_authorization(environment=args.environment, client_id=args.client_id,
                               client_secret=args.client_secret, redirect_uri=args.redirect_uri)
    _out("Open this URL, sign in to QuickBooks and choose the company:")
    _out(f"\n  {flow.url}\n")
    response = args.response
    if not response:
        _out("Then paste the whole URL the browser was sent to (it contains code= and realmId=):")
        try:
            response = input("> ").strip()
        except EOFError:
            raise AuthError("no redirect URL was entered") from None
    stored = flow.complete(response, token_file=args.token_file, realm_id=args.realm_id,
                           store_credentials=not args.no_store_credentials, base_url=args.base_url)
    _out(f"connected to company {stored.get('realm_id', '(unknown)')}; tokens saved to {args.token_file} "
         "(readable by you only)")
    if stored.get("expires_at"):
        _out(f"the access token is refreshed automatically (this one expires {stored['expires_at']})")
    return EXIT_OK


def _send_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("batch", type=Path, help="the batch to send (CSV or XLSX, as build_batch writes it)")
    _qbo_args(p)
    p.add_argument("--dry-run", action="store_true",
                   help="say per entry what a send would do, with the exact payloads; send nothing")
    p.add_argument("--out", type=Path, help="also write the results (or the dry run) to .csv or .xlsx")
    p.add_argument("--no-check-quickbooks", action="store_true",
                   help="do not search QuickBooks for the markers of entries the ledger has no record "
                        "of (only for a ledger known to hold every earlier send)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--concurrency", type=int, default=2, help="batch requests in flight (default 2)")


def _print_changed(results) -> None:
    from .qbo.send import CHANGED_SINCE_SENT

    changed = results[(results["error_code"].fillna("") == CHANGED_SINCE_SENT).to_numpy(dtype=bool)]
    if len(changed):
        _out(f"\n{len(changed)} entries changed in the tracker after they were sent; they are not sent "
             "again: fix them in QuickBooks")
        _out(_frame_text(changed[["entry_id", "qbo_id", "message"]].reset_index(drop=True)))


@command("send", "send a saved batch to QuickBooks Online, each entry exactly once", _send_args)
def _send(args: argparse.Namespace) -> int:
    from .batch import read_batch
    from .qbo.send import FOUND_MESSAGE, WOULD_SEND, prepare_batch, send_to_qbo
    from .qbo.tables import write_frame

    batch = read_batch(args.batch)
    prepare_batch(batch, file=str(args.batch))  # every problem, with file rows, before connecting
    client = _connect(args)
    check = not args.no_check_quickbooks
    with client:
        if args.dry_run:
            plan = send_to_qbo(batch, client, ledger=args.ledger, dry_run=True, check_quickbooks=check)
            counts = plan["status"].value_counts()
            _out(f"dry run: {len(plan)} entries, nothing sent")
            for status in (WOULD_SEND, "skipped"):
                _out(f"  {status:<12}{int(counts.get(status, 0)):>7}")
            if plan.attrs.get("batch_requests"):
                _out(f"  in {plan.attrs['batch_requests']} batch request(s) of up to 30")
            outside = plan.attrs.get("outside_batch") or []
            if outside:
                _out(f"  and {len(outside)} entries an interrupted send left open, not in this batch, "
                     "would be finished too")
            unchecked = plan[(plan["error_code"].fillna("") == "not_checked").to_numpy(dtype=bool)]
            if len(unchecked):
                _out(f"\nQuickBooks could not be searched just now for {len(unchecked)} entries the "
                     "ledger has no record of; a send searches first and sends only what is not there")
            _print_changed(plan)
            shown = plan[plan["payload"].notna()].head(3)
            for eid, payload in zip(shown["entry_id"], shown["payload"], strict=True):
                _out(f"\n{eid}: {payload}")
            if args.out:
                write_frame(plan, args.out)
                _out(f"\nwrote the plan to {args.out}")
            return EXIT_OK
        results = send_to_qbo(batch, client, ledger=args.ledger, progress=False if args.no_progress else None,
                              concurrency=args.concurrency, check_quickbooks=check)
    run_id = results.attrs.get("run_id", "")
    counts = results["status"].value_counts()
    _out(f"send {run_id}: {len(results)} entries")
    for status in ("sent", "skipped", "failed"):
        _out(f"  {status:<10}{int(counts.get(status, 0)):>7}")
    found = int((results["message"].fillna("") == FOUND_MESSAGE).sum())
    if found:
        _out(f"  ({found} of the skipped were already in QuickBooks, found by their markers: the ledger "
             "had no record of them)")
    failed = results[results["status"] == "failed"]
    if len(failed):
        _out("\nfailed entries:")
        _out(_frame_text(failed[["entry_id", "error_code", "message"]].reset_index(drop=True)))
    _print_changed(results)
    if args.out:
        write_frame(results, args.out)
        _out(f"\nwrote the results to {args.out}")
    if int(counts.get("sent", 0)):
        _out(f"\nto take this send back: qbrecon undo {run_id} --ledger {args.ledger} --token-file {args.token_file}")
    return EXIT_OK if failed.empty else EXIT_PROBLEMS


def _undo_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_id", help="the send run to undo (see `qbrecon log --runs`), or 'last'")
    _qbo_args(p)
    p.add_argument("--dry-run", action="store_true", help="only list what would be deleted")


@command("undo", "delete from QuickBooks Online the time entries one send created", _undo_args)
def _undo(args: argparse.Namespace) -> int:
    from .qbo.send import undo_send

    client = _connect(args)
    with client:
        results = undo_send(args.run_id, client, ledger=args.ledger, dry_run=args.dry_run)
    counts = results["status"].value_counts()
    _out(("dry run, would " if args.dry_run else "") + f"undo {args.run_id}: {len(results)} entries")
    for status, n in counts.items():
        _out(f"  {status:<20}{n:>7}")
    failed = results[results["status"] == "failed"]
    if len(failed):
        _out(_frame_text(failed[["entry_id", "qbo_id", "error_code", "message"]].reset_index(drop=True)))
    return EXIT_OK if failed.empty else EXIT_PROBLEMS


def _fetch_args(p: argparse.ArgumentParser) -> None:
    _qbo_args(p, ledger=False)
    p.add_argument("--out", type=Path,
                   help="a folder to save the lists in, as QBO query responses (Employee.json, ...)")


@command("fetch-lists", "load employees, vendors, customers, items and classes from QuickBooks Online",
         _fetch_args)
def _fetch_lists(args: argparse.Namespace) -> int:
    from .qbo.lists import fetch_qb_records, records_to_lists, write_query_responses

    client = _connect(args)
    with client:
        records = fetch_qb_records(client)
    _out(records_to_lists(records).summary())
    if args.out:
        files = write_query_responses(records, args.out)
        _out(f"\nwrote {len(files)} files to {args.out}")
    return EXIT_OK


def _create_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("proposals", type=Path,
                   help="CSV/XLSX with kind, name and optionally parent_full_name, qb_type, first_name, "
                        "last_name, email")
    _qbo_args(p)
    p.add_argument("--dry-run", action="store_true", help="only list what would be created")


@command("create-missing", "create in QuickBooks Online the employees/customers matching proposed",
         _create_args)
def _create_missing(args: argparse.Namespace) -> int:
    import pandas as pd

    from .errors import InputError
    from .qbo.send import create_missing

    try:
        if args.proposals.suffix.lower() in (".xlsx", ".xlsm"):
            proposals = pd.read_excel(args.proposals, dtype=str).fillna("")
        else:
            proposals = pd.read_csv(args.proposals, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the proposals ({exc})", file=str(args.proposals)) from None
    client = _connect(args)
    with client:
        result = create_missing(proposals, client, ledger=args.ledger, dry_run=args.dry_run)
    cols = ["qb_type", "full_name", "status", "qb_id", "message"]
    _out(_frame_text(result[cols]))
    return EXIT_OK if (result["status"] != "failed").all() else EXIT_PROBLEMS


def _emulator_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765; 0 = any free)")
    p.add_argument("--seed", default=None,
                   help="'builtin', or a folder/file of QBO query responses (default: data/samples/qbo)")
    p.add_argument("--state-file", type=Path, help="keep the company's state in this JSON file")
    p.add_argument("--token-file", type=Path, help="write a ready-to-use token file here")
    p.add_argument("--scale", type=float, default=1.0,
                   help="run the rate limits this many times faster (60: per second instead of per minute)")
    p.add_argument("--no-throttle", action="store_true", help="never answer 429")
    p.add_argument("--latency", type=float, default=0.0, help="seconds added to every API answer")


@command("emulator", "run the local QuickBooks Online emulator in the foreground", _emulator_args)
def _emulator(args: argparse.Namespace) -> int:
    from .qbo.emulator import QBOEmulator, serve
    from .qbo.limits import QBOLimits

    limits = None if args.no_throttle else QBOLimits().scaled(args.scale)
    emu = QBOEmulator(seed=args.seed, port=args.port, limits=limits, latency=args.latency,
                      state_file=args.state_file)
    serve(emu, echo=_out, token_file=str(args.token_file) if args.token_file else None)
    return EXIT_OK


# ------------------------------------------------------------------------ main
#: the order of ``qbrecon --help``: the steps of the flow, then the tools around them
_FLOW = ["load", "lists", "fetch-lists", "match", "apply-review", "validate", "export", "auth",
         "send", "undo", "create-missing", "queue", "qwc", "webconnector", "log", "emulator",
         "samples", "demo"]


def _flow_position(cmd: tuple) -> tuple[int, str]:
    name = cmd[0]
    return (_FLOW.index(name) if name in _FLOW else len(_FLOW), name)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qbrecon",
        description="Reconcile tracked time with QuickBooks: load, match, validate, send exactly once.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    parser.add_argument("-q", "--quiet", action="store_true", help="only errors")
    from . import __version__

    parser.add_argument("--version", action="version", version=f"qbrecon {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, help_text, configure, func in sorted(_COMMANDS, key=_flow_position):
        p = sub.add_parser(name, help=help_text, description=help_text)
        configure(p)
        p.set_defaults(func=func)
    return parser


def _configure_logging(verbose: int, quiet: bool) -> None:
    level = logging.ERROR if quiet else (logging.DEBUG if verbose > 1 else
                                         logging.INFO if verbose == 1 else logging.WARNING)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    logger = logging.getLogger("qbrecon")
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"warning: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``qbrecon`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose, args.quiet)
    warnings.showwarning = _show_warning  # the library's warnings, as one line each
    try:
        return int(args.func(args))
    except QbreconError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:
        # a file the command was told to use that the system refuses (permissions, a
        # folder where a file was meant, a full disk): the user's to fix, said in one line
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
