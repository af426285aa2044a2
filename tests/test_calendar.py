"""Working days and the payment schedule of 第七条.

The 2027 file below is test data in the shape of the State Council's notice
(its rows are not the official 2027 arrangement, which the tests must not
guess either): it proves the file, not the library, decides 2027.
"""
from __future__ import annotations

from datetime import date

import pytest

from recon.calendar import CalendarError, WorkCalendar
from recon.cli import main
from recon.errors import InputError
from tests.conftest import write_config

from datetime import timedelta

NOTICE = "测试用通知（非官方）"


def _rows(first: str, last: str, kind: str, holiday: str) -> list[str]:
    day, end = date.fromisoformat(first), date.fromisoformat(last)
    out = []
    while day <= end:
        out.append(f"{day},{kind},{NOTICE},{holiday}")
        day += timedelta(days=1)
    return out


#: a whole year in the shape of a notice (its dates are made up, not the official 2027
#: arrangement): weekday days off 1+6+1+3+1+1+5 = 18, less the 13 statutory days = the 5
#: adjusted working weekends below
YEAR_2027 = (
    _rows("2027-01-01", "2027-01-03", "休息日", "元旦")
    + _rows("2027-02-05", "2027-02-13", "休息日", "春节")
    + ["2027-01-31,工作日,%s,春节" % NOTICE, "2027-02-20,工作日,%s,春节" % NOTICE]
    + _rows("2027-04-03", "2027-04-05", "休息日", "清明节")
    + _rows("2027-05-01", "2027-05-05", "休息日", "劳动节")
    + ["2027-05-08,工作日,%s,劳动节" % NOTICE]
    + _rows("2027-06-09", "2027-06-09", "休息日", "端午节")
    + _rows("2027-09-15", "2027-09-15", "休息日", "中秋节")
    + _rows("2027-10-01", "2027-10-07", "休息日", "国庆节")
    + ["2027-09-26,工作日,%s,国庆节" % NOTICE, "2027-10-09,工作日,%s,国庆节" % NOTICE])


def calendar_text(rows=YEAR_2027, extra=()) -> str:
    return "日期,类型,依据,节日\n" + "\n".join(list(rows) + list(extra)) + "\n"


# and two days the test adds beyond the seven holidays (节日 其他): a Thursday off and
# the Saturday after it a working day
CAL_2027 = calendar_text(extra=[f"2027-07-08,休息日,{NOTICE},其他",
                                f"2027-07-10,工作日,{NOTICE},其他"])


def test_first_payment_is_the_20th_working_day_after_signing_and_the_invoice_5_before():
    cal = WorkCalendar()
    # signed Fri 2026-07-10 (not counted): 07-13..17 = 5, 07-20..24 = 10, 07-27..31 = 15,
    # 08-03..07 = 20 -> 2026-08-07; no holiday in July or August 2026
    assert cal.add_workdays(date(2026, 7, 10), 20) == date(2026, 8, 7)
    # 5 working days before Fri 08-07: 08-06, 05, 04, 03, Fri 07-31
    assert cal.add_workdays(date(2026, 8, 7), -5) == date(2026, 7, 31)


