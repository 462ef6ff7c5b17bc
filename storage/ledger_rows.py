"""The ledger's statements, in SQLAlchemy Core on the session's connection: each step of
the ledger's template is one statement (or one executemany), built once at import with
bound parameters, so a step costs a round trip and little Python. On PostgreSQL the
writes of an earning and of a spending go in one statement each (storage/ledger_postgres.py).

Rows of these tables the session holds as objects are expired after a write here, so
the next read through the ORM sees what was written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ClauseElement, Row, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage import ledger_postgres
from storage.models import (
    LedgerEntry,
    LotAllocation,
    Member,
    PointsAccount,
    PointsLot,
    TierEvaluation,
)

ACCOUNTS = PointsAccount.__table__
MEMBERS = Member.__table__
ENTRIES = LedgerEntry.__table__
LOTS = PointsLot.__table__
ALLOCATIONS = LotAllocation.__table__
EVALUATIONS = TierEvaluation.__table__
ENTRY_DEFAULTS = {"qualifying": False, "order_id": None, "amount": None}
ENTRY_DEFAULTS |= {"reference": None, "reason": None, "debt": None}

LOCK = (
    select(ACCOUNTS.c.balance, ACCOUNTS.c.debt)
    .where(ACCOUNTS.c.member_id == bindparam("member"))
    .with_for_update()
)
MEMBER = select(
    MEMBERS.c.tier,
    MEMBERS.c.member_no,
    MEMBERS.c.referrer_id,
    MEMBERS.c.last_purchase_at,
    MEMBERS.c.timezone,
    MEMBERS.c.membership_expires,
).where(MEMBERS.c.id == bindparam("member"))
MOVE_BALANCE = (
    update(ACCOUNTS)
    .where(ACCOUNTS.c.member_id == bindparam("member"))
    .values(
        balance=ACCOUNTS.c.balance + bindparam("points"),
        debt=ACCOUNTS.c.debt + bindparam("owed"),
        updated_at=bindparam("at"),
    )
)
UPDATE_MEMBER = update(MEMBERS).where(MEMBERS.c.id == bindparam("member"))  # SET: the params
APPEND = {  # a new entry's id; nothing when its idempotency key was taken before
    name: dialect.insert(ENTRIES)
    .on_conflict_do_nothing(index_elements=["idempotency_key"])
    .returning(ENTRIES.c.id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
SEEN = select(ENTRIES.c.id).where(ENTRIES.c.idempotency_key == bindparam("key"))
EXPIRIES = select(func.count()).where(
    ENTRIES.c.member_id == bindparam("member"),
    ENTRIES.c.kind == "expire",
    ENTRIES.c.reference == bindparam("lot"),
)
EARNED = select(func.coalesce(func.sum(ENTRIES.c.points), 0)).where(
    ENTRIES.c.member_id == bindparam("member"),
    ENTRIES.c.qualifying.is_(True),
    ENTRIES.c.created_at > bindparam("since"),
    ENTRIES.c.created_at <= bindparam("at"),
)
# The member with what they earned towards their tier in the year up to `at`: read after
# the lock, so nothing of theirs can be appended meanwhile.
MEMBER_COLUMNS = len(MEMBER.selected_columns)
MEMBER_EARNING = select(*MEMBER.selected_columns, EARNED.scalar_subquery().label("earned")).where(
    MEMBERS.c.id == bindparam("member")
)
ADD_LOT = insert(LOTS).returning(LOTS.c.id)
DEBT = select(ACCOUNTS.c.debt).where(ACCOUNTS.c.member_id == bindparam("member"))
REFUNDED = select(  # of an order: the amount refunded so far, and the points due for it
    func.coalesce(func.sum(ENTRIES.c.amount), 0),
    -func.coalesce(func.sum(ENTRIES.c.points - func.coalesce(ENTRIES.c.debt, 0)), 0),
).where(ENTRIES.c.kind == "clawback", ENTRIES.c.order_id == bindparam("order"))
OPEN_LOTS = (
    select(LOTS.c.id, LOTS.c.remaining, LOTS.c.expires_at, LOTS.c.earned_at, LOTS.c.entry_id)
    .where(LOTS.c.member_id == bindparam("member"), LOTS.c.remaining > 0)
    .order_by(LOTS.c.expires_at, LOTS.c.id)
)
DUE_LOTS = OPEN_LOTS.where(LOTS.c.expires_at <= bindparam("at"))
DRAW = (
    update(LOTS)
    .where(LOTS.c.id == bindparam("lot"))
    .values(remaining=LOTS.c.remaining - bindparam("take"))
)
ALLOCATE = insert(ALLOCATIONS)
DRAWN_BY = select(ALLOCATIONS.c.lot_id, ALLOCATIONS.c.points).where(
    ALLOCATIONS.c.entry_id == bindparam("entry")
)
SPENDABLE = select(
    ACCOUNTS.c.balance
    - select(func.coalesce(func.sum(LOTS.c.remaining), 0))
    .where(
        LOTS.c.member_id == bindparam("member"),
        LOTS.c.remaining > 0,
        LOTS.c.expires_at <= bindparam("at"),
    )
    .scalar_subquery()
).where(ACCOUNTS.c.member_id == bindparam("member"))
MEMBER_CHANGES = ("tier", "tier_since", "last_purchase_at", "membership_expires")


# What a spending pays for, written in its statement on PostgreSQL (Rows.spend).
Follow = tuple[ClauseElement, dict]


def _year_before(at: datetime) -> datetime:
    """The same instant a year earlier (29 February: the 28th), as relativedelta(years=1)
    would say at a tenth of the cost."""
    try:
        return at.replace(year=at.year - 1)
    except ValueError:
        return at.replace(year=at.year - 1, day=28)


def _entry(account, kind: str, points: int, key: str, at: datetime, actor: str, fields) -> dict:
    """The columns of a new ledger entry."""
    return {
        "member_id": account.member_id, "kind": kind, "points": points,
        "idempotency_key": key, "created_at": at, "actor": actor,
    } | ENTRY_DEFAULTS | fields  # fmt: skip


@dataclass
class Account:
    """The member's account as locked: what the verbs decide on, kept up to date by them."""

    member_id: int
    balance: int
    debt: int  # refunded points that had been spent already: later earnings repay them
    tier: str
    member_no: str
    referrer_id: int | None
    last_purchase_at: datetime | None
    timezone: str | None  # the member's own, if any (core/send_window.member_zone)
    membership_expires: date
    earned: int | None = None  # qualifying points in the year up to the lock's `earning_at`


