"""The `recon` command: one parser, a command group per module, errors mapped to exit codes.

Each module of this package registers one command group (``register(subparsers)``),
parses, calls the library and returns the exit code; the library modules never parse
arguments or print.  Exit codes are in :mod:`recon.errors` and README.md; docs/cli.md is
generated from :func:`build_parser` (tools/gen_docs.py) and a test fails when it is stale.
"""
from __future__ import annotations

import argparse
import logging
import sys

from recon import errors
from recon.cli import (acceptance, contract, demo, export, finance, incidents, materials,
                       notice, penalties, report, run, scaling)
from recon.sim.cli import add_sim_parser

#: the command groups, in the order `recon --help` lists them
GROUPS = (run, contract, scaling, report, incidents, penalties, notice, materials, acceptance,
          finance, export, demo)


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors on exit 3 (bad input), not argparse's 2.

    2 means "incomplete night, rerun it" to cron; a mistyped command line is bad input.
    Subcommand parsers inherit the class, so every level exits the same way.
    """

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(errors.EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="recon",
        description="Nightly reconciliation of the government-cloud contract against what the "
                    "provider's APIs and console exports show.",
        epilog="Exit codes: 0 clean, 1 findings need attention, 2 incomplete (a source failed "
               "or was rejected), 3 bad input or configuration, 4 store busy or unreadable.")
    parser.add_argument("--config", help="recon.toml to use (default: env RECON_CONFIG, else "
                        "./recon.toml; none: exit 3, start one with `recon init DIR`)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.register(sub)
    add_sim_parser(sub)  # the simulator's own command line (`python -m recon.sim` alone)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        return args.func(args)
    except errors.ReconError as exc:
        print(f"recon: error: {exc} (exit {exc.exit_code})", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("recon: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        if exc.filename is None:
            return _internal(args, exc)
        # a file or folder the user named (or one inside it) that cannot be read or written
        target = exc.filename if exc.filename2 is None else f"{exc.filename} -> {exc.filename2}"
        logging.getLogger("recon").debug("recon %s", _command(args), exc_info=True)
        print(f"recon: error: {_command(args)}: {target}: {exc.strerror or exc} "
              f"(exit {errors.EXIT_BAD_INPUT})", file=sys.stderr)
        return errors.EXIT_BAD_INPUT
    except Exception as exc:  # noqa: BLE001 -- the last net: one line, never a traceback
        return _internal(args, exc)


def _command(args) -> str:
    """The command as the user typed it: `run`, `report monthly` ..."""
    words = [args.command] + [getattr(args, k) for k in sorted(vars(args))
                              if k.endswith("_command") and getattr(args, k)]
    return " ".join(str(w) for w in words)


def _internal(args, exc: BaseException) -> int:
    """An error nothing foresaw: the traceback goes to the debug log (-v), the user gets a line."""
    logging.getLogger("recon").debug("recon %s: internal error", _command(args), exc_info=True)
    print(f"recon: internal error in `recon {_command(args)}`: {exc.__class__.__name__}: "
          f"{str(exc).splitlines()[0] if str(exc) else ''} (exit {errors.EXIT_INTERNAL}; "
          f"rerun with -v for the traceback and report it)", file=sys.stderr)
    return errors.EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
