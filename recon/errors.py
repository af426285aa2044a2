"""Errors a user can act on, and the exit codes they end the run with.

Exit codes (documented in README.md, relied on by cron and systemd alerts):

====  ==========================================================================
0     clean: every source measured, nothing needs attention
1     findings that need attention (shortfall, overage, unmapped resources ...)
2     incomplete: a source failed or its data was rejected; findings cover only
      what was measured
3     bad input or configuration: nothing was written to the store
4     the store is busy (another run holds it) or cannot be opened
5     internal error: recon met a case it does not handle (a bug); nothing more
      was written, the one line names the command and the error, ``-v`` logs
      the traceback
====  ==========================================================================
"""
from __future__ import annotations

from pathlib import Path

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_INCOMPLETE = 2
EXIT_BAD_INPUT = 3
EXIT_STORE_BUSY = 4
EXIT_INTERNAL = 5


class ReconError(Exception):
    """An error that ends the command with a documented exit code."""

    exit_code = EXIT_BAD_INPUT


class InputError(ReconError):
    """Bad input in a file the user gave us; names the file, line and column.

    ``line`` is the 1-based line of a CSV file (header = line 1) or the row
    number of a spreadsheet, as Excel shows it.
    """

    def __init__(self, path: str | Path | None, message: str, line: int | None = None,
                 column: str | None = None):
        self.path = str(path) if path is not None else None
        self.line = line
        self.column = column
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path or "<input>"
        if self.line is not None:
            where += f":{self.line}"
        if self.column:
            where += f" [{self.column}]"
        return f"{where}: {self.message}"


class ConfigError(ReconError):
    """The configuration is wrong or incomplete."""


class StoreBusy(ReconError):
    exit_code = EXIT_STORE_BUSY


class StoreError(ReconError):
    """The store cannot be opened or written (path unreadable, wrong file)."""

    exit_code = EXIT_STORE_BUSY
