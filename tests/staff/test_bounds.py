"""Numbers and dates from outside stay within what the records can hold: a page, an
offset or a date out of range is capped or refused (422), never a 500."""

from __future__ import annotations

import pytest

from handlers.desk import staff_accounts
from tests.handlers.desk.conftest import NOW
from tests.staff.conftest import sign_in


@pytest.fixture
def api(client, sqlite_db, web):
    key = staff_accounts.create_api_key(sqlite_db, "pos", "ada", NOW).key
    client.headers["Authorization"] = f"Bearer {key}"
    return client


@pytest.mark.parametrize("offset", [str(10**20), "9" * 5000, "-1"])
def test_an_offset_past_any_queue_is_422(api, offset):
    answer = api.get("/api/tickets", params={"offset": offset})
    assert answer.status_code == 422 and answer.json()["fields"][0]["field"] == "offset"


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00", "0001-01-01T00:00:00+08:00", "1999-12-31"])
def test_a_purchase_dated_before_2000_is_422_naming_the_field(api, when):
    body = {"order_id": "O-1", "member_no": "M000001", "amount": "10", "purchased_at": when}
    answer = api.post("/api/purchases", json=body)
    assert answer.status_code == 422
    assert answer.json()["fields"][0]["field"] == "purchased_at"


@pytest.mark.parametrize("amount", ["99999999999999999999", "1e30", str(2**63)])
def test_a_purchase_amount_no_till_rings_up_is_422_and_earns_nothing(api, amount):
    body = {"order_id": "O-1", "member_no": "M000001", "amount": amount}
    answer = api.post("/api/purchases", json=body)
    assert answer.status_code == 422
    assert answer.json()["fields"][0]["field"] == "amount"
    assert api.get("/api/members/M000001").json()["points"] == 2680


@pytest.mark.parametrize("page", [str(10**20), "9" * 5000, "²", "-3", "0"])
def test_a_queue_page_number_past_the_end_shows_a_page(client, page):
    sign_in(client)
    assert client.get("/staff/queue", params={"page": page}).status_code == 200
