"""大写 against an implementation written here from the rules' text, not from recon.money.

《会计基础工作规范》第五十二条 (the accounting rule recon writes):
  * a 0 inside the digits is written 零; a run of 0s may be one 零;
  * where the 元 digit is 0 (alone or ending a run) and 角 is not, one 零 or none;
  * 整 (or 正) after 元 or 角; nothing after 分.
《支付结算办法》附件一 (the bank's rule, which recon also accepts when reading):
  * the same, and the 零 may also be left out where the 万 digit is 0 and 仟 is not
    (¥107000.53: 壹拾万柒仟元零伍角叁分 or 壹拾万零柒仟元伍角叁分);
  * 整 may be left out after 角.

The reference below spells every position out (零 for a 0, the 万/亿 word after each
group) and then reduces the zeros by string rewriting: a different method from
recon.money's digit walk, so a shared mistake is unlikely.
"""
from __future__ import annotations

import random
from decimal import Decimal

import pytest

from recon.money import daxie, daxie_matches

NUM = "零壹贰叁肆伍陆柒捌玖"
POS = ["", "拾", "佰", "仟"]
GROUP = ["", "万", "亿"]


def reference_integer(n: int) -> str:
    """The 元 part by §52: every position written, then the zeros reduced."""
    if n == 0:
        return ""
    s = str(n)
    assert len(s) <= 12
    tokens = []
    for i, ch in enumerate(s):
        p = len(s) - 1 - i
        group = GROUP[p // 4] if p % 4 == 0 else ""
        tokens.append(("零" if ch == "0" else NUM[int(ch)] + POS[p % 4]) + group)
    t = "".join(tokens)
    while True:
        before = t
        t = t.replace("零零", "零").replace("零万", "万零").replace("零亿", "亿零")
        t = t.replace("亿万", "亿")      # a 万 group of 0s under a 亿 writes no 万
        if t == before:
            break
    return t.rstrip("零")


def reference(amount: Decimal, yuan_zero: bool = True) -> str:
    """§52 with one 零 where the 元 digit is 0 and 角 is not (yuan_zero) or none."""
    cents_ = int(amount * 100)
    yuan, jiao, fen = divmod(cents_, 100)[0], cents_ // 10 % 10, cents_ % 10
    if cents_ == 0:
        return "人民币零元整"
    out = reference_integer(yuan)
    if yuan:
        out += "元"
    if jiao:
        if yuan and yuan % 10 == 0 and yuan_zero:
            out += "零"
        out += NUM[jiao] + "角"
    elif fen and yuan:
        out += "零"
    out += NUM[fen] + "分" if fen else "整"
    return "人民币" + out


def random_amounts(n: int, seed: int = 52) -> list[Decimal]:
    """Amounts with many zeros in every position, up to 99,999,999,999.99."""
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        width = rnd.randint(1, 13)
        zero_p = rnd.choice((0.1, 0.4, 0.7))
        digits = "".join("0" if rnd.random() < zero_p else str(rnd.randint(1, 9))
                         for _ in range(width))
        out.append(Decimal(int(digits)) / 100)
    return out


AMOUNTS = random_amounts(20000)


def test_the_issues_figures():
    assert daxie(Decimal("102616.19")) == "人民币壹拾万零贰仟陆佰壹拾陆元壹角玖分"
    assert daxie(Decimal("1001000.00")) == "人民币壹佰万零壹仟元整"
    assert daxie(Decimal("107000.53")) == "人民币壹拾万零柒仟元零伍角叁分"
    assert daxie(Decimal("100001000")) == "人民币壹亿零壹仟元整"
    assert daxie(Decimal("1000000000.10")) == "人民币壹拾亿元零壹角整"
    assert daxie(Decimal("1020304050.60")) == "人民币壹拾亿零贰仟零叁拾万零肆仟零伍拾元零陆角整"


def test_the_reference_says_what_the_rules_examples_say():
    # the examples of DOMAIN.md, the contract (第七条) and the bank's rule
    assert reference(Decimal("2919558.00")) == "人民币贰佰玖拾壹万玖仟伍佰伍拾捌元整"
    assert reference(Decimal("10866.24")) == "人民币壹万零捌佰陆拾陆元贰角肆分"
    assert reference(Decimal("100000.01")) == "人民币壹拾万元零壹分"
    assert reference(Decimal("291955.80")) == "人民币贰拾玖万壹仟玖佰伍拾伍元捌角整"
    assert reference(Decimal("107000.53"), yuan_zero=False) == "人民币壹拾万零柒仟元伍角叁分"
    assert reference(Decimal("16409.02")) == "人民币壹万陆仟肆佰零玖元零贰分"
    assert reference(Decimal("1680.32"), yuan_zero=False) == "人民币壹仟陆佰捌拾元叁角贰分"
    assert reference(Decimal("100010000")) == "人民币壹亿零壹万元整"


def test_daxie_agrees_with_the_reference_on_20000_random_amounts():
    wrong = [(a, daxie(a), reference(a)) for a in AMOUNTS if daxie(a) != reference(a)]
    assert not wrong, wrong[:10]


def _bank_forms(amount: Decimal) -> set[str]:
    """What the bank's rule adds to §52's: no 零 at 万 before a 仟 digit, no 整 after 角."""
    forms = {reference(amount, z) for z in (True, False)}
    yuan = int(amount)
    s = str(yuan)
    if yuan >= 10**5 and s[-5] == "0" and s[-4] != "0":
        # the run of 0s ends at the 万 digit: its 零 stands just before the 仟 digit
        def drop(f):
            i = f.rindex("仟", 0, f.index("元")) - 2
            assert f[i] == "零", f
            return f[:i] + f[i + 1:]
        forms |= {drop(f) for f in forms}
    if int(amount * 100) % 10 == 0 and int(amount * 10) % 10:
        forms |= {f.removesuffix("整") for f in forms}
    return forms


def test_daxie_matches_accepts_every_correct_form():
    for a in AMOUNTS:
        for form in _bank_forms(a):
            assert daxie_matches(form, a), (a, form)
            assert daxie_matches(form.removeprefix("人民币"), a), (a, form)
    assert daxie_matches("人民币壹拾万零柒仟元伍角叁分", "107000.53")       # the bank's example
    assert daxie_matches("人民币壹拾万柒仟元零伍角叁分", "107000.53")       # and its other one
    assert daxie_matches("贰拾玖万壹仟玖佰伍拾伍元捌角", "291955.80")       # 角 without 整
    assert daxie_matches("大写：人民币壹佰万零壹仟元正", "1001000")
    assert daxie_matches("壹拾元伍角整", "10.50") and daxie_matches("壹拾元零伍角整", "10.50")
    assert daxie_matches("人民币贰佰萬元整", "2000000")                    # 萬, as banks accept


def _mutations(text: str):
    """Each digit replaced by another, one at a time."""
    for i, ch in enumerate(text):
        if ch in NUM[1:]:
            yield text[:i] + NUM[NUM.index(ch) % 9 + 1] + text[i + 1:]


def test_daxie_matches_rejects_wrong_digits_and_missing_or_extra_zeros():
    rnd = random.Random(7)
    for a in rnd.sample(AMOUNTS, 3000):
        good = _bank_forms(a)
        for form in good:
            for bad in _mutations(form):
                assert not daxie_matches(bad, a), (a, bad)
        canonical = reference(a)
        # a 零 the rules require, dropped (other than at 万 before 仟, or at 元 before 角)
        body = canonical.removeprefix("人民币")
        for i, ch in enumerate(body):
            if ch == "零":
                dropped = "人民币" + body[:i] + body[i + 1:]
                if dropped not in good:
                    assert not daxie_matches(dropped, a), (a, dropped)
    assert not daxie_matches("人民币壹拾万贰仟陆佰壹拾陆元壹角玖分", "102616.91")
    assert not daxie_matches("人民币壹仟壹元整", "1001")              # the inner 零 is required
    assert not daxie_matches("人民币壹拾万元壹分", "100000.01")      # 角 is 0: 零 required
    assert not daxie_matches("人民币壹拾万零零壹仟元整", "101000")
    assert not daxie_matches("人民币壹万零捌佰陆拾陆元贰角肆分整", "10866.24")   # no 整 after 分
    assert not daxie_matches("人民币壹佰万元整", "1001000")
    # the bank's rule names the 万 digit, not the 亿 digit: that 零 stays required
    assert daxie_matches("人民币壹亿壹仟元整", "100001000")
    assert not daxie_matches("人民币壹拾亿伍仟万元整", "1050000000")
    assert daxie_matches("人民币壹拾亿零伍仟万元整", "1050000000")


@pytest.mark.parametrize("amount", ["102616.19", "1001000.00", "10.50", "0.05"])
def test_negative_amounts_carry_the_sign(amount):
    assert daxie(Decimal("-" + amount)) == reference(Decimal(amount)).replace("人民币", "人民币负")
