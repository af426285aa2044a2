"""Exact money: Decimal everywhere, and the 大写 form finance writes beside digits.

The 大写 rules follow 《会计基础工作规范》第五十二条 as ../shared/DOMAIN.md sets
them: 整 closes an amount that ends at 元 or 角, never one with 分; a run of
zeros inside the digits is one 零; 壹拾 keeps its 壹.  Where the 元 digit is 0
but 角 is not, this module writes one 零 (壹拾元零伍角整), and keeps to it.
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


def _group(n: int) -> str:
    """Four digits (0-9999) with 仟佰拾; inner zero runs become one 零."""
    out, zero = [], False
    for pos in range(3, -1, -1):
        d = n // 10**pos % 10
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out.append("零")
            zero = False
        out.append(_DIGITS[d] + _SMALL_UNITS[pos])
    return "".join(out)


def _integer(n: int) -> str:
    if n == 0:
        return ""
    groups = []
    while n:
        groups.append(n % 10000)
        n //= 10000
    if len(groups) > len(_GROUP_UNITS):
        raise ValueError("amount too large for 大写")
    out, pending_zero = [], False
    for idx in range(len(groups) - 1, -1, -1):
        g = groups[idx]
        if g == 0:
            pending_zero = bool(out)
            continue
        if out and (pending_zero or g < 1000):
            out.append("零")
        out.append(_group(g) + _GROUP_UNITS[idx])
        pending_zero = False
    return "".join(out)


def daxie(value, currency: str = "人民币") -> str:
    """The uppercase form of an amount: 2919558 -> 人民币贰佰玖拾壹万玖仟伍佰伍拾捌元整."""
    amount = cents(value)
    sign = "负" if amount < 0 else ""
    amount = abs(amount)
    fen_total = int(amount * 100)
    yuan, jiao, fen = fen_total // 100, fen_total // 10 % 10, fen_total % 10
    if fen_total == 0:
        return f"{currency}零元整"
    text = _integer(yuan)
    if text:
        text += "元"
    if jiao:
        if text and yuan % 10 == 0:
            text += "零"
        text += _DIGITS[jiao] + "角"
    if fen:
        if text and not jiao:
            text += "零"
        text += _DIGITS[fen] + "分"
    else:
        text += "整"
    return f"{currency}{sign}{text}"


_LABEL = re.compile(r"^[（(]?大写[）)]?[:：]?")
_YUAN_ZERO_JIAO = re.compile(r"元零([壹贰叁肆伍陆柒捌玖]角)")


def daxie_matches(text: str, value) -> bool:
    """Does a written 大写 say the amount?  Accepts what 第五十二条 allows and
    :func:`daxie` does not write: 正 for 整, no 零 between 元 and 角 when the 元
    digit is 0, a 大写 label, spaces, and no currency name."""
    t = _LABEL.sub("", "".join(str(text).split()))
    t = t.removeprefix("人民币")
    if t.endswith("正"):
        t = t[:-1] + "整"
    want = daxie(value).removeprefix("人民币")
    return t in (want, _YUAN_ZERO_JIAO.sub(r"元\1", want))
