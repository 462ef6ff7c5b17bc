"""Guessing staff passwords and API keys: after five failures in fifteen minutes the
account (or the address) waits, 429 with Retry-After, longer after each further failure;
every failure is an audit event."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from handlers.desk import staff_accounts
from storage.models import AuditEvent
from tests.handlers.desk.conftest import NOW, PASSWORD
from tests.staff.conftest import sign_in


def _later(monkeypatch, seconds: float) -> None:
    monkeypatch.setenv("MEMBERBOT_NOW", (NOW + timedelta(seconds=seconds)).isoformat())


def test_five_wrong_passwords_make_the_account_wait_and_the_wait_grows(client, monkeypatch):
    codes = [sign_in(client, "amy", f"wrong-{n}").status_code for n in range(5)]
    assert codes == [401, 401, 401, 401, 429]
    refused = sign_in(client, "amy", PASSWORD)  # even the right password waits
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) == 60
    _later(monkeypatch, 61)
    again = sign_in(client, "amy", "wrong-again")
    assert again.status_code == 429 and int(again.headers["retry-after"]) == 120
    _later(monkeypatch, 61 + 121)
    assert sign_in(client, "amy", PASSWORD).status_code == 303


def test_one_address_trying_many_accounts_is_made_to_wait(client):
    codes = [sign_in(client, f"user{n}", "wrong").status_code for n in range(6)]
    assert codes[:4] == [401] * 4 and codes[4:] == [429, 429]


def test_every_failed_sign_in_is_an_audit_event(client, sqlite_db):
    for n in range(3):
        sign_in(client, "amy", f"wrong-{n}")
    with sqlite_db.unit_of_work(write=False) as session:
        actions = session.scalars(select(AuditEvent.action)).all()
    assert actions.count("signin_failed") == 3


def test_wrong_api_keys_from_one_address_get_429_with_retry_after(client, sqlite_db, web):
    good = staff_accounts.create_api_key(sqlite_db, "pos", "ada", NOW).key
    wrong = {"Authorization": "Bearer mbk_guess"}
    codes = [client.get("/api/members/M000001", headers=wrong).status_code for _ in range(6)]
    assert codes[:4] == [401] * 4 and codes[4:] == [429, 429]
    waited = client.get("/api/members/M000001", headers={"Authorization": f"Bearer {good}"})
    assert waited.status_code == 429 and int(waited.headers["retry-after"]) > 0
    assert waited.json()["error"] == "too_many_requests"
