"""The exceptions qbrecon raises, and the one warning category it emits.

Every error a user can cause (a bad file, a bad setting, bad credentials, a send
QuickBooks refused) is a :class:`QbreconError`. Anything else escaping qbrecon is a bug.

::

    QbreconError                     base of every error a user can cause
    ├── InputError                   a file or frame that cannot be read as asked;
    │                                .problems lists every bad (file, row, column, value)
    ├── SettingsError                a setting that is not allowed (Rules, TOML, CLI option)
    ├── ValidationFailed             Report.raise_if_errors(): entries broke rules; .report
    ├── AuthError                    credentials missing, refused or expired: run `qbrecon auth`
    ├── LedgerError                  the ledger file cannot be used (locked, corrupt, foreign)
    └── SendError                    a delivery to QuickBooks did not complete; .entry_ids, .fault
        ├── TransientSendError       worth retrying later (throttled, 5xx, timeout)
        └── RejectedSendError        refused by QuickBooks; do not retry unchanged

    QbreconWarning (UserWarning)     something the user should look at, but not an error
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

#: how many problems an error message spells out before summarising the rest
MAX_LISTED = 50


class QbreconWarning(UserWarning):
    """A condition worth the user's attention that does not stop the work."""


class QbreconError(Exception):
    """Base class of every error a user can cause."""


@dataclass(frozen=True)
class Problem:
    """One bad value: where it is, what it was, and what was expected.

    ``row`` is the 1-based row of the source file as a spreadsheet shows it (the
    header is row 1 of a CSV), or None when the problem is not tied to a row.
    """

    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    value: Any = None

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        head = ", ".join(where)
        shown = ""
        if self.value is not None and self.value != "":
            text = str(self.value)
            if len(text) > 60:
                text = text[:57] + "..."
            shown = f" (got {text!r})"
        return f"{head}: {self.message}{shown}" if head else f"{self.message}{shown}"


class InputError(QbreconError):
    """A file or frame that cannot be read as asked.

    Args:
        message: what is wrong, in one line.
        file: the file concerned, if any.
        problems: every individual bad value found; all are listed at once.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        problems: Iterable[Problem] = (),
    ) -> None:
        self.file = None if file is None else str(file)
        self.problems: list[Problem] = list(problems)
        self.summary = message
        super().__init__(self._render())

    def _render(self) -> str:
        head = f"{self.file}: {self.summary}" if self.file else self.summary
        if not self.problems:
            return head
        lines = [head]
        for p in self.problems[:MAX_LISTED]:
            prefix = f"{p.file}: " if p.file and p.file != self.file else ""
            lines.append(f"  - {prefix}{p}")
        rest = len(self.problems) - MAX_LISTED
        if rest > 0:
            lines.append(f"  ... and {rest} more (see .problems)")
        return "\n".join(lines)

    @property
    def rows(self) -> list[int]:
        """The distinct source rows that have problems, in order."""
        return sorted({p.row for p in self.problems if p.row is not None})

    def problems_frame(self):  # -> pandas.DataFrame (imported lazily: errors stays light)
        """The problems as a DataFrame with columns file, row, column, value, message."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "file": p.file or self.file,
                    "row": p.row,
                    "column": p.column,
                    "value": p.value,
                    "message": p.message,
                }
                for p in self.problems
            ],
            columns=["file", "row", "column", "value", "message"],
        )


class OutputError(InputError):
    """A file that cannot be written where asked (a folder by that name, no permission,
    a full disk); ``file`` names it."""


class SettingsError(QbreconError):
    """A setting that is not allowed; the message names the setting and what is allowed."""

    def __init__(self, message: str, *, setting: str | None = None, file: str | None = None):
        self.setting = setting
        self.file = None if file is None else str(file)
        prefix = f"{self.file}: " if self.file else ""
        super().__init__(prefix + message)


class ValidationFailed(QbreconError):
    """Raised by ``Report.raise_if_errors()`` when entries broke error-level rules."""

    def __init__(self, message: str, *, report: Any = None) -> None:
        self.report = report
        super().__init__(message)


class AuthError(QbreconError):
    """Credentials are missing, refused or expired. The fix is usually ``qbrecon auth``."""


class LedgerError(QbreconError):
    """The ledger file cannot be used (locked by another sender, corrupt, not a ledger)."""


class SendError(QbreconError):
    """A delivery to QuickBooks did not complete.

    Attributes:
        entry_ids: the entries the failed request carried.
        fault: the QuickBooks fault (a dict with at least ``code`` and ``message``), if any.
        status: the HTTP status, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        entry_ids: Sequence[str] = (),
        fault: dict | None = None,
        status: int | None = None,
    ) -> None:
        self.entry_ids = list(entry_ids)
        self.fault = fault
        self.status = status
        super().__init__(message)


class TransientSendError(SendError):
    """Worth retrying later with the same request id: throttled, server error, timeout."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kw)


class RejectedSendError(SendError):
    """QuickBooks refused the request; sending it again unchanged will fail again."""


__all__ = [
    "AuthError",
    "InputError",
    "LedgerError",
    "OutputError",
    "Problem",
    "QbreconError",
    "QbreconWarning",
    "RejectedSendError",
    "SendError",
    "SettingsError",
    "TransientSendError",
    "ValidationFailed",
]
