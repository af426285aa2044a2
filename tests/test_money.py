from decimal import Decimal

import pytest

from recon.money import cents, daxie, fmt


@pytest.mark.parametrize("amount, text", [
    # the examples the contract and DOMAIN.md write
    ("2919558.00", "人民币贰佰玖拾壹万玖仟伍佰伍拾捌元整"),
    ("1459779", "人民币壹佰肆拾伍万玖仟柒佰柒拾玖元整"),
    ("291955.80", "人民币贰拾玖万壹仟玖佰伍拾伍元捌角整"),
    ("10866.24", "人民币壹万零捌佰陆拾陆元贰角肆分"),
    ("100000.01", "人民币壹拾万元零壹分"),
    # zeros inside and between groups
    ("1001", "人民币壹仟零壹元整"),
    ("10010", "人民币壹万零壹拾元整"),
    ("1000100", "人民币壹佰万零壹佰元整"),
    ("100010000", "人民币壹亿零壹万元整"),
    ("100000001", "人民币壹亿零壹元整"),
    ("10.50", "人民币壹拾元零伍角整"),
    ("12.05", "人民币壹拾贰元零伍分"),
    ("0.50", "人民币伍角整"),
    ("0.05", "人民币伍分"),
    ("0", "人民币零元整"),
])
def test_daxie_follows_the_accounting_rule(amount, text):
    assert daxie(Decimal(amount)) == text


def test_daxie_rounds_half_up_to_the_cent():
    assert daxie("0.005") == "人民币壹分"
    assert cents("2.675") == Decimal("2.68")


def test_money_refuses_floats():
    with pytest.raises(TypeError):
        daxie(0.1)


def test_fmt_groups_thousands():
    assert fmt("2919558") == "2,919,558.00"
