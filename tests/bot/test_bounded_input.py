"""What a member sends is bounded before the engine and the records see it: an absurd
quantity gets the polite limit, NUL bytes and lone surrogates are removed (PostgreSQL
refuses NUL in text; a lone surrogate cannot be written as UTF-8)."""

from __future__ import annotations

import pytest

from bot.engine import Engine
from core import payloads
from core.messages import Inbound
from tests.bot.conftest import SEEDED_AT


@pytest.fixture
def engine(db, config, parser, seeded):
    return Engine(seeded(db), config, parser, clock=lambda: SEEDED_AT)


def test_a_button_with_a_four_hundred_digit_quantity_gets_a_polite_answer(engine):
    pressed = payloads.intent("redeem_benefit", benefit="coffee_voucher", quantity="9" * 400)
    turn = engine.handle(Inbound("console", "demo", button=pressed))
    assert turn.outcome != "error" and turn.replies


@pytest.mark.parametrize("text", ["我还有多少积分\x00", "我还有\ud800多少积分", "\x00\x00"])
def test_nul_bytes_and_lone_surrogates_never_reach_the_database(engine, text):
    turn = engine.handle(Inbound("console", "demo", text=text))
    assert turn.outcome != "error" and turn.replies
