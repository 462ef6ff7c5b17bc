"""`memberbot members erase MEMBER_NO --as USER`"""

from __future__ import annotations

import click

from app.cli import as_option, cli, pass_app, staff_actor
from core.clock import now
from handlers.desk import erasure


@cli.group()
def members() -> None:
    """Members' personal data (admins)."""


@members.command("erase")
@click.argument("member_no")
@as_option
@pass_app
def erase(app, member_no: str, username: str | None) -> None:
    """Erase a member's personal data at their request; the ledger keeps its sums."""
    actor = staff_actor(app, username)
    done = erasure.erase(app.database, member_no, actor, now())
    if done.already:
        click.echo(f"{done.member_no} was erased before; nothing left to erase")
    else:
        click.echo(f"{done.member_no}: personal data erased; points and tickets kept anonymised")
