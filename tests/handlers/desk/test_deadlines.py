"""The deadline job with a fixed clock: urgent alerts, escalation near a deadline, missed
deadlines flagged once, and the staff group told through the Telegram sender."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from handlers.desk import deadlines
from handlers.desk import ticket_lifecycle as lifecycle
from handlers.desk import ticket_views as views
from handlers.desk.staff_notices import StaffNotifier
from handlers.ports import Outcome
from storage.models import StaffAlert, StaffUser, Ticket, TicketEvent
from tests.handlers.desk.conftest import AMY, NOW, PASSWORD_HASH, RecordingSender, open_ticket

STAFF_CHAT = -100123


def _with_staff_chat(config, chat_id=STAFF_CHAT):
    telegram = config.channels.telegram.model_copy(update={"staff_chat_id": chat_id})
    return config.model_copy(
        update={"channels": config.channels.model_copy(update={"telegram": telegram})}
    )


def _alerts(db) -> list[tuple[str, str]]:
    with db.unit_of_work(write=False) as session:
        return [
            (a.kind, a.status) for a in session.scalars(select(StaffAlert).order_by(StaffAlert.id))
        ]


def _ticket(db, number) -> Ticket:
    with db.unit_of_work(write=False) as session:
        found = lifecycle.find(session, number)
        session.expunge(found)
        return found


def test_the_state_against_the_next_deadline_is_late_near_or_ok(config):
    warn = timedelta(minutes=60)
    ticket = Ticket(
        status="new",
        first_response_due=NOW + timedelta(hours=2),
        resolution_due=NOW + timedelta(hours=48),
        first_responded_at=None,
    )
    assert deadlines.state(ticket, NOW, warn) == "ok"
    assert deadlines.state(ticket, NOW + timedelta(minutes=61), warn) == "near"
    assert deadlines.state(ticket, NOW + timedelta(hours=2), warn) == "late"
    ticket.first_responded_at = NOW
    assert deadlines.state(ticket, NOW + timedelta(hours=3), warn) == "ok"
    ticket.status = "resolved"
    assert deadlines.state(ticket, NOW + timedelta(hours=50), warn) == "ok"


def test_a_new_urgent_ticket_alerts_the_staff_group_once(desk, config):
    number = open_ticket(desk, config, description="东西有问题，我要去 12315 投诉！")
    first = deadlines.check(desk, config, NOW + timedelta(minutes=1))
    again = deadlines.check(desk, config, NOW + timedelta(minutes=2))
    assert (first.urgent, again.urgent) == (1, 0)
    assert _alerts(desk) == [("urgent", "queued")]
    assert _ticket(desk, number).alerted_at == NOW + timedelta(minutes=1)


def test_a_ticket_near_its_first_response_deadline_escalates_to_a_supervisor(desk, config):
    number = open_ticket(desk, config)  # normal: 24 hours to a first response
    quiet = deadlines.check(desk, config, NOW + timedelta(hours=22))
    near = deadlines.check(desk, config, NOW + timedelta(hours=23, minutes=5))
    again = deadlines.check(desk, config, NOW + timedelta(hours=23, minutes=10))
    assert (quiet.escalated, near.escalated, again.escalated) == (0, 1, 0)
    ticket = _ticket(desk, number)
    with desk.unit_of_work(write=False) as session:
        sam = session.scalar(select(StaffUser.id).where(StaffUser.username == "sam"))
    assert ticket.escalated_to_id == sam
    assert ticket.escalated_at == NOW + timedelta(hours=23, minutes=5)
    assert _alerts(desk) == [("near_deadline", "queued")]


def test_an_escalated_ticket_is_in_the_supervisors_queue(desk, config):
    number = open_ticket(desk, config)
    lifecycle.assign(desk, number, "amy", AMY, NOW)
    deadlines.check(desk, config, NOW + timedelta(hours=23, minutes=5))
    with desk.unit_of_work(write=False) as session:
        sams = views.listing(session, config, NOW, assignee="sam").rows
        amys = views.listing(session, config, NOW, assignee="amy").rows
        event = session.scalar(select(TicketEvent.data).where(TicketEvent.kind == "escalated"))
    assert [r.number for r in sams] == [number] and amys == []
    assert event == {"to": "sam", "reason": "near_first_response", "before": "amy"}


def test_escalations_go_to_the_supervisor_with_the_fewest(desk, config):
    with desk.unit_of_work() as session:
        session.add(
            StaffUser(
                username="sue",
                display_name="Sue Chen",
                password_hash=PASSWORD_HASH,
                role="supervisor",
                language="zh",
                active=True,
                created_at=NOW,
            )
        )
        session.commit()
    first = open_ticket(desk, config)
    second = open_ticket(desk, config, at=NOW + timedelta(minutes=1))
    deadlines.check(desk, config, NOW + timedelta(hours=23, minutes=30))
    assert _ticket(desk, first).escalated_to_id != _ticket(desk, second).escalated_to_id


def test_a_missed_first_response_deadline_is_flagged_once(desk, config):
    number = open_ticket(desk, config)
    late = NOW + timedelta(hours=24, minutes=1)
    first = deadlines.check(desk, config, late)
    again = deadlines.check(desk, config, late + timedelta(minutes=1))
    assert (first.breached, again.breached) == (1, 0)
    assert first.escalated == 1  # missed without a warning first: escalated all the same
    with desk.unit_of_work(write=False) as session:
        event = session.scalar(select(TicketEvent.data).where(TicketEvent.kind == "escalated"))
    assert event["reason"] == "missed_first_response"
    assert _ticket(desk, number).response_breached_at == late
    assert _alerts(desk) == [("breach", "queued")]


def test_an_answered_ticket_is_held_only_to_its_resolution_deadline(desk, config, senders):
    number = open_ticket(desk, config)
    lifecycle.reply(desk, config, senders, number, "on it", AMY, NOW + timedelta(hours=1))
    assert deadlines.check(desk, config, NOW + timedelta(hours=30)).breached == 0
    late = deadlines.check(desk, config, NOW + timedelta(hours=48, minutes=1))
    assert late.breached == 1
    ticket = _ticket(desk, number)
    assert ticket.response_breached_at is None
    assert ticket.resolution_breached_at == NOW + timedelta(hours=48, minutes=1)


def test_a_resolved_ticket_is_never_flagged(desk, config, senders):
    number = open_ticket(desk, config, description="我要找律师！")
    lifecycle.resolve(desk, config, senders, number, AMY, NOW)
    checked = deadlines.check(desk, config, NOW + timedelta(days=5))
    assert (checked.urgent, checked.escalated, checked.breached) == (0, 0, 0)


def test_queued_alerts_reach_the_staff_chat_through_the_telegram_sender(desk, config):
    config = _with_staff_chat(config)
    telegram = RecordingSender()
    open_ticket(desk, config, description="孩子吃了过敏，住院了")
    checked = deadlines.check(desk, config, NOW, StaffNotifier(config, telegram))
    assert checked.alerts_sent == 1
    [alert] = telegram.sent
    assert alert.external_id == str(STAFF_CHAT)
    assert "T0000" in alert.text and "过敏" in alert.text
    assert _alerts(desk) == [("urgent", "sent")]


def test_without_a_staff_chat_alerts_are_set_aside_not_piled_up(desk, config):
    telegram = RecordingSender()
    open_ticket(desk, config, description="要曝光你们")
    deadlines.check(desk, config, NOW, StaffNotifier(config, telegram))
    assert telegram.sent == []
    assert _alerts(desk) == [("urgent", "skipped")]


def test_a_rate_limited_alert_is_tried_again_on_the_next_check(desk, config):
    config = _with_staff_chat(config)
    busy = RecordingSender(outcome=Outcome.RETRY)
    open_ticket(desk, config, description="我要去消协")
    deadlines.check(desk, config, NOW, StaffNotifier(config, busy))
    assert _alerts(desk) == [("urgent", "queued")]
    calm = RecordingSender()
    assert deadlines.check(desk, config, NOW, StaffNotifier(config, calm)).alerts_sent == 1
    assert _alerts(desk) == [("urgent", "sent")]


def test_the_deadline_check_alerts_the_staff_group_through_the_real_telegram_library(
    sqlite_db, config
):
    from app.channels.telegram_sender import TelegramSender
    from tests.fakes import telegram_api
    from tests.handlers.desk.conftest import seed_desk

    seed_desk(sqlite_db, config)
    config = _with_staff_chat(config)
    open_ticket(sqlite_db, config, description="产品不安全，孩子受伤了")
    with telegram_api.FakeTelegram() as fake:
        sender = TelegramSender(
            telegram_api.TOKEN, config.channels.telegram, sqlite_db, base_url=fake.base_url
        )
        try:
            notifier = StaffNotifier(config, sender)
            assert deadlines.check(sqlite_db, config, NOW, notifier).alerts_sent == 1
            assert deadlines.check(sqlite_db, config, NOW, notifier).alerts_sent == 0
        finally:
            sender.close()
        [alert] = fake.sent(STAFF_CHAT)
    assert "受伤" in alert["text"] and alert["text"].startswith("🔴")
