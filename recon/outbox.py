"""Files that appear exactly when the store commits the run that wrote them.

A night changes two things that cannot share one transaction: the DuckDB
store and its report files.  The store is the truth and the files follow it,
through a journal beside the store (``<store>.outbox``):

1. *stage* (inside the store's transaction): the journal names the run and
   each file's pending and final path, and is on disk before any pending file
   is; then each file is written in full under its pending name
   (``nightly.html.run17.pending``) and fsynced.
2. the store commits the run: snapshot, conclusions and the run's row.
3. *publish*: each pending file is renamed over its final name (one atomic
   rename per file), the folders are fsynced, the journal goes.

Whenever the process dies, the journal says what to do with what it left:
if its run is not in the store, the transaction never committed and the
pending files are deleted (the night stays as it was, old files included);
if it is, the renames are finished (the night is the new one).  Every open
of the store *settles* a journal this way before reading anything.  Only a
process that has the store's file open can stage, publish or settle, and a
writer excludes everyone else: so a journal that an opener finds belongs to
a process that died, never to one still writing.
"""
from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Callable

from recon.errors import ConfigError

log = logging.getLogger(__name__)


def check_folder(folder: Path, what: str = "--out") -> None:
    """The folder files will be written into can be made and written (ConfigError, exit 3).

    Checked before anything is written: the folder itself, or the nearest folder
    above it that exists (the missing ones are made later), must be a folder we
    can create a file in.  A path under a regular file, or a folder the user may
    not write, ends the command here instead of in a traceback halfway through.
    """
    folder = Path(folder)
    probe = folder.absolute()
    while not probe.exists() and not probe.is_symlink():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        which = "it" if probe == folder.absolute() else str(probe)
        raise ConfigError(f"{what} {folder}: cannot write reports there: {which} is "
                          f"{'a file' if probe.is_file() else 'not a folder'}, not a folder")
    try:
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError as exc:
        raise ConfigError(f"{what} {folder}: cannot write reports there: "
                          f"{exc.strerror or exc} ({probe})") from None


class Outbox:
    def __init__(self, journal: Path):
        self.journal = Path(journal)
        self.run_id: int | None = None
        self.files: list[tuple[str, str]] = []   # (pending, final), absolute

    def stage(self, run_id: int, files: dict[Path, str]) -> list[Path]:
        """Write ``files`` (final path -> text) under pending names for ``run_id``.

        Returns the final paths, which exist once the run's transaction commits.
        """
        if self.run_id not in (None, run_id):
            raise RuntimeError(f"outbox holds run {self.run_id}, not {run_id}")
        self.run_id = run_id
        new = [(f"{final}.run{run_id}.pending", final)
               for final in (os.path.abspath(p) for p in files)]
        self.files += new
        # the journal first: a pending file on disk is always one the journal names
        tmp = self.journal.with_name(self.journal.name + ".tmp")
        _write_synced(tmp, json.dumps({"run_id": run_id, "files": self.files},
                                      ensure_ascii=False))
        os.replace(tmp, self.journal)
        _sync_dir(self.journal.parent)
        for (pending, final), text in zip(new, files.values()):
            try:
                Path(pending).parent.mkdir(parents=True, exist_ok=True)
                _write_synced(Path(pending), text)
            except OSError as exc:
                # the caller's transaction rolls back and discards what was staged
                raise ConfigError(f"{final}: cannot write the report file: "
                                  f"{exc.strerror or exc}; nothing was stored") from None
        return [Path(final) for _, final in new]

    def publish(self) -> None:
        """After the commit: every staged file takes its final name."""
        self._end(keep=True)

    def discard(self) -> None:
        """After a rollback: the staged files go, the old ones stay."""
        self._end(keep=False)

    def _end(self, keep: bool) -> None:
        if self.run_id is None:
            return  # a transaction that staged nothing (the ledger, a migration)
        _finish(self.journal, self.files, keep)
        self.run_id, self.files = None, []

    def settle(self, committed: Callable[[int], bool]) -> str | None:
        """Finish what a process that died left behind; says what it did, or None."""
        try:
            left = json.loads(self.journal.read_text(encoding="utf-8"))
            run_id = int(left["run_id"])
            files = [(str(p), str(f)) for p, f in left["files"]]
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            # a journal nobody can act on must not lock the store away: set it aside
            aside = self.journal.with_name(self.journal.name + ".unreadable")
            with _quiet():
                os.replace(self.journal, aside)
            return f"{self.journal}: unreadable journal ({exc}) set aside as {aside.name}"
        keep = committed(run_id)
        failed = _finish(self.journal, files, keep=keep)
        said = (f"run {run_id} was stored but cut off before its report files took "
                f"their names: done now" if keep else
                f"run {run_id} died before it was stored: its unfinished report "
                f"files were removed")
        if failed:
            said += (f"; {len(failed)} report file(s) could not be placed ({failed[0]}): "
                     f"`recon report index` writes a night's report again from the store")
        return said


def _finish(journal: Path, files: list[tuple[str, str]], keep: bool) -> list[str]:
    """Rename (``keep``) or delete every pending file, then drop the journal.

    Returns what could not be done, as ``path: reason``.  A file that cannot be
    placed (its folder is gone, became a file, or may not be written) never
    keeps the journal: the store is the truth and the report can be written
    again from it; a journal that stayed would fail every later open.
    """
    failed = [why for pending, final in files
              if (why := _finish_file(pending, final, keep))]
    for folder in {os.path.dirname(final) for _, final in files}:
        _sync_dir(folder)
    with _quiet():
        journal.unlink(missing_ok=True)
    return failed


def _finish_file(pending: str, final: str, keep: bool) -> str | None:
    try:
        if keep:
            os.replace(pending, final)
        else:
            os.unlink(pending)
    except FileNotFoundError:
        pass  # done before the process died, or never written
    except NotADirectoryError:
        if keep:  # a folder on the way became a file: the file cannot take its name
            return f"{final}: a folder on its path is a file"
        # its folder is a file: the pending file was never written either
    except OSError as exc:
        log.warning("outbox: %s: %s", final if keep else pending, exc)
        return f"{final if keep else pending}: {exc.strerror or exc}"
    return None


class _quiet:
    """Suppress an OSError of a clean-up step (logged)."""

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if kind is not None and issubclass(kind, OSError):
            log.warning("outbox: %s", exc)
            return True
        return False


def _write_synced(path: Path, text: str) -> None:
    """Write ``path`` and flush it to disk (a power cut must not leave it half there)."""
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def _sync_dir(folder) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
