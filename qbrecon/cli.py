"""The ``qbrecon`` command: a thin layer over the public API.

Commands parse their arguments, call library functions, print a short summary and
exit 0 on success, 1 when the work finished but found problems (invalid entries,
failed sends), and 2 when the input or settings were unusable (a QbreconError).
"""

from __future__ import annotations

import argparse
import logging
import sys
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
    p.add_argument("--dry-run", action="store_true", help="show the exact payloads; send nothing")
    p.add_argument("--out", type=Path, help="also write the results (or the dry run) to .csv or .xlsx")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--concurrency", type=int, default=2, help="batch requests in flight (default 2)")


def _read_batch(path: Path):
    try:
        from .batch import read_batch  # type: ignore[attr-defined]
    except ImportError:
        from .qbo.send import read_batch_file as read_batch
    return read_batch(path)


@command("send", "send a saved batch to QuickBooks Online, each entry exactly once", _send_args)
def _send(args: argparse.Namespace) -> int:
    from .qbo.send import prepare_batch, send_to_qbo
    from .qbo.tables import write_frame

    batch = _read_batch(args.batch)
    prepare_batch(batch, file=str(args.batch))  # every problem, with file rows, before connecting
    client = _connect(args)
    with client:
        if args.dry_run:
            plan = send_to_qbo(batch, client, ledger=args.ledger, dry_run=True)
            counts = plan["action"].value_counts()
            _out(f"dry run: {len(plan)} entries, nothing sent")
            for action, n in counts.items():
                _out(f"  {action:<20}{n:>7}")
            chunks = plan["chunk"].dropna()
            if len(chunks):
                _out(f"  in {int(chunks.max())} batch request(s) of up to 30")
            shown = plan[plan["payload"].notna()].head(3)
            for eid, payload in zip(shown["entry_id"], shown["payload"], strict=True):
                _out(f"\n{eid}: {payload}")
            if args.out:
                write_frame(plan, args.out)
                _out(f"\nwrote the payloads to {args.out}")
            return EXIT_OK
        results = send_to_qbo(batch, client, ledger=args.ledger, progress=False if args.no_progress else None,
                              concurrency=args.concurrency)
    run_id = results.attrs.get("run_id", "")
    counts = results["status"].value_counts()
    _out(f"send {run_id}: {len(results)} entries")
    for status in ("sent", "skipped", "failed"):
        _out(f"  {status:<10}{int(counts.get(status, 0)):>7}")
    failed = results[results["status"] == "failed"]
    if len(failed):
        _out("\nfailed entries:")
        _out(_frame_text(failed[["entry_id", "error_code", "message"]].reset_index(drop=True)))
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


def _log_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ledger", type=Path, required=True, help="the ledger file")
    view = p.add_mutually_exclusive_group()
    view.add_argument("--runs", action="store_true", help="list the runs (sends, undos) instead")
    view.add_argument("--deliveries", action="store_true", help="list each entry's delivery state instead")
    p.add_argument("--run", help="only this run")
    p.add_argument("--entry", help="only this entry id")
    p.add_argument("--level", choices=["info", "warning", "error"], help="only this level")
    p.add_argument("--limit", type=int, default=50, help="the newest N rows (default 50; 0 = all)")
    p.add_argument("--full", action="store_true", help="include the request and response bodies")
    p.add_argument("--out", type=Path, help="write the rows to .csv or .xlsx instead of printing them")


@command("log", "show the integration log: every run, attempt, request and response", _log_args)
def _log(args: argparse.Namespace) -> int:
    from .errors import InputError
    from .ledger import Ledger
    from .qbo.tables import write_frame

    if not args.ledger.exists():
        raise InputError("no such ledger", file=str(args.ledger))
    with Ledger(args.ledger) as led:
        if args.runs:
            frame = led.runs()
        elif args.deliveries:
            frame = led.deliveries(run_id=args.run, entry_ids=[args.entry] if args.entry else None)
            if not args.full:
                frame = frame.drop(columns=["payload"])
        else:
            frame = led.log_frame(run_id=args.run, entry_id=args.entry, level=args.level,
                                  limit=args.limit or None)
            if not args.full:
                frame = frame.drop(columns=["request", "response"])
    if args.limit and (args.runs or args.deliveries):
        frame = frame.tail(args.limit)
    if args.out:
        write_frame(frame.reset_index(drop=True), args.out)
        _out(f"wrote {len(frame)} rows to {args.out}")
        return EXIT_OK
    if frame.empty:
        _out("(nothing recorded)")
        return EXIT_OK
    if args.deliveries:
        _out(frame["state"].value_counts().to_string())
        _out("")
    _out(_frame_text(frame.reset_index(drop=True), max_rows=max(args.limit, 20) if args.limit else 10_000))
    return EXIT_OK


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
    for name, help_text, configure, func in _COMMANDS:
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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``qbrecon`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose, args.quiet)
    try:
        return int(args.func(args))
    except QbreconError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
