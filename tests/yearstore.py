"""A contract year in miniature, played through the real nightly job once per test session
(the ``year`` fixture of tests/conftest.py): nights run from dated console exports (every
item, with the quantities each case needs), the agency's incidents ledger and a scaling
request, imported through the CLI.  tests/test_assess.py, test_penalties.py and
test_monthly.py read it.

    2026-07  first, partial month: a 4-minute outage fails 99.99% over 22 days
    2026-08, 2026-09  a 10-minute outage each: failed months 2 and 3 in a row
    2026-12  nights 1-12 only; every criterion fails; an incident open at month end
    2027-01  nights 1-3 with items 1-11 unmeasured: undetermined, not failed
    2027-07  last, partial month: nine complete nights, nothing wrong: passes

Money (fee per month = 2,919,558.00 / 12 = 243,296.50):
    附件3 row 1 availability 50%  = 121,648.25
    附件3 row 3 monthly rule 20%   =  48,659.30 (pending until the rectification fails)
    附件3 row 4 scaling 20%        =  48,659.30
    附件3 row 8, 30%               =  72,988.95
"""
from __future__ import annotations

from datetime import date

from recon import conclude
from recon.cli import main
from recon.config import load_config
from recon.contract import load_contract
from recon.nightly import Night
from recon.progress import Progress
from recon.rules import RULES_FILE
from recon.store import Store
from reports.monthly import build_monthly
from tests.conftest import write_config

INCIDENTS = """事件编号,系统名称,重要系统,类型,发生时间,响应时间,到场时间,定位时间,恢复时间,是否中断服务,影响,投诉,事件级别,重大损失,备注
J-1,门户网站,否,故障,2026-07-20 10:00,2026-07-20 10:03,,,2026-07-20 10:04,是,,否,,否,4 分钟
A-1,门户网站,否,故障,2026-08-15 10:00,2026-08-15 10:05,,,2026-08-15 10:10,是,,否,,否,10 分钟
S-1,门户网站,否,故障,2026-09-10 10:00,2026-09-10 10:05,,,2026-09-10 10:10,是,,否,,否,10 分钟
D-1,平台<script>x</script>,否,故障,2026-12-03 09:00,2026-12-03 09:20,2026-12-03 11:30,,2026-12-03 09:40,是,,否,,否,
D-2,卫健数据平台,是,故障,2026-12-31 23:30,2026-12-31 23:58,,,2027-01-01 09:00,否,,否,A,否,跨月
Q-1,统计分析系统,否,运维需求,2027-07-02 10:00,2027-07-02 10:05,,,2027-07-02 10:30,否,,否,,否,
"""
SCALING = """申请编号,序号,目标数量,申请时间,书面通知日期,通知期限
KR-9,9,4000,2026-12-01 10:00,2026-12-09,2026-12-10
"""


def nights():
    """(night, {item: allocated}) for every night the store holds; items left out are unknown."""
    for d in range(1, 13):
        day = date(2026, 12, d)
        over = {9: 4000 if d == 12 else 3500}
        if d != 5:
            over[6] = 90000           # item 6 short by 11,916 GB every measured night
        yield day, over, {6} if d == 5 else set()
    # the expansion to 4000 Mbps stays delivered
    for d in range(1, 4):
        yield date(2027, 1, d), {9: 4000}, set(range(1, 12))
    for d in range(1, 10):
        yield date(2027, 7, d), {9: 4000}, set()


def build(folder):
    """Play the year in miniature into ``folder`` (a session fixture of conftest)."""
    (folder / "contract_amendments.csv").write_text(
        "amendment_id,signed_date,effective_date,item_no,quantity,note\n", encoding="utf-8")
    cfg = write_config(folder)
    contract = load_contract(load_config(cfg))
    for day, over, missing in nights():
        d = folder / "exports" / day.isoformat()
        d.mkdir(parents=True)
        rows = ["序号,订购数量,使用数量"] + [
            f"{i.item_no},{over.get(i.item_no, i.quantity)},{i.quantity * 9 // 10}"
            for i in contract.items.values() if i.item_no not in missing]
        (d / "console.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (folder / "incidents.csv").write_bytes(INCIDENTS.encode("gbk"))
    (folder / "scaling.csv").write_text(SCALING, encoding="utf-8")
    assert main(["--config", str(cfg), "incidents", "import", str(folder / "incidents.csv")]) == 0
    assert main(["--config", str(cfg), "scaling", "import", str(folder / "scaling.csv")]) == 0
    night = Night(load_config(cfg), progress=Progress(quiet=True))
    for day, _, _ in nights():
        night.run(day, folder / "recon.duckdb", folder / "out")
    return folder


def report(year, month: str, extra: str = ""):
    """The month's report context; ``extra`` adds sections to a copy of the config."""
    cfg = year / "recon.toml"
    if extra:
        alt = year / f"alt-{abs(hash(extra))}"
        alt.mkdir(exist_ok=True)
        cfg = write_config(alt, extra=extra)
    config = load_config(cfg)
    contract = load_contract(config)
    with Store(year / "recon.duckdb") as store:  # as `recon report monthly`: conclude, then read
        conclude.month(store, contract, config, month)
        return build_monthly(store, contract, config, month)


def criteria(rep) -> dict:
    return {c.code: c for c in rep.criteria}


def _rules_with(year, line: str):
    """assessment.toml with ``[monthly_rule] rectification_failed`` set to ``line``."""
    text = RULES_FILE.read_text(encoding="utf-8").replace("rectification_failed = []", line)
    path = year / "assessment-alt.toml"
    path.write_text(text, encoding="utf-8")
    return path
