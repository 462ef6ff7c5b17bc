"""The `memberbot` command line: thin commands that each call one use case.

One place turns expected errors into a one-line message and an exit status, for every
command: a bad configuration or clock, or a request the rules refuse (2), a database
without schema or out of reach (1)."""

from __future__ import annotations

import sys

import click
from sqlalchemy.exc import DBAPIError

from app.composition import App
from core.clock import ClockError
from core.config import ConfigError
from handlers.desk import staff_accounts
from handlers.desk.erasure import ErasureRefused
from handlers.desk.imports import ImportFileError
from handlers.desk.staff_accounts import StaffError
from handlers.desk.ticket_lifecycle import Actor, TicketError
from nlu.training_data import TrainingDataError
from schedules.campaigns import CampaignError
from schedules.segments import SegmentError
from storage.failures import explain

# What a use case refuses with a reason the operator can act on: said in one line, exit 2
# (a ticket refusal too, except a move its state forbids, which exits 1).
REFUSALS = (
    ConfigError,
    ClockError,
    StaffError,
    ErasureRefused,
    ImportFileError,
    CampaignError,
    SegmentError,
    TrainingDataError,
)

CONFIG_HELP = "Configuration file (default: the packaged defaults, as in config.yml)."


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
        except TicketError as exc:  # a move the ticket's state forbids is work that failed
            raise (Failed if exc.code == "bad_move" else BadInput)(str(exc)) from None
        except REFUSALS as exc:
            raise BadInput(str(exc)) from None
        except DBAPIError as exc:
            app = ctx.find_object(App)
            raise Failed(explain(exc, app.config.database_url() if app else "")) from None


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
    help=CONFIG_HELP,
)
@click.version_option(package_name="memberbot", prog_name="memberbot")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    """memberbot: the loyalty programme's member-service bot."""
    ctx.obj = App(config_path)


def _chosen_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    app = ctx.find_object(App)
    if value is not None and app is not None:
        app.choose_config(value)


def _config_anywhere(command: click.Command) -> None:
    """`--config` after the subcommand too: every command takes it and hands it to the App."""
    if not any(p.name == "config_path" for p in command.params):
        command.params.append(
            click.Option(
                ["--config", "config_path"],
                type=click.Path(dir_okay=False),
                expose_value=False,
                callback=_chosen_config,
                help=CONFIG_HELP,
            )
        )
    for sub in getattr(command, "commands", {}).values():
        _config_anywhere(sub)


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

    for command in cli.commands.values():
        _config_anywhere(command)


def main() -> None:
    _register()
    sys.exit(cli.main(prog_name="memberbot"))
