"""The REST API: keys, bad payloads, idempotent purchases, members and tickets."""

from __future__ import annotations

import pytest

from handlers.desk import staff_accounts
from handlers.desk import ticket_lifecycle as lifecycle
from handlers.desk.erasure import erase_personal_data
from storage.members import by_number
from tests.handlers.desk.conftest import AMY, NOW, open_ticket


@pytest.fixture
def key(sqlite_db, web) -> str:
    return staff_accounts.create_api_key(sqlite_db, "pos-shanghai", "ada", NOW).key


@pytest.fixture
def api(client, key):
    client.headers["Authorization"] = f"Bearer {key}"
    return client


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Basic YWRhOnNlY3JldA==", "Bearer mbk_not-a-real-key", "bearer  "],
)
def test_a_request_without_a_valid_key_gets_401_json(client, key, header):
    headers = {"Authorization": header} if header else {}
    answer = client.get("/api/members/M000001", headers=headers)
    assert answer.status_code == 401
    assert answer.json()["error"] == "unauthorized"
    assert answer.headers["www-authenticate"] == "Bearer"


def test_a_revoked_key_is_refused(client, key, sqlite_db):
    from sqlalchemy import select

    from storage.models import ApiKey

    with sqlite_db.unit_of_work() as session:
        session.scalar(select(ApiKey)).revoked_at = NOW
        session.commit()
    answer = client.get("/api/members/M000001", headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 401


def test_a_bad_body_without_a_key_is_still_401_not_422(client, key):
    answer = client.post("/api/purchases", content=b"{not json", headers={"X": "y"})
    assert answer.status_code == 401


def test_the_documentation_is_open_and_describes_every_route(client):
    spec = client.get("/api/openapi.json").json()
    assert {"/members/{member_no}", "/purchases", "/tickets", "/tickets/{ticket}"} <= set(
        spec["paths"]
    )
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert "SwaggerUIBundle" in page.text and "/api/openapi.json" in page.text
    assert "cdn" not in page.text.lower() and "https://" not in page.text
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"):
        assert client.get(f"/api/docs/assets/{asset}").status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "status", "error"),
    [
        ("GET", "/api/nothing-here", 404, "not_found"),
        ("DELETE", "/api/purchases", 405, "method_not_allowed"),
        ("GET", "/nothing-here", 404, "not_found"),
        ("POST", "/healthz", 405, "method_not_allowed"),
    ],
)
def test_unknown_routes_answer_the_documented_json_error(api, method, path, status, error):
    answer = api.request(method, path)
    assert answer.status_code == status
    assert answer.json() == {"error": error, "message": f"no route {method} {path}: see /api/docs"}


def test_a_member_is_read_with_points_and_tier(api):
    member = api.get("/api/members/M000001").json()
    assert member["name"] == "张伟" and member["tier"] == "gold"
    assert member["points"] == 2680
    assert member["points_expiring"][0]["points"] == 300


def test_an_unknown_member_is_404_json(api):
    answer = api.get("/api/members/M999999")
    assert answer.status_code == 404
    assert answer.json() == {"error": "not_found", "message": "no member M999999"}


def test_a_malformed_member_number_is_422_naming_the_field(api):
    answer = api.get("/api/members/12345")
    assert answer.status_code == 422
    assert answer.json()["fields"][0]["field"] == "member_no"


def test_a_purchase_earns_points_once_per_order_number(api):
    body = {"order_id": "POS-2026-0001", "member_no": "M000002", "amount": "199.90"}
    first = api.post("/api/purchases", json=body)
    assert first.status_code == 201
    assert first.json()["points"] == 199 and first.json()["created"] is True
    again = api.post("/api/purchases", json=body)
    assert again.status_code == 200
    assert again.json()["created"] is False
    assert again.json()["balance"] == first.json()["balance"] == 520 + 199


def test_an_order_number_in_another_case_is_the_same_order(api):
    body = {"order_id": "ORD-1001", "member_no": "M000002", "amount": "120"}
    first = api.post("/api/purchases", json=body)
    again = api.post("/api/purchases", json={**body, "order_id": "ord-1001"})
    refund = api.post("/api/purchases/Ord-1001/refunds", json={"refund_id": "R-1"})

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["created"] is False and again.json()["order_id"] == "ORD-1001"
    assert again.json()["balance"] == first.json()["balance"]
    assert refund.status_code == 201 and refund.json()["order_id"] == "ORD-1001"


