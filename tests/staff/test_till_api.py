"""The till's REST API on SQLite and PostgreSQL: refunds take back points once per refund
id (the debt rule when they were spent), vouchers are looked up and used once, and a
key reaches only its scopes. The races run on PostgreSQL through a real HTTP server."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from threading import Barrier

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from handlers.desk import staff_accounts
from storage.ledger import Ledger
from storage.members import by_number
from storage.models import OutboundMessage, PointsAccount, Voucher
from storage.rewards import redeem
from tests.handlers.desk.conftest import NOW, seed_desk
from tests.staff.conftest import Served, build_web


@pytest.fixture
def web(db, config, monkeypatch):
    monkeypatch.setenv("STAFF_SESSION_SECRET", "tests-only-secret")
    monkeypatch.setenv("MEMBERBOT_NOW", NOW.isoformat())
    seed_desk(db, config)
    return build_web(db, config, {})


@pytest.fixture
def key(db, web) -> str:
    return staff_accounts.create_api_key(db, "till-1", "ada", NOW).key


@pytest.fixture
def api(web, key):
    with TestClient(web, base_url="http://testserver") as client:
        client.headers["Authorization"] = f"Bearer {key}"
        yield client


def coffee_voucher(db, config, member_no="M000002", key="till-test") -> str:
    with db.unit_of_work() as session:
        member = by_number(session, member_no)
        ledger = Ledger(session, config, clock=lambda: NOW)
        done = redeem(ledger, member.id, "coffee_voucher", 1, key)
        session.commit()
        return done.vouchers[0].code


def balance(api, member_no="M000002") -> int:
    return api.get(f"/api/members/{member_no}").json()["points"]


# -- refunds ------------------------------------------------------------------------------


def test_a_whole_refund_takes_back_the_orders_points_and_a_repeat_changes_nothing(api):
    assert balance(api) == 520  # 420 from order DEMO-0101, 100 opening

    first = api.post("/api/purchases/DEMO-0101/refunds", json={"refund_id": "R-1"})
    again = api.post("/api/purchases/DEMO-0101/refunds", json={"refund_id": "R-1"})

    assert first.status_code == 201
    assert first.json() | {"balance": 100} == {
        "order_id": "DEMO-0101",
        "refund_id": "R-1",
        "member_no": "M000002",
        "amount": "420.00",
        "points": 420,
        "debt": 0,
        "balance": 100,
        "created": True,
    }
    assert again.status_code == 200 and again.json()["created"] is False
    assert balance(api) == 100


def test_a_partial_refund_takes_back_points_pro_rata_and_more_than_was_bought_is_409(api):
    part = api.post("/api/purchases/DEMO-0101/refunds", json={"refund_id": "R-1", "amount": 105})
    over = api.post("/api/purchases/DEMO-0101/refunds", json={"refund_id": "R-2", "amount": 316})

    assert part.status_code == 201 and part.json()["points"] == 105
    assert over.status_code == 409 and over.json()["error"] == "over_refund"
    assert "at most 315.00" in over.json()["message"]
    assert balance(api) == 415


def test_a_refund_answers_its_amount_in_yuan_to_the_cent_first_and_on_replay(api):
    first = api.post("/api/purchases/DEMO-0101/refunds", json={"refund_id": "R-1", "amount": 30})
    again = api.post("/api/purchases/DEMO-0101/refunds", json={"refund_id": "R-1", "amount": 30})
    assert first.json()["amount"] == again.json()["amount"] == "30.00"


def test_refunding_an_order_refunded_in_full_already_says_so(api):
    api.post("/api/purchases/DEMO-0101/refunds", json={"refund_id": "R-1"})
    answer = api.post("/api/purchases/DEMO-0101/refunds", json={"refund_id": "R-2"})
    assert answer.status_code == 409 and answer.json()["error"] == "over_refund"
    assert answer.json()["message"] == (
        "order DEMO-0101 was refunded in full already (420.00 of 420.00)"
    )


def test_a_refund_id_reused_with_another_amount_is_409(api):
    api.post("/api/purchases/DEMO-0101/refunds", json={"refund_id": "R-1", "amount": 10})
    answer = api.post("/api/purchases/DEMO-0101/refunds", json={"refund_id": "R-1", "amount": 20})
    assert answer.status_code == 409 and answer.json()["error"] == "conflict"


def test_refunding_an_unknown_order_is_404_and_a_bad_amount_422(api):
    unknown = api.post("/api/purchases/NOPE-1/refunds", json={"refund_id": "R-1"})
    negative = api.post("/api/purchases/DEMO-0101/refunds", json={"refund_id": "R", "amount": -5})
    assert unknown.status_code == 404 and unknown.json()["error"] == "not_found"
    assert negative.status_code == 422 and negative.json()["fields"][0]["field"] == "amount"


def test_points_already_spent_become_a_debt_the_next_purchase_repays(api, db, config):
    coffee_voucher(db, config, key="a")
    coffee_voucher(db, config, key="b")
    assert balance(api) == 120

    refunded = api.post("/api/purchases/DEMO-0101/refunds", json={"refund_id": "R-1"}).json()
    assert (refunded["points"], refunded["debt"], refunded["balance"]) == (120, 300, 0)
    member = api.get("/api/members/M000002").json()
    assert (member["points"], member["debt"]) == (0, 300)

    bought = api.post(
        "/api/purchases",
        json={"order_id": "NEW-1", "member_no": "M000002", "amount": "500"},
    ).json()
    assert bought["balance"] == 200  # 500 earned, 300 repaid
    with db.unit_of_work(write=False) as session:
        member = by_number(session, "M000002")
        assert session.get(PointsAccount, member.id).debt == 0


def test_the_member_is_told_of_the_refund_in_a_service_message(api, db):
    api.post("/api/purchases/DEMO-0101/refunds", json={"refund_id": "R-1", "amount": 42})
    api.post("/api/purchases/DEMO-0101/refunds", json={"refund_id": "R-1", "amount": 42})
    with db.unit_of_work(write=False) as session:
        told = session.scalars(select(OutboundMessage)).all()
        assert len(told) == 1
        assert told[0].category == "service" and told[0].status == "queued"
        assert "DEMO-0101" in told[0].text and "42 points" in told[0].text  # Alice: English


def test_a_refund_of_one_point_tells_the_member_in_the_singular(api, db):
    api.post("/api/purchases/DEMO-0101/refunds", json={"refund_id": "R-1", "amount": 1})
    with db.unit_of_work(write=False) as session:
        told = session.scalar(select(OutboundMessage.text))
    assert "1 point was taken back" in told


# -- vouchers -----------------------------------------------------------------------------


def test_a_voucher_is_looked_up_and_used_once(api, db, config):
    code = coffee_voucher(db, config)

    seen = api.get(f"/api/vouchers/{code.lower()}").json()
    used = api.post(f"/api/vouchers/{code}/use", json={"order_id": "POS-9", "store": "SH-01"})
    again = api.post(f"/api/vouchers/{code}/use", json={})

    assert (seen["code"], seen["status"], seen["benefit"], seen["member_no"]) == (
        code,
        "active",
        "coffee_voucher",
        "M000002",
    )
    assert used.status_code == 200 and used.json()["status"] == "used"
    assert (used.json()["order_id"], used.json()["store"]) == ("POS-9", "SH-01")
    assert again.status_code == 409 and again.json()["error"] == "used"
    assert api.get(f"/api/vouchers/{code}").json()["status"] == "used"


def test_an_expired_or_void_voucher_is_refused_with_the_reason_and_unknown_is_404(api, db, config):
    expired, void = coffee_voucher(db, config, key="a"), coffee_voucher(db, config, key="b")
    with db.unit_of_work() as session:
        session.scalar(select(Voucher).where(Voucher.code == expired)).expires_at = NOW
        session.scalar(select(Voucher).where(Voucher.code == void)).status = "void"
        session.commit()

    assert api.post(f"/api/vouchers/{expired}/use").json()["error"] == "expired"
    assert api.post(f"/api/vouchers/{void}/use").status_code == 409
    assert api.get(f"/api/vouchers/{expired}").json()["status"] == "expired"
    assert api.get("/api/vouchers/ABCDE-FGHJK").status_code == 404
    assert api.post("/api/vouchers/ABCDE-FGHJK/use").status_code == 404


def test_a_voucher_names_its_last_valid_day_and_an_expired_one_says_that_day(api, db, config):
    code = coffee_voucher(db, config)
    seen = api.get(f"/api/vouchers/{code}").json()
    # Issued 2026-06-01 in Shanghai: valid through the 30th day after, ending at local midnight.
    assert (seen["valid_until"], seen["expires_at"]) == ("2026-07-01", "2026-07-01T16:00:00Z")

    with db.unit_of_work() as session:
        voucher = session.scalar(select(Voucher).where(Voucher.code == code))
        voucher.expires_at = NOW.replace(hour=0)  # the end of 2026-05-31 in Shanghai
        session.commit()
    refused = api.post(f"/api/vouchers/{code}/use").json()

    assert refused["message"] == f"voucher {code} has expired: it was valid until 2026-05-31"
    assert refused["voucher"]["valid_until"] == "2026-05-31"


def test_a_used_voucher_says_when_by_which_order_and_store_and_whether_this_order_used_it(
    api, db, config
):
    code = coffee_voucher(db, config)
    api.post(f"/api/vouchers/{code}/use", json={"order_id": "POS-9", "store": "SH-01"})

    retried = api.post(f"/api/vouchers/{code}/use", json={"order_id": "pos-9", "store": "SH-01"})
    other = api.post(f"/api/vouchers/{code}/use", json={"order_id": "POS-10"})

    assert retried.status_code == 409 and retried.json()["error"] == "used"
    assert retried.json()["same_order"] is True
    assert retried.json()["message"] == (
        f"voucher {code} was used already "
        "(on 2026-06-01 10:00 +0800, this very order POS-9, store SH-01)"
    )
    assert other.status_code == 409 and other.json()["same_order"] is False
    assert other.json()["message"] == (
        f"voucher {code} was used already (on 2026-06-01 10:00 +0800, order POS-9, store SH-01)"
    )
    assert other.json()["voucher"]["order_id"] == "POS-9"


# -- scopes -------------------------------------------------------------------------------


def test_a_key_reaches_only_the_routes_of_its_scopes(api, db):
    till = staff_accounts.create_api_key(db, "till-2", "ada", NOW, scopes=["vouchers"]).key
    headers = {"Authorization": f"Bearer {till}"}

    assert api.get("/api/vouchers/ABCDE-FGHJK", headers=headers).status_code == 404
    member = api.get("/api/members/M000001", headers=headers)
    assert member.status_code == 403 and member.json()["error"] == "forbidden"
    assert api.get("/api/tickets", headers=headers).status_code == 403
    refund = api.post("/api/purchases/DEMO-0101/refunds", json={"refund_id": "R"}, headers=headers)
    assert refund.status_code == 403


# -- races (PostgreSQL, a real server) ----------------------------------------------------


def at_once(url: str, key: str, calls: int, path: str, body: dict) -> list[int]:
    start = Barrier(calls)

    def call(_):
        with httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
            start.wait()
            return client.post(url + path, json=body).status_code

    with ThreadPoolExecutor(calls) as pool:
        return sorted(pool.map(call, range(calls)))


@pytest.fixture
def served(postgres_db, config, monkeypatch):
    monkeypatch.setenv("MEMBERBOT_NOW", (NOW + timedelta(minutes=1)).isoformat())
    seed_desk(postgres_db, config)
    key = staff_accounts.create_api_key(postgres_db, "till-race", "ada", NOW).key
    with Served(build_web(postgres_db, config, {})) as server:
        yield server.url, key


def test_parallel_uses_of_one_voucher_succeed_exactly_once(served, postgres_db, config):
    url, key = served
    code = coffee_voucher(postgres_db, config)

    statuses = at_once(url, key, 8, f"/api/vouchers/{code}/use", {"store": "SH-01"})

    assert statuses == [200] + [409] * 7


def test_parallel_identical_refunds_take_back_the_points_exactly_once(served, postgres_db):
    url, key = served

    statuses = at_once(url, key, 8, "/api/purchases/DEMO-0101/refunds", {"refund_id": "R-1"})

    assert statuses == [200] * 7 + [201]
    with postgres_db.unit_of_work(write=False) as session:
        member = by_number(session, "M000002")
        assert session.get(PointsAccount, member.id).balance == 100
