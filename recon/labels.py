"""Chinese labels for what reports show, and how a quantity is written; codes stay English in JSON.

Every stable code (finding, status, reason, resource type) has its Chinese
label here and nowhere else.  The SQL that writes finding messages reads the
same tables through :func:`sql_case`, so a message and a page never name a
thing two ways.
"""
from __future__ import annotations

from decimal import Decimal

STATUS = {
    "ok": "正常",
    "shortfall": "分配不足",
    "over": "超合同使用",
    "idle": "闲置",
    "unknown": "未知（未有效采集）",
    "not_measured": "不计量",
}
#: what an item's allocated / in-use figure is (connectors/base.py ALLOCATED_BASES, IN_USE_BASES)
BASIS = {
    "quota": "配额",
    "delivered": "已交付资源",
    "export": "控制台导出",
    "not_measured": "未计量",
    "unlimited": "不限",
    "usage": "使用量",
}


def basis_label(basis: str | None) -> str | None:
    """'quota' -> 配额; several sources' bases joined with '+' keep their order."""
    if not basis:
        return None
    return "+".join(BASIS.get(b, b) for b in basis.split("+"))


SEVERITY = {"critical": "严重", "warning": "警告", "info": "提示"}
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}
FINDING = {
    "allocation_shortfall": "分配不足",
    "usage_over_contract": "超合同使用",
    "idle_capacity": "资源闲置",
    "unmapped_resource": "未映射资源",
    "source_unavailable": "数据源不可用",
    "data_rejected": "数据未通过校验",
    "item_unmeasured": "未计量",
    "allocation_over_contract": "分配超出合同",
    "scaling_due_soon": "扩容即将到期",
    "scaling_overdue": "扩容超期未完成",
    "scaling_late": "扩容延期完成",
    "scaling_notice_overdue": "书面通知期限已过",
    "scaling_unverifiable": "扩容无法核实",
    "scaling_undetermined": "扩容是否按期无法判定",
    "scaling_reverted": "扩容完成后被收回",
}
SCALING = {
    "pending": "处理中",
    "partial": "部分完成",
    "completed": "按期完成",
    "late": "延期完成",
    "undetermined": "无法判定",
    "overdue": "超期未完成",
    "notice_overdue": "通知期限已过未完成",
    "unverifiable": "无法核实",
}
SOURCE_STATUS = {"ok": "正常", "failed": "采集失败", "rejected": "校验未通过"}
#: why a source failed, by the ``reason_code`` the connectors put in the source's stats;
#: the technical detail (the raw reason) follows the label (see :func:`reason_text`)
SOURCE_REASON = {
    "timeout": "超时",
    "connect": "无法连接",
    "http_5xx": "服务端错误",
    "http_4xx": "请求被拒绝",
    "malformed": "应答格式错误",
    "not_in_catalog": "服务目录中无此服务",
    "version": "无可用的 API 版本",
    "auth": "认证失败",
    "dependency": "依赖的数据源失败",
    "error": "采集出错",
    "stale": "数据不是本日的",
    "rejected": "数据未通过校验",
}
#: what a source is, for a reader who does not know OpenStack's service names
SOURCE = {
    "openstack:compute": "云主机",
    "openstack:block-storage": "块存储",
    "openstack:network": "网络",
    "openstack:load-balancer": "负载均衡",
    "openstack:object-store": "对象存储",
    "openstack:image": "镜像",
    "export": "控制台导出文件",
}
#: a resource as the report names it ("1 个控制台导出资源", never "1 个 export 资源")
RESOURCE_TYPE = {
    "server": "云主机",
    "volume": "云硬盘",
    "backup": "云硬盘备份",
    "floatingip": "公网IP",
    "router": "路由器",
    "qos_policy": "带宽策略",
    "ipsec_site_connection": "IPSec VPN连接",
    "loadbalancer": "负载均衡实例",
    "account": "对象存储账户",
    "server_licence": "操作系统授权",
    "export": "控制台导出资源",
}
EXIT = {
    0: "正常：全部采集，无需处理的问题",
    1: "有需要处理的问题",
    2: "不完整：有数据源失败或数据被拒绝，结论仅覆盖已采集部分",
    3: "输入或配置错误",
    4: "数据库被占用或无法打开",
}
#: the same verdicts in a word, where a column is narrow (the index on a phone)
EXIT_SHORT = {0: "正常", 1: "有问题", 2: "不完整", 3: "输入错误", 4: "数据库不可用"}
FINANCE_STATUS = {
    "ok": "正确",
    "outside_term": "计费期间超出服务期",
    "price_mismatch": "单价与合同不符",
    "quantity_over_contract": "数量超出合同",
    "billed_over_delivered": "计费高于实际交付",
    "arithmetic_error": "金额计算错误",
    "unknown_item": "非合同项目",
    "daxie_mismatch": "大写金额不符",
    "missing_item": "合同项目未计费",
}
NIGHT_STATE = {"measured": "已计量", "unknown": "未知（未有效采集）", "not_measured": "分配数量无计量",
               "outside_term": "服务期外"}


