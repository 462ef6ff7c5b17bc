"""Vouchers at the till and on the desk: look one up, use it once, extend it.

A voucher is used once: the till's use locks the voucher row, so of two simultaneous
uses exactly one succeeds. An expired, used or void voucher is refused with the reason.
Supervisors and admins extend a voucher, on the command line or from the member's
extension request on the workbench (which then resolves the request ticket)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import catalogue, validity
from core.config import Config
from core.send_window import member_zone
from handlers.desk import member_notices
from handlers.desk import ticket_lifecycle as lifecycle
from handlers.desk.staff_accounts import at_least
from handlers.desk.ticket_delivery import Senders, deliver
from handlers.desk.ticket_lifecycle import Actor, TicketError
from storage.db import Database
from storage.models import AuditEvent, Benefit, Member, TicketEvent, Voucher

MAX_EXTENSION_DAYS = 365


class VoucherRefused(Exception):
    """`code`: not_found, used, expired, void (the voucher's state), forbidden, bad_input."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Extended:
    """An extended voucher as staff are told: the last valid day is the one the member's
    message names."""

    code: str
    benefit: str
    member_no: str
    until: date


@dataclass(frozen=True)
class Seen:
    code: str
    status: str  # active, used, expired, void
    benefit: str
    member_no: str
    expires_at: datetime
    used_at: datetime | None
    order_id: str | None
    store: str | None


def status(voucher: Voucher, at: datetime) -> str:
    """What a till sees: an active voucher past its time is expired."""
    if voucher.status == "active" and voucher.expires_at <= at:
        return "expired"
    return voucher.status


def look_up(session: Session, code: str, at: datetime) -> Seen:
    voucher = _find(session, code)
    return Seen(
        code=voucher.code,
        status=status(voucher, at),
        benefit=session.get_one(Benefit, voucher.benefit_id).code,
        member_no=session.get_one(Member, voucher.member_id).member_no,
        expires_at=voucher.expires_at,
        used_at=voucher.used_at,
        order_id=voucher.used_order_id,
        store=voucher.used_store,
    )


def use(db: Database, code: str, order_id: str | None, store: str | None, at: datetime) -> Seen:
    """Use the voucher at the till, once."""
    with db.unit_of_work() as session:
        voucher = _find(session, code, lock=True)
        now_status = status(voucher, at)
        if now_status != "active":
            raise VoucherRefused(now_status, _refusal(voucher, now_status))
        voucher.status, voucher.used_at = "used", at
        voucher.used_order_id, voucher.used_store = order_id, store
        session.flush()
        seen = look_up(session, code, at)
        session.commit()
        return seen


def extend(
    db: Database, config: Config, code: str, days: int, actor: Actor, at: datetime
) -> Extended:
    """Extend a voucher by `days` (command line); the member is told by a service message."""
    with db.unit_of_work() as session:
        voucher = _extended(session, code, days, actor, at)
        until = _tell(session, config, voucher, at)
        seen = look_up(session, code, at)
        session.commit()
        return Extended(seen.code, seen.benefit, seen.member_no, until)


def extend_on_ticket(
    db: Database,
    config: Config,
    senders: Senders,
    ref: str,
    days: int,
    actor: Actor,
    at: datetime,
):
    """The member's extension request granted: extend the voucher, tell the member on
    the ticket's chat, and resolve the ticket."""
    with db.unit_of_work() as session:
        ticket = lifecycle.find(session, ref, lock=True)
        if ticket.voucher_id is None:
            raise TicketError("bad_move", f"ticket {ticket.number} asks for no voucher extension")
        voucher = session.get_one(Voucher, ticket.voucher_id)
        try:
            _extended(session, voucher.code, days, actor, at)
        except VoucherRefused as exc:
            code = "forbidden" if exc.code == "forbidden" else "bad_move"
            raise TicketError(code, str(exc)) from None
        session.add(
            TicketEvent(
                ticket_id=ticket.id,
                kind="voucher_extended",
                actor=actor.username,
                data={"code": voucher.code, "days": days},
                created_at=at,
            )
        )
        member = session.get_one(Member, voucher.member_id)
        message = catalogue.text(
            member.language, "vouchers.extended", **_fields(session, config, voucher, member)
        )
        ticket_id, number, key = ticket.id, ticket.number, _notice_key(voucher)
        session.commit()
    deliver(db, senders, ticket_id, message, key, at)
    return lifecycle.resolve(db, config, senders, number, actor, at, f"+{days} days")


# -- the steps ------------------------------------------------------------------------------


def _find(session: Session, code: str, lock: bool = False) -> Voucher:
    query = select(Voucher).where(Voucher.code == code.strip().upper())
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    voucher = session.scalar(query)
    if voucher is None:
        raise VoucherRefused("not_found", f"no voucher {code.strip().upper()}")
    return voucher


def _refusal(voucher: Voucher, now_status: str) -> str:
    if now_status == "used":
        when = voucher.used_at.isoformat() if voucher.used_at else "before"
        return f"voucher {voucher.code} was used already ({when})"
    if now_status == "expired":
        return f"voucher {voucher.code} expired at {voucher.expires_at.isoformat()}"
    return f"voucher {voucher.code} is void (its redemption was reversed)"


def _extended(session: Session, code: str, days: int, actor: Actor, at: datetime) -> Voucher:
    if not at_least(actor.role, "supervisor"):
        raise VoucherRefused("forbidden", "only supervisors and admins extend vouchers")
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        raise VoucherRefused("bad_input", f"days: give 1 to {MAX_EXTENSION_DAYS}, not {days}")
    voucher = _find(session, code, lock=True)
    if voucher.status in ("used", "void"):
        raise VoucherRefused(voucher.status, _refusal(voucher, voucher.status))
    before = voucher.expires_at
    after = before + timedelta(days=days)
    if after <= at:
        raise VoucherRefused(
            "bad_input",
            f"voucher {voucher.code} expired at {before.isoformat()}: {days} days "
            "would still leave it expired; give more days",
        )
    voucher.expires_at, voucher.extension_requested_at = after, None
    # The member hears of this extension next; an earlier one's notice, still unsent,
    # would name a day that is no longer the last.
    member_notices.supersede(
        session, voucher.member_id, _notice_prefix(voucher), "the voucher was extended again"
    )
    session.add(
        AuditEvent(
            actor=actor.username,
            action="voucher_extended",
            entity="voucher",
            entity_id=voucher.code,
            data={"days": days, "from": before.isoformat(), "to": after.isoformat()},
            created_at=at,
        )
    )
    session.flush()
    return voucher


def _notice_prefix(voucher: Voucher) -> str:
    return f"voucher:{voucher.code}:extended:"


def _notice_key(voucher: Voucher) -> str:
    """One notice per extension, whichever way it was granted: the new expiry is its key."""
    return f"{_notice_prefix(voucher)}{voucher.expires_at.isoformat()}"


def _fields(session: Session, config: Config, voucher: Voucher, member: Member) -> dict:
    """The voucher as the member reads it: its name, code and last valid local day."""
    benefit = session.get_one(Benefit, voucher.benefit_id)
    last_day = validity.last_day(voucher.expires_at, member_zone(member.timezone, config))
    return {"name": benefit.name(member.language), "code": voucher.code, "until": last_day}


def _tell(session: Session, config: Config, voucher: Voucher, at: datetime) -> date:
    """Queue the member's message; the last valid day it names."""
    member = session.get_one(Member, voucher.member_id)
    fields = _fields(session, config, voucher, member)
    member_notices.tell(
        session,
        member,
        "vouchers.extended",
        _notice_key(voucher),
        at,
        **fields,
    )
    return fields["until"]
