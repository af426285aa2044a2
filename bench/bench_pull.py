#!/usr/bin/env python
"""Benchmark: the OpenStack connector's nightly pull of a large tenant, against a floor and the CLI.

    python bench/bench_pull.py [--servers 100000] [--volumes 300000] [--skip-cli] [--night]
                               [--keep DIR]

1. Generates a scenario (``recon.sim.generate``) with N servers and M volumes.
2. Starts the simulator in a SEPARATE process (``python -m recon.sim serve``), so its
   CPU does not share a GIL with the client being timed, and waits until it answers
   (and until its background warm-up has been exercised by one untimed bare pass).
3. Times, each in a fresh child process (so ``ru_maxrss`` is that method's peak):
   (a) ``OpenStackConnector(...).pull(date)`` -- auth, catalog, discovery, every list
       page of every service, and the turn into resource lines / measurements (each
       page turned into lines as it arrives, then dropped);
   (b) the floor: ``requests`` + ``json``: a Keystone token, then exactly the calls the
       connector makes (same paths, limit=1000/marker pages, microversions, the same
       per-service concurrency: one thread per service), bodies parsed, nothing else.
       Like the connector it drops each page once parsed (it keeps only the count and
       the marker), so its RSS is the client's own and its wall the wire plus parsing;
   (c) ``openstack server list --long`` + ``openstack volume list --long``
       (python-openstackclient; server list without --limit, which pages to the end --
       with ``--limit 1000`` OSC 10.5 returns one page only; volume list ``--limit 1000``
       = page size; ``-f json`` so the item count is checked), one after the other.
   Requests are counted by the simulator (``GET /_sim/requests``), reset before each run;
   the 1-minute load average is printed before and after each (the machine is shared),
   and each method's own CPU seconds (all its threads; the CLI's two processes summed).
   With ``--scopes 2`` the scenario file gains a second scope (the same project again in
   region GPU-Region, as many resources: ``scopes:`` in recon/sim/scenario/__init__.py), and
   (a2) ``OpenStackScopes(...).pull(date)`` pulls both concurrently (twice the data, one
   token).
   With ``--night``: (n) one whole ``recon run`` night against the same simulator (pull,
   the GX gate, store, reconcile, scaling, report), with the time of each phase.
4. Prints the table and the targets (issue 17): connector <= 1.3x the floor; connector
   >= 3x faster than (c); connector peak RSS < 1 GB (1024 MiB).

Nothing in recon/ or connectors/ is modified.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CLOUD = "bench"
PAGE = 1000
COMPUTE_MV = "2.79"
VOLUME_MV = "3.50"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _cpu() -> float:
    """This process's CPU seconds, every thread, user + system: steadier than the wall
    when other jobs share the machine (the simulator's CPU is its own process's)."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


# ----------------------------------------------------------------------------------------
# children
def _warm_plugins(clouds: dict) -> None:
    """Import openstacksdk and load keystoneauth's auth plugin before the clock starts.

    Both are once-per-process costs, like the floor's ``import requests`` (also
    before its clock): ``import openstack`` is ~0.5 s, and stevedore scans every
    installed package's entry points (~0.8 s) whenever its on-disk cache does not
    match sys.path (a new worktree, a changed folder).  The connector imports the
    SDK lazily, inside ``pull()``, so without this they were timed as the pull.
    """
    import importlib

    from keystoneauth1 import loading

    importlib.import_module("openstack.connection")

    loading.get_plugin_loader(clouds["clouds"][CLOUD].get("auth_type") or "password")


