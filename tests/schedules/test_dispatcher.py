"""The dispatcher: quiet hours, consent, channels, retries, and what is sent exactly once."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from handlers.ports import Outcome
from schedules import reminders
from schedules.dispatcher import Dispatcher
from schedules.outbox import MARKETING
from storage.members import set_marketing_consent
from storage.models import ChatIdentity, Member
from tests.schedules.conftest import RecordingSender, external_id, fetch, local, outbox, put


def dispatcher(db, config, at, *senders, **options) -> Dispatcher:
    clock = options.pop("clock", lambda: at)
    return Dispatcher(db, config, {s.channel: s for s in senders}, clock=clock, **options)


def test_a_due_message_goes_to_the_members_channel_once(members, sqlite_db, config, telegram):
    member = members.add()
    at = local("2026-05-20 10:00")
    put(sqlite_db, member, "k1", at)
    assert dispatcher(sqlite_db, config, at, telegram).run()["sent"] == 1
    assert dispatcher(sqlite_db, config, at, telegram).run() == {}
    [row] = outbox(sqlite_db)
    assert (row.status, row.channel, row.sent_at) == ("sent", "telegram", at)
    assert [m.external_id for m in telegram.sent] == [external_id("telegram", member)]


def test_a_rerun_of_the_jobs_and_the_dispatcher_sends_nothing_new(
    members, sqlite_db, config, telegram
):
    members.add(birthday=date(1990, 5, 20))
    at = local("2026-05-20 10:00")
    for _ in range(2):
        reminders.birthdays(sqlite_db, config, at)
        dispatcher(sqlite_db, config, at, telegram).run()
    assert len(telegram.sent) == 1


def test_quiet_hours_defer_a_message_to_the_morning_and_it_goes_then(
    members, sqlite_db, config, telegram
):
    member = members.add()
    night = local("2026-05-20 22:30")
    put(sqlite_db, member, "k1", night)
    assert dispatcher(sqlite_db, config, night, telegram).run()["deferred"] == 1
    [row] = outbox(sqlite_db)
    assert row.status == "deferred" and row.not_before == local("2026-05-21 09:00")
    assert row.last_error.startswith("quiet_hours:")
    assert dispatcher(sqlite_db, config, local("2026-05-21 08:59"), telegram).run() == {}
    assert dispatcher(sqlite_db, config, local("2026-05-21 09:00"), telegram).run()["sent"] == 1
    assert len(telegram.sent) == 1


def test_quiet_hours_are_the_members_local_hours(members, sqlite_db, config, telegram):
    member = members.add(timezone="Europe/London")
    at = local("2026-05-20 10:00")  # 03:00 in London
    put(sqlite_db, member, "k1", at)
    dispatcher(sqlite_db, config, at, telegram).run()
    [row] = outbox(sqlite_db)
    assert row.status == "deferred"
    assert row.not_before == local("2026-05-20 09:00", zone=ZoneInfo("Europe/London"))


def test_marketing_waits_for_the_next_working_day_after_a_public_holiday(
    members, sqlite_db, config, telegram
):
    member = members.add()
    national_day = local("2026-10-01 10:00")
    put(sqlite_db, member, "offer", national_day, category=MARKETING)
    put(sqlite_db, member, "notice", national_day)
    tally = dispatcher(sqlite_db, config, national_day, telegram).run()
    assert (tally["sent"], tally["deferred"]) == (1, 1)
    offer = outbox(sqlite_db, dedupe_key="offer")[0]
    assert offer.not_before == local("2026-10-08 10:00")
    assert offer.last_error.startswith("holiday:")


def test_an_unsubscribed_member_gets_no_marketing_but_still_gets_service_notices(
    members, sqlite_db, config, telegram
):
    member = members.add(consent=True)
    at = local("2026-05-20 10:00")
    put(sqlite_db, member, "offer", at, category=MARKETING)
    put(sqlite_db, member, "expiry", at)
    with sqlite_db.unit_of_work() as session:  # the member replied "退订"
        set_marketing_consent(session, session.get(Member, member.id), False, "chat", at)
        session.commit()
    tally = dispatcher(sqlite_db, config, at, telegram).run()
    assert (tally["sent"], tally["cancelled"]) == (1, 1)
    assert outbox(sqlite_db, dedupe_key="offer")[0].last_error.startswith("opted_out:")
    assert telegram.texts() == ["hello"]


def test_every_marketing_message_says_how_to_stop_them(members, sqlite_db, config, telegram):
    zh, en = members.add(language="zh"), members.add(language="en", name="Bob")
    at = local("2026-05-20 10:00")
    put(sqlite_db, zh, "zh", at, category=MARKETING)
    put(sqlite_db, en, "en", at, category=MARKETING)
    dispatcher(sqlite_db, config, at, telegram).run()
    texts = sorted(telegram.texts())
    assert "退订" in texts[1] and "unsubscribe" in texts[0]


def test_the_most_recently_active_reachable_identity_is_used(members, sqlite_db, config):
    telegram, wechat = RecordingSender("telegram"), RecordingSender("wechat")
    at = local("2026-05-20 10:00")
    member = members.add(channel="telegram", last_inbound_at=at - timedelta(days=3))
    members.bind(member, "wechat", last_inbound_at=at - timedelta(hours=2))
    put(sqlite_db, member, "k1", at)
    dispatcher(sqlite_db, config, at, telegram, wechat).run()
    assert (len(telegram.sent), len(wechat.sent)) == (0, 1)
    assert wechat.sent[0].last_inbound_at == at - timedelta(hours=2)


def test_a_member_who_blocked_the_bot_is_tried_on_another_channel(members, sqlite_db, config):
    at = local("2026-05-20 10:00")
    telegram = RecordingSender("telegram", outcome=Outcome.UNREACHABLE, detail="403: blocked")
    wechat = RecordingSender("wechat")
    member = members.add(channel="telegram", last_inbound_at=at)
    members.bind(member, "wechat", last_inbound_at=at - timedelta(days=1))
    put(sqlite_db, member, "k1", at)
    dispatcher(sqlite_db, config, at, telegram, wechat).run()
    assert (len(telegram.sent), len(wechat.sent)) == (1, 1)
    assert outbox(sqlite_db)[0].status == "sent"
    blocked = fetch(sqlite_db, select(ChatIdentity).where(ChatIdentity.channel == "telegram"))
    assert blocked[0].reachable is False


def test_a_member_blocked_everywhere_fails_as_blocked(members, sqlite_db, config):
    at = local("2026-05-20 10:00")
    telegram = RecordingSender("telegram", outcome=Outcome.UNREACHABLE, detail="403: blocked")
    put(sqlite_db, members.add(), "k1", at)
    dispatcher(sqlite_db, config, at, telegram).run()
    [row] = outbox(sqlite_db)
    assert row.status == "failed" and row.last_error == "blocked: 403: blocked"


def test_a_failing_send_is_retried_with_back_off_then_given_up_with_the_reason(
    members, sqlite_db, config
):
    at = local("2026-05-20 10:00")
    busy = RecordingSender("telegram", outcome=Outcome.RETRY, detail="network: timeout")
    put(sqlite_db, members.add(), "k1", at)
    moment = at
    for backoff in config.outbound.backoff_seconds:
        dispatcher(sqlite_db, config, moment, busy).run()
        [row] = outbox(sqlite_db)
        assert row.status == "queued" and row.last_error == "retry: network: timeout"
        assert row.not_before == moment + timedelta(seconds=backoff)
        moment = row.not_before
    dispatcher(sqlite_db, config, moment, busy).run()
    [row] = outbox(sqlite_db)
    assert len(busy.sent) == config.outbound.max_attempts == row.attempts
    assert row.status == "failed"
    assert row.last_error == "gave_up: network: timeout (after 5 tries)"


def test_a_platform_retry_after_is_honoured(members, sqlite_db, config):
    at = local("2026-05-20 10:00")
    limited = RecordingSender(outcome=Outcome.RETRY, detail="429", retry_after=7)
    put(sqlite_db, members.add(), "k1", at)
    dispatcher(sqlite_db, config, at, limited).run()
    assert outbox(sqlite_db)[0].not_before == at + timedelta(seconds=7)


def test_a_member_with_no_reachable_identity_fails_as_unreachable(members, sqlite_db, config):
    at = local("2026-05-20 10:00")
    put(sqlite_db, members.add(channel=None), "k1", at)
    dispatcher(sqlite_db, config, at, RecordingSender()).run()
    [row] = outbox(sqlite_db)
    assert row.status == "failed" and row.last_error.startswith("unreachable:")


def test_a_channel_without_a_sender_waits_and_then_gives_up_saying_why(members, sqlite_db, config):
    at = local("2026-05-20 10:00")
    put(sqlite_db, members.add(channel="wechat"), "k1", at)
    moment = at
    for _ in range(config.outbound.max_attempts):
        dispatcher(sqlite_db, config, moment, RecordingSender("telegram")).run()
        moment = moment + timedelta(hours=1)
    [row] = outbox(sqlite_db)
    assert row.status == "failed"
    assert row.last_error.startswith("gave_up: no sender here for channel wechat")


def test_a_refused_message_fails_with_the_channels_reason(members, sqlite_db, config):
    at = local("2026-05-20 10:00")
    refused = RecordingSender(outcome=Outcome.FAILED, detail="400: message is too long")
    put(sqlite_db, members.add(), "k1", at)
    dispatcher(sqlite_db, config, at, refused).run()
    assert outbox(sqlite_db)[0].last_error == "refused: 400: message is too long"
