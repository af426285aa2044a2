"""Exact money: Decimal everywhere, and the 大写 form finance writes beside digits.

The 大写 rules follow 《会计基础工作规范》第五十二条 as ../shared/DOMAIN.md sets
them: 整 closes an amount that ends at 元 or 角, never one with 分; a 0 inside
the digits is written 零 and a run of 0s is one 零, wherever the run sits (inside
a group of four or across the 万/亿 boundary: 102,616.19 is 壹拾万零贰仟陆佰壹拾陆元
壹角玖分, 1,001,000.00 is 壹佰万零壹仟元整); 壹拾 keeps its 壹.  The only 零 the
rule leaves to the writer is at 元: where the 元 digit is 0 but 角 is not, this
module writes one 零 (壹拾元零伍角整), and keeps to it.

Reading a 大写 someone else wrote (:func:`daxie_matches`) is wider: it accepts
every form the accounting rule or the bank's rule (支付结算办法) allows, so that
a mismatch is a verdict no one can contest by citing either.
"""
from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("", "拾", "佰", "仟")
_GROUP_UNITS = ("", "万", "亿", "万亿")


def to_decimal(value) -> Decimal:
    """Decimal from str/int/Decimal; floats are refused (they are not exact)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        raise TypeError("money must not pass through float")
    try:
        return Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None


def cents(value) -> Decimal:
    """Round half up to the cent, the way an invoice does."""
    return to_decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def fmt(value) -> str:
    """1234567.8 -> '1,234,567.80'."""
    return f"{cents(value):,.2f}"


def _integer(n: int, wan_zero: bool = True) -> str:
    """The 元 part, digit by digit: every run of 0s between two written digits is one 零,
    whether it sits inside a group of four or spans a 万/亿 boundary (102616 ->
    壹拾万零贰仟陆佰壹拾陆, 1001000 -> 壹佰万零壹仟); trailing 0s write nothing.
    ``wan_zero=False`` leaves out the one 零 the bank's rule lets go: a run of 0s
    ending at the 万 digit before a 仟 digit that is not 0 (壹拾万柒仟)."""
    if n == 0:
        return ""
    digits = str(n)
    top = len(digits) - 1
    if top >= 4 * len(_GROUP_UNITS):
        raise ValueError("amount too large for 大写")
    out, zero = [], False          # zero: the digit just before is a 0 after a written one
    for i, ch in enumerate(digits):
        pos = top - i              # 0 for the 元 digit
        d = int(ch)
        if d:
            if zero and (wan_zero or pos != 3):
                out.append("零")
            zero = False
            out.append(_DIGITS[d] + _SMALL_UNITS[pos % 4])
        else:
            zero = True
        if pos % 4 == 0 and pos and int(digits[max(0, i - 3):i + 1]):
            out.append(_GROUP_UNITS[pos // 4])   # a group with a digit closes with 万/亿
    return "".join(out)


def _write(amount: Decimal, wan_zero: bool = True, yuan_zero: bool = True,
           jiao_zheng: bool = True) -> str:
    """One written form of ``amount`` (cents, not negative), without currency or sign.
    The flags are the three places where a correct form may differ (module docstring)."""
    fen_total = int(amount * 100)
    yuan, jiao, fen = fen_total // 100, fen_total // 10 % 10, fen_total % 10
    if fen_total == 0:
        return "零元整"
    text = _integer(yuan, wan_zero)
    if text:
        text += "元"
    if jiao:
        if text and yuan % 10 == 0 and yuan_zero:
            text += "零"
        text += _DIGITS[jiao] + "角"
    if fen:
        if text and not jiao:      # 角 is 0 and 分 is not: the 零 is required (both rules)
            text += "零"
        text += _DIGITS[fen] + "分"
    elif not jiao or jiao_zheng:
        text += "整"
    return text


def daxie(value, currency: str = "人民币") -> str:
    """The uppercase form of an amount: 2919558 -> 人民币贰佰玖拾壹万玖仟伍佰伍拾捌元整.

    The accounting rule's form (第五十二条): a 零 for every run of 0s inside the
    digits, one 零 where the 元 digit is 0 and 角 is not, 整 after 元 or 角."""
    amount = cents(value)
    sign = "负" if amount < 0 else ""
    return f"{currency}{sign}{_write(abs(amount))}"


_LABEL = re.compile(r"^[（(]?大写[）)]?(金额)?[:：]?")
#: variant characters 支付结算办法 says a bank accepts (貳 陸 億 萬 圆), read as the usual ones
_VARIANTS = str.maketrans({"貳": "贰", "陸": "陆", "億": "亿", "萬": "万", "圆": "元",
                           "圓": "元"})


def daxie_forms(value) -> set[str]:
    """Every correct written form of an amount, without currency name: the accounting
    rule's (第五十二条) and the bank's (支付结算办法 附件一《正确填写票据和结算凭证的基本
    规定》), which adds two freedoms: 零 may be left out where the 万 digit is 0 and
    the 仟 digit is not (¥107000.53: 壹拾万柒仟元零伍角叁分 or 壹拾万零柒仟元伍角叁分),
    and 整 may be left out after 角.  Both let the 零 go where the 元 digit is 0 and
    角 is not.  Every other 0 inside the digits is a 零, and a wrong digit is wrong."""
    amount = cents(value)
    sign = "负" if amount < 0 else ""
    return {sign + _write(abs(amount), w, y, z)
            for w in (True, False) for y in (True, False) for z in (True, False)}


def daxie_matches(text: str, value) -> bool:
    """Does a written 大写 say the amount in a form some rule allows (:func:`daxie_forms`)?
    Also accepted: 正 for 整, the bank's variant characters, a 大写 label, spaces,
    and no currency name.  A daxie_mismatch is then a verdict the writer cannot
    contest by citing either rule."""
    t = _LABEL.sub("", "".join(str(text).split())).translate(_VARIANTS)
    t = t.removeprefix("人民币")
    if t.endswith("正"):
        t = t[:-1] + "整"
    return t in daxie_forms(value)
