"""Two agents on one ticket, each in their own Chromium context: each page warns, live,
that the other has the ticket open, and the warning goes when the other page does."""

from __future__ import annotations

from tests.handlers.desk.conftest import open_ticket
from tests.staff.conftest import IN_CHROMIUM, signed_in

pytestmark = IN_CHROMIUM


def test_an_agent_is_warned_while_another_has_the_ticket_open(served, browser, sqlite_db, config):
    server, _ = served
    number = open_ticket(sqlite_db, config)
    url = f"{server.url}/staff/tickets/{number}"
    amy = signed_in(browser, server, username="amy")
    amy.goto(url)
    assert amy.locator("#viewers").is_hidden()  # alone on the ticket

    bob = signed_in(browser, server, username="bob")
    bob.goto(url)

    bob.wait_for_selector("#viewers:has-text('Amy Wang also has this ticket open')")
    amy.wait_for_selector("#viewers:has-text('Bob Zhao also has this ticket open')")
    amy.fill("#reply-text", "typed before Bob came")
    bob.context.close()  # Bob closes his window
    amy.wait_for_selector("#viewers", state="hidden")
    assert amy.input_value("#reply-text") == "typed before Bob came"  # updated in place
