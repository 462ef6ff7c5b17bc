"""What the channels write down: inbound claims (each platform message handled once), the
member's last inbound message (WeChat's 48-hour window), reachability, every send with
its result in the message log, the buttons last offered on a text-only channel, and the
replies a platform put off, queued in the outbox for the dispatcher."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from handlers.ports import Delivery
from schedules.outbox import REPLY, Message, queue
from storage.db import Database, rows_changed
from storage.members import identity
from storage.models import ChatIdentity, MessageLog
from storage.models.channels import ChannelMenu, InboundClaim

# Every message in and every send runs these: Core statements on the tables, built once.
IDENTITIES = ChatIdentity.__table__
CLAIM = insert(InboundClaim.__table__)
THE_IDENTITY = (
    IDENTITIES.c.channel == bindparam("of_channel"),
    IDENTITIES.c.external_id == bindparam("of_user"),
)
CONTACT = (
    update(IDENTITIES)
    .where(*THE_IDENTITY)
    .values(last_inbound_at=bindparam("at"), reachable=True, unreachable_reason=None)
)
NEW_IDENTITY = insert(IDENTITIES).values(
    channel=bindparam("of_channel"),
    external_id=bindparam("of_user"),
    created_at=bindparam("at"),
    last_inbound_at=bindparam("at"),
)
SENT = insert(MessageLog.__table__).values(
    identity_id=select(IDENTITIES.c.id).where(*THE_IDENTITY).scalar_subquery(),
    member_id=select(IDENTITIES.c.member_id).where(*THE_IDENTITY).scalar_subquery(),
    direction="out",
    handler="sender",
)
# The buttons last offered replace the ones before: one upsert per answer with buttons.
MENU: dict[str, Any] = {}
for _name, _dialect in (("sqlite", sqlite), ("postgresql", postgresql)):
    _offer = _dialect.insert(ChannelMenu.__table__)
    MENU[_name] = _offer.on_conflict_do_update(
        index_elements=["channel", "external_id"],
        set_={"buttons": _offer.excluded.buttons, "offered_at": _offer.excluded.offered_at},
    )


def claim_inbound(db: Database, channel: str, key: str, external_id: str, at: datetime) -> bool:
    """Claim a platform message before handling it and note the member's contact (which
    also makes a member who had blocked us reachable again).
    False: someone already claimed it (a platform retry); do nothing with it."""
    contact = {"of_channel": channel, "of_user": external_id, "at": at}
    for _ in range(2):
        try:
            with db.transaction() as conn:
                conn.execute(CLAIM, {"channel": channel, "key": key, "claimed_at": at})
                if not conn.execute(CONTACT, contact).rowcount:
                    conn.execute(NEW_IDENTITY, contact)  # first contact
            return True
        except IntegrityError:
            if is_claimed(db, channel, key):
                return False
            # two first messages of a new user raced to create the identity: once more
    raise RuntimeError(f"cannot claim {channel} message {key}")


def is_claimed(db: Database, channel: str, key: str) -> bool:
    with db.unit_of_work(write=False) as session:
        return session.get(InboundClaim, (channel, key)) is not None


def forget_claims_before(db: Database, before: datetime) -> int:
    """Platforms retry within seconds; claims older than a day only take space."""
    with db.unit_of_work() as session:
        gone = session.execute(delete(InboundClaim).where(InboundClaim.claimed_at < before))
        session.commit()
        return rows_changed(gone)


def _find(session, channel: str, external_id: str) -> ChatIdentity | None:
    return session.scalar(
        select(ChatIdentity).where(
            ChatIdentity.channel == channel, ChatIdentity.external_id == external_id
        )
    )


def last_inbound_at(db: Database, channel: str, external_id: str) -> datetime | None:
    with db.unit_of_work(write=False) as session:
        found = _find(session, channel, external_id)
        return found.last_inbound_at if found else None


def mark_unreachable(
    db: Database, channel: str, external_id: str, reason: str, at: datetime
) -> None:
    with db.unit_of_work() as session:
        ident = identity(session, channel, external_id, at)
        ident.reachable, ident.unreachable_reason = False, reason[:200]
        session.commit()


def mark_reachable(db: Database, channel: str, external_id: str, at: datetime) -> None:
    with db.unit_of_work() as session:
        ident = identity(session, channel, external_id, at)
        ident.reachable, ident.unreachable_reason = True, None
        session.commit()


def record_send(
    db: Database,
    channel: str,
    external_id: str,
    text: str,
    delivery: Delivery,
    at: datetime,
    platform_msg_id: str | None = None,
    offered: list[tuple[str, str]] | None = None,
) -> None:
    """One message-log row (direction "out", handler "sender") per send, with how it
    ended: `sent:passive`, `unreachable:message`, `failed:template` ...; and the buttons
    the text `offered` as the member's menu, in the same transaction."""
    outcome = f"{delivery.outcome}:{delivery.via}" if delivery.via else str(delivery.outcome)
    with db.transaction() as conn:
        conn.execute(
            SENT,
            {
                "of_channel": channel, "of_user": external_id, "channel": channel,
                "external_msg_id": platform_msg_id, "text": text, "outcome": outcome[:30],
                "created_at": at,
            },
        )  # fmt: skip
        if offered:
            _remember(conn, channel, external_id, offered, at)


def remember_menu(
    db: Database, channel: str, external_id: str, buttons: list[tuple[str, str]], at: datetime
) -> None:
    with db.transaction() as conn:
        _remember(conn, channel, external_id, buttons, at)


def _remember(
    conn: Connection, channel: str, external_id: str, buttons: list[tuple[str, str]], at: datetime
) -> None:
    values = {"channel": channel, "external_id": external_id, "buttons": [list(b) for b in buttons],
              "offered_at": at}  # fmt: skip
    conn.execute(MENU[conn.dialect.name], values)


def offered_payload(db: Database, channel: str, external_id: str, number: int) -> str | None:
    """The payload of button `number` (1-based) of the last menu offered to this user."""
    with db.unit_of_work(write=False) as session:
        menu = session.get(ChannelMenu, (channel, external_id))
        if menu is None or not 1 <= number <= len(menu.buttons):
            return None
        return menu.buttons[number - 1][1]


def put_off(
    db: Database,
    channel: str,
    external_id: str,
    key: str,
    messages: list[tuple[str, list[tuple[str, str]]]],
    at: datetime,
    retry_after: float | None,
) -> int:
    """Replies to platform message `key` that the platform put off (a long 429, no
    connection, no store of the send limits answering), queued in order for the chat they
    answer; the dispatcher sends them once the wait is over. Returns how many are new."""
    with db.unit_of_work() as session:
        chat = session.execute(
            select(IDENTITIES.c.id, IDENTITIES.c.member_id).where(
                IDENTITIES.c.channel == channel, IDENTITIES.c.external_id == external_id
            )
        ).first()
        if chat is None:  # claimed messages always have one
            return 0
        due = at + timedelta(seconds=retry_after or 0)
        queued = queue(
            session,
            [
                Message(
                    dedupe_key=f"reply:{channel}:{key}:{number}",
                    member_id=chat.member_id,
                    identity_id=chat.id,
                    channel=channel,
                    kind="reply",
                    category=REPLY,
                    text=text,
                    not_before=due,
                    payload={"buttons": [list(b) for b in buttons]} if buttons else {},
                )
                for number, (text, buttons) in enumerate(messages)
            ],
            at,
        )
        session.commit()
        return queued
