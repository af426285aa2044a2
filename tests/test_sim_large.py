"""A generated 10,000-server / 30,000-volume tenant, and the `recon sim` command line."""
from __future__ import annotations

import argparse
import os
import pathlib
import re
import signal
import subprocess
import sys
import time

import pytest
import requests
import yaml

from recon.data import DEMO
from recon.sim.cli import add_sim_parser, generate_main
from recon.sim.scenario import load_scenario
from recon.sim.server import SimServer

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _pull(http, url, key, headers):
    ids, pages = [], 0
    while url:
        r = http.get(url, headers=headers, timeout=30)
        assert r.status_code == 200
        body = r.json()
        ids += [x["id"] for x in body[key]]
        pages += 1
        url = next((link["href"] for link in body.get(f"{key}_links", [])
                    if link["rel"] == "next"), None)
    return ids, pages


def test_large_generated_tenant_serves_a_full_pull(tmp_path):
    out = tmp_path / "big.yaml"
    t0 = time.perf_counter()
    assert generate_main(["--servers", "10000", "--volumes", "30000", "--seed", "5",
                          "-o", str(out)]) == 0
    t_gen = time.perf_counter() - t0
    t0 = time.perf_counter()
    sc = load_scenario(out)
    t_load = time.perf_counter() - t0
    with SimServer(sc, warm=False) as sim, requests.Session() as http:
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "recon-reader", "domain": {"name": "Default"},
            "password": "reader-pw"}}}, "scope": {"project": {"id": sc.project_id}}}}
        tok = http.post(sim.auth_url + "/auth/tokens", json=body).headers["X-Subject-Token"]
        t0 = time.perf_counter()
        servers, spages = _pull(http, sim.url + "/compute/v2.1/servers/detail", "servers",
                                {"X-Auth-Token": tok,
                                 "OpenStack-API-Version": "compute 2.96"})
        vols, vpages = _pull(http, f"{sim.url}/volume/v3/{sc.project_id}/volumes/detail",
                             "volumes", {"X-Auth-Token": tok,
                                         "OpenStack-API-Version": "volume 3.70"})
        t_pull = time.perf_counter() - t0
        server_side = sum(r[4] for r in sim.requests if "/detail" in r[1]) / 1000
        assert len(servers) == len(set(servers)) == 10000
        assert len(vols) == len(set(vols)) == 30000
        assert spages in (10, 11) and vpages in (30, 31)  # nova/cinder max_limit 1000
        q = http.get(f"{sim.url}/volume/v3/{sc.project_id}/os-quota-sets/"
                     f"{sc.project_id}?usage=True", headers={"X-Auth-Token": tok}).json()
        assert q["quota_set"]["volumes"]["in_use"] == 30000
    print(f"\n10k/30k: generate {t_gen:.2f}s, load {t_load:.2f}s, "
          f"full pull {t_pull:.2f}s wall ({server_side:.2f}s server-side, "
          f"{spages}+{vpages} pages)")
    assert t_gen < 5 and t_load < 10
    assert server_side < 15 and t_pull < 40  # generous: CI machines are slow


def test_add_sim_parser_registers_serve_and_generate(tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="recon")
    sub = parser.add_subparsers(dest="command")
    add_sim_parser(sub)
    args = parser.parse_args(["sim", "generate", "--servers", "20", "--volumes", "30",
                              "-o", str(tmp_path / "g.yaml")])
    assert args.func(args) == 0
    sc = load_scenario(tmp_path / "g.yaml")
    st = sc.state_at(sc.default_today)
    assert (len(st.servers), len(st.volumes)) == (20, 30)
    args = parser.parse_args(["sim", "serve", "--scenario", "x.yaml", "--port", "0",
                              "--today", "2026-11-05"])
    assert args.func.__name__ == "cmd_serve" and args.today.isoformat() == "2026-11-05"
    for cmd in (["sim", "serve", "--help"], ["sim", "generate", "--help"]):
        with pytest.raises(SystemExit) as e:
            parser.parse_args(cmd)
        assert e.value.code == 0
    assert "--scenario" in capsys.readouterr().out
    bad = parser.parse_args(["sim", "serve", "--scenario", str(tmp_path / "nope.yaml")])
    assert bad.func(bad) == 2


def test_sim_serve_subprocess_prints_url_and_clouds_yaml(tmp_path):
    clouds = tmp_path / "clouds.yaml"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "recon.sim", "serve", "--scenario",
         str(DEMO / "scenario.yaml"), "--today", "2026-11-09",
         "--clouds-yaml", str(clouds)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        first = proc.stdout.readline()
        m = re.search(r"on (http://127\.0\.0\.1:\d+)", first)
        assert m, first + proc.stderr.read()
        url = m.group(1)
        cfg = yaml.safe_load(clouds.read_text())["clouds"]["recon-sim"]
        assert cfg["auth"]["auth_url"] == url + "/identity/v3"
        state = requests.get(url + "/_sim/state", timeout=5).json()
        assert state["today"] == "2026-11-09"
        assert [f["service"] for f in state["faults"]] == ["block-storage"]
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            rc = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
    assert rc == 0
