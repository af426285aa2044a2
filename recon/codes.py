"""The stable codes: what each means, its Chinese label, and for a finding its severity.

Codes are recon's public interface: ``nightly.json``, ``assessment.json``, ``verification.json``,
the lake's ``findings`` table, alerts and scripts key on them, and they never change meaning.
Each table here is the only place a code is listed: :mod:`recon.labels` takes the labels from
it, :mod:`recon.reconcile` and the scaling ledger take a finding's severity from it, and
``docs/codes.md`` is generated from it (``tools/gen_docs.py``; ``tests/test_docs.py`` fails when
the page is stale).  ``meaning`` is one line of English for that page; ``label`` is what a report
shows a Chinese reader.

Finding codes (:data:`FINDINGS`) are concluded by the reconciliation (``by = "reconcile"``: the
SQL of recon/reconcile.py, which recon/lake.py also runs on Spark) or by the scaling ledger
(``by = "scaling"``, the agency's own ledger, never recomputed on Spark).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Code:
    label: str
    meaning: str


@dataclass(frozen=True)
class Finding:
    severity: str
    label: str
    by: str
    meaning: str

    @property
    def shown_in(self) -> tuple[str, ...]:
        """The reports that show it (:data:`SHOWN_IN`): every finding is on its night's report and
        counted in the index; the critical ones are also listed in notifications."""
        return ("nightly", "index", "notify") if self.severity == "critical" else ("nightly", "index")


#: a finding's severity; critical and warning need attention (a night with them exits 1)
SEVERITIES = {
    "critical": Code("严重", "needs attention now; a night with one exits 1 (2 when a source failed)"),
    "warning": Code("警告", "needs attention; a night with one exits 1"),
    "info": Code("提示", "for information; does not change the exit code"),
}

#: the reports a finding code is shown in (:attr:`Finding.shown_in`), and where they are made
SHOWN_IN = {
    "nightly": "the night's report, `OUT/<date>/nightly.html` and `nightly.json` (reports/nightly.py)",
    "index": "the history index's findings-per-night chart, counted by severity (reports/index.py)",
    "notify": "the night's notification, which lists the top five critical findings (recon/notify.py)",
}

FINDINGS = {
    "allocation_shortfall": Finding(
        "critical", "分配不足", "reconcile", "allocated < contracted"),
    "source_unavailable": Finding(
        "critical", "数据源不可用", "reconcile", "a source could not be pulled"),
    "data_rejected": Finding(
        "critical", "数据未通过校验", "reconcile",
        "a source's data failed validation (GX's failing values in the finding)"),
    "usage_over_contract": Finding(
        "warning", "超合同使用", "reconcile", "in use > contracted"),
    "unmapped_resource": Finding(
        "warning", "未映射资源", "reconcile",
        "resources that map to no item (grouped per source and type, ids listed)"),
    "item_unmeasured": Finding(
        "warning", "未计量", "reconcile", "an item its source should have measured has no figure"),
    "allocation_over_contract": Finding(
        "warning", "分配超出合同", "reconcile",
        "allocated above the contracted quantity in force, i.e. no dated supplementary "
        "contract covers it (第十六条)"),
    "idle_capacity": Finding(
        "info", "资源闲置", "reconcile", "in use / allocated below `[report] idle_below` (30%)"),
    "scaling_due_soon": Finding(
        "warning", "扩容即将到期", "scaling",
        "a scaling request on the nights of day 5, 6 and 7 (day 7: 今晚到期), not yet at its target "
        "(\"须于 11-09 晚（第7天）前完成，剩 2 天\")"),
    "scaling_overdue": Finding(
        "critical", "扩容超期未完成", "scaling",
        "the night of day 7 measured below the target: every night from day 8 until it completes"),
    "scaling_late": Finding(
        "warning", "扩容延期完成", "scaling", "the night a request completes after day 7"),
    "scaling_notice_overdue": Finding(
        "critical", "书面通知期限已过", "scaling",
        "not complete by the deadline of a written notice dated after day 7: the 20% clause of "
        "附件3 row 4 applies"),
    "scaling_unverifiable": Finding(
        "info", "扩容无法核实", "scaling", "a request for an item no source measures: check it by hand"),
    "scaling_undetermined": Finding(
        "warning", "扩容是否按期无法判定", "scaling",
        "the night of day 7 is unknown, so whether the request was done in time cannot be "
        "decided: every night while it is below target, and the night the target is seen"),
    "scaling_reverted": Finding(
        "warning", "扩容完成后被收回", "scaling",
        "a completed request whose allocation is measured below its target again (each such "
        "night); never a retroactive \"late\" or penalty"),
}

#: an item's status on a night (item_days.status; the nightly report's 状态 column); when several
#: apply, the first of not_measured, unknown, shortfall, over, idle
ITEM_STATUS = {
    "ok": Code("正常", "measured: neither short, over nor idle"),
    "shortfall": Code("分配不足", "allocated < contracted"),
    "over": Code("超合同使用", "in use > contracted, not short"),
    "idle": Code("闲置", "neither short nor over, in use / allocated below `[report] idle_below`"),
    "unknown": Code("未知（未有效采集）",
                    "its source failed or its data was rejected: nothing is concluded, never zero"),
    "not_measured": Code("不计量", "the contract names no source for the item (`source = none`)"),
}

#: what an item's allocated / in-use figure is (connectors/base.py ALLOCATED_BASES, IN_USE_BASES)
BASIS = {
    "quota": Code("配额", "a quota the provider set"),
    "delivered": Code("已交付资源", "resources delivered and usable"),
    "export": Code("控制台导出", "the provider's console export"),
    "not_measured": Code("未计量", "the API sees only use; no shortfall is drawn"),
    "unlimited": Code("不限", "a -1 quota: measured, no shortfall, no utilisation"),
    "usage": Code("使用量", "in use, as the API counts it"),
}

#: how a source's pull ended (source_runs.status; the nightly report's sources)
SOURCE_STATUS = {
    "ok": Code("正常", "pulled and accepted"),
    "failed": Code("采集失败", "could not be pulled: `source_unavailable`"),
    "rejected": Code("校验未通过", "pulled, failed the Great Expectations gate: `data_rejected`"),
}

#: why a source failed, by the ``reason_code`` the connectors put in the source's stats;
#: the technical detail (the raw reason) follows the label (labels.reason_text)
SOURCE_REASON = {
    "timeout": Code("超时", "no answer in time, after the retries"),
    "connect": Code("无法连接", "the service could not be reached"),
    "http_5xx": Code("服务端错误", "the service answered 5xx, after the retries"),
    "http_4xx": Code("请求被拒绝", "the service refused the request (4xx)"),
    "malformed": Code("应答格式错误", "the answer was not what the API defines"),
    "not_in_catalog": Code("服务目录中无此服务", "the service is not in Keystone's catalog"),
    "version": Code("无可用的 API 版本", "no API version recon speaks"),
    "auth": Code("认证失败", "Keystone down after retries: every needed source"),
    "dependency": Code("依赖的数据源失败",
                       "a source it needs failed (the licences when compute or block storage did)"),
    "error": Code("采集出错", "anything else, with the exception's text"),
    "stale": Code("数据不是本日的",
                  "a console export with no date within `[exports] max_age_days` of the night"),
    "rejected": Code("数据未通过校验", "a console export failed its Great Expectations suite"),
}

#: a scaling request's state on a night (`recon scaling list`, the nightly and monthly reports)
SCALING_STATE = {
    "pending": Code("处理中", "before day 7, nothing more allocated yet"),
    "partial": Code("部分完成", "more allocated than before, short of the target"),
    "completed": Code("按期完成", "at the target by the night of day 7 (before day 7 not yet final)"),
    "late": Code("延期完成", "completed after day 7"),
    "undetermined": Code("无法判定", "the night of day 7 is unknown"),
    "overdue": Code("超期未完成", "the night of day 7 measured below the target, still open"),
    "notice_overdue": Code("通知期限已过未完成", "open past the written notice's deadline"),
    "unverifiable": Code("无法核实", "no source measures the item"),
}

#: what a written notice is about (`recon notice draft --kind`)
NOTICE_KIND = {
    "scaling": Code("扩容限期通知", "附件3 row 4: an expansion not done in 7 natural days; ref is "
                    "the scaling request's id"),
    "rectification": Code("限期整改通知", "附件3 row 3 and 第十二条4: three failed monthly "
                          "assessments in a row; ref is the third failed month (YYYY-MM)"),
    "acceptance": Code("验收返工通知", "第六条: a failed acceptance, rework within 5 days; ref "
                       "names the acceptance (the materials' period)"),
}

#: a written notice's state on a night (`recon notice list`, the nightly, monthly and index)
NOTICE_STATUS = {
    "drafted": Code("已起草未发出", "drafted, not sent: no deadline runs and no penalty rests on it"),
    "sent": Code("已发出", "sent; its deadline has not passed, or its outcome is not known yet"),
    "unmet": Code("期限已过未满足", "the deadline passed and the demand was not met"),
    "met": Code("已满足", "the demand was met by the deadline (or after it: no longer open)"),
    "undetermined": Code("期限已过无法判定", "the deadline passed; recon cannot tell whether the "
                         "demand was met (unknown nights, an acceptance): check by hand"),
}

#: a statement line's status (`recon finance verify`; a line can carry several)
LINE_STATUS = {
    "ok": Code("正确", "none of the below"),
    "outside_term": Code("计费期间超出服务期",
                         "the line bills days outside the contract's term (quantity judged "
                         "on its days inside the term)"),
    "price_mismatch": Code(
        "单价与合同不符",
        "the unit price differs from the contract's; the difference over the line is shown"),
    "quantity_over_contract": Code(
        "数量超出合同",
        "the quantity is above the contracted quantity in force in the period (day-weighted "
        "when a supplementary contract takes effect inside it)"),
    "billed_over_delivered": Code(
        "计费高于实际交付",
        "on a measured night the store shows less allocated than billed (capped at the contract)"),
    "arithmetic_error": Code(
        "金额计算错误",
        "unit price x quantity x share, or the tax arithmetic, differs from what the line states; "
        "on the totals row: it does not add up the lines"),
    "unknown_item": Code(
        "非合同项目",
        "the item number is not in the contract, or the name maps to no item; nothing of it is "
        "accepted"),
    "daxie_mismatch": Code(
        "大写金额不符",
        "the written 大写 does not say the billed amount (第五十二条; 正 for 整 is accepted); on the "
        "totals row: its 大写 does not say the total"),
    "unverified": Code(
        "无法核实",
        "no night of the line's days in the term was measured (not run, failed, still to come, "
        "or no source measures the item's allocation): nothing of it could be verified; its "
        "value is stated and the statement exits 1"),
    "missing_item": Code(
        "合同项目未计费", "per statement: a contracted item in force in the period that no line bills"),
}

#: a night behind a statement line (its runs in the verification's 依据（按连续相同的夜晚） sheet)
NIGHT_STATE = {
    "measured": Code("已计量", "the store measured the item's allocation that night"),
    "unknown": Code("采集失败",
                    "the night ran and the item's source failed or its data was rejected: "
                    "valued apart, neither delivered nor not"),
    "not_run": Code("未运行",
                    "no night is stored for that day (the job did not run): valued apart"),
    "future": Code("未到",
                   "the day is after the newest stored night (or still to come): valued apart"),
    "not_measured": Code("分配数量无计量",
                         "no source measures the item's allocation (the API sees only its use)"),
    "outside_term": Code("服务期外", "the night lies outside the contract's term"),
}

#: a penalty's status in the penalty ledger (recon/penalties.py)
PENALTY_STATUS = {
    "counted": Code("计入", "counted in the total and deducted"),
    "pending": Code("待定", "附件3 row 3 before the rectification is known to have failed (a sent "
                          "rectification notice's deadline passed and the month it passed in "
                          "failed too, or the agency lists the month in `[monthly_rule] "
                          "rectification_failed`): shown, not counted"),
}

#: the monthly assessment's criteria (assessment.toml `[[criteria]]`; their names and clauses
#: are the agency's data there); ``passes when`` with the bundled thresholds
CRITERIA = {
    "delivery": "no item short of its contracted quantity on more than `max_shortfall_days` (7) "
                "measured nights in a row",
    "scaling": "no scaling request incomplete past its day 7 on any night of the month",
    "availability": "1 - outage / the period's minutes >= `min_availability` (99.99%)",
    "response_time": "mean response <= `max_mean_minutes` (15)",
    "recovery_time": "mean fault recovery <= `max_mean_minutes` (30; important systems "
                     "`max_mean_minutes_important`, 10)",
    "on_site": "every on-site arrival within `max_minutes` (120)",
    "data_completeness": ">= `min_complete_share` (90%) of the month's nights complete (recon's "
                         "own; not required: it informs, it does not judge the provider)",
}


def labels(table: dict[str, Code | Finding]) -> dict[str, str]:
    """code -> Chinese label, in the table's order."""
    return {code: entry.label for code, entry in table.items()}


def severity(by: str) -> dict[str, str]:
    """code -> severity of the findings one conclusion draws (``reconcile`` or ``scaling``)."""
    return {code: f.severity for code, f in FINDINGS.items() if f.by == by}


def finding(code: str, *rest) -> tuple:
    """A finding row ``(code, severity, *rest)``, its severity from :data:`FINDINGS`."""
    return (code, FINDINGS[code].severity, *rest)
