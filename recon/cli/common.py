"""What every command group shares: argument types, the one way to open config, contract
and store from the arguments, and the line a waiting command prints.

A command module parses, calls the library and maps the answer to an exit code; it never
decides a figure.  Exit codes are in :mod:`recon.errors` and README.md.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from recon import conclude
from recon.config import Config, load_config, store_path
from recon.contract import Contract, Contracts, load_contracts
from recon.errors import ConfigError
from recon.outbox import check_folder
from reports.common import visible


def date_arg(text: str) -> date:
    """argparse type: YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def month_arg(text: str) -> date:
    """argparse type: YYYY-MM, as the first day of the month."""
    try:
        return datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a month (YYYY-MM): {text!r}") from None


def out(text: str = "") -> None:
    """One line of a listing for a person (stdout): bidi controls in ledger values shown as
    [U+202E], never applied to the terminal's text."""
    print(visible(text))


def say(message: str) -> None:
    """Tell a person at the terminal why the command waits (stderr, never stdout)."""
    print(f"recon: {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Opened:
    """The configuration, the contract and the store path a command was given."""

    config: Config
    #: the first contract ([contract]), or the one --contract names; a command about a night
    #: or month asks ``contracts`` for the one in force then (第十三条 2: a follow-on contract
    #: shares the store); a command that takes --contract without it asks :meth:`chosen`
    contract: Contract | None
    db: Path
    out: Path
    contracts: Contracts | None = None
    #: --contract was given (else :meth:`chosen` takes the newest night's contract)
    named: bool = False

    def chosen(self, store) -> Contract:
        """The contract a ledger command works on: --contract, else the contract of the
        newest stored night (in force on it, or, in its transition period, the one that
        ended: the settlement and final acceptance due after a term are that contract's),
        else the first.  Why the newest night: the store's own state says which contract
        the agency is working under, with no date to type; a command about an earlier
        contract names it."""
        if self.named:
            return self.contract
        dates = store.snapshot_dates()
        return self.contracts.for_night(dates[-1])[0] if dates else self.contracts.first


def add_contract(parser, default: str = "the contract of the newest stored night, else "
                 "[contract]") -> None:
    """The --contract option of a command about one contract's ledgers and milestones
    (open_args resolves it: an unknown number exits 3)."""
    parser.add_argument("--contract", metavar="NUMBER",
                        help=f"the contract (合同编号) it is about (default: {default})")


def _named(contracts: Contracts, number: str) -> Contract:
    """The configured contract numbered ``number``; exit 3 naming the numbers configured."""
    for c in contracts.all:
        if c.number == number:
            return c
    raise ConfigError(f"--contract {number!r}: no such contract in {contracts.path}; "
                      f"configured: {', '.join(c.number for c in contracts.all)}")


def open_args(args, contract: bool = True) -> Opened:
    """Read --config (else RECON_CONFIG, else ./recon.toml), the contract it names
    (exit 3 on either; --contract, when the command takes it, must be one configured),
    and the --db / --out the command was given, if it takes them."""
    config = load_config(args.config)
    contracts = load_contracts(config) if contract or hasattr(args, "contract") else None
    number = getattr(args, "contract", None)
    db = store_path(config, getattr(args, "db", None))
    out = Path(args.out) if getattr(args, "out", None) else config.out_dir
    if hasattr(args, "out"):  # a command that writes files: their folder is checked first
        check_folder(out, "--out" if getattr(args, "out", None) else
                     f"{config.path}: [report] out")
    first = contracts.first if contracts else None
    return Opened(config, _named(contracts, number) if number else first, db, out, contracts,
                  bool(number))


def conclude_latest(store, o: Opened) -> None:
    """Conclude again (a ledger its conclusions rest on changed) the newest stored night of
    the contract that judged the newest night: that night itself, or, in a transition
    period (which concludes nothing, 第十三条 2), the ended contract's last night in its term."""
    dates = store.snapshot_dates()
    if dates:
        # in transition the ended contract's: its last night in the term is the one its
        # settlement and annual assessment read, so that is the one concluded again
        contract = o.contracts.for_night(dates[-1])[0]
        last = conclude.last_term_night(store, contract)
        if last:
            conclude.night(store, contract, o.config, last)


def add_db(parser, out: bool = False) -> None:
    """The --db (and --out) options every store command takes, said the same way."""
    parser.add_argument("--db", help="DuckDB store (default: [store] path or RECON_DB)")
    if out:
        parser.add_argument("--out", help="report folder (default: [report] out)")
