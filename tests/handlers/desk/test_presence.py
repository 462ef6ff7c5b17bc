"""Who else has a ticket open: each open page is a row its event stream keeps fresh; a page
that left is gone at once, one that went silent (a killed worker) after presence.FRESH.
On SQLite and on PostgreSQL, the store every `serve` worker shares."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from handlers.desk import presence
from storage.models import StaffUser, TicketViewer
from tests.handlers.desk.conftest import NOW, open_ticket


def _ids(database) -> dict[str, int]:
    with database.unit_of_work(write=False) as session:
        return dict(session.execute(select(StaffUser.username, StaffUser.id)).all())


def test_an_agent_sees_who_else_has_the_ticket_open_but_not_themselves(desk, config):
    number = open_ticket(desk, config)
    ticket, staff = presence.ticket_id(desk, number), _ids(desk)
    presence.seen(desk, "amy-page", ticket, staff["amy"], NOW)
    presence.seen(desk, "bob-page", ticket, staff["bob"], NOW)
    presence.seen(desk, "bob-second-tab", ticket, staff["bob"], NOW)

    assert presence.watching(desk, ticket, staff["bob"], NOW) == ["Amy Wang"]
    assert presence.watching(desk, ticket, staff["amy"], NOW) == ["Bob Zhao"]
    assert presence.watching(desk, ticket, staff["sam"], NOW) == ["Amy Wang", "Bob Zhao"]


def test_a_page_that_leaves_is_gone_at_once_and_one_gone_silent_after_a_while(desk, config):
    number = open_ticket(desk, config)
    ticket, staff = presence.ticket_id(desk, number), _ids(desk)
    presence.seen(desk, "amy-page", ticket, staff["amy"], NOW)
    presence.seen(desk, "sam-page", ticket, staff["sam"], NOW)

    presence.left(desk, "amy-page")
    assert presence.watching(desk, ticket, staff["bob"], NOW) == ["Sam Li"]

    still = NOW + presence.FRESH - timedelta(seconds=1)
    assert presence.watching(desk, ticket, staff["bob"], still) == ["Sam Li"]
    later = NOW + presence.FRESH + timedelta(seconds=1)
    assert presence.watching(desk, ticket, staff["bob"], later) == []


def test_a_page_kept_open_stays_one_row_and_stale_rows_are_swept(desk, config):
    number = open_ticket(desk, config)
    ticket, staff = presence.ticket_id(desk, number), _ids(desk)
    presence.seen(desk, "silent-page", ticket, staff["sam"], NOW)
    for seconds in range(0, 60, 5):
        presence.seen(desk, "amy-page", ticket, staff["amy"], NOW + timedelta(seconds=seconds))

    with desk.unit_of_work(write=False) as session:
        rows = session.scalars(select(TicketViewer.token)).all()
    assert rows == ["amy-page"]
    assert presence.ticket_id(desk, "T-NO-SUCH") is None
