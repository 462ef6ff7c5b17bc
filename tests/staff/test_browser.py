"""End to end in real headless Chromium (Debian's, driven by Playwright): a staff member
signs in, finds the urgent ticket, answers it with a canned reply, grants compensation
and resolves it; the member gets each message through the fake Telegram Bot API. Forms
without a live session or with a forged CSRF token are refused."""

from __future__ import annotations

import json
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest

from tests.handlers.desk.conftest import NOW, PASSWORD, TELEGRAM_CHAT, open_ticket
from tests.staff.conftest import IN_CHROMIUM, signed_in

pytestmark = IN_CHROMIUM


def _texts(fake) -> list[str]:
    return [call["text"] for call in fake.sent(TELEGRAM_CHAT)]


def test_staff_sign_in_answer_the_urgent_ticket_and_the_member_gets_it(
    served, browser, sqlite_db, config, tmp_path
):
    server, fake = served
    open_ticket(sqlite_db, config, description="快递晚了两天", order_id="DEMO-0002")
    urgent = open_ticket(
        sqlite_db,
        config,
        description="收到的蛋糕让孩子过敏了，我要去12315投诉",
        order_id="DEMO-0001",
    )
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{server.url}/staff/queue?lang=en")
    assert "/staff/signin" in page.url
    page.fill("input[name=username]", "amy")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/staff/queue"))

    row = page.locator(f"tr[data-ticket={urgent}]")
    assert "urgent" in row.get_attribute("class")
    assert page.locator("table.queue tbody tr").first.get_attribute("data-ticket") == urgent
    red = row.evaluate("r => getComputedStyle(r.querySelector('.badge.p-urgent')).backgroundColor")
    assert red == "rgb(192, 57, 43)"
    page.screenshot(path=str(tmp_path / "queue.png"), full_page=True)

    row.locator("a").click()
    page.wait_for_url(f"**/staff/tickets/{urgent}")
    page.select_option("select.canned", "product_quality")
    assert "订单号" in page.input_value("#reply-text")  # the member writes Chinese
    page.fill("#reply-text", page.input_value("#reply-text") + " 我们已安排专人跟进。")
    page.click("form.reply button[type=submit]")
    page.wait_for_selector(".flash.ok")
    assert "Reply sent" in page.inner_text(".flash.ok")
    assert any("我们已安排专人跟进" in text for text in _texts(fake))

    page.fill("form[action$='/compensation'] input[name=points]", "100")
    page.fill("form[action$='/compensation'] input[name=reason]", "allergy from the cake")
    page.click("form[action$='/compensation'] button[type=submit]")
    page.wait_for_selector("text=Compensation granted")
    assert any("100 积分" in text for text in _texts(fake))

    page.click("form[action$='/resolve'] button[type=submit]")
    page.wait_for_selector("text=Resolved; the member was asked for a rating")
    rating = fake.sent(TELEGRAM_CHAT)[-1]
    markup = rating["reply_markup"]
    buttons = json.loads(markup) if isinstance(markup, str) else markup
    titles = [row[0]["text"] for row in buttons["inline_keyboard"]]
    assert titles == ["1", "2", "3", "4", "5"] and urgent in rating["text"]


def test_a_form_with_a_forged_csrf_token_is_refused(served, browser, sqlite_db, config):
    server, fake = served
    number = open_ticket(sqlite_db, config)
    page = browser.new_page()
    page.goto(f"{server.url}/staff/signin")
    page.fill("input[name=username]", "amy")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/staff/queue"))
    page.goto(f"{server.url}/staff/tickets/{number}")
    page.eval_on_selector("form.reply input[name=csrf]", "el => el.value = 'forged'")
    page.fill("#reply-text", "this must not reach the member")
    with page.expect_response(lambda r: r.url.endswith("/reply")) as answer:
        page.click("form.reply button[type=submit]")
    assert answer.value.status == 403
    assert fake.sent(TELEGRAM_CHAT) == []


def test_a_post_without_a_session_is_refused(served, browser, sqlite_db, config):
    server, fake = served
    number = open_ticket(sqlite_db, config)
    context = browser.new_context()
    answer = context.request.post(
        f"{server.url}/staff/tickets/{number}/reply", form={"csrf": "", "text": "hello"}
    )
    assert answer.status == 403
    assert fake.sent(TELEGRAM_CHAT) == []
    context.close()


