"""`recon finance verify` on a statement billed per resource: 2,000 lines, evidence by runs.

The store is tests/test_finance.py's (ten real nights, 2026-11-01 .. 11-10; item 14 SSL VPN
delivered 45 on 11-03 and failed on 11-05, the other measured items delivered in full).
Each line's evidence is its runs of alike nights, not one row per night: these tests check
that the runs add up to the days a clerk would count one by one, and that the workbook
stays within Excel's limits.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import re

import openpyxl
import pytest

import reports.finance as finance_report

from tests.test_finance import HEAD, folder_of, nights, store, verify  # noqa: F401 (fixture)

#: (item, name, contract price, quantity per line): 667 lines of VPN bill 33.35 a night at
#: most, under the 45 delivered on 11-03, so every line's figures are computable alone
ITEMS = ((14, "SSL VPN接入", Decimal("940.80"), Decimal("0.05")),
         (16, "WAF", Decimal("302.40"), Decimal("0.03")),
         (17, "主机杀毒服务", Decimal("173.40"), Decimal("0.1")))
FIRST = date(2026, 11, 1)
#: item 14's nights: 11-05 failed (采集失败), every other night of 11-01..11-10 measured
FAILED = {14: {date(2026, 11, 5)}}
#: nights unlike their neighbours: item 14's 11-03 (45 allocated of 49) and 11-05
ODD = {14: {date(2026, 11, 3), date(2026, 11, 5)}}


def fen(x: Fraction) -> Decimal:
    return (Decimal(x.numerator) / Decimal(x.denominator)).quantize(Decimal("0.01"),
                                                                       ROUND_HALF_UP)


def _lines(n: int):
    for i in range(n):
        item, name, price, q = ITEMS[i % 3]
        start = FIRST + timedelta(days=i % 7)
        end = start + timedelta(days=i % 4)
        days = (end - start).days + 1
        yield item, name, price, q, start, end, fen(Fraction(price) * Fraction(q) * days / 360)


@pytest.fixture(scope="module")
def large(store):  # noqa: F811 (the fixture imported above)
    rows = list(_lines(2000))
    text = HEAD + "".join(f"{item},{name},{s},{e},{q},{p},{amount}\n"
                          for item, name, p, q, s, e, amount in rows)
    code, report = verify(store, "per_resource", text)
    return rows, code, report, folder_of(store / "per_resource.csv")


def test_each_lines_figures_are_its_nights_summed_and_its_runs_add_up_to_them(large):
    rows, code, report, _ = large
    # items 12 and 32 are not billed (missing_item, exit 1); a VPN line of 11-05 alone has no
    # measured night (unverified); every other line is right
    assert code == 1 and report["statuses"] == ["missing_item"]
    alone = [ln["line"] for (item, *_, s, e, _), ln in zip(rows, report["lines"])
             if item == 14 and s == e == date(2026, 11, 5)]
    assert [ln["line"] for ln in report["lines"] if ln["statuses"] == ["unverified"]] == alone
    assert report["counts"]["ok"] == 2000 - len(alone) > 1900
    for (item, _, price, q, start, end, amount), ln in zip(rows, report["lines"]):
        days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
        # day by day, as a clerk counts: each night 1/360 of the term (November)
        measured = [d for d in days if d not in FAILED.get(item, ())]
        accepted = fen(Fraction(price) * Fraction(q) * len(measured) / 360)
        whole = fen(Fraction(price) * Fraction(q) * len(days) / 360)
        assert (ln["billed_amount"], ln["accepted_amount"], ln["unknown_value"],
                ln["difference"]) == (str(amount), str(accepted), str(whole - accepted),
                                      "0.00"), ln["line"]
        # the runs cover the line's days once each, in order, and their values add up
        spread = nights(ln)
        assert list(spread) == [d.isoformat() for d in days]
        assert all(spread[d.isoformat()]["state"] == "unknown" for d in FAILED.get(item, ())
                   if d in days)
        assert sum(r["nights"] for r in ln["runs"]) == len(days)
        assert sum(Fraction(r["share"]) * r["nights"] for r in ln["runs"]) == \
            Fraction(ln["share"])
        for key, total in (("accepted", "accepted_total"), ("unknown", "unknown_total")):
            for r in ln["runs"]:
                assert abs(Decimal(r[key]) * r["nights"] - Decimal(r[total])) < Decimal("1e-5")
        run_sum = sum(Decimal(r["accepted_total"]) for r in ln["runs"])
        assert abs(run_sum - accepted) <= Decimal("0.005") + Decimal("1e-5")
        # one run per stretch of alike nights: item 14's 11-03 (45 allocated) and 11-05
        # (failed) stand apart, every other night of an item is alike
        kinds = [d if d in ODD.get(item, ()) else None for d in days]
        assert len(ln["runs"]) == 1 + sum(a != b for a, b in zip(kinds, kinds[1:]))
    assert report["accepted"]["amount"] == str(sum(
        (Decimal(ln["accepted_amount"]) for ln in report["lines"]), Decimal(0)))


def test_a_failed_night_mid_period_makes_three_runs(store):  # noqa: F811
    # VPN billed 49 for 11-04..11-10: 11-04 measured, 11-05 failed, 11-06..11-10 measured
    # alike: three rows of evidence, not seven
    code, r = verify(store, "three_runs", HEAD + "14,SSL VPN接入,2026-11-04,2026-11-10,49,"
                     "940.80,896.37\n")
    (ln,) = r["lines"]
    assert [(x["first"], x["last"], x["nights"], x["state"]) for x in ln["runs"]] == [
        ("2026-11-04", "2026-11-04", 1, "measured"), ("2026-11-05", "2026-11-05", 1, "unknown"),
        ("2026-11-06", "2026-11-10", 5, "measured")]
    # 940.80 x 49 / 360 = 128.0533.. a night; the run of five is 640.266667
    assert ln["runs"][2]["accepted"] == "128.053333"
    assert ln["runs"][2]["accepted_total"] == "640.266667"
    assert (ln["runs"][1]["unknown_total"], ln["runs"][1]["accepted_total"]) == \
        ("128.053333", "0.000000")
    assert ln["unknown_days"] == ["2026-11-05"] and ln["unknown_value"] == "128.05"
    html = (folder_of(store / "three_runs.csv") / "verification.html").read_text("utf-8")
    assert "2026-11-05（采集失败）" in html


def test_the_workbook_keeps_within_excels_limits(large):
    _, _, report, folder = large
    wb = openpyxl.load_workbook(folder / "verification.xlsx", read_only=True)
    assert wb.sheetnames == ["汇总", "明细", "依据（按连续相同的夜晚）"]
    assert all(len(name) <= 31 for name in wb.sheetnames)
    lines = wb["明细"]
    assert lines.max_row == 1 + 2000 + 1                 # header, lines, 合计
    evidence = wb["依据（按连续相同的夜晚）"]
    rows = list(evidence.iter_rows(min_row=2, values_only=True))
    # lines with the same runs share one block: far fewer rows than lines x nights
    assert len(rows) < 2000 <= sum(len(ln["runs"]) for ln in report["lines"])
    assert evidence.max_row <= 1_048_576 and lines.max_row <= 1_048_576
    for sheet in wb.worksheets:
        for row in sheet.iter_rows(values_only=True):
            assert all(len(v) <= 32_767 for v in row if isinstance(v, str))
    # every run's nights add up to the days of the lines it stands for
    assert sum(r[5] for r in rows) <= sum((ln_end - ln_start).days + 1 for ln_start, ln_end in
                                          ((date.fromisoformat(ln["period_start"]),
                                            date.fromisoformat(ln["period_end"]))
                                           for ln in report["lines"]))


def _numbers(text: str) -> list[int]:
    """Line numbers as the page lists them: "2、5、9–12" -> [2, 5, 9, 10, 11, 12]."""
    out = []
    for part in text.split("、"):
        a, _, b = part.partition("–")
        out += range(int(a), int(b or a) + 1)
    return out


def test_the_page_groups_unverified_and_correct_lines_listing_every_line_number(large):
    rows, _, report, folder = large
    html = (folder / "verification.html").read_text("utf-8")
    sections = re.split(r"<h3>", html)
    unverified = next(s for s in sections if s.startswith("无法核实的行"))
    correct = next(s for s in sections if s.startswith("正确的行"))
    # every line is findable by its number, in the group of its status, once
    want = {"unverified": [ln["line"] for ln in report["lines"] if ln["statuses"] == ["unverified"]],
            "ok": [ln["line"] for ln in report["lines"] if ln["statuses"] == ["ok"]]}
    for section, key in ((unverified, "unverified"), (correct, "ok")):
        listed = [n for cell in re.findall(r'<td class="lines">([^<]*)', section)
                  for n in _numbers(cell)]
        assert sorted(listed) == want[key] and len(listed) == len(set(listed))
    # a row a group (the VPN lines of 11-05 alone: one), not a row a line
    assert unverified.count("<tr") - 1 == 1 < len(want["unverified"])
    assert correct.count("<tr") - 1 < len(want["ok"]) // 10
    # its count and amounts are those of its lines
    (cells,) = re.findall(r'<tr class="sev-critical"><td>(.*?)</tr>', unverified)
    assert f'<td class="n">{len(want["unverified"])}</td>' in cells
    assert report["unverified_billed"]["text"] in cells


def test_the_workbook_written_row_by_row_reads_back_as_xlsxwriters_own(large, store,  # noqa: F811
                                                                        monkeypatch):
    _, _, report, folder = large
    fast = folder / "verification.xlsx"
    # the same statement (a blank line more: another file, another folder) written through
    # XlsxWriter's public methods, as when its internals are not what the fast rows expect
    monkeypatch.setattr(finance_report, "ROW_INTERNALS", ("no_such_attribute",))
    text = (store / "per_resource.csv").read_text("utf-8") + "\n"
    verify(store, "per_resource_slow", text)
    slow = folder_of(store / "per_resource_slow.csv") / "verification.xlsx"
    for data_only in (False, True):
        a = openpyxl.load_workbook(fast, data_only=data_only)
        b = openpyxl.load_workbook(slow, data_only=data_only)
        assert a.sheetnames == b.sheetnames
        for name in a.sheetnames:
            def cells(sheet):     # the statement's name and file are the only difference
                return [[(c.value.replace("per_resource_slow", "per_resource")
                          if isinstance(c.value, str) else c.value, c.number_format,
                          c.quotePrefix) for c in row] for row in sheet.iter_rows()]
            assert cells(a[name]) == cells(b[name]), name
    # 明细: a row a line, in the statement's order, each 差额 a formula over its own row
    # whose cached value is the line's difference
    book, values = openpyxl.load_workbook(fast), openpyxl.load_workbook(fast, data_only=True)
    head = [c.value for c in book["明细"][1]]
    assert "状态码" not in head and "状态" in head
    col = {h: i for i, h in enumerate(head)}
    rows = list(book["明细"].iter_rows(min_row=2, max_row=1 + len(report["lines"]),
                                       values_only=True))
    cached = list(values["明细"].iter_rows(min_row=2, max_row=1 + len(report["lines"]),
                                          values_only=True))
    assert [r[col["行号"]] for r in rows] == [ln["line"] for ln in report["lines"]]
    for n, (row, value, ln) in enumerate(zip(rows, cached, report["lines"]), start=2):
        assert row[col["差额"]] == f"=M{n}-O{n}-P{n}"
        assert [head[i] for i in (12, 14, 15)] == ["账单金额（含税）", "应核准金额",
                                                    "无数据夜价值（另列）"]
        assert round(Decimal(str(value[12])) - Decimal(str(value[14]))
                     - Decimal(str(value[15])), 2) == Decimal(ln["difference"]) \
            == round(Decimal(str(value[col["差额"]])), 2)
