"""`memberbot demo seed`"""

import click
from rich.progress import Progress

from app.cli import cli, pass_app
from core.clock import now
from handlers.desk import demo as demo_data


@cli.group()
def demo() -> None:
    """Demo data."""


@demo.command()
@click.option(
    "--members",
    "count",
    type=click.IntRange(min=0),
    default=0,
    help="Also generate this many members for load tests.",
)
@pass_app
def seed(app, count: int) -> None:
    """Load the deterministic demo members and benefits (idempotent)."""
    at = now()
    demo_data.seed(app.database, app.config, at)
    if count:
        with Progress(transient=True) as bar:
            task = bar.add_task("generating members", total=count)
            demo_data.seed_generated(
                app.database, app.config, at, count, progress=lambda n: bar.advance(task, n)
            )
    click.echo(f"demo data ready ({count} generated members asked for)")