# -- the desk agents live in ------------------------------------------------------------------


def test_a_supervisor_corrects_points_on_the_member_page(served, browser, tmp_path):
    server, _ = served
    page = signed_in(browser, server, 1400, 900, username="sam")
    page.goto(f"{server.url}/staff/members/M000002")

    page.fill("section.adjust input[name=points]", "-20")
    page.fill("section.adjust input[name=reason]", "double credit at the till")
    page.click("section.adjust button[type=submit]")

    page.wait_for_selector(".flash.ok")
    assert "Points adjusted" in page.inner_text(".flash.ok")
    assert page.inner_text(".facts .points") == "500"
    row = page.locator("table.ledger tr.adjust").first
    assert "-20" in row.inner_text() and "double credit at the till" in row.inner_text()
    page.screenshot(path=str(tmp_path / "member.png"), full_page=True)


def test_a_supervisor_extends_a_requested_voucher_and_the_member_is_told(
    served, browser, sqlite_db, config
):
    from tests.staff.test_desk_pages import extension_request

    server, fake = served
    code, number = extension_request(sqlite_db, config)
    page = signed_in(browser, server, 1400, 900, username="sam")
    page.goto(f"{server.url}/staff/tickets/{number}")
    assert code in page.inner_text("section.extension")

    page.fill("section.extension input[name=days]", "14")
    page.click("section.extension button[type=submit]")

    page.wait_for_selector("text=Voucher extended; the ticket is resolved")
    assert "Resolved" in page.inner_text(".ticket-head")
    assert any(code in text and "已延期" in text for text in _texts(fake))


def test_an_admin_manages_keys_and_accounts_on_the_accounts_page(served, browser, tmp_path):
    server, _ = served
    page = signed_in(browser, server, 1400, 900, username="ada")
    page.click("nav a[href$='/accounts']")
    page.wait_for_url("**/staff/accounts")

    page.fill("form.create-key input[name=name]", "till-shanghai")
    page.check("form.create-key input[value=vouchers]")
    page.click("form.create-key button[type=submit]")
    key = page.inner_text("code.key")
    assert key.startswith("mbk_")
    assert "vouchers" in page.inner_text("tr[data-key=till-shanghai]")
    page.click("tr[data-key=till-shanghai] form.revoke button")
    page.wait_for_selector("text=Key revoked")
    assert "Revoked" in page.inner_text("tr[data-key=till-shanghai]")

    page.click("tr[data-user=amy] form.deactivate button")
    page.wait_for_selector("text=Account deactivated")
    assert "Deactivated" in page.inner_text("tr[data-user=amy]")
    assert "ada" in page.inner_text("ol.trail") and "staff_deactivated" in page.inner_text(
        "ol.trail"
    )
    page.screenshot(path=str(tmp_path / "accounts.png"), full_page=True)


def _member_says(database, texts: list[str], start) -> None:
    """Messages on the demo member's Telegram chat, logged as the channel logs them."""
    from sqlalchemy import select

    from storage.models import ChatIdentity, MessageLog

    with database.unit_of_work() as session:
        chat = session.scalar(select(ChatIdentity).where(ChatIdentity.external_id == TELEGRAM_CHAT))
        for n, text in enumerate(texts):
            session.add(
                MessageLog(
                    identity_id=chat.id,
                    member_id=chat.member_id,
                    channel="telegram",
                    direction="in" if n % 2 == 0 else "out",
                    text=text,
                    created_at=start + timedelta(minutes=n + 1),
                )
            )
        session.commit()


def test_a_ticket_filed_while_the_queue_is_open_appears_without_a_reload(
    served, browser, sqlite_db, config
):
    server, _ = served
    page = signed_in(browser, server)
    page.evaluate("window.beforeReload = true")
    page.wait_for_function("document.body.dataset.events !== undefined")

    number = open_ticket(sqlite_db, config, description="刚刚提交的投诉：快递丢了")

    page.wait_for_selector(f"tr[data-ticket={number}]")
    assert page.evaluate("window.beforeReload") is True  # updated in place, not reloaded
    page.wait_for_selector(f".toast:has-text('New ticket {number}')")


