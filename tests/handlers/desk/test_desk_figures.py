"""The desk's figures from tickets and the message log."""

from __future__ import annotations

from datetime import timedelta

from handlers.desk import desk_figures
from handlers.desk import ticket_lifecycle as lifecycle
from storage.members import identity
from storage.models import MessageLog
from tests.handlers.desk.conftest import AMY, NOW, open_ticket


def _said(session, chat, at, outcome, direction="in"):
    session.add(
        MessageLog(
            identity_id=chat.id,
            member_id=chat.member_id,
            channel=chat.channel,
            direction=direction,
            text="hi",
            outcome=outcome,
            created_at=at,
        )
    )


def test_figures_count_open_tickets_response_resolution_and_satisfaction(desk, config, senders):
    answered = open_ticket(desk, config, at=NOW - timedelta(hours=10))
    lifecycle.reply(desk, config, senders, answered, "on it", AMY, NOW - timedelta(hours=8))
    lifecycle.resolve(desk, config, senders, answered, AMY, NOW - timedelta(hours=4))
    lifecycle.rate(desk, config, answered, 4, NOW - timedelta(hours=3))
    open_ticket(desk, config, description="我要找律师", at=NOW - timedelta(hours=3))
    open_ticket(desk, config, at=NOW - timedelta(days=2))  # late: no answer in 24 hours
    with desk.unit_of_work(write=False) as session:
        seen = desk_figures.figures(session, NOW, 7, config.zone)
    assert seen.open_total == 2
    assert (seen.open_urgent, seen.open_late) == (1, 2)
    assert (seen.opened, seen.resolved) == (3, 1)
    assert seen.first_response_hours == 2.0
    assert seen.first_response_within_sla == 1.0
    assert seen.resolution_hours == 6.0
    assert (seen.rating_count, seen.rating_average, seen.ratings[4]) == (1, 4.0, 1)
    assert seen.days[-1].day.isoformat() == "2026-06-01"
    assert sum(d.opened for d in seen.days) == 3


def test_self_service_and_hand_off_rates_count_conversations_not_messages(desk, config):
    with desk.unit_of_work() as session:
        alice = identity(session, "console", "demo-en", NOW)
        zhang = identity(session, "console", "demo", NOW)
        for minutes in (1, 2, 3):  # Alice helped herself in three messages
            _said(session, alice, NOW - timedelta(minutes=minutes), "answered")
        _said(session, zhang, NOW - timedelta(minutes=9), "fallback")
        _said(session, zhang, NOW - timedelta(minutes=8), "handoff")
        _said(session, zhang, NOW - timedelta(minutes=7), "answered", direction="out")
        session.commit()
    with desk.unit_of_work(write=False) as session:
        seen = desk_figures.figures(session, NOW, 1, config.zone)
    assert seen.conversations == 2
    assert (seen.self_service_rate, seen.handoff_rate) == (0.5, 0.5)
    assert seen.fallback_rate == 0.2


def test_an_empty_desk_shows_no_rates_rather_than_zero(sqlite_db, config):
    with sqlite_db.unit_of_work(write=False) as session:
        seen = desk_figures.figures(session, NOW, 30, config.zone)
    assert seen.open_total == 0
    assert seen.self_service_rate is None and seen.rating_average is None
