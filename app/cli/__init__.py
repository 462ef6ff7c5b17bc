"""The `memberbot` command line: thin commands that each call one use case.

One place turns expected errors into a one-line message and an exit status, for every
command: a bad configuration or clock, or a request the rules refuse (2), a database
without schema or out of reach (1)."""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING

import click

from app.composition import App

if TYPE_CHECKING:
    from handlers.desk.ticket_lifecycle import Actor

# Each command's module, imported when the command is run or listed: `memberbot nlu train`
# does not load the database models, the web server or the channels (their 60 MB would be
# in every training worker forked from it).
COMMANDS = {
    "campaign": "campaign",
    "chat": "chat",
    "converse": "chat",
    "db": "db",
    "demo": "demo",
    "import": "imports",
    "members": "members",
    "nlu": "nlu",
    "outbox": "scheduler",
    "points": "points",
    "scheduler": "scheduler",
    "serve": "serve",
    "staff": "staff",
    "telegram": "serve",
    "tickets": "tickets",
    "vouchers": "vouchers",
}


def _refusals() -> tuple[type[Exception], ...]:
    """What a use case refuses with a reason the operator can act on: said in one line, exit 2
    (a ticket refusal too, except a move its state forbids, which exits 1). Imported when an
    error is raised, with the rules that raise it."""
    from core.clock import ClockError
    from core.config import ConfigError
    from handlers.desk.erasure import ErasureRefused
    from handlers.desk.imports import ImportFileError
    from handlers.desk.staff_accounts import StaffError
    from nlu.training_data import TrainingDataError
    from schedules.campaigns import CampaignError
    from schedules.segments import SegmentError

    return (
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
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            importlib.import_module(f"app.cli.{COMMANDS[cmd_name]}")  # adds it to `cli`
            _config_anywhere(self.commands[cmd_name])
        return self.commands.get(cmd_name)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise  # click's own: said already
        except Exception as exc:
            said = _said(exc, ctx)
            if said is None:
                raise
            raise said from None


def _said(exc: Exception, ctx: click.Context) -> click.ClickException | None:
    """An expected error as a one-line message and its exit status; None for a fault."""
    from sqlalchemy.exc import DBAPIError

    from handlers.desk.ticket_lifecycle import TicketError
    from storage.failures import explain

    if isinstance(exc, TicketError):  # a move the ticket's state forbids is work that failed
        return (Failed if exc.code == "bad_move" else BadInput)(str(exc))
    if isinstance(exc, _refusals()):
        return BadInput(str(exc))
    if isinstance(exc, DBAPIError):
        app = ctx.find_object(App)
        return Failed(explain(exc, app.config.database_url() if app else ""))
    return None


pass_app = click.make_pass_decorator(App)
as_option = click.option(
    "--as",
    "username",
    envvar="MEMBERBOT_STAFF",
    help="Your staff username (or MEMBERBOT_STAFF).",
)


def staff_actor(app: App, username: str | None) -> Actor:
    """The active staff account a command acts as; a deactivated one acts no more."""
    from handlers.desk import staff_accounts
    from handlers.desk.ticket_lifecycle import Actor

    if not username:
        raise BadInput("say who you are: --as USERNAME (or set MEMBERBOT_STAFF)")
    with app.database.unit_of_work(write=False) as session:
        user = staff_accounts.by_username(session, username)
        if user is None:
            raise BadInput(f"no staff account {username!r}: create one with `memberbot staff add`")
        if not user.active:
            # No command reactivates an account: say so rather than send them to `staff add`.
            raise BadInput(f"the staff account {user.username!r} is deactivated and acts no more")
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
    """Every command on `cli` (the tests' runner reads `cli.commands`)."""
    for name in COMMANDS:
        cli.get_command(click.Context(cli), name)


def main() -> None:
    sys.exit(cli.main(prog_name="memberbot"))
