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

CAL_2027 = """日期,类型,依据
2027-01-01,休息日,测试用通知（非官方）
2027-07-08,休息日,测试用通知（非官方）
2027-07-10,工作日,测试用通知（非官方）
"""


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


def test_schedule_with_a_2027_calendar_file(tmp_path, capsys):
    f = tmp_path / "cal.csv"
    f.write_text("日期,类型,依据\n2027-01-01,休息日,测试用通知（非官方）\n", encoding="utf-8")
    cfg = write_config(tmp_path, extra=f'[calendar]\nfile = "{f}"\n')
    assert main(["--config", str(cfg), "finance", "schedule"]) == 0
    out = capsys.readouterr().out
    # the term's last day is Fri 2027-07-09: the final payment is not before Mon 07-12;
    # invoice 5 working days before: 07-09, 08, 07, 06, Mon 07-05
    assert "最早付款日：2027-07-12" in out and "乙方开票截止：2027-07-05" in out


def test_schedule_calendar_flag_beats_the_config_and_moves_the_dates(tmp_path, capsys):
    f = tmp_path / "cal.csv"
    f.write_text(CAL_2027, encoding="utf-8")
    cfg = write_config(tmp_path)
    assert main(["--config", str(cfg), "finance", "schedule", "--calendar", str(f)]) == 0
    out = capsys.readouterr().out
    # Sat 2027-07-10 is a working day in this file, so it is the first after the term;
    # 5 before it: 07-09, (07-08 a holiday here), 07-07, 06, 05, Fri 07-02
    assert "最早付款日：2027-07-10" in out and "乙方开票截止：2027-07-02" in out


def test_a_bad_calendar_file_exits_3_naming_line_and_column(tmp_path, capsys):
    f = tmp_path / "cal.csv"
    f.write_text("日期,类型,依据\n2027-01-01,放假,通知\n", encoding="utf-8")
    cfg = write_config(tmp_path)
    assert main(["--config", str(cfg), "finance", "schedule", "--calendar", str(f)]) == 3
    err = capsys.readouterr().err
    assert "cal.csv:2 [类型]" in err
