"""The engine's own promises, beyond what the conversation scripts show."""

from __future__ import annotations

import re
import string
import threading

import pytest
from sqlalchemy import func, select

from bot.engine import Engine
from bot.router import FORMS, ROUTES
from core import catalogue, payloads
from core.messages import Button, Inbound
from storage.models import MessageLog, Redemption, TicketEvent
from tests.bot.conftest import SEEDED_AT
from tests.conftest import ROOT


@pytest.fixture
def engine(sqlite_db, config, parser, seeded):
    return Engine(seeded(sqlite_db), config, parser, clock=lambda: SEEDED_AT)


def _say(engine, text=None, button=None, user="demo", message_id=None):
    return engine.handle(Inbound("console", user, text=text, button=button, message_id=message_id))


def _confirm_button(turn) -> str:
    return next(b.payload for r in turn.replies for b in r.buttons if b.payload.endswith(":y"))


def test_a_channel_retry_of_the_same_message_gets_the_same_replies_and_is_handled_once(engine):
    asked = _say(engine, "兑换咖啡券", message_id="wx-1")
    first = _say(engine, button=_confirm_button(asked), message_id="wx-2")
    again = _say(engine, button=_confirm_button(asked), message_id="wx-2")
    assert again.duplicate and not first.duplicate
    assert [r.text for r in again.replies] == [r.text for r in first.replies]
    with engine.database.unit_of_work(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Redemption)) == 1
        assert (
            session.scalar(
                select(func.count())
                .select_from(MessageLog)
                .where(MessageLog.external_msg_id == "wx-2")
            )
            == 1
        )


def test_the_confirm_button_of_a_redemption_changed_since_redeems_nothing(engine):
    """`3张` after "redeem 1 coffee voucher?" asks again: the first question's button
    would redeem what the member no longer wants."""
    first = _say(engine, "兑换咖啡券")
    changed = _say(engine, "3张")
    assert "3 张咖啡券" in changed.replies[0].text
    stale = _say(engine, button=_confirm_button(first))
    assert stale.outcome == "stale"
    with engine.database.unit_of_work(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Redemption)) == 0
    done = _say(engine, button=_confirm_button(changed))
    assert "3 张咖啡券，扣除 600 积分" in done.replies[0].text


def test_every_message_in_and_out_is_logged_with_what_the_bot_understood(engine):
    _say(engine, "我还有多少积分")
    with engine.database.unit_of_work(write=False) as session:
        inbound, outbound = session.scalars(select(MessageLog).order_by(MessageLog.id)).all()
        assert (inbound.direction, inbound.intent, inbound.handler, inbound.outcome) == (
            "in",
            "check_points",
            "points.check_points",
            "answered",
        )
        assert inbound.confidence > 0.45 and inbound.latency_ms > 0
        assert inbound.member_id is not None
        assert (outbound.direction, outbound.reply_to_id) == ("out", inbound.id)
        assert "2,680" in outbound.text


def test_a_failing_handler_answers_politely_rolls_back_and_is_logged(engine, monkeypatch):
    def broken(ctx):
        ctx.state.misses = 99
        raise RuntimeError("boom")

    monkeypatch.setitem(ROUTES, "check_points", ROUTES["check_points"].__class__(broken, True))
    turn = _say(engine, "我还有多少积分")
    assert turn.outcome == "error" and "抱歉" in turn.replies[0].text
    with engine.database.unit_of_work(write=False) as session:
        outcomes = session.scalars(select(MessageLog.outcome)).all()
    assert outcomes == ["error", "error"]
    assert _say(engine, "你好").outcome == "answered"


def test_a_button_payload_longer_than_telegram_allows_is_refused():
    with pytest.raises(ValueError, match="64 bytes"):
        Button("x", "i:" + "a" * 63)


