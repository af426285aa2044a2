"""Chinese labels for what reports show, and how a quantity is written; codes stay English in JSON.

Every stable code (finding, status, reason) has its Chinese label once, with its
meaning, in :mod:`recon.codes`; the tables here are taken from there, beside the
labels of what is not a code (sources, resource types, exit codes).  The SQL that
writes finding messages reads the same tables through :func:`sql_labels`, so a
message and a page never name a thing two ways.
"""
from __future__ import annotations

from decimal import Decimal

from recon import codes

STATUS = codes.labels(codes.ITEM_STATUS)
BASIS = codes.labels(codes.BASIS)


def basis_label(basis: str | None) -> str | None:
    """'quota' -> 配额; several sources' bases joined with '+' keep their order."""
    if not basis:
        return None
    return "+".join(BASIS.get(b, b) for b in basis.split("+"))


SEVERITY = codes.labels(codes.SEVERITIES)
SEVERITY_ORDER = {sev: n for n, sev in enumerate(codes.SEVERITIES)}
FINDING = codes.labels(codes.FINDINGS)
SCALING = codes.labels(codes.SCALING_STATE)
NOTICE_KIND = codes.labels(codes.NOTICE_KIND)
NOTICE_STATUS = codes.labels(codes.NOTICE_STATUS)
SOURCE_STATUS = codes.labels(codes.SOURCE_STATUS)
SOURCE_REASON = codes.labels(codes.SOURCE_REASON)
#: a penalty's status (recon/penalties.py): in the monthly assessment and the index
PENALTY_STATUS = {"counted": codes.PENALTY_STATUS["counted"].label,
                  "pending": codes.PENALTY_STATUS["pending"].label + "（未计入）"}
#: the same status as finance books it: a pending penalty is not deducted
PENALTY_DEDUCTION = {"counted": codes.PENALTY_STATUS["counted"].label,
                     "pending": codes.PENALTY_STATUS["pending"].label + "（不扣）"}
#: a month's verdict (recon/assess.py: passed True / False / None)
VERDICT = {True: "通过", False: "未通过", None: "无法判定"}
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
FINANCE_STATUS = codes.labels(codes.LINE_STATUS)
NIGHT_STATE = codes.labels(codes.NIGHT_STATE)


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


def sql_labels(name: str, mapping: dict) -> str:
    """A DuckDB macro ``name(code)`` returning the label of ``code`` (NULL when it has none).

    A MAP looked up, not a CASE of one WHEN per code: DuckDB plans a CASE afresh wherever
    the macro is used, ~1 ms a use of the sources' labels, and a night's reconcile uses them
    a dozen times (its finding statements planned on a night without data 0.051 -> 0.043 s,
    whatever the size of the night: bench/README.md).  Spark reads the same lookup (recon/lake.py)."""
    def lit(s) -> str:
        return str(s) if isinstance(s, int) else "'" + str(s).replace("'", "''") + "'"
    if not mapping:
        return f"CREATE OR REPLACE TEMP MACRO {name}(code) AS NULL::VARCHAR"
    keys = ", ".join(lit(k) for k in mapping)
    values = ", ".join(lit(v) for v in mapping.values())
    return f"CREATE OR REPLACE TEMP MACRO {name}(code) AS MAP([{keys}], [{values}])[code]"
