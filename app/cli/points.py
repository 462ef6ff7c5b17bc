"""`memberbot points adjust MEMBER_NO POINTS --reason TEXT --as USER`"""

from __future__ import annotations

import uuid

import click

from app.cli import BadInput, as_option, cli, pass_app, staff_actor
from core.clock import now
from handlers.desk import adjustments
from handlers.desk.adjustments import AdjustmentRefused


@cli.group()
def points() -> None:
    """Points corrections (supervisors and admins)."""


@points.command("adjust", context_settings={"ignore_unknown_options": True})
@click.argument("member_no")
@click.argument("amount", metavar="POINTS", type=int)
@click.option(
    "--reason",
    required=True,
    help="Why, in words for the member: their points history shows it with the entry.",
)
@as_option
@pass_app
def adjust(app, member_no: str, amount: int, reason: str, username: str | None) -> None:
    """Add (or, negative, take away) POINTS through the ledger, with the reason."""
    actor = staff_actor(app, username)
    try:
        done = adjustments.adjust(
            app.database,
            app.config,
            member_no,
            amount,
            reason,
            actor,
            now(),
            key=f"cli:{uuid.uuid4().hex}",
        )
    except AdjustmentRefused as exc:
        raise BadInput(str(exc)) from None
    click.echo(f"{done.member_no}: {done.points:+} points, balance {done.balance}")
