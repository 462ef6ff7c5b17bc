"""Property-based tests (Hypothesis) for what reads input from outside: the text
normaliser, the button payload decoder, the Telegram update reader, CSV purchase rows.
Examples are limited so the whole file runs in seconds."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram import Bot, Update

from app.channels.telegram import incoming, readable
from core import payloads
from core.text import MAX_TEXT, clean
from handlers.desk.imports import import_file

QUICK = settings(max_examples=100, deadline=None)
AT = datetime(2026, 6, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)


@QUICK
@given(st.text())
def test_clean_text_can_always_be_stored_and_cleaning_twice_changes_nothing(text):
    cleaned = clean(text)
    cleaned.encode("utf-8")  # no lone surrogates
    assert "\x00" not in cleaned and len(cleaned) <= MAX_TEXT
    assert clean(cleaned) == cleaned


@QUICK
@given(st.text(max_size=80) | st.from_regex(r"[iacgl]:[\w:=,.-]{0,60}", fullmatch=True))
def test_any_payload_decodes_or_is_refused_as_a_bad_payload(payload):
    try:
        pressed = payloads.decode(payload)
    except payloads.BadPayload:
        return
    assert pressed.kind in ("intent", "answer", "confirm", "global", "language")


BOT = Bot("123456:TEST-TOKEN")
MESSAGE = st.fixed_dictionaries(
    {},
    optional={
        "message_id": JSON,
        "date": st.integers(0, 2**31) | JSON,
        "chat": st.fixed_dictionaries({"id": JSON, "type": JSON}) | JSON,
        "from": st.fixed_dictionaries({"id": JSON, "is_bot": JSON, "first_name": JSON}),
        "text": JSON,
    },
)
UPDATE = st.fixed_dictionaries(
    {"update_id": st.integers() | JSON},
    optional={
        "message": MESSAGE | JSON,
        "callback_query": st.fixed_dictionaries(
            {"id": JSON, "data": JSON, "from": JSON, "chat_instance": JSON}
        ),
    },
)


@QUICK
@given(UPDATE)
def test_any_update_is_read_or_refused_without_an_error(data):
    try:
        update = Update.de_json(data, BOT)
    except Exception:  # python-telegram-bot refusing it: the webhook answers 400
        return
    if update is not None and readable(update):
        incoming(update)


COLUMNS = ["order_id", "member_no", "amount", "purchased_at"]
ROW = st.fixed_dictionaries(
    {
        "order_id": st.text(max_size=50),
        "member_no": st.sampled_from(["M000001", "M000002", "m000001", "X", ""]) | st.text(),
        "amount": st.decimals(allow_nan=True).map(str) | st.text(max_size=30),
        "purchased_at": st.sampled_from(["", "0001-01-01", "2026-05-01T10:00", "9999-12-31"])
        | st.text(max_size=30),
    }
)


@pytest.fixture
def seeded_db(sqlite_db, config):
    from handlers.desk import demo

    demo.seed(sqlite_db, config, AT)
    return sqlite_db


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(ROW, min_size=1, max_size=5))
def test_any_purchase_rows_are_imported_or_reported_by_line(seeded_db, config, tmp_path, rows):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows({k: clean(v) for k, v in row.items()} for row in rows)
    path = tmp_path / "purchases.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    report = import_file("purchases", seeded_db, config, path, AT)
    assert report.imported + report.skipped + len(report.errors) == len(rows)
