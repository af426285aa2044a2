"""Start a real OpenStack stack, seed the contract tenant, wait for Ctrl-C.

    python -m tests.realstack [--seed FILE] [--keep] [--workdir DIR] [--print-seed]
                              [--services keystone,nova,cinder,glance,neutron]
                              [--clouds-yaml FILE]

Prints a clouds.yaml for the reader's application credential (and writes it to
--clouds-yaml if given), so that ``OS_CLIENT_CONFIG_FILE=FILE openstack --os-cloud
recon-realstack server list`` or the nightly job can be pointed at it.
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
import time

import yaml

from .seed import seed
from .stack import DEFAULT_SERVICES, missing_requirements, start_stack


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.realstack",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--seed", metavar="FILE", help="seed spec (YAML); default: the contract tenant")
    ap.add_argument("--no-seed", action="store_true", help="start the services only")
    ap.add_argument("--print-seed", action="store_true",
                    help="print the default seed spec as YAML (a template for --seed) and exit")
    ap.add_argument("--keep", action="store_true",
                    help="keep the work dir (configs, logs, state) after Ctrl-C")
    ap.add_argument("--workdir", metavar="DIR", help="work dir (implies --keep)")
    ap.add_argument("--services", default=",".join(DEFAULT_SERVICES),
                    help="comma-separated subset of %(default)s ('compute': servers can be "
                         "built; it adds nova, placement and neutron)")
    ap.add_argument("--clouds-yaml", metavar="FILE", help="also write the clouds.yaml here")
    ap.add_argument("--admin", action="store_true", help="print the admin cloud too")
    args = ap.parse_args(argv)

    if args.print_seed:
        from .seed import DEFAULT_SEED

        print(yaml.safe_dump(DEFAULT_SEED, sort_keys=False, allow_unicode=True), end="")
        return 0
    services = tuple(s.strip() for s in args.services.split(",") if s.strip())
    missing = missing_requirements(services)
    if missing:
        print("cannot start: missing " + "; ".join(missing), file=sys.stderr)
        return 2
    workdir = args.workdir
    if args.keep and not workdir:
        import tempfile

        workdir = tempfile.mkdtemp(prefix="recon-realstack-")
    t0 = time.monotonic()
    print("starting " + ", ".join(services) + " ...", file=sys.stderr)
    with start_stack(workdir=workdir, services=services) as stack:
        print(f"up in {time.monotonic() - t0:.1f}s; work dir {stack.workdir}", file=sys.stderr)
        if not args.no_seed:
            out = seed(stack, args.seed)
            print(f"seeded in {out['seconds']:.1f}s"
                  + (f" (skipped: {'; '.join(out['skipped'])})" if out["skipped"] else ""),
                  file=sys.stderr)
        clouds = {"clouds": {}}
        if stack.reader_cloud:
            clouds["clouds"]["recon-realstack"] = stack.reader_cloud
        for name, cloud in stack.project_clouds.items():
            # the seed's further projects: one application credential each
            clouds["clouds"][f"recon-realstack-{name}"] = cloud
        if args.admin or not stack.reader_cloud:
            clouds["clouds"]["recon-realstack-admin"] = stack.admin_cloud
        text = yaml.safe_dump(clouds, sort_keys=False)
        print(text)
        if args.clouds_yaml:
            with open(args.clouds_yaml, "w") as f:
                f.write(text)
        print("timings: " + json.dumps(stack.timings), file=sys.stderr)
        print("rss MB: " + json.dumps(stack.rss_mb()), file=sys.stderr)
        print("Ctrl-C to stop.", file=sys.stderr)
        # a shell's background job starts with SIGINT ignored: take it back
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
        try:
            while True:
                time.sleep(2)
                for name, proc in stack.procs.items():
                    if not proc.alive():
                        print(f"{name} exited ({proc.popen.returncode}); see {proc.log}",
                              file=sys.stderr)
                        return 1
        except KeyboardInterrupt:
            print("stopping ...", file=sys.stderr)
    if workdir:
        print(f"work dir kept: {workdir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
