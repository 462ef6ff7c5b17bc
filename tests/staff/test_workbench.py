"""The workbench over HTTP: sign-in, sessions and CSRF, the queue, a ticket's actions, the
figures and canned replies, in both languages."""

from __future__ import annotations

import re

from handlers.desk import erasure
from handlers.desk.ticket_lifecycle import Actor
from tests.handlers.desk.conftest import NOW, open_ticket
from tests.staff.conftest import csrf_of, sign_in


def test_a_page_without_a_session_sends_you_to_sign_in(client):
    answer = client.get("/staff/queue?status=all", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/staff/signin?next=%2Fstaff%2Fqueue%3Fstatus%3Dall"


def test_signing_in_opens_a_session_in_an_http_only_cookie(client):
    answer = sign_in(client)
    assert answer.status_code == 303 and answer.headers["location"] == "/staff/queue"
    cookie = answer.headers["set-cookie"]
    assert "memberbot_staff=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert client.get("/staff/queue").status_code == 200


def test_a_wrong_password_is_refused(client):
    answer = sign_in(client, password="not-the-password")
    assert answer.status_code == 401
    assert "Wrong username or password" in answer.text or "不正确" in answer.text


def test_a_sign_in_post_without_its_form_token_is_refused(client):
    answer = client.post(
        "/staff/signin", data={"username": "amy", "password": "x"}, follow_redirects=False
    )
    assert answer.status_code == 403


def test_a_post_without_a_session_is_refused(client, sqlite_db, config, telegram):
    number = open_ticket(sqlite_db, config)
    answer = client.post(
        f"/staff/tickets/{number}/reply", data={"csrf": "x", "text": "hi"}, follow_redirects=False
    )
    assert answer.status_code == 403
    assert telegram.sent == []


def test_a_post_with_a_wrong_csrf_token_is_refused(client, sqlite_db, config, telegram):
    number = open_ticket(sqlite_db, config)
    sign_in(client)
    answer = client.post(
        f"/staff/tickets/{number}/reply",
        data={"csrf": "forged", "text": "hi"},
        follow_redirects=False,
    )
    assert answer.status_code == 403
    assert telegram.sent == []


def test_a_reply_to_an_erased_members_ticket_is_refused_and_nothing_is_sent(
    client, sqlite_db, config, telegram
):
    number = open_ticket(sqlite_db, config)
    erasure.erase(sqlite_db, "M000001", Actor("ada", "admin"), NOW)
    sign_in(client)
    token = csrf_of(client.get(f"/staff/tickets/{number}").text)

    answer = client.post(
        f"/staff/tickets/{number}/reply",
        data={"csrf": token, "text": "张伟您好"},
        follow_redirects=False,
    )

    assert "personal+data+was+erased" in answer.headers["location"]
    assert telegram.sent == []


def test_a_post_from_another_origin_is_refused_even_with_the_token(client, sqlite_db, config):
    number = open_ticket(sqlite_db, config)
    sign_in(client)
    token = csrf_of(client.get(f"/staff/tickets/{number}").text)
    answer = client.post(
        f"/staff/tickets/{number}/note",
        data={"csrf": token, "text": "hi"},
        headers={"Origin": "http://evil.example"},
        follow_redirects=False,
    )
    assert answer.status_code == 403


def test_signing_out_ends_the_session_for_good(client):
    sign_in(client)
    cookie = client.cookies.get("memberbot_staff")
    token = csrf_of(client.get("/staff/queue").text)
    client.post("/staff/signout", data={"csrf": token}, follow_redirects=False)
    client.cookies.set("memberbot_staff", cookie, path="/staff")  # replay the old cookie
    assert client.get("/staff/queue", follow_redirects=False).status_code == 303


def test_the_queue_puts_urgent_first_and_marks_urgent_and_late_rows(client, sqlite_db, config):
    from datetime import timedelta

    late = open_ticket(sqlite_db, config, description="still waiting", at=NOW - timedelta(days=2))
    urgent = open_ticket(sqlite_db, config, description="我要找媒体曝光")
    sign_in(client)
    page = client.get("/staff/queue").text
    rows = re.findall(r'<tr class="([^"]*)" data-ticket="(T\d+)"', page)
    assert [number for _, number in rows] == [urgent, late]
    assert "urgent" in rows[0][0] and "late" in rows[1][0]
    only_urgent = client.get("/staff/queue?urgent=1").text
    assert urgent in only_urgent and late not in only_urgent


def test_the_ticket_page_shows_the_members_profile_points_and_conversation(
    client, sqlite_db, config
):
    number = open_ticket(sqlite_db, config, order_id="DEMO-0001")
    sign_in(client)
    page = client.get(f"/staff/tickets/{number}?lang=en").text
    assert "张伟" in page and "M000001" in page and "Gold" in page
    assert "2,680" in page  # the demo member's points
    assert "60–120 points" in page  # the late-delivery policy on a 1,200 yuan order
    assert "Courier" not in page or "canned" in page
    assert 'data-body="' in page  # canned replies, in the member's language


def test_an_agent_replies_grants_compensation_notes_and_resolves(
    client, sqlite_db, config, telegram
):
    number = open_ticket(sqlite_db, config, order_id="DEMO-0001")
    sign_in(client)
    token = csrf_of(client.get(f"/staff/tickets/{number}").text)

    def act(path, **form):
        answer = client.post(
            f"/staff/tickets/{number}/{path}", data={"csrf": token, **form}, follow_redirects=False
        )
        assert answer.status_code == 303
        return answer.headers["location"]

    assert act("reply", text="已催促快递").endswith("done=replied")
    assert act("compensation", points="100", reason="late").endswith("done=granted")
    assert act("note", text="courier called").endswith("done=noted")
    assert act("category", category="product_quality").endswith("done=category")
    assert act("resolve", note="delivered").endswith("done=resolved")
    texts = [m.text for m in telegram.sent]
    assert any("已催促快递" in t for t in texts)
    assert any("100" in t for t in texts)
    assert telegram.sent[-1].buttons[0][1].startswith("i:rate_ticket:")
    page = client.get(f"/staff/tickets/{number}?lang=en").text
    assert "100 points granted" in page and "Resolved" in page and "courier called" in page


def test_beyond_policy_the_agent_sees_it_waits_and_a_supervisor_approves(client, sqlite_db, config):
    number = open_ticket(sqlite_db, config, order_id="DEMO-0001")
    sign_in(client, "amy")
    token = csrf_of(client.get(f"/staff/tickets/{number}").text)
    answer = client.post(
        f"/staff/tickets/{number}/compensation",
        data={"csrf": token, "points": "999", "reason": "goodwill"},
        follow_redirects=False,
    )
    assert answer.headers["location"].endswith("done=pending")
    assert (
        "approve"
        not in client.get(f"/staff/tickets/{number}").text.lower().split("approval")[0][-200:]
    )
    client.cookies.clear()
    sign_in(client, "sam")
    page = client.get(f"/staff/tickets/{number}").text
    assert f"/staff/tickets/{number}/compensation/approve" in page
    answer = client.post(
        f"/staff/tickets/{number}/compensation/approve",
        data={"csrf": csrf_of(page)},
        follow_redirects=False,
    )
    assert answer.headers["location"].endswith("done=granted")


def test_a_refused_action_comes_back_with_the_reason(client, sqlite_db, config):
    number = open_ticket(sqlite_db, config)
    sign_in(client)
    token = csrf_of(client.get(f"/staff/tickets/{number}").text)
    answer = client.post(
        f"/staff/tickets/{number}/compensation",
        data={"csrf": token, "points": "lots", "reason": "x"},
        follow_redirects=False,
    )
    assert "error=points" in answer.headers["location"]


def test_an_unknown_ticket_is_a_404_page(client):
    sign_in(client)
    assert client.get("/staff/tickets/T999999").status_code == 404


def test_the_workbench_speaks_chinese_and_english(client):
    sign_in(client)
    assert "工单队列" in client.get("/staff/queue?lang=zh").text
    english = client.get("/staff/queue?lang=en")
    assert "Queue" in english.text and "No tickets match" in english.text
    assert "No tickets match" in client.get("/staff/queue").text  # the choice is remembered


def test_the_figures_page_draws_its_charts_inline(client, sqlite_db, config):
    open_ticket(sqlite_db, config)
    sign_in(client)
    page = client.get("/staff/figures?days=7&lang=en").text
    assert page.count("<svg") == 4
    assert "Self-service rate" in page and "First response (median)" in page


def test_only_supervisors_edit_canned_replies(client):
    sign_in(client, "amy")
    page = client.get("/staff/canned?lang=en").text
    assert "Only supervisors edit canned replies." in page
    answer = client.post(
        "/staff/canned",
        data={
            "csrf": csrf_of(page),
            "key": "x_y",
            "title_zh": "a",
            "title_en": "a",
            "body_zh": "b",
            "body_en": "b",
        },
        follow_redirects=False,
    )
    assert "error=only+supervisors" in answer.headers["location"]


def test_a_supervisor_saves_a_canned_reply(client):
    sign_in(client, "sam")
    page = client.get("/staff/canned").text
    answer = client.post(
        "/staff/canned",
        data={
            "csrf": csrf_of(page),
            "key": "gift_card",
            "category": "billing_refund",
            "title_zh": "礼品卡",
            "title_en": "Gift card",
            "body_zh": "我们将补寄礼品卡。",
            "body_en": "We will send the gift card again.",
        },
        follow_redirects=False,
    )
    assert answer.headers["location"].endswith("done=saved")
    assert "We will send the gift card again." in client.get("/staff/canned").text


def test_no_page_loads_anything_from_outside(client, sqlite_db, config):
    number = open_ticket(sqlite_db, config)
    sign_in(client)
    for path in ("/staff/queue", f"/staff/tickets/{number}", "/staff/figures", "/staff/canned"):
        answer = client.get(path)
        assert not re.search(r'(src|href)="(https?:)?//', answer.text), path
        assert "default-src 'self'" in answer.headers["content-security-policy"]
