"""Member records: opening a membership with its points account, and finding members."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from dateutil.relativedelta import relativedelta
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from core.config import Config
from storage.ledger import Ledger
from storage.models import ChatIdentity, ConsentEvent, Member, PointsAccount

INBOUND_AT = (
    update(ChatIdentity.__table__)
    .where(ChatIdentity.__table__.c.id == bindparam("identity"))
    .values(last_inbound_at=bindparam("at"))
)


def note_inbound(session: Session, identity: ChatIdentity, at: datetime) -> None:
    """When the chat last wrote to us: on every message, so one Core UPDATE rather than
    the ORM's flush of a changed object; the object in the session is kept in step."""
    if identity in session.new:
        identity.last_inbound_at = at
        return
    session.execute(INBOUND_AT, {"identity": identity.id, "at": at})
    set_committed_value(identity, "last_inbound_at", at)


@dataclass(frozen=True)
class NewMember:
    name: str
    phone: str | None
    birthday: date | None
    language: str = "zh"
    marketing_consent: bool = False
    member_no: str | None = None
    join_date: date | None = None
    tier: str | None = None
    referrer_id: int | None = None
    privacy_consent: bool = False  # agreed to keeping their data (given in the chat)


def next_member_no(session: Session) -> str:
    highest = session.scalar(select(func.max(Member.member_no)).where(Member.member_no.like("M%")))
    number = int(highest[1:]) + 1 if highest and highest[1:].isdigit() else 1
    return f"M{number:06d}"


def open_membership(
    session: Session,
    config: Config,
    new: NewMember,
    at: datetime,
    source: str,
    welcome_bonus: bool = True,
) -> Member:
    """A member, their points account, their consent record and (optionally) the welcome bonus."""
    joined = new.join_date or at.astimezone(config.zone).date()
    member = Member(
        member_no=new.member_no or next_member_no(session),
        name=new.name,
        phone=new.phone,
        birthday=new.birthday,
        join_date=joined,
        membership_expires=joined + relativedelta(months=config.membership.term_months),
        tier=new.tier or config.tiers[0].name,
        tier_since=at,
        language=new.language,
        marketing_consent=new.marketing_consent,
        referrer_id=new.referrer_id,
        created_at=at,
    )
    session.add(member)
    session.flush()
    session.add(PointsAccount(member_id=member.id, balance=0, updated_at=at))
    session.add(
        ConsentEvent(
            member_id=member.id,
            kind="marketing",
            granted=new.marketing_consent,
            source=source,
            created_at=at,
        )
    )
    if new.privacy_consent:
        session.add(
            ConsentEvent(
                member_id=member.id, kind="privacy", granted=True, source=source, created_at=at
            )
        )
    session.flush()
    if welcome_bonus and config.points.welcome_bonus:
        Ledger(session, config, clock=lambda: at).earn_bonus(
            member.id,
            "welcome",
            f"welcome:{member.id}",
            config.points.welcome_bonus,
            reason="welcome bonus",
            actor="system",
            at=at,
        )
    return member


class ReferralRefused(ValueError):
    """A referrer that cannot be named; the message says why, for staff or the member."""


def find_referrer(session: Session, member_no: str) -> Member:
    """The member a new member names as their referrer, by member number (chat
    registration and the members import both call this, then pass `referrer_id` in
    NewMember; the ledger pays the referral bonus on the new member's first purchase).
    An erased member refers no one: their number earns nothing any more."""
    referrer = by_number(session, member_no.strip())
    if referrer is None:
        raise ReferralRefused(f"no member {member_no.strip().upper()}")
    if referrer.erased_at is not None:
        raise ReferralRefused(f"{referrer.member_no} was erased and cannot refer anyone")
    return referrer


def by_number(session: Session, member_no: str) -> Member | None:
    return session.scalar(select(Member).where(Member.member_no == member_no.upper()))


def by_phone(session: Session, phone: str) -> Member | None:
    return session.scalar(select(Member).where(Member.phone == phone))


def identity(session: Session, channel: str, external_id: str, at: datetime) -> ChatIdentity:
    """The chat identity for a channel user, created on first contact (unbound)."""
    found = session.scalar(
        select(ChatIdentity).where(
            ChatIdentity.channel == channel, ChatIdentity.external_id == external_id
        )
    )
    if found is None:
        found = ChatIdentity(channel=channel, external_id=external_id, created_at=at)
        session.add(found)
        session.flush()
    return found


def set_marketing_consent(
    session: Session, member: Member, granted: bool, source: str, at: datetime
) -> None:
    member.marketing_consent = granted
    session.add(
        ConsentEvent(
            member_id=member.id, kind="marketing", granted=granted, source=source, created_at=at
        )
    )
