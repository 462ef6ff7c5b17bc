"""The `memberbot` command line: thin commands that each call one use case."""

from __future__ import annotations

import sys

import click

from app.composition import App
from core.clock import ClockError
from core.config import ConfigError
from handlers.desk import staff_accounts
from handlers.desk.ticket_lifecycle import Actor


class BadInput(click.ClickException):
    """Bad usage, input or configuration: exit status 2 with a one-line message."""

    exit_code = 2


class Failed(click.ClickException):
    """The work itself failed: exit status 1."""

    exit_code = 1


class _Group(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (ConfigError, ClockError) as exc:
            raise BadInput(str(exc)) from None


pass_app = click.make_pass_decorator(App)
as_option = click.option(
    "--as",
    "username",
    envvar="MEMBERBOT_STAFF",
    help="Your staff username (or MEMBERBOT_STAFF).",
)


def staff_actor(app: App, username: str | None) -> Actor:
    """The active staff account a command acts as; a deactivated one acts no more."""
    if not username:
        raise BadInput("say who you are: --as USERNAME (or set MEMBERBOT_STAFF)")
    with app.database.unit_of_work(write=False) as session:
        user = staff_accounts.by_username(session, username)
        if user is None or not user.active:
            raise BadInput(
                f"no active staff account {username!r}: create one with `memberbot staff add`"
            )
        return Actor(user.username, user.role)


@click.group(cls=_Group)
@click.option(
    "--config",
    "config_path",
    envvar="MEMBERBOT_CONFIG",
    type=click.Path(dir_okay=False),
    help="Configuration file (default: ./config.yml).",
)
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    """memberbot: the loyalty programme's member-service bot."""
    ctx.obj = App(config_path)


def _register() -> None:
    # Each module adds its commands to `cli` when imported.
    from app.cli import (  # noqa: F401
        campaign,
        chat,
        db,
        demo,
        imports,
        members,
        nlu,
        points,
        scheduler,
        serve,
        staff,
        tickets,
        vouchers,
    )


def main() -> None:
    _register()
    sys.exit(cli.main(prog_name="memberbot"))
