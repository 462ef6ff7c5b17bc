"""The desk's tests: migrated databases (all Alembic heads), the demo members, a staff
of four, tickets opened the way the conversation opens them, and a recording sender.

The clock is fixed: every use case is given NOW (or a moment relative to it)."""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.channels.outbound import Delivery, Outcome, Outgoing  # noqa: E402
from handlers import tickets  # noqa: E402
from handlers.ticket_lifecycle import Actor  # noqa: E402
from storage import demo  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.members import by_number, identity  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Base, StaffUser  # noqa: E402

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


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("desk-template") / "memberbot.db"
    upgrade(f"sqlite:///{path}", "heads")
    return path


@pytest.fixture
def sqlite_db(migrated_template, tmp_path) -> Database:
    path = tmp_path / "memberbot.db"
    shutil.copyfile(migrated_template, path)
    database = Database(f"sqlite:///{path}")
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def postgres_url():
    admin_url = os.environ.get("TEST_DATABASE_URL")
    if not admin_url:
        pytest.skip("TEST_DATABASE_URL not set: PostgreSQL tests need a server")
    name = f"memberbot_desk_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    upgrade(url, "heads")
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def postgres_db(postgres_url) -> Database:
    """The session's PostgreSQL database, emptied (migration data included) for each test."""
    database = Database(postgres_url)
    with database.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    yield database
    database.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db(request) -> Database:
    return request.getfixturevalue(f"{request.param}_db")


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
