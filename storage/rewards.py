"""Redeeming benefits for vouchers, and reversing a redemption, through the ledger."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, update

from storage.ledger import Ledger, LedgerError
from storage.models import Benefit, Member, Redemption, Voucher

BENEFITS = Benefit.__table__
REDEMPTIONS = Redemption.__table__
VOUCHERS = Voucher.__table__

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
    """Spend points on a benefit; the request key makes a double tap redeem once.

    Under the account lock: one read for the benefit, an earlier redemption of the same
    request and this month's count; the benefit's row is written (and so locked) only
    when its stock is limited, by one conditional decrement."""
    if quantity < 1:
        raise LedgerError("bad_quantity", f"quantity must be at least 1, got {quantity}")
    at = ledger.clock()
    account = ledger.lock(member_id)  # the account row first, then the benefit row
    benefit = _benefit_for(ledger, member_id, benefit_code, request_key, at)
    earlier = benefit.earlier if benefit is not None else _earlier_id(ledger, request_key)
    if earlier is not None:
        return _redeemed_before(ledger, earlier)
    if benefit is None:
        raise LedgerError("unknown_benefit", f"no active benefit {benefit_code!r}")
    points = _checked(ledger.config, account.tier, benefit, quantity, benefit.used)
    lots = ledger.open_lots(account, at)
    ledger.require(account, points)
    if benefit.stock is not None:
        _take_stock(ledger, benefit, quantity)
    spent = ledger.take(
        account, "redeem", points, f"redeem:{request_key}", "member", at, lots,
        reference=benefit.code,
    )  # fmt: skip
    connection = ledger.session.connection()
    redemption = {
        "member_id": member_id, "benefit_id": benefit.id, "quantity": quantity,
        "points": points, "request_key": request_key, "entry_id": spent.entry.id,
        "status": "done", "created_at": at,
    }  # fmt: skip
    redemption["id"] = connection.execute(
        insert(REDEMPTIONS).values(redemption).returning(REDEMPTIONS.c.id)
    ).scalar_one()
    days = benefit.voucher_validity_days or ledger.config.benefits.voucher_validity_days
    vouchers = [
        {
            "code": voucher_code(),
            "redemption_id": redemption["id"],
            "member_id": member_id,
            "benefit_id": benefit.id,
            "issued_at": at,
            "expires_at": at + timedelta(days=days),
            "status": "active",
            "extension_requested_at": None,
        }  # fmt: skip
        for _ in range(quantity)
    ]
    ids = connection.execute(
        insert(VOUCHERS).returning(VOUCHERS.c.id, sort_by_parameter_order=True), vouchers
    ).scalars()
    issued = [Voucher(id=voucher_id, **v) for voucher_id, v in zip(ids, vouchers, strict=True)]
    return Redeemed(Redemption(**redemption), issued, created=True)


def _benefit_for(ledger: Ledger, member_id: int, code: str, request_key: str, at: datetime):
    """The active benefit, with the redemption of this request if there was one and what
    the member redeemed of it this month; None when no such benefit is active."""
    local = at.astimezone(ZoneInfo(ledger.config.timezone))
    month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    used = (
        select(func.coalesce(func.sum(REDEMPTIONS.c.quantity), 0))
        .where(
            REDEMPTIONS.c.member_id == member_id,
            REDEMPTIONS.c.benefit_id == BENEFITS.c.id,
            REDEMPTIONS.c.status == "done",
            REDEMPTIONS.c.created_at >= month_start,
        )
        .scalar_subquery()
    )
    row = select(
        BENEFITS, used.label("used"), _earlier_query(request_key).scalar_subquery().label("earlier")
    ).where(BENEFITS.c.code == code, BENEFITS.c.active.is_(True))
    return ledger.session.connection().execute(row).first()


def _earlier_query(request_key: str):
    return select(REDEMPTIONS.c.id).where(REDEMPTIONS.c.request_key == request_key)


def _earlier_id(ledger: Ledger, request_key: str) -> int | None:
    return ledger.session.connection().execute(_earlier_query(request_key)).scalar()


def _redeemed_before(ledger: Ledger, redemption_id: int) -> Redeemed:
    session = ledger.session
    earlier = session.get(Redemption, redemption_id)
    vouchers = session.scalars(select(Voucher).where(Voucher.redemption_id == earlier.id)).all()
    return Redeemed(earlier, list(vouchers), created=False)


def _take_stock(ledger: Ledger, benefit, quantity: int) -> None:
    """Decrement the stock if enough is left, in one statement: concurrent redemptions of
    the last items queue on the benefit's row and each sees what the one before took."""
    left = (
        ledger.session.connection()
        .execute(
            update(BENEFITS)
            .where(BENEFITS.c.id == benefit.id, BENEFITS.c.stock >= quantity)
            .values(stock=BENEFITS.c.stock - quantity)
            .returning(BENEFITS.c.stock)
        )
        .scalar()
    )
    if left is None:
        stock = (
            ledger.session.connection()
            .execute(select(BENEFITS.c.stock).where(BENEFITS.c.id == benefit.id))
            .scalar_one()
        )
        raise LedgerError("out_of_stock", f"{benefit.code} has {stock} left", stock=stock)
    _forget_benefit(ledger, benefit.id)


def _forget_benefit(ledger: Ledger, benefit_id: int) -> None:
    held = ledger.session.identity_map.get(ledger.session.identity_key(Benefit, benefit_id))
    if held is not None:
        ledger.session.expire(held)


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
    used = _redeemed_this_month(ledger, member, benefit, at)
    points = _checked(ledger.config, member.tier, benefit, quantity, used)
    balance = ledger.spendable(member_id, at)
    if points > balance:
        raise LedgerError(
            "insufficient_points",
            f"needs {points} points, balance is {balance}",
            needed=points,
            balance=balance,
        )
    return points


def _checked(config, tier: str, benefit, quantity: int, used: int) -> int:
    """Tier, stock and the monthly limit (`used` so far); the points it costs."""
    if tier not in benefit.tiers:
        raise LedgerError(
            "not_eligible",
            f"{benefit.code} is for tiers {benefit.tiers}",
            tiers=benefit.tiers,
            tier=tier,
        )
    if benefit.stock is not None and benefit.stock < quantity:
        raise LedgerError(
            "out_of_stock", f"{benefit.code} has {benefit.stock} left", stock=benefit.stock
        )
    limit = benefit.per_member_limit or config.benefits.per_member_limit
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
    ledger.lock(redemption.member_id)
    session.refresh(redemption)
    if redemption.status == "reversed":
        return redemption
    vouchers = session.scalars(select(Voucher).where(Voucher.redemption_id == redemption.id)).all()
    if any(v.status == "used" for v in vouchers):
        raise LedgerError("voucher_used", "a voucher of this redemption was already used")
    spent = ledger.entry_for(f"redeem:{redemption.request_key}")
    if spent is None:
        raise LedgerError("unknown_redemption", f"redemption {redemption_id} spent no points")
    ledger.give_back(spent, f"reverse:{redemption.id}", actor, reason)
    session.connection().execute(
        update(BENEFITS)
        .where(BENEFITS.c.id == redemption.benefit_id, BENEFITS.c.stock.is_not(None))
        .values(stock=BENEFITS.c.stock + redemption.quantity)
    )
    _forget_benefit(ledger, redemption.benefit_id)
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
