"""The ticket page as an agent uses it: the transcript of this ticket only, pressed buttons in
words, the member's whole picture beside it, search in what tickets say, the event stream
that keeps the queue live, and error pages that say what happened."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

import httpx
from sqlalchemy import select

from handlers.desk import ticket_lifecycle as lifecycle
from storage.ledger import Ledger
from storage.members import by_number
from storage.models import ChatIdentity, MessageLog
from storage.rewards import redeem
from tests.handlers.desk.conftest import AMY, NOW, PASSWORD, TELEGRAM_CHAT, open_ticket, seed_desk
from tests.staff.conftest import Served, build_web, sign_in


def said(database, text: str, at, direction: str = "in", buttons=None) -> None:
    """A message on the demo member's Telegram chat, logged as the channel logs it."""
    with database.unit_of_work() as session:
        chat = session.scalar(select(ChatIdentity).where(ChatIdentity.external_id == TELEGRAM_CHAT))
        session.add(
            MessageLog(
                identity_id=chat.id,
                member_id=chat.member_id,
                channel="telegram",
                direction=direction,
                text=text,
                buttons=buttons,
                created_at=at,
            )
        )
        session.commit()


def test_the_transcript_holds_this_ticket_only_with_pressed_buttons_in_words(
    client, sqlite_db, config
):
    first = open_ticket(sqlite_db, config, description="快递五天还没到")
    said(sqlite_db, "还在等快递", NOW + timedelta(minutes=1))
    said(
        sqlite_db,
        "要提交吗？",
        NOW + timedelta(minutes=2),
        direction="out",
        buttons=[{"title": "确认提交", "payload": "c:7cc5e49d:y"}],
    )
    said(sqlite_db, "[button] c:7cc5e49d:y", NOW + timedelta(minutes=3))
    second = open_ticket(
        sqlite_db, config, description="积分没到账", at=NOW + timedelta(minutes=10)
    )
    said(sqlite_db, "另一笔订单的积分", NOW + timedelta(minutes=11))
    sign_in(client)

    page = client.get(f"/staff/tickets/{first}?lang=zh").text
    assert "还在等快递" in page and "点了按钮：确认提交" in page
    assert "c:7cc5e49d:y" not in page
    assert "另一笔订单的积分" not in page
    assert "另一笔订单的积分" in client.get(f"/staff/tickets/{second}").text


def test_the_profile_shows_vouchers_recent_points_other_tickets_and_a_lapsed_membership(
    client, sqlite_db, config
):
    with sqlite_db.unit_of_work() as session:
        member = by_number(session, "M000001")
        redeem(Ledger(session, config, clock=lambda: NOW), member.id, "coffee_voucher", 1, "k1")
        member.membership_expires = (NOW - timedelta(days=3)).date()
        session.commit()
    earlier = open_ticket(sqlite_db, config, description="上次的投诉", at=NOW - timedelta(days=2))
    number = open_ticket(sqlite_db, config)
    sign_in(client)

    page = client.get(f"/staff/tickets/{number}?lang=en").text
    profile = page[page.index('id="profile"') :]
    assert "Coffee voucher" in profile
    assert "Reward redeemed" in profile and "-200" in profile
    assert earlier in profile
    assert "Membership expired on May 29, 2026" in profile
    assert "2,480" in profile  # 2,680 less the coffee voucher


def test_assign_to_me_puts_the_ticket_on_my_name(client, sqlite_db, config):
    number = open_ticket(sqlite_db, config)
    sign_in(client)
    page = client.get(f"/staff/tickets/{number}?lang=en").text
    assert "Assign to me" in page

    csrf = page.split('name="csrf" value="')[1].split('"')[0]
    client.post(f"/staff/tickets/{number}/assign", data={"csrf": csrf, "assignee": "amy"})

    assert "Assigned to you" in client.get(f"/staff/tickets/{number}").text
    assert number in client.get("/staff/queue?assignee=me").text


def test_search_finds_tickets_by_the_words_in_them(client, sqlite_db, config):
    cake = open_ticket(sqlite_db, config, description="收到的蛋糕坏了")
    parcel = open_ticket(sqlite_db, config, description="快递五天还没到")
    lifecycle.add_note(sqlite_db, parcel, "customer sent photos of the box", AMY, NOW)
    sign_in(client)

    by_description = client.get("/staff/queue", params={"q": "蛋糕"}).text
    by_note = client.get("/staff/queue", params={"q": "PHOTOS"}).text
    no_wildcards = client.get("/staff/queue", params={"q": "%"}).text

    assert cake in by_description and parcel not in by_description
    assert parcel in by_note and cake not in by_note
    assert cake not in no_wildcards and parcel not in no_wildcards


def test_a_form_from_a_signed_out_browser_says_sign_in_again(client, sqlite_db, config):
    number = open_ticket(sqlite_db, config)
    answer = client.post(f"/staff/tickets/{number}/reply?lang=en", data={"csrf": "x", "text": "hi"})
    assert answer.status_code == 403
    assert "You are signed out" in answer.text and "Sign in again" in answer.text


def test_an_agent_on_a_supervisors_page_is_told_it_needs_the_role(client):
    sign_in(client)  # amy is an agent
    answer = client.get("/staff/campaigns?lang=en")
    assert answer.status_code == 403
    assert "You don't have permission for this" in unescape(answer.text)
    assert "Back to the queue" in answer.text and 'href="/staff/figures"' in answer.text


def test_an_unknown_workbench_page_is_a_styled_404(client):
    sign_in(client)
    answer = client.get("/staff/nothing-here?lang=en")
    assert answer.status_code == 404
    assert "This page does not exist" in answer.text and "staff.css" in answer.text


def test_the_event_stream_names_each_new_ticket_and_each_member_message(
    sqlite_db, config, telegram, monkeypatch
):
    monkeypatch.setenv("STAFF_SESSION_SECRET", "events-test-secret")
    monkeypatch.setenv("MEMBERBOT_NOW", NOW.isoformat())
    seed_desk(sqlite_db, config)
    existing = open_ticket(sqlite_db, config)
    with (
        Served(build_web(sqlite_db, config, {"telegram": telegram})) as server,
        httpx.Client(base_url=server.url, timeout=30) as browser,
    ):
        sign_in(browser, "amy", PASSWORD)
        with browser.stream("GET", "/staff/events") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.iter_lines()
            assert next(lines).startswith("retry:")  # listening from here on
            filed = open_ticket(sqlite_db, config, description="新的投诉", at=NOW)
            said(sqlite_db, "有人吗？", NOW + timedelta(minutes=1))
            seen = []
            for line in lines:
                if line.startswith("data: "):
                    seen.append(line.removeprefix("data: "))
                if len(seen) == 2:
                    break
    assert existing not in seen[:1]  # what was there before listening is not news
    assert seen == [filed, filed]  # the new ticket, then the member's message on it
