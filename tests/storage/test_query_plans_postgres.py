"""On PostgreSQL an earning and a redemption read only the member's own rows, whatever plan
the server caches for their prepared statements.

The ledger's statements are prepared (storage/ledger_postgres.py), and after a few runs
PostgreSQL may keep a generic plan that does not know the member. Two such plans read
every redemption of a popular benefit, and every lot of every member, on each redemption
(bench/RESULTS.md, issue 14). The plans are forced generic here and read from
auto_explain, so the test fails if a statement can scan a whole table again.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import event, select, text

from handlers.desk.demo import seed_generated
from storage.ledger import Ledger
from storage.models import Benefit, Member
from storage.rewards import redeem

# Tables that grow with the members and their history; a catalogue table may be scanned.
GROWING = {
    "members", "points_accounts", "ledger_entries", "points_lots", "lot_allocations",
    "redemptions", "vouchers",
}  # fmt: skip
MEMBERS = 3000  # enough rows that reading them all is never the cheaper plan
BENEFIT = "plan_coffee"
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


@pytest.fixture
def busy_postgres(postgres_db, config):
    """A database where a benefit is popular: most members have redeemed it, with the
    statistics of when its tables were young (autovacuum held off), as a server may have
    when it plans: a plan that is safe only with fresh statistics shows here."""
    with postgres_db.engine.begin() as conn:
        for table in GROWING:
            conn.execute(text(f"ALTER TABLE {table} SET (autovacuum_enabled = false)"))
    seed_generated(postgres_db, config, NOW, MEMBERS)
    with postgres_db.unit_of_work() as session:
        session.add(
            Benefit(
                code=BENEFIT, name_zh="咖啡券", name_en="Coffee", cost=10, stock=None,
                tiers=[t.name for t in config.tiers], per_member_limit=1000,
                voucher_validity_days=None,
            )
        )  # fmt: skip
        session.commit()
        ids = list(session.scalars(select(Member.id)))
    for member_id in ids[: MEMBERS // 2]:
        with postgres_db.unit_of_work() as session:
            redeem(
                Ledger(session, config, clock=lambda: NOW), member_id, BENEFIT, 1, uuid.uuid4().hex
            )
            session.commit()
    yield postgres_db, ids
    with postgres_db.engine.begin() as conn:
        for table in GROWING:
            conn.execute(text(f"ALTER TABLE {table} RESET (autovacuum_enabled)"))


def plans_of(db, work) -> list[str]:
    """The plans of every statement `work(session)` runs, each forced generic."""
    plans: list[str] = []

    def explained(dbapi_connection, _record):
        dbapi_connection.add_notice_handler(lambda notice: plans.append(notice.message_primary))
        for setting in (
            "LOAD 'auto_explain'",
            "SET plan_cache_mode = force_generic_plan",
            "SET auto_explain.log_min_duration = 0",
            "SET auto_explain.log_analyze = on",
            "SET auto_explain.log_level = notice",
            "SET client_min_messages = notice",
        ):
            dbapi_connection.execute(setting)
        dbapi_connection.commit()

    db.engine.pool.dispose()  # connections made from now on explain their statements
    event.listen(db.engine, "connect", explained)
    try:
        for _ in range(3):  # prepared on the server from the first run
            with db.unit_of_work() as session:
                work(session)
                session.commit()
    finally:
        event.remove(db.engine, "connect", explained)
        db.engine.pool.dispose()
    return [plan for plan in plans if "Query Text" in plan or "Scan" in plan]


def whole_scans(plans: list[str]) -> set[str]:
    return {table for plan in plans for table in re.findall(r"Seq Scan on (\w+)", plan)}


def test_a_redemption_of_a_popular_benefit_reads_only_the_members_rows(busy_postgres, config):
    db, ids = busy_postgres
    members = iter(ids[MEMBERS // 2 :])

    def redeeming(session):
        ledger = Ledger(session, config, clock=lambda: NOW)
        redeem(ledger, next(members), BENEFIT, 1, uuid.uuid4().hex)

    plans = plans_of(db, redeeming)

    assert any("redemptions" in plan for plan in plans), "auto_explain saw the statements"
    assert not whole_scans(plans) & GROWING
    assert not [plan for plan in plans if "Rows Removed by Filter" in plan]


def test_an_earning_reads_only_the_members_rows(busy_postgres, config):
    db, ids = busy_postgres
    members = iter(ids)

    def earning(session):
        ledger = Ledger(session, config, clock=lambda: NOW)
        ledger.earn_purchase(next(members), uuid.uuid4().hex, Decimal("120"))

    plans = plans_of(db, earning)

    assert any("ledger_entries" in plan for plan in plans)
    assert not whole_scans(plans) & GROWING


def test_auto_explain_reports_a_scan_of_a_whole_table(postgres_db):
    """The other tests would pass vacuously if a scan never showed in what is collected."""
    plans = plans_of(postgres_db, lambda session: session.execute(text("SELECT * FROM members")))

    assert "members" in whole_scans(plans)
