"""`memberbot db ...`"""

import click
from alembic.util import CommandError
from sqlalchemy.exc import OperationalError

from app.cli import Failed, cli, pass_app
from storage import migrate


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
    except OperationalError as exc:
        raise Failed(f"cannot migrate {app.database.url!r}: {exc.orig}") from None
    except CommandError as exc:
        raise Failed(f"cannot migrate {app.database.url!r}: {exc}") from None
    click.echo(f"schema is up to date on {app.database.url!r}")
