"""A live reply the platform put off waits in the outbox for the dispatcher: it goes to
the chat it answers, at any hour, member or not, while it is fresh; never elsewhere."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from handlers.ports import Outcome
from schedules.dispatcher import Dispatcher
from schedules.outbox import REPLY, SERVICE, Message, queue
from storage.members import identity
from storage.models import ChatIdentity
from tests.schedules.conftest import RecordingSender, external_id, fetch, local, outbox

NIGHT = local("2026-05-20 23:40")
BUTTONS = [["查积分", "intent:check_points"], ["转人工", "intent:human_handoff"]]


def dispatcher(db, config, at, *senders) -> Dispatcher:
    return Dispatcher(db, config, {s.channel: s for s in senders}, clock=lambda: at)


def chat_of(db, channel: str, external: str) -> ChatIdentity:
    [found] = fetch(
        db,
        select(ChatIdentity).where(
            ChatIdentity.channel == channel, ChatIdentity.external_id == external
        ),
    )
    return found


def put_reply(db, chat: ChatIdentity, at, key="reply:telegram:1:0", category=REPLY) -> None:
    with db.unit_of_work() as session:
        message = Message(
            key, chat.member_id, "reply", "您的积分：1,280", at, category=category,
            payload={"buttons": BUTTONS}, identity_id=chat.id,
        )  # fmt: skip
        queue(session, [message], at)
        session.commit()


def test_a_put_off_reply_goes_to_its_chat_in_quiet_hours_with_its_buttons(
    members, sqlite_db, config
):
    member = members.add(consent=False, last_inbound_at=NIGHT)
    telegram = RecordingSender("telegram")
    put_reply(sqlite_db, chat_of(sqlite_db, "telegram", external_id("telegram", member)), NIGHT)
    assert dispatcher(sqlite_db, config, NIGHT, telegram).run()["sent"] == 1
    [sent] = telegram.sent
    assert sent.external_id == external_id("telegram", member)
    assert (sent.text, sent.kind) == ("您的积分：1,280", "reply")
    assert sent.buttons == [tuple(b) for b in BUTTONS]


def test_a_reply_to_a_chat_bound_to_no_member_is_sent(sqlite_db, config):
    with sqlite_db.unit_of_work() as session:
        identity(session, "telegram", "5550001", NIGHT)
        session.commit()
    telegram = RecordingSender("telegram")
    put_reply(sqlite_db, chat_of(sqlite_db, "telegram", "5550001"), NIGHT)
    assert dispatcher(sqlite_db, config, NIGHT, telegram).run()["sent"] == 1
    assert [m.external_id for m in telegram.sent] == ["5550001"]


def test_a_reply_whose_chat_blocked_the_bot_is_not_moved_to_another_channel(
    members, sqlite_db, config
):
    member = members.add(channel="telegram", last_inbound_at=NIGHT)
    members.bind(member, "wechat", last_inbound_at=NIGHT - timedelta(hours=1))
    blocked = RecordingSender("telegram", outcome=Outcome.UNREACHABLE, detail="403: blocked")
    wechat = RecordingSender("wechat")
    put_reply(sqlite_db, chat_of(sqlite_db, "telegram", external_id("telegram", member)), NIGHT)
    dispatcher(sqlite_db, config, NIGHT, blocked, wechat).run()
    [row] = outbox(sqlite_db)
    assert (row.status, row.last_error) == ("failed", "blocked: 403: blocked")
    assert wechat.sent == []


def test_a_reply_still_unsent_half_an_hour_later_is_cancelled_as_stale(members, sqlite_db, config):
    member = members.add(last_inbound_at=NIGHT)
    busy = RecordingSender("telegram", outcome=Outcome.RETRY, detail="429", retry_after=20 * 60)
    put_reply(sqlite_db, chat_of(sqlite_db, "telegram", external_id("telegram", member)), NIGHT)
    dispatcher(sqlite_db, config, NIGHT, busy).run()
    later = NIGHT + timedelta(minutes=20)
    assert outbox(sqlite_db)[0].not_before == later
    dispatcher(sqlite_db, config, later, busy).run()
    dispatcher(sqlite_db, config, later + timedelta(minutes=20), busy).run()  # due, but old
    [row] = outbox(sqlite_db)
    assert row.status == "cancelled" and row.last_error.startswith("stale:")
    assert len(busy.sent) == 2


def test_a_queued_staff_reply_keeps_its_rating_buttons_when_the_dispatcher_sends_it(
    members, sqlite_db, config
):
    member = members.add(last_inbound_at=local("2026-05-20 10:00"))
    telegram = RecordingSender("telegram")
    chat = chat_of(sqlite_db, "telegram", external_id("telegram", member))
    at = local("2026-05-20 10:00")
    put_reply(sqlite_db, chat, at, key="ticket:T1:reply:1", category=SERVICE)
    dispatcher(sqlite_db, config, at, telegram).run()
    assert telegram.sent[0].buttons == [tuple(b) for b in BUTTONS]
