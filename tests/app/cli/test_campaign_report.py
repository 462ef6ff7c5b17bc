"""`memberbot campaign report` over time: the day-by-day table, and `--json` with the
fields it always had plus `benefits` and `days`; `campaign create --benefit` names what
the campaign promotes."""

from __future__ import annotations

import json
from datetime import timedelta

from tests.app.cli.test_cli_foundation import memberbot
from tests.schedules.conftest import campaign_with_aftermath, local

AT = local("2026-05-20 10:00")
THREE_DAYS_ON = (AT + timedelta(days=3)).isoformat()


def test_the_json_report_keeps_its_fields_and_adds_each_day_since_the_send(
    sqlite_db, config, tmp_path
):
    campaign_with_aftermath(sqlite_db, config, AT)

    done = memberbot(tmp_path, "campaign", "report", "member-day", "--json", now=THREE_DAYS_ON)

    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert {"name", "status", "scheduled_at", "segment", "counts", "redeemed", "returned"} <= set(
        found
    )
    assert (found["audience"], found["redeemed"], found["returned"]) == (2, 1, 2)
    assert found["benefits"] == ["coffee_voucher"]
    assert found["days"] == [
        {"day": "2026-05-20", "delivered": 2, "redeemed": 0, "purchases": 0, "amount": 0.0},
        {"day": "2026-05-21", "delivered": 0, "redeemed": 1, "purchases": 0, "amount": 0.0},
        {"day": "2026-05-22", "delivered": 0, "redeemed": 0, "purchases": 2, "amount": 80.5},
        {"day": "2026-05-23", "delivered": 0, "redeemed": 0, "purchases": 0, "amount": 0.0},
    ]


def test_the_report_prints_a_row_per_day_with_the_amount_in_yuan(sqlite_db, config, tmp_path):
    campaign_with_aftermath(sqlite_db, config, AT)

    done = memberbot(tmp_path, "campaign", "report", "member-day", now=THREE_DAYS_ON)

    assert done.returncode == 0, done.stderr
    assert "redemptions of coffee_voucher" in done.stdout
    day = next(line for line in done.stdout.splitlines() if "2026-05-22" in line)
    assert day.split() == ["2026-05-22", "0", "0", "2", "¥80.50"]


def test_a_campaign_promoting_an_unknown_benefit_is_refused_in_one_line(sqlite_db, tmp_path):
    done = memberbot(
        tmp_path,
        *("campaign", "create", "spring", "--at", "2026-06-01T10:00", "--text-zh", "春季"),
        *("--text-en", "Spring", "--benefit", "golden_goose"),
    )

    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "unknown benefit 'golden_goose'" in done.stderr