def source_name(source: str) -> str:
    """'openstack:block-storage' -> '块存储'; 'export:security' -> '控制台导出文件 security';
    a scope's 'openstack:compute@GPU-Region/bjwjw-ai' -> '云主机 GPU-Region/bjwjw-ai'."""
    if source in SOURCE:
        return SOURCE[source]
    base, at, scope = source.partition("@")
    if at and base in SOURCE:
        return f"{SOURCE[base]} {scope}"
    family, _, rest = source.partition(":")
    return f"{SOURCE[family]} {rest}" if family in SOURCE and rest else source


def source_groups(sources: list[str]) -> list[dict]:
    """Sources as a reader scans a table cell: each service once, in Chinese, with the
    scopes ([openstack] scopes) it was measured in under it.

    ['openstack:compute@GPU-Region/p', 'openstack:compute@RegionOne/p'] ->
    [{'name': '云主机', 'scopes': ['GPU-Region/p', 'RegionOne/p'],
      'sources': ['openstack:compute@GPU-Region/p', 'openstack:compute@RegionOne/p']}]
    """
    groups: dict[str, dict] = {}
    for source in sources:
        base, _, scope = source.partition("@")
        group = groups.setdefault(source_name(base), {"name": source_name(base), "scopes": [],
                                                      "sources": []})
        if scope:
            group["scopes"].append(scope)
        group["sources"].append(source)
    return list(groups.values())


def source_text(source: str) -> str:
    """A source inside a sentence: its Chinese name, and the id an operator greps for.

    'openstack:block-storage' -> '块存储 openstack:block-storage'; 'export' -> '控制台导出文件';
    'export:security' -> '控制台导出文件 security'.  The SQL macro ``source_text``
    (recon.reconcile) writes finding messages the same way.
    """
    base = source.partition("@")[0]  # a scope's source: openstack:compute@GPU-Region/p
    if base in SOURCE and ":" in base:
        return f"{SOURCE[base]} {source}"
    return source_name(source)


def reason_text(code: str | None, reason: str | None) -> str:
    """Why a source failed, Chinese first: '服务端错误 — GET /volumes/detail: HTTP 503 ...'.

    Without a known code the connector's own words stand; a reason that already
    opens with its label (a connector may write '服务端错误：...') is not labelled
    twice.  The SQL macro ``reason_text`` (recon.reconcile) says it the same way.
    """
    label, reason = SOURCE_REASON.get(code), reason or ""
    if label is None or reason.startswith(label):
        return reason
    return f"{label} — {reason}" if reason else label


def qty(value, unit: str | None = None) -> str:
    """A quantity as the report writes it: 90000.000000 -> '90,000', with ' GB' when a unit is given.

    The SQL macro ``qty`` (recon.reconcile) writes finding messages the same way;
    tests/test_report.py holds the two to the same answers.
    """
    if value is None:
        return "-"
    if Decimal(value).is_infinite():  # an unlimited allocation (quota -1)
        return "不限"
    text = f"{Decimal(value):,f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text} {unit}" if unit else text


def sql_case(name: str, mapping: dict) -> str:
    """A DuckDB macro ``name(code)`` returning the label of ``code`` (NULL when it has none)."""
    def lit(s) -> str:
        return str(s) if isinstance(s, int) else "'" + str(s).replace("'", "''") + "'"
    whens = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in mapping.items())
    return f"CREATE OR REPLACE TEMP MACRO {name}(code) AS CASE code {whens} ELSE NULL END"
