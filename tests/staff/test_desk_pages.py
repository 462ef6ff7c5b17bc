"""The workbench's desk pages on SQLite and PostgreSQL: a supervisor corrects points on
the member page (agents cannot), extends a voucher from the member's request ticket
(which resolves it), an admin manages accounts and keys and erases a member."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from core.validity import end_of_day
from handlers.desk import tickets
from staff import i18n
from storage.ledger import Ledger
from storage.members import by_number, identity
from storage.models import AuditEvent, LedgerEntry, Member, Ticket, Voucher
from storage.rewards import redeem
from tests.handlers.desk.conftest import NOW, PASSWORD, TELEGRAM_CHAT, RecordingSender, seed_desk
from tests.staff.conftest import build_web, csrf_of, sign_in

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def telegram() -> RecordingSender:
    return RecordingSender()


@pytest.fixture
def client(db, config, telegram, monkeypatch):
    monkeypatch.setenv("STAFF_SESSION_SECRET", "tests-only-secret")
    monkeypatch.setenv("MEMBERBOT_NOW", NOW.isoformat())
    seed_desk(db, config)
    with TestClient(build_web(db, config, {"telegram": telegram})) as made:
        yield made


def post(client, page: str, path: str, **form):
    token = csrf_of(client.get(page).text)
    return client.post(path, data={"csrf": token, **form}, follow_redirects=False)


def extension_request(db, config) -> tuple[str, str]:
    """The demo member's coffee voucher and the request ticket asking to extend it."""
    with db.unit_of_work() as session:
        member = by_number(session, "M000001")
        made = redeem(
            Ledger(session, config, clock=lambda: NOW), member.id, "coffee_voucher", 1, "k"
        )
        voucher = made.vouchers[0]
        ticket = tickets.open_ticket(
            session,
            config,
            kind="request",
            category="points_benefits",
            description=f"voucher extension: {voucher.code}",
            at=NOW,
            member=member,
            identity=identity(session, "telegram", TELEGRAM_CHAT, NOW),
        )
        ticket.voucher_id, voucher.extension_requested_at = voucher.id, NOW
        session.commit()
        return voucher.code, ticket.number


# -- points correction --------------------------------------------------------------------


def test_a_supervisor_corrects_points_and_the_entry_shows_with_who_and_why(client, db):
    sign_in(client, "sam")
    answer = post(
        client,
        "/staff/members/M000002",
        "/staff/members/M000002/adjust",
        points="-20",
        reason="double credit",
        key="form-1",
    )
    again = post(
        client,
        "/staff/members/M000002",
        "/staff/members/M000002/adjust",
        points="-20",
        reason="double credit",
        key="form-1",
    )

    assert answer.headers["location"].endswith("done=adjusted")
    assert again.headers["location"].endswith("done=adjusted")
    page = client.get("/staff/members/M000002?lang=en").text
    assert "500" in page and "Manual adjustment" in page and "double credit" in page
    assert "The member sees the reason in their points history." in page
    with db.unit_of_work(write=False) as session:
        assert (
            len(session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "adjust")).all()) == 1
        )


@pytest.mark.parametrize(
    ("points", "problem"),
    [("100001", "give+1+to+100000"), ("9" * 5000, "whole+number"), ("²", "whole+number")],
)
def test_a_correction_out_of_range_is_refused_on_the_page(client, db, points, problem):
    sign_in(client, "sam")
    answer = post(
        client,
        "/staff/members/M000002",
        "/staff/members/M000002/adjust",
        points=points,
        reason="typo",
        key="form-2",
    )
    assert problem in answer.headers["location"]
    with db.unit_of_work(write=False) as session:
        assert session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "adjust")) is None


def test_an_agent_sees_no_correction_form_and_a_forged_post_is_refused(client, db):
    sign_in(client, "amy")
    page = client.get("/staff/members/M000002?lang=en").text
    assert "Only supervisors and admins correct points" in page
    answer = post(
        client,
        "/staff/members/M000002",
        "/staff/members/M000002/adjust",
        points="1000",
        reason="friend",
        key="x",
    )
    assert "error=only+supervisors" in answer.headers["location"]
    with db.unit_of_work(write=False) as session:
        assert session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "adjust")) is None


# -- voucher extension --------------------------------------------------------------------


