"""assessment.toml, loaded once into typed rules: criteria, annex rows, coefficients, the cap.

Each key the file may have is declared once below (:data:`CRITERIA`, :data:`ANNEX_ROW`,
:data:`TABLES`), with its type, its default, its range and the clause it comes from,
the way openstacksdk declares a resource's fields.  Nothing else in recon knows a
threshold's default: the monthly assessment, the penalty ledger and the reports
read :class:`Rules` attributes, never the file's keys.

The penalty formula (违约金 = 信息系统云服务费 / 服务月数 x 惩罚系数, 附件2/附件3) is here
too, so the scaling ledger prices a penalty with the same rule as the penalty ledger
without importing it (:func:`penalty_amount`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from recon.config import Key, Rows, check_keys, get, read_toml, where
from recon.data import CONFIG_DIR
from recon.errors import ConfigError
from recon.money import cents

#: the bundled criteria, beside the bundled recon.toml
RULES_FILE = CONFIG_DIR / "assessment.toml"

#: the criterion codes, stable: reports, JSON and alerts key on them
CODES = ("delivery", "scaling", "availability", "response_time", "recovery_time", "on_site",
         "data_completeness")

#: the keys every [[criteria]] row has
_HEAD = {"code": Key(str, choices=CODES), "name": Key(str, nonempty=True),
         "clause": Key(str, nonempty=True), "required": Key(bool, True)}

#: each criterion's own thresholds: type, default, range and the clause it comes from
CRITERIA: dict[str, dict[str, Key]] = {
    "delivery": {
        #: an item short more measured nights in a row than this fails the month
        "max_shortfall_days": Key(int, 7, low=1, high=366, clause="附件3第4条"),
    },
    "scaling": {},
    "availability": {
        "min_availability": Key(Decimal, "0.9999", above=0, high=1, clause="第三条、附件3第1条"),
    },
    "response_time": {
        "max_mean_minutes": Key(Decimal, 15, above=0, high=10080, clause="第三条第4款"),
    },
    "recovery_time": {
        "max_mean_minutes": Key(Decimal, 30, above=0, high=10080, clause="第三条第5款"),
        "max_mean_minutes_important": Key(Decimal, 10, above=0, high=10080,
                                          clause="第三条第5款"),
    },
    "on_site": {
        "max_minutes": Key(int, 120, low=1, high=10080, clause="第三条第4款"),
    },
    "data_completeness": {
        "min_complete_share": Key(Decimal, "0.90", low=0, high=1, clause="第六条（运维记录）"),
    },
}

#: the rule names an annex row may price (penalties.py computes each)
RULE_NAMES = ("availability", "availability_complaints", "monthly_assessment",
              "scaling_notice", "outage_long", "outage_repeated", "response_mean",
              "recovery_mean", "on_site")
#: the row fields each rule needs (no default in code stands in for a missing one)
RULE_NEEDS = {"availability_complaints": ("complaints",), "outage_long": ("above",),
              "outage_repeated": ("count", "above"), "response_mean": ("above", "upto"),
              "recovery_mean": ("above", "upto"), "on_site": ("above", "upto")}
#: the rows the penalty ledger cannot do without: (annex, rule)
NEEDED_ROWS = ((2, "availability"), (3, "availability"), (3, "monthly_assessment"),
               (3, "scaling_notice"))

#: one row of 附件2 / 附件3
ANNEX_ROW = {
    "row": Key(int, low=1, high=99),
    "text": Key(str, nonempty=True),
    #: 惩罚系数: 0.20 is 20% of the monthly fee
    "coefficient": Key(Decimal, above=0, high=100),
    "rule": Key(str, None, choices=RULE_NAMES),
    "above": Key(Decimal, None, low=0),
    "upto": Key(Decimal, None, above=0),
    "count": Key(int, None, low=1),
    "complaints": Key(int, None, low=1),
}

#: the file's tables besides [[criteria]] (checked row by row: each code has its own keys)
TABLES: dict = {
    "monthly_rule": {
        #: 附件3 row 3: this many failed months in a row
        "consecutive_months": Key(int, 3, low=1, high=12, clause="附件3第3条"),
        #: months whose rectification deadline failed (the agency's word): YYYY-MM
        "rectification_failed": Key(list, [], clause="附件3第3条"),
    },
    "on_site": {
        #: 附件3 rows 12-13: unattended time is the arrival delay beyond this
        "unattended_after_minutes": Key(int, 120, low=0, high=10080, clause="附件3第12、13条"),
    },
    "cap": {
        #: 第十二条: penalties above this share of the contract total allow termination
        "share": Key(Decimal, "0.10", above=0, high=1, clause="第十二条"),
    },
    "fault_limits": {
        #: 第三条4: 对故障 15 分钟内响应 (each fault, not a mean)
        "response_minutes": Key(int, 15, low=1, high=10080, clause="第三条第4款"),
        #: 第三条5: 故障定位排除时限不超过 30 分钟, measured to the ledger's 定位时间
        "locate_minutes": Key(int, 30, low=1, high=10080, clause="第三条第5款"),
        #: 第三条5: 重要信息系统故障定位排除时限不超过 10 分钟
        "locate_minutes_important": Key(int, 10, low=1, high=10080, clause="第三条第5款"),
        #: 第三条4: 2 小时内到达云中心机房
        "on_site_minutes": Key(int, 120, low=1, high=10080, clause="第三条第4款"),
    },
    "acceptance": {
        #: 第六条 names 运维记录、运维月报、年报、漏扫报告、云平台巡检报告 "包括但不限于":
        #: the materials the agency asks for besides (the pack's checklist lists them too)
        "materials": Key(list, [], clause="第六条"),
    },
    #: 年度考核 (第七条2: the final 50% after the term and a passed annual assessment).  The
    #: contract defines no annual criteria: each is the agency's rule, citing what it rests on
    "annual": {
        #: no month left failed after its rectification deadline (附件3第3条 counted)
        "no_month_failed_after_deadline": Key(bool, True, clause="附件3第3条、第十二条第4款"),
        #: no termination condition of 第十二条 met (A/B events, penalties over the cap)
        "no_termination_condition": Key(bool, True, clause="第十二条第1-3款"),
        #: the final acceptance passed (its latest record)
        "acceptance_passed": Key(bool, True, clause="第六条"),
    },
    "systems": Rows({"name": Key(str, nonempty=True),
                     "monthly_fee": Key(Decimal, above=0, high=Decimal(10) ** 12),
                     "important": Key(bool, False)}),
    "annex2": Rows(ANNEX_ROW),
    "annex3": Rows(ANNEX_ROW),
}


@dataclass(frozen=True)
class Reading:
    """Where the contract can be read more than one way: the agency's choice is a named rule
    in assessment.toml ``[readings]``, its alternatives written down here once (docs list
    them); every penalty that rests on a reading names it and says 估算 until confirmed."""

    title: str
    clause: str
    default: object
    alternatives: dict        # value -> what it means
    kinds: bool = False       # a list of incident kinds rather than one choice


#: incident kinds of the ledger (故障 / 运维需求 / 安全事件)
KINDS = ("fault", "request", "security")

READINGS: dict[str, Reading] = {
    "fee_basis": Reading(
        "违约金的计算基数（信息系统云服务费）", "附件2、附件3", "contract_month",
        {"contract_month": "整个合同的月服务费（合同总额 / 服务月数，243,296.50 元）",
         "system_month": "所涉信息系统的月服务费（[[systems]] 表）；不涉及单一系统的违约金"
                         "仍按整个合同的月服务费"}),
    "availability_period": Reading(
        "可用性的计算期间", "第三条、附件3第1条", "calendar_month",
        {"calendar_month": "自然月（北京时间）",
         "term_to_date": "服务期开始至当月末累计"}),
    "incident_rows": Reading(
        "同一事件同时满足两行时的计收", "附件3", "each_row",
        {"each_row": "各行分别计收",
         "highest_row": "同一事件只按系数最高的一行计收"}),
    "response_kinds": Reading(
        "“运维需求平均响应时间”计入的事件类型", "附件3第8、9条", ["fault", "request", "security"],
        {"fault": "故障", "request": "运维需求", "security": "安全事件"}, kinds=True),
    "recovery_kinds": Reading(
        "“平均故障恢复时间”计入的事件类型", "附件3第10、11条", ["fault"],
        {"fault": "故障", "request": "运维需求", "security": "安全事件"}, kinds=True),
}
TABLES["readings"] = {name: Key(list if r.kinds else str, r.default,
                                choices=() if r.kinds else tuple(r.alternatives),
                                clause=r.clause)
                      for name, r in READINGS.items()}


def penalty_amount(fee: Decimal, months: int, coefficient: Decimal) -> Decimal:
    """违约金 = 信息系统云服务费 / 服务月数 x 惩罚系数, to the fen: the one formula."""
    return cents(fee / months * coefficient)


@dataclass(frozen=True)
class AnnexRow:
    annex: int
    row: int
    text: str
    coefficient: Decimal
    rule: str | None
    above: Decimal | None
    upto: Decimal | None
    count: int | None
    complaints: int | None

    @property
    def clause(self) -> str:
        return f"附件{self.annex}第{self.row}条"


@dataclass(frozen=True)
class Criterion:
    """A criterion's heading as the file writes it."""
    code: str
    name: str
    clause: str
    required: bool


