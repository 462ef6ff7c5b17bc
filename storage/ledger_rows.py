"""The ledger's statements, in SQLAlchemy Core on the session's connection: each step of
the ledger's template is one statement (or one executemany), with no ORM flush.

Rows of these tables the session holds as objects are expired after a write here, so
the next read through the ORM sees what was written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dateutil.relativedelta import relativedelta
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import LedgerEntry, LotAllocation, Member, PointsAccount, PointsLot

ACCOUNTS = PointsAccount.__table__
MEMBERS = Member.__table__
ENTRIES = LedgerEntry.__table__
LOTS = PointsLot.__table__
ALLOCATIONS = LotAllocation.__table__
ENTRY_DEFAULTS = {"qualifying": False, "order_id": None, "amount": None}
ENTRY_DEFAULTS |= {"reference": None, "reason": None}


@dataclass
class Account:
    """The member's account as locked: what the verbs decide on, kept up to date by them."""

    member_id: int
    balance: int
    tier: str
    member_no: str
    referrer_id: int | None
    last_purchase_at: datetime | None


class Rows:
    def __init__(self, session: Session):
        self.session = session
        dialect = session.get_bind().dialect.name
        self._insert_new = sqlite.insert if dialect == "sqlite" else postgresql.insert

    def _run(self, statement, params=None):
        return self.session.connection().execute(statement, params)

    def _forget(self, model, key) -> None:
        held = self.session.identity_map.get(self.session.identity_key(model, key))
        if held is not None:
            self.session.expire(held)

    # -- the account -------------------------------------------------------------------

    def lock(self, member_id: int) -> Account | None:
        """The account row FOR UPDATE, then the member as committed now (a statement of
        its own: PostgreSQL re-reads only the locked row after waiting for its lock)."""
        self.session.flush()  # the caller's pending rows (a member just opened) first
        balance = self._run(
            select(ACCOUNTS.c.balance).where(ACCOUNTS.c.member_id == member_id).with_for_update()
        ).scalar()
        if balance is None:
            return None
        member = self._run(
            select(
                MEMBERS.c.tier, MEMBERS.c.member_no, MEMBERS.c.referrer_id,
                MEMBERS.c.last_purchase_at,
            ).where(MEMBERS.c.id == member_id)
        ).one()  # fmt: skip
        return Account(member_id, balance, *member)

    def move_balance(self, account: Account, points: int, at: datetime) -> None:
        self._run(
            update(ACCOUNTS)
            .where(ACCOUNTS.c.member_id == account.member_id)
            .values(balance=ACCOUNTS.c.balance + points, updated_at=at)
        )
        account.balance += points
        self._forget(PointsAccount, account.member_id)

    def update_member(self, account: Account, changes: dict) -> None:
        if not changes:
            return
        self._run(update(MEMBERS).where(MEMBERS.c.id == account.member_id).values(changes))
        account.tier = changes.get("tier", account.tier)
        account.last_purchase_at = changes.get("last_purchase_at", account.last_purchase_at)
        self._forget(Member, account.member_id)

    # -- entries -----------------------------------------------------------------------

    def append(
        self, account: Account, kind: str, points: int, key: str, at: datetime, actor: str,
        **fields,
    ) -> LedgerEntry | None:  # fmt: skip
        """The new entry, or None when its idempotency key was taken before."""
        values = {
            "member_id": account.member_id, "kind": kind, "points": points,
            "idempotency_key": key, "created_at": at, "actor": actor,
        } | ENTRY_DEFAULTS | fields  # fmt: skip
        entry_id = self._run(
            self._insert_new(ENTRIES)
            .values(values)
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(ENTRIES.c.id)
        ).scalar()
        return None if entry_id is None else LedgerEntry(id=entry_id, **values)

    def seen(self, key: str) -> bool:
        return (
            self._run(select(ENTRIES.c.id).where(ENTRIES.c.idempotency_key == key)).first()
            is not None
        )

    def entry(self, key: str) -> LedgerEntry | None:
        return self.session.scalar(select(LedgerEntry).where(LedgerEntry.idempotency_key == key))

    def clawed_back(self, order_id: str) -> int:
        return self._run(
            select(func.coalesce(func.sum(ENTRIES.c.points), 0)).where(
                ENTRIES.c.kind == "clawback", ENTRIES.c.order_id == order_id
            )
        ).scalar_one()

    def expiries_of(self, member_id: int, lot_id: int) -> int:
        return self._run(
            select(func.count()).where(
                ENTRIES.c.member_id == member_id,
                ENTRIES.c.kind == "expire",
                ENTRIES.c.reference == str(lot_id),
            )
        ).scalar_one()

    def earned_last_year(self, member_id: int, at: datetime) -> int:
        return self._run(
            select(func.coalesce(func.sum(ENTRIES.c.points), 0)).where(
                ENTRIES.c.member_id == member_id,
                ENTRIES.c.qualifying.is_(True),
                ENTRIES.c.created_at > at - relativedelta(years=1),
                ENTRIES.c.created_at <= at,
            )
        ).scalar_one()

    # -- lots --------------------------------------------------------------------------

    def add_lot(self, entry: LedgerEntry, at: datetime, expires_at: datetime | None) -> None:
        self._run(
            insert(LOTS).values(
                member_id=entry.member_id, entry_id=entry.id, points=entry.points,
                remaining=entry.points, earned_at=at, expires_at=expires_at,
            )
        )  # fmt: skip

    def lots_with_points(self, member_id: int, due_by: datetime | None = None) -> list:
        """The member's lots with points left (only those due by `due_by`, when given)."""
        query = select(
            LOTS.c.id, LOTS.c.remaining, LOTS.c.expires_at, LOTS.c.earned_at, LOTS.c.entry_id
        ).where(LOTS.c.member_id == member_id, LOTS.c.remaining > 0)
        if due_by is not None:
            query = query.where(LOTS.c.expires_at <= due_by)
        return list(self._run(query.order_by(LOTS.c.expires_at, LOTS.c.id)))

    def due_lots(self, member_id: int, at: datetime) -> list:
        return self.lots_with_points(member_id, due_by=at)

    def draw(self, entry: LedgerEntry, plan: list[tuple[int, int]]) -> None:
        """Take `points` from each lot of the plan (negative: give back), recorded."""
        if not plan:
            return
        self._run(
            update(LOTS)
            .where(LOTS.c.id == bindparam("lot"))
            .values(remaining=LOTS.c.remaining - bindparam("take")),
            [{"lot": lot, "take": take} for lot, take in plan],
        )
        self._run(
            insert(ALLOCATIONS),
            [{"entry_id": entry.id, "lot_id": lot, "points": -take} for lot, take in plan],
        )
        for lot, _ in plan:
            self._forget(PointsLot, lot)

    def drawn_by(self, entry_id: int) -> list[tuple[int, int]]:
        allocations = select(ALLOCATIONS.c.lot_id, ALLOCATIONS.c.points)
        return [
            tuple(row) for row in self._run(allocations.where(ALLOCATIONS.c.entry_id == entry_id))
        ]

    def spendable(self, member_id: int, at: datetime) -> int:
        due = (
            select(func.coalesce(func.sum(LOTS.c.remaining), 0))
            .where(LOTS.c.member_id == member_id, LOTS.c.remaining > 0, LOTS.c.expires_at <= at)
            .scalar_subquery()
        )
        balance = select(ACCOUNTS.c.balance - due).where(ACCOUNTS.c.member_id == member_id)
        return self._run(balance).scalar() or 0
