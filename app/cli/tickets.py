"""`memberbot tickets ...`: the staff ticket commands (list, show, reply, assign, resolve)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import click

from app.cli import BadInput, Failed, as_option, cli, pass_app, staff_actor
from core.clock import now
from handlers.desk import staff_accounts, ticket_detail
from handlers.desk import ticket_lifecycle as lifecycle
from handlers.desk import ticket_views as views
from handlers.desk.ticket_delivery import Delivered, Senders
from handlers.desk.ticket_lifecycle import STATUSES
from staff.i18n import event_label, words

STATUS_CHOICES = ["open", "all", *STATUSES]


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=datetime.isoformat)


@cli.group()
def tickets() -> None:
    """Staff ticket commands."""


@tickets.command("list")
@click.option("--status", type=click.Choice(STATUS_CHOICES), default="open", show_default=True)
@click.option("--priority", type=click.Choice(["urgent", "high", "normal", "low"]))
@click.option("--urgent", is_flag=True, help="Urgent tickets only.")
@click.option("--late", is_flag=True, help="Tickets past a deadline only.")
@click.option("--assignee", help="A username, `none` for unassigned.")
@click.option("--member", "member_no", help="One member's tickets.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@pass_app
def listing(app, as_json: bool, **options: Any) -> None:
    """The queue: urgent first, then priority, then the soonest deadline."""
    with app.database.unit_of_work(write=False) as session:
        assignee = options.get("assignee")
        if assignee not in (None, "none") and staff_accounts.by_username(session, assignee) is None:
            # `--assignee ghost` listed the unassigned queue as if it were ghost's.
            raise BadInput(f"no staff account {assignee!r} (--assignee takes a username or none)")
        page = views.listing(session, app.config, now(), **options)
    if as_json:
        click.echo(_json([r.summary().model_dump() for r in page.rows]))
        return
    if not page.rows:
        click.echo("no tickets")
        return
    zone = app.config.zone
    for r in page.rows:
        due = (
            r.next_deadline_at.astimezone(zone).strftime("%m-%d %H:%M")
            if r.next_deadline_at
            else "-"
        )
        flags = ("URGENT " if r.urgent else "") + ("LATE" if r.late else "")
        who = _member(r.member_name, r.member_no)
        click.echo(
            f"{r.number}  {r.priority:<7} {r.status:<15} due {due}  {r.category:<17} "
            f"{who}  {flags}".rstrip()
        )
    if page.total > len(page.rows):
        click.echo(f"({len(page.rows)} of {page.total}; --limit shows more)")


@tickets.command()
@click.argument("ticket")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def show(app, ticket, as_json) -> None:
    """One ticket with its history (internal notes included unless --json)."""
    with app.database.unit_of_work(write=False) as session:
        found = lifecycle.find(session, ticket)
        if as_json:
            click.echo(_json(views.history(session, found, now(), app.config).model_dump()))
            return
        seen = ticket_detail.detail(session, found, now(), app.config)
        zone = app.config.zone

        def when(moment):
            return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")

        r = seen.row
        click.echo(f"{r.number}  {r.kind} · {r.category} · {r.priority} · {r.status}")
        if seen.member:
            click.echo(
                f"member    {_member(seen.member.name, seen.member.member_no)} "
                f"({seen.member.tier}), {seen.balance} points"
            )
        if found.order_id:
            click.echo(f"order     {found.order_id}")
        click.echo(f"opened    {when(r.created_at)}")
        if r.next_deadline_at:
            click.echo(
                f"due       {r.next_deadline} {when(r.next_deadline_at)}{'  LATE' if r.late else ''}"
            )
        click.echo(f"assignee  {r.assignee or '-'}")
        click.echo(f"\n{found.description}\n")
        for said in seen.transcript:
            click.echo(f"  {when(said.at)} {said.who:>6}: {said.text}")
        click.echo("")
        t = words("en")  # the command line's language
        for event in seen.events:
            body = f": {event.body}" if event.body else ""
            label = event_label(event.kind, event.data, t)
            click.echo(f"  {when(event.created_at)} {label} ({event.actor}){body}")


def _member(name: str | None, member_no: str | None) -> str:
    """ "Alice Chen M000002"; an erased member has no name left, only the number."""
    return " ".join(part for part in (name, member_no) if part) or "-"


def _to_member(app, ticket: str, what: str, work: Callable[[Senders], Delivered]) -> None:
    """Run a use case that writes to the ticket's member, with this process's senders."""
    from schedules.senders import close_senders

    senders = app.senders()
    try:
        result = work(senders)
    finally:
        close_senders(senders)
    number = ticket.upper()
    if result.status in ("sent", "queued"):
        click.echo(f"{what} {number}: {result.status}")
        return
    raise Failed(f"{what} {number} recorded, but not delivered: {result.status} {result.detail}")


@tickets.command()
@click.argument("ticket")
@click.argument("text")
@as_option
@pass_app
def reply(app, ticket, text, username) -> None:
    """Answer the member on their own channel."""
    actor = staff_actor(app, username)
    _to_member(
        app,
        ticket,
        "reply to",
        lambda senders: lifecycle.reply(
            app.database, app.config, senders, ticket, text, actor, now()
        ),
    )


@tickets.command()
@click.argument("ticket")
@click.argument("assignee")
@as_option
@pass_app
def assign(app, ticket, assignee, username) -> None:
    """Give the ticket to a staff member (`-` puts it back in the queue)."""
    actor = staff_actor(app, username)
    done = lifecycle.assign(
        app.database, ticket, None if assignee == "-" else assignee, actor, now()
    )
    click.echo(
        f"{done.number} assigned to {assignee if assignee != '-' else 'nobody'} ({done.status})"
    )


@tickets.command()
@click.argument("ticket")
@click.option("--note", default="", help="The outcome, for the history (internal).")
@as_option
@pass_app
def resolve(app, ticket, note, username) -> None:
    """Resolve: the bot takes the conversation back and asks the member for a rating."""
    actor = staff_actor(app, username)
    _to_member(
        app,
        ticket,
        "rating request for",
        lambda senders: lifecycle.resolve(
            app.database, app.config, senders, ticket, actor, now(), note
        ),
    )
