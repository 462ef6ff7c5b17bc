"""Claiming a platform message before handling it: of many concurrent deliveries of the
same message, exactly one wins, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from app.channels import records
from storage.db import Database
from storage.models import ChatIdentity
from tests.app.channels.conftest import NOW
from tests.conftest import fresh_postgres


@pytest.fixture
def postgres():
    with fresh_postgres() as (_, _, url):
        database = Database(url)
        yield database
        database.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def claims_db(request, database):
    return database if request.param == "sqlite" else request.getfixturevalue("postgres")


def test_of_concurrent_deliveries_of_one_message_exactly_one_is_claimed(claims_db):
    start = threading.Barrier(8)
    won = []

    def deliver():
        start.wait()
        won.append(records.claim_inbound(claims_db, "wechat", "MSG-1", "o_brand_new_user", NOW))

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(won) == [False] * 7 + [True]
    with claims_db.unit_of_work(write=False) as session:
        created = session.scalars(
            select(ChatIdentity).where(ChatIdentity.external_id == "o_brand_new_user")
        ).all()
        assert len(created) == 1 and created[0].last_inbound_at == NOW


def test_two_first_messages_of_a_new_user_are_both_claimed(claims_db):
    start = threading.Barrier(2)
    won = []

    def deliver(key):
        start.wait()
        won.append(records.claim_inbound(claims_db, "telegram", key, "31337", NOW))

    threads = [threading.Thread(target=deliver, args=(k,)) for k in ("1", "2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert won == [True, True]