def child_connector(clouds_file: str, today: str) -> dict:
    """(a) the recon connector's full pull."""
    from datetime import date

    import yaml

    from connectors.mapping import load_mapping
    from connectors.openstack import OpenStackConnector
    from recon.config import load_config
    from recon.data import BUNDLED_CONFIG, CONFIG_DIR
    from recon.contract import load_contract

    contract = load_contract(load_config(BUNDLED_CONFIG))
    mapping = load_mapping(CONFIG_DIR / "mapping.toml", contract)
    clouds = yaml.safe_load(Path(clouds_file).read_text())
    conn = OpenStackConnector(CLOUD, mapping, contract, timeout=60, retries=3,
                              cloud_config=clouds)
    _warm_plugins(clouds)
    t0, c0 = time.perf_counter(), _cpu()
    results = conn.pull(date.fromisoformat(today))
    wall = time.perf_counter() - t0
    out = {"wall": wall, "cpu": _cpu() - c0, "rss": _rss_mb(), "sources": {}}
    for r in results:
        out["sources"][r.source] = {"status": str(getattr(r, "status", "")),
                                    "lines": len(getattr(r, "lines", []) or [])}
    return out


def child_scopes(clouds_file: str, today: str) -> dict:
    """(a2) the connector pulling two scopes (``--scopes 2``) concurrently."""
    from datetime import date

    import yaml

    from connectors.mapping import load_mapping
    from connectors.openstack import OpenStackScopes
    from recon.config import Scope, load_config
    from recon.contract import load_contract
    from recon.data import BUNDLED_CONFIG, CONFIG_DIR

    contract = load_contract(load_config(BUNDLED_CONFIG))
    mapping = load_mapping(CONFIG_DIR / "mapping.toml", contract)
    clouds = yaml.safe_load(Path(clouds_file).read_text())
    entry = clouds["clouds"][CLOUD]
    scopes = [Scope(CLOUD, entry["region_name"], entry["auth"]["project_name"]),
              Scope(CLOUD, "GPU-Region", entry["auth"]["project_name"])]
    conn = OpenStackScopes(scopes, dict.fromkeys(scopes, mapping), contract, timeout=60,
                           retries=3, cloud_config=clouds)
    _warm_plugins(clouds)
    t0, c0 = time.perf_counter(), _cpu()
    results = conn.pull(date.fromisoformat(today))
    wall = time.perf_counter() - t0
    return {"wall": wall, "cpu": _cpu() - c0, "rss": _rss_mb(),
            "sources": {r.source: {"status": r.status, "lines": len(r.lines)}
                        for r in results}}


def child_night(clouds_file: str, today: str) -> dict:
    """(n) one whole ``recon run`` night (``--night``): preflight, pull, the GX gate, then
    store + reconcile + scaling + report in one transaction, as ``recon demo`` runs it
    (the bundled configuration, the sample console exports as that night's drop).

    The night is timed plain; then the same night is run again (it replaces itself)
    under cProfile, only to split the store phase into its steps (shares of that run).
    """
    import cProfile
    import dataclasses
    import pstats
    from datetime import date

    import yaml

    from recon.config import load_config
    from recon.data import BUNDLED_CONFIG
    from recon.demo import drop_exports
    from recon.nightly import Night
    from recon.progress import Progress

    day = date.fromisoformat(today)
    work = Path(clouds_file).parent / "night"
    shutil.rmtree(work, ignore_errors=True)
    drop_exports(work / "exports", day)
    config = dataclasses.replace(load_config(BUNDLED_CONFIG), exports_dir=work / "exports")
    clouds = yaml.safe_load(Path(clouds_file).read_text())
    phases: dict[str, float] = {}
    peaks: dict[str, float] = {}

    class Timed(Night):
        def _timed(self, name, fn, *args):
            t = time.perf_counter()
            out = fn(*args)
            phases[name] = phases.get(name, 0.0) + time.perf_counter() - t
            peaks.setdefault(name, _rss_mb())  # peak RSS so far, at the end of the phase
            return out

        def preflight(self):
            return self._timed("preflight", super().preflight)

        def pull(self, snapshot_date, connectors):
            return self._timed("pull", super().pull, snapshot_date, connectors)

        def validate(self, results):
            return self._timed("gate (GX)", super().validate, results)

    t = time.perf_counter()
    night = Timed(config, cloud=CLOUD, cloud_config=clouds, progress=Progress(quiet=True))
    setup = time.perf_counter() - t
    _warm_plugins(clouds)
    t0, c0 = time.perf_counter(), _cpu()
    result = night.run(day, work / "night.duckdb", work / "out")
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    base = clouds["clouds"][CLOUD]["auth"]["auth_url"].split("/identity")[0]
    counts = _http("GET", base + "/_sim/requests")["request_count"]  # the timed night's
    counts.pop("_sim", None)
    phases["store + reconcile + report"] = wall - sum(phases.values())
    timed = dict(phases)  # the timed night's, before the profiled one adds to phases
    rss = _rss_mb()
    prof = cProfile.Profile()
    prof.runcall(night.run, day, work / "night.duckdb", work / "out")
    stats = pstats.Stats(prof).stats
    steps = {}
    for (_, _, fn), (_, _, _, cum, _) in stats.items():
        if fn in ("replace_snapshot", "reconcile", "flag", "build_nightly", "write_nightly",
                  "record_run", "_failures", "pull") and cum > steps.get(fn, 0):
            steps[fn] = cum
    profiled = sum(v for k, v in steps.items() if k not in ("_failures", "pull"))
    return {"wall": wall, "cpu": cpu, "rss": rss, "setup": setup, "exit": result.exit_code,
            "requests": sum(counts.values()), "by_service": counts, "peaks": peaks,
            "phases": timed, "store_steps": {k: round(v / profiled, 3) for k, v in
                                              steps.items() if k not in ("_failures", "pull")}}


