"""Vouchers at the till and on the desk: look one up, use it once, extend it.

A voucher is used once: the till's use locks the voucher row, so of two simultaneous
uses exactly one succeeds. An expired, used or void voucher is refused with the reason.
Supervisors and admins extend a voucher, on the command line or from the member's
extension request on the workbench (which then resolves the request ticket)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import catalogue, validity
from core.config import Config
from core.send_window import member_zone
from core.ticket_rules import OPEN_STATUSES
from handlers.desk import member_notices
from handlers.desk import ticket_lifecycle as lifecycle
from handlers.desk.purchases import order_number
from handlers.desk.staff_accounts import at_least
from handlers.desk.ticket_delivery import Senders, deliver
from handlers.desk.ticket_lifecycle import Actor, TicketError
from storage.db import Database
from storage.models import AuditEvent, Benefit, Member, Ticket, TicketEvent, Voucher

MAX_EXTENSION_DAYS = 365


class VoucherRefused(Exception):
    """`code`: not_found, used, expired, void (the voucher's state), forbidden, bad_input.
    A refused use carries the voucher as `seen`, and `same_order` when it was used by the
    order asking again: a till retrying a use whose answer it lost learns that it worked."""

    def __init__(self, code: str, message: str, seen: Seen | None = None, same_order: bool = False):
        super().__init__(message)
        self.code, self.seen, self.same_order = code, seen, same_order


@dataclass(frozen=True)
class Seen:
    code: str
    status: str  # active, used, expired, void
    benefit: str
    member_no: str
    expires_at: datetime
    valid_until: date  # the last day it is valid in the member's time zone (core/validity)
    used_at: datetime | None
    order_id: str | None
    store: str | None


def status(voucher: Voucher, at: datetime) -> str:
    """What a till sees: an active voucher past its time is expired."""
    if voucher.status == "active" and voucher.expires_at <= at:
        return "expired"
    return voucher.status


def look_up(session: Session, config: Config, code: str, at: datetime) -> Seen:
    return _seen(session, config, _find(session, code), at)


def _seen(session: Session, config: Config, voucher: Voucher, at: datetime) -> Seen:
    member = session.get_one(Member, voucher.member_id)
    return Seen(
        code=voucher.code,
        status=status(voucher, at),
        benefit=session.get_one(Benefit, voucher.benefit_id).code,
        member_no=member.member_no,
        expires_at=voucher.expires_at,
        valid_until=validity.last_day(voucher.expires_at, _zone(config, member)),
        used_at=voucher.used_at,
        order_id=voucher.used_order_id,
        store=voucher.used_store,
    )


def use(
    db: Database,
    config: Config,
    code: str,
    order_id: str | None,
    store: str | None,
    at: datetime,
) -> Seen:
    """Use the voucher at the till, once."""
    order_id = order_number(order_id) if order_id else None
    with db.unit_of_work() as session:
        voucher = _find(session, code, lock=True)
        now_status = status(voucher, at)
        if now_status != "active":
            seen = _seen(session, config, voucher, at)
            zone = _zone(config, session.get_one(Member, voucher.member_id))
            same_order = now_status == "used" and order_id is not None
            same_order = same_order and order_number(seen.order_id or "") == order_id
            raise VoucherRefused(now_status, _refusal(seen, zone, same_order), seen, same_order)
        voucher.status, voucher.used_at = "used", at
        voucher.used_order_id, voucher.used_store = order_id, store
        session.flush()
        seen = _seen(session, config, voucher, at)
        session.commit()
        return seen


def extend(db: Database, config: Config, code: str, days: int, actor: Actor, at: datetime) -> Seen:
    """Extend a voucher by `days` (command line); the member is told by a service message.
    The member's open request to extend it is granted with it: closed, or it stayed in the
    queue, late, while the member had been told the voucher was extended."""
    with db.unit_of_work() as session:
        voucher = _extended(session, config, code, days, actor, at)
        _tell(session, config, voucher, at)
        _close_requests(session, voucher, days, actor, at)
        seen = look_up(session, config, code, at)
        session.commit()
        return seen


def _close_requests(
    session: Session, voucher: Voucher, days: int, actor: Actor, at: datetime
) -> None:
    requests = session.scalars(
        select(Ticket)
        .where(Ticket.voucher_id == voucher.id, Ticket.status.in_(OPEN_STATUSES))
        .with_for_update()
    ).all()
    for ticket in requests:
        _note_extension(session, ticket, voucher, days, actor, at)
        lifecycle.close_now(session, ticket, actor.username, at, "granted on the command line")


def _note_extension(
    session: Session, ticket: Ticket, voucher: Voucher, days: int, actor: Actor, at: datetime
) -> None:
    session.add(
        TicketEvent(
            ticket_id=ticket.id,
            kind="voucher_extended",
            actor=actor.username,
            data={"code": voucher.code, "days": days},
            created_at=at,
        )
    )


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
            _extended(session, config, voucher.code, days, actor, at)
        except VoucherRefused as exc:
            code = "forbidden" if exc.code == "forbidden" else "bad_move"
            raise TicketError(code, str(exc)) from None
        _note_extension(session, ticket, voucher, days, actor, at)
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


def _refusal(seen: Seen, zone: ZoneInfo, same_order: bool = False) -> str:
    """Why the voucher cannot be used, with the day and time the member and the till know."""
    if seen.status == "used":
        when = seen.used_at.astimezone(zone).strftime("%Y-%m-%d %H:%M %z") if seen.used_at else ""
        by = f"order {seen.order_id}" if seen.order_id else ""
        if same_order:
            by = f"this very order {seen.order_id}"
        where = f"store {seen.store}" if seen.store else ""
        details = ", ".join(part for part in (f"on {when}" if when else "", by, where) if part)
        return f"voucher {seen.code} was used already" + (f" ({details})" if details else "")
    if seen.status == "expired":
        return f"voucher {seen.code} has expired: it was valid until {seen.valid_until}"
    return f"voucher {seen.code} is void (its redemption was reversed)"


def _extended(
    session: Session, config: Config, code: str, days: int, actor: Actor, at: datetime
) -> Voucher:
    if not at_least(actor.role, "supervisor"):
        raise VoucherRefused("forbidden", "only supervisors and admins extend vouchers")
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        raise VoucherRefused("bad_input", f"days: give 1 to {MAX_EXTENSION_DAYS}, not {days}")
    voucher = _find(session, code, lock=True)
    seen = _seen(session, config, voucher, at)
    zone = _zone(config, session.get_one(Member, voucher.member_id))
    if voucher.status in ("used", "void"):
        raise VoucherRefused(voucher.status, _refusal(seen, zone), seen)
    before = voucher.expires_at
    # Still the end of a local day, whatever daylight saving does in between.
    after = validity.end_of_day(seen.valid_until + timedelta(days=days), zone)
    if after <= at:
        raise VoucherRefused(
            "bad_input",
            f"voucher {voucher.code} was valid until {seen.valid_until}: {days} days "
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
    until = validity.last_day(voucher.expires_at, _zone(config, member))
    return {"name": benefit.name(member.language), "code": voucher.code, "until": until}


def _zone(config: Config, member: Member) -> ZoneInfo:
    return member_zone(member.timezone, config)


def _tell(session: Session, config: Config, voucher: Voucher, at: datetime) -> None:
    member = session.get_one(Member, voucher.member_id)
    member_notices.tell(
        session,
        member,
        "vouchers.extended",
        _notice_key(voucher),
        at,
        **_fields(session, config, voucher, member),
    )
