"""The desk's tests: the demo members, a staff of four, tickets opened the way the conversation opens them, and a recording sender.

The clock is fixed: every use case is given NOW (or a moment relative to it)."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

import pytest
from argon2 import PasswordHasher

from handlers.desk import demo, tickets
from handlers.desk.ticket_lifecycle import Actor
from handlers.ports import Delivery, Outcome, Outgoing
from storage.db import Database
from storage.members import by_number, identity
from storage.models import StaffUser

for _name in ("NO_PROXY", "no_proxy"):  # the fake platform servers live on loopback
    os.environ[_name] = "127.0.0.1,localhost"

NOW = datetime.fromisoformat("2026-06-01T10:00:00+08:00")
PASSWORD = "correct-horse-battery"
# One hash for every test account: argon2 is slow on purpose.
PASSWORD_HASH = PasswordHasher().hash(PASSWORD)
STAFF = [  # username, display name, role, language
    ("amy", "Amy Wang", "agent", "en"),
    ("bob", "Bob Zhao", "agent", "zh"),
    ("sam", "Sam Li", "supervisor", "zh"),
    ("ada", "Ada Admin", "admin", "en"),
]
AMY = Actor("amy", "agent")
BOB = Actor("bob", "agent")
SAM = Actor("sam", "supervisor")
TELEGRAM_CHAT = "424242"


def seed_desk(database: Database, config) -> None:
    """Demo members; the demo member also on Telegram; four staff accounts."""
    demo.seed(database, config, NOW - timedelta(days=1))
    with database.unit_of_work() as session:
        member = by_number(session, "M000001")
        bound = identity(session, "telegram", TELEGRAM_CHAT, NOW - timedelta(days=1))
        bound.member_id, bound.language = member.id, "zh"
        bound.last_inbound_at = NOW - timedelta(minutes=5)
        for username, name, role, language in STAFF:
            session.add(
                StaffUser(
                    username=username,
                    display_name=name,
                    password_hash=PASSWORD_HASH,
                    role=role,
                    language=language,
                    active=True,
                    created_at=NOW - timedelta(days=30),
                )
            )
        session.commit()


@pytest.fixture
def desk(db, config) -> Database:
    seed_desk(db, config)
    return db


def open_ticket(
    database: Database,
    config,
    description: str = "快递五天还没到，太慢了",
    category: str = "delivery_delay",
    member_no: str | None = "M000001",
    channel: str = "telegram",
    external_id: str = TELEGRAM_CHAT,
    at: datetime = NOW,
    order_id: str | None = None,
    kind: str = "complaint",
) -> str:
    """A ticket opened the way the conversation opens one; returns its number."""
    with database.unit_of_work() as session:
        member = by_number(session, member_no) if member_no else None
        chat = identity(session, channel, external_id, at)
        ticket = tickets.open_ticket(
            session,
            config,
            kind=kind,
            category=category,
            description=description,
            at=at,
            member=member,
            identity=chat,
            order_id=order_id,
        )
        session.commit()
        return ticket.number


class RecordingSender:
    """A channel sender that keeps what it was asked to send and answers as told."""

    def __init__(self, channel: str = "telegram", outcome: Outcome = Outcome.SENT):
        self.channel = channel
        self.outcome = outcome
        self.sent: list[Outgoing] = []

    def send(self, message: Outgoing) -> Delivery:
        self.sent.append(message)
        if self.outcome == Outcome.RETRY:
            return Delivery(Outcome.RETRY, "429 too many requests", retry_after=7)
        return Delivery(self.outcome, via="message")


@pytest.fixture
def telegram() -> RecordingSender:
    return RecordingSender()


@pytest.fixture
def senders(telegram) -> dict:
    return {"telegram": telegram}
