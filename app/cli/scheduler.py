"""`memberbot scheduler [--once]` and `memberbot outbox [--member M] [--json]`"""

from __future__ import annotations

import json
import signal

import click
from apscheduler.schedulers.blocking import BlockingScheduler
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from app import logs
from app.cli import BadInput, Failed, cli, pass_app
from core.clock import now
from schedules import outbox as outbox_rows
from schedules.scheduler import run_due, schedule
from schedules.scheduler_lock import SchedulerLock
from schedules.senders import close_senders
from storage.members import by_number
from storage.models import OutboundMessage

LOCK_CHECK_SECONDS = 30


def _check_schema(app) -> None:
    with app.database.unit_of_work(write=False) as session:
        session.execute(select(OutboundMessage.id).limit(1))


@cli.command()
@click.option("--once", is_flag=True, help="Run what is due now, dispatch it, and exit.")
@click.option(
    "--dispatchers",
    type=click.IntRange(1, 32),
    default=4,
    show_default=True,
    help="Dispatcher threads sharing the outbox (and each channel's rate limit).",
)
@pass_app
def scheduler(app, once: bool, dispatchers: int) -> None:
    """The scheduler and outbound dispatcher: reminders, campaigns and the outbox.

    Only one scheduler runs at a time: a second one waits for the first (a database
    lock). With --once, runs every job for the current time (MEMBERBOT_NOW), sends what
    is due, prints what it did and exits."""
    logs.configure(app.config.logging)
    at = now()
    _check_schema(app)
    senders = app.senders(echo=click.echo)
    lock = SchedulerLock(app.database, on_wait=lambda note: click.echo(note, err=True))
    try:
        lock.acquire()
        if once:
            _once(app, senders, at)
        else:
            _serve(app, senders, lock, dispatchers)
    finally:
        lock.release()
        close_senders(senders)


def _once(app, senders, at) -> None:
    report = run_due(app.database, app.config, senders, at)
    queued = ", ".join(f"{name} {n}" for name, n in report.queued.items() if n) or "nothing"
    sent = ", ".join(f"{what} {n}" for what, n in sorted(report.dispatched.items())) or "nothing"
    click.echo(f"queued: {queued}")
    click.echo(f"outbox: {sent}")
    if report.failed:
        name, why = next(iter(report.failed.items()))
        raise Failed(f"job {name} failed: {why}")


def _serve(app, senders, lock: SchedulerLock, dispatchers: int) -> None:
    runner = BlockingScheduler(timezone=app.config.zone)
    schedule(runner, app.database, app.config, senders, dispatchers)
    lost = []

    def check_lock() -> None:
        if not lock.still_held():
            lost.append(True)
            runner.shutdown(wait=False)

    runner.add_job(check_lock, "interval", seconds=LOCK_CHECK_SECONDS, id="scheduler-lock-check")

    def stop(*_):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    click.echo(f"scheduler running ({dispatchers} dispatcher(s)); Ctrl-C stops it", err=True)
    try:
        runner.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        if runner.running:
            runner.shutdown(wait=False)
    if lost:
        raise Failed("lost the database connection holding the scheduler lock: start it again")


@cli.command()
@click.option("--member", "member_no", help="Only this member's messages (member number).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=200,
    show_default=True,
    help="The newest N messages; 0 for all.",
)
@pass_app
def outbox(app, member_no: str | None, as_json: bool, limit: int) -> None:
    """Outbound messages: kind, channel, member, status (queued, deferred, sending, sent,
    failed, cancelled), text, and why for those not sent."""
    with app.database.unit_of_work(write=False) as session:
        if member_no and by_number(session, member_no) is None:
            raise BadInput(f"no member {member_no}: give a member number such as M000001")
        rows = session.execute(outbox_rows.listing(member_no, limit or None)).all()
        items = [_item(row, number) for row, number in reversed(rows)]  # oldest first
    if as_json:
        click.echo(json.dumps(items, ensure_ascii=False, indent=2))
        return
    table = Table("id", "kind", "channel", "member", "status", "text", "why")
    for item in items:
        table.add_row(
            str(item["id"]),
            item["kind"],
            item["channel"] or "-",
            item["member"] or "-",
            item["status"],
            item["text"],
            item["last_error"] or "",
        )
    Console().print(table)


def _item(row, member_no: str | None) -> dict:
    return {
        "id": row.id,
        "kind": row.kind,
        "category": row.category,
        "channel": row.channel,
        "member": member_no,
        "status": row.status,
        "text": row.text,
        "not_before": row.not_before.isoformat(),
        "sent_at": row.sent_at.isoformat() if row.sent_at else None,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "dedupe_key": row.dedupe_key,
        "campaign_id": row.campaign_id,
    }
