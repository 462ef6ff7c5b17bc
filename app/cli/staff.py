"""`memberbot staff ...`: staff accounts and API keys."""

from __future__ import annotations

import json
import sys

import click

from app.cli import cli, pass_app
from app.composition import App
from core.clock import now
from handlers.desk import staff_accounts
from handlers.desk.staff_accounts import ROLES, SCOPES


@cli.group()
def staff() -> None:
    """Staff accounts for the workbench, and API keys for the REST API."""


@staff.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="agent", show_default=True)
@click.option("--name", "display_name", default="", help="Display name (default: username).")
@click.option("--language", type=click.Choice(["zh", "en"]), help="Workbench language.")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)
@pass_app
def add(app, username, role, display_name, language, password_stdin) -> None:
    """Create a staff account; the password is asked for (hidden) unless --password-stdin."""
    password = _password(password_stdin)
    user = staff_accounts.add_staff(
        app.database,
        username,
        display_name or username,
        password,
        role,
        language or app.config.default_language,
        now(),
    )
    click.echo(f"staff account {user.username} ({user.role}) created")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


CLI_ACTOR = "cli"  # the operator at the server's command line, who also adds the first admin


def _checked_by(ctx: click.Context, _param: click.Parameter, actor: str) -> str:
    """`--by` names an active admin (an agent had deactivated the only admin), or is left
    out: the command line's own operator."""
    if actor != CLI_ACTOR:
        staff_accounts.require_admin(ctx.ensure_object(App).database, actor)
    return actor


by_option = click.option(
    "--by",
    "actor",
    default=CLI_ACTOR,
    callback=_checked_by,
    help="The admin who asks (for the audit log); left out: the command line's operator.",
)


@staff.command("deactivate")
@click.argument("username")
@by_option
@pass_app
def deactivate(app, username, actor) -> None:
    """Deactivate an account: it signs in no more, its sessions end, `--as` refuses it, its
    open tickets go back to the queue."""
    returned = staff_accounts.deactivate(app.database, username, actor, now())
    click.echo(f"staff account {username} deactivated; {returned} open ticket(s) back in the queue")


@staff.command("password")
@click.argument("username")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)
@by_option
@pass_app
def password(app, username, password_stdin, actor) -> None:
    """Set a new password (asked for, hidden); the account's sessions end."""
    staff_accounts.require_account(app.database, username)  # before asking for a password
    staff_accounts.set_password(app.database, username, _password(password_stdin), actor, now())
    click.echo(f"password of {username} changed; its sessions have ended")


@staff.command("revoke-key")
@click.argument("name")
@by_option
@pass_app
def revoke_key(app, name, actor) -> None:
    """Revoke an API key: it opens the API no more."""
    staff_accounts.revoke_key(app.database, name, actor, now())
    click.echo(f"API key {name} revoked")


@staff.command("api-key")
@click.argument("name")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(SCOPES),
    help="What the key reaches; repeat for more. None: everything.",
)
@by_option
@pass_app
def api_key(app, name, scopes, actor) -> None:
    """Create an API key for another system (e.g. pos-shanghai); it is shown only once."""
    made = staff_accounts.create_api_key(app.database, name, actor, now(), list(scopes))
    click.echo(made.key)
    click.echo(
        f"API key {made.name!r} created; store it now, it is not shown again. "
        "Send it as: Authorization: Bearer <key>",
        err=True,
    )


@staff.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array.")
@pass_app
def listing(app, as_json) -> None:
    """The active staff accounts."""
    with app.database.unit_of_work(write=False) as session:
        users = staff_accounts.staff_list(session)
        rows = [
            {"username": u.username, "name": u.display_name, "role": u.role, "language": u.language}
            for u in users
        ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    for row in rows:
        click.echo(f"{row['username']:<20} {row['role']:<11} {row['language']}  {row['name']}")
