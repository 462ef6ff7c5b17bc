"""Guessing a membership's birthday: counted per membership whichever chats the guesses
come from, and over all memberships; the member hears of it on their own chat."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from bot.engine import Engine
from core import catalogue, payloads
from core.messages import Inbound
from storage.members import by_number
from storage.models import ChatIdentity, FailedAttempt, OutboundMessage
from tests.bot.conftest import SEEDED_AT


def _engine(db, config, parser, seeded, **dialogue):
    config = config.model_copy(update={"dialogue": config.dialogue.model_copy(update=dialogue)})
    return Engine(seeded(db), config, parser, clock=lambda: SEEDED_AT)


def _guess(engine, user: str, member_no: str, birthday: str) -> str:
    pressed = payloads.intent("bind_account", member_no=member_no)
    engine.handle(Inbound("console", user, button=pressed))
    turn = engine.handle(Inbound("console", user, text=birthday))
    return " ".join(r.text for r in turn.replies)


def _bound(engine, member_no: str) -> list[str]:
    with engine.database.unit_of_work(write=False) as session:
        member = by_number(session, member_no)
        return session.scalars(
            select(ChatIdentity.external_id).where(ChatIdentity.member_id == member.id)
        ).all()


def test_rotating_chats_cannot_guess_past_five_failures_on_one_membership(
    sqlite_db, config, parser, seeded
):
    engine = _engine(sqlite_db, config, parser, seeded)
    answers = [_guess(engine, f"guesser-{n}", "M000003", f"1995-03-{n + 1:02d}") for n in range(7)]
    paused = catalogue.text("zh", "binding.number_locked", until="X").split("X")[0]
    assert not any(paused in a for a in answers[:4])
    assert all(paused in a for a in answers[4:])
    right = _guess(engine, "guesser-right", "M000003", "1995-02-14")
    assert paused in right and _bound(engine, "M000003") == []


def test_a_lockout_is_noted_for_the_member_in_the_outbox(sqlite_db, config, parser, seeded):
    engine = _engine(sqlite_db, config, parser, seeded)
    for n in range(5):
        _guess(engine, f"guesser-{n}", "M000001", f"1990-06-{n + 1:02d}")
    with engine.database.unit_of_work(write=False) as session:
        notices = session.scalars(
            select(OutboundMessage.text).where(OutboundMessage.kind == "security_notice")
        ).all()
    assert len(notices) == 1 and "M000001" in notices[0]


def test_guesses_over_all_memberships_pause_binding_for_everyone(sqlite_db, config, parser, seeded):
    engine = _engine(sqlite_db, config, parser, seeded, binding_global_max_failures=3)
    for n, number in enumerate(("M000001", "M000002", "M000003")):
        _guess(engine, f"guesser-{n}", number, "2001-01-01")
    answer = _guess(engine, "honest", "M000003", "1995-02-14")
    assert catalogue.text("zh", "binding.number_locked", until="X").split("X")[0] in answer
    assert _bound(engine, "M000003") == []


@pytest.mark.parametrize("db", ["sqlite", "postgres"], indirect=True)
def test_the_member_is_told_on_their_bound_chat_when_another_chat_binds_their_number(
    db, config, parser, seeded
):
    engine = _engine(db, config, parser, seeded)
    assert "M000001" in _guess(engine, "someone-new", "M000001", "1990-05-20")
    with engine.database.unit_of_work(write=False) as session:
        demo = session.scalar(select(ChatIdentity.id).where(ChatIdentity.external_id == "demo"))
        notice = session.execute(
            select(OutboundMessage.identity_id, OutboundMessage.status, OutboundMessage.text).where(
                OutboundMessage.kind == "security_notice"
            )
        ).one()
    assert notice.identity_id == demo and notice.status == "queued"
    assert "M000001" in notice.text


@pytest.mark.parametrize("db", ["sqlite", "postgres"], indirect=True)
def test_guesses_from_many_chats_at_once_get_no_more_than_five_tries(db, config, parser, seeded):
    """Twenty chats guess at the same moment: the membership's row is locked while the
    failures are counted, so exactly five birthdays are checked and the rest refused."""
    engine = _engine(db, config, parser, seeded)
    for n in range(20):  # each chat is at the birthday step
        pressed = payloads.intent("bind_account", member_no="M000003")
        engine.handle(Inbound("console", f"racer-{n}", button=pressed))
    barrier = threading.Barrier(20)

    def guess(n: int) -> None:
        barrier.wait()
        engine.handle(Inbound("console", f"racer-{n}", text=f"1995-03-{n + 1:02d}"))

    with ThreadPoolExecutor(20) as pool:
        list(pool.map(guess, range(20)))
    with engine.database.unit_of_work(write=False) as session:
        tried = session.scalar(
            select(func.count())
            .select_from(FailedAttempt)
            .where(FailedAttempt.scope == "bind_number", FailedAttempt.subject == "M000003")
        )
    assert tried == 5
