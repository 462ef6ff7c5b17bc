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
        before = migrate.revision(url)
        migrate.upgrade(url)
        after = migrate.revision(url)
    except CommandError as exc:
        raise Failed(f"cannot migrate {where(url)}: {exc}") from None
    if before is None:
        click.echo(f"schema created at revision {after} on {where(url)}")
    elif before != after:
        click.echo(f"schema migrated from revision {before} to {after} on {where(url)}")
    else:
        click.echo(f"schema is up to date (revision {after}) on {where(url)}")
