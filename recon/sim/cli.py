"""``recon sim serve`` and ``recon sim generate``.

Wire into the main CLI with::

    sub = parser.add_subparsers(dest="command")
    add_sim_parser(sub)
    args = parser.parse_args()
    return args.func(args)

or run stand-alone: ``python -m recon.sim serve --scenario recon/data/demo/scenario.yaml``.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import sys
import time
from typing import Sequence

import yaml

from .generate import generate_scenario, write_scenario
from .scenario import load_scenarios
from .server import SimServer, clouds_yaml

__all__ = ["add_sim_parser", "serve_main", "generate_main", "main"]


def _date(s: str) -> _dt.date:
    try:
        return _dt.date.fromisoformat(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {s!r}") from None


def _add_serve_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scenario", required=True, metavar="FILE",
                   help="scenario YAML (see recon/sim/scenario/__init__.py for the format)")
    p.add_argument("--port", type=int, default=0,
                   help="TCP port (default: a free one, printed at start)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--today", type=_date, default=None, metavar="YYYY-MM-DD",
                   help="simulated date to serve (default: the scenario's `today:`, "
                        "else the real date); change it later with "
                        "POST /_sim/today {\"date\": ...}")
    p.add_argument("--cloud-name", default="recon-sim",
                   help="cloud name in the printed clouds.yaml (default recon-sim)")
    p.add_argument("--auth", choices=("password", "application_credential"),
                   default="password", help="credentials in the printed clouds.yaml")
    p.add_argument("--clouds-yaml", metavar="FILE", default=None,
                   help="also write the clouds.yaml to FILE")
    p.add_argument("-v", "--verbose", action="store_true", help="log every request")


def _add_generate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--servers", type=int, required=True, metavar="N")
    p.add_argument("--volumes", type=int, required=True, metavar="M",
                   help="volumes, boot volumes included")
    p.add_argument("--seed", type=int, default=0, metavar="S")
    p.add_argument("--start", type=_date, default=_dt.date(2026, 11, 1),
                   metavar="YYYY-MM-DD", help="first day of the timeline (2026-11-01)")
    p.add_argument("--days", type=int, default=7, help="days of timeline (default 7)")
    p.add_argument("-o", "--output", required=True, metavar="FILE")


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        sc, *others = load_scenarios(args.scenario)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        sim = SimServer(sc, host=args.host, port=args.port, today=args.today,
                        verbose=args.verbose)
        # the file's other scopes (regions, projects): behind this Keystone, on ports of
        # their own; the token's catalog lists them
        for other in others:
            sim.add_scope(SimServer(other, host=args.host, port=0, today=args.today,
                                    verbose=args.verbose))
        sim.start()
    except OSError as e:
        print(f"error: cannot listen on {args.host}:{args.port}: {e}", file=sys.stderr)
        return 1
    # From here on the server is up: Ctrl-C (SIGINT) at any moment -- even while
    # the banner is still being printed, right after the URL line a client may
    # already have read -- stops it cleanly and exits 0.
    try:
        try:
            cloud = clouds_yaml(sim, args.cloud_name, auth=args.auth)
        except ValueError:
            cloud = clouds_yaml(sim, args.cloud_name, auth="password")
        text = yaml.safe_dump(cloud, sort_keys=False, allow_unicode=True)
        if args.clouds_yaml:
            # written before the URL is printed: whoever reads the URL can read it
            with open(args.clouds_yaml, "w", encoding="utf-8") as fh:
                fh.write(text)
        st = sim.state()
        print(f"recon-sim serving {sc.path} on {sim.url}  (today {sim.today}; "
              f"{len(st.servers)} servers, {len(st.volumes)} volumes)", flush=True)
        print(f"auth_url: {sim.auth_url}")
        for peer in sim.peers:
            print(f"scope:    region {peer.scenario.region} project "
                  f"{peer.scenario.project['name']} on {peer.url}")
        print("admin:    GET /_sim/state, POST /_sim/today {\"date\": \"YYYY-MM-DD\"}, "
              "POST|DELETE /_sim/faults")
        print("# clouds.yaml" + (f" (written to {args.clouds_yaml})" if args.clouds_yaml
                                 else ""))
        print(text, end="", flush=True)
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nstopping", file=sys.stderr)
    finally:
        sim.stop()
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    try:
        data = generate_scenario(args.servers, args.volumes, seed=args.seed,
                                 start=args.start, days=args.days)
        write_scenario(data, args.output)
    except (ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {args.output}: {args.servers} servers, {args.volumes} volumes "
          f"(seed {args.seed}) in {time.perf_counter() - t0:.2f}s")
    return 0


def add_sim_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``sim`` (with ``serve`` and ``generate``) on an argparse subparsers object."""
    sim = subparsers.add_parser("sim", help="OpenStack API simulator",
                                description="OpenStack API simulator for testing recon "
                                            "without a cloud.")
    sub = sim.add_subparsers(dest="sim_command", metavar="{serve,generate}")
    sub.required = True
    serve = sub.add_parser("serve", help="serve a scenario over HTTP until Ctrl-C",
                           description="Serve a scenario on 127.0.0.1 as Keystone, Nova, "
                                       "Cinder, Neutron, Octavia, Swift and Glance.")
    _add_serve_args(serve)
    serve.set_defaults(func=cmd_serve)
    gen = sub.add_parser("generate", help="write a large-tenant scenario",
                         description="Write a scenario with N servers and M volumes "
                                     "(count-shorthand groups, loads in seconds).")
    _add_generate_args(gen)
    gen.set_defaults(func=cmd_generate)

    def _no_sub(args: argparse.Namespace) -> int:
        sim.print_help()
        return 2

    sim.set_defaults(func=_no_sub)
    return sim


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="recon-sim")
    sub = parser.add_subparsers(dest="command")
    add_sim_parser(sub)
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] != "sim":
        argv = ["sim"] + argv
    args = parser.parse_args(argv)
    return args.func(args)


def serve_main(argv: Sequence[str] | None = None) -> int:
    """``recon sim serve`` arguments, without the ``sim serve`` words."""
    p = argparse.ArgumentParser(prog="recon sim serve")
    _add_serve_args(p)
    return cmd_serve(p.parse_args(argv))


def generate_main(argv: Sequence[str] | None = None) -> int:
    """``recon sim generate`` arguments, without the ``sim generate`` words."""
    p = argparse.ArgumentParser(prog="recon sim generate")
    _add_generate_args(p)
    return cmd_generate(p.parse_args(argv))
