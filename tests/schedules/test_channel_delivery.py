"""The dispatcher through the real channel senders, against the fake platform servers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.channels.telegram_sender import TelegramSender
from app.channels.wechat_sender import WeChatSender
from schedules.dispatcher import Dispatcher
from tests.fakes.telegram_api import TOKEN, FakeTelegram
from tests.fakes.wechat_api import APP_ID, APP_SECRET, FakeWeChatAPI
from tests.schedules.conftest import external_id, local, outbox, put

AT = local("2026-05-20 10:00")


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")


def test_wechat_members_outside_the_48_hour_window_get_template_messages(
    members, sqlite_db, config
):
    talked = members.add(channel="wechat", last_inbound_at=AT - timedelta(hours=2))
    silent = members.add(channel="wechat", last_inbound_at=AT - timedelta(hours=49))
    for member in (talked, silent):
        put(sqlite_db, member, f"birthday:{member.member_no}", AT, kind="birthday")
    templates = {"birthday": "TPL-BIRTHDAY", "service_notice": "TPL-NOTICE"}
    settings = config.channels.wechat.model_copy(update={"templates": templates})
    with FakeWeChatAPI() as api:
        sender = WeChatSender(
            APP_ID, APP_SECRET, settings, sqlite_db, base_url=api.base_url, clock=lambda: AT
        )
        Dispatcher(sqlite_db, config, {"wechat": sender}, clock=lambda: AT).run()
    custom = api.sent("message/custom/send")
    template = api.sent("message/template/send")
    assert [m["touser"] for m in custom] == [f"wechat-{talked.member_no}"]
    assert [(m["touser"], m["template_id"]) for m in template] == [
        (f"wechat-{silent.member_no}", "TPL-BIRTHDAY")
    ]
    assert [row.status for row in outbox(sqlite_db)] == ["sent", "sent"]


def test_a_telegram_member_who_blocked_the_bot_is_recorded_as_blocked(members, sqlite_db, config):
    fine, gone = members.add(), members.add()
    for member in (fine, gone):
        put(sqlite_db, member, f"notice:{member.member_no}", AT, text=f"hi {member.name}")
    with FakeTelegram() as api:
        api.block(external_id("telegram", gone))
        sender = TelegramSender(
            TOKEN, config.channels.telegram, sqlite_db, base_url=api.base_url, clock=lambda: AT
        )
        try:
            Dispatcher(sqlite_db, config, {"telegram": sender}, clock=lambda: AT).run()
        finally:
            sender.close()
    assert [str(m["chat_id"]) for m in api.sent()] == [external_id("telegram", fine)]
    sent, blocked = outbox(sqlite_db)
    assert sent.status == "sent"
    assert blocked.status == "failed" and blocked.last_error.startswith("blocked: 403")
