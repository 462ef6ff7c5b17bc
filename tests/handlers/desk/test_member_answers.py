"""A ticket keeps talking: a staff reply waits for the member, the member's answer lands on
the ticket and marks it in the queue, the next reply clears the mark. Also typed ratings."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from handlers.desk import ticket_lifecycle as lifecycle
from handlers.desk import ticket_views, tickets
from storage.models import Ticket, TicketEvent
from tests.handlers.desk.conftest import AMY, NOW, open_ticket


def _row(desk, config, number):
    with desk.unit_of_work(write=False) as session:
        page = ticket_views.queue(session, ticket_views.QueueFilter(), NOW, None, config)
        return next(r for r in page.rows if r.number == number)


def _member_writes(desk, number, text, at):
    with desk.unit_of_work() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        tickets.add_member_message(session, ticket, text, at)
        session.commit()


def test_the_members_answer_moves_the_ticket_back_and_marks_it_in_the_queue(desk, config, senders):
    number = open_ticket(desk, config)
    lifecycle.reply(desk, config, senders, number, "请问是哪个地址？", AMY, NOW)
    row = _row(desk, config, number)
    assert (row.status, row.member_wrote) == ("waiting_member", False)

    _member_writes(desk, number, "南京路 88 号", NOW + timedelta(minutes=5))
    row = _row(desk, config, number)
    assert (row.status, row.member_wrote) == ("in_progress", True)
    with desk.unit_of_work(write=False) as session:
        bodies = session.scalars(
            select(TicketEvent.body).where(TicketEvent.kind == "member_message")
        ).all()
    assert bodies == ["南京路 88 号"]

    lifecycle.reply(desk, config, senders, number, "收到", AMY, NOW + timedelta(minutes=9))
    row = _row(desk, config, number)
    assert (row.status, row.member_wrote) == ("waiting_member", False)


def test_a_typed_rating_keeps_the_members_words_as_the_comment(desk, config, senders):
    number = open_ticket(desk, config)
    lifecycle.resolve(desk, config, senders, number, AMY, NOW)
    with desk.unit_of_work() as session:
        rated = lifecycle.record_rating(session, config, number, 2, NOW, comment="2分，还是没解决")
        session.commit()
    assert rated.reopened
    with desk.unit_of_work(write=False) as session:
        event = session.scalar(select(TicketEvent).where(TicketEvent.kind == "rated"))
        assert (event.body, event.data["rating"]) == ("2分，还是没解决", 2)


def test_the_rating_request_says_to_reply_with_a_number_for_channels_without_buttons(
    desk, config, senders, telegram
):
    number = open_ticket(desk, config)
    lifecycle.resolve(desk, config, senders, number, AMY, NOW)
    [ask] = telegram.sent
    assert "直接回复数字 1 到 5" in ask.text
