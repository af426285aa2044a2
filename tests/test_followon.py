"""A follow-on contract's own ledgers (migration 15): its payments, its acceptance records and
its settlement are never the first contract's, and a store from before it reads as the first
contract's.  The follow-on is built as tests/test_transition.py builds it (signed 2027-08-01,
12 months, item 14 at half price and 10 more of item 17)."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb

from recon import store as stored
from recon.cli import main
from recon.labels import VERDICT
from recon.store import Store
from tests.test_transition import FOLLOW_ON, _follow, site  # noqa: F401  (the fixture)

FIRST = "CMBJ-202602732"


def cli(site: Path, *args: str) -> int:
    return main(["--config", str(site / "recon.toml"), *args])


def settle(site: Path, *contract: str) -> dict:
    """The settlement of 2027-09-01 (both terms' first payments are due by then)."""
    cli(site, "finance", "settle", "--date", "2027-09-01", *contract)
    folder = site / "out" / "settlement"
    if contract:
        folder = folder / contract[-1] if contract[-1] != FIRST else folder
    return json.loads((folder / "2027-09-01" / "settlement.json").read_text("utf-8"))


def gates(r: dict) -> dict[str, str]:
    return {g["code"]: g["state"] for g in r["gates"]}


def test_payments_and_acceptance_stay_with_their_contract(site, capsys):
    _follow(site)
    assert cli(site, "finance", "payment", "add", "--kind", "first", "--date", "2026-08-03",
               "--amount", "1000.00") == 0                     # no night: the first contract
    assert cli(site, "finance", "payment", "add", "--kind", "first", "--date", "2027-08-05",
               "--amount", "2000.00", "--contract", FOLLOW_ON) == 0
    assert cli(site, "acceptance", "record", "--period", "final", "--result", "pass",
               "--date", "2028-08-05", "--contract", FOLLOW_ON) == 0
    capsys.readouterr()

    first = settle(site, "--contract", FIRST)
    assert first["contract_number"] == FIRST
    assert first["first_payment"]["amount"]["amount"] == "1000.00"
    assert gates(first)["acceptance"] == "unknown"           # the follow-on's pass is not its

    follow = settle(site, "--contract", FOLLOW_ON)
    assert follow["contract_number"] == FOLLOW_ON and follow["contract_title"] == "续签合同"
    assert follow["first_payment"]["amount"]["amount"] == "2000.00"
    assert gates(follow)["acceptance"] == "passed"
    # its own total: 50% of it as the final payment, 10% of it as the cap (第十二条第3款)
    total = Decimal(follow["contract_total"]["amount"])
    assert total != Decimal(first["contract_total"]["amount"])
    assert Decimal(follow["final_amount"]["amount"]) == total / 2
    assert Decimal(follow["cap"]["amount"]) == (total / 10).quantize(Decimal("0.01"))
    # the first contract's settlement folder is where it always was; the two never overwrite
    assert (site / "out" / "settlement" / "2027-09-01" / "settlement.json").is_file()

    assert cli(site, "finance", "payment", "list", "--contract", FOLLOW_ON) == 0
    listed = capsys.readouterr().out
    assert FOLLOW_ON in listed and "2,000.00" in listed and "1,000.00" not in listed
    assert cli(site, "acceptance", "list") == 0               # the first's: nothing recorded
    assert "2028-08-05" not in capsys.readouterr().out


def test_each_contracts_settlement_reads_the_ledger_of_its_own_term(site):
    """The first contract's penalties are concluded on its last night in the term; a
    follow-on's newer nights (judged by the follow-on) are never read as the first's ledger."""
    _follow(site)
    for day in ("2027-07-09", "2027-08-01"):
        assert cli(site, "run", "--date", day, "-q") in (0, 1, 2)
    assert settle(site, "--contract", FIRST)["ledger_as_of"] == "2027-07-09"
    assert settle(site, "--contract", FOLLOW_ON)["ledger_as_of"] == "2027-08-01"


def test_the_default_is_the_contract_of_the_newest_night(site, capsys):
    _follow(site)
    assert cli(site, "run", "--date", "2027-08-01", "-q") == 0
    assert cli(site, "finance", "payment", "add", "--kind", "first", "--date", "2027-08-05",
               "--amount", "2000.00") == 0
    assert capsys.readouterr().out.startswith(FOLLOW_ON)
    assert cli(site, "finance", "payment", "list", "--contract", FIRST) == 0
    assert "2,000.00" not in capsys.readouterr().out


def test_an_unknown_contract_is_refused_naming_the_configured(site, capsys):
    _follow(site)
    assert cli(site, "finance", "payment", "list", "--contract", "CMBJ-NOPE") == 3
    err = capsys.readouterr().err
    assert "CMBJ-NOPE" in err and FIRST in err and FOLLOW_ON in err and "Traceback" not in err


def test_a_store_from_before_migration_15_reads_as_the_first_contracts(site, capsys):
    assert cli(site, "finance", "payment", "add", "--kind", "first", "--date", "2026-08-03",
               "--amount", "1000.00") == 0
    # back to version 14: the column gone, the row as an older recon stored it
    db = duckdb.connect(str(site / "recon.duckdb"))
    for table in ("payments", "acceptance_records", "materials", "notices", "milestone_verdicts",
                  "month_verdicts"):                          # (16's too)
        db.execute(f"ALTER TABLE {table} DROP COLUMN contract_number")
    db.execute("DELETE FROM schema_migrations WHERE version >= 15")
    db.close()
    _follow(site)
    capsys.readouterr()
    assert cli(site, "finance", "payment", "list", "--contract", FIRST) == 0
    assert "1,000.00" in capsys.readouterr().out
    assert cli(site, "finance", "payment", "list", "--contract", FOLLOW_ON) == 0
    assert "1,000.00" not in capsys.readouterr().out


def annual(site: Path, folder: Path, *contract: str) -> dict:
    assert cli(site, "report", "annual", *contract) in (0, 1)
    return json.loads((folder / "annual" / "annual.json").read_text("utf-8"))


def test_the_annual_assessment_is_each_contracts_own(site, capsys):
    assert cli(site, "run", "--date", "2026-11-10", "-q") == 0
    assert cli(site, "run", "--date", "2027-07-09", "-q") == 0
    _follow(site)
    assert cli(site, "run", "--date", "2027-08-01", "-q") == 0
    assert cli(site, "acceptance", "record", "--period", "final", "--result", "pass",
               "--date", "2027-07-20", "--contract", FIRST) == 0
    assert cli(site, "acceptance", "record", "--period", "final", "--result", "fail",
               "--date", "2028-08-03") == 0                   # the newest night's: the follow-on

    first = annual(site, site / "out", "--contract", FIRST)
    assert first["contract_number"] == FIRST
    assert [m["month"] for m in first["months"]][0] == "2026-07"
    assert [m["month"] for m in first["months"]][-1] == "2027-07"   # none of the follow-on's
    assert first["data_as_of"] == "2027-07-09"
    assert [(a["period"], a["result"]) for a in first["acceptance"]] == [("final", "pass")]

    follow = annual(site, site / "out" / FOLLOW_ON)                  # the default: the newest
    assert follow["contract_number"] == FOLLOW_ON and follow["contract_title"] == "续签合同"
    assert [m["month"] for m in follow["months"]][0] == "2027-08"
    assert follow["data_as_of"] == "2027-08-01" and follow["computable"] is False
    assert [(a["period"], a["result"]) for a in follow["acceptance"]] == [("final", "fail")]
    assert "续签合同" in (site / "out" / FOLLOW_ON / "annual" / "annual.html").read_text("utf-8")
    # the first contract's report was not replaced by the follow-on's
    again = json.loads((site / "out" / "annual" / "annual.json").read_text("utf-8"))
    assert again["contract_number"] == FIRST and again["verdict"] == first["verdict"]

    # the index leads with the contract of the newest night, the earlier one's under its number
    assert cli(site, "report", "index") == 0
    index = json.loads((site / "out" / "index.json").read_text("utf-8"))
    assert index["contract_number"] == FOLLOW_ON
    assert any("2028-07-31" in m["what"] for m in index["milestones"])
    assert [(a["contract"], a["report"]) for a in index["acceptance"]] == [
        (FOLLOW_ON, f"{FOLLOW_ON}/annual/annual.html"), (FIRST, "annual/annual.html")]


HEAD = "序号,项目名称,计费起,计费止,数量,单价,金额\n"


def verify(site: Path, name: str, first: str, last: str, *contract: str) -> int:
    path = site / f"{name}.csv"
    path.write_text(HEAD + f"17,主机杀毒服务,{first},{last},74,173.40,100.00\n", "utf-8")
    return cli(site, "finance", "verify", str(path), *contract)


def verified(site: Path, first: str, last: str) -> dict:
    (folder,) = (site / "out" / "finance").glob(f"{first}_{last}-*")
    return json.loads((folder / "verification.json").read_text("utf-8"))


def test_a_statement_is_verified_under_the_contract_of_its_period(site, capsys):
    assert cli(site, "run", "--date", "2026-11-10", "-q") == 0       # a store to verify against
    _follow(site)
    assert verify(site, "straddle", "2027-07-01", "2027-08-05") == 3
    err = capsys.readouterr().err
    assert "straddles" in err and FIRST in err and FOLLOW_ON in err and "Traceback" not in err
    assert not (site / "out" / "finance").exists()                  # nothing written
    assert verify(site, "aug", "2027-08-01", "2027-08-05") in (0, 1)
    assert verified(site, "2027-08-01", "2027-08-05")["contract_number"] == FOLLOW_ON
    assert verify(site, "jun", "2027-06-01", "2027-06-05") in (0, 1)
    assert verified(site, "2027-06-01", "2027-06-05")["contract_number"] == FIRST
    # named: the straddling statement is read against the one named
    assert verify(site, "straddle", "2027-07-01", "2027-08-05", "--contract", FIRST) in (0, 1)
    assert verified(site, "2027-07-01", "2027-08-05")["contract_number"] == FIRST


def test_materials_stay_with_their_contract(site, capsys):
    _follow(site)
    doc = site / "mid.pdf"
    doc.write_bytes(b"%PDF-1.4 mid-term report")
    assert cli(site, "materials", "add", "--name", "运维月报", "--period", "中期验收",
               "--received", "2028-02-01", "--file", str(doc), "--contract", FOLLOW_ON) == 0
    capsys.readouterr()
    assert cli(site, "materials", "list", "--period", "中期验收") == 0   # the first's
    listed = capsys.readouterr().out
    assert "mid.pdf" not in listed and "运维月报" in listed.split("not received")[1]
    assert cli(site, "materials", "list", "--contract", FOLLOW_ON) == 0
    assert "mid.pdf" in capsys.readouterr().out


def test_a_follow_on_requests_notice_is_a_letter_under_the_follow_on(site, capsys):
    """The written notice for a request of the follow-on's term names the follow-on (its
    number and title), not the first contract, and sending it concludes the newest night
    under the contract that judges it."""
    from tests.test_notices import docx_text

    _follow(site)
    assert cli(site, "scaling", "add", "--item", "17", "--target", "200", "--id", "R2",
               "--requested", "2027-08-01 10:00") == 0
    assert cli(site, "run", "--date", "2027-08-01", "-q") in (0, 1)
    capsys.readouterr()
    assert cli(site, "notice", "draft", "--kind", "scaling", "--ref", "R2", "--date",
               "2027-08-09", "--deadline", "2027-08-12") == 0
    notice_id = capsys.readouterr().out.split(":")[0]
    paras, _ = docx_text(site / "out" / "notices" / notice_id / f"{notice_id}.docx")
    text = "\n".join(paras)
    assert FOLLOW_ON in text and FIRST not in text
    assert cli(site, "notice", "sent", notice_id, "--date", "2027-08-09") == 0
    # the ledger says which contract the letter is under, and so does the list
    assert notice_owners(site) == {notice_id: FOLLOW_ON}
    capsys.readouterr()
    assert cli(site, "notice", "list", "--date", "2027-08-10") == 0
    [row] = [r for r in capsys.readouterr().out.splitlines() if r.startswith(notice_id)]
    assert row.split()[1] == FOLLOW_ON


def notice_owners(site: Path) -> dict[str, str | None]:
    db = duckdb.connect(str(site / "recon.duckdb"), read_only=True)
    try:
        return dict(db.execute("SELECT notice_id, contract_number FROM notices QUALIFY "
                               "revision = max(revision) OVER (PARTITION BY notice_id)").fetchall())
    finally:
        db.close()


def request_notice(site: Path, day: str, request_id: str) -> str | None:
    """The notice the request's clock rests on, as concluded for night ``day``."""
    with Store(site / "recon.duckdb", read_only=True) as store:
        [state] = [s for s in stored.scaling_states(store, date.fromisoformat(day))
                   if s["request_id"] == request_id]
    return state["request"]["notice_id"]


def test_a_scaling_clock_rests_only_on_a_notice_under_its_own_contract(site, capsys):
    """A letter recorded under the follow-on about the first contract's request is not the
    first contract's notice (附件3第4条 needs the management unit's notice under the contract
    whose request it is); the same letter under the first contract is.  One numbering."""
    assert cli(site, "scaling", "add", "--item", "17", "--target", "200", "--id", "R1",
               "--requested", "2027-06-20 10:00") == 0
    _follow(site)
    assert cli(site, "run", "--date", "2027-07-09", "-q") in (0, 1)
    capsys.readouterr()
    for contract, letter in ((FOLLOW_ON, "TZ-2027-001"), (FIRST, "TZ-2027-002")):
        assert cli(site, "notice", "draft", "--kind", "scaling", "--ref", "R1", "--date",
                   "2027-07-01", "--deadline", "2027-07-05", "--contract", contract) == 0
        assert capsys.readouterr().out.startswith(f"{letter}: drafted under {contract}")
        assert cli(site, "notice", "sent", letter, "--date", "2027-07-01") == 0
        capsys.readouterr()
        # `notice sent` concluded the first contract's last night in its term again
        assert request_notice(site, "2027-07-09", "R1") == (None if contract == FOLLOW_ON
                                                             else letter)
    assert notice_owners(site) == {"TZ-2027-001": FOLLOW_ON, "TZ-2027-002": None}


def assessment(folder: Path, month: str) -> dict:
    return json.loads((folder / "monthly" / month / "assessment.json").read_text("utf-8"))


def test_a_month_two_terms_touch_is_assessed_by_each_contract_on_its_own_days(site, capsys):
    """The first contract ends 2027-07-09, the follow-on starts 07-10: July is the first's
    partial last month and the follow-on's partial first, two assessments, two folders."""
    _follow(site, signed="2027-07-10")
    assert cli(site, "run", "--date", "2027-07-09", "-q") in (0, 1)
    assert cli(site, "run", "--date", "2027-07-10", "-q") in (0, 1)
    capsys.readouterr()
    assert cli(site, "report", "monthly", "--month", "2027-07") == 0
    said = capsys.readouterr().out
    assert FIRST in said and FOLLOW_ON in said

    first = assessment(site / "out", "2027-07")
    assert first["contract_number"] == FIRST
    assert (first["first"], first["last"]) == ("2027-07-01", "2027-07-09")
    assert [n["night"] for n in first["nights"]] == ["2027-07-09"]
    follow = assessment(site / "out" / FOLLOW_ON, "2027-07")
    assert follow["contract_number"] == FOLLOW_ON and follow["contract_title"] == "续签合同"
    assert (follow["first"], follow["last"]) == ("2027-07-10", "2027-07-31")
    assert [n["night"] for n in follow["nights"]] == ["2027-07-10"]
    assert "续签合同" in (site / "out" / FOLLOW_ON / "monthly" / "2027-07" /
                        "assessment.html").read_text("utf-8")

    # --contract: only that contract's assessment is written again
    before = (site / "out" / FOLLOW_ON / "monthly" / "2027-07" / "assessment.json").read_bytes()
    assert cli(site, "report", "monthly", "--month", "2027-07", "--contract", FIRST) == 0
    assert assessment(site / "out", "2027-07") == first
    assert (site / "out" / FOLLOW_ON / "monthly" / "2027-07" / "assessment.json"
            ).read_bytes() == before
    assert cli(site, "report", "monthly", "--month", "2027-08", "--contract", FIRST) == 3
    assert FIRST in capsys.readouterr().err

    # the first contract's year ends on its own partial July; the follow-on's starts on its own
    year = annual(site, site / "out", "--contract", FIRST)
    assert year["months"][-1]["month"] == "2027-07" and year["months"][-1]["concluded"]
    assert (year["months"][-1]["first"], year["months"][-1]["last"]) == ("2027-07-01",
                                                                         "2027-07-09")
    following = annual(site, site / "out" / FOLLOW_ON, "--contract", FOLLOW_ON)
    assert following["months"][0]["month"] == "2027-07" and following["months"][0]["concluded"]
    assert following["months"][0]["first"] == "2027-07-10"

    # the index links both, each naming its contract, the follow-on's first
    assert cli(site, "report", "index") == 0
    index = json.loads((site / "out" / "index.json").read_text("utf-8"))
    july = [(m["contract"], m["report"]) for m in index["monthly"] if m["month"] == "2027-07"]
    assert july == [(FOLLOW_ON, f"{FOLLOW_ON}/monthly/2027-07/assessment.html"),
                    (FIRST, "monthly/2027-07/assessment.html")]


def test_transition_days_inside_a_month_two_terms_touch_are_in_neither(site, capsys):
    """A follow-on starting 07-20: 07-10 .. 07-19 are the first's transition, in no
    assessment; the follow-on's July is 07-20 .. 07-31."""
    _follow(site, signed="2027-07-20")
    assert cli(site, "run", "--date", "2027-07-09", "-q") in (0, 1)
    assert cli(site, "run", "--date", "2027-07-10", "-q") in (0, 2)   # transition: no verdict
    assert cli(site, "report", "monthly", "--month", "2027-07") == 0
    first = assessment(site / "out", "2027-07")
    assert [n["night"] for n in first["nights"]] == ["2027-07-09"]
    follow = assessment(site / "out" / FOLLOW_ON, "2027-07")
    assert (follow["first"], follow["last"]) == ("2027-07-20", "2027-07-31")
    assert follow["nights"] == []


def test_a_store_from_before_migration_16_reads_its_verdicts_as_the_first_contracts(site):
    assert cli(site, "run", "--date", "2026-11-10", "-q") == 0
    assert cli(site, "report", "monthly", "--month", "2026-11") == 0
    verdict = assessment(site / "out", "2026-11")["verdict"]
    db = duckdb.connect(str(site / "recon.duckdb"))
    db.execute("ALTER TABLE month_verdicts DROP COLUMN contract_number")
    db.execute("DELETE FROM schema_migrations WHERE version >= 16")   # a v15 store
    db.close()
    with Store(site / "recon.duckdb") as store:          # migrated from 16 on opening
        [first] = [v for v in stored.month_verdicts(store, "2026-11") if v["month"] == "2026-11"]
        assert stored.month_verdicts(store, "2026-11", FOLLOW_ON) == []
    assert VERDICT[first["passed"]] == verdict