def test_the_same_order_number_for_another_amount_is_a_conflict(api):
    body = {"order_id": "POS-2026-0002", "member_no": "M000002", "amount": "50"}
    api.post("/api/purchases", json=body)
    answer = api.post("/api/purchases", json={**body, "amount": "60"})
    assert answer.status_code == 409
    assert answer.json()["error"] == "conflict"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"member_no": "M000001", "amount": "10"}, "order_id"),
        ({"order_id": "A1", "amount": "10"}, "member_no"),
        ({"order_id": "A1", "member_no": "M000001", "amount": "-5"}, "amount"),
        ({"order_id": "A1", "member_no": "M000001", "amount": "ten"}, "amount"),
        ({"order_id": "A1", "member_no": "M000001", "amount": "1.234"}, "amount"),
        ({"order_id": "A 1", "member_no": "M000001", "amount": "1"}, "order_id"),
        ({"order_id": "A1", "member_no": "M000001", "amount": "1", "points": 9}, "points"),
        (
            {"order_id": "A1", "member_no": "M000001", "amount": "1", "purchased_at": "soon"},
            "purchased_at",
        ),
        (
            {
                "order_id": "A1",
                "member_no": "M000001",
                "amount": "1",
                "purchased_at": "2030-01-01T00:00:00+08:00",
            },
            "purchased_at",
        ),
        (
            {
                "order_id": "A1",
                "member_no": "M000001",
                "amount": "1",
                "purchased_at": "1999-12-31T10:00:00+08:00",
            },
            "purchased_at",
        ),
    ],
)
def test_a_bad_purchase_is_422_and_names_the_field(api, body, field):
    answer = api.post("/api/purchases", json=body)
    assert answer.status_code == 422
    problem = answer.json()
    assert problem["error"] == "validation_failed"
    assert field in [f["field"] for f in problem["fields"]]
    assert problem["message"].startswith(field) or f"; {field}" in problem["message"]


def test_a_body_that_is_not_json_is_422_saying_so(api):
    answer = api.post(
        "/api/purchases", content=b"{oops", headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 422
    assert answer.json()["message"] == "body: not valid JSON; send a JSON object"
    assert [f["field"] for f in answer.json()["fields"]] == ["body"]


def test_a_purchase_through_the_api_renews_the_membership_the_member_api_shows(api):
    before = api.get("/api/members/M000003").json()["membership_expires"]  # joined 100 days ago
    api.post("/api/purchases", json={"order_id": "R-1", "member_no": "M000003", "amount": "10"})
    after = api.get("/api/members/M000003").json()["membership_expires"]

    assert (before, after) == ("2027-02-20", "2028-02-20")  # a term on from its expiry


def test_expiring_points_carry_the_day_the_bot_names(api):
    [soon] = api.get("/api/members/M000001").json()["points_expiring"]

    assert soon["points"] == 300
    assert soon["valid_until"] == soon["expires_at"][:10]  # the seed's lot ends at 10:00


def test_a_purchase_for_an_unknown_member_is_404(api):
    answer = api.post(
        "/api/purchases", json={"order_id": "X1", "member_no": "M999999", "amount": "5"}
    )
    assert answer.status_code == 404


def test_a_purchase_whose_points_would_have_expired_already_is_422(api):
    before = api.get("/api/members/M000001").json()["points"]
    answer = api.post(
        "/api/purchases",
        json={
            "order_id": "OLD2",
            "member_no": "M000001",
            "amount": "500",
            "purchased_at": "2024-06-01T10:00:00",
        },
    )

    assert answer.status_code == 422
    assert "would have expired" in answer.json()["message"]
    assert api.get("/api/members/M000001").json()["points"] == before


def test_a_purchase_for_an_erased_member_is_409(api, sqlite_db):
    with sqlite_db.unit_of_work() as session:
        erase_personal_data(session, by_number(session, "M000003"), "test", NOW)
        session.commit()

    answer = api.post(
        "/api/purchases", json={"order_id": "E1", "member_no": "M000003", "amount": "5"}
    )

    assert (answer.status_code, answer.json()["error"]) == (409, "erased")


def test_tickets_are_listed_urgent_first_and_filtered(api, sqlite_db, config):
    normal = open_ticket(sqlite_db, config)
    urgent = open_ticket(sqlite_db, config, description="要去消协投诉")
    listed = api.get("/api/tickets").json()
    assert [t["number"] for t in listed["items"]] == [urgent, normal]
    assert listed["total"] == 2
    assert [t["number"] for t in api.get("/api/tickets?urgent=true").json()["items"]] == [urgent]
    page = api.get("/api/tickets?limit=1&offset=1").json()
    assert [t["number"] for t in page["items"]] == [normal]
    assert api.get("/api/tickets?member_no=M000002").json()["total"] == 0


def test_bad_ticket_filters_are_422_naming_the_parameter(api):
    for query, field in (
        ("status=lost", "status"),
        ("limit=0", "limit"),
        ("priority=x", "priority"),
    ):
        answer = api.get(f"/api/tickets?{query}")
        assert answer.status_code == 422
        assert answer.json()["fields"][0]["field"] == field


def test_a_ticket_is_read_by_number_or_id_without_internal_notes(api, sqlite_db, config):
    number = open_ticket(sqlite_db, config)
    lifecycle.add_note(sqlite_db, number, "secret staff note", AMY, NOW)
    by_number = api.get(f"/api/tickets/{number}").json()
    by_id = api.get(f"/api/tickets/{by_number['id']}").json()
    assert by_number == by_id
    assert "secret staff note" not in str(by_number)
    assert by_number["events"][0]["kind"] == "opened"
    assert api.get("/api/tickets/T999999").status_code == 404
    assert api.get("/api/tickets/999999999999").status_code == 404
    assert api.get("/api/tickets/not-a-ticket").status_code == 422