def test_adjusted_working_weekends_and_holidays_follow_the_official_calendar():
    cal = WorkCalendar()
    # 2026 National Day: 10-01..10-07 off, Sat 10-10 and Sun 09-20 are working days
    assert cal.add_workdays(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert cal.add_workdays(date(2026, 10, 9), 1) == date(2026, 10, 10)
    assert cal.is_workday(date(2026, 9, 20)) and not cal.is_workday(date(2026, 10, 5))


def test_a_year_no_source_covers_is_an_error_naming_the_year_and_the_remedy():
    with pytest.raises(CalendarError) as exc:
        WorkCalendar().is_workday(date(2027, 7, 12))
    assert "2027" in str(exc.value) and "[calendar] file" in str(exc.value)
    assert "--calendar" in str(exc.value)


def test_a_calendar_file_decides_the_year_the_library_lacks(tmp_path):
    f = tmp_path / "cal.csv"
    f.write_bytes(CAL_2027.encode("gbk"))  # as Excel saves it on a Chinese Windows
    cal = WorkCalendar(f)
    assert not cal.is_workday(date(2027, 7, 8))   # a Thursday the file makes a holiday
    assert cal.is_workday(date(2027, 7, 10))      # a Saturday the file makes a working day
    assert cal.is_workday(date(2027, 7, 12))      # an ordinary Monday
    assert not cal.is_workday(date(2027, 7, 11))  # an ordinary Sunday
    assert "测试用通知" in cal.source_of(2027)
    with pytest.raises(CalendarError, match="2028"):
        cal.is_workday(date(2028, 1, 3))


def test_a_calendar_row_that_contradicts_the_library_names_its_line(tmp_path):
    f = tmp_path / "cal.csv"
    f.write_text("日期,类型,依据\n2027-01-01,休息日,通知\n2026-10-05,工作日,通知\n",
                 encoding="utf-8")
    with pytest.raises(InputError) as exc:
        WorkCalendar(f)
    assert exc.value.line == 3 and exc.value.column == "类型"


def test_schedule_without_a_2027_calendar_shows_the_first_payment_and_exits_3(tmp_path, capsys):
    cfg = write_config(tmp_path)
    assert main(["--config", str(cfg), "finance", "schedule"]) == 3
    out, err = capsys.readouterr()
    assert "2026-08-07" in out and "2026-07-31" in out
    # 2,919,558.00 x 50% = 1,459,779.00, as 第七条 writes it
    assert "1,459,779.00" in out and "人民币壹佰肆拾伍万玖仟柒佰柒拾玖元整" in out
    assert "2027" in err and "[calendar] file" in err


def test_schedule_with_a_2027_calendar_file_and_no_planned_day(tmp_path, capsys):
    f = tmp_path / "cal.csv"
    f.write_text(calendar_text(), encoding="utf-8")
    cfg = write_config(tmp_path, extra=f'[calendar]\nfile = "{f}"\n')
    assert main(["--config", str(cfg), "finance", "schedule"]) == 0
    out = capsys.readouterr().out
    # the term's last day is Fri 2027-07-09: the final payment is not before Mon 07-12.
    # Its invoice deadline is not counted from that earliest day (07-05, before the term
    # even ends) but from the day the agency plans to pay: not recorded, so not known
    assert "最早付款日：2027-07-12" in out
    assert "2027-07-05" not in out
    final = out[out.index("第2期"):]
    assert "乙方开票截止：未定" in final and "--planned-final" in final


def test_the_final_invoice_deadline_is_counted_from_the_planned_payment_day(tmp_path, capsys):
    f = tmp_path / "cal.csv"
    f.write_text(calendar_text(), encoding="utf-8")
    cfg = write_config(tmp_path, extra=f'[calendar]\nfile = "{f}"\n')
    assert main(["--config", str(cfg), "finance", "schedule", "--planned-final",
                 "2027-08-16"]) == 0
    out = capsys.readouterr().out
    final = out[out.index("第2期"):]
    # Mon 08-16; 5 working days before: 08-13, 12, 11, 10, Mon 08-09
    assert "计划付款日：2027-08-16" in final and "乙方开票截止：2027-08-09" in final
    assert "最早付款日：2027-07-12" in final
    # the same day recorded in recon.toml; the flag beats it
    cfg = write_config(tmp_path, extra=f'[calendar]\nfile = "{f}"\n'
                       '[payments]\nfinal_planned = 2027-10-08\n')
    assert main(["--config", str(cfg), "finance", "schedule"]) == 0
    final = capsys.readouterr().out.split("第2期")[1]
    # Fri 10-08, after 国庆 (10-01..07 off, Sun 09-26 a working day): 5 before it are
    # 09-30, 29, 28, 27, Sun 09-26
    assert "计划付款日：2027-10-08" in final and "乙方开票截止：2027-09-26" in final
    assert main(["--config", str(cfg), "finance", "schedule", "--planned-final",
                 "2027-08-16"]) == 0
    assert "计划付款日：2027-08-16" in capsys.readouterr().out


def test_the_schedule_function_takes_the_planned_day(tmp_path):
    from recon.config import load_config
    from recon.contract import load_contract
    from recon.finance.schedule import schedule

    f = tmp_path / "cal.csv"
    f.write_text(calendar_text(), encoding="utf-8")
    contract = load_contract(load_config(write_config(tmp_path)))
    cal = WorkCalendar(f)
    final = schedule(contract, cal, date(2027, 7, 12))[1]
    assert (final.due, final.due_kind, final.invoice_by) == \
        (date(2027, 7, 12), "planned", date(2027, 7, 5))
    assert schedule(contract, cal)[1].invoice_by is None


@pytest.mark.parametrize("day, words", [("2027-07-09", "before the earliest day"),
                                         ("2027-07-17", "not a working day")])
def test_a_planned_day_before_the_term_ends_or_on_a_holiday_exits_3(tmp_path, capsys, day,
                                                                     words):
    f = tmp_path / "cal.csv"
    f.write_text(calendar_text(), encoding="utf-8")
    cfg = write_config(tmp_path, extra=f'[calendar]\nfile = "{f}"\n')
    assert main(["--config", str(cfg), "finance", "schedule", "--planned-final", day]) == 3
    assert words in capsys.readouterr().err


def test_a_bad_planned_day_in_the_config_exits_3(tmp_path, capsys):
    f = tmp_path / "cal.csv"
    f.write_text(calendar_text(), encoding="utf-8")
    cfg = write_config(tmp_path, extra=f'[calendar]\nfile = "{f}"\n'
                       '[payments]\nfinal_planned = "next week"\n')
    assert main(["--config", str(cfg), "finance", "schedule"]) == 3
    assert "final_planned" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:   # a usage error: argparse exits 3 (recon.cli)
        main(["--config", str(cfg), "finance", "schedule", "--planned-final", "07/12"])
    assert exc.value.code == 3


def test_schedule_calendar_flag_beats_the_config_and_moves_the_dates(tmp_path, capsys):
    f = tmp_path / "cal.csv"
    f.write_text(CAL_2027, encoding="utf-8")
    cfg = write_config(tmp_path)
    assert main(["--config", str(cfg), "finance", "schedule", "--calendar", str(f),
                 "--planned-final", "2027-07-12"]) == 0
    out = capsys.readouterr().out
    # Sat 2027-07-10 is a working day in this file, so it is the first after the term;
    # 5 before the planned Mon 07-12: Sat 07-10, 07-09, (07-08 a holiday here), 07-07, 06,
    # Mon 07-05
    assert "最早付款日：2027-07-10" in out and "乙方开票截止：2027-07-05" in out


def test_a_calendar_file_of_one_row_for_a_year_is_refused_naming_what_is_missing(tmp_path,
                                                                                capsys):
    f = tmp_path / "cal.csv"
    f.write_text("日期,类型,依据,节日\n2027-01-01,休息日,通知,元旦\n", encoding="utf-8")
    cfg = write_config(tmp_path)
    assert main(["--config", str(cfg), "finance", "schedule", "--calendar", str(f)]) == 3
    err = capsys.readouterr().err
    assert "2027" in err
    for name in ("春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"):
        assert name in err
    assert "缺少放假安排" in err and "元旦（" not in err
    # without a 节日 column the file cannot say which holiday a row is
    f.write_text("日期,类型,依据\n2027-01-01,休息日,通知\n", encoding="utf-8")
    with pytest.raises(CalendarError, match="没有写节日"):
        WorkCalendar(f)


def test_a_missing_adjusted_working_day_or_holiday_day_is_refused(tmp_path):
    f = tmp_path / "cal.csv"
    # the 劳动节 working Saturday left out: 18 - 13 = 5 needed, 4 given
    f.write_text(calendar_text([r for r in YEAR_2027 if not r.startswith("2027-05-08")]),
                 encoding="utf-8")
    with pytest.raises(CalendarError, match="应有 5 个调休上班日.*文件有 4 个"):
        WorkCalendar(f)
    # 春节 with 3 days off, fewer than its 4 statutory days
    f.write_text(calendar_text([r for r in YEAR_2027 if "春节" not in r]
                               + _rows("2027-02-06", "2027-02-08", "休息日", "春节")),
                 encoding="utf-8")
    with pytest.raises(CalendarError, match="春节（应至少 4 天，文件有 3 天）"):
        WorkCalendar(f)
    # a 工作日 row on a weekday is no adjusted working day
    f.write_text(calendar_text(extra=[f"2027-03-03,工作日,{NOTICE},其他"]), encoding="utf-8")
    with pytest.raises(CalendarError, match="2027-03-03"):
        WorkCalendar(f)
    f.write_text(calendar_text(extra=[f"2027-03-06,休息日,{NOTICE},植树节"]), encoding="utf-8")
    with pytest.raises(InputError, match="植树节"):
        WorkCalendar(f)


def test_the_completeness_rule_holds_for_the_libraries_recent_years():
    """The 调休 arithmetic check_year applies, tried on the official years chinese-calendar
    carries under the same statutory days (2025, 2026)."""
    import chinese_calendar

    from recon.calendar import Override, check_year

    names = {"New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节",
             "Labour Day": "劳动节", "Dragon Boat Festival": "端午节",
             "Mid-autumn Festival": "中秋节", "National Day": "国庆节"}
    for year in (2025, 2026):
        rows = []
        for table, workday in ((chinese_calendar.holidays, False),
                               (chinese_calendar.workdays, True)):
            for day, name in table.items():
                if day.year == year:
                    en = name.value[0] if hasattr(name, "value") else name
                    rows.append(Override(day, workday, "国务院通知", 0, (names[en],)))
        assert check_year(year, rows) == [], year


def test_a_bad_calendar_file_exits_3_naming_line_and_column(tmp_path, capsys):
    f = tmp_path / "cal.csv"
    f.write_text("日期,类型,依据\n2027-01-01,放假,通知\n", encoding="utf-8")
    cfg = write_config(tmp_path)
    assert main(["--config", str(cfg), "finance", "schedule", "--calendar", str(f)]) == 3
    err = capsys.readouterr().err
    assert "cal.csv:2 [类型]" in err
