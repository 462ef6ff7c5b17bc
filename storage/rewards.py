"""Redeeming benefits for vouchers, and reversing a redemption, through the ledger."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, func, insert, select, text, update

from core.validity import end_of_day
from storage import ledger_postgres
from storage.ledger import Ledger, LedgerError, refuse_while_in_debt
from storage.ledger_rows import MEMBER, MEMBERS
from storage.models import Benefit, Member, Redemption, Voucher
from storage.models.base import UTCDateTime

BENEFITS = Benefit.__table__
REDEMPTIONS = Redemption.__table__
VOUCHERS = Voucher.__table__

# No 0/O or 1/I: members read codes aloud to cashiers.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

EARLIER = select(REDEMPTIONS.c.id).where(REDEMPTIONS.c.request_key == bindparam("request"))
USED_THIS_MONTH = (
    select(func.coalesce(func.sum(REDEMPTIONS.c.quantity), 0))
    .where(
        REDEMPTIONS.c.member_id == bindparam("member"),
        REDEMPTIONS.c.benefit_id == BENEFITS.c.id,
        REDEMPTIONS.c.status == "done",
        REDEMPTIONS.c.created_at >= bindparam("month_start"),
    )
    .scalar_subquery()
)
# Read after the account's lock, in one statement: the member, the active benefit (its
# columns NULL when there is none), what the member redeemed of it this month, and the
# redemption of this request if there was one.
BENEFIT = (
    select(
        *MEMBER.selected_columns,
        *(BENEFITS.c[name] for name in ("id", "code", "cost", "stock", "tiers")),
        BENEFITS.c.per_member_limit,
        BENEFITS.c.voucher_validity_days,
        USED_THIS_MONTH.label("used"),
        EARLIER.scalar_subquery().label("earlier"),
    )
    .select_from(
        MEMBERS.outerjoin(
            BENEFITS, and_(BENEFITS.c.code == bindparam("code"), BENEFITS.c.active.is_(True))
        )
    )
    .where(MEMBERS.c.id == bindparam("member"))
)
TAKE_STOCK = (
    update(BENEFITS)
    .where(BENEFITS.c.id == bindparam("benefit"), BENEFITS.c.stock >= bindparam("quantity"))
    .values(stock=BENEFITS.c.stock - bindparam("quantity"))
    .returning(BENEFITS.c.stock)
)
RESTOCK = (
    update(BENEFITS)
    .where(BENEFITS.c.id == bindparam("benefit"), BENEFITS.c.stock.is_not(None))
    .values(stock=BENEFITS.c.stock + bindparam("quantity"))
)
STOCK = select(BENEFITS.c.stock).where(BENEFITS.c.id == bindparam("benefit"))
ADD_REDEMPTION = insert(REDEMPTIONS).returning(REDEMPTIONS.c.id)
ISSUE = insert(VOUCHERS).returning(VOUCHERS.c.id, sort_by_parameter_order=True)
# On PostgreSQL the spending (ledger_postgres.SPENDING), the redemption and its vouchers
# go in one statement.
REDEEM = text(
    ledger_postgres.SPENDING
    + """, redemption AS (
    INSERT INTO redemptions (member_id, benefit_id, quantity, points, request_key, entry_id,
        status, created_at)
    SELECT :member_id, :benefit_id, :quantity, :cost, :request_key, entry.id, 'done',
        :created_at
    FROM entry
    RETURNING id
)
INSERT INTO vouchers (code, redemption_id, member_id, benefit_id, issued_at, expires_at, status)
SELECT issued.code, redemption.id, :member_id, :benefit_id, :created_at, :expires_at, 'active'
FROM redemption, unnest(CAST(:codes AS varchar[])) AS issued (code)
RETURNING (SELECT id FROM entry) AS entry_id, redemption_id, id, code"""
).bindparams(*ledger_postgres.TYPES, bindparam("expires_at", type_=UTCDateTime))


@dataclass(frozen=True)
class Redeemed:
    redemption: Redemption
    vouchers: list[Voucher]
    created: bool


def voucher_code() -> str:
    # 32 letters: a random byte modulo 32 picks each one uniformly.
    raw = "".join(CODE_ALPHABET[byte % 32] for byte in secrets.token_bytes(10))
    return f"{raw[:5]}-{raw[5:]}"


def redeem(
    ledger: Ledger, member_id: int, benefit_code: str, quantity: int, request_key: str
) -> Redeemed:
    """Spend points on a benefit; the request key makes a double tap redeem once.

    Under the account lock: one read for the benefit, this month's count and an earlier
    redemption of the same request; the benefit's row is written (and so locked) only
    when its stock is limited, by one conditional decrement."""
    if quantity < 1:
        raise LedgerError("bad_quantity", f"quantity must be at least 1, got {quantity}")
    at = ledger.clock()
    rows = ledger.rows
    local = at.astimezone(ZoneInfo(ledger.config.timezone))
    month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    account, benefit = ledger.lock_reading(  # the account row first, then the benefit row
        member_id, read=BENEFIT, code=benefit_code, month_start=month_start, request=request_key
    )
    if benefit.earlier is not None:
        return _redeemed_before(ledger, benefit.earlier)
    if benefit.id is None:
        raise LedgerError("unknown_benefit", f"no active benefit {benefit_code!r}")
    points = _checked(ledger.config, account.tier, benefit, quantity, benefit.used)
    lots = ledger.open_lots(account, at)
    refuse_while_in_debt(account.debt)
    ledger.require(account, points)
    if benefit.stock is not None:
        _take_stock(ledger, benefit, quantity)
    days = benefit.voucher_validity_days or ledger.config.benefits.voucher_validity_days
    # Valid through the day `days` after the day of issue, member local time.
    zone = ledger.zone(account.timezone)
    expires_at = end_of_day(at.astimezone(zone).date() + timedelta(days=days), zone)
    codes = [voucher_code() for _ in range(quantity)]
    redemption = {
        "member_id": member_id, "benefit_id": benefit.id, "quantity": quantity,
        "points": points, "request_key": request_key, "status": "done", "created_at": at,
    }  # fmt: skip
    follow = None
    if rows.at_once:  # the redemption and its vouchers in the spending's statement
        follow = (REDEEM, {
            "benefit_id": benefit.id, "quantity": quantity, "cost": points,
            "request_key": request_key, "codes": codes, "expires_at": expires_at,
        })  # fmt: skip
    spent = ledger.take(
        account, "redeem", points, f"redeem:{request_key}", "member", at, lots, follow,
        reference=benefit.code,
    )  # fmt: skip
    redemption["entry_id"] = spent.entry.id
    if spent.written:
        redemption["id"] = spent.written[0].redemption_id
        ids = {row.code: row.id for row in spent.written}
    else:
        redemption["id"], ids = _issue(rows, redemption, codes, expires_at)
    issued = [
        Voucher.written(
            id=ids[code],
            code=code,
            redemption_id=redemption["id"],
            member_id=member_id,
            benefit_id=benefit.id,
            issued_at=at,
            expires_at=expires_at,
            status="active",
            extension_requested_at=None,
        )  # fmt: skip
        for code in codes
    ]
    return Redeemed(Redemption.written(**redemption), issued, created=True)


def _issue(rows, redemption: dict, codes: list[str], expires_at) -> tuple[int, dict[str, int]]:
    """Write the redemption and its vouchers (SQLite; on PostgreSQL REDEEM writes them
    with the spending): (the redemption's id, voucher id by code)."""
    redemption_id = rows.run(ADD_REDEMPTION, redemption).scalar_one()
    vouchers = [
        {"code": code, "redemption_id": redemption_id, "member_id": redemption["member_id"],
         "benefit_id": redemption["benefit_id"], "issued_at": redemption["created_at"],
         "expires_at": expires_at, "status": "active"}
        for code in codes
    ]  # fmt: skip
    return redemption_id, dict(zip(codes, rows.run(ISSUE, vouchers).scalars(), strict=True))


def _redeemed_before(ledger: Ledger, redemption_id: int) -> Redeemed:
    session = ledger.session
    earlier = session.get(Redemption, redemption_id)
    vouchers = session.scalars(select(Voucher).where(Voucher.redemption_id == earlier.id)).all()
    return Redeemed(earlier, list(vouchers), created=False)


def _take_stock(ledger: Ledger, benefit, quantity: int) -> None:
    """Decrement the stock if enough is left, in one statement: concurrent redemptions of
    the last items queue on the benefit's row and each sees what the one before took."""
    params = {"benefit": benefit.id, "quantity": quantity}
    if ledger.rows.run(TAKE_STOCK, params).scalar() is None:
        stock = ledger.rows.run(STOCK, params).scalar_one()
        raise LedgerError("out_of_stock", f"{benefit.code} has {stock} left", stock=stock)
    ledger.rows.forget(Benefit, benefit.id)


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
    ledger.rows.run(RESTOCK, {"benefit": redemption.benefit_id, "quantity": redemption.quantity})
    ledger.rows.forget(Benefit, redemption.benefit_id)
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
