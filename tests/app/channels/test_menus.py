"""The buttons last offered on WeChat (text links numbered 1, 2, ...): a tap comes back as
its number and is turned into the payload, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from app.channels import records
from tests.app.channels.conftest import NOW

OPENID = "o_menu_member_abcdefghijklmnopqrstu"


def test_a_tapped_number_gives_the_payload_of_the_menu_offered_last(db):
    records.remember_menu(db, "wechat", OPENID, [("查积分", "g:points"), ("菜单", "g:menu")], NOW)
    assert records.offered_payload(db, "wechat", OPENID, 2) == "g:menu"

    later = NOW + timedelta(minutes=1)
    records.remember_menu(db, "wechat", OPENID, [("确认", "c:1:y")], later)

    assert records.offered_payload(db, "wechat", OPENID, 1) == "c:1:y"
    assert records.offered_payload(db, "wechat", OPENID, 2) is None  # that menu is gone
    assert records.offered_payload(db, "wechat", "o_someone_else", 1) is None
