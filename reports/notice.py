"""A written notice (书面通知) as the management unit sends it: DOCX to edit, PDF to read.

The letter has the elements of a Chinese official letter (GB/T 9704-2012, the 函 form):
标题 (关于……的通知), 发文字号 (the notice id), 主送 (the provider's full name), 正文 (the
facts from the store, the clause quoted, the demand and its deadline), 附件说明, 落款 (the
agency's full name) with a place for the seal, 成文日期, and the 附件: the evidence table.

:class:`NoticeLetter` is both what reports/notice.html.j2 renders (the PDF, through
WeasyPrint as the monthly assessment is) and what the DOCX is written from (python-docx,
the east-asian font set on every run: 仿宋 for the text, 宋体 for the title and tables),
so the two say the same.  The facts are read from the store as concluded (the scaling
states of the last night up to the letter's date, the months' stored verdicts, the
materials ledger); nothing reads the clock: the same store, notice and date give
byte-identical files (the DOCX's core properties and zip entries, the PDF's metadata are
dated by the letter).
"""
from __future__ import annotations

import io
import logging
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from recon import conclude, labels, rules as rulebook
from recon.ledgers import scaling
from recon.ledgers import materials as materials_ledger
from recon.ledgers.notices import Notice, judged_month, record
from recon import store as stored
from reports.common import env, write_atomic

#: 第十二条 4, as the contract writes it (the part a rectification notice rests on)
CLAUSE_12_4 = ("在运营期间出现下列情况，甲方向乙方提出整改要求和期限，且乙方在规定期限内未能履行甲方"
               "正当要求的，甲方有权终止合同，并要求乙方支付合同总额【10】%的违约金")
#: 第六条, the part a failed acceptance rests on
CLAUSE_6 = ("合同期满后，乙方应当在甲方指定的验收日前按照标准做好验收的必要准备并向甲方提交验收材料"
            "（包括但不限于运维记录、运维月报、年报、漏扫报告、云平台巡检报告等）……验收不合格的，"
            "乙方应当在 5 日内进行返工或调整，并重新提交甲方验收")

BODY_FONT, TITLE_FONT, TABLE_FONT = "仿宋", "宋体", "宋体"


def cn_date(d: date | None) -> str:
    """成文日期 in digits as GB/T 9704-2012 writes them: 2026年11月20日 (no leading zeros)."""
    return "-" if d is None else f"{d.year}年{d.month}月{d.day}日"


def _month_cn(month: str) -> str:
    return f"{month[:4]}年{int(month[5:])}月"


@dataclass
class Evidence:
    title: str
    headers: list[str]
    rows: list[list[str]]
    note: str = ""


@dataclass
class NoticeLetter:
    notice_id: str
    kind: str
    ref: str
    title: str
    addressee: str
    #: 正文, paragraph by paragraph (facts, the clause quoted, the demand with the deadline)
    paragraphs: list[str]
    #: the clause(s) the letter rests on, as quoted
    clause: str
    deadline: date
    deadline_text: str
    attachment: str
    signer: str
    drafted_on: date
    date_text: str
    evidence: Evidence
    #: the last stored night the facts were read from (None: no night yet)
    facts_as_of: date | None = None
    contract: str = ""
    notes: list[str] = field(default_factory=list)


# -- the facts -----------------------------------------------------------------------------
def build_letter(store, contract, config, notice: Notice) -> NoticeLetter:
    build = {"scaling": _scaling, "rectification": _rectification,
             "acceptance": _acceptance}[notice.kind]
    title, paragraphs, clause, evidence, as_of = build(store, contract, config, notice)
    head = (f"根据我单位与你公司签订的《{contract.title}》（合同编号：{contract.number}，"
            f"以下简称合同），")
    paragraphs = [head + paragraphs[0]] + paragraphs[1:] + ["特此通知。"]
    return NoticeLetter(
        notice.notice_id, notice.kind, notice.ref, title, contract.provider, paragraphs, clause,
        notice.deadline, cn_date(notice.deadline), f"{evidence.title}", contract.agency,
        notice.drafted_on, cn_date(notice.drafted_on), evidence, as_of,
        f"{contract.title}（合同编号：{contract.number}）")