def child_bare(clouds_file: str, today: str) -> dict:
    """(b) the floor: requests + json, same calls as the connector, one thread per service."""
    from concurrent.futures import ThreadPoolExecutor

    import requests
    import yaml

    auth = yaml.safe_load(Path(clouds_file).read_text())["clouds"][CLOUD]["auth"]
    t0, c0 = time.perf_counter(), _cpu()
    s = requests.Session()
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": auth["username"], "password": auth["password"],
        "domain": {"name": auth["user_domain_name"]}}}},
        "scope": {"project": {"name": auth["project_name"],
                              "domain": {"name": auth["project_domain_name"]}}}}}
    auth_url = auth["auth_url"].rstrip("/")
    if not auth_url.endswith("/v3"):
        auth_url += "/v3"
    r = s.post(auth_url + "/auth/tokens", json=body, timeout=60)
    r.raise_for_status()
    token = r.headers["X-Subject-Token"]
    tok = r.json()["token"]
    pid = tok["project"]["id"]
    ep = {}
    for svc in tok["catalog"]:
        for e in svc["endpoints"]:
            if e["interface"] == "public":
                ep[svc["type"]] = e["url"].rstrip("/")

    def url(stype, path):
        base = ep[stype]
        if stype == "network" and not base.endswith("/v2.0"):
            base += "/v2.0"
        if stype == "image" and not base.rstrip("/").endswith("/v2"):
            base += "/v2"
        return base + path

    def get(sess, stype, path, params=None, mv=None, method="GET"):
        h = {"X-Auth-Token": token}
        if mv:
            h["OpenStack-API-Version"] = f"{'compute' if stype == 'compute' else 'volume'} {mv}"
            if stype == "compute":
                h["X-OpenStack-Nova-API-Version"] = mv
        resp = sess.request(method, url(stype, path), params=params, headers=h, timeout=60)
        if resp.status_code == 404:
            return None
        resp.raise_for_status()
        return resp

    def pages(sess, stype, path, key, mv=None, params=None):
        """The number of items; each page is dropped once parsed (as the connector does)."""
        count, q = 0, dict(params or {}, limit=PAGE)
        while True:
            resp = get(sess, stype, path, q, mv)
            if resp is None:
                return None
            b = resp.json()
            page = b[key]
            count += len(page)
            more = any(ln.get("rel") == "next" for ln in b.get(f"{key}_links") or []) \
                or bool(b.get("next"))
            if not more or not page:
                return count
            q = dict(params or {}, limit=PAGE, marker=page[-1]["id"])

    def compute():
        ss = requests.Session()
        return {"servers": pages(ss, "compute", "/servers/detail", "servers", COMPUTE_MV),
                "quota": get(ss, "compute", f"/os-quota-sets/{pid}/detail",
                             mv=COMPUTE_MV).json()}

    def block():
        ss = requests.Session()
        return {"volumes": pages(ss, "volumev3" if "volumev3" in ep else "block-storage",
                                 "/volumes/detail", "volumes", VOLUME_MV),
                "quota": get(ss, "volumev3" if "volumev3" in ep else "block-storage",
                             f"/os-quota-sets/{pid}", {"usage": "True"}, VOLUME_MV).json(),
                "backups": pages(ss, "volumev3" if "volumev3" in ep else "block-storage",
                                 "/backups/detail", "backups", VOLUME_MV)}

    def network():
        ss = requests.Session()
        return {"fips": pages(ss, "network", "/floatingips", "floatingips",
                              params={"project_id": pid}),
                "routers": pages(ss, "network", "/routers", "routers",
                                 params={"project_id": pid}),
                "qos": pages(ss, "network", "/qos/policies", "policies"),
                "quota": get(ss, "network", f"/quotas/{pid}/details").json(),
                "ipsec": pages(ss, "network", "/vpn/ipsec-site-connections",
                               "ipsec_site_connections")}

    def lb():
        ss = requests.Session()
        return {"lbs": pages(ss, "load-balancer", "/v2/lbaas/loadbalancers", "loadbalancers",
                             params={"project_id": pid}),
                "quota": get(ss, "load-balancer", f"/v2/lbaas/quotas/{pid}").json()}

    def obj():
        ss = requests.Session()
        return {"account": dict(get(ss, "object-store", "", method="HEAD").headers)}

    def image():
        ss = requests.Session()
        return {"images": pages(ss, "image", "/images", "images")}

    with ThreadPoolExecutor(max_workers=6) as pool:
        futs = [pool.submit(f) for f in (compute, block, network, lb, obj, image)]
        res = [f.result() for f in futs]
    wall = time.perf_counter() - t0
    return {"wall": wall, "cpu": _cpu() - c0, "rss": _rss_mb(), "servers": res[0]["servers"],
            "volumes": res[1]["volumes"]}


