"""`memberbot import members|purchases|refunds FILE [--partial] [--encoding E]`"""

from pathlib import Path

import click
from rich.progress import Progress

from app.cli import BadInput, cli, pass_app
from core.clock import now
from handlers.desk import imports as importer


def _run(app, path: str, action, partial: bool, encoding: str | None) -> None:
    file = Path(path)
    try:
        total = importer.count_rows(file, encoding)
        with Progress(transient=True, disable=total < 500) as bar:
            task = bar.add_task(f"importing {file.name}", total=total)
            report = action(
                app.database,
                app.config,
                file,
                now(),
                partial=partial,
                encoding=encoding,
                progress=lambda n: bar.advance(task, n),
            )
    except importer.ImportFileError as exc:
        raise BadInput(str(exc)) from None
    for line, reason in report.errors:
        click.echo(f"{path}:{line}: {reason}", err=True)
    kept = (
        ""
        if report.written
        else " (nothing written: fix the rows, or --partial keeps the good ones)"
    )
    click.echo(
        f"imported {report.imported}, already there {report.skipped}, "
        f"rejected {len(report.errors)}{kept}"
    )
    if report.errors:
        click.get_current_context().exit(2)


OPTIONS = [
    click.option(
        "--partial",
        is_flag=True,
        help="Keep the good rows of a file with bad ones (default: none).",
    ),
    click.option("--encoding", help="The file's encoding (default: UTF-8 or GBK, detected)."),
]


def _options(command):
    for option in reversed(OPTIONS):
        command = option(command)
    return command


@cli.group(name="import")
def import_() -> None:
    """Import CSV files (UTF-8 or GBK). A file with a bad row imports nothing, and every
    problem of every row is listed with its line; --partial keeps the good rows. Importing
    the same file twice imports each row once.

    members: member_no,name,phone,birthday,join_date,language,marketing_consent[,referrer]
    purchases: order_id,member_no,amount,purchased_at
    refunds: order_id,refund_id,amount
    """


@import_.command()
@click.argument("file", type=click.Path(dir_okay=False))
@_options
@pass_app
def members(app, file: str, partial: bool, encoding: str | None) -> None:
    """Members: member_no,name,phone,birthday (YYYY-MM-DD),join_date,language (zh/en),marketing_consent (yes/no)[,referrer (a member number)]."""
    _run(app, file, importer.import_members, partial, encoding)


@import_.command()
@click.argument("file", type=click.Path(dir_okay=False))
@_options
@pass_app
def purchases(app, file: str, partial: bool, encoding: str | None) -> None:
    """Purchases: order_id,member_no,amount (yuan),purchased_at (ISO 8601); earns points once per order."""
    _run(app, file, importer.import_purchases, partial, encoding)


@import_.command()
@click.argument("file", type=click.Path(dir_okay=False))
@_options
@pass_app
def refunds(app, file: str, partial: bool, encoding: str | None) -> None:
    """Refunds: order_id,refund_id,amount (yuan; empty: the rest of the order); takes back the points once per refund id."""
    _run(app, file, importer.import_refunds, partial, encoding)
