"""``qbrecon demo``: the whole flow on the bundled samples, narrated.

The demo only connects public functions; each step is one call a notebook or script
would make. It writes its files into ``out`` (a new temporary folder by default).
"""

from __future__ import annotations

import logging
import tempfile
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

    echo("")
    echo("Done.")
    return 0
