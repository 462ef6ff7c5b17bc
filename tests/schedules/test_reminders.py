"""Each reminder on its day (member local time) and not on the days around it."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from schedules import expiry_notices, reminders
from storage.ledger import Ledger
from storage.models import Benefit, LedgerEntry, Redemption, Voucher
from tests.schedules.conftest import fetch, local, outbox


def keys(db) -> list[str]:
    return [row.dedupe_key for row in outbox(db)]


def birthday_gifts(db) -> list[LedgerEntry]:
    return fetch(db, select(LedgerEntry).where(LedgerEntry.kind == "birthday"))


def test_the_birthday_greeting_and_gift_come_on_the_day_and_not_the_days_around_it(
    members, sqlite_db, config
):
    member = members.add(birthday=date(1990, 5, 20))
    for day in ("2026-05-19 10:00", "2026-05-21 10:00"):
        assert reminders.birthdays(sqlite_db, config, local(day)) == 0
    assert reminders.birthdays(sqlite_db, config, local("2026-05-20 08:00")) == 1
    [greeting] = outbox(sqlite_db)
    assert greeting.dedupe_key == f"birthday:{member.member_no}:2026"
    assert "200" in greeting.text and greeting.category == "service"
    assert greeting.not_before == local("2026-05-20 10:00")  # reminders.send_time
    [gift] = birthday_gifts(sqlite_db)
    assert gift.points == config.points.birthday_gift
    assert gift.idempotency_key == f"birthday:{member.id}:2026"


def test_a_second_run_on_the_birthday_neither_greets_nor_gifts_again(members, sqlite_db, config):
    members.add(birthday=date(1990, 5, 20))
    reminders.birthdays(sqlite_db, config, local("2026-05-20 10:00"))
    assert reminders.birthdays(sqlite_db, config, local("2026-05-20 18:00")) == 0
    assert len(outbox(sqlite_db)) == 1 and len(birthday_gifts(sqlite_db)) == 1


def test_the_birthday_is_the_members_local_day(members, sqlite_db, config):
    members.add(birthday=date(1990, 5, 20), timezone="America/New_York")
    # 10:00 on 20 May in Shanghai is still 19 May in New York
    assert reminders.birthdays(sqlite_db, config, local("2026-05-20 10:00")) == 0
    assert reminders.birthdays(sqlite_db, config, local("2026-05-21 10:00")) == 1


def test_29_february_is_greeted_on_28_february_in_other_years(members, sqlite_db, config):
    members.add(birthday=date(1996, 2, 29))
    assert reminders.birthdays(sqlite_db, config, local("2027-02-28 10:00")) == 1
    assert reminders.birthdays(sqlite_db, config, local("2027-03-01 10:00")) == 0


def test_29_february_is_greeted_on_29_february_in_leap_years(members, sqlite_db, config):
    members.add(birthday=date(1996, 2, 29))
    assert reminders.birthdays(sqlite_db, config, local("2028-02-28 10:00")) == 0
    assert reminders.birthdays(sqlite_db, config, local("2028-02-29 10:00")) == 1


def test_a_member_without_a_chat_identity_gets_the_gift_but_no_message(members, sqlite_db, config):
    members.add(birthday=date(1990, 5, 20), channel=None)
    assert reminders.birthdays(sqlite_db, config, local("2026-05-20 10:00")) == 0
    assert len(birthday_gifts(sqlite_db)) == 1


@pytest.mark.parametrize("days", [30, 7, 1])
def test_membership_expiry_reminders_come_at_30_7_and_1_days_before(
    members, sqlite_db, config, days
):
    member = members.add(membership_expires=date(2026, 9, 30))
    on_day = local("2026-09-30 10:00") - timedelta(days=days)
    for other in (on_day - timedelta(days=1), on_day + timedelta(days=1)):
        if (date(2026, 9, 30) - other.date()).days not in config.reminders.membership_expiry_days:
            assert reminders.membership_expiry(sqlite_db, config, other) == 0
    assert reminders.membership_expiry(sqlite_db, config, on_day) == 1
    assert keys(sqlite_db)[-1] == f"membership_expiry:{member.member_no}:2026-09-30:{days}d"


def test_points_expiring_within_30_days_get_one_message_listing_amounts_and_dates(
    members, sqlite_db, config
):
    member = members.add()
    with sqlite_db.unit_of_work() as session:
        ledger = Ledger(session, config)
        for key, points, expires in (
            ("a", 300, date(2026, 6, 10)),
            ("b", 120, date(2026, 6, 25)),
            ("c", 999, date(2026, 8, 31)),  # outside the window
        ):
            ledger.earn_bonus(
                member.id,
                "compensation",
                key,
                points,
                "test",
                "test",
                at=local("2026-01-01 10:00"),
                valid_until=expires,
            )
        session.commit()
    assert expiry_notices.points_expiry(sqlite_db, config, local("2026-06-01 10:00")) == 1
    [notice] = outbox(sqlite_db)
    assert "300" in notice.text and "2026-06-10" in notice.text
    assert "120" in notice.text and "2026-06-25" in notice.text
    assert "999" not in notice.text
    assert notice.dedupe_key == f"points_expiry:{member.member_no}:2026-06-25"
    # the next day lists nothing new: no second message
    assert expiry_notices.points_expiry(sqlite_db, config, local("2026-06-02 10:00")) == 0


def _voucher(db, config, member, expires):
    with db.unit_of_work() as session:
        benefit = Benefit(
            code="coffee", name_zh="咖啡券", name_en="Coffee voucher", cost=200, stock=None,
            tiers=["silver"], per_member_limit=None, voucher_validity_days=None,
        )  # fmt: skip
        session.add(benefit)
        session.flush()
        entry = Ledger(session, config).adjust(member.id, 500, "test", "stock up", "v")
        redemption = Redemption(
            member_id=member.id, benefit_id=benefit.id, quantity=1, points=200,
            request_key="r1", entry_id=entry.entry.id, created_at=expires,
        )  # fmt: skip
        session.add(redemption)
        session.flush()
        session.add(
            Voucher(
                code="CAFE-0001",
                redemption_id=redemption.id,
                member_id=member.id,
                benefit_id=benefit.id,
                issued_at=expires - timedelta(days=30),
                expires_at=expires,
                status="active",
            )  # fmt: skip
        )
        session.commit()


def test_a_voucher_gets_its_reminder_7_days_before_it_expires(members, sqlite_db, config):
    member = members.add(language="en")
    _voucher(sqlite_db, config, member, local("2026-07-20 23:59"))
    for day in ("2026-07-12 10:00", "2026-07-14 10:00"):
        assert expiry_notices.voucher_expiry(sqlite_db, config, local(day)) == 0
    assert expiry_notices.voucher_expiry(sqlite_db, config, local("2026-07-13 10:00")) == 1
    [notice] = outbox(sqlite_db)
    assert "Coffee voucher (CAFE-0001)" in notice.text and "2026-07-20" in notice.text


def test_a_new_member_hears_from_us_on_day_7(members, sqlite_db, config):
    member = members.add(join_date=date(2026, 3, 1))
    assert reminders.new_member_followup(sqlite_db, config, local("2026-03-07 10:00")) == 0
    assert reminders.new_member_followup(sqlite_db, config, local("2026-03-09 10:00")) == 0
    assert reminders.new_member_followup(sqlite_db, config, local("2026-03-08 10:00")) == 1
    assert keys(sqlite_db) == [f"followup:{member.member_no}"]


def test_a_dormant_member_gets_one_wake_up_offer_on_day_90(members, sqlite_db, config):
    member = members.add(language="en")
    with sqlite_db.unit_of_work() as session:
        Ledger(session, config).earn_purchase(
            member.id, "ORDER-1", Decimal("100"), at=local("2026-01-05 15:00")
        )
        session.commit()
    for day in ("2026-04-04 10:00", "2026-04-06 10:00"):
        assert reminders.dormant(sqlite_db, config, local(day)) == 0
    assert reminders.dormant(sqlite_db, config, local("2026-04-05 10:00")) == 1
    assert reminders.dormant(sqlite_db, config, local("2026-04-05 16:00")) == 0
    [offer] = outbox(sqlite_db)
    assert offer.category == "marketing" and offer.dedupe_key.endswith(":2026-01-05")
    assert offer.text.endswith('Reply "unsubscribe" to stop these messages.')


def test_a_member_without_marketing_consent_gets_no_wake_up_offer(members, sqlite_db, config):
    members.add(consent=False, join_date=date(2026, 1, 5))
    assert reminders.dormant(sqlite_db, config, local("2026-04-05 10:00")) == 0
