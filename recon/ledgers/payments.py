"""The payments ledger: what the agency paid the provider, and when (第七条).

第七条第2款 has two payments and no others: 首款 (``first``), 50% of the contract
total within 20 working days of signing, and 尾款 (``final``), the other 50%, once the
term has ended and the provider passed the annual assessment.  The penalties of the
ledger are deducted once, from the final payment (``recon finance settle``), never from
a statement.  Each payment is recorded with the day it was paid and the amount paid;
whether the first was on time is judged against the 20-working-day rule
(:func:`recon.finance.schedule.first_payment_due`).  The kind is the key; a change is a
new revision, the latest counts, and recording the same again adds none.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from recon import store as stored
from recon.money import CENT, to_decimal

#: 第七条第2款's two payments, as the command line and the store name them
KINDS = {"first": "首款（合同金额 50%）", "final": "尾款（合同金额 50%）"}


@dataclass(frozen=True)
class Payment:
    kind: str                # first | final
    paid_on: date
    amount: Decimal
    note: str = ""
    origin: str = "cli"
    revision: int = 1
    recorded_at: datetime | None = None

    @property
    def label(self) -> str:
        return KINDS[self.kind]

    def fields(self) -> tuple:
        return (self.paid_on, self.amount, self.note)


def make_payment(kind: str, paid_on: date, amount: str, note: str = "") -> Payment:
    """One payment; ValueError("field: why") for a kind 第七条 does not have, or an amount
    that is not a positive sum in yuan to the fen."""
    if kind not in KINDS:
        raise ValueError(f"kind: must be first or final (第七条第2款), got {kind!r}")
    try:
        value = to_decimal(amount)
    except (ValueError, TypeError):
        raise ValueError(f"amount: not an amount in yuan: {amount!r}") from None
    if not value.is_finite() or value <= 0:
        raise ValueError(f"amount: must be a positive amount in yuan, got {amount!r}")
    if value >= Decimal("1e15") or value != value.quantize(CENT):
        raise ValueError(f"amount: at most two decimals (fen) and below 10^15: {amount!r}")
    return Payment(kind, paid_on, value.quantize(CENT), (note or "").strip())


def _payment(r: dict) -> Payment:
    return Payment(r["kind"], r["paid_on"], r["amount"], r["note"] or "", r["origin"] or "",
                   r["revision"], r.get("recorded_at"))


def latest(store, owner: str | None = None) -> dict[str, Payment]:
    """kind -> the payment's latest revision (only the kinds recorded) of one contract
    (``owner``: :attr:`recon.contract.Contract.owner`; None the first): a follow-on's 首款 is its own,
    never the first contract's."""
    return {r["kind"]: _payment(r) for r in stored.latest_payments(store, owner)}


def history(store, kind: str, owner: str | None = None) -> list[Payment]:
    return [_payment(r) for r in stored.payment_history(store, kind, owner)]


def save(store, payment: Payment, owner: str | None = None) -> Payment | None:
    """Record a contract's payment as a new revision; None when it is recorded as it is
    already."""
    cur = latest(store, owner).get(payment.kind)
    if cur is not None and cur.fields() == payment.fields():
        return None
    revision = cur.revision + 1 if cur else 1
    stored.save_payment_revision(store, {"kind": payment.kind, "revision": revision,
                                         "paid_on": payment.paid_on, "amount": payment.amount,
                                         "note": payment.note, "origin": payment.origin},
                                 owner)
    return Payment(payment.kind, payment.paid_on, payment.amount, payment.note,
                   payment.origin, revision)
