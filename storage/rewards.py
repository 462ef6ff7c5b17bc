"""Redeeming benefits for vouchers, and reversing a redemption, through the ledger."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from storage.ledger import Ledger, LedgerError, refuse_while_in_debt
from storage.models import Benefit, Member, Redemption, Voucher

# No 0/O or 1/I: members read codes aloud to cashiers.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True)
class Redeemed:
    redemption: Redemption
    vouchers: list[Voucher]
    created: bool


def voucher_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def redeem(
    ledger: Ledger, member_id: int, benefit_code: str, quantity: int, request_key: str
) -> Redeemed:
    """Spend points on a benefit; the request key makes a double tap redeem once."""
    session, config = ledger.session, ledger.config
    if quantity < 1:
        raise LedgerError("bad_quantity", f"quantity must be at least 1, got {quantity}")
    at = ledger.clock()
    account, member = ledger.lock_account(member_id)  # the account row first, then the benefit row
    earlier = session.scalar(select(Redemption).where(Redemption.request_key == request_key))
    if earlier is not None:
        vouchers = session.scalars(select(Voucher).where(Voucher.redemption_id == earlier.id)).all()
        return Redeemed(earlier, list(vouchers), created=False)
    benefit = session.scalar(
        select(Benefit)
        .where(Benefit.code == benefit_code, Benefit.active.is_(True))
        .with_for_update()
        .execution_options(populate_existing=True)  # the stock as it is under the lock
    )
    if benefit is None:
        raise LedgerError("unknown_benefit", f"no active benefit {benefit_code!r}")
    points = _checked(ledger, member, benefit, quantity, at)
    spent = ledger.spend(
        member.id,
        "redeem",
        points,
        f"redeem:{request_key}",
        "member",
        reference=benefit.code,
        at=at,
    )
    if benefit.stock is not None:
        benefit.stock -= quantity
    redemption = Redemption(
        member_id=member.id,
        benefit_id=benefit.id,
        quantity=quantity,
        points=points,
        request_key=request_key,
        entry_id=spent.entry.id,
        status="done",
        created_at=at,
    )
    session.add(redemption)
    session.flush()
    days = benefit.voucher_validity_days or config.benefits.voucher_validity_days
    vouchers = [
        Voucher(
            code=voucher_code(),
            redemption_id=redemption.id,
            member_id=member.id,
            benefit_id=benefit.id,
            issued_at=at,
            expires_at=at + timedelta(days=days),
            status="active",
        )
        for _ in range(quantity)
    ]
    session.add_all(vouchers)
    session.flush()
    return Redeemed(redemption, vouchers, created=True)


def quote(ledger: Ledger, member_id: int, benefit_code: str, quantity: int) -> int:
    """The points redeeming would cost now, or the LedgerError `redeem` would raise:
    the same checks, read-only and without locks, so the bot can say no before it
    asks the member to confirm. `redeem` checks again under its locks."""
    if quantity < 1:
        raise LedgerError("bad_quantity", f"quantity must be at least 1, got {quantity}")
    at = ledger.clock()
    member = ledger.session.get(Member, member_id)
    if member is None:
        raise LedgerError("unknown_member", f"no member with id {member_id}")
    benefit = ledger.session.scalar(
        select(Benefit).where(Benefit.code == benefit_code, Benefit.active.is_(True))
    )
    if benefit is None:
        raise LedgerError("unknown_benefit", f"no active benefit {benefit_code!r}")
    points = _checked(ledger, member, benefit, quantity, at)
    refuse_while_in_debt(ledger.debt(member_id))
    balance = ledger.spendable(member_id, at)
    if points > balance:
        raise LedgerError(
            "insufficient_points",
            f"needs {points} points, balance is {balance}",
            needed=points,
            balance=balance,
        )
    return points


def _checked(ledger: Ledger, member: Member, benefit: Benefit, quantity: int, at: datetime) -> int:
    """Tier, stock and the monthly limit; the points it costs."""
    if member.tier not in benefit.tiers:
        raise LedgerError(
            "not_eligible",
            f"{benefit.code} is for tiers {benefit.tiers}",
            tiers=benefit.tiers,
            tier=member.tier,
        )
    if benefit.stock is not None and benefit.stock < quantity:
        raise LedgerError(
            "out_of_stock", f"{benefit.code} has {benefit.stock} left", stock=benefit.stock
        )
    limit = benefit.per_member_limit or ledger.config.benefits.per_member_limit
    used = _redeemed_this_month(ledger, member, benefit, at)
    if used + quantity > limit:
        raise LedgerError(
            "limit_reached",
            f"limit {limit} a month, {used} already redeemed",
            limit=limit,
            used=used,
        )
    return benefit.cost * quantity


def reverse_redemption(ledger: Ledger, redemption_id: int, actor: str, reason: str) -> Redemption:
    """Give the points back to their lots, restock, and void the unused vouchers."""
    session = ledger.session
    redemption = session.get(Redemption, redemption_id)
    if redemption is None:
        raise LedgerError("unknown_redemption", f"no redemption {redemption_id}")
    ledger.lock_account(redemption.member_id)
    session.refresh(redemption)
    if redemption.status == "reversed":
        return redemption
    vouchers = session.scalars(select(Voucher).where(Voucher.redemption_id == redemption.id)).all()
    if any(v.status == "used" for v in vouchers):
        raise LedgerError("voucher_used", "a voucher of this redemption was already used")
    benefit = session.execute(
        select(Benefit)
        .where(Benefit.id == redemption.benefit_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    spent = ledger.entry_for(f"redeem:{redemption.request_key}")
    if spent is None:
        raise LedgerError("unknown_redemption", f"redemption {redemption_id} spent no points")
    ledger.give_back(spent, f"reverse:{redemption.id}", actor, reason)
    if benefit.stock is not None:
        benefit.stock += redemption.quantity
    for voucher in vouchers:
        voucher.status = "void"
    redemption.status = "reversed"
    session.flush()
    return redemption


def _redeemed_this_month(ledger: Ledger, member: Member, benefit: Benefit, at: datetime) -> int:
    local = at.astimezone(ZoneInfo(ledger.config.timezone))
    month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return ledger.session.execute(
        select(func.coalesce(func.sum(Redemption.quantity), 0)).where(
            Redemption.member_id == member.id,
            Redemption.benefit_id == benefit.id,
            Redemption.status == "done",
            Redemption.created_at >= month_start,
        )
    ).scalar_one()