def test_a_supervisor_extends_the_requested_voucher_and_the_ticket_is_resolved(
    client, db, config, telegram
):
    code, number = extension_request(db, config)
    sign_in(client, "sam")
    page = client.get(f"/staff/tickets/{number}").text
    assert code in page
    # the last valid day, as the member is told it: the 30th day after issue, not the
    # midnight after it
    last_day = i18n.day((NOW + timedelta(days=30)).date(), "zh")
    assert f"有效期至 {last_day}" in page

    answer = post(
        client, f"/staff/tickets/{number}", f"/staff/tickets/{number}/extend-voucher", days="14"
    )

    assert answer.headers["location"].endswith("done=extended")
    with db.unit_of_work(write=False) as session:
        voucher = session.scalar(select(Voucher).where(Voucher.code == code))
        # valid to the end of the 30th day after issue, then 14 days more (core/validity)
        assert voucher.expires_at == end_of_day((NOW + timedelta(days=30 + 14)).date(), SHANGHAI)
        assert voucher.extension_requested_at is None
        assert session.scalar(select(Ticket.status).where(Ticket.number == number)) == "resolved"
    said = [m.text for m in telegram.sent]
    assert any(code in text and "已延期" in text for text in said)
    assert number in said[-1]  # then the rating request


def test_an_agent_cannot_extend_a_voucher(client, db, config):
    code, number = extension_request(db, config)
    sign_in(client, "amy")
    assert "extend-voucher" not in client.get(f"/staff/tickets/{number}").text
    answer = post(
        client, f"/staff/tickets/{number}", f"/staff/tickets/{number}/extend-voucher", days="14"
    )
    assert "error=only+supervisors" in answer.headers["location"]


# -- accounts and keys --------------------------------------------------------------------


def test_only_admins_reach_the_accounts_page(client):
    sign_in(client, "sam")
    assert client.get("/staff/accounts").status_code == 403
    sign_in(client, "ada")
    page = client.get("/staff/accounts?lang=en").text
    assert "Staff accounts" in page and 'data-user="amy"' in page


def test_an_admin_deactivates_an_account_and_its_session_ends(client, db):
    other = TestClient(client.app)
    sign_in(other, "amy")
    assert other.get("/staff/queue", follow_redirects=False).status_code == 200
    sign_in(client, "ada")

    answer = post(client, "/staff/accounts", "/staff/accounts/staff/amy/deactivate")

    assert answer.headers["location"].endswith("done=deactivated")
    assert other.get("/staff/queue", follow_redirects=False).status_code == 303
    assert sign_in(other, "amy").status_code == 401
    with db.unit_of_work(write=False) as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "staff_deactivated"))
        assert (event.actor, event.entity_id, event.created_at) == ("ada", "amy", NOW)


def test_an_admin_creates_a_scoped_key_sees_it_once_and_revokes_it(client):
    sign_in(client, "ada")
    made = post(client, "/staff/accounts", "/staff/accounts/keys", name="till-9", scope="vouchers")
    key = re.search(r'<code class="key">([^<]+)</code>', made.text).group(1)
    api = {"Authorization": f"Bearer {key}"}

    assert client.get("/api/members/M000001", headers=api).status_code == 403
    assert client.get("/api/vouchers/ABCDE-FGHJK", headers=api).status_code == 404
    assert key not in client.get("/staff/accounts").text
    post(client, "/staff/accounts", "/staff/accounts/keys/till-9/revoke")
    assert client.get("/api/vouchers/ABCDE-FGHJK", headers=api).status_code == 401


def test_an_admin_adds_an_account_and_sets_a_password(client):
    sign_in(client, "ada")
    added = post(
        client,
        "/staff/accounts",
        "/staff/accounts/staff",
        username="cal",
        display_name="Cal",
        role="agent",
        language="en",
        password=PASSWORD,
    )
    reset = post(client, "/staff/accounts", "/staff/accounts/staff/cal/password", password="short")
    assert added.headers["location"].endswith("done=account_added")
    assert "at+least+8" in reset.headers["location"]
    assert sign_in(TestClient(client.app), "cal").status_code == 303


# -- erasure ------------------------------------------------------------------------------


def test_an_admin_erases_a_member_after_typing_the_number(client, db):
    sign_in(client, "ada")
    unconfirmed = post(client, "/staff/members/M000003", "/staff/members/M000003/erase", confirm="")
    erased = post(
        client, "/staff/members/M000003", "/staff/members/M000003/erase", confirm="m000003"
    )

    assert "error=type+M000003" in unconfirmed.headers["location"]
    assert erased.headers["location"].endswith("done=erased")
    with db.unit_of_work(write=False) as session:
        member = session.scalar(select(Member).where(Member.member_no == "M000003"))
        assert (member.name, member.phone, member.birthday) == ("", None, None)
    sign_in(client, "sam")
    assert "/erase" not in client.get("/staff/members/M000001").text