def _last_night(store, contract, config, day: date) -> date | None:
    nights = [d for d in store.snapshot_dates() if d <= day]
    if not nights:
        return None
    conclude.ensure_night(store, contract, config, nights[-1])
    return nights[-1]


def _scaling(store, contract, config, notice: Notice):
    req = next(r for r in scaling.requests(store) if r.request_id == notice.ref)
    item = contract.items[req.item_no]
    night = _last_night(store, contract, config, notice.drafted_on)
    st = next((s for s in conclude.states(store, contract, night)
               if s.request.request_id == req.request_id), None) if night else None
    row = rulebook.load(config).rows("scaling_notice", 3)[0]
    target = st.target if st else req.target
    ask = (f"增加 {labels.qty(req.increase, item.unit)}，达到 {labels.qty(target, item.unit)}"
           if req.increase is not None else f"达到 {labels.qty(target, item.unit)}")
    paras = [f"我单位于{cn_date(req.requested_date)}向你公司提出扩容申请（申请编号：{req.request_id}），"
             f"要求将合同第二条第{req.item_no}项“{item.short_name}”的分配数量{ask}。按合同附件3第4条，"
             f"你公司应在 7 个自然日内完成扩容，即最迟于{cn_date(req.deadline)}（申请当日为第0天，"
             f"此为第7天）当晚达到目标。"]
    if st is None:
        paras.append("截至本通知日期，我单位尚无该项的核对数据。")
    else:
        measured = (f"实测分配数量为 {labels.qty(st.latest, item.unit)}"
                    + (f"（{st.latest_on} 实测）" if st.latest_on and st.latest_on != night else "")
                    if st.latest is not None else "尚无实测分配数量")
        late = [d for d in st.unknown_days if d >= req.deadline]   # before day 7: no matter
        unknown = (f"；第7天起 {'、'.join(d.isoformat() for d in late)} 未能采集"
                   if late and st.state != "unverifiable" else "")
        paras.append(f"经我单位核对，截至{cn_date(night)}（第 {st.day} 天），该项{measured}，"
                     f"目标为 {labels.qty(target, item.unit)}，状态为“{labels.SCALING[st.state]}”"
                     f"{unknown}。每晚核对情况见附件。")
    clause = f"合同附件3《一般违约行为表》第4条：“{row.text}”"
    paras.append(f"根据{clause}，违约金 = 信息系统云服务费 ÷ 服务月数 × 惩罚系数，惩罚系数为 "
                 f"{row.coefficient * 100:.0f}%。")
    paras.append(f"现书面通知你公司：请于{cn_date(notice.deadline)}前完成上述扩容，使该项分配数量达到 "
                 f"{labels.qty(target, item.unit)}，并将完成情况书面回复我单位。逾期仍未完成的，"
                 f"我单位将依照上述条款计收违约金。")
    rows = []
    if night is not None:
        series = scaling.allocation_series(store, req.item_no, req.requested_date, night)
        for d, a in series.items():
            verdict = ("未能采集" if a is None else
                       "达到目标" if target is not None and a >= target else "低于目标")
            rows.append([d.isoformat(), str((d - req.requested_date).days),
                         "-" if a is None else labels.qty(a, item.unit),
                         labels.qty(target, item.unit), verdict])
    evidence = Evidence(f"扩容申请 {req.request_id} 每晚实测分配情况（第{req.item_no}项 {item.short_name}）",
                        ["日期", "第几天", "实测分配", "目标", "结论"], rows,
                        "数据来源：recon 每晚核对（云平台接口与控制台导出）；未能采集的夜晚不作判断。")
    return (f"关于限期完成扩容申请{req.request_id}的通知", paras, clause, evidence, night)


