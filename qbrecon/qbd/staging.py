"""The QuickBooks lists staged by Web Connector sessions, loaded like any list file.

Every session that stages lists keeps QuickBooks' raw responses in the ledger (pages of
an iterator query one after another). The latest *complete* staging of a company file
is what :func:`staged_lists` returns, so a session cut off half-way never leaves a
half-read customer list behind.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..ledger import Ledger, now
from . import store
from .queue import resolve_company_file, target_for


def _existing(ledger: Ledger | str | os.PathLike[str]) -> Ledger:
    """The ledger, opened only if it exists: reading a mistyped path must not create an
    empty ledger and report that nothing is queued.

    Raises:
        InputError: there is no file at that path.
    """
    if isinstance(ledger, Ledger):
        return ledger
    if not Path(ledger).is_file():
        raise InputError("ledger not found (nothing has been queued or served with it; "
                         "check the path)", file=str(ledger))
    return Ledger(ledger)


def _target_of(led: Ledger, company_file: str) -> str:
    return target_for(resolve_company_file(led, company_file))


def staged_lists(
    ledger: Ledger | str | os.PathLike[str], company_file: str = "", *, _target: str | None = None
):  # -> QBLists (imported lazily)
    """The QuickBooks lists the Web Connector staged last for ``company_file``.

    Args:
        ledger: the ledger (path or object).
        company_file: the company file as configured for the Web Connector user
            ("" for a user bound to whichever file is open).

    Returns:
        A :class:`~qbrecon.QBLists` (employees, vendors, customers with jobs, service
        items, payroll wage items, classes), active and inactive records alike.

    Raises:
        InputError: nothing has been staged for this company file yet, or there is no
            ledger at that path.

    Example:
        >>> lists = staged_lists("ledger.sqlite", r"C:\\Company\\Acme.qbw")  # doctest: +SKIP
        >>> lists.customers[["full_name", "active"]].head()                   # doctest: +SKIP
    """
    from ..qblists import lists_from_qbxml

    led = _existing(ledger)
    try:
        target = _target or _target_of(led, company_file)
        info, pages = store.staged_responses(led, target)
        if not info:
            raise InputError(
                f"no QuickBooks lists have been staged for {target[4:] or 'the open company file'} "
                "yet: they are staged by the next Web Connector update")
        docs = [" ".join(g["response"].tolist()) for _, g in pages.groupby("list", sort=False)]
        return lists_from_qbxml(docs, source=f"lists staged {info['completed_at']}")
    finally:
        if led is not ledger:
            led.close()


def staging_info(ledger: Ledger | str | os.PathLike[str], company_file: str = "") -> pd.DataFrame:
    """When each list of ``company_file`` was last staged, and how many records it had."""
    led = _existing(ledger)
    try:
        info, pages = store.staged_responses(led, _target_of(led, company_file))
        records = (info.get("counts") or {}).get("records", {})
        errors = (info.get("counts") or {}).get("errors", {})
        names = list(dict.fromkeys([*records, *errors]))
        return pd.DataFrame({
            "list": names,
            "records": [int(records.get(n, 0)) for n in names],
            "pages": [int((pages["list"] == n).sum()) for n in names],
            "staged_at": [info.get("completed_at")] * len(names),
            "error": [errors.get(n, "") for n in names],
        })
    finally:
        if led is not ledger:
            led.close()


def export_staged(
    ledger: Ledger | str | os.PathLike[str], folder: str | os.PathLike[str], company_file: str = ""
) -> list[Path]:
    """Write the latest staged responses as qbXML files (one per list) into ``folder``.

    The files are what ``qbrecon.read_qb_lists(folder)`` reads.
    """
    led = _existing(ledger)
    try:
        target = _target_of(led, company_file)
        info, pages = store.staged_responses(led, target)
        if not info:
            raise InputError(f"no QuickBooks lists have been staged for "
                             f"{target[4:] or 'the open company file'} yet")
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, g in pages.groupby("list", sort=False):
            path = out / f"{name}.xml"
            path.write_text("\n".join(g["response"].tolist()), encoding="utf-8")
            written.append(path)
        return written
    finally:
        if led is not ledger:
            led.close()


def request_list_staging(ledger: Ledger | str | os.PathLike[str], company_file: str = "") -> None:
    """Ask the next Web Connector update of ``company_file`` to stage the lists again,
    even when nothing is queued (like Clean Smarts' "Get Locations")."""
    led = _existing(ledger)
    try:
        store.update_file(led, _target_of(led, company_file), lists_requested_at=now())
    finally:
        if led is not ledger:
            led.close()


def desktop_status(ledger: Ledger | str | os.PathLike[str]) -> pd.DataFrame:
    """One row per company file: entries queued, pending, sent and failed, and when the
    Web Connector last connected, staged the lists and did its test sync.

    Raises:
        InputError: there is no ledger at that path (it is never created here).

    Example:
        >>> import tempfile, os
        >>> from qbrecon.ledger import Ledger
        >>> path = os.path.join(tempfile.mkdtemp(), "l.sqlite")
        >>> try:
        ...     desktop_status(path)
        ... except InputError as exc:
        ...     print("ledger not found" in str(exc), os.path.exists(path))
        True False
        >>> desktop_status(Ledger(path)).columns.tolist()[:3]
        ['company_file', 'queued', 'pending']
    """
    led = _existing(ledger)
    try:
        store.ensure(led)
        counts = store.query(led, "SELECT target, state, COUNT(*) FROM deliveries WHERE target "
                             "LIKE 'qbd:%' GROUP BY target, state")
        files = {r["target"]: dict(r) for r in store.query(led, "SELECT * FROM qbwc_files")}
        last = dict(store.query(led, "SELECT target, MAX(started_at) FROM runs WHERE kind = "
                                "'webconnector' GROUP BY target"))
        targets = sorted({r[0] for r in counts} | set(files))
        rows = []
        for t in targets:
            c = {r[1]: r[2] for r in counts if r[0] == t}
            f = files.get(t, {})
            rows.append({"company_file": t[4:], **{k: int(c.get(k, 0)) for k in
                                                    ("queued", "pending", "sent", "failed")},
                         "last_update": last.get(t), "lists_staged": f.get("staged_at"),
                         "test_sync": f.get("test_sync_at"), "product": f.get("product"),
                         "qbxml_version": f.get("qbxml_version")})
        cols = ["company_file", "queued", "pending", "sent", "failed", "last_update",
                "lists_staged", "test_sync", "product", "qbxml_version"]
        return pd.DataFrame(rows, columns=cols)
    finally:
        if led is not ledger:
            led.close()