@dataclass(frozen=True)
class Rules:
    path: Path
    criteria: dict[str, Criterion]
    annex: tuple[AnnexRow, ...]
    max_shortfall_days: int
    min_availability: Decimal
    response_max_mean_minutes: Decimal
    recovery_max_mean_minutes: Decimal
    recovery_max_mean_minutes_important: Decimal
    on_site_max_minutes: int
    min_complete_share: Decimal
    consecutive_months: int
    rectification_failed: tuple[str, ...]
    unattended_after_minutes: int
    cap_share: Decimal
    #: 第三条4-5: each fault's own limits, in minutes
    fault_response_minutes: int = 15
    fault_locate_minutes: int = 30
    fault_locate_minutes_important: int = 10
    fault_on_site_minutes: int = 120
    #: the agency's reading of each open question (READINGS): name -> value
    readings: tuple = ()
    #: [[systems]]: the agency's systems, name -> (monthly fee, important)
    systems: tuple = ()
    #: [acceptance] materials: what the agency asks for besides the 第六条 ones
    acceptance_materials: tuple = ()
    #: [annual]: the annual criteria switched on (code -> True/False), in ANNUAL order
    annual: tuple = ()

    def annual_on(self, code: str) -> bool:
        return dict(self.annual).get(code, False)

    def reading(self, name: str):
        return dict(self.readings)[name]

    def reading_text(self, *names: str) -> str:
        """``fee_basis=contract_month；...`` for the readings a figure rests on."""
        out = []
        for name in names:
            value = self.reading(name)
            out.append(f"{name}={','.join(value) if isinstance(value, tuple) else value}")
        return "；".join(out)

    def system_fee(self, system: str) -> Decimal | None:
        return next((fee for name, fee, _imp in self.systems if name == system), None)

    def rows(self, rule: str, annex: int | None = None) -> list[AnnexRow]:
        return [r for r in self.annex if r.rule == rule and (annex is None or r.annex == annex)]

    def row(self, annex: int, row: int) -> AnnexRow:
        return next(r for r in self.annex if r.annex == annex and r.row == row)

    @property
    def scaling_coefficient(self) -> Decimal:
        """附件3 row 4's coefficient (20%): the scaling penalty."""
        return self.rows("scaling_notice", 3)[0].coefficient

    def cap(self, contract) -> Decimal:
        """第十二条: penalties above this allow termination (10%: 291,955.80)."""
        return cents(contract.total * self.cap_share)


