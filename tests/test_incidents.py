"""The incidents ledger: import with history, bad rows refused whole, a month's figures in SQL."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from recon.cli import main
from recon.config import load_config
from recon.contract import load_contract
from recon.ledgers import incidents
from recon.store import Store

HEADER = ("事件编号,系统名称,重要系统,类型,发生时间,响应时间,到场时间,定位时间,恢复时间,"
          "是否中断服务,影响,投诉,事件级别,重大损失,备注\n")


def ledger(folder, rows: str, name="incidents.csv", encoding="utf-8") -> str:
    path = folder / name
    path.write_bytes((HEADER + rows).encode(encoding))
    return str(path)


def run(workdir, *args) -> int:
    return main(["--config", str(workdir / "recon.toml"), "incidents", *args])


def figures(workdir, first: date, last: date) -> incidents.Figures:
    contract = load_contract(load_config(workdir / "recon.toml"))
    with Store(workdir / "recon.duckdb", read_only=True) as store:
        return incidents.month_figures(store, first, last, contract.start)


NOV = (date(2026, 11, 1), date(2026, 11, 30))


def test_gbk_file_imports_and_a_changed_row_is_a_new_revision(workdir, capsys):
    rows = ("F-1,卫健大数据平台,是,故障,2026-11-05 10:00,2026-11-05 10:10,,2026-11-05 10:20,"
            "2026-11-05 10:40,是,门户无法访问,否,,否,\n"
            "R-1,统计分析系统,否,运维需求,2026-11-06 09:00,2026-11-06 09:05,,,"
            "2026-11-06 09:30,否,,否,,否,扩容磁盘\n")
    assert run(workdir, "import", ledger(workdir, rows, encoding="gbk")) == 0
    assert "2 incidents read, 2 new or changed" in capsys.readouterr().out
    # the provider's work order says recovery came later: a second revision, the first kept
    rows2 = rows.replace("2026-11-05 10:40", "2026-11-05 11:10")
    assert run(workdir, "import", ledger(workdir, rows2, encoding="utf-8-sig")) == 0
    assert "2 incidents read, 1 new or changed" in capsys.readouterr().out
    with Store(workdir / "recon.duckdb", read_only=True) as store:
        revs = incidents.history(store, "F-1")
    assert [r.revision for r in revs] == [1, 2]
    assert revs[-1].recovered_at.hour == 11 and revs[0].recovered_at.minute == 40
    assert run(workdir, "list", "--month", "2026-11", "--history") == 0
    out = capsys.readouterr().out
    assert "F-1  卫健大数据平台（重要）  故障  2026-11-05 10:00" in out
    assert "rev 1 from incidents.csv:2" in out


@pytest.mark.parametrize("cell, bad, column, why", [
    ("2026-11-05 10:10", "2026-11-05 09:10", "响应时间", "before the incident started"),
    ("故障", "宕机", "类型", "not one of 故障"),
    ("是,门户", "也许,门户", "是否中断服务", "write 是 or 否"),
    ("2026-11-05 10:00", "2026-13-05 10:00", "发生时间", "not a date or time"),
    (",否,\n", ",否,\n" + "F-1,x,否,故障,2026-11-07,,,,,否,,否,,否,\n", "事件编号",
     "appears twice"),
    ("否,,否,\nR", "否,C,否,\nR", "事件级别", "is not A, B"),
])
def test_a_bad_row_names_line_and_column_and_nothing_is_imported(workdir, capsys, cell, bad,
                                                                  column, why):
    rows = ("R-0,统计分析系统,否,运维需求,2026-11-02 09:00,2026-11-02 09:05,,,2026-11-02 09:30,"
            "否,,否,,否,\n"
            "F-1,卫健大数据平台,是,故障,2026-11-05 10:00,2026-11-05 10:10,,,2026-11-05 10:40,"
            "是,门户,否,,否,\nR-2,统计分析系统,否,运维需求,2026-11-06 09:00,,,,,否,,否,,否,\n")
    assert bad != cell and cell in rows
    path = ledger(workdir, rows.replace(cell, bad, 1))
    assert run(workdir, "import", path) == 3
    err = capsys.readouterr().err
    assert f"[{column}]" in err and why in err
    assert ":3 " in err or ":4 " in err  # the line of the bad row, header = line 1
    assert not (workdir / "recon.duckdb").exists()  # checked before the store is opened


def test_month_figures_union_outages_and_count_open_ones_to_month_end(workdir):
    rows = (
        # two systems down at overlapping times: 10:00-11:00 and 10:30-11:30 = 90 minutes
        "F-1,平台A,否,故障,2026-11-05 10:00,2026-11-05 10:20,2026-11-05 11:00,,"
        "2026-11-05 11:00,是,,是,,否,\n"
        "F-2,平台B,是,故障,2026-11-05 10:30,2026-11-05 10:40,,,2026-11-05 11:30,是,,否,B,否,\n"
        # still down at the end of November: counts from 11-30 23:00 to 24:00, marked open
        "F-3,平台A,否,故障,2026-11-30 23:00,2026-11-30 23:10,,,,是,,否,,否,\n")
    assert run(workdir, "import", ledger(workdir, rows)) == 0
    f = figures(workdir, *NOV)
    assert f.outage_seconds == 150 * 60
    assert f.period_seconds == 30 * 1440 * 60
    # 1 - 150 / 43200 minutes
    assert f.availability == Decimal(43200 - 150) / Decimal(43200)
    assert f.open_at_end == ["F-3"]
    assert f.mean_minutes("response") == Decimal("13.3")          # (20 + 10 + 10) / 3
    assert f.mean_minutes("recovery") == Decimal("60.0")          # F-1 60 min, F-3 60 (to 24:00)
    assert f.mean_minutes("recovery_important") == Decimal("60.0")  # F-2
    assert f.on_site_max_seconds == 3600 and f.on_site_late == []
    assert [(s.system, s.outages, s.seconds, s.open) for s in f.systems] == \
        [("平台A", 2, 120 * 60, True), ("平台B", 1, 3600, False)]
    assert f.complaints == 1 and f.events_b == ["F-2"] and f.events_a == []
    # December: F-3 is still open, its outage continues from 12-01 00:00
    dec = figures(workdir, date(2026, 12, 1), date(2026, 12, 31))
    assert dec.open_at_end == ["F-3"] and dec.outage_seconds == 31 * 1440 * 60
    assert dec.response_n == 0  # F-3 was judged in November, where it began


def test_several_months_at_once_keep_each_month_to_itself(workdir):
    """A nightly report assesses every month so far in one statement: an outage across a
    month's end is split at midnight, outages of different months never merge, and each
    month counts complaints and 附件1 events up to its own end."""
    rows = (
        "F-1,平台A,否,故障,2026-10-31 23:00,2026-10-31 23:10,,,2026-11-01 01:00,是,,是,A,否,\n"
        "F-2,平台A,否,故障,2026-11-01 00:30,2026-11-01 00:35,,,2026-11-01 02:00,是,,否,,否,\n"
        "F-3,平台B,是,故障,2026-12-02 08:00,2026-12-02 08:05,,,2026-12-02 08:30,是,,是,B,否,\n")
    assert run(workdir, "import", ledger(workdir, rows)) == 0
    contract = load_contract(load_config(workdir / "recon.toml"))
    with Store(workdir / "recon.duckdb", read_only=True) as store:
        oct_, nov, dec = incidents.period_figures(
            store, [(date(2026, 10, 1), date(2026, 10, 31)), NOV,
                    (date(2026, 12, 1), date(2026, 12, 31))], contract.start)
    assert oct_.outage_seconds == 3600 and oct_.open_at_end == ["F-1"]
    assert (oct_.response_n, oct_.complaints, oct_.events_a) == (1, 1, ["F-1"])
    # November: F-1's last hour and F-2 (00:30-02:00) overlap: 00:00-02:00 once
    assert nov.outage_seconds == 2 * 3600 and nov.open_at_end == []
    assert (nov.response_n, nov.complaints, nov.complaints_in_term) == (1, 0, 1)
    assert nov.events_a == ["F-1"] and nov.events_b == []
    # (per system, each outage's own time: 1 h of F-1 + 1.5 h of F-2)
    assert [(s.system, s.outages, s.seconds) for s in nov.systems] == [("平台A", 2, 9000)]
    assert dec.outage_seconds == 1800 and dec.recovery_important_n == 1
    assert (dec.complaints, dec.complaints_in_term, dec.events_b) == (1, 2, ["F-3"])
    assert [(s.system, s.seconds) for s in dec.systems] == [("平台B", 1800)]
    # the same as asking month by month
    with Store(workdir / "recon.duckdb", read_only=True) as store:
        assert incidents.month_figures(store, *NOV, contract.start) == nov


def test_an_xlsx_ledger_with_date_cells_imports(workdir):
    from datetime import datetime

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["incident_id", "system", "important", "kind", "started_at", "responded_at",
               "recovered_at", "outage", "complaint"])
    ws.append(["X-1", "门户网站", "yes", "fault", datetime(2026, 11, 8, 8, 0),
               datetime(2026, 11, 8, 8, 12), datetime(2026, 11, 8, 8, 30), "是", "否"])
    wb.save(workdir / "incidents.xlsx")
    assert run(workdir, "import", str(workdir / "incidents.xlsx")) == 0
    f = figures(workdir, *NOV)
    assert (f.outage_seconds, f.response_seconds, f.recovery_important_seconds) == \
        (30 * 60, 12 * 60, 30 * 60)


def test_a_store_from_before_the_ledger_is_migrated_by_its_commands(workdir, monkeypatch,
                                                                     capsys):
    from recon import store as store_mod

    monkeypatch.setattr(store_mod, "MIGRATIONS", store_mod.MIGRATIONS[:2])  # an older recon
    with Store(workdir / "recon.duckdb") as old:
        assert old.version == 2
    monkeypatch.undo()
    assert run(workdir, "list") == 0
    assert main(["--config", str(workdir / "recon.toml"), "report", "monthly", "--month",
                 "2026-11", "--out", str(workdir / "out")]) == 0
    month = (workdir / "out" / "monthly" / "2026-11" / "assessment.json").read_text("utf-8")
    assert '"gaps": [\n    "2026-11-01"' in month  # nothing ran: every night is a gap


def test_ledger_commands_never_create_a_store(workdir, capsys):
    assert run(workdir, "list") == 4
    assert "no store here yet" in capsys.readouterr().err
    assert not (workdir / "recon.duckdb").exists()
