"""`memberbot import members|purchases|refunds FILE [--partial] [--encoding E]`"""

from pathlib import Path

import click
from rich.progress import Progress

from app.cli import cli, pass_app
from core.clock import now
from handlers.desk import imports as importer


def _run(app, path: str, kind: str, partial: bool, encoding: str | None) -> None:
    file = Path(path)
    total = importer.count_rows(file, encoding)
    with Progress(transient=True, disable=total < 500) as bar:
        task = bar.add_task(f"importing {file.name}", total=total)
        report = importer.import_file(
            kind,
            app.database,
            app.config,
            file,
            now(),
            partial=partial,
            encoding=encoding,
            progress=lambda n: bar.advance(task, n),
        )
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
    if report.errors and not report.imported + report.skipped:
        click.get_current_context().exit(2)


@cli.group(name="import")
def import_() -> None:
    """Import CSV files (UTF-8 or GBK). A file with a bad row imports nothing (exit 2), and
    every problem of every row is listed with its line; --partial keeps the good rows (exit
    0 when there were any, 2 when none). Importing the same file twice imports each row once.

    members: member_no,name,phone,birthday,join_date,language,marketing_consent[,referrer]
    purchases: order_id,member_no,amount,purchased_at
    refunds: order_id,refund_id,amount
    """


def _command(kind: str) -> None:
    @import_.command(name=kind, help=importer.KINDS[kind].help)
    @click.argument("file", type=click.Path(dir_okay=False))
    @click.option(
        "--partial",
        is_flag=True,
        help="Keep the good rows of a file with bad ones (default: none); exit 0 once any "
        "row is kept, 2 when every row is bad.",
    )
    @click.option("--encoding", help="The file's encoding (default: UTF-8 or GBK, detected).")
    @pass_app
    def command(app, file: str, partial: bool, encoding: str | None) -> None:
        _run(app, file, kind, partial, encoding)


for _kind in importer.KINDS:
    _command(_kind)
