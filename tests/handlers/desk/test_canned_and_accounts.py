"""Canned replies (both languages, supervisors edit) and staff accounts (argon2 passwords,
roles, API keys stored as digests)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from handlers.desk import canned_replies, staff_accounts
from handlers.desk.canned_replies import Draft
from handlers.desk.staff_accounts import StaffError
from handlers.desk.ticket_lifecycle import TicketError
from storage.models import ApiKey, CannedReply, StaffUser
from tests.handlers.desk.conftest import AMY, NOW, SAM

DRAFT = Draft(
    key="late_parcel_followup",
    category="delivery_delay",
    title_zh="物流跟进",
    title_en="Courier follow-up",
    body_zh="快递预计明天送达。",
    body_en="The courier expects to deliver tomorrow.",
)


def test_the_migration_brings_canned_replies_in_both_languages(sqlite_db):
    with sqlite_db.unit_of_work(write=False) as session:
        replies = canned_replies.listed(session)
        assert len(replies) >= 6
        assert all(r.body_zh and r.body_en for r in replies)


def test_replies_for_the_tickets_category_come_first(sqlite_db):
    with sqlite_db.unit_of_work(write=False) as session:
        first = canned_replies.listed(session, "billing_refund")[0]
        assert first.category == "billing_refund"


def test_a_supervisor_adds_and_changes_a_canned_reply(desk):
    canned_replies.save(desk, DRAFT, SAM, NOW)
    changed = Draft(**{**DRAFT.__dict__, "body_en": "Tomorrow before noon."})
    canned_replies.save(desk, changed, SAM, NOW)
    with desk.unit_of_work(write=False) as session:
        found = session.scalar(select(CannedReply).where(CannedReply.key == DRAFT.key))
        assert (found.body("en"), found.body("zh"), found.updated_by) == (
            "Tomorrow before noon.",
            "快递预计明天送达。",
            "sam",
        )


def test_an_agent_may_use_but_not_edit_canned_replies(desk):
    with pytest.raises(TicketError, match="only supervisors"):
        canned_replies.save(desk, DRAFT, AMY, NOW)


def test_a_canned_reply_needs_both_languages(desk):
    with pytest.raises(TicketError, match="body_en is empty"):
        canned_replies.save(desk, Draft(**{**DRAFT.__dict__, "body_en": " "}), SAM, NOW)


def test_a_retired_canned_reply_is_no_longer_offered(desk):
    canned_replies.save(desk, DRAFT, SAM, NOW)
    canned_replies.retire(desk, DRAFT.key, SAM, NOW)
    with desk.unit_of_work(write=False) as session:
        assert DRAFT.key not in [r.key for r in canned_replies.listed(session)]


def test_a_staff_password_is_stored_as_an_argon2_hash(sqlite_db):
    staff_accounts.add_staff(sqlite_db, "Lin", "Lin Fang", "s3cret-enough", "agent", "zh", NOW)
    with sqlite_db.unit_of_work(write=False) as session:
        stored = session.scalar(select(StaffUser.password_hash).where(StaffUser.username == "lin"))
    assert stored.startswith("$argon2id$") and "s3cret-enough" not in stored


def test_sign_in_needs_the_right_password_and_an_active_account(sqlite_db):
    staff_accounts.add_staff(sqlite_db, "lin", "Lin", "s3cret-enough", "supervisor", "zh", NOW)
    assert staff_accounts.authenticate(sqlite_db, "lin", "s3cret-enough").role == "supervisor"
    assert staff_accounts.authenticate(sqlite_db, "lin", "wrong-password") is None
    assert staff_accounts.authenticate(sqlite_db, "nobody", "s3cret-enough") is None
    with sqlite_db.unit_of_work() as session:
        session.scalar(select(StaffUser).where(StaffUser.username == "lin")).active = False
        session.commit()
    assert staff_accounts.authenticate(sqlite_db, "lin", "s3cret-enough") is None


@pytest.mark.parametrize(
    ("username", "password", "role", "problem"),
    [
        ("x", "long-enough-1", "agent", "username"),
        ("lin", "short", "agent", "at least 8"),
        ("lin", "long-enough-1", "boss", "role 'boss'"),
    ],
)
def test_an_account_with_bad_details_is_refused(sqlite_db, username, password, role, problem):
    with pytest.raises(StaffError, match=problem):
        staff_accounts.add_staff(sqlite_db, username, "", password, role, "zh", NOW)


def test_an_api_key_is_shown_once_and_stored_only_as_a_digest(sqlite_db):
    made = staff_accounts.create_api_key(sqlite_db, "pos-shanghai", "ada", NOW)
    with sqlite_db.unit_of_work(write=False) as session:
        stored = session.scalar(select(ApiKey))
        assert stored.key_hash == staff_accounts.digest(made.key)
        assert made.key not in (stored.key_hash, stored.prefix)
        assert staff_accounts.key_holder(session, made.key).name == "pos-shanghai"
        assert staff_accounts.key_holder(session, made.key + "x") is None
        stored.revoked_at = NOW
        session.flush()
        assert staff_accounts.key_holder(session, made.key) is None


def test_roles_rank_agent_below_supervisor_below_admin():
    assert staff_accounts.at_least("admin", "supervisor")
    assert staff_accounts.at_least("supervisor", "agent")
    assert not staff_accounts.at_least("agent", "supervisor")