def test_answering_from_a_long_transcript_needs_no_scrolling(
    served, browser, sqlite_db, config, tmp_path
):
    server, fake = served
    number = open_ticket(sqlite_db, config)
    _member_says(sqlite_db, [f"第 {n} 条消息：快递还没到" for n in range(1, 41)], NOW)
    page = signed_in(browser, server, height=800)
    page.goto(f"{server.url}/staff/tickets/{number}")

    box = page.locator("#reply-text").bounding_box()
    assert page.evaluate("window.scrollY") == 0
    assert box["y"] > 0 and box["y"] + box["height"] <= 800  # in view as the page opens
    last = page.locator("#transcript li").last
    assert "第 40 条消息" in last.inner_text()
    assert last.is_visible()  # the transcript opens at its newest message
    page.screenshot(path=str(tmp_path / "long-transcript.png"))

    page.fill("#reply-text", "已经为您加急处理")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector(".flash.ok")
    assert any("已经为您加急处理" in text for text in _texts(fake))


def test_the_profile_panel_shows_the_member_at_a_glance(served, browser, sqlite_db, config):
    server, _ = served
    from storage.members import by_number

    with sqlite_db.unit_of_work() as session:  # a lapsed membership, flagged at the top
        by_number(session, "M000001").membership_expires = (NOW - timedelta(days=3)).date()
        session.commit()
    earlier = open_ticket(sqlite_db, config, description="上次的投诉", at=NOW - timedelta(days=3))
    number = open_ticket(sqlite_db, config)
    page = signed_in(browser, server)
    page.goto(f"{server.url}/staff/tickets/{number}")

    profile = page.locator("#profile")
    assert profile.locator(".tier").inner_text().startswith("Gold")
    assert profile.locator(".points").inner_text() == "2,680"
    assert "300" in profile.locator(".expiring").inner_text()
    assert "Purchase +1,200" in profile.locator(".ledger").inner_text()
    assert profile.locator(".vouchers").is_visible()
    assert "Membership expired on May 29, 2026" in page.locator("#profile .expired").inner_text()
    profile.locator(f".other-tickets a:has-text('{earlier}')").click()
    page.wait_for_url(f"**/staff/tickets/{earlier}")


def test_the_keyboard_walks_the_queue_opens_a_ticket_and_takes_it(
    served, browser, sqlite_db, config
):
    server, _ = served
    first = open_ticket(sqlite_db, config, description="收到的蛋糕让孩子过敏了，我要去12315投诉")
    open_ticket(sqlite_db, config, description="快递晚了两天")
    page = signed_in(browser, server)
    assert "j / k" in page.locator("#shortcuts").text_content()  # documented on the page

    page.keyboard.press("?")
    assert "Ctrl+Enter" in page.locator("#shortcuts").inner_text()  # and shown on request
    page.keyboard.press("j")
    assert page.locator("tr.selected").get_attribute("data-ticket") == first
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/staff/tickets/{first}")

    page.keyboard.press("a")
    page.wait_for_selector("text=Assigned to you")
    page.wait_for_load_state()  # the shortcuts listen once the page's script has run
    page.keyboard.press("r")
    assert page.evaluate("document.activeElement.id") == "reply-text"
    page.locator("#reply-text").blur()
    page.keyboard.press("Escape")
    page.wait_for_url(re.compile(r"/staff/queue"))


def _png_width(shot: bytes) -> int:
    return int.from_bytes(shot[16:20], "big")


def test_the_workbench_fits_a_360_pixel_phone(served, browser, sqlite_db, config, tmp_path):
    server, _ = served
    number = open_ticket(sqlite_db, config, description="收到的蛋糕让孩子过敏了，我要去12315投诉")
    page = signed_in(browser, server, width=360, height=740)

    for path in ("/staff/queue", f"/staff/tickets/{number}"):
        page.goto(f"{server.url}{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
    main = page.locator(".col-main").screenshot(path=str(tmp_path / "ticket-360.png"))
    side = page.locator(".col-side")
    assert 320 <= _png_width(main) <= 360  # the answering column takes the width
    assert side.bounding_box()["y"] > page.locator(".col-main").bounding_box()["y"]  # stacked


if os.environ.get("MEMBERBOT_SHOTS"):  # keep the screenshots for a person to look at

    @pytest.fixture
    def tmp_path():
        path = Path(os.environ["MEMBERBOT_SHOTS"])
        path.mkdir(parents=True, exist_ok=True)
        return path
