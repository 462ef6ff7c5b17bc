"""The points ledger: the one write gateway for points, one verb per business operation.

Every verb follows the same template: lock the member's account row, return the earlier
result if the idempotency key was seen, append entries, move the cached balance by what
was appended. The caller's unit of work commits.

The steps speak SQLAlchemy Core on the session's connection (storage/ledger_rows.py; on
PostgreSQL those of earning and spending run prepared on its driver connection,
storage/ledger_postgres.py): on PostgreSQL a purchase costs three statements and a look
for the order number in any case, a redemption four (on SQLite six and nine), with no ORM
flush in between. Rows of these
tables that the session already holds are expired after a write, so what the caller reads
next is what the ledger wrote.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Row

from core import membership, tiers
from core import points as points_rules
from core.clock import now as clock_now
from core.config import Config
from core.send_window import member_zone
from core.validity import end_of_day
from storage.ledger_rows import Account, Follow, Rows
from storage.models import LedgerEntry

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
class Evaluated:
    member_id: int
    tier_before: str
    tier_after: str
    earned: int

    @property
    def moved(self) -> bool:
        return self.tier_after != self.tier_before


@dataclass(frozen=True)
class Posted:
    entry: LedgerEntry
    created: bool  # False when the idempotency key had been seen: nothing was written
    written: list = field(default_factory=list)  # the rows of `take`'s `follow`


class Ledger:
    def __init__(self, session, config: Config, clock=clock_now):
        self.session = session
        self.config = config
        self.clock = clock
        self.rows = Rows(session)

    # -- earning -----------------------------------------------------------------------

    def earn_purchase(
        self,
        member_id: int,
        order_id: str,
        amount: Decimal,
        at: datetime | None = None,
        actor: str = "pos",
    ) -> Posted:
        """Points for a purchase, at the member's tier multiplier, once per order number;
        the purchase renews the membership (core/membership.py)."""
        at = at or self.clock()
        account = self.lock(member_id, earning_at=at)
        key = f"purchase:{order_id}"
        earlier = self.rows.purchase(order_id)
        if earlier is not None:
            return Posted(earlier, created=False)
        if not Decimal(amount).is_finite() or not 0 < amount < MAX_PURCHASE_AMOUNT:
            raise LedgerError(
                "bad_amount",
                f"purchase amount must be positive and below {MAX_PURCHASE_AMOUNT}, got {amount}",
            )
        multiplier = self.config.tier(account.tier).multiplier
        points = points_rules.purchase_points(amount, multiplier, self.config)
        zone = self.zone(account.timezone)
        first_purchase = account.last_purchase_at is None
        # What the purchase changes is decided before anything is written, so the writes
        # can go in one statement: the debt it repays counts towards no tier.
        changes = self._upgrade(account, at, points - min(account.debt, points))
        if account.last_purchase_at is None or at > account.last_purchase_at:
            changes["last_purchase_at"] = at
        renewed = membership.renewed(
            account.membership_expires, at.astimezone(zone).date(), self.config
        )
        if renewed != account.membership_expires:
            changes["membership_expires"] = renewed
        posted = self.rows.earn(
            account, "purchase", points, key, at, actor, points_rules.lot_expiry(at, self.config, zone),
            changes, qualifying=True, order_id=order_id, amount=amount,
        )  # fmt: skip
        if posted is None:
            return self._earlier(key)
        entry, lot = posted
        self._repay_debt(account, entry, lot, at)
        if first_purchase and account.referrer_id and self.config.points.referral_multiplier:
            self.earn_bonus(
                account.referrer_id,
                "referral",
                f"referral:{member_id}",
                int(points * self.config.points.referral_multiplier),
                reason=f"first purchase of {account.member_no}",
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
        valid_until: date | None = None,
    ) -> Posted:
        """Welcome, birthday, referral, compensation or opening points, once per natural key;
        `valid_until` sets another last day than the rule's (an opening balance carried over),
        and the lot expires at its end in the member's time zone, as every lot does."""
        if kind not in BONUS_KINDS:
            raise LedgerError("bad_kind", f"unknown bonus kind {kind!r}")
        if points <= 0:
            raise LedgerError("bad_points", f"bonus points must be positive, got {points}")
        at = at or self.clock()
        account = self.lock(member_id)
        entry = self.rows.append(
            account, kind, points, key, at, actor, qualifying=kind == "referral", reason=reason
        )
        if entry is None:
            return self._earlier(key)
        zone = self.zone(account.timezone)
        lot = self.rows.add_lot(
            entry,
            at,
            end_of_day(valid_until, zone)
            if valid_until
            else points_rules.lot_expiry(at, self.config, zone),
        )
        self.rows.move_balance(account, points, at)
        self._repay_debt(account, entry, lot, at)
        if kind == "referral":
            self.rows.update_member(account, self._upgrade(account, at))
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
        account = self.lock(member_id)
        if self.rows.seen(key):
            return self._earlier(key)
        lots = self.open_lots(account, at)
        refuse_while_in_debt(account.debt)
        self.require(account, points)
        return self.take(account, kind, points, key, actor, at, lots, reference=reference)

    def open_lots(self, account: Account, at: datetime) -> list:
        """The lots a spending at `at` may draw on, once the due ones have expired."""
        lots = self.rows.lots_with_points(account.member_id)
        due = [lot for lot in lots if lot.expires_at is not None and lot.expires_at <= at]
        if due:
            self._expire(account, due, at)
        return [lot for lot in lots if lot.expires_at is None or lot.expires_at > at]

    def require(self, account: Account, points: int) -> None:
        if points > account.balance:
            raise LedgerError(
                "insufficient_points",
                f"needs {points} points, balance is {account.balance}",
                needed=points,
                balance=account.balance,
            )

    def take(
        self, account: Account, kind: str, points: int, key: str, actor: str, at: datetime,
        lots: list, follow: Follow | None = None, **fields,
    ) -> Posted:  # fmt: skip
        """The spending entry, drawn from `lots` (open_lots) after `require` said yes.
        On PostgreSQL, `follow` writes what the spending pays for in the same statement:
        its rows come back on `Posted.written`."""
        entry, written = self.rows.spend(
            account, kind, -points, key, at, actor, self._plan(lots, points), follow, **fields
        )
        return Posted(entry, created=True, written=written)

    def give_back(self, spent: LedgerEntry, key: str, actor: str, reason: str) -> Posted:
        """Reverse a spending entry: the points return to the very lots they came from."""
        at = self.clock()
        account = self.lock(spent.member_id)
        entry = self.rows.append(
            account, "reverse", -spent.points, key, at, actor, reference=str(spent.id),
            reason=reason,
        )  # fmt: skip
        if entry is None:
            return self._earlier(key)
        self.rows.draw(entry, self.rows.drawn_by(spent.id))  # negative takes: points return
        self.rows.move_balance(account, -spent.points, at)
        self._expire(account, self.rows.due_lots(account.member_id, at), at)  # given back late
        return Posted(entry, created=True)

    def clawback(self, order_id: str, refund_id: str, amount: Decimal | None, actor: str) -> Posted:
        """Take back the points of a refunded amount of a purchase (None: all that is not
        refunded yet), in proportion, once per refund id; never more than was bought.
        Points already spent cannot be taken: the shortfall becomes a debt that later
        earnings repay first, and redemptions wait until it is repaid."""
        purchase = self.rows.purchase(order_id)
        if purchase is None or purchase.amount is None or purchase.order_id is None:
            raise LedgerError("unknown_order", f"no purchase with order number {order_id}")
        order_id = purchase.order_id  # as stored: the keys of its earlier refunds use it
        at = self.clock()
        account = self.lock(purchase.member_id)
        key = f"clawback:{order_id}:{refund_id}"
        if self.rows.seen(key):
            return self._earlier(key)
        bought = Decimal(purchase.amount)
        refunded, clawed = self.rows.refunded(order_id)
        left = bought - refunded
        amount = left if amount is None else Decimal(amount)
        if left <= 0:
            raise LedgerError(
                "over_refund",
                f"order {order_id} was refunded in full already ({refunded} of {bought})",
                left=left,
            )
        if not amount.is_finite() or amount <= 0 or amount > left:
            raise LedgerError(
                "over_refund",
                f"order {order_id} was bought for {bought} and {refunded} of it refunded "
                f"already: at most {left} can be refunded, not {amount}",
                left=left,
            )
        lots = self.open_lots(account, at)
        due = points_rules.clawback_points(purchase.points, clawed, amount, bought)
        take = min(due, account.balance)
        entry = self.rows.append_new(
            account, "clawback", -take, key, at, actor, qualifying=True, order_id=order_id,
            amount=amount, reference=refund_id,
            reason=f"refund {refund_id}; due {due}, taken {take}", debt=(due - take) or None,
        )  # fmt: skip
        self.rows.draw(entry, self._plan(lots, take, prefer_entry=purchase.id))
        self.rows.move_balance(account, -take, at, owed=due - take)
        return Posted(entry, created=True)

    def debt(self, member_id: int) -> int:
        """Points owed from refunds (read-only)."""
        return self.rows.debt(member_id)

    def spendable(self, member_id: int, at: datetime | None = None) -> int:
        """The balance a spending at `at` could draw on: lots past their date expire
        first (read-only; `spend` decides under the lock)."""
        return self.rows.spendable(member_id, at or self.clock())

    def expire_lots(self, member_id: int, at: datetime | None = None) -> int:
        """Expire the member's due lots: one entry per lot, so a rerun changes nothing."""
        at = at or self.clock()
        account = self.lock(member_id)
        return self._expire(account, self.rows.due_lots(member_id, at), at)

    def adjust(self, member_id: int, points: int, actor: str, reason: str, key: str) -> Posted:
        """A manual correction with who and why; a negative one draws lots like spending."""
        if points == 0:
            raise LedgerError("bad_points", "an adjustment of 0 points changes nothing")
        if not reason.strip():
            raise LedgerError("no_reason", "a manual adjustment needs a reason")
        at = self.clock()
        account = self.lock(member_id)
        if self.rows.seen(f"adjust:{key}"):
            return self._earlier(f"adjust:{key}")
        lots = self.open_lots(account, at)
        if -points > account.balance:
            raise LedgerError(
                "insufficient_points",
                f"balance is {account.balance}, cannot remove {-points}",
                needed=-points,
                balance=account.balance,
            )
        entry = self.rows.append_new(
            account, "adjust", points, f"adjust:{key}", at, actor, reason=reason
        )
        self.rows.move_balance(account, points, at)
        if points > 0:
            lot = self.rows.add_lot(
                entry, at, points_rules.lot_expiry(at, self.config, self.zone(account.timezone))
            )
            self._repay_debt(account, entry, lot, at)
        else:
            self.rows.draw(entry, self._plan(lots, -points))
        return Posted(entry, created=True)

    # -- tiers -------------------------------------------------------------------------

    def earned_last_year(self, member_id: int, at: datetime) -> int:
        return self.rows.earned_last_year(member_id, at)

    def evaluate_tier(self, member_id: int, at: datetime | None = None) -> str:
        """The yearly evaluation of one member (see `evaluate_tiers`)."""
        at = at or self.clock()
        done = self.evaluate_tiers([member_id], at, at.astimezone(self.config.zone).year)
        return done[0].tier_after if done else self.lock(member_id).tier

    def evaluate_tiers(self, member_ids: list[int], at: datetime, year: int) -> list[Evaluated]:
        """The yearly evaluation, the only time a tier may go down: each member's tier
        set from the qualifying points of the 12 months up to `at`, once per member and
        year (tier_evaluations' unique key). Returns the members evaluated now, not those
        evaluated before. Locks the accounts first, in member order, like every verb."""
        if not member_ids:
            return []
        self.rows.lock_many(member_ids)
        done = [
            Evaluated(member_id, tier, tiers.at_evaluation(earned, self.config), earned)
            for member_id, tier, earned in self.rows.to_evaluate(member_ids, at, year)
        ]
        self.rows.record_evaluations(done, at, year)
        return done

    def earn_bonuses(
        self, kind: str, grants: dict[int, str], points: int, reason: str, actor: str, at: datetime
    ) -> int:
        """The same bonus for many members at once (the birthday gift), each once per its
        key (`grants`: member id -> key): the template of `earn_bonus` in set form (lock
        the accounts in member order, append the entries whose keys are new and their lots,
        move each balance). A member in debt goes through `earn_bonus`, which repays it
        first. Returns how many were new. Not for kinds that count towards a tier."""
        if kind not in BONUS_KINDS or kind == "referral":
            raise LedgerError("bad_kind", f"{kind!r} cannot be granted in bulk")
        if points <= 0:
            raise LedgerError("bad_points", f"bonus points must be positive, got {points}")
        locked = self.rows.lock_many(sorted(grants))
        in_debt = [i for i, (debt, _) in locked.items() if debt]
        one_by_one = sum(
            self.earn_bonus(i, kind, grants[i], points, reason, actor, at).created for i in in_debt
        )
        clear = {i: timezone for i, (debt, timezone) in locked.items() if not debt}
        expiry = {
            i: points_rules.lot_expiry(at, self.config, self.zone(timezone))
            for i, timezone in clear.items()
        }
        fresh = self.rows.append_bonuses(
            kind, {i: grants[i] for i in clear}, points, reason, actor, at, expiry
        )
        return fresh + one_by_one

    # -- the template's steps ----------------------------------------------------------

    def zone(self, timezone: str | None) -> ZoneInfo:
        """The member's time zone (their own, else the programme's)."""
        return member_zone(timezone, self.config)

    def lock(self, member_id: int, earning_at: datetime | None = None) -> Account:
        """Always the account row first, then anything else: one lock order, no deadlocks.
        With `earning_at`, also what the member earned towards their tier by then."""
        return self.lock_reading(member_id, earning_at)[0]

    def lock_reading(
        self, member_id: int, earning_at: datetime | None = None, read=None, **params
    ) -> tuple[Account, Row]:
        """`lock`, and with `read` (a statement whose first columns are the member's, see
        Rows.lock) more read after the lock in the same statement: its row."""
        locked = self.rows.lock(member_id, earning_at, read, **params)
        if locked is None:
            raise LedgerError("unknown_member", f"no points account for member id {member_id}")
        return locked

    def entry_for(self, key: str) -> LedgerEntry | None:
        return self.rows.entry(key)

    def _earlier(self, key: str) -> Posted:
        entry = self.rows.entry(key)
        if entry is None:
            raise RuntimeError(f"ledger key {key!r} was seen but has no entry")
        return Posted(entry, created=False)

    def _expire(self, account: Account, due: list, at: datetime) -> int:
        for lot in due:
            # A reversal can give points back to a lot that has already expired: they
            # expire again, now, in an entry (and under a key) of their own.
            earlier = self.rows.expiries_of(account.member_id, lot.id)
            entry = self.rows.append_new(
                account,
                "expire",
                -lot.remaining,
                f"expire:lot:{lot.id}" + (f":{earlier + 1}" if earlier else ""),
                at if earlier else lot.expires_at,
                "system",
                reference=str(lot.id),
            )
            self.rows.draw(entry, [(lot.id, lot.remaining)])
        if due:
            self.rows.move_balance(account, -sum(lot.remaining for lot in due), at)
        return len(due)

    def _repay_debt(self, account: Account, earned: LedgerEntry, lot: int, at: datetime) -> int:
        """Points just earned repay the member's debt first, from the lot they made; the
        points repaid."""
        repay = min(account.debt, earned.points)
        if repay <= 0:
            return 0
        entry = self.rows.append_new(
            account, "repay", -repay, f"repay:{earned.id}", at, "system", qualifying=True,
            reference=str(earned.id), debt=-repay,
        )  # fmt: skip
        self.rows.draw(entry, [(lot, repay)])
        self.rows.move_balance(account, -repay, at, owed=-repay)
        return repay

    @staticmethod
    def _plan(lots: list, points: int, prefer_entry: int | None = None) -> list[tuple[int, int]]:
        preferred = next((lot.id for lot in lots if lot.entry_id == prefer_entry), None)
        open_lots = [
            points_rules.OpenLot(lot.id, lot.remaining, lot.expires_at, lot.earned_at)
            for lot in lots
        ]
        return points_rules.allocate(open_lots, points, first=preferred) if points else []

    def _upgrade(self, account: Account, at: datetime, earning: int = 0) -> dict:
        """The tier after `earning` qualifying points (already appended) at `at`."""
        if account.tier == self.config.tiers[-1].name:
            return {}  # the top tier: nothing to count
        if account.earned is not None:  # counted under the lock, before the new entry
            earned = account.earned + earning
        else:
            earned = self.earned_last_year(account.member_id, at)
        new = tiers.after_earning(account.tier, earned, self.config)
        return {"tier": new, "tier_since": at} if new != account.tier else {}
