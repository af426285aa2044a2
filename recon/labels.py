"""Chinese labels for what reports show; the codes stay English in JSON."""

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
}
SCALING = {
    "pending": "处理中",
    "partial": "部分完成",
    "completed": "按期完成",
    "late": "延期完成",
    "overdue": "超期未完成",
    "notice_overdue": "通知期限已过未完成",
    "unverifiable": "无法核实",
}
SOURCE_STATUS = {"ok": "正常", "failed": "采集失败", "rejected": "校验未通过"}
EXIT = {
    0: "正常：全部采集，无需处理的问题",
    1: "有需要处理的问题",
    2: "不完整：有数据源失败或数据被拒绝，结论仅覆盖已采集部分",
    3: "输入或配置错误",
    4: "数据库被占用或无法打开",
}
