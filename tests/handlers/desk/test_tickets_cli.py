"""`memberbot tickets ...` and `memberbot staff ...` against a real SQLite database."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from app.cli import _register, cli
from handlers.desk import erasure
from handlers.desk.ticket_lifecycle import Actor
from storage.models import MessageLog, OutboundMessage
from tests.conftest import ROOT
from tests.handlers.desk.conftest import NOW, open_ticket, seed_desk


@pytest.fixture
def run(sqlite_db, config, monkeypatch):
    seed_desk(sqlite_db, config)
    monkeypatch.setenv("DATABASE_URL", str(sqlite_db.url))
    monkeypatch.setenv("MEMBERBOT_NOW", NOW.isoformat())
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.delenv("MEMBERBOT_STAFF", raising=False)
    _register()
    runner = CliRunner()

    def invoke(*args, stdin=None):
        return runner.invoke(cli, ["--config", str(ROOT / "config.yml"), *args], input=stdin)

    return invoke


def test_tickets_list_json_prints_one_json_array_urgent_first(run, sqlite_db, config):
    open_ticket(sqlite_db, config, description="slow parcel", channel="console", external_id="demo")
    urgent = open_ticket(
        sqlite_db, config, description="要去消协", channel="console", external_id="demo"
    )
    result = run("tickets", "list", "--json")
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert [t["number"] for t in listed][0] == urgent
    assert {"number", "status", "priority", "urgent", "next_deadline_at"} <= set(listed[0])


def test_tickets_show_prints_the_ticket_and_its_history(run, sqlite_db, config):
    number = open_ticket(sqlite_db, config, channel="console", external_id="demo")
    result = run("tickets", "show", number)
    assert result.exit_code == 0, result.output
    assert number in result.output and "张伟 M000001" in result.output
    assert json.loads(run("tickets", "show", number, "--json").output)["number"] == number


def test_tickets_show_prints_the_order_number_the_member_gave(run, sqlite_db, config):
    number = open_ticket(
        sqlite_db, config, channel="console", external_id="demo", order_id="A20261102"
    )
    assert "order     A20261102" in run("tickets", "show", number).output


def test_tickets_show_reads_the_history_in_the_workbenchs_words(run, sqlite_db, config):
    number = open_ticket(sqlite_db, config, channel="console", external_id="demo")
    run("tickets", "assign", number, "bob", "--as", "sam")
    run("tickets", "reply", number, "我们在处理", "--as", "bob")

    shown = run("tickets", "show", number).output

    assert "Opened (member)" in shown
    assert "Assigned to bob (sam)" in shown
    assert "Status set to Waiting for member (bob)" in shown
    assert "Replied (bob): 我们在处理" in shown
    assert "{" not in shown  # no raw event data


def test_an_erased_members_tickets_list_by_number_alone(run, sqlite_db, config):
    number = open_ticket(sqlite_db, config, channel="console", external_id="demo")
    erasure.erase(sqlite_db, "M000001", Actor("ada", "admin"), NOW)

    listed = run("tickets", "list", "--status", "all").output  # erasure closed it
    shown = run("tickets", "show", number).output

    category = f"{'delivery_delay':<17}"
    assert f"{category} M000001" in listed and f"{category}  M000001" not in listed
    assert "\nmember    M000001 (" in shown


def test_a_staff_member_assigns_replies_and_resolves_from_the_command_line(run, sqlite_db, config):
    number = open_ticket(sqlite_db, config, channel="console", external_id="demo")
    assert run("tickets", "assign", number, "bob", "--as", "sam").exit_code == 0
    replied = run("tickets", "reply", number, "我们在处理", "--as", "bob")
    assert replied.exit_code == 0, replied.output
    assert "sent" in replied.output
    resolved = run("tickets", "resolve", number, "--note", "delivered", "--as", "bob")
    assert resolved.exit_code == 0, resolved.output
    with sqlite_db.unit_of_work(write=False) as session:
        inbox = list(session.scalars(select(MessageLog.text).where(MessageLog.handler == "outbox")))
    assert any("我们在处理" in text for text in inbox)  # the console member's inbox
    assert any(number in text and "1 到 5" in text for text in inbox)
    assert json.loads(run("tickets", "show", number, "--json").output)["status"] == "resolved"


def test_an_unknown_ticket_exits_2_with_one_line(run):
    result = run("tickets", "show", "T999999")
    assert result.exit_code == 2
    assert "no ticket T999999" in result.output
    assert "Traceback" not in result.output


def test_a_move_the_tickets_state_forbids_exits_1_with_one_line(run, sqlite_db, config):
    number = open_ticket(sqlite_db, config, channel="console", external_id="demo")
    assert run("tickets", "resolve", number, "--as", "bob").exit_code == 0
    again = run("tickets", "resolve", number, "--as", "bob")
    assert again.exit_code == 1, again.output
    assert "a resolved ticket cannot become resolved" in again.output
    assert "Traceback" not in again.output and len(again.output.strip().splitlines()) == 1


def test_replying_without_saying_who_you_are_exits_2(run, sqlite_db, config):
    number = open_ticket(sqlite_db, config, channel="console", external_id="demo")
    result = run("tickets", "reply", number, "hello")
    assert result.exit_code == 2
    assert "--as USERNAME" in result.output


def test_staff_add_takes_the_password_from_stdin_and_refuses_a_duplicate(run):
    made = run(
        "staff", "add", "lin", "--role", "supervisor", "--password-stdin", stdin="pass-word-1\n"
    )
    assert made.exit_code == 0, made.output
    again = run("staff", "add", "lin", "--password-stdin", stdin="pass-word-1\n")
    assert again.exit_code == 2 and "already exists" in again.output
    listed = json.loads(run("staff", "list", "--json").output)
    assert {"username": "lin", "name": "lin", "role": "supervisor", "language": "zh"} in listed


def test_staff_api_key_prints_a_new_key_once(run):
    result = run("staff", "api-key", "crm")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("mbk_")


def test_an_erased_members_ticket_leaves_the_queue_and_a_reply_exits_2_queueing_nothing(
    run, sqlite_db, config
):
    number = open_ticket(sqlite_db, config, member_no="M000002", channel="console", external_id="x")
    assert run("tickets", "assign", number, "bob", "--as", "sam").exit_code == 0

    assert run("members", "erase", "M000002", "--as", "ada").exit_code == 0
    replied = run("tickets", "reply", number, "Hi Alice, we will refund the mug.", "--as", "bob")

    assert replied.exit_code == 2
    assert f"ticket {number} is of M000002, whose personal data was erased" in replied.output
    assert number not in run("tickets", "list").output
    shown = run("tickets", "show", number).output
    assert "Status set to Closed (ada)" in shown
    assert "closed: the member's personal data was erased" in shown
    with sqlite_db.unit_of_work(write=False) as session:
        assert session.scalars(select(OutboundMessage)).all() == []


def test_tickets_list_for_an_unknown_assignee_says_so(run, sqlite_db, config):
    open_ticket(sqlite_db, config, channel="console", external_id="demo")

    result = run("tickets", "list", "--assignee", "ghost")

    assert result.exit_code == 2
    assert "no staff account 'ghost'" in result.output


def test_tickets_list_json_carries_the_order_number(run, sqlite_db, config):
    open_ticket(sqlite_db, config, channel="console", external_id="demo", order_id="A20261102")

    listed = json.loads(run("tickets", "list", "--json").output)

    assert listed[0]["order_id"] == "A20261102"