def rules_path(config) -> Path:
    """``[assessment] file`` of recon.toml (relative to it), else the bundled file."""
    name = (config.extra.get("assessment") or {}).get("file")
    return (config.path.resolve().parent / name) if name else RULES_FILE


_loaded: dict[Path, tuple[tuple, Rules]] = {}


def load(config) -> Rules:
    """assessment.toml, checked and typed; read once while the file is unchanged (a night
    and its reports ask several times)."""
    path = rules_path(config)
    try:
        st = os.stat(path)
        stamp = (st.st_mtime_ns, st.st_size)
    except OSError:
        stamp = None
    cached = _loaded.get(path)
    if stamp is not None and cached is not None and cached[0] == stamp:
        rules = cached[1]
    else:
        rules = parse(path)
        if stamp is not None:
            _loaded[path] = (stamp, rules)
    # an older recon.toml carried its own copy of the coefficient: it is not read, and one
    # that says otherwise would mislead whoever reads that file
    old = config.penalty_coefficient
    if old is not None and old != rules.scaling_coefficient:
        raise ConfigError(f"{path}: 附件3 row 4 coefficient {rules.scaling_coefficient} "
                          f"differs from recon.toml [scaling] penalty_coefficient {old}; "
                          f"that key is no longer read (the coefficient lives in {path.name} "
                          f"alone): remove it from recon.toml")
    return rules


