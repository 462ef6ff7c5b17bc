"""`memberbot import members|purchases|refunds FILE`"""

from pathlib import Path

import click
from rich.progress import Progress

from app.cli import BadInput, Failed, cli, pass_app
from core.clock import now
from handlers.desk import imports as importer


def _run(app, path: str, action) -> None:
    file = Path(path)
    try:
        total = importer.count_rows(file)
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror}") from None
    with Progress(transient=True, disable=total < 500) as bar:
        task = bar.add_task(f"importing {file.name}", total=total)
        try:
            report = action(
                app.database, app.config, file, now(), progress=lambda n: bar.advance(task, n)
            )
        except importer.ImportFileError as exc:
            raise BadInput(str(exc)) from None
    for line, reason in report.errors:
        click.echo(f"{path}:{line}: {reason}", err=True)
    click.echo(
        f"imported {report.imported}, already there {report.skipped}, rejected {len(report.errors)}"
    )
    if report.errors:
        raise Failed(f"{len(report.errors)} row(s) rejected; fix them and import the file again")


@cli.group(name="import")
def import_() -> None:
    """Import CSV files. Importing the same file twice imports each row once.

    members: member_no,name,phone,birthday,join_date,language,marketing_consent
    purchases: order_id,member_no,amount,purchased_at
    refunds: order_id,refund_id,amount
    """


@import_.command()
@click.argument("file", type=click.Path(dir_okay=False))
@pass_app
def members(app, file: str) -> None:
    """Members: member_no,name,phone,birthday (YYYY-MM-DD),join_date,language (zh/en),marketing_consent (yes/no)."""
    _run(app, file, importer.import_members)


@import_.command()
@click.argument("file", type=click.Path(dir_okay=False))
@pass_app
def purchases(app, file: str) -> None:
    """Purchases: order_id,member_no,amount (yuan),purchased_at (ISO 8601); earns points once per order."""
    _run(app, file, importer.import_purchases)


@import_.command()
@click.argument("file", type=click.Path(dir_okay=False))
@pass_app
def refunds(app, file: str) -> None:
    """Refunds: order_id,refund_id,amount (yuan; empty: the rest of the order); takes back the points once per refund id."""
    _run(app, file, importer.import_refunds)
