"""Scenario files: loading, validation errors, the timeline, the generator."""
from __future__ import annotations

import datetime as dt

import pytest
import yaml

from recon.data import DEMO
from recon.sim.generate import generate_scenario, write_scenario
from recon.sim.scenario import load_scenario, parse_scenario
from tests.simkit import small_scenario

DEMO_SCENARIO = DEMO / "scenario.yaml"


def _write(tmp_path, data, name="s.yaml"):
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    return p


def test_demo_scenario_loads_and_matches_the_contract_shape():
    sc = load_scenario(DEMO_SCENARIO)
    assert sc.project["name"] == "bjwjw-bigdata"
    assert sc.user("recon-reader")["roles"] == ["reader"]
    assert sc.app_cred("recon-nightly")["user"]["name"] == "recon-reader"
    fl = {f["name"]: f for f in sc.flavors}
    assert fl["c8m32"]["vcpus"] == 8 and fl["c8m32"]["ram"] == 32768
    assert fl["bm.kp920.910b"]["extra_specs"]["resources:CUSTOM_BM_KUNPENG920_910B"] == "1"
    assert fl["bm.a10x4"]["extra_specs"]["resources:CUSTOM_BM_A10X4"] == "1"
    assert fl["bm.gpu16"]["extra_specs"]["resources:CUSTOM_BM_GPU16"] == "1"
    assert {t["name"] for t in sc.volume_types} == {"general", "ssd", "legacy-sas"}

    first = sc.state_at("2026-11-01")
    assert first.quotas["compute"]["cores"] == 1617
    assert first.quotas["compute"]["ram"] == 3835 * 1024
    assert first.quotas["block-storage"]["gigabytes_general"] == 17082
    assert first.quotas["block-storage"]["gigabytes_ssd"] == 90000
    assert first.quotas["network"]["floatingip"] == 33
    assert first.quotas["load-balancer"]["load_balancer"] == 48
    assert first.usage["compute"]["cores"] <= 1617
    assert first.usage["compute"]["cores"] > 0.9 * 1617
    assert first.usage["compute"]["ram"] <= 3835 * 1024
    assert first.usage["block-storage"]["gigabytes_ssd"] <= 90000
    assert first.usage["block-storage"]["volumes_legacy-sas"] == 2
    assert len(first.ipsec_site_connections) == 4
    assert 35 <= len(first.load_balancers) <= 48
    snat = [r for r in first.routers.values() if r["gateway"]["enable_snat"]]
    assert len(snat) == 1
    egress = sum(rule["max_kbps"] for p in first.qos_policies.values()
                 if p["name"].startswith("internet-bw-")
                 for rule in p["rules"] if rule["direction"] == "egress")
    assert egress == 3500 * 1000
    remote = [s for s in first.servers.values()
              if s["metadata"].get("service") == "remote-access"]
    assert len(remote) == 2
    assert any(s["image"] is None for s in first.servers.values())  # booted from volume
    assert len(first.servers) <= 300

    late = sc.state_at("2026-11-12")
    assert late.quotas["block-storage"]["gigabytes_ssd"] == 101916
    assert sc.faults_on(dt.date(2026, 11, 9))[0]["kind"] == "http_503"
    assert sc.faults_on(dt.date(2026, 11, 8)) == []


def test_timeline_applies_events_up_to_today_only():
    sc = parse_scenario(small_scenario())
    d1, d2 = sc.state_at("2026-11-01"), sc.state_at("2026-11-02")
    names1 = {s["name"] for s in d1.servers.values()}
    names2 = {s["name"] for s in d2.servers.values()}
    assert "app-08" in names1 and "app-08" not in names2
    assert len(names1) == 12 and len(names2) == 11
    assert d1.quotas["block-storage"]["gigabytes_ssd"] == 2000
    assert d2.quotas["block-storage"]["gigabytes_ssd"] == 3000
    # deleting a server detaches (keeps) its data volume
    left = [v for v in d2.volumes.values() if v["name"] == "app-08-data-1"]
    assert left and left[0]["server_id"] is None
    # before the first event: nothing
    assert len(sc.state_at("2026-10-01").servers) == 0
    # same ids every time
    again = parse_scenario(small_scenario())
    assert set(again.state_at("2026-11-01").servers) == set(d1.servers)


