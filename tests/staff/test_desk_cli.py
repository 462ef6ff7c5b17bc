"""The desk's commands on SQLite and PostgreSQL: points corrections, voucher extensions,
and staff accounts and keys (deactivate, password, scopes, revoke), each an audit event."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from app.cli import _register, cli
from core.validity import end_of_day
from handlers.desk import staff_accounts
from handlers.desk import ticket_lifecycle as lifecycle
from staff.auth import Sessions
from storage.ledger import Ledger
from storage.members import by_number
from storage.models import (
    ApiKey,
    AuditEvent,
    LedgerEntry,
    OutboundMessage,
    PointsAccount,
    Ticket,
    TicketEvent,
    Voucher,
)
from storage.rewards import redeem
from tests.conftest import ROOT
from tests.handlers.desk.conftest import AMY, NOW, PASSWORD, open_ticket, seed_desk

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def run(db, config, monkeypatch):
    seed_desk(db, config)
    monkeypatch.setenv("DATABASE_URL", db.url.render_as_string(hide_password=False))
    monkeypatch.setenv("MEMBERBOT_NOW", NOW.isoformat())
    monkeypatch.delenv("MEMBERBOT_STAFF", raising=False)
    _register()
    runner = CliRunner()

    def invoke(*args, stdin=None):
        return runner.invoke(cli, ["--config", str(ROOT / "config.yml"), *args], input=stdin)

    return invoke


def points_of(db, member_no="M000002") -> int:
    with db.unit_of_work(write=False) as session:
        return session.get(PointsAccount, by_number(session, member_no).id).balance


def audit(db) -> list[tuple[str, str, str]]:
    with db.unit_of_work(write=False) as session:
        rows = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        return [(e.actor, e.action, e.entity_id) for e in rows]


# -- points adjust ------------------------------------------------------------------------


def test_a_supervisor_corrects_points_with_a_reason_through_the_ledger(run, db):
    added = run("points", "adjust", "M000002", "50", "--reason", "till was offline", "--as", "sam")
    taken = run("points", "adjust", "m000002", "-20", "--reason", "double credit", "--as", "sam")

    assert added.exit_code == 0, added.output
    assert "M000002: +50 points, balance 570" in added.output
    assert taken.exit_code == 0 and "balance 550" in taken.output
    with db.unit_of_work(write=False) as session:
        entries = session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "adjust")).all()
        assert [(e.points, e.actor, e.reason) for e in entries] == [
            (50, "sam", "till was offline"),
            (-20, "sam", "double credit"),
        ]
    assert ("sam", "points_adjusted", "M000002") in audit(db)


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["M000002", "50", "--reason", "x", "--as", "amy"], "only supervisors and admins"),
        (["M000002", "50", "--reason", "  ", "--as", "sam"], "needs a reason"),
        (["M000002", "0", "--reason", "x", "--as", "sam"], "changes nothing"),
        (["M999999", "5", "--reason", "x", "--as", "sam"], "no member M999999"),
        (["M000002", "5", "--reason", "x"], "--as USERNAME"),
        (["M000002", "lots", "--reason", "x", "--as", "sam"], "not a valid integer"),
        (["M000002", "-521", "--reason", "x", "--as", "ada"], "balance is 520, cannot remove 521"),
        (
            ["M000002", "100001", "--reason", "x", "--as", "sam"],
            "points: give 1 to 100000, or -1 to -100000 to take away, not 100001",
        ),
        (["M000002", "-100001", "--reason", "x", "--as", "sam"], "not -100001"),
        (["M000002", str(2**63 - 1), "--reason", "x", "--as", "sam"], f"not {2**63 - 1}"),
        (["M000002", "9" * 20, "--reason", "x", "--as", "sam"], "points: give 1 to 100000"),
    ],
)
def test_a_correction_the_rules_refuse_exits_2_and_changes_nothing(run, db, args, problem):
    result = run("points", "adjust", *args)
    assert result.exit_code == 2
    assert problem in result.output and "Traceback" not in result.output
    assert points_of(db) == 520


def test_the_largest_correction_allowed_posts_and_the_balance_stays_a_whole_number(run, db):
    result = run("points", "adjust", "M000002", "100000", "--reason", "x", "--as", "sam")
    assert result.exit_code == 0 and "balance 100520" in result.output
    assert points_of(db) == 100520 and isinstance(points_of(db), int)


# -- vouchers extend ----------------------------------------------------------------------


def voucher(db, config) -> str:
    with db.unit_of_work() as session:
        member = by_number(session, "M000002")
        made = redeem(
            Ledger(session, config, clock=lambda: NOW), member.id, "coffee_voucher", 1, "k"
        )
        session.commit()
        return made.vouchers[0].code


def test_a_supervisor_extends_a_voucher_and_the_member_is_told(run, db, config):
    code = voucher(db, config)

    result = run("vouchers", "extend", code, "--days", "14", "--as", "sam")

    assert result.exit_code == 0, result.output
    until = (NOW + timedelta(days=44)).date().isoformat()
    assert f"is now valid until {until}" in result.output  # the day the member is told
    with db.unit_of_work(write=False) as session:
        extended = session.scalar(select(Voucher).where(Voucher.code == code))
        # valid to the end of the 30th day after issue, then 14 days more (core/validity)
        assert extended.expires_at == end_of_day((NOW + timedelta(days=30 + 14)).date(), SHANGHAI)
        told = session.scalars(select(OutboundMessage.text)).all()
    last_day = (NOW + timedelta(days=44)).date().isoformat()
    assert told == [
        f"Your voucher Coffee voucher {code} has been extended; it is valid until {last_day}."
    ]
    assert result.output.strip().endswith(f"now valid until {last_day}")  # the member's day
    assert ("sam", "voucher_extended", code) in audit(db)


def test_an_extension_on_the_command_line_closes_the_members_request_for_it(run, db, config):
    code = voucher(db, config)
    number = open_ticket(
        db, config, "请帮我把咖啡券延期", "points_benefits", "M000002", kind="request"
    )
    with db.unit_of_work() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        ticket.voucher_id = session.scalar(select(Voucher.id).where(Voucher.code == code))
        session.commit()

    result = run("vouchers", "extend", code, "--days", "14", "--as", "sam")

    assert result.exit_code == 0, result.output
    with db.unit_of_work(write=False) as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        kinds = session.scalars(
            select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket.id)
        ).all()
        assert ticket.status == "closed"
    assert "voucher_extended" in kinds


def test_a_second_extension_cancels_the_first_ones_unsent_notice(run, db, config):
    code = voucher(db, config)

    run("vouchers", "extend", code, "--days", "14", "--as", "sam")
    run("vouchers", "extend", code, "--days", "14", "--as", "sam")

    with db.unit_of_work(write=False) as session:
        notices = session.execute(
            select(
                OutboundMessage.status, OutboundMessage.last_error, OutboundMessage.text
            ).order_by(OutboundMessage.id)
        ).all()
    first, second = notices
    assert first.status == "cancelled" and first.last_error.startswith("superseded: ")
    assert second.status == "queued"
    assert (NOW + timedelta(days=30 + 28)).date().isoformat() in second.text


def test_a_notice_already_sent_is_left_as_it_is_by_a_later_extension(run, db, config):
    code = voucher(db, config)
    run("vouchers", "extend", code, "--days", "14", "--as", "sam")
    with db.unit_of_work() as session:
        session.scalar(select(OutboundMessage)).status = "sent"
        session.commit()

    run("vouchers", "extend", code, "--days", "14", "--as", "sam")

    with db.unit_of_work(write=False) as session:
        statuses = session.scalars(select(OutboundMessage.status).order_by(OutboundMessage.id))
        assert list(statuses) == ["sent", "queued"]


def test_an_agent_cannot_extend_and_a_used_voucher_is_not_extended(run, db, config):
    code = voucher(db, config)
    agent = run("vouchers", "extend", code, "--days", "14", "--as", "amy")
    with db.unit_of_work() as session:
        session.scalar(select(Voucher).where(Voucher.code == code)).status = "used"
        session.commit()
    used = run("vouchers", "extend", code, "--days", "14", "--as", "sam")
    unknown = run("vouchers", "extend", "NOPE-NOPE", "--days", "14", "--as", "sam")

    assert agent.exit_code == 2 and "only supervisors and admins" in agent.output
    assert used.exit_code == 1 and "used already" in used.output
    assert unknown.exit_code == 2 and "no voucher NOPE-NOPE" in unknown.output


# -- staff accounts and keys --------------------------------------------------------------


def test_a_deactivated_account_signs_in_no_more_its_session_ends_and_as_refuses_it(run, db):
    sessions = Sessions(db, "secret")
    user = staff_accounts.authenticate(db, "sam", PASSWORD)
    cookie = sessions.open(user, NOW)
    assert sessions.current(cookie, NOW) is not None

    result = run("staff", "deactivate", "sam", "--by", "ada")

    assert result.exit_code == 0, result.output
    assert sessions.current(cookie, NOW) is None
    assert staff_accounts.authenticate(db, "sam", PASSWORD) is None
    acting = run("points", "adjust", "M000002", "5", "--reason", "x", "--as", "sam")
    assert acting.exit_code == 2
    assert "the staff account 'sam' is deactivated and acts no more" in acting.output
    assert run("staff", "deactivate", "sam").exit_code == 2
    assert ("ada", "staff_deactivated", "sam") in audit(db)


def test_an_admin_action_recorded_as_an_agent_or_a_stranger_is_refused(run, db):
    by_an_agent = run("staff", "deactivate", "ada", "--by", "amy")
    by_nobody = run("staff", "api-key", "pos-x", "--by", "ghost")

    assert by_an_agent.exit_code == 2 and "--by amy: agent" in by_an_agent.output
    assert by_nobody.exit_code == 2 and "--by ghost: no active staff account" in by_nobody.output
    with db.unit_of_work(write=False) as session:
        assert staff_accounts.by_username(session, "ada").active


def test_the_last_active_admin_cannot_be_deactivated(run, db):
    result = run("staff", "deactivate", "ada")

    assert result.exit_code == 2
    assert "'ada' is the last active admin" in result.output


def test_a_deactivated_agents_open_tickets_go_back_to_the_queue_with_the_reason(run, db, config):
    waiting = open_ticket(db, config, external_id="chat-1")
    assigned = open_ticket(db, config, external_id="chat-2")
    done = open_ticket(db, config, external_id="chat-3")
    for number in (waiting, assigned, done):
        lifecycle.assign(db, number, "amy", AMY, NOW)
    lifecycle.reply(db, config, {}, waiting, "we are on it", AMY, NOW)
    lifecycle.resolve(db, config, {}, done, AMY, NOW)

    result = run("staff", "deactivate", "amy", "--by", "ada")

    assert result.exit_code == 0, result.output
    assert "2 open ticket(s) back in the queue" in result.output
    with db.unit_of_work(write=False) as session:
        found = {t.number: t for t in session.scalars(select(Ticket))}
        assert (found[waiting].assignee_id, found[waiting].status) == (None, "waiting_member")
        assert (found[assigned].assignee_id, found[assigned].status) == (None, "new")
        assert found[done].assignee_id is not None  # a resolved ticket keeps who handled it
        returned = session.execute(
            select(TicketEvent.ticket_id, TicketEvent.body).where(
                TicketEvent.actor == "ada", TicketEvent.kind == "assigned"
            )
        ).all()
        why = "back to the queue: amy's account was deactivated"
        assert set(returned) == {(found[waiting].id, why), (found[assigned].id, why)}


def test_a_new_password_opens_the_account_and_ends_its_sessions(run, db):
    sessions = Sessions(db, "secret")
    cookie = sessions.open(staff_accounts.authenticate(db, "amy", PASSWORD), NOW)

    short = run("staff", "password", "amy", "--password-stdin", stdin="short\n")
    result = run("staff", "password", "amy", "--password-stdin", stdin="a-new-long-secret\n")

    assert short.exit_code == 2 and "at least 8 characters" in short.output
    assert result.exit_code == 0, result.output
    assert sessions.current(cookie, NOW) is None
    assert staff_accounts.authenticate(db, "amy", PASSWORD) is None
    assert staff_accounts.authenticate(db, "amy", "a-new-long-secret") is not None
    assert ("cli", "staff_password_set", "amy") in audit(db)


def test_a_password_for_an_unknown_account_is_refused_before_it_is_asked_for(run):
    result = run("staff", "password", "nobody")  # no stdin: a prompt would abort

    assert result.exit_code == 2
    assert "Password" not in result.output
    assert "no staff account 'nobody'" in result.output


def test_revoking_an_unknown_key_names_the_keys_in_use(run):
    run("staff", "api-key", "till-7")

    result = run("staff", "revoke-key", "nonexist")

    assert result.exit_code == 2
    assert "no API key named 'nonexist'; the keys in use are till-7" in result.output


def test_a_scoped_key_is_made_and_a_key_revoked(run, db):
    made = run("staff", "api-key", "till-7", "--scope", "vouchers", "--scope", "purchases")
    bad = run("staff", "api-key", "till-8", "--scope", "everything")

    assert made.exit_code == 0, made.output
    key = made.stdout.strip().splitlines()[-1]
    with db.unit_of_work(write=False) as session:
        assert staff_accounts.key_holder(session, key).scopes == ("purchases", "vouchers")
    assert bad.exit_code == 2

    revoked = run("staff", "revoke-key", "till-7", "--by", "ada")
    assert revoked.exit_code == 0, revoked.output
    with db.unit_of_work(write=False) as session:
        assert staff_accounts.key_holder(session, key) is None
        assert session.scalar(select(ApiKey.revoked_at)) is not None
    assert run("staff", "revoke-key", "till-7").exit_code == 2
    assert run("staff", "revoke-key", "nobody").exit_code == 2
    assert [a for a in audit(db) if a[2] == "till-7"] == [
        ("cli", "api_key_created", "till-7"),
        ("ada", "api_key_revoked", "till-7"),
    ]


# -- members erase ------------------------------------------------------------------------


def test_an_admin_erases_a_member_and_the_ledger_keeps_its_sums(run, db):
    refused = run("members", "erase", "M000002", "--as", "sam")
    erased = run("members", "erase", "M000002", "--as", "ada")
    again = run("members", "erase", "M000002", "--as", "ada")
    unknown = run("members", "erase", "M999999", "--as", "ada")

    assert refused.exit_code == 2 and "only admins" in refused.output
    assert erased.exit_code == 0, erased.output
    assert "M000002: personal data erased" in erased.output
    assert again.exit_code == 0 and "erased before" in again.output
    assert unknown.exit_code == 2 and "no member M999999" in unknown.output
    with db.unit_of_work(write=False) as session:
        member = by_number(session, "M000002")
        assert (member.name, member.phone, member.birthday) == ("", None, None)
    assert points_of(db) == 520
    assert ("ada", "member_erased", "M000002") in audit(db)