# ----------------------------------------------------------------------------------------
# parent
def _free_port() -> int:
    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        return so.getsockname()[1]


def _http(method: str, url: str):
    req = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(req, timeout=30) as r:
        data = r.read()
    return json.loads(data) if data else None


def _run_child(kind: str, clouds_file: str, today: str) -> dict:
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, __file__, "--child", kind, "--clouds", clouds_file,
                        "--today", today], capture_output=True, text=True)
    total = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"{kind} child failed:\n{p.stderr[-4000:]}")
    out = json.loads(p.stdout.strip().splitlines()[-1])
    out["process_wall"] = total
    return out


def _run_cli(clouds_file: str, work: Path) -> dict:
    env = dict(os.environ, OS_CLIENT_CONFIG_FILE=clouds_file, OS_CLOUD=CLOUD)
    env.pop("OS_AUTH_URL", None)
    osc = str(Path(sys.executable).with_name("openstack"))
    if not Path(osc).exists():
        osc = shutil.which("openstack") or "openstack"
    # `server list --limit N` stops after one page in OSC 10.x; without it, it pages to the end
    cmds = [[osc, "server", "list", "--long", "-f", "json"],
            [osc, "volume", "list", "--long", "--limit", str(PAGE), "-f", "json"]]
    wall, cpu, rss, counts = 0.0, 0.0, 0.0, []
    for cmd in cmds:
        out_file = work / f"osc-{cmd[1]}.json"
        with open(out_file, "w") as fh, open(work / f"osc-{cmd[1]}.err", "w") as eh:
            t0 = time.perf_counter()
            p = subprocess.Popen(cmd, stdout=fh, stderr=eh, env=env)
            _, status, ru = os.wait4(p.pid, 0)
            wall += time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n"
                             f"{(work / f'osc-{cmd[1]}.err').read_text()[-4000:]}")
        rss = max(rss, ru.ru_maxrss / 1024.0)
        cpu += ru.ru_utime + ru.ru_stime
        counts.append(len(json.loads(out_file.read_text())))
    return {"wall": wall, "cpu": cpu, "rss": rss, "servers": counts[0], "volumes": counts[1]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--servers", type=int, default=100000)
    ap.add_argument("--volumes", type=int, default=300000)
    ap.add_argument("--skip-cli", action="store_true", help="do not run (c), the openstack CLI")
    ap.add_argument("--keep", metavar="DIR", help="work in DIR and keep it")
    ap.add_argument("--scopes", type=int, choices=(1, 2), default=1,
                    help="2: also pull the tenant as two scopes (two regions) at once")
    ap.add_argument("--night", action="store_true",
                    help="also time one whole `recon run` night (pull, gate, store, reconcile, "
                         "report) against the same simulator")
    ap.add_argument("--child", choices=("connector", "bare", "scopes", "night"),
                    help=argparse.SUPPRESS)
    ap.add_argument("--clouds", help=argparse.SUPPRESS)
    ap.add_argument("--today", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)

    if a.child:
        fn = {"connector": child_connector, "bare": child_bare,
              "scopes": child_scopes, "night": child_night}[a.child]
        print(json.dumps(fn(a.clouds, a.today)))
        return 0

    from recon.sim.generate import generate_scenario, write_scenario

    work = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="bench-pull-"))
    work.mkdir(parents=True, exist_ok=True)
    scen = work / "scenario.yaml"
    clouds_file = work / "clouds.yaml"
    t0 = time.perf_counter()
    write_scenario(generate_scenario(a.servers, a.volumes), scen)
    if a.scopes == 2:
        with open(scen, "a", encoding="utf-8") as fh:
            fh.write("\nscopes:\n  - {region: GPU-Region}\n")
    print(f"scenario: {a.servers} servers, {a.volumes} volumes -> {scen} "
          f"({time.perf_counter() - t0:.2f} s)", flush=True)

    port = _free_port()
    log = open(work / "sim.log", "w")
    srv = subprocess.Popen([sys.executable, "-m", "recon.sim", "serve", "--scenario", str(scen),
                            "--port", str(port), "--cloud-name", CLOUD,
                            "--clouds-yaml", str(clouds_file)],
                           stdout=log, stderr=subprocess.STDOUT, cwd=str(ROOT))
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        state = None
        while time.monotonic() < deadline:
            if srv.poll() is not None:
                raise SystemExit(f"simulator exited:\n{(work / 'sim.log').read_text()}")
            try:
                if clouds_file.exists():
                    state = _http("GET", base + "/_sim/state")
                    break
            except OSError:
                pass
            time.sleep(0.2)
        if state is None:
            raise SystemExit("simulator did not answer within 120 s")
        today = state["today"]
        print(f"simulator pid {srv.pid} on {base}, today {today}: "
              f"{json.dumps(state.get('state'))[:200]}", flush=True)

        # untimed warm-up pass so every run sees an encoded, warm simulator
        _run_child("bare", str(clouds_file), today)

        # the other scopes' servers (``--scopes 2``) say where they listen in the log
        while "# clouds.yaml" not in (work / "sim.log").read_text():  # the banner's end
            time.sleep(0.1)
        peers = [line.split(" on ")[-1].strip() for line in
                 (work / "sim.log").read_text().splitlines() if line.startswith("scope:")]

        def measured(fn, *args):
            for url in [base, *peers]:
                _http("DELETE", url + "/_sim/requests")
            load = os.getloadavg()[0]
            out = fn(*args)
            out["load"] = (load, os.getloadavg()[0])  # 1-minute load average before, after
            counts: dict = {}
            for url in [base, *peers]:
                for k, v in _http("GET", url + "/_sim/requests")["request_count"].items():
                    counts[k] = counts.get(k, 0) + v
            counts.pop("_sim", None)
            out.setdefault("requests", sum(counts.values()))
            out.setdefault("by_service", counts)
            # said at once: a long run (the CLI at 100k: half an hour) cut short keeps these
            print(f"  done: wall {out['wall']:.2f} s, CPU {out['cpu']:.2f} s, "
                  f"{out['requests']} requests, peak RSS {out['rss']:.1f} MB, load "
                  f"{out['load'][0]:.2f}-{out['load'][1]:.2f}", flush=True)
            return out

        rows = {}
        print("running (a) connector ...", flush=True)
        rows["connector"] = measured(_run_child, "connector", str(clouds_file), today)
        if a.scopes == 2:
            print("running (a2) connector, two scopes ...", flush=True)
            rows["scopes"] = measured(_run_child, "scopes", str(clouds_file), today)
        print("running (b) bare requests ...", flush=True)
        rows["bare"] = measured(_run_child, "bare", str(clouds_file), today)
        if a.night:
            print("running (n) one whole night ...", flush=True)
            rows["night"] = measured(_run_child, "night", str(clouds_file), today)
        if not a.skip_cli:
            print("running (c) openstack CLI (slow) ...", flush=True)
            rows["cli"] = measured(_run_cli, str(clouds_file), work)
    finally:
        srv.terminate()
        try:
            srv.wait(10)
        except subprocess.TimeoutExpired:
            srv.kill()
        log.close()

    names = {"connector": "(a) recon connector pull",
             "scopes": "(a2) recon connector, two scopes",
             "bare": "(b) bare requests+json (floor)",
             "night": "(n) one whole night (recon run)",
             "cli": "(c) openstack server+volume list --long"}
    print()
    print(f"{'method':42} {'wall s':>8} {'CPU s':>7} {'requests':>9} {'peak RSS MB':>12} "
          f"{'load 1m':>11}")
    for k, r in rows.items():
        print(f"{names[k]:42} {r['wall']:8.2f} {r['cpu']:7.2f} {r['requests']:9d} "
              f"{r['rss']:12.1f} {r['load'][0]:5.2f}-{r['load'][1]:<5.2f}")
    for k, r in rows.items():
        print(f"  {k}: requests by service {r['by_service']}"
              + (f"; process wall incl. imports {r['process_wall']:.2f} s"
                 if "process_wall" in r else "")
              + (f"; items {r['servers']} servers, {r['volumes']} volumes"
                 if "servers" in r else ""))
    for k in ("connector", "scopes"):
        if "sources" in rows.get(k, {}):
            print(f"  {k} sources: {rows[k]['sources']}")
    if "night" in rows:
        n = rows["night"]
        print(f"  night: exit {n['exit']}; Night() set-up (contract, mapping, GX context) "
              f"{n['setup']:.2f} s, then " + ", ".join(f"{k} {v:.2f} s"
                                                       for k, v in n["phases"].items()))
        print("  night: peak RSS MB at the end of " + ", ".join(
            f"{k} {v:.0f}" for k, v in n["peaks"].items()) + f", of the night {n['rss']:.0f}")
        print("  night: store phase by step (shares, cProfile): " + ", ".join(
            f"{k} {v:.0%}" for k, v in n["store_steps"].items()))
    print()
    c = rows["connector"]
    checks = [("connector / floor wall", c["wall"] / rows["bare"]["wall"], "<= 1.3x",
               c["wall"] / rows["bare"]["wall"] <= 1.3)]
    if "cli" in rows:
        sp = rows["cli"]["wall"] / c["wall"]
        checks.append(("CLI / connector wall (speed-up)", sp, ">= 3x", sp >= 3))
    checks.append(("connector peak RSS MB", c["rss"], "< 1024", c["rss"] < 1024))
    for name, val, target, ok in checks:
        print(f"{name:34} {val:9.2f}  target {target:8} {'PASS' if ok else 'MISS'}")
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
