"""Campaigns on the workbench: supervisors create, preview, run and read the report of a
campaign; agents are refused; every post carries its CSRF token."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from schedules import campaigns
from schedules.dispatcher import Dispatcher
from storage.models import Campaign, OutboundMessage
from tests.handlers.desk.conftest import NOW
from tests.schedules.conftest import campaign_with_aftermath
from tests.staff.conftest import csrf_of, sign_in

FORM = {
    "name": "member-day",
    "consent": "any",
    "text_zh": "{name}，会员日全场双倍积分",
    "text_en": "{name}, double points on member day",
    "at": "2026-06-02T10:00",
}


def signed_in_as(client, username: str = "sam") -> str:
    sign_in(client, username)
    return csrf_of(client.get("/staff/campaigns?lang=en").text)


def create(client, csrf: str, **changes):
    return client.post(
        "/staff/campaigns", data={"csrf": csrf, **FORM, **changes}, follow_redirects=False
    )


def campaign_count(db) -> int:
    with db.unit_of_work(write=False) as session:
        return session.scalar(select(func.count()).select_from(Campaign))


def queued(db) -> int:
    with db.unit_of_work(write=False) as session:
        return session.scalar(
            select(func.count())
            .select_from(OutboundMessage)
            .where(OutboundMessage.campaign_id.is_not(None))
        )


def test_a_supervisor_creates_a_campaign_and_sees_its_preview_count(client, sqlite_db, config):
    csrf = signed_in_as(client)
    answer = create(client, csrf)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/staff/campaigns/member-day?done=created"
    page = client.get(answer.headers["location"]).text
    expected = campaigns.preview(sqlite_db, config, "member-day", NOW)
    assert f'<b id="matching">{expected.matching}</b>' in page
    assert f'<b id="reachable">{expected.reachable}</b>' in page
    assert "Campaign created" in page
    listing = client.get("/staff/campaigns").text
    assert "member-day" in listing and "Jun 2 10:00" in listing and "Scheduled" in listing


def test_the_preview_masks_names_but_shows_member_numbers(client, sqlite_db, config):
    create(client, signed_in_as(client))
    page = client.get("/staff/campaigns/member-day").text
    sample = campaigns.preview(sqlite_db, config, "member-day", NOW).sample
    assert sample, "the seeded desk has a reachable member"
    for member_no, name, *_ in sample:
        assert member_no in page
        assert name not in page and f"{name[0]}{'*' * (len(name) - 1)}" in page


def test_an_empty_chinese_message_is_named_next_to_its_field_and_creates_nothing(client, sqlite_db):
    answer = create(client, signed_in_as(client), text_zh="  ")
    assert answer.status_code == 422
    assert re.search(r'id="err-text_zh" role="alert">Required<', answer.text)
    assert campaign_count(sqlite_db) == 0


def test_a_time_in_the_past_is_named_next_to_its_field_and_creates_nothing(client, sqlite_db):
    answer = create(client, signed_in_as(client), at="2026-05-01T10:00")
    assert answer.status_code == 422
    assert 'id="err-at" role="alert">This time has passed' in answer.text
    assert 'value="member-day"' in answer.text  # what was typed is kept
    assert campaign_count(sqlite_db) == 0


def test_a_bad_segment_is_named_next_to_its_field(client, sqlite_db):
    csrf = signed_in_as(client)
    answer = create(client, csrf, rfm_r="7")
    assert 'id="err-rfm" role="alert">Give a whole number from 1 to 5' in answer.text
    answer = create(client, csrf, tier="platinum-plus")
    assert 'id="err-tier" role="alert">Choose tiers from the list' in answer.text
    assert campaign_count(sqlite_db) == 0


def test_a_chinese_page_says_what_is_wrong_in_chinese(client, sqlite_db):
    csrf = signed_in_as(client)
    create(client, csrf)
    client.get("/staff/campaigns?lang=zh")  # the language choice is kept in a cookie
    answer = create(client, csrf)
    assert 'id="err-name" role="alert">已有同名活动' in answer.text
    assert "already" not in answer.text


def test_an_agent_gets_403_and_no_campaigns_link(client, sqlite_db):
    sign_in(client, "amy")
    assert "/staff/campaigns" not in client.get("/staff/queue").text
    assert client.get("/staff/campaigns").status_code == 403
    queue = client.get("/staff/queue").text
    assert create(client, csrf_of(queue)).status_code == 403
    assert campaign_count(sqlite_db) == 0


def test_a_post_without_the_csrf_token_is_refused(client, sqlite_db):
    signed_in_as(client)
    answer = client.post("/staff/campaigns", data=FORM, follow_redirects=False)
    assert answer.status_code == 403
    assert campaign_count(sqlite_db) == 0


def test_running_queues_the_outbox_rows_once(client, sqlite_db, config):
    csrf = signed_in_as(client, "ada")
    create(client, csrf)
    reach = campaigns.preview(sqlite_db, config, "member-day", NOW).reachable
    run = "/staff/campaigns/member-day/run"
    assert client.post(run, data={}, follow_redirects=False).status_code == 403
    answer = client.post(run, data={"csrf": csrf}, follow_redirects=False)
    assert answer.headers["location"].endswith(f"done=run&queued={reach}")
    assert queued(sqlite_db) == reach > 0
    answer = client.post(run, data={"csrf": csrf}, follow_redirects=False)
    assert answer.headers["location"].endswith("done=run&queued=0")
    assert queued(sqlite_db) == reach


def test_the_report_page_shows_the_counts_and_a_chart(client, sqlite_db, config, telegram):
    csrf = signed_in_as(client)
    create(client, csrf)
    client.post("/staff/campaigns/member-day/run", data={"csrf": csrf})
    Dispatcher(sqlite_db, config, {"telegram": telegram}, clock=lambda: NOW).run()
    page = client.get("/staff/campaigns/member-day/report").text
    assert f'data-outcome="delivered">{len(telegram.sent)}<' in page
    for outcome in ("failed", "blocked", "opted out", "redeemed", "returned"):
        assert f'data-outcome="{outcome}">' in page
    assert "<svg" in page and "Delivered" in page and "Opted out" in page
    assert client.get("/staff/campaigns/nothing-here/report").status_code == 404


def test_the_report_page_shows_each_day_since_the_send(client, sqlite_db, config, monkeypatch):
    monkeypatch.setenv("MEMBERBOT_NOW", (NOW + timedelta(days=3)).isoformat())
    campaign_with_aftermath(sqlite_db, config, NOW)
    signed_in_as(client)

    page = client.get("/staff/campaigns/member-day/report?lang=en").text

    assert "Benefits it promotes: Coffee voucher" in page
    rows = re.findall(r"<tr><td>([^<]+)</td><td>\d+</td><td>(\d+)</td><td>(\d+)</td>"
                      r"<td>([^<]+)</td></tr>", page)  # fmt: skip
    assert rows == [
        ("Jun 1", "0", "0", "0.00"),
        ("Jun 2", "1", "0", "0.00"),
        ("Jun 3", "0", "2", "80.50"),
        ("Jun 4", "0", "0", "0.00"),
    ]
    assert page.count("<svg") == 3  # outcomes, counts by day, amount by day


def test_a_campaign_created_on_the_page_promotes_the_benefits_ticked(client, sqlite_db, config):
    csrf = signed_in_as(client)
    assert 'name="benefit" value="coffee_voucher"' in client.get("/staff/campaigns").text

    create(client, csrf, benefit=["coffee_voucher", "free_shipping"])

    with sqlite_db.unit_of_work(write=False) as session:
        promoted = session.scalar(select(Campaign.benefits))
    assert promoted == ["coffee_voucher", "free_shipping"]


def test_a_chinese_campaign_page_names_the_segment_and_tiers_in_chinese(client, sqlite_db):
    csrf = signed_in_as(client)
    create(client, csrf, tier=["gold"], dormant_days="30", consent="yes")

    listed = client.get("/staff/campaigns?lang=zh").text
    preview = client.get("/staff/campaigns/member-day").text

    for page in (listed, preview):
        assert "等级：金卡；30 天未消费；同意接收营销的会员" in page
        assert "consenting" not in page and "no purchase" not in page
    assert ">gold<" not in preview
    english = client.get("/staff/campaigns?lang=en").text
    assert "tier Gold; no purchase for 30 days; consenting members" in english
