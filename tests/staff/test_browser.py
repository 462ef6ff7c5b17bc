"""End to end in real headless Chromium (Debian's, driven by Playwright): a staff member
signs in, finds the urgent ticket, answers it with a canned reply, grants compensation
and resolves it; the member gets each message through the fake Telegram Bot API. Forms
without a live session or with a forged CSRF token are refused."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from tests.staff.conftest import Served, build_web
from tests.tickets.conftest import NOW, PASSWORD, TELEGRAM_CHAT, open_ticket, seed_desk

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the [test] extra")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's chromium is not installed (apt-get install -y chromium)",
    ),
]


@pytest.fixture
def served(sqlite_db, config, monkeypatch):
    from app.channels.telegram_sender import TelegramSender
    from tests.fakes import telegram_api

    monkeypatch.setenv("STAFF_SESSION_SECRET", "browser-test-secret")
    monkeypatch.setenv("MEMBERBOT_NOW", NOW.isoformat())
    seed_desk(sqlite_db, config)
    with telegram_api.FakeTelegram() as fake:
        sender = TelegramSender(
            telegram_api.TOKEN, config.channels.telegram, sqlite_db, base_url=fake.base_url
        )
        try:
            with Served(build_web(sqlite_db, config, {"telegram": sender})) as server:
                yield server, fake
        finally:
            sender.close()


@pytest.fixture
def browser():
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


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


def signed_in_as(browser, server, username: str):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{server.url}/staff/signin?lang=en")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/staff/queue"))
    return page


def test_a_supervisor_corrects_points_on_the_member_page(served, browser, tmp_path):
    server, _ = served
    page = signed_in_as(browser, server, "sam")
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
    page = signed_in_as(browser, server, "sam")
    page.goto(f"{server.url}/staff/tickets/{number}")
    assert code in page.inner_text("section.extension")

    page.fill("section.extension input[name=days]", "14")
    page.click("section.extension button[type=submit]")

    page.wait_for_selector("text=Voucher extended; the ticket is resolved")
    assert "Resolved" in page.inner_text(".ticket-head")
    assert any(code in text and "已延期" in text for text in _texts(fake))


def test_an_admin_manages_keys_and_accounts_on_the_accounts_page(served, browser, tmp_path):
    server, _ = served
    page = signed_in_as(browser, server, "ada")
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


if os.environ.get("MEMBERBOT_SHOTS"):  # keep the screenshots for a person to look at

    @pytest.fixture
    def tmp_path():
        path = Path(os.environ["MEMBERBOT_SHOTS"])
        path.mkdir(parents=True, exist_ok=True)
        return path