def _rectification(store, contract, config, notice: Notice):
    verdicts = stored.month_verdicts(store, notice.ref, notice.owner)
    last = verdicts[-1]
    k = max(last["failed_in_a_row"], 1)
    failed = verdicts[-k:]
    months = "、".join(_month_cn(v["month"]) for v in failed)
    row = rulebook.load(config).rows("monthly_assessment", 3)[0]
    paras = [f"我单位按合同附件3第3条对你公司实施月度考核，你公司{months}连续 {k} 个月未通过考核，"
             f"未通过的考核项见附件。"]
    clause = (f"合同附件3《一般违约行为表》第3条：“{row.text}”；合同第十二条第4款：“{CLAUSE_12_4}”")
    paras.append(f"根据{clause}。")
    paras.append(f"现向你公司提出整改要求：请针对附件所列未达标事项进行整改，于{cn_date(notice.deadline)}"
                 f"前整改到位，并将整改情况书面报告我单位。整改期限届满后，我单位以"
                 f"{_month_cn(judged_month(notice))}的月度考核结果认定整改是否达到要求；仍未达到要求的，"
                 f"我单位将按附件3第3条计收违约金（惩罚系数 {row.coefficient * 100:.0f}%），"
                 f"并保留依第十二条解除合同的权利。")
    rows = []
    for v in failed:
        for c in v["criteria"]:
            if c.get("passed") is False and c.get("required", True):  # not recon's own
                rows.append([_month_cn(v["month"]), c["name"], c["clause"], c["threshold"],
                             c["value"], labels.VERDICT[False]])
    evidence = Evidence(f"{months}月度考核未通过事项", ["月份", "考核项", "依据", "标准", "本月数值",
                                                      "结论"], rows,
                        "数据来源：recon 月度考核报告（assessment.json），依 assessment.toml 的考核标准。")
    return ("关于月度考核连续未通过限期整改的通知", paras, clause, evidence, failed[-1]["last_day"])


def _acceptance(store, contract, config, notice: Notice):
    period = notice.ref
    have = materials_ledger.latest(store, period)
    missing = materials_ledger.missing_required(store, period)
    paras = [f"你公司提交的“{period}”验收材料，经我单位组织验收评审，验收不合格"
             + (f"，验收意见：{notice.note}" if notice.note else "") + "。"]
    if missing:
        paras.append(f"经核对，合同第六条所列验收材料中，{'、'.join(missing)}尚未提交。"
                     f"已收到的材料见附件。")
    else:
        paras.append("已收到的验收材料见附件。")
    clause = f"合同第六条：“{CLAUSE_6}”"
    paras.append(f"根据{clause}。")
    paras.append(f"请你公司于{cn_date(notice.deadline)}前完成返工或调整"
                 + ("、补齐上述材料" if missing else "") + "，并重新提交我单位验收。")
    rows = [[m.name, m.period, m.received_on.isoformat(), Path(m.file).name, m.sha256]
            for m in have]
    rows += [[name, period, "未提交", "-", "-"] for name in missing]
    evidence = Evidence(f"“{period}”验收材料清单", ["材料名称", "期间", "收到日期", "文件", "SHA-256"],
                        rows, "SHA-256 为收到文件时记录的摘要（recon materials），文件本身未作任何改动。")
    return (f"关于{period}验收不合格限期返工的通知", paras, clause, evidence, None)


# -- rendering -----------------------------------------------------------------------------
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean(text) -> str:
    """A value as XML may hold it (names come from files and clouds)."""
    return _CONTROL.sub("", str(text))


def render_html(letter: NoticeLetter) -> str:
    return env().get_template("notice.html.j2").render(r=letter)


def render_pdf(letter: NoticeLetter, html: str) -> bytes:
    import weasyprint  # heavy (Pango, fonts): only when a letter is written

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    doc = weasyprint.HTML(string=html, base_url=None).render()
    stamp = letter.drafted_on.isoformat()
    doc.metadata.title = letter.title
    doc.metadata.authors = [letter.signer]
    doc.metadata.created = stamp
    doc.metadata.modified = stamp
    return doc.write_pdf()


