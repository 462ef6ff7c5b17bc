"""`memberbot db ...`"""

import click
from alembic.util import CommandError

from app.cli import Failed, cli, pass_app
from storage import migrate
from storage.failures import where


@cli.group()
def db() -> None:
    """The database schema."""


@db.command()
@pass_app
def upgrade(app) -> None:
    """Create or migrate the schema on the configured database."""
    url = app.config.database_url()
    try:
        migrate.upgrade(url)
    except CommandError as exc:
        raise Failed(f"cannot migrate {where(url)}: {exc}") from None
    click.echo(f"schema is up to date on {where(url)}")
