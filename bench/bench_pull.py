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
   (b) the floor: ``requests`` + ``orjson`` (every field of every page to Python objects;
       msgspec's generic decoder was no faster over a whole pull), each page read in one call,
       the cyclic collector paused, as the connector does: a Keystone token, then exactly the
       calls the connector makes (same paths, limit=1000/marker pages, microversions, the
       same per-service concurrency: one thread per service), bodies parsed, nothing else.
       Like the connector it drops each page once parsed (it keeps only the count and
       the marker), so its RSS is the client's own and its wall the wire plus parsing.
       The floor does NOT use the connector's typed decode (its Structs skip every field
       the builders do not read): it is the fastest bare client that parses whole pages;
   (b') for information only, not a target: the same bare client decoding the server and
       volume pages with the connector's own Structs (``connectors.openstack.http.listing``),
       so a reader sees the ratio against a floor that skips what the connector skips;
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
4. Prints the table and the targets (issue 25): the median of ``--alternate`` (5)
   alternating connector runs <= 1.25x the median floor, spread printed; connector peak RSS
   < 1 GB; with ``--night``: the night into a year-long store < 10 s and < 1 GB, into an
   empty store < 15 s, the gate phase < 1 s (and, with (c), connector >= 3x faster).

Nothing in recon/ or connectors/ is modified.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from settle import compaction_stalls, machine_s, settle  # noqa: E402  (bench/, beside this file)

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


def _vm(field: str) -> float:
    """VmRSS / VmHWM of this process, MB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return _rss_mb()


def _reset_peak() -> None:
    """Start a new peak-RSS measurement (VmHWM): echo 5 > /proc/self/clear_refs."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


#: the phases of a whole night (``recon run``), in order; see child_night
PHASES = ("preflight", "pull", "gate", "store", "reconcile", "conclude", "report", "notify")


def child_night(clouds_file: str, today: str, year: bool = False) -> dict:
    """(n) one whole ``recon run`` night (``--night``) as ``recon demo`` runs it (the bundled
    configuration, the sample console exports as that night's drop), timed by phase:

    preflight (connect, token); pull; gate (GX over the figures and the lines); store
    (``Store.replace_snapshot``); reconcile; conclude (scaling flags, the run's row, the
    commit and the close, where DuckDB checkpoints: what ``Night.run`` does around its
    steps); report (``build_nightly`` + ``write_nightly`` + ``relink``, then the index,
    as ``recon run`` refreshes it); notify (``notify_night``: no channel is configured,
    so it decides and sends nothing).  Each phase: wall, CPU (this process, every
    thread) and its own peak RSS (VmHWM reset at its start), plus the peak so far.

    ``year``: the night after, into a copy of the year-long store that the empty-store
    night leaves (``year.duckdb``: that night's lines on each day before, back to the
    contract's start).
    """
    import dataclasses
    from datetime import date, timedelta

    import yaml

    import recon.nightly as nightly
    import recon.cli.run as run_mod
    import recon.notify as notify_mod
    import reports.index as index_mod
    from recon import conclude as conclude_mod
    from recon.ledgers import scaling as scaling_mod
    from recon.config import load_config
    from recon.data import BUNDLED_CONFIG
    from recon.demo import drop_exports
    from recon.progress import Progress
    from recon.store import Store

    day = date.fromisoformat(today) + timedelta(days=1 if year else 0)
    work = Path(clouds_file).parent / ("night-year" if year else "night")
    shutil.rmtree(work, ignore_errors=True)
    drop_exports(work / "exports", day)
    config = dataclasses.replace(load_config(BUNDLED_CONFIG), exports_dir=work / "exports")
    clouds = yaml.safe_load(Path(clouds_file).read_text())
    db = work / "night.duckdb"
    if year:  # the year's store and its reports, as a year of nights leaves them
        shutil.copy(Path(clouds_file).parent / "year.duckdb", db)
        shutil.copytree(Path(clouds_file).parent / "year-out", work / "out")
    figures: dict[str, dict] = {}
    peak_so_far = [0.0]

    def timed(name, fn):
        def run(*args, **kwargs):
            _reset_peak()
            t, c, (busy, steal) = time.perf_counter(), _cpu(), machine_s()
            sys0, stalls = resource.getrusage(resource.RUSAGE_SELF).ru_stime, compaction_stalls()
            try:
                return fn(*args, **kwargs)
            finally:
                f = figures.setdefault(name, {"wall": 0.0, "cpu": 0.0, "rss": 0.0,
                                              "others": 0.0, "steal": 0.0, "sys": 0.0,
                                              "stalls": 0})
                own = _cpu() - c
                now_busy, now_steal = machine_s()
                f["wall"] += time.perf_counter() - t
                f["cpu"] += own
                f["sys"] += resource.getrusage(resource.RUSAGE_SELF).ru_stime - sys0
                f["stalls"] += compaction_stalls() - stalls
                f["others"] += max(0.0, now_busy - busy - own)
                f["steal"] += now_steal - steal
                f["rss"] = max(f["rss"], _vm("VmHWM"))
                peak_so_far[0] = max(peak_so_far[0], f["rss"])
                f["peak_so_far"] = peak_so_far[0]
        return run

    night_cls = nightly.Night
    night_cls.preflight = timed("preflight", night_cls.preflight)
    night_cls.pull = timed("pull", night_cls.pull)
    night_cls.validate = timed("gate", night_cls.validate)
    Store.replace_snapshot = timed("store", Store.replace_snapshot)
    nightly.reconcile = timed("reconcile", nightly.reconcile)
    scaling_mod.flag = timed("conclude", scaling_mod.flag)
    conclude_mod.night = timed("conclude", conclude_mod.night)
    Store.record_run = timed("conclude", Store.record_run)
    for name in ("build_nightly", "write_nightly", "relink"):
        setattr(nightly, name, timed("report", getattr(nightly, name)))
    run_mod.refresh_after_run = timed("index", run_mod.refresh_after_run)
    notify_mod.notify_night = timed("notify", notify_mod.notify_night)

    t = time.perf_counter()
    night = night_cls(config, cloud=CLOUD, cloud_config=clouds, progress=Progress(quiet=True))
    setup = time.perf_counter() - t
    _warm_plugins(clouds)
    dirty = settle()
    rss_before = _vm("VmRSS")
    _reset_peak()
    t0, c0 = time.perf_counter(), _cpu()
    result = night.run(day, db, work / "out")
    run_wall, run_cpu = time.perf_counter() - t0, _cpu() - c0
    run_mod.after_night(config, db, work / "out", result, Progress(quiet=True))
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    base = clouds["clouds"][CLOUD]["auth"]["auth_url"].split("/identity")[0]
    counts = _http("GET", base + "/_sim/requests")["request_count"]  # the timed night's
    counts.pop("_sim", None)
    # conclude also holds the rest of Night.run: the transaction's commit, the close
    # (DuckDB checkpoints), the lock; the index goes with the report
    zero = {"wall": 0.0, "cpu": 0.0, "rss": 0.0, "peak_so_far": 0.0}
    index = figures.pop("index", dict(zero))
    notify = figures.get("notify", dict(zero))
    conclude = figures.setdefault("conclude", dict(zero))
    conclude["wall"] += max(0.0, run_wall - sum(f["wall"] for k, f in figures.items()
                                                if k != "notify"))
    conclude["cpu"] += max(0.0, run_cpu - sum(f["cpu"] for k, f in figures.items()
                                              if k != "notify"))
    report = figures.setdefault("report", dict(zero))
    for key in ("wall", "cpu", "others", "steal", "sys", "stalls"):
        report[key] = report.get(key, 0) + index.get(key, 0)
    report["rss"] = max(report["rss"], index["rss"])
    del notify
    phases = {k: dict(figures[k]) for k in PHASES if k in figures}  # before the year's set-up,
    # whose re-rendered reports go through the same (timed) functions
    year_rows = {}
    if not year:  # leave the year-long store for the next child (untimed)
        t = time.perf_counter()
        year_db = Path(clouds_file).parent / "year.duckdb"
        year_rows = _make_year(db, year_db, day)
        # the year's nightly reports, as its nights wrote them (the index re-renders any
        # missing one: that is not a night's work)
        year_out = Path(clouds_file).parent / "year-out"
        shutil.rmtree(year_out, ignore_errors=True)
        index_mod.rebuild(config, year_db, year_out)
        year_rows["build_s"] = time.perf_counter() - t
    return {"wall": wall, "cpu": cpu, "rss": max(f["rss"] for f in phases.values()),
            "rss_before": rss_before, "setup": setup, "dirty_mb": dirty, "exit": result.exit_code,
            "requests": sum(counts.values()), "by_service": counts,
            "phases": phases, "run_wall": run_wall,
            "day": day.isoformat(), "store_mb": db.stat().st_size / 2 ** 20,
            "year": year_rows}


def _make_year(night_db: Path, year_db: Path, day) -> dict:
    """A year-long store from one night's: that night's snapshot copied onto each of the
    days before it back to the contract's start, 363 with the simulator's today (lines,
    figures, source runs, item days, findings, runs), in date order, the resources first
    seen on the first; then CHECKPOINT.  Untimed set-up for (n-year)."""
    import duckdb
    from recon.config import load_config
    from recon.contract import load_contract
    from recon.data import BUNDLED_CONFIG
    back = min(364, (day - load_contract(load_config(BUNDLED_CONFIG)).start).days)
    shutil.copy(night_db, year_db)
    con = duckdb.connect(str(year_db))
    con.execute("SET preserve_insertion_order = true")
    d = f"DATE '{day.isoformat()}'"
    con.execute("BEGIN")
    for table in ("resource_lines", "measurements", "source_runs", "item_days", "findings"):
        con.execute(f"CREATE TEMP TABLE _one AS SELECT * FROM {table}")
        con.execute(f"DELETE FROM {table}")
        for k in range(back, -1, -1):  # in date order, as the nights would have written it
            con.execute(f"INSERT INTO {table} SELECT * REPLACE ({d} - {k} AS snapshot_date) "
                        f"FROM _one")
        con.execute("DROP TABLE _one")
    con.execute(f"""INSERT INTO runs SELECT runs.* REPLACE (-k AS run_id,
                        {d} - k::INTEGER AS snapshot_date) FROM runs, range(1, {back + 1}) r(k)""")
    con.execute(f"UPDATE source_runs SET run_id = -({d} - snapshot_date) "
                f"WHERE snapshot_date < {d}")
    con.execute(f"UPDATE resources SET first_seen = {d} - {back}")
    con.execute("COMMIT")
    con.execute("CHECKPOINT")
    out = {"lines": con.execute("SELECT count(*) FROM resource_lines").fetchone()[0],
           "dates": con.execute("SELECT count(DISTINCT snapshot_date) FROM resource_lines"
                                ).fetchone()[0]}
    con.close()
    out["mb"] = year_db.stat().st_size / 2 ** 20
    return out


def child_bare(clouds_file: str, today: str, typed: bool = False) -> dict:
    """(b) the floor: requests + orjson, every field parsed (each page's body read in one call),
    the same calls as the connector, one thread per service; ``typed``: (b'), the server and
    volume pages decoded with the connector's Structs instead (information only)."""
    from concurrent.futures import ThreadPoolExecutor

    import orjson
    import requests
    import yaml

    generic = orjson.loads
    decoders = {}
    if typed:
        from connectors.openstack.block_storage import Volume
        from connectors.openstack.compute import Server
        from connectors.openstack.http import listing
        decoders = {"servers": listing("servers", Server)[0].decode,
                    "volumes": listing("volumes", Volume)[0].decode}

    auth = yaml.safe_load(Path(clouds_file).read_text())["clouds"][CLOUD]["auth"]
    # the connector pauses the cyclic collector for its pull (connectors/openstack
    # _gc_paused): the fastest bare client does too (4.9-5.5 -> 3.5-3.7 CPU s at 100k)
    gc.disable()
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

    def get(sess, stype, path, params=None, mv=None, method="GET", stream=False):
        h = {"X-Auth-Token": token}
        if mv:
            h["OpenStack-API-Version"] = f"{'compute' if stype == 'compute' else 'volume'} {mv}"
            if stype == "compute":
                h["X-OpenStack-Nova-API-Version"] = mv
        resp = sess.request(method, url(stype, path), params=params, headers=h, timeout=60,
                            stream=stream)
        if resp.status_code == 404:
            return None
        resp.raise_for_status()
        return resp

    def pages(sess, stype, path, key, mv=None, params=None):
        """The number of items; each page is dropped once parsed (as the connector does).
        The fastest bare client: the body in one read, every field parsed."""
        count, q = 0, dict(params or {}, limit=PAGE)
        while True:
            resp = get(sess, stype, path, q, mv, stream=True)
            if resp is None:
                return None
            data = resp.raw.read(decode_content=True)
            if key in decoders:  # (b') the connector's Structs
                b = decoders[key](data)
                page = b.items
                count += len(page)
                more = any(ln.get("rel") == "next" for ln in b.links or []) or bool(b.next)
                if not more or not page:
                    return count
                q = dict(params or {}, limit=PAGE, marker=page[-1].id)
                continue
            b = generic(data)
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


def _median_run(runs: list[dict]) -> dict:
    """The run whose wall is the median (the lower middle one of an even number)."""
    ordered = sorted(runs, key=lambda r: r["wall"])
    return ordered[(len(ordered) - 1) // 2]


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
    ap.add_argument("--alternate", type=int, default=5, metavar="N",
                    help="(a) and (b) N times each, alternating (connector, floor, connector, "
                         "...): the pull target is the ratio of the medians (default 5)")
    ap.add_argument("--no-pull", action="store_true",
                    help="with --night: time only the nights, not (a) / (b)")
    ap.add_argument("--no-typed-floor", action="store_true",
                    help="do not run (b'), the floor decoding with the connector's Structs")
    ap.add_argument("--child", choices=("connector", "bare", "bare-typed", "scopes", "night",
                                        "night-year"),
                    help=argparse.SUPPRESS)
    ap.add_argument("--clouds", help=argparse.SUPPRESS)
    ap.add_argument("--today", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)

    if a.child:
        fn = {"connector": child_connector, "bare": child_bare,
              "bare-typed": lambda c, t: child_bare(c, t, typed=True),
              "scopes": child_scopes, "night": child_night,
              "night-year": lambda c, t: child_night(c, t, year=True)}[a.child]
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
    # the simulator's today: the eve of the contract's last day, so the year-long store's
    # nights (the contract's start .. today) and the timed night after (the term's last day)
    # all lie within the term (a night outside it is an input error since the contracts got
    # terms: the year's store no longer built)
    from recon.config import load_config
    from recon.contract import load_contract
    from recon.data import BUNDLED_CONFIG
    term_end = load_contract(load_config(BUNDLED_CONFIG)).end
    srv = subprocess.Popen([sys.executable, "-m", "recon.sim", "serve", "--scenario", str(scen),
                            "--today", (term_end - timedelta(days=1)).isoformat(),
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
        alternation: list[tuple[dict, dict]] = []
        typed_floor: list[dict] = []
        if not a.no_pull:
            for i in range(max(1, a.alternate)):
                print(f"running (a) connector, then (b) bare requests: pair {i + 1} of "
                      f"{a.alternate} ...", flush=True)
                alternation.append((measured(_run_child, "connector", str(clouds_file), today),
                                    measured(_run_child, "bare", str(clouds_file), today)))
                if not a.no_typed_floor:
                    print("  then (b') the floor with the connector's Structs (information)",
                          flush=True)
                    typed_floor.append(measured(_run_child, "bare-typed", str(clouds_file),
                                                today))
            rows["connector"] = _median_run([p[0] for p in alternation])
            rows["bare"] = _median_run([p[1] for p in alternation])
            if typed_floor:
                rows["bare-typed"] = _median_run(typed_floor)
        if a.scopes == 2:
            print("running (a2) connector, two scopes ...", flush=True)
            rows["scopes"] = measured(_run_child, "scopes", str(clouds_file), today)
        if a.night:
            print("running (n) one whole night into an empty store ...", flush=True)
            rows["night"] = measured(_run_child, "night", str(clouds_file), today)
            print("running (n-year) the next night into a year-long store ...", flush=True)
            rows["night-year"] = measured(_run_child, "night-year", str(clouds_file), today)
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

    names = {"connector": "(a) recon connector pull (median run)",
             "scopes": "(a2) recon connector, two scopes",
             "bare": "(b) bare requests+orjson (floor) (median)",
             "bare-typed": "(b') floor w/ connector Structs (median)",
             "night": "(n) whole night, empty store",
             "night-year": "(n-year) whole night, year-long store",
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
    checks = []
    if alternation:
        ratios = [c["wall"] / b["wall"] for c, b in alternation]
        print("\n  pull, alternating runs (connector, floor), in order:")
        print(f"  {'pair':>4} {'(a) wall':>9} {'(a) CPU':>8} {'(b) wall':>9} {'(b) CPU':>8} "
              f"{'(a)/(b)':>8} {'CPU ratio':>9} {'load 1m':>11}")
        for i, (c, b) in enumerate(alternation, 1):
            print(f"  {i:>4} {c['wall']:9.2f} {c['cpu']:8.2f} {b['wall']:9.2f} {b['cpu']:8.2f} "
                  f"{c['wall'] / b['wall']:7.2f}x {c['cpu'] / b['cpu']:8.2f}x "
                  f"{c['load'][0]:5.2f}-{b['load'][1]:<5.2f}")
        med_a = statistics.median(c["wall"] for c, _ in alternation)
        med_b = statistics.median(b["wall"] for _, b in alternation)
        cpu_a = statistics.median(c["cpu"] for c, _ in alternation)
        cpu_b = statistics.median(b["cpu"] for _, b in alternation)
        print(f"  medians: (a) {med_a:.2f} s (CPU {cpu_a:.2f}), (b) {med_b:.2f} s (CPU "
              f"{cpu_b:.2f}); (a)/(b) {med_a / med_b:.2f}x (CPU {cpu_a / cpu_b:.2f}x); "
              f"pairs' ratios {min(ratios):.2f}-{max(ratios):.2f}x; (a) walls "
              f"{min(c['wall'] for c, _ in alternation):.2f}-"
              f"{max(c['wall'] for c, _ in alternation):.2f} s, (b) walls "
              f"{min(b['wall'] for _, b in alternation):.2f}-"
              f"{max(b['wall'] for _, b in alternation):.2f} s")
        if typed_floor:
            med_t = statistics.median(t["wall"] for t in typed_floor)
            cpu_t = statistics.median(t["cpu"] for t in typed_floor)
            print(f"  information, not the target: (b') the floor decoding with the connector's "
                  f"own Structs, median {med_t:.2f} s (CPU {cpu_t:.2f}), walls "
                  f"{min(t['wall'] for t in typed_floor):.2f}-"
                  f"{max(t['wall'] for t in typed_floor):.2f} s; (a)/(b') {med_a / med_t:.2f}x "
                  f"(CPU {cpu_a / cpu_t:.2f}x)")
        checks.append(("pull: median (a) / median (b) wall", med_a / med_b, "<= 1.25x",
                       med_a / med_b <= 1.25))
        checks.append(("connector peak RSS MB", rows["connector"]["rss"], "< 1024",
                       rows["connector"]["rss"] < 1024))
    if "cli" in rows:
        sp = rows["cli"]["wall"] / rows["connector"]["wall"]
        checks.append(("CLI / connector wall (speed-up)", sp, ">= 3x", sp >= 3))
    for key, label in (("night", "empty store"), ("night-year", "year-long store")):
        if key not in rows:
            continue
        n = rows[key]
        print(f"\n  night {n['day']} into the {label}: exit {n['exit']}; Night() set-up "
              f"(contract, mapping, GX context; before the clock) {n['setup']:.2f} s; RSS at "
              f"the start {n['rss_before']:.0f} MB; store file after it {n['store_mb']:.0f} MB; "
              f"page cache not yet on disk before the clock {n['dirty_mb'][0]:.0f} MB, "
              f"synced to {n['dirty_mb'][1]:.0f} MB")
        print(f"  {'phase':10} {'wall s':>7} {'CPU s':>7} {'peak RSS MB':>12} "
              f"{'peak so far':>12} {'others CPU s':>13} {'stolen s':>9} {'of CPU, sys':>12} "
              f"{'compactions':>12}")
        for k, f in n["phases"].items():
            print(f"  {k:10} {f['wall']:7.2f} {f['cpu']:7.2f} {f['rss']:12.0f} "
                  f"{f.get('peak_so_far', 0):12.0f} {f.get('others', 0):13.2f} "
                  f"{f.get('steal', 0):9.2f} {f.get('sys', 0):12.2f} {f.get('stalls', 0):12d}")
        print(f"  {'night':10} {n['wall']:7.2f} {n['cpu']:7.2f} {n['rss']:12.0f}   load "
              f"{n['load'][0]:.2f}-{n['load'][1]:.2f}")
        if n.get("year"):
            y = n["year"]
            print(f"  (year-long store made from it, untimed: {y['lines']:,} lines on "
                  f"{y['dates']} dates, {y['mb']:.0f} MB, {y['build_s']:.0f} s)")
        limit = 15.0 if key == "night" else 10.0
        checks.append((f"night wall s, {label}", n["wall"], f"< {limit:g} s", n["wall"] < limit))
        checks.append((f"night peak RSS MB, {label}", n["rss"], "< 1024", n["rss"] < 1024))
        gate = n["phases"].get("gate", {}).get("wall", 0.0)
        checks.append((f"GX gate s, {label}", gate, "< 1 s", gate < 1.0))
    print()
    for name, val, target, ok in checks:
        print(f"{name:40} {val:9.2f}  target {target:8} {'PASS' if ok else 'MISS'}")
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
