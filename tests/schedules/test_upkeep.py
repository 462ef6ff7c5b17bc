"""What the scheduler does besides messages, and when a message may go out."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from core.send_window import earliest_send, in_quiet_hours
from schedules import upkeep
from schedules.scheduler import run_due
from storage.ledger import Ledger
from storage.models import LedgerEntry, PointsAccount, Ticket, TicketEvent
from tests.schedules.conftest import SHANGHAI, RecordingSender, fetch, local


def test_due_points_lots_expire_through_the_ledger_once(members, sqlite_db, config):
    member = members.add()
    with sqlite_db.unit_of_work() as session:
        Ledger(session, config).earn_bonus(
            member.id, "compensation", "c1", 80, "test", "test",
            at=local("2026-01-01 10:00"), valid_until=date(2026, 5, 31),
        )  # fmt: skip
        session.commit()
    assert upkeep.expire_due_lots(sqlite_db, config, local("2026-05-31 12:00")) == 0
    assert upkeep.expire_due_lots(sqlite_db, config, local("2026-06-01 00:30")) == 1
    assert upkeep.expire_due_lots(sqlite_db, config, local("2026-06-02 00:30")) == 0
    [expired] = fetch(sqlite_db, select(LedgerEntry).where(LedgerEntry.kind == "expire"))
    assert expired.points == -80
    [account] = fetch(sqlite_db, select(PointsAccount))
    assert account.balance == 0


def test_the_scheduler_flags_a_ticket_past_its_deadline_once(members, sqlite_db, config):
    member = members.add()
    opened = local("2026-05-20 08:00")
    with sqlite_db.unit_of_work() as session:
        session.add(
            Ticket(
                number="T-0001",
                member_id=member.id,
                kind="complaint",
                category="other",
                priority="normal",
                status="new",
                description="late parcel",
                first_response_due=opened + timedelta(hours=1),
                resolution_due=opened + timedelta(hours=48),
                created_at=opened,
                updated_at=opened,
            )  # fmt: skip
        )
        session.commit()
    senders = {"telegram": RecordingSender()}
    for hour in (10, 11):
        run_due(sqlite_db, config, senders, local(f"2026-05-20 {hour}:00"))
    events = fetch(sqlite_db, select(TicketEvent.kind).where(TicketEvent.kind.like("deadline%")))
    assert events == ["deadline_missed"]


def test_quiet_hours_run_from_21_00_to_09_00(config):
    assert in_quiet_hours(local("2026-05-20 21:00").time(), config)
    assert in_quiet_hours(local("2026-05-21 08:59").time(), config)
    assert not in_quiet_hours(local("2026-05-21 09:00").time(), config)
    assert not in_quiet_hours(local("2026-05-20 20:59").time(), config)


def test_service_notices_go_on_public_holidays_and_marketing_waits(config):
    national_day = local("2026-10-01 10:00")
    assert earliest_send(national_day, SHANGHAI, "service", config) == (national_day, None)
    assert earliest_send(national_day, SHANGHAI, "marketing", config) == (
        local("2026-10-08 10:00"),
        "holiday",
    )


def test_a_holiday_move_that_lands_in_quiet_hours_waits_for_the_morning(config):
    eve = local("2026-09-30 22:00")  # quiet hours, then 1 October: a holiday
    assert earliest_send(eve, SHANGHAI, "marketing", config) == (
        local("2026-10-08 09:00"),
        "quiet_hours",
    )
