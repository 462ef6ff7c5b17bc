"""Campaigns: segments, holidays, queueing once, and the report."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from itertools import count

import pytest

from handlers.ports import Outcome
from schedules import campaigns
from schedules.campaign_report import report
from schedules.dispatcher import Dispatcher
from schedules.segments import Segment, SegmentError
from storage.ledger import Ledger
from storage.members import set_marketing_consent
from storage.models import Member
from tests.schedules.conftest import (
    TEXTS,
    Members,
    RecordingSender,
    campaign_with_aftermath,
    local,
    outbox,
)

AT = local("2026-05-20 10:00")


EVERYONE = Segment()


def create(db, config, segment=EVERYONE, when=AT, name="member-day"):
    """Created at AT (a time at or after it)."""
    return campaigns.create(db, config, name, segment, TEXTS, when, "tester", AT)


def test_a_campaign_on_a_public_holiday_moves_to_the_next_working_day(sqlite_db, config):
    made, moved = create(sqlite_db, config, when=local("2026-10-01 10:00"))
    assert moved and made.scheduled_at == local("2026-10-08 10:00")
    made, moved = create(sqlite_db, config, when=local("2026-10-10 10:00"), name="sat")
    assert not moved  # a make-up working Saturday is not a holiday


def test_a_campaign_queues_once_to_consenting_reachable_members_with_the_way_to_stop(
    members, sqlite_db, config
):
    zh, en = members.add(name="张三"), members.add(name="Ann", language="en")
    members.add(consent=False)
    members.add(channel=None)
    create(sqlite_db, config)
    assert campaigns.run(sqlite_db, config, "member-day", AT) == 2
    assert campaigns.run(sqlite_db, config, "member-day", AT) == 0
    rows = {row.member_id: row for row in outbox(sqlite_db)}
    assert rows[zh.id].text == "张三，会员日全场双倍积分\n回复“退订”不再接收推广消息。"
    assert rows[en.id].text.startswith("Ann, double points")
    assert rows[en.id].text.endswith('Reply "unsubscribe" to stop these messages.')
    assert {row.category for row in rows.values()} == {"marketing"}


def test_a_scheduled_campaign_is_queued_by_the_job_when_its_time_comes(members, sqlite_db, config):
    members.add()
    create(sqlite_db, config, when=AT + timedelta(hours=2))
    assert campaigns.queue_due(sqlite_db, config, AT) == 0
    assert campaigns.queue_due(sqlite_db, config, AT + timedelta(hours=2)) == 1
    assert campaigns.queue_due(sqlite_db, config, AT + timedelta(hours=3)) == 0


def test_segments_pick_members_by_tier_birthday_month_and_dormancy(members, sqlite_db, config):
    gold = members.add(tier="gold", birthday=date(1990, 6, 1))
    silver = members.add(tier="silver", birthday=date(1990, 7, 1), join_date=date(2025, 1, 1))

    names = count()

    def picked(**segment) -> set[str]:
        name = f"segment-{next(names)}"
        campaigns.create(sqlite_db, config, name, Segment(**segment), TEXTS, AT, "t", AT)
        return {m for m, *_ in campaigns.preview(sqlite_db, config, name, AT, 10).sample}

    assert picked(tiers=["gold"]) == {gold.member_no}
    assert picked(birthday_month=7) == {silver.member_no}
    with sqlite_db.unit_of_work() as session:
        Ledger(session, config).earn_purchase(gold.id, "O-1", Decimal("10"), at=AT)
        session.commit()
    assert picked(dormant_days=90) == {silver.member_no}


def test_rfm_scores_rank_members_by_their_purchases(members, sqlite_db, config):
    people = [members.add(name=f"p{n}") for n in range(5)]
    with sqlite_db.unit_of_work() as session:
        ledger = Ledger(session, config)
        for rank, person in enumerate(people, 1):  # p4 buys most, most often, most recently
            for n in range(rank):
                ledger.earn_purchase(
                    person.id,
                    f"O-{rank}-{n}",
                    Decimal(100 * rank),
                    at=AT - timedelta(days=50 - rank),
                )
        session.commit()
    campaigns.create(
        sqlite_db, config, "best", Segment(rfm={"r": 5, "f": 5, "m": 5}), TEXTS, AT, "t", AT
    )
    preview = campaigns.preview(sqlite_db, config, "best", AT)
    assert [row[0] for row in preview.sample] == [people[-1].member_no]
    assert preview.matching == 1


def test_a_bad_segment_is_refused_with_what_to_fix(sqlite_db, config):
    with pytest.raises(SegmentError, match="unknown tier 'bronze'"):
        create(sqlite_db, config, Segment(tiers=["bronze"]))
    with pytest.raises(SegmentError, match="scores r, f, m go from 1 to 5"):
        create(sqlite_db, config, Segment(rfm={"r": 6}))


@pytest.mark.parametrize(
    ("texts", "refusal"),
    [
        ({"zh": "{name}您好，仅中文", "en": ""}, "message in Chinese and English.*give --text-en$"),
        ({"zh": "", "en": "x"}, "give --text-zh$"),
        ({"zh": "{nam}，您好", "en": "hi"}, "--text-zh has the unknown placeholder {nam}"),
        ({"zh": "您好", "en": "hi {name"}, "--text-en has a brace outside {name}"),
        ({"zh": "您好 {", "en": "hi"}, "--text-zh has a brace outside {name}"),
    ],
)
def test_a_campaign_without_a_text_per_language_or_with_a_broken_placeholder_is_refused(
    sqlite_db, config, texts, refusal
):
    with pytest.raises(campaigns.CampaignError, match=refusal):
        campaigns.create(sqlite_db, config, "broken", EVERYONE, texts, AT, "tester", AT)
    assert campaigns.listing(sqlite_db) == []


def test_the_report_counts_delivered_blocked_opted_out_and_what_recipients_did_after(
    members, sqlite_db, config
):
    delivered, blocked, opted = members.add(), members.add(channel="wechat"), members.add()
    create(sqlite_db, config)
    campaigns.run(sqlite_db, config, "member-day", AT)
    with sqlite_db.unit_of_work() as session:
        set_marketing_consent(session, session.get(Member, opted.id), False, "chat", AT)
        session.commit()
    senders = {
        "telegram": RecordingSender(),
        "wechat": RecordingSender("wechat", outcome=Outcome.UNREACHABLE, detail="43004"),
    }
    Dispatcher(sqlite_db, config, senders, clock=lambda: AT).run()
    with sqlite_db.unit_of_work() as session:
        Ledger(session, config).earn_purchase(
            delivered.id, "AFTER-1", Decimal("50"), at=AT + timedelta(days=2)
        )
        session.commit()

    found = report(sqlite_db, "member-day", config.zone, AT + timedelta(days=2))
    assert found.counts == {
        "delivered": 1,
        "failed": 0,
        "blocked": 1,
        "opted out": 1,
        "missed": 0,
        "pending": 0,
    }
    assert (found.returned, found.redeemed, found.status) == (1, 0, "done")
    blocked_row = next(r for r in outbox(sqlite_db) if r.member_id == blocked.id)
    assert blocked_row.last_error == "blocked: 43004"


def test_the_report_day_by_day_counts_deliveries_redemptions_of_its_benefit_and_purchases(
    db, config
):
    campaign_with_aftermath(db, config, AT)

    found = report(db, "member-day", config.zone, AT + timedelta(days=3))

    assert found.benefits == ["coffee_voucher"]
    assert [d.day.isoformat() for d in found.days] == [
        "2026-05-20",
        "2026-05-21",
        "2026-05-22",
        "2026-05-23",
    ]
    assert [d.delivered for d in found.days] == [2, 0, 0, 0]
    assert [d.redeemed for d in found.days] == [0, 1, 0, 0]  # the other benefit is not counted
    assert [d.purchases for d in found.days] == [0, 0, 2, 0]  # the purchases before are not
    assert [d.amount for d in found.days] == [0, 0, Decimal("80.50"), 0]
    assert (found.redeemed, found.returned) == (1, 2)


def test_a_campaign_not_delivered_yet_has_no_days(db, config):
    Members(db, config).add()
    create(db, config, when=AT + timedelta(hours=1))

    assert report(db, "member-day", config.zone, AT).days == []


# -- never late: past times refused, missed days reported, one status vocabulary ----------


def test_a_campaign_for_a_time_already_past_is_refused_naming_the_time(db, config):
    with pytest.raises(campaigns.CampaignError) as refused:
        campaigns.create(db, config, "late", EVERYONE, TEXTS, AT - timedelta(days=3), "tester", AT)

    assert str(refused.value).startswith("--at 2026-05-17T10:00+08:00 is in the past")
    assert campaigns.listing(db) == []


def test_a_campaign_whose_day_passed_while_the_scheduler_was_down_is_missed_not_sent(db, config):
    Members(db, config).add()
    create(db, config, when=AT + timedelta(hours=2))

    back_next_day = AT + timedelta(days=1)
    queued = campaigns.queue_due(db, config, back_next_day)

    assert queued == 0 and outbox(db) == []
    assert [c.status for c in campaigns.listing(db)] == ["missed"]
    assert report(db, "member-day", config.zone, AT).status == "missed"
    assert campaigns.queue_due(db, config, back_next_day + timedelta(days=7)) == 0


def test_a_campaign_late_on_its_own_day_still_goes(db, config):
    Members(db, config).add()
    create(db, config, when=AT + timedelta(hours=2))

    assert campaigns.queue_due(db, config, AT + timedelta(hours=9)) == 1


def test_a_campaign_queued_in_the_evening_is_missed_not_sent_the_next_morning(db, config):
    Members(db, config).add()
    create(db, config, when=AT + timedelta(hours=2))
    evening = local("2026-05-20 22:30")
    campaigns.queue_due(db, config, evening)
    sender = RecordingSender()

    for moment in (evening, local("2026-05-21 09:30")):
        Dispatcher(db, config, {"telegram": sender}, clock=lambda moment=moment: moment).run()

    assert sender.sent == []
    [(status, error)] = [(row.status, row.last_error) for row in outbox(db)]
    assert status == "cancelled" and error.startswith("missed: ")
    found = report(db, "member-day", config.zone, local("2026-05-21 09:30"))
    assert (found.status, found.counts["missed"], found.counts["pending"]) == ("done", 1, 0)
    with pytest.raises(campaigns.CampaignError, match="'member-day' is already done: it cannot"):
        campaigns.reschedule(db, config, "member-day", local("2026-05-22 10:00"), evening)


def test_an_operator_reschedules_a_missed_campaign_and_it_goes_at_the_new_time(db, config):
    Members(db, config).add()
    create(db, config, when=AT + timedelta(hours=2))
    later = AT + timedelta(days=2)
    campaigns.queue_due(db, config, later)

    with pytest.raises(campaigns.CampaignError, match="in the past"):
        campaigns.reschedule(db, config, "member-day", AT + timedelta(days=1), later)
    campaigns.reschedule(db, config, "member-day", later + timedelta(hours=1), later)

    assert [c.status for c in campaigns.listing(db)] == ["scheduled"]
    assert campaigns.queue_due(db, config, later + timedelta(hours=1)) == 1


def test_list_and_report_say_the_same_status_from_scheduled_to_done(db, config):
    Members(db, config).add()
    create(db, config, when=AT + timedelta(hours=1))

    def both() -> tuple[str, str]:
        return campaigns.listing(db)[0].status, report(db, "member-day", config.zone, AT).status

    seen = [both()]
    campaigns.queue_due(db, config, AT + timedelta(hours=1))
    seen.append(both())
    Dispatcher(
        db, config, {"telegram": RecordingSender()}, clock=lambda: AT + timedelta(hours=1)
    ).run()
    seen.append(both())

    assert seen == [("scheduled", "scheduled"), ("queued", "queued"), ("done", "done")]
    assert {s for pair in seen for s in pair} <= set(campaigns.STATUSES)
