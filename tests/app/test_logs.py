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


def test_member_numbers_birthdays_and_telegram_ids_are_masked():
    masked = mask("bind M000003 born 1995-02-14 (生日1995年2月14日) from telegram 424242424")
    assert "M000003" not in masked and "M****03" in masked
    assert "1995-02-14" not in masked and "1995年2月14日" not in masked
    assert "424242424" not in masked and "42***24" in masked


def test_credentials_in_urls_are_scrubbed_from_log_lines():
    line = mask(
        "GET https://api.weixin.qq.com/cgi-bin/token?grant_type=client_credential"
        "&appid=wx1&secret=S3cr3tAppSecret failed; POST https://api.telegram.org/"
        "bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/sendMessage; "
        "/cgi-bin/message/custom/send?access_token=ACCESS123"
    )
    assert "S3cr3tAppSecret" not in line and "secret=***" in line
    assert "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw" not in line
    assert "ACCESS123" not in line


def test_uvicorn_colour_codes_never_reach_a_record(capsys):
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure(Logging.model_validate({"level": "INFO", "json": True}))
        logging.getLogger("tests.uvicorn_like").warning(
            "Uvicorn running on %s", "http://x", extra={"color_message": "\x1b[1m%s\x1b[0m"}
        )
        lines = capsys.readouterr().err.strip().splitlines()
        line = next(line for line in lines if "Uvicorn running" in line)
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
    assert "\x1b" not in line and "\\u001b" not in line and "color_message" not in line


def test_sqlalchemy_errors_carry_no_statement_parameters(sqlite_db):
    from sqlalchemy import text

    try:
        with sqlite_db.unit_of_work() as session:
            session.execute(text("INSERT INTO no_such_table VALUES (:x)"), {"x": "1995-02-14"})
    except Exception as exc:
        assert "1995-02-14" not in str(exc)
    else:
        raise AssertionError("the insert should have failed")
