"""Compensation by the rules in config.yml (compensation.rules): an agent grants within
policy, a supervisor approves beyond it; granted points go through the ledger, once per
ticket (ledger key compensation:<ticket id>)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import catalogue
from core.config import Config
from handlers.desk import staff_notices
from handlers.desk.staff_accounts import at_least
from handlers.desk.ticket_delivery import Delivered, Senders, deliver
from handlers.desk.ticket_lifecycle import Actor, TicketError, find, refuse_if_erased
from storage.db import Database
from storage.ledger import Ledger
from storage.models import Compensation, LedgerEntry, Member, Ticket, TicketEvent


@dataclass(frozen=True)
class Policy:
    """What an agent may grant on its own for this ticket; None bounds: nothing."""

    category: str
    basis: str
    min_points: int | None
    max_points: int | None
    order_amount: Decimal | None

    def allows(self, points: int) -> bool:
        if self.min_points is None or self.max_points is None:
            return False
        return self.min_points <= points <= self.max_points


@dataclass(frozen=True)
class Decision:
    status: str  # granted, pending, rejected
    points: int
    within_policy: bool
    notice: Delivered | None = None


# -- rules, free of I/O --------------------------------------------------------------------


def policy_for(config: Config, category: str, order_amount: Decimal | None) -> Policy:
    rule = config.compensation.rules.get(category) or config.compensation.rules.get("other")
    if rule is None:
        return Policy(category, "none", None, None, order_amount)
    if rule.basis == "fixed":
        return Policy(category, "fixed", rule.min_points, rule.max_points, order_amount)
    if order_amount is None:
        return Policy(category, rule.basis, None, None, None)
    low, high = rule.min_percent, rule.max_percent
    if low is None or high is None:  # the config schema requires both for this basis
        raise ValueError(f"compensation rule {category!r} has no min/max percent")
    per_yuan = Decimal(str(config.points.per_yuan))

    def points(percent: float) -> int:
        return math.floor(order_amount * Decimal(str(percent)) / 100 * per_yuan)

    return Policy(category, rule.basis, points(low), points(high), order_amount)


# -- reading -------------------------------------------------------------------------------


def order_amount(session: Session, ticket: Ticket) -> Decimal | None:
    """The ticket's order amount, else the amount of the member's purchase with that order."""
    if ticket.order_amount is not None:
        return Decimal(ticket.order_amount)
    if not ticket.order_id:
        return None
    amount = session.scalar(
        select(LedgerEntry.amount).where(
            LedgerEntry.idempotency_key == f"purchase:{ticket.order_id}",
            LedgerEntry.member_id == ticket.member_id,
        )
    )
    return Decimal(amount) if amount is not None else None


def policy(session: Session, config: Config, ticket: Ticket) -> Policy:
    return policy_for(config, ticket.category, order_amount(session, ticket))


def for_ticket(session: Session, ticket_id: int) -> Compensation | None:
    return session.scalar(select(Compensation).where(Compensation.ticket_id == ticket_id))


# -- use cases -----------------------------------------------------------------------------


def propose(
    db: Database,
    config: Config,
    senders: Senders,
    ref: str,
    points: int,
    reason: str,
    actor: Actor,
    at: datetime,
) -> Decision:
    """Grant now when within policy (or when a supervisor asks); else wait for approval."""
    if points <= 0:
        raise TicketError(
            "bad_input", f"compensation must be a positive number of points, not {points}"
        )
    if not reason.strip():
        raise TicketError("bad_input", "say why the member is compensated")
    with db.unit_of_work() as session:
        ticket = find(session, ref, lock=True)
        if ticket.member_id is None:
            raise TicketError("bad_move", f"ticket {ticket.number} has no member to compensate")
        refuse_if_erased(session, ticket)
        found = for_ticket(session, ticket.id)
        if found is not None and found.status == "granted":
            raise TicketError(
                "bad_move",
                f"ticket {ticket.number} was compensated already ({found.points} points)",
            )
        if found is not None and found.status == "pending":
            raise TicketError(
                "bad_move",
                f"{found.points} points await a supervisor's approval on {ticket.number}",
            )
        within = policy(session, config, ticket).allows(points)
        if found is None:
            found = Compensation(ticket_id=ticket.id, member_id=ticket.member_id)
            session.add(found)
        found.points, found.within_policy, found.reason = points, within, reason.strip()[:500]
        found.requested_by, found.created_at = actor.username, at
        found.status, found.decided_by, found.decided_at = "pending", None, None
        session.add(
            TicketEvent(
                ticket_id=ticket.id,
                kind="compensation_proposed",
                actor=actor.username,
                body=found.reason,
                data={"points": points, "within_policy": within},
                created_at=at,
            )
        )
        if within or at_least(actor.role, "supervisor"):
            balance = _grant(session, config, ticket, found, actor.username, at)
            ticket_id, number, lang = ticket.id, ticket.number, _language(session, ticket)
            session.commit()
            notice = _tell_member(db, senders, ticket_id, number, lang, points, balance, at)
            return Decision("granted", points, within, notice)
        staff_notices.queue(
            session,
            config,
            f"approval:{ticket.id}:{at.isoformat()}",
            "approval",
            ticket,
            at,
            points=points,
            agent=actor.username,
        )
        session.commit()
        return Decision("pending", points, within)


def approve(
    db: Database, config: Config, senders: Senders, ref: str, actor: Actor, at: datetime
) -> Decision:
    _supervisor_only(actor)
    with db.unit_of_work() as session:
        ticket = find(session, ref, lock=True)
        refuse_if_erased(session, ticket)
        found = _pending(session, ticket)
        balance = _grant(session, config, ticket, found, actor.username, at)
        points, within = found.points, found.within_policy
        ticket_id, number, lang = ticket.id, ticket.number, _language(session, ticket)
        session.commit()
    notice = _tell_member(db, senders, ticket_id, number, lang, points, balance, at)
    return Decision("granted", points, within, notice)


def _tell_member(db, senders, ticket_id, number, lang, points, balance, at):
    """The granted points, told once (keyed per ticket) on the member's channel."""
    message = catalogue.text(
        lang, "ticket.compensated", number=number, points=points, balance=balance
    )
    return deliver(db, senders, ticket_id, message, f"ticket:{ticket_id}:compensation", at)