class Rows:
    def __init__(self, session: Session):
        self.session = session
        dialect = session.get_bind().dialect.name
        self._append = APPEND[dialect]
        self.at_once = dialect == "postgresql"  # the writes of a verb in one statement
        self._driver: ledger_postgres.Driver | None = None

    def run(self, statement, params=None):
        return self.session.connection().execute(statement, params)

    def fetch(self, statement, params: dict) -> list:
        """The rows of a statement of the earning and spending paths: on PostgreSQL run
        on the driver's connection (ledger_postgres.Driver), else through SQLAlchemy."""
        if not self.at_once:
            return self.run(statement, params).all()
        # The session's connection, once per transaction: another after it committed.
        if self._driver is None or self._driver.transaction is not self.session.get_transaction():
            connection = self.session.connection()
            self._driver = ledger_postgres.Driver(connection, self.session.get_transaction())
        return self._driver.fetch(statement, params)

    def forget(self, model, key) -> None:
        """Expire the session's object for this row, if it holds one."""
        if not self.session.identity_map:  # the usual case on the hot paths: none held
            return
        held = self.session.identity_map.get(self.session.identity_key(model, key))
        if held is not None:
            self.session.expire(held)

    # -- the account -------------------------------------------------------------------

    def lock(
        self, member_id: int, earning_at: datetime | None = None, read=None, **params
    ) -> tuple[Account, Row] | None:
        """The account row FOR UPDATE, then the member as committed now (a statement of
        its own: PostgreSQL re-reads only the locked row after waiting for its lock), with
        what they earned in the year up to `earning_at` when given. `read`, a statement
        whose first columns are MEMBER's, reads more in the same statement (its `params`);
        its row comes back beside the account."""
        self.session.flush()  # the caller's pending rows (a member just opened) first
        locked = self.fetch(LOCK, {"member": member_id})
        if not locked:
            return None
        params["member"] = member_id
        if earning_at is not None:
            read = MEMBER_EARNING
            params |= {"since": _year_before(earning_at), "at": earning_at}
        (row,) = self.fetch(MEMBER if read is None else read, params)
        account = Account(member_id, *locked[0], *row[:MEMBER_COLUMNS])
        if earning_at is not None:
            account.earned = row.earned
        return account, row

    def move_balance(self, account: Account, points: int, at: datetime, owed: int = 0) -> None:
        """Balance and debt move by what the entries just appended say."""
        params = {"member": account.member_id, "points": points, "owed": owed, "at": at}
        self.run(MOVE_BALANCE, params)
        self._moved(account, points, owed)

    def _moved(self, account: Account, points: int, owed: int = 0) -> None:
        account.balance += points
        account.debt += owed
        self.forget(PointsAccount, account.member_id)

    def debt(self, member_id: int) -> int:
        return self.run(DEBT, {"member": member_id}).scalar() or 0

    def update_member(self, account: Account, changes: dict) -> None:
        if not changes:
            return
        self.run(UPDATE_MEMBER, {"member": account.member_id} | changes)
        self._changed(account, changes)

    def _changed(self, account: Account, changes: dict) -> None:
        account.tier = changes.get("tier", account.tier)
        account.last_purchase_at = changes.get("last_purchase_at", account.last_purchase_at)
        account.membership_expires = changes.get("membership_expires", account.membership_expires)
        self.forget(Member, account.member_id)

    # -- entries -----------------------------------------------------------------------

    def append(
        self, account: Account, kind: str, points: int, key: str, at: datetime, actor: str,
        **fields,
    ) -> LedgerEntry | None:  # fmt: skip
        """The new entry, or None when its idempotency key was taken before."""
        values = _entry(account, kind, points, key, at, actor, fields)
        entry_id = self.run(self._append, values).scalar()
        return None if entry_id is None else LedgerEntry.written(id=entry_id, **values)

    def append_new(
        self, account: Account, kind: str, points: int, key: str, at: datetime, actor: str,
        **fields,
    ) -> LedgerEntry:  # fmt: skip
        """The new entry of a key the caller found unused under the account's lock."""
        entry = self.append(account, kind, points, key, at, actor, **fields)
        if entry is None:
            raise RuntimeError(f"ledger key {key!r} was taken while the account was locked")
        return entry

    def earn(
        self, account: Account, kind: str, points: int, key: str, at: datetime, actor: str,
        expires_at: datetime | None, changes: dict, **fields,
    ) -> tuple[LedgerEntry, int] | None:  # fmt: skip
        """The new entry and its lot, the balance moved and the member's `changes`
        (tier and tier_since, last_purchase_at, membership_expires) written; None, and
        nothing written, when the idempotency key was taken before."""
        if not self.at_once:
            entry = self.append(account, kind, points, key, at, actor, **fields)
            if entry is None:
                return None
            lot = self.add_lot(entry, at, expires_at)
            self.move_balance(account, points, at)
            self.update_member(account, changes)
            return entry, lot
        values = _entry(account, kind, points, key, at, actor, fields)
        params = values | {"owed": 0, "expires_at": expires_at} | dict.fromkeys(MEMBER_CHANGES)
        written = self.fetch(ledger_postgres.EARN, params | changes)
        if not written:
            return None
        self._moved(account, points)
        if changes:
            self._changed(account, changes)
        return LedgerEntry.written(id=written[0].entry_id, **values), written[0].lot_id

    def spend(
        self, account: Account, kind: str, points: int, key: str, at: datetime, actor: str,
        plan: list[tuple[int, int]], follow: Follow | None = None, **fields,
    ) -> tuple[LedgerEntry, list]:  # fmt: skip
        """The new entry (`points` negative) of a key the caller found unused under the
        account's lock, drawn from the lots of `plan`, the balance moved; with the rows
        of `follow` (PostgreSQL only: a statement continuing ledger_postgres.SPENDING
        whose rows have the entry's id as `entry_id`, and its parameters)."""
        if not self.at_once:
            if follow is not None:
                raise ValueError("only PostgreSQL writes a spending and more in one statement")
            entry = self.append_new(account, kind, points, key, at, actor, **fields)
            self.draw(entry, plan)
            self.move_balance(account, points, at)
            return entry, []
        values = _entry(account, kind, points, key, at, actor, fields)
        lots, takes = [lot for lot, _ in plan], [take for _, take in plan]
        params = values | {"owed": 0, "lots": lots, "takes": takes}
        statement, more = follow or (ledger_postgres.SPEND, {})
        written = self.fetch(statement, params | more)
        if not written:
            raise RuntimeError(f"ledger key {key!r} was taken while the account was locked")
        self._moved(account, points)
        for lot in lots:
            self.forget(PointsLot, lot)
        return LedgerEntry.written(id=written[0].entry_id, **values), written

    def seen(self, key: str) -> bool:
        return self.run(SEEN, {"key": key}).first() is not None

    def entry(self, key: str) -> LedgerEntry | None:
        return self.session.scalar(select(LedgerEntry).where(LedgerEntry.idempotency_key == key))

    def purchase(self, order_id: str) -> LedgerEntry | None:
        """The purchase of an order number, whatever its case: rows written before order
        numbers were upper-cased keep theirs (the first, should an order have earned twice)."""
        return self.session.scalar(
            select(LedgerEntry)
            .where(
                LedgerEntry.kind == "purchase",
                func.upper(LedgerEntry.order_id) == order_id.upper(),
            )
            .order_by(LedgerEntry.id)
            .limit(1)
        )

    def refunded(self, order_id: str) -> tuple[Decimal, int]:
        """The amount of an order refunded so far, and the points due for it."""
        amount, points = self.run(REFUNDED, {"order": order_id}).one()
        return Decimal(amount or 0), int(points or 0)

    def expiries_of(self, member_id: int, lot_id: int) -> int:
        return self.run(EXPIRIES, {"member": member_id, "lot": str(lot_id)}).scalar_one()

    def earned_last_year(self, member_id: int, at: datetime) -> int:
        since = _year_before(at)
        return self.run(EARNED, {"member": member_id, "since": since, "at": at}).scalar_one()

    # -- lots --------------------------------------------------------------------------

    def add_lot(self, entry: LedgerEntry, at: datetime, expires_at: datetime | None) -> int:
        """The new lot's id."""
        return self.run(
            ADD_LOT,
            {
                "member_id": entry.member_id, "entry_id": entry.id, "points": entry.points,
                "remaining": entry.points, "earned_at": at, "expires_at": expires_at,
            },
        ).scalar_one()  # fmt: skip

    def lots_with_points(self, member_id: int) -> list:
        return self.fetch(OPEN_LOTS, {"member": member_id})

    def due_lots(self, member_id: int, at: datetime) -> list:
        return list(self.run(DUE_LOTS, {"member": member_id, "at": at}))

    def draw(self, entry: LedgerEntry, plan: list[tuple[int, int]]) -> None:
        """Take `points` from each lot of the plan (negative: give back), recorded."""
        if not plan:
            return
        self.run(DRAW, [{"lot": lot, "take": take} for lot, take in plan])
        self.run(
            ALLOCATE, [{"entry_id": entry.id, "lot_id": lot, "points": -take} for lot, take in plan]
        )
        for lot, _ in plan:
            self.forget(PointsLot, lot)

    def drawn_by(self, entry_id: int) -> list[tuple[int, int]]:
        return [(lot, points) for lot, points in self.run(DRAWN_BY, {"entry": entry_id})]

    def spendable(self, member_id: int, at: datetime) -> int:
        return self.run(SPENDABLE, {"member": member_id, "at": at}).scalar() or 0

    # -- many members at once (the yearly evaluation, the birthday gift) ---------------

    def lock_many(self, member_ids: list[int]) -> dict[int, tuple[int, str | None]]:
        """The accounts FOR UPDATE in member order; member id -> (debt, time zone)."""
        self.session.flush()
        rows = self.run(
            select(ACCOUNTS.c.member_id, ACCOUNTS.c.debt, MEMBERS.c.timezone)
            .join(MEMBERS, MEMBERS.c.id == ACCOUNTS.c.member_id)
            .where(ACCOUNTS.c.member_id.in_(member_ids))
            .order_by(ACCOUNTS.c.member_id)
            .with_for_update(of=ACCOUNTS)
        )
        return {member_id: (debt, timezone) for member_id, debt, timezone in rows}

    def to_evaluate(self, member_ids: list[int], at: datetime, year: int) -> list:
        """(member id, tier, qualifying points in the year up to `at`) of the members not
        evaluated for `year` yet."""
        earned = (
            select(ENTRIES.c.member_id, func.sum(ENTRIES.c.points).label("points"))
            .where(
                ENTRIES.c.member_id.in_(member_ids),
                ENTRIES.c.qualifying.is_(True),
                ENTRIES.c.created_at > _year_before(at),
                ENTRIES.c.created_at <= at,
            )
            .group_by(ENTRIES.c.member_id)
            .subquery()
        )
        done = select(EVALUATIONS.c.member_id).where(
            EVALUATIONS.c.year == year, EVALUATIONS.c.member_id == MEMBERS.c.id
        )
        return list(
            self.run(
                select(MEMBERS.c.id, MEMBERS.c.tier, func.coalesce(earned.c.points, 0))
                .outerjoin(earned, earned.c.member_id == MEMBERS.c.id)
                .where(MEMBERS.c.id.in_(member_ids), ~done.exists())
                .order_by(MEMBERS.c.id)
            )
        )

    def record_evaluations(self, done: list, at: datetime, year: int) -> None:
        if not done:
            return
        self.run(
            insert(EVALUATIONS),
            [
                {"member_id": e.member_id, "year": year, "tier_before": e.tier_before,
                 "tier_after": e.tier_after, "earned": e.earned, "evaluated_at": at}
                for e in done
            ],
        )  # fmt: skip
        moved = [{"key": e.member_id, "tier": e.tier_after} for e in done if e.moved]
        if moved:
            self.run(
                update(MEMBERS)
                .where(MEMBERS.c.id == bindparam("key"))
                .values(tier=bindparam("tier"), tier_since=at),
                moved,
            )
            for e in moved:
                self.forget(Member, e["key"])

    def append_bonuses(
        self, kind: str, grants: dict[int, str], points: int, reason: str, actor: str,
        at: datetime, expiry: dict[int, datetime | None],
    ) -> int:  # fmt: skip
        """The entries of the keys not seen before, their lots, the balances moved;
        how many were new."""
        if not grants:
            return 0
        seen = set(
            self.run(
                select(ENTRIES.c.idempotency_key).where(
                    ENTRIES.c.idempotency_key.in_(list(grants.values()))
                )
            ).scalars()
        )
        new = [i for i in sorted(grants) if grants[i] not in seen]
        if not new:
            return 0
        entries = [
            {"member_id": i, "kind": kind, "points": points, "idempotency_key": grants[i],
             "created_at": at, "actor": actor} | ENTRY_DEFAULTS | {"reason": reason}
            for i in new
        ]  # fmt: skip
        ids = (
            self.run(insert(ENTRIES).returning(ENTRIES.c.id, sort_by_parameter_order=True), entries)
            .scalars()
            .all()
        )
        self.run(
            insert(LOTS),
            [
                {"member_id": i, "entry_id": e, "points": points, "remaining": points,
                 "earned_at": at, "expires_at": expiry[i]}
                for i, e in zip(new, ids, strict=True)
            ],
        )  # fmt: skip
        self.run(MOVE_BALANCE, [{"member": i, "points": points, "owed": 0, "at": at} for i in new])
        for i in new:
            self.forget(PointsAccount, i)
        return len(new)
