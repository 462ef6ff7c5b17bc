"""The points ledger: the one write gateway for points, one verb per business operation.

Every verb follows the same template: lock the member's account row, return the earlier
result if the idempotency key was seen, append entries, recompute the cached balance.
The caller's unit of work commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import points as points_rules
from core import tiers
from core.clock import now as clock_now
from core.config import Config
from storage.models import LedgerEntry, LotAllocation, Member, PointsAccount, PointsLot

BONUS_KINDS = {"welcome", "birthday", "referral", "compensation", "opening"}
# A storage bound, not a business rule: the amount column holds 10 digits before the point,
# and the points of any purchase must fit a 32-bit integer column at any tier multiplier.
MAX_PURCHASE_AMOUNT = Decimal("100000000")


class LedgerError(Exception):
    """A points operation the rules refuse; `code` is stable for callers to branch on."""

    def __init__(self, code: str, message: str, **details):
        super().__init__(message)
        self.code = code
        self.details = details


def refuse_while_in_debt(debt: int) -> None:
    """Redemptions wait until the debt of refunded, already spent points is repaid."""
    if debt:
        raise LedgerError(
            "debt_outstanding",
            f"{debt} points of a refunded purchase are to be repaid first",
            debt=debt,
        )


@dataclass(frozen=True)
class Posted:
    entry: LedgerEntry
    created: bool  # False when the idempotency key had been seen: nothing was written


class Ledger:
    def __init__(self, session: Session, config: Config, clock=clock_now):
        self.session = session
        self.config = config
        self.clock = clock

    # -- earning -----------------------------------------------------------------------

    def earn_purchase(
        self,
        member_id: int,
        order_id: str,
        amount: Decimal,
        at: datetime | None = None,
        actor: str = "pos",
    ) -> Posted:
        """Points for a purchase, at the member's tier multiplier, once per order number."""
        at = at or self.clock()
        account, member = self.lock_account(member_id)
        if seen := self.entry_for(f"purchase:{order_id}"):
            return Posted(seen, created=False)
        if not Decimal(amount).is_finite() or not 0 < amount < MAX_PURCHASE_AMOUNT:
            raise LedgerError(
                "bad_amount",
                f"purchase amount must be positive and below {MAX_PURCHASE_AMOUNT}, got {amount}",
            )
        multiplier = self.config.tier(member.tier).multiplier
        points = points_rules.purchase_points(amount, multiplier, self.config)
        first_purchase = member.last_purchase_at is None
        entry = self._append(
            account,
            "purchase",
            points,
            f"purchase:{order_id}",
            at,
            actor,
            qualifying=True,
            order_id=order_id,
            amount=amount,
        )
        self._add_lot(entry, at)
        if member.last_purchase_at is None or at > member.last_purchase_at:
            member.last_purchase_at = at
        self._repay_debt(account, entry, at)
        self._recompute(account, at)
        self._upgrade(member, at)
        if first_purchase and member.referrer_id and self.config.points.referral_multiplier:
            bonus = int(points * self.config.points.referral_multiplier)
            self.earn_bonus(
                member.referrer_id,
                "referral",
                f"referral:{member.id}",
                bonus,
                reason=f"first purchase of {member.member_no}",
                actor="system",
                at=at,
            )
        return Posted(entry, created=True)

    def earn_bonus(
        self,
        member_id: int,
        kind: str,
        key: str,
        points: int,
        reason: str,
        actor: str,
        at: datetime | None = None,
        expires_at: datetime | None = None,
    ) -> Posted:
        """Welcome, birthday, referral, compensation or opening points, once per natural key."""
        if kind not in BONUS_KINDS:
            raise LedgerError("bad_kind", f"unknown bonus kind {kind!r}")
        if points <= 0:
            raise LedgerError("bad_points", f"bonus points must be positive, got {points}")
        at = at or self.clock()
        account, member = self.lock_account(member_id)
        if seen := self.entry_for(key):
            return Posted(seen, created=False)
        entry = self._append(
            account, kind, points, key, at, actor, qualifying=kind == "referral", reason=reason
        )
        self._add_lot(entry, at, expires_at)
        self._repay_debt(account, entry, at)
        self._recompute(account, at)
        if kind == "referral":
            self._upgrade(member, at)
        return Posted(entry, created=True)

    # -- spending ----------------------------------------------------------------------

    def spend(
        self,
        member_id: int,
        kind: str,
        points: int,
        key: str,
        actor: str,
        reference: str,
        at: datetime | None = None,
    ) -> Posted:
        """Take points out, first-to-expire lots first (used by redemption)."""
        at = at or self.clock()
        account, _ = self.lock_account(member_id)
        if seen := self.entry_for(key):
            return Posted(seen, created=False)
        self._expire_due(account, at)
        refuse_while_in_debt(account.debt)
        if points > account.balance:
            raise LedgerError(
                "insufficient_points",
                f"needs {points} points, balance is {account.balance}",
                needed=points,
                balance=account.balance,
            )
        entry = self._append(account, kind, -points, key, at, actor, reference=reference)
        self._draw(entry, points, at)
        self._recompute(account, at)
        return Posted(entry, created=True)

    def give_back(self, spent: LedgerEntry, key: str, actor: str, reason: str) -> Posted:
        """Reverse a spending entry: the points return to the very lots they came from."""
        at = self.clock()
        account, _ = self.lock_account(spent.member_id)
        if seen := self.entry_for(key):
            return Posted(seen, created=False)
        entry = self._append(
            account,
            "reverse",
            -spent.points,
            key,
            at,
            actor,
            reference=str(spent.id),
            reason=reason,
        )
        for allocation in self.session.scalars(
            select(LotAllocation).where(LotAllocation.entry_id == spent.id)
        ):
            lot = self.session.get_one(PointsLot, allocation.lot_id, populate_existing=True)
            lot.remaining += -allocation.points
            self.session.add(
                LotAllocation(entry_id=entry.id, lot_id=lot.id, points=-allocation.points)
            )
        self._recompute(account, at)
        self._expire_due(account, at)  # points given back to a lot past its date expire now
        return Posted(entry, created=True)

    def clawback(self, order_id: str, refund_id: str, amount: Decimal | None, actor: str) -> Posted:
        """Take back the points of a refunded amount of a purchase (None: all that is not
        refunded yet), in proportion, once per refund id; never more than was bought.
        Points already spent cannot be taken: the shortfall becomes a debt that later
        earnings repay first, and redemptions wait until it is repaid."""
        purchase = self.session.scalar(
            select(LedgerEntry).where(LedgerEntry.idempotency_key == f"purchase:{order_id}")
        )
        if purchase is None or purchase.amount is None:
            raise LedgerError("unknown_order", f"no purchase with order number {order_id}")
        at = self.clock()
        account, _ = self.lock_account(purchase.member_id)
        if seen := self.entry_for(f"clawback:{order_id}:{refund_id}"):
            return Posted(seen, created=False)
        bought = Decimal(purchase.amount)
        row = self.session.execute(
            select(
                func.coalesce(func.sum(LedgerEntry.amount), 0),
                -func.coalesce(
                    func.sum(LedgerEntry.points - func.coalesce(LedgerEntry.debt, 0)), 0
                ),
            ).where(LedgerEntry.kind == "clawback", LedgerEntry.order_id == order_id)
        ).one()
        refunded, clawed = Decimal(row[0] or 0), int(row[1] or 0)
        left = bought - refunded
        amount = left if amount is None else Decimal(amount)
        if not amount.is_finite() or amount <= 0 or amount > left:
            raise LedgerError(
                "over_refund",
                f"order {order_id} was bought for {bought} and {refunded} of it refunded "
                f"already: at most {left} can be refunded, not {amount}",
                left=left,
            )
        self._expire_due(account, at)
        due = points_rules.clawback_points(purchase.points, clawed, amount, bought)
        take = min(due, account.balance)
        entry = self._append(
            account,
            "clawback",
            -take,
            f"clawback:{order_id}:{refund_id}",
            at,
            actor,
            qualifying=True,
            order_id=order_id,
            amount=amount,
            reference=refund_id,
            reason=f"refund {refund_id}; due {due}, taken {take}",
            debt=(due - take) or None,
        )
        self._draw(entry, take, at, prefer_entry=purchase.id)
        self._recompute(account, at)
        return Posted(entry, created=True)

    def debt(self, member_id: int) -> int:
        """Points owed from refunds (read-only)."""
        owed = self.session.scalar(
            select(PointsAccount.debt).where(PointsAccount.member_id == member_id)
        )
        return owed or 0

    def spendable(self, member_id: int, at: datetime | None = None) -> int:
        """The balance a spending at `at` could draw on: lots past their date expire
        first (read-only; `spend` decides under the lock)."""
        at = at or self.clock()
        balance = self.session.scalar(
            select(PointsAccount.balance).where(PointsAccount.member_id == member_id)
        )
        due = self.session.execute(
            select(func.coalesce(func.sum(PointsLot.remaining), 0)).where(
                PointsLot.member_id == member_id,
                PointsLot.remaining > 0,
                PointsLot.expires_at <= at,
            )
        ).scalar_one()
        return (balance or 0) - due

    def expire_lots(self, member_id: int, at: datetime | None = None) -> int:
        """Expire the member's due lots: one entry per lot, so a rerun changes nothing."""
        at = at or self.clock()
        account, _ = self.lock_account(member_id)
        return self._expire_due(account, at)

    def adjust(self, member_id: int, points: int, actor: str, reason: str, key: str) -> Posted:
        """A manual correction with who and why; a negative one draws lots like spending."""
        if points == 0:
            raise LedgerError("bad_points", "an adjustment of 0 points changes nothing")
        if not reason.strip():
            raise LedgerError("no_reason", "a manual adjustment needs a reason")
        at = self.clock()
        account, _ = self.lock_account(member_id)
        if seen := self.entry_for(f"adjust:{key}"):
            return Posted(seen, created=False)
        self._expire_due(account, at)
        if -points > account.balance:
            raise LedgerError(
                "insufficient_points",
                f"balance is {account.balance}, cannot remove {-points}",
                needed=-points,
                balance=account.balance,
            )
        entry = self._append(account, "adjust", points, f"adjust:{key}", at, actor, reason=reason)
        if points > 0:
            self._add_lot(entry, at)
            self._repay_debt(account, entry, at)
        else:
            self._draw(entry, -points, at)
        self._recompute(account, at)
        return Posted(entry, created=True)

    # -- tiers -------------------------------------------------------------------------

    def earned_last_year(self, member_id: int, at: datetime) -> int:
        return self.session.execute(
            select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(
                LedgerEntry.member_id == member_id,
                LedgerEntry.qualifying.is_(True),
                LedgerEntry.created_at > at - relativedelta(years=1),
                LedgerEntry.created_at <= at,
            )
        ).scalar_one()

    def evaluate_tier(self, member_id: int, at: datetime | None = None) -> str:
        """The yearly evaluation: the only time a tier may go down."""
        at = at or self.clock()
        _, member = self.lock_account(member_id)
        new = tiers.at_evaluation(self.earned_last_year(member_id, at), self.config)
        if new != member.tier:
            member.tier, member.tier_since = new, at
        return new

    # -- the template's steps ----------------------------------------------------------

    def lock_account(self, member_id: int) -> tuple[PointsAccount, Member]:
        # Always the account row first, then anything else: one lock order, no deadlocks.
        # Rows this session read before the lock may be stale (PostgreSQL reads committed
        # data): what the ledger reads under the lock overwrites them (populate_existing).
        account = self.session.scalar(
            select(PointsAccount)
            .where(PointsAccount.member_id == member_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if account is None:
            raise LedgerError("unknown_member", f"no points account for member id {member_id}")
        return account, self.session.get_one(Member, member_id, populate_existing=True)

    def _expire_due(self, account: PointsAccount, at: datetime) -> int:
        due = self.session.scalars(
            select(PointsLot)
            .where(
                PointsLot.member_id == account.member_id,
                PointsLot.remaining > 0,
                PointsLot.expires_at <= at,
            )
            .order_by(PointsLot.expires_at, PointsLot.id)
            .execution_options(populate_existing=True)
        ).all()
        for lot in due:
            # A reversal can give points back to a lot that has already expired: they
            # expire again, now, in an entry (and under a key) of their own.
            earlier = self.session.execute(
                select(func.count()).where(
                    LedgerEntry.member_id == account.member_id,
                    LedgerEntry.kind == "expire",
                    LedgerEntry.reference == str(lot.id),
                )
            ).scalar_one()
            entry = self._append(
                account,
                "expire",
                -lot.remaining,
                f"expire:lot:{lot.id}" + (f":{earlier + 1}" if earlier else ""),
                at if earlier else lot.expires_at,
                "system",
                reference=str(lot.id),
            )
            self.session.add(LotAllocation(entry_id=entry.id, lot_id=lot.id, points=-lot.remaining))
            lot.remaining = 0
        if due:
            self._recompute(account, at)
        return len(due)

    def entry_for(self, key: str) -> LedgerEntry | None:
        return self.session.scalar(select(LedgerEntry).where(LedgerEntry.idempotency_key == key))

    def _append(self, account, kind, points, key, at, actor, **fields) -> LedgerEntry:
        entry = LedgerEntry(
            member_id=account.member_id,
            kind=kind,
            points=points,
            idempotency_key=key,
            created_at=at,
            actor=actor,
            **fields,
        )
        self.session.add(entry)
        self.session.flush()
        return entry

    def _add_lot(self, entry: LedgerEntry, at: datetime, expires_at: datetime | None = None):
        expiry = expires_at or points_rules.lot_expiry(at, self.config)
        self.session.add(
            PointsLot(
                member_id=entry.member_id,
                entry_id=entry.id,
                points=entry.points,
                remaining=entry.points,
                earned_at=at,
                expires_at=expiry,
            )
        )

    def _draw(self, entry: LedgerEntry, points: int, at: datetime, prefer_entry: int | None = None):
        if points == 0:
            return
        lots = self.session.scalars(
            select(PointsLot)
            .where(
                PointsLot.member_id == entry.member_id,
                PointsLot.remaining > 0,
                (PointsLot.expires_at.is_(None)) | (PointsLot.expires_at > at),
            )
            .execution_options(populate_existing=True)
        ).all()
        by_id = {lot.id: lot for lot in lots}
        preferred = next((lot.id for lot in lots if lot.entry_id == prefer_entry), None)
        plan = points_rules.allocate(
            [
                points_rules.OpenLot(lot.id, lot.remaining, lot.expires_at, lot.earned_at)
                for lot in lots
            ],
            points,
            first=preferred,
        )
        for lot_id, take in plan:
            by_id[lot_id].remaining -= take
            self.session.add(LotAllocation(entry_id=entry.id, lot_id=lot_id, points=-take))

    def _repay_debt(self, account: PointsAccount, earned: LedgerEntry, at: datetime) -> None:
        """Points just earned repay the member's debt first, from the lot they made."""
        repay = min(account.debt, earned.points)
        if repay <= 0:
            return
        entry = self._append(
            account,
            "repay",
            -repay,
            f"repay:{earned.id}",
            at,
            "system",
            qualifying=True,
            reference=str(earned.id),
            debt=-repay,
        )
        self._draw(entry, repay, at, prefer_entry=earned.id)
        account.debt -= repay

    def _recompute(self, account: PointsAccount, at: datetime) -> None:
        self.session.flush()
        sums = self.session.execute(
            select(
                func.coalesce(func.sum(LedgerEntry.points), 0),
                func.coalesce(func.sum(LedgerEntry.debt), 0),
            ).where(LedgerEntry.member_id == account.member_id)
        ).one()
        account.balance, account.debt = int(sums[0] or 0), int(sums[1] or 0)
        account.updated_at = at
        self.session.flush()

    def _upgrade(self, member: Member, at: datetime) -> None:
        new = tiers.after_earning(member.tier, self.earned_last_year(member.id, at), self.config)
        if new != member.tier:
            member.tier, member.tier_since = new, at