def parse(path: Path) -> Rules:
    """Read and check one assessment.toml (exit 3 naming file, line and key)."""
    raw = read_toml(path, "assessment")
    criteria = raw.pop("criteria", [])
    if not isinstance(criteria, list) or not all(isinstance(c, dict) for c in criteria):
        raise ConfigError(f"{where(path, '', 'criteria')}: criteria must be tables "
                          "([[criteria]])")
    check_keys(path, raw, TABLES)
    heads, values = {}, {}
    for n, c in enumerate(criteria):
        code = c.get("code")
        if code not in CODES:
            raise ConfigError(f"{where(path, 'criteria', 'code', n)}: code {code!r} is not "
                              "one of " + ", ".join(CODES))
        if code in heads:
            raise ConfigError(f"{where(path, 'criteria', 'code', n)}: criterion {code!r} "
                              "appears twice")
        schema = _HEAD | CRITERIA[code]
        check_keys(path, c, schema, "criteria", n)
        for key in ("name", "clause"):
            if key not in c:
                raise ConfigError(f"{where(path, 'criteria', 'code', n)}: {code}: missing "
                                  f"key {key!r}")
        heads[code] = Criterion(code, c["name"], c["clause"], get(c, "required", _HEAD["required"]))
        values[code] = {k: get(c, k, d) for k, d in CRITERIA[code].items()}
    missing = [c for c in CODES if c not in heads]
    if missing:
        raise ConfigError(f"{path}: criteria missing: {', '.join(missing)}")
    rows = []
    for annex in (2, 3):
        for n, r in enumerate(raw.get(f"annex{annex}", [])):
            for key in ("row", "text", "coefficient"):
                if key not in r:
                    raise ConfigError(f"{where(path, f'annex{annex}', 'row', n)}: missing "
                                      f"key {key!r}")
            v = {k: get(r, k, d) for k, d in ANNEX_ROW.items()}
            for key in RULE_NEEDS.get(v["rule"], ()):
                if v[key] is None:
                    raise ConfigError(f"{where(path, f'annex{annex}', 'rule', n)}: rule "
                                      f"{v['rule']!r} needs key {key!r}")
            if v["above"] is not None and v["upto"] is not None and v["upto"] <= v["above"]:
                raise ConfigError(f"{where(path, f'annex{annex}', 'upto', n)}: upto must be "
                                  f"above {v['above']}")
            rows.append(AnnexRow(annex, **v))
    for annex, rule in NEEDED_ROWS:
        if not any(r.annex == annex and r.rule == rule for r in rows):
            raise ConfigError(f"{path}: no [[annex{annex}]] row with rule = \"{rule}\""
                              + (" (附件3 row 4, the scaling penalty's coefficient)"
                                 if rule == "scaling_notice" else ""))
    table = {name: raw.get(name, {}) for name in ("monthly_rule", "on_site", "cap",
                                                  "fault_limits", "readings", "acceptance",
                                                  "annual")}

    def setting(name: str, key: str):
        return get(table[name], key, TABLES[name][key])

    failed = setting("monthly_rule", "rectification_failed")
    readings = []
    for name, r in READINGS.items():
        value = setting("readings", name)
        if r.kinds:
            bad = [k for k in value if k not in KINDS]
            if bad or not value:
                raise ConfigError(f"{where(path, 'readings', name)}: {name} lists incident "
                                  f"kinds, some of {', '.join(KINDS)}"
                                  + (f" (not {', '.join(map(str, bad))})" if bad else ""))
            value = tuple(value)
        readings.append((name, value))
    systems = tuple((get(r, "name", TABLES["systems"]["name"]),
                     get(r, "monthly_fee", TABLES["systems"]["monthly_fee"]),
                     get(r, "important", TABLES["systems"]["important"]))
                    for r in raw.get("systems", []))
    return Rules(
        path, heads, tuple(rows),
        max_shortfall_days=values["delivery"]["max_shortfall_days"],
        min_availability=values["availability"]["min_availability"],
        response_max_mean_minutes=values["response_time"]["max_mean_minutes"],
        recovery_max_mean_minutes=values["recovery_time"]["max_mean_minutes"],
        recovery_max_mean_minutes_important=values["recovery_time"]["max_mean_minutes_important"],
        on_site_max_minutes=values["on_site"]["max_minutes"],
        min_complete_share=values["data_completeness"]["min_complete_share"],
        consecutive_months=setting("monthly_rule", "consecutive_months"),
        rectification_failed=tuple(failed),
        unattended_after_minutes=setting("on_site", "unattended_after_minutes"),
        cap_share=setting("cap", "share"),
        fault_response_minutes=setting("fault_limits", "response_minutes"),
        fault_locate_minutes=setting("fault_limits", "locate_minutes"),
        fault_locate_minutes_important=setting("fault_limits", "locate_minutes_important"),
        fault_on_site_minutes=setting("fault_limits", "on_site_minutes"),
        readings=tuple(readings), systems=systems,
        acceptance_materials=tuple(setting("acceptance", "materials")),
        annual=tuple((k, setting("annual", k)) for k in TABLES["annual"]),
    )
