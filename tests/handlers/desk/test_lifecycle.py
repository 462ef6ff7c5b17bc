"""The ticket lifecycle on the staff side, with a fixed clock."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from handlers.desk import ticket_lifecycle as lifecycle
from handlers.desk.ticket_lifecycle import TicketError
from handlers.ports import Outcome
from storage.models import (
    ChatIdentity,
    ConversationState,
    OutboundMessage,
    StaffAlert,
    StaffUser,
    Ticket,
    TicketEvent,
)
from tests.handlers.desk.conftest import (
    AMY,
    BOB,
    NOW,
    SAM,
    TELEGRAM_CHAT,
    RecordingSender,
    open_ticket,
)


def _ticket(db, number) -> Ticket:
    with db.unit_of_work(write=False) as session:
        found = lifecycle.find(session, number)
        session.expunge(found)
        return found


def _events(db, number) -> list[tuple[str, str]]:
    with db.unit_of_work(write=False) as session:
        ticket = lifecycle.find(session, number)
        return [
            (e.kind, e.actor)
            for e in session.scalars(
                select(TicketEvent)
                .where(TicketEvent.ticket_id == ticket.id)
                .order_by(TicketEvent.id)
            )
        ]


def test_assigning_a_new_ticket_marks_it_assigned_and_records_who_did_it(desk, config):
    number = open_ticket(desk, config)
    lifecycle.assign(desk, number, "bob", SAM, NOW)
    ticket = _ticket(desk, number)
    assert ticket.status == "assigned"
    assert ("assigned", "sam") in _events(desk, number)


def test_unassigning_puts_an_assigned_ticket_back_in_the_queue(desk, config):
    number = open_ticket(desk, config)
    lifecycle.assign(desk, number, "bob", SAM, NOW)
    lifecycle.assign(desk, number, None, SAM, NOW + timedelta(minutes=1))
    ticket = _ticket(desk, number)
    assert (ticket.status, ticket.assignee_id) == ("new", None)


def test_assigning_to_someone_who_is_not_staff_is_refused(desk, config):
    number = open_ticket(desk, config)
    with pytest.raises(TicketError, match="no active staff member"):
        lifecycle.assign(desk, number, "mallory", SAM, NOW)


def test_a_reply_reaches_the_member_through_their_channel_and_stops_the_response_clock(
    desk, config, senders, telegram
):
    number = open_ticket(desk, config)
    answered_at = NOW + timedelta(minutes=30)
    result = lifecycle.reply(
        desk, config, senders, number, "您好，我们正在催快递", AMY, answered_at
    )
    assert result.status == "sent"
    [message] = telegram.sent
    assert message.external_id == TELEGRAM_CHAT
    assert "您好，我们正在催快递" in message.text
    assert message.kind == "ticket_update"
    ticket = _ticket(desk, number)
    assert ticket.first_responded_at == answered_at
    assert ticket.status == "waiting_member"  # the reply waits for the member's answer
    with desk.unit_of_work(write=False) as session:
        amy = session.scalar(select(StaffUser.id).where(StaffUser.username == "amy"))
        outbox = session.execute(
            select(OutboundMessage.status, OutboundMessage.channel, OutboundMessage.category)
        ).one()
    assert ticket.assignee_id == amy  # the one who answered takes an unassigned ticket
    assert tuple(outbox) == ("sent", "telegram", "service")


def test_a_second_reply_does_not_move_the_first_response_time(desk, config, senders):
    number = open_ticket(desk, config)
    lifecycle.reply(desk, config, senders, number, "first", AMY, NOW + timedelta(minutes=10))
    lifecycle.reply(desk, config, senders, number, "second", AMY, NOW + timedelta(minutes=20))
    assert _ticket(desk, number).first_responded_at == NOW + timedelta(minutes=10)


def test_a_reply_the_platform_rate_limits_stays_queued_for_the_dispatcher(desk, config):
    busy = RecordingSender(outcome=Outcome.RETRY)
    number = open_ticket(desk, config)
    result = lifecycle.reply(desk, config, {"telegram": busy}, number, "hello", AMY, NOW)
    assert result.status == "queued"
    with desk.unit_of_work(write=False) as session:
        status, not_before = session.execute(
            select(OutboundMessage.status, OutboundMessage.not_before)
        ).one()
    assert status == "queued"
    assert not_before == NOW + timedelta(seconds=7)  # the platform's retry_after


def test_a_reply_on_a_channel_without_a_sender_here_is_queued_not_lost(desk, config):
    number = open_ticket(desk, config)
    result = lifecycle.reply(desk, config, {}, number, "hello", AMY, NOW)
    assert result.status == "queued"
    with desk.unit_of_work(write=False) as session:
        assert session.scalar(select(OutboundMessage.status)) == "queued"


def test_a_reply_to_a_member_who_blocked_the_bot_is_recorded_but_not_sent(desk, config, senders):
    number = open_ticket(desk, config)
    with desk.unit_of_work() as session:
        chat = session.scalar(select(ChatIdentity).where(ChatIdentity.external_id == TELEGRAM_CHAT))
        chat.reachable, chat.unreachable_reason = False, "403 blocked"
        session.commit()
    result = lifecycle.reply(desk, config, senders, number, "hello", AMY, NOW)
    assert result.status == "unreachable"
    assert senders["telegram"].sent == []
    assert ("reply", "amy") in _events(desk, number)


def test_a_closed_ticket_is_answered_only_after_it_is_reopened(desk, config, senders):
    number = open_ticket(desk, config)
    lifecycle.change_status(desk, number, "closed", SAM, NOW)
    with pytest.raises(TicketError, match="reopen it to reply"):
        lifecycle.reply(desk, config, senders, number, "hello", AMY, NOW)
    lifecycle.reopen(desk, config, number, SAM, NOW + timedelta(hours=1), "member wrote again")
    assert lifecycle.reply(desk, config, senders, number, "hello", AMY, NOW).status == "sent"


def test_status_changes_follow_the_lifecycle(desk, config):
    number = open_ticket(desk, config)
    lifecycle.change_status(desk, number, "waiting_member", AMY, NOW)
    lifecycle.change_status(desk, number, "in_progress", AMY, NOW)
    with pytest.raises(TicketError, match="cannot become new"):
        lifecycle.change_status(desk, number, "new", AMY, NOW)
    with pytest.raises(TicketError, match="use resolve"):
        lifecycle.change_status(desk, number, "resolved", AMY, NOW)
    with pytest.raises(TicketError, match="status 'lost'"):
        lifecycle.change_status(desk, number, "lost", AMY, NOW)


def test_staff_correct_the_category_the_bot_guessed(desk, config):
    number = open_ticket(desk, config, category="other")
    lifecycle.correct_category(desk, config, number, "product_quality", BOB, NOW)
    assert _ticket(desk, number).category == "product_quality"
    with desk.unit_of_work(write=False) as session:
        event = session.execute(
            select(TicketEvent.actor, TicketEvent.data).where(TicketEvent.kind == "category")
        ).one()
    assert tuple(event) == ("bob", {"before": "other", "to": "product_quality"})


def test_a_category_not_in_the_configuration_is_refused(desk, config):
    number = open_ticket(desk, config)
    with pytest.raises(TicketError, match="category 'weather'"):
        lifecycle.correct_category(desk, config, number, "weather", BOB, NOW)


def test_an_internal_note_is_kept_on_the_ticket_and_never_sent(desk, config, senders, telegram):
    number = open_ticket(desk, config)
    lifecycle.add_note(desk, number, "courier says Thursday", AMY, NOW)
    assert telegram.sent == []
    assert ("note", "amy") in _events(desk, number)


def test_resolving_hands_the_chat_back_to_the_bot_and_asks_for_a_rating(
    desk, config, senders, telegram
):
    number = open_ticket(desk, config, kind="handoff", category="other")
    with desk.unit_of_work() as session:
        ticket = lifecycle.find(session, number)
        session.add(
            ConversationState(
                identity_id=ticket.identity_id, owner="staff", ticket_id=ticket.id, updated_at=NOW
            )
        )
        session.commit()
    result = lifecycle.resolve(desk, config, senders, number, AMY, NOW + timedelta(hours=2))
    assert result.status == "sent"
    ticket = _ticket(desk, number)
    assert (ticket.status, ticket.resolved_at) == ("resolved", NOW + timedelta(hours=2))
    with desk.unit_of_work(write=False) as session:
        state = session.get(ConversationState, ticket.identity_id)
        assert (state.owner, state.ticket_id) == ("bot", None)
    [ask] = telegram.sent
    assert number in ask.text and "1 到 5" in ask.text
    assert [title for title, _ in ask.buttons] == ["1", "2", "3", "4", "5"]
    assert ask.buttons[4][1] == f"i:rate_ticket:ticket_id={number}:rating=5"
    assert all(len(payload.encode()) <= 64 for _, payload in ask.buttons)


def test_every_change_is_an_event_with_its_actor(desk, config, senders):
    number = open_ticket(desk, config)
    lifecycle.assign(desk, number, "amy", SAM, NOW)
    lifecycle.reply(desk, config, senders, number, "on it", AMY, NOW)
    lifecycle.add_note(desk, number, "called courier", AMY, NOW)
    lifecycle.resolve(desk, config, senders, number, AMY, NOW)
    assert _events(desk, number) == [
        ("opened", "member"),
        ("transcript", "bot"),
        ("assigned", "sam"),
        ("status", "amy"),  # a reply makes the ticket wait for the member
        ("reply", "amy"),
        ("note", "amy"),
        ("resolved", "amy"),
    ]


def test_a_good_rating_closes_the_ticket(desk, config, senders):
    number = open_ticket(desk, config)
    lifecycle.resolve(desk, config, senders, number, AMY, NOW)
    rated = lifecycle.rate(desk, config, number, 4, NOW + timedelta(minutes=5))
    assert (rated.rating, rated.reopened) == (4, False)
    ticket = _ticket(desk, number)
    assert (ticket.status, ticket.rating) == ("closed", 4)


def test_a_rating_of_two_reopens_the_ticket_and_hands_it_to_a_supervisor(desk, config, senders):
    number = open_ticket(desk, config)
    lifecycle.assign(desk, number, "amy", SAM, NOW)
    lifecycle.resolve(desk, config, senders, number, AMY, NOW)
    later = NOW + timedelta(hours=1)
    rated = lifecycle.rate(desk, config, number, 2, later)
    assert rated.reopened and rated.escalated
    ticket = _ticket(desk, number)
    assert ticket.status == "in_progress"
    assert ticket.resolved_at is None
    assert ticket.resolution_due == later + timedelta(hours=config.service_levels.resolution)
    with desk.unit_of_work(write=False) as session:
        sam = session.scalar(select(StaffUser.id).where(StaffUser.username == "sam"))
        kind, status, text = session.execute(
            select(StaffAlert.kind, StaffAlert.status, StaffAlert.text)
        ).one()
    assert ticket.escalated_to_id == ticket.assignee_id == sam  # in Sam's queue, not Amy's
    assert (kind, status) == ("low_rating", "queued")
    assert number in text and "Sam Li" in text
    kinds = [kind for kind, _ in _events(desk, number)]
    assert kinds[-3:] == ["rated", "reopened", "escalated"]


def test_a_low_rating_promises_no_supervisor_when_the_desk_has_none(desk, config, senders):
    with desk.unit_of_work() as session:
        for user in session.scalars(select(StaffUser).where(StaffUser.role != "agent")):
            user.active = False
        session.commit()
    number = open_ticket(desk, config)
    lifecycle.assign(desk, number, "amy", AMY, NOW)
    lifecycle.resolve(desk, config, senders, number, AMY, NOW)
    rated = lifecycle.rate(desk, config, number, 1, NOW + timedelta(hours=1))
    assert rated.reopened and not rated.escalated
    assert rated.reopened_text == "rated_reopened"
    assert _ticket(desk, number).assignee_id is not None  # still Amy's


def test_a_rating_after_the_ticket_was_rated_changes_nothing(desk, config, senders):
    number = open_ticket(desk, config)
    lifecycle.resolve(desk, config, senders, number, AMY, NOW)
    lifecycle.rate(desk, config, number, 5, NOW)
    again = lifecycle.rate(desk, config, number, 1, NOW)
    assert again.already and not again.reopened
    assert _ticket(desk, number).status == "closed"


def test_the_rating_button_in_the_chat_records_the_members_rating(desk, config, senders):
    number = open_ticket(desk, config)
    lifecycle.resolve(desk, config, senders, number, AMY, NOW)
    with desk.unit_of_work() as session:
        chat = session.scalar(select(ChatIdentity).where(ChatIdentity.external_id == TELEGRAM_CHAT))
        said = []
        ctx = SimpleNamespace(
            session=session,
            config=config,
            now=NOW,
            identity=chat,
            member=chat.member,
            lang="en",
            handler=None,
            outcome=None,
            entity={"ticket_id": number, "rating": "1"}.get,
            say_text=lambda text, *buttons: said.append(text),
        )
        lifecycle.on_rating_button(ctx)
        session.commit()
    assert ctx.outcome == "rated"
    assert "open again" in said[0] and "supervisor" in said[0]
    assert _ticket(desk, number).status == "assigned"  # to the supervisor


def test_a_member_cannot_rate_someone_elses_ticket(desk, config, senders):
    number = open_ticket(desk, config)
    lifecycle.resolve(desk, config, senders, number, AMY, NOW)
    with desk.unit_of_work() as session:
        stranger = session.scalar(select(ChatIdentity).where(ChatIdentity.external_id == "demo-en"))
        ctx = SimpleNamespace(
            session=session,
            config=config,
            now=NOW,
            identity=stranger,
            member=stranger.member,
            lang="en",
            handler=None,
            outcome=None,
            entity={"ticket_id": number, "rating": "1"}.get,
            say_text=lambda text, *buttons: None,
        )
        lifecycle.on_rating_button(ctx)
        session.commit()
    assert _ticket(desk, number).status == "resolved"


class _NoParser:
    """Buttons need no NLU; a text message would."""

    def set_benefit_names(self, names):
        pass

    def parse(self, text):
        raise AssertionError("a pressed button is not parsed")


def test_the_members_rating_button_through_the_engine_closes_the_ticket(
    desk, config, senders, telegram
):
    from bot.engine import Engine
    from core.messages import Inbound

    number = open_ticket(desk, config)
    lifecycle.resolve(desk, config, senders, number, AMY, NOW)
    five = telegram.sent[-1].buttons[4][1]
    engine = Engine(desk, config, _NoParser(), clock=lambda: NOW + timedelta(minutes=3))
    turn = engine.handle(Inbound("telegram", TELEGRAM_CHAT, button=five))
    assert "感谢" in turn.replies[0].text
    ticket = _ticket(desk, number)
    assert (ticket.status, ticket.rating) == ("closed", 5)