def reject(db: Database, ref: str, actor: Actor, at: datetime, why: str = "") -> Decision:
    _supervisor_only(actor)
    with db.unit_of_work() as session:
        ticket = find(session, ref, lock=True)
        found = _pending(session, ticket)
        found.status, found.decided_by, found.decided_at = "rejected", actor.username, at
        session.add(
            TicketEvent(
                ticket_id=ticket.id,
                kind="compensation_rejected",
                actor=actor.username,
                body=why.strip() or None,
                data={"points": found.points},
                created_at=at,
            )
        )
        session.commit()
        return Decision("rejected", found.points, found.within_policy)


def _grant(session, config, ticket, found: Compensation, actor: str, at: datetime) -> int:
    posted = Ledger(session, config, clock=lambda: at).earn_bonus(
        ticket.member_id,
        "compensation",
        f"compensation:{ticket.id}",
        found.points,
        reason=f"{ticket.number}: {found.reason}",
        actor=actor,
        at=at,
    )
    found.status, found.decided_by, found.decided_at = "granted", actor, at
    found.entry_id = posted.entry.id
    found.points = posted.entry.points
    session.add(
        TicketEvent(
            ticket_id=ticket.id,
            kind="compensation_granted",
            actor=actor,
            data={"points": found.points, "within_policy": found.within_policy},
            created_at=at,
        )
    )
    ticket.updated_at = at
    session.flush()
    return Ledger(session, config).lock(ticket.member_id).balance


def _pending(session: Session, ticket: Ticket) -> Compensation:
    found = for_ticket(session, ticket.id)
    if found is None or found.status != "pending":
        raise TicketError("bad_move", f"no compensation awaits approval on {ticket.number}")
    return found


def _supervisor_only(actor: Actor) -> None:
    if not at_least(actor.role, "supervisor"):
        raise TicketError("forbidden", "only a supervisor approves compensation beyond policy")


def _language(session: Session, ticket: Ticket) -> str:
    member = session.get(Member, ticket.member_id)
    return member.language if member else "zh"