def render_docx(letter: NoticeLetter) -> bytes:
    """The letter as DOCX (what the office edits), byte-identical for the same letter."""
    from docx import Document  # python-docx: only when a letter is written
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    doc = Document()
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin = Mm(37), Mm(35)
    sec.left_margin, sec.right_margin = Mm(28), Mm(26)

    def font(run, name: str, size: float, bold: bool = False) -> None:
        run.font.name = name
        run.font.size = Pt(size)
        run.font.bold = bold
        rpr = run._element.get_or_add_rPr()
        rpr.get_or_add_rFonts().set(qn("w:eastAsia"), name)

    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = BODY_FONT, Pt(16)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), BODY_FONT)

    def para(text: str = "", *, name=BODY_FONT, size=16, bold=False, align=None, indent=False,
             before=0, after=0):
        p = doc.add_paragraph()
        fmt = p.paragraph_format
        fmt.space_before, fmt.space_after = Pt(before), Pt(after)
        fmt.line_spacing = Pt(28) if size >= 16 else None
        if indent:
            fmt.first_line_indent = Pt(size * 2)
        if align:
            p.alignment = align
        if text:
            font(p.add_run(_clean(text)), name, size, bold)
        return p

    para(f"编号：{letter.notice_id}", size=12, align=WD_ALIGN_PARAGRAPH.RIGHT)
    para(letter.title, name=TITLE_FONT, size=22, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER,
         before=12, after=18)
    para(f"{letter.addressee}：")
    for text in letter.paragraphs:
        para(text, indent=True)
    para(f"附件：{letter.attachment}", before=16, indent=True)
    para(letter.signer, align=WD_ALIGN_PARAGRAPH.RIGHT, before=40)
    para(letter.date_text, align=WD_ALIGN_PARAGRAPH.RIGHT)
    para("（盖章）", size=12, align=WD_ALIGN_PARAGRAPH.RIGHT)

    brk = doc.add_paragraph()
    brk.add_run().add_break(WD_BREAK.PAGE)
    para("附件", name="黑体", size=16)
    para(letter.evidence.title, name=TITLE_FONT, size=16, bold=True,
         align=WD_ALIGN_PARAGRAPH.CENTER, before=6, after=6)
    ev = letter.evidence
    table = doc.add_table(rows=1 + max(len(ev.rows), 1), cols=len(ev.headers))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    body = ev.rows or [["（无）"] + [""] * (len(ev.headers) - 1)]
    for r, cells in enumerate([ev.headers] + body):
        for c, text in enumerate(cells):
            cell = table.cell(r, c)
            cell.text = ""
            run = cell.paragraphs[0].add_run(_clean(text))
            font(run, TABLE_FONT, 9 if len(str(text)) > 20 else 10.5, bold=r == 0)
    if ev.note:
        para(ev.note, size=10.5, before=6)

    props = doc.core_properties
    stamp = datetime.combine(letter.drafted_on, time(0))
    props.title, props.author, props.last_modified_by = letter.title, letter.signer, "recon"
    props.subject, props.keywords, props.comments = letter.notice_id, letter.kind, ""
    props.created = props.modified = props.last_printed = stamp
    props.revision = 1
    buf = io.BytesIO()
    doc.save(buf)
    return _fixed_zip(buf.getvalue(), letter.drafted_on)


def _fixed_zip(data: bytes, day: date) -> bytes:
    """The same zip with every entry dated ``day``: python-docx dates them by the clock."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(day.year, day.month, day.day, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def write_letter(letter: NoticeLetter, out_dir: Path) -> dict[str, Path]:
    """OUT/notices/<id>/<id>.docx and .pdf (and the .html the PDF is rendered from)."""
    folder = Path(out_dir) / "notices" / letter.notice_id
    html = render_html(letter)
    paths = {k: folder / f"{letter.notice_id}.{k}" for k in ("docx", "pdf")}
    write_atomic(paths["docx"], render_docx(letter))
    write_atomic(paths["pdf"], render_pdf(letter, html))
    return paths


def draft_and_record(store, contract, config, notice: Notice,
                     out_dir: Path) -> tuple[dict[str, Path], bool]:
    """Write the letter of a planned notice (:func:`recon.ledgers.notices.plan_draft`) into
    OUT and record the draft in the notices ledger with each file's sha256: the one way the
    command line and the demo draft a letter.  The files' paths are recorded relative to OUT,
    so the same letter drafted again into the same folder is the same revision wherever the
    command ran.  Returns the files written and whether a revision was added."""
    paths = write_letter(build_letter(store, contract, config, notice), out_dir)
    changed = record(store, notice, [{"path": str(p.relative_to(out_dir)),
                                      "sha256": materials_ledger.sha256_of(p)[0]}
                                     for p in paths.values()])
    return paths, changed