def test_the_longest_payloads_the_bot_builds_fit_in_64_bytes():
    longest_intent = max(ROUTES, key=len)
    longest_benefit = "coffee_voucher_with_a_much_longer_code"
    for payload in (
        payloads.intent("bind_account", then=longest_intent),
        payloads.intent("redeem_benefit", benefit=longest_benefit[:24]),
        payloads.confirm("ffffffff", True),
        payloads.answer("service_attitude"),
    ):
        assert len(payload.encode()) <= 64, payload
        assert payloads.decode(payload)


def test_both_languages_have_the_same_keys_and_the_same_fields():
    zh, en = catalogue.strings("zh"), catalogue.strings("en")
    assert set(zh) == set(en)

    def fields(template):
        return {name for _, name, _, _ in string.Formatter().parse(template) if name}

    assert {k: fields(v) for k, v in zh.items()} == {k: fields(v) for k, v in en.items()}


def test_every_catalogue_key_the_code_names_exists():
    named = set()
    for path in [*ROOT.glob("bot/*.py"), *ROOT.rglob("handlers/**/*.py")]:
        source = path.read_text(encoding="utf-8")
        named |= set(
            re.findall(r"""(?:say|\.t|button|reask|confirm)\(\s*"([a-z_]+\.[a-z_.]+)\"""", source)
        )
    missing = sorted(key for key in named if not catalogue.has("zh", key))
    assert not missing


def test_every_intent_of_the_contract_has_a_route_and_a_button_label():
    contract = [
        "greet",
        "goodbye",
        "thanks",
        "affirm",
        "deny",
        "cancel",
        "help",
        "check_points",
        "points_history",
        "tier_info",
        "list_benefits",
        "redeem_benefit",
        "my_vouchers",
        "membership_status",
        "bind_account",
        "update_profile",
        "file_complaint",
        "ticket_status",
        "human_handoff",
        "unsubscribe",
        "subscribe",
        "set_language",
        "ask_rules",
        "out_of_scope",
    ]
    assert set(contract) <= set(ROUTES)
    assert all(catalogue.has("en", f"intent.{name}") for name in ROUTES)


def test_every_form_state_can_ask_and_answer():
    for form in FORMS.values():
        assert form.states, form.name
        for name, state in form.states.items():
            assert callable(state.ask) and callable(state.answer), f"{form.name}.{name}"


def test_every_form_has_a_name_for_the_member_when_it_is_set_aside():
    """ "Your erase request isn't finished. Set it aside?" names the form: without the
    name the turn failed (erase_data had none)."""
    assert [name for name in FORMS if not catalogue.has("zh", f"form.task.{name}")] == []


def test_staff_resolving_a_hand_off_gives_the_conversation_back_to_the_bot(engine):
    from handlers.desk import tickets
    from storage.models import ConversationState, Ticket

    assert _say(engine, "转人工").owner == "staff"
    assert _say(engine, "还在吗").replies == []
    with engine.database.unit_of_work() as session:
        ticket = session.scalar(select(Ticket))
        assert tickets.hand_back(session, ticket, actor="staff:li", at=SEEDED_AT) == 1
        session.commit()
    with engine.database.unit_of_work(write=False) as session:
        state = session.scalar(select(ConversationState))
        owner = (state.owner, state.ticket_id)
        kinds = session.scalars(select(TicketEvent.kind).order_by(TicketEvent.id)).all()
    assert owner == ("bot", None)
    assert kinds[-2:] == ["member_message", "handed_back"]
    assert _say(engine, "我还有多少积分").replies


@pytest.mark.postgres
def test_two_simultaneous_presses_of_confirm_redeem_once_on_postgres(
    postgres_db, config, parser, seeded
):
    engine = Engine(seeded(postgres_db), config, parser, clock=lambda: SEEDED_AT)
    confirm = _confirm_button(_say(engine, "兑换咖啡券"))
    outcomes = []
    start = threading.Barrier(2)

    def press():
        start.wait()
        outcomes.append(_say(engine, button=confirm).outcome)

    threads = [threading.Thread(target=press) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["answered", "repeat"]
    with postgres_db.unit_of_work(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Redemption)) == 1
