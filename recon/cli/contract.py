"""`recon contract check|show`: the catalog and its supplementary contracts."""
from __future__ import annotations

from datetime import timedelta

from recon.cli.common import date_arg, open_args
from recon.money import fmt
from recon.nightly import Night, unmeasured_items
from recon.progress import Progress


def cmd_check(args) -> int:
    o = open_args(args)
    if args.expectations:
        Night(o.config, cloud="", progress=Progress(quiet=True))  # runs the GX contract suite too
    for n, contract in enumerate(o.contracts.all):
        if n:  # a follow-on (第十三条 2): the days between two terms are a transition period
            ended = o.contracts.all[n - 1].end
            gap = ((contract.start - ended).days > 1 and
                   f"{ended + timedelta(days=1)} 至 {contract.start - timedelta(days=1)} 为切换期")
            print(f"\n后续合同（{gap or '紧接上一合同，无切换期'}）：")
        for line in contract.summary_lines():
            print(line)
        unmeasured = unmeasured_items(o.config, contract)
        if unmeasured:
            print(f"本配置无数据源计量 {len(unmeasured)} 项（每晚为“未计量”）"
                  f" (items no configured source measures):")
            for item in unmeasured:
                print(f"  第{item.item_no}项 {item.short_name}：数据源 {item.source} 未配置")
    print(f"{o.contracts.all[-1].end} 之后为切换期（第十三条 2，资源费用由双方协商）")
    print("合同检查通过 (contract check passed)")
    return 0


def cmd_show(args) -> int:
    contract = open_args(args).contract
    day = args.date or contract.start
    print(f"{'序号':>4}  {'数量':>10}  {'单位':<5} {'合价':>14}  项目 ({day})")
    for item in contract.items.values():
        print(f"{item.item_no:>4}  {contract.quantity_on(item.item_no, day):>10}  "
              f"{item.unit:<5} {fmt(item.line_total):>14}  {item.short_name}")
    return 0


def register(sub) -> None:
    contract = sub.add_parser("contract", help="check or show the contract",
                              description="The contract's items and supplementary contracts.")
    csub = contract.add_subparsers(dest="contract_command", required=True, metavar="ACTION")
    check = csub.add_parser("check", help="validate contract_items.csv and amendments",
                            description="Check unit price x quantity = line total, the total, "
                            "unique item numbers, positive quantities, dates inside the term; "
                            "print the summary with the total in 大写. Exit 3 on any violation.")
    check.add_argument("--expectations", action="store_true",
                       help="also run the Great Expectations contract suite")
    check.set_defaults(func=cmd_check)
    show = csub.add_parser("show", help="contracted quantities on a date",
                           description="List the items with the quantity in force on a date "
                           "(supplementary contracts applied).")
    show.add_argument("--date", type=date_arg, help="YYYY-MM-DD (default: the signing date)")
    show.set_defaults(func=cmd_show)