def test_count_shorthand_update_and_delete_by_glob(tmp_path):
    data = small_scenario(timeline=[
        {"date": "2026-11-01", "create": {"servers": [
            {"name": "web-{n:03d}", "count": 25, "start": 5, "flavor": "c2m4",
             "image": "kylin-v10"}]}},
        {"date": "2026-11-02", "update": {"servers": [
            {"match": "web-00*", "set": {"status": "SHUTOFF", "metadata": {"x": "1"}}}]}},
        {"date": "2026-11-03", "delete": {"servers": [{"match": "web-*", "count": 3},
                                                      "web-010"]}},
    ])
    sc = parse_scenario(data, "inline.yaml")
    s1 = sc.state_at("2026-11-01")
    names = sorted(s["name"] for s in s1.servers.values())
    assert names[0] == "web-005" and names[-1] == "web-029" and len(names) == 25
    s2 = sc.state_at("2026-11-02")
    off = {s["name"] for s in s2.servers.values() if s["status"] == "SHUTOFF"}
    assert off == {f"web-00{i}" for i in range(5, 10)}
    s3 = sc.state_at("2026-11-03")
    assert len(s3.servers) == 25 - 4
    assert "web-010" not in {s["name"] for s in s3.servers.values()}


@pytest.mark.parametrize("mutate, key", [
    (lambda d: d["flavors"][0].pop("vcpus"), "flavors[0].vcpus"),
    (lambda d: d["timeline"][0]["create"]["servers"][0].update(flavor="nope"),
     "timeline[0].create.servers[0].flavor"),
    (lambda d: d["timeline"][0]["create"]["servers"][0].update(image="nope"),
     "timeline[0].create.servers[0].image"),
    (lambda d: d["quotas"]["compute"].update(bogus=1), "quotas.compute.bogus"),
    (lambda d: d["quotas"]["block-storage"].update(gigabytes_nope=1),
     "quotas.block-storage.gigabytes_nope"),
    (lambda d: d["timeline"][1].update(date="2026-13-01"), "timeline[1].date"),
    (lambda d: d["timeline"][2]["faults"][0].update(kind="explode"),
     "timeline[2].faults[0].kind"),
    (lambda d: d["timeline"][1]["delete"].update(servers=["ghost"]),
     "timeline[1].delete.servers[0]"),
    (lambda d: d.update(colour="red"), "<top>.colour"),
    (lambda d: d["application_credentials"][0].update(user="ghost"),
     "application_credentials[0].user"),
])
def test_bad_input_names_file_and_key(tmp_path, mutate, key):
    data = small_scenario()
    mutate(data)
    p = _write(tmp_path, data, "broken.yaml")
    with pytest.raises(ValueError) as exc:
        load_scenario(p)
    msg = str(exc.value)
    assert "broken.yaml" in msg
    assert key in msg


def test_not_yaml_and_missing_file(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("project: [unclosed\n")
    with pytest.raises(ValueError, match="bad.yaml"):
        load_scenario(p)
    with pytest.raises(ValueError, match="nowhere.yaml"):
        load_scenario(tmp_path / "nowhere.yaml")


def test_generator_exact_counts_every_day(tmp_path):
    # (the 10,000 / 30,000 tenant, timed, is in test_sim_large.py)
    out = tmp_path / "mid.yaml"
    write_scenario(generate_scenario(800, 2400, seed=7), str(out))
    sc = load_scenario(out)
    for day in range(7):
        st = sc.state_at(sc.first_date + dt.timedelta(days=day))
        assert (len(st.servers), len(st.volumes)) == (800, 2400), day
    assert sc.state_at(sc.default_today).usage["block-storage"]["volumes"] == 2400
    # deterministic for a seed
    assert generate_scenario(50, 80, seed=3) == generate_scenario(50, 80, seed=3)
    assert generate_scenario(50, 80, seed=3) != generate_scenario(50, 80, seed=4)


@pytest.mark.parametrize("n,m", [(0, 0), (3, 1), (7, 40), (120, 130)])
def test_generator_small_shapes(n, m):
    sc = parse_scenario(generate_scenario(n, m, seed=1))
    st = sc.state_at(sc.default_today)
    assert (len(st.servers), len(st.volumes)) == (n, m)
