import json
import logging

from app.logs import configure, mask
from core.config import Logging


def test_phone_numbers_openids_and_emails_are_masked():
    text = "member 13800000001 openid oAbC1234567890abcdefghijkl mail zhang.wei@example.com"
    masked = mask(text)
    assert "13800000001" not in masked and "138****0001" in masked
    assert "oAbC1234567890abcdefghijkl" not in masked and "oAbC****" in masked
    assert "zhang.wei@example.com" not in masked and "z***@example.com" in masked


def test_order_numbers_are_not_mistaken_for_phone_numbers():
    assert mask("order 202611051234567") == "order 202611051234567"


def test_json_log_lines_carry_the_level_logger_and_masked_message(capsys):
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure(Logging.model_validate({"level": "INFO", "json": True}))
        logging.getLogger("bot.test").warning("bound %s", "13800000002")
        line = capsys.readouterr().err.strip().splitlines()[-1]
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
    record = json.loads(line)
    assert record["level"] == "warning"
    assert record["logger"] == "bot.test"
    assert record["event"] == "bound 138****0002"
