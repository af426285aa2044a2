"""Progress for people on a terminal, plain log lines for cron and systemd.

On a TTY the current step is redrawn in place on stderr; otherwise each step
is one timestamped line (Beijing time, +08:00), so a cron mail or the journal
reads as a log.  ``quiet`` (cron's ``--quiet``) drops progress only: problems
(a failed or rejected source) and notes (what the run uses, how it ended)
are always written, or cron would mail nothing on the night that matters.
"""
from __future__ import annotations

import sys
from datetime import datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Progress:
    def __init__(self, stream=None, quiet: bool = False):
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._drawn = False

    def step(self, message: str) -> None:
        """A transient step (redrawn on a terminal, logged otherwise)."""
        if self.quiet:
            return
        if self.tty:
            self.stream.write("\r\033[K" + message)
            self.stream.flush()
            self._drawn = True
        else:
            self.log(message)

    def log(self, message: str) -> None:
        """A line that stays; dropped when quiet."""
        if not self.quiet:
            self._line(message)

    def note(self, message: str) -> None:
        """A line even a quiet run writes: the files it uses, how it ended."""
        self._line(message)

    def problem(self, message: str) -> None:
        """Something someone must look at (a source failed or was rejected); never dropped."""
        self._line("problem: " + message)

    def _line(self, message: str) -> None:
        if self.tty:
            if self._drawn:
                self.stream.write("\r\033[K")
                self._drawn = False
            self.stream.write(message + "\n")
        else:
            stamp = datetime.now(SHANGHAI).isoformat(timespec="seconds")
            self.stream.write(f"{stamp} recon: {message}\n")
        self.stream.flush()

    def done(self) -> None:
        if self.tty and self._drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self._drawn = False
