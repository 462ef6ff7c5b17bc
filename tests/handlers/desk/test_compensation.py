"""Compensation by the configured rules: an agent within policy, a supervisor beyond it,
points through the ledger once per ticket."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from handlers.desk import compensation
from handlers.desk.member_views import balance
from handlers.desk.ticket_lifecycle import TicketError
from storage.members import by_number
from storage.models import Compensation, LedgerEntry, PointsAccount, StaffAlert
from tests.handlers.desk.conftest import AMY, BOB, NOW, SAM, open_ticket

ORDER = "DEMO-0001"  # the demo member's purchase of 1,200 yuan


def _balance(db) -> int:
    with db.unit_of_work(write=False) as session:
        return balance(session, by_number(session, "M000001").id)


def _compensation_entries(db) -> list[int]:
    with db.unit_of_work(write=False) as session:
        return list(
            session.scalars(select(LedgerEntry.points).where(LedgerEntry.kind == "compensation"))
        )


def test_a_late_delivery_policy_is_five_to_ten_percent_of_the_order_in_points(config):
    policy = compensation.policy_for(config, "delivery_delay", Decimal("1200"))
    assert (policy.min_points, policy.max_points) == (60, 120)
    assert policy.allows(60) and policy.allows(120)
    assert not policy.allows(121) and not policy.allows(59)


def test_a_fixed_policy_does_not_need_an_order(config):
    policy = compensation.policy_for(config, "service_attitude", None)
    assert (policy.min_points, policy.max_points) == (50, 200)


def test_without_an_order_amount_an_order_based_rule_allows_nothing_on_its_own(config):
    assert not compensation.policy_for(config, "delivery_delay", None).allows(1)


def test_an_agent_grants_compensation_within_policy_through_the_ledger(desk, config, senders):
    number = open_ticket(desk, config, order_id=ORDER)
    before = _balance(desk)
    decision = compensation.propose(
        desk, config, senders, number, 100, "parcel 5 days late", AMY, NOW
    )
    assert (decision.status, decision.within_policy) == ("granted", True)
    assert _balance(desk) == before + 100
    with desk.unit_of_work(write=False) as session:
        entry = session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "compensation"))
        assert (entry.points, entry.actor) == (100, "amy")
        assert entry.idempotency_key.startswith("compensation:")
    assert "100" in senders["telegram"].sent[-1].text  # the member is told


def test_compensation_is_granted_once_per_ticket(desk, config, senders):
    number = open_ticket(desk, config, order_id=ORDER)
    compensation.propose(desk, config, senders, number, 80, "late", AMY, NOW)
    with pytest.raises(TicketError, match="compensated already"):
        compensation.propose(desk, config, senders, number, 80, "late again", BOB, NOW)
    assert _compensation_entries(desk) == [80]


def test_beyond_policy_an_agents_grant_waits_for_a_supervisor(desk, config, senders):
    number = open_ticket(desk, config, order_id=ORDER)
    before = _balance(desk)
    decision = compensation.propose(desk, config, senders, number, 300, "very late", AMY, NOW)
    assert (decision.status, decision.within_policy) == ("pending", False)
    assert _balance(desk) == before
    with desk.unit_of_work(write=False) as session:
        assert session.scalar(select(StaffAlert.kind)) == "approval"


def test_a_supervisor_approves_beyond_policy_and_the_points_arrive(desk, config, senders):
    number = open_ticket(desk, config, order_id=ORDER)
    before = _balance(desk)
    compensation.propose(desk, config, senders, number, 300, "very late", AMY, NOW)
    decision = compensation.approve(desk, config, senders, number, SAM, NOW)
    assert decision.status == "granted"
    assert _balance(desk) == before + 300
    with desk.unit_of_work(write=False) as session:
        found = session.scalar(select(Compensation))
        assert (found.requested_by, found.decided_by, found.within_policy) == ("amy", "sam", False)


def test_an_agent_cannot_approve_compensation(desk, config, senders):
    number = open_ticket(desk, config, order_id=ORDER)
    compensation.propose(desk, config, senders, number, 300, "very late", AMY, NOW)
    with pytest.raises(TicketError, match="only a supervisor"):
        compensation.approve(desk, config, senders, number, BOB, NOW)


def test_a_supervisor_grants_beyond_policy_at_once(desk, config, senders):
    number = open_ticket(desk, config, order_id=ORDER)
    decision = compensation.propose(desk, config, senders, number, 500, "goodwill", SAM, NOW)
    assert (decision.status, decision.within_policy) == ("granted", False)
    assert _compensation_entries(desk) == [500]


def test_a_rejected_proposal_may_be_proposed_again_within_policy(desk, config, senders):
    number = open_ticket(desk, config, order_id=ORDER)
    compensation.propose(desk, config, senders, number, 300, "very late", AMY, NOW)
    assert compensation.reject(desk, number, SAM, NOW, "too much").status == "rejected"
    assert compensation.propose(desk, config, senders, number, 90, "late", AMY, NOW).status == (
        "granted"
    )
    assert _compensation_entries(desk) == [90]


def test_a_ticket_without_a_member_cannot_be_compensated(desk, config, senders):
    number = open_ticket(desk, config, member_no=None, channel="wechat", external_id="o_stranger")
    with pytest.raises(TicketError, match="no member"):
        compensation.propose(desk, config, senders, number, 50, "sorry", AMY, NOW)


def test_compensation_needs_positive_points_and_a_reason(desk, config, senders):
    number = open_ticket(desk, config, order_id=ORDER)
    with pytest.raises(TicketError, match="positive"):
        compensation.propose(desk, config, senders, number, 0, "late", AMY, NOW)
    with pytest.raises(TicketError, match="say why"):
        compensation.propose(desk, config, senders, number, 50, "  ", AMY, NOW)


def test_two_agents_granting_at_once_on_postgres_credit_the_member_once(
    postgres_db, config, senders
):
    from tests.handlers.desk.conftest import seed_desk

    seed_desk(postgres_db, config)
    number = open_ticket(postgres_db, config, order_id=ORDER)
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def grant(actor):
        start.wait()
        try:
            compensation.propose(postgres_db, config, {}, number, 100, "late", actor, NOW)
            outcomes.append("granted")
        except TicketError:
            outcomes.append("refused")

    threads = [threading.Thread(target=grant, args=(who,)) for who in (AMY, BOB)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["granted", "refused"]
    assert _compensation_entries(postgres_db) == [100]
    with postgres_db.unit_of_work(write=False) as session:
        total = session.scalar(
            select(func.sum(LedgerEntry.points)).where(LedgerEntry.member_id == 1)
        )
        assert (
            session.scalar(select(PointsAccount.balance).where(PointsAccount.member_id == 1))
            == total
        )
