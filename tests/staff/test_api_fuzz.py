"""The REST API under Hypothesis: requests built from its own OpenAPI request shapes, with
any values in them, are answered 2xx or 4xx, never 500."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.desk import staff_accounts
from tests.handlers.desk.conftest import NOW

FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
ANY = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(["M000001", "0001-01-01", "10" * 20, "-1", "2026-05-31T10:00:00+08:00"])
)
QUERY_TEXT = st.text(max_size=30) | st.sampled_from([str(10**20), "9" * 5000, "-1", "open"])


@pytest.fixture
def api(client, sqlite_db, web):
    key = staff_accounts.create_api_key(sqlite_db, "pos", "ada", NOW).key
    client.headers["Authorization"] = f"Bearer {key}"
    return client


def test_every_route_in_the_schema_is_fuzzed_here(api):
    paths = set(api.get("/api/openapi.json").json()["paths"])
    assert paths == {
        "/members/{member_no}",
        "/purchases",
        "/purchases/{order_id}/refunds",
        "/tickets",
        "/tickets/{ticket}",
        "/vouchers/{code}",
        "/vouchers/{code}/use",
    }


@FUZZ
@given(
    body=st.fixed_dictionaries(
        {}, optional={k: ANY for k in ("order_id", "member_no", "amount", "purchased_at")}
    )
    | st.dictionaries(st.text(max_size=10), ANY, max_size=3)
)
def test_any_purchase_body_is_answered_without_a_server_error(api, body):
    assert api.post("/api/purchases", json=body).status_code < 500


@FUZZ
@given(
    params=st.fixed_dictionaries(
        {},
        optional={
            k: QUERY_TEXT
            for k in ("status", "member_no", "priority", "urgent", "late", "limit", "offset")
        },
    )
)
def test_any_ticket_query_is_answered_without_a_server_error(api, params):
    assert api.get("/api/tickets", params=params).status_code < 500


@FUZZ
@given(
    ref=st.text(min_size=1, max_size=60), route=st.sampled_from(["members", "tickets", "vouchers"])
)
def test_any_path_value_is_answered_without_a_server_error(api, ref, route):
    answer = api.get(f"/api/{route}/{quote(ref, safe='')}")
    assert answer.status_code < 500


@FUZZ
@given(
    ref=st.text(min_size=1, max_size=60),
    route=st.sampled_from(["purchases/{}/refunds", "vouchers/{}/use"]),
    body=st.fixed_dictionaries(
        {}, optional={k: ANY for k in ("refund_id", "amount", "order_id", "store")}
    )
    | st.dictionaries(st.text(max_size=10), ANY, max_size=3),
)
def test_any_refund_or_voucher_use_is_answered_without_a_server_error(api, ref, route, body):
    answer = api.post(f"/api/{route.format(quote(ref, safe=''))}", json=body)
    assert answer.status_code < 500
