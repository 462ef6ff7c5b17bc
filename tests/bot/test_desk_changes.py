"""What the desk does to a member's points and data, as the member then sees it in the
chat: a refund and a correction in the points history, the debt that holds redemptions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from handlers.desk import adjustments, refunds
from handlers.desk.erasure import erase_personal_data
from handlers.desk.refunds import Refund
from handlers.desk.ticket_lifecycle import Actor
from storage.members import by_number
from tests.bot.conftest import SEEDED_AT
from tests.bot.script import Script


def chat(database, config, parser, user="demo-en") -> Script:
    return Script(database, config, parser, user=user, at=SEEDED_AT + timedelta(hours=1))


def test_a_refund_shows_in_the_members_points_history(sqlite_db, config, parser, seeded):
    database = seeded(sqlite_db)
    refunds.refund(
        database, config, "DEMO-0101", Refund(refund_id="R-1", amount=100), "pos", SEEDED_AT
    )

    script = chat(database, config, parser)
    script.run({"say": "show my points history", "replies": ["Refund deduction  -100"]}, "history")


def test_a_correction_shows_in_the_members_points_history_with_its_reason(
    sqlite_db, config, parser, seeded
):
    database = seeded(sqlite_db)
    adjustments.adjust(
        database,
        config,
        "M000002",
        200,
        "sorry for the late\nparcel",
        Actor("sam", "supervisor"),
        SEEDED_AT,
        key="k-1",
    )

    script = chat(database, config, parser)
    script.run(
        {
            "say": "show my points history",
            "replies": ["Manual adjustment: sorry for the late parcel  +200"],
        },
        "history",
    )


def test_a_member_in_debt_is_told_why_a_redemption_waits(sqlite_db, config, parser, seeded):
    database = seeded(sqlite_db)
    script = chat(database, config, parser)
    script.run({"say": "redeem 2 coffee vouchers"}, "redeem")
    script.run({"press": "Confirm", "replies": ["120 points left"]}, "confirm")
    refunds.refund(database, config, "DEMO-0101", Refund(refund_id="R-1"), "pos", SEEDED_AT)

    script.run(
        {
            "say": "redeem a coffee voucher",
            "replies": ["300 points of a refunded purchase", "how to earn points"],
            "absent": "other rewards",  # none can be redeemed while in debt
            "buttons": ["How it works"],
        },
        "refused",
    )
    script.run({"press": "How it works", "replies": ["Every 1 yuan spent earns"]}, "how to earn")


def test_a_member_in_debt_is_told_the_debt_with_the_balance(sqlite_db, config, parser, seeded):
    database = seeded(sqlite_db)
    script = chat(database, config, parser)
    script.run({"say": "redeem 2 coffee vouchers"}, "redeem")
    script.run({"press": "Confirm", "replies": ["120 points left"]}, "confirm")
    refunds.refund(database, config, "DEMO-0101", Refund(refund_id="R-1"), "pos", SEEDED_AT)

    script.run(
        {
            "say": "how many points do I have",
            "replies": ["You have 0 points", "You also owe 300 points", "purchases repay them"],
        },
        "balance",
    )


def test_an_erased_members_account_takes_no_correction(sqlite_db, config, seeded):
    database = seeded(sqlite_db)
    with database.unit_of_work() as session:
        erase_personal_data(session, by_number(session, "M000002"), "test", SEEDED_AT)
        session.commit()

    with pytest.raises(adjustments.AdjustmentRefused, match="erased"):
        adjustments.adjust(
            database, config, "M000002", 50, "x", Actor("sam", "supervisor"), SEEDED_AT, "k-2"
        )
