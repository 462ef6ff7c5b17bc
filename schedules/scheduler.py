"""The scheduler: the jobs that write the outbox, on their timers, and the dispatcher.

Every job is `job(database, config, at)` and safe to run any number of times: what it
writes is keyed by its period. `run_due` runs each once for `at` and then dispatches
(`memberbot scheduler --once`); `schedule` puts them on APScheduler timers, each under a
name of what it is for, so scheduling again replaces a job instead of doubling it."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger

from core.clock import now
from core.config import Config
from handlers.ports import Sender
from schedules import campaigns, expiry_notices, reminders, tier_evaluation, upkeep
from schedules.dispatcher import Dispatcher
from storage.db import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[Database, Config, datetime], int]
    every_minutes: float


def ticket_deadlines(
    database: Database, config: Config, at: datetime, senders: Mapping[str, Sender]
) -> int:
    """Issue 6's deadline job (handlers/deadlines): escalations and staff alerts."""
    from handlers.desk import deadlines
    from handlers.desk.staff_notices import StaffNotifier

    checked = deadlines.check(database, config, at, StaffNotifier(config, senders.get("telegram")))
    return checked.urgent + checked.escalated + checked.breached


# In the order `run_due` runs them: lots expire before the notices list what is left.
MESSAGE_JOBS = [
    Job("expire-due-points-lots", upkeep.expire_due_lots, 60),
    Job("yearly-tier-evaluation", tier_evaluation.evaluate, 15),
    Job("birthday-greetings", reminders.birthdays, 15),
    Job("membership-expiry-reminders", reminders.membership_expiry, 15),
    Job("points-expiry-notices", expiry_notices.points_expiry, 15),
    Job("voucher-expiry-notices", expiry_notices.voucher_expiry, 15),
    Job("new-member-followups", reminders.new_member_followup, 15),
    Job("dormant-member-offers", reminders.dormant, 15),
    Job("due-campaigns", campaigns.queue_due, 1),
]


def jobs(senders: Mapping[str, Sender]) -> list[Job]:
    def tickets(database: Database, config: Config, at: datetime) -> int:
        return ticket_deadlines(database, config, at, senders)

    return [*MESSAGE_JOBS, Job("ticket-deadline-checks", tickets, 1)]


DISPATCH_EVERY_SECONDS = 5


def run_job(job: Job, database: Database, config: Config, at: datetime | None = None) -> int:
    result = int(job.run(database, config, at or now()) or 0)
    if result:
        log.info("%s: %d", job.name, result)
    return result


@dataclass
class RunReport:
    queued: dict[str, int]  # job name -> messages queued (or lots expired, tickets flagged)
    failed: dict[str, str]  # job name -> what went wrong
    dispatched: Counter[str]


def run_due(
    database: Database,
    config: Config,
    senders: Mapping[str, Sender],
    at: datetime | None = None,
    clock: Callable[[], datetime] = now,
) -> RunReport:
    """Every job once for `at`, then the dispatcher until nothing is due. A job that fails
    is reported and the others still run."""
    at = at or clock()
    report = RunReport({}, {}, Counter())
    for job in jobs(senders):
        try:
            report.queued[job.name] = run_job(job, database, config, at)
        except Exception as exc:
            log.exception("%s failed", job.name)
            report.failed[job.name] = f"{type(exc).__name__}: {exc}"
    report.dispatched = Dispatcher(database, config, senders, clock=clock).run()
    return report


def schedule(
    scheduler: BaseScheduler,
    database: Database,
    config: Config,
    senders: Mapping[str, Sender],
    dispatchers: int = 1,
) -> None:
    """Add (or replace) every job; the first runs start at once."""
    start = datetime.now(UTC)
    for job in jobs(senders):
        scheduler.add_job(
            run_job,
            IntervalTrigger(minutes=job.every_minutes),
            args=(job, database, config),
            id=job.name,
            name=job.name,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            next_run_time=start,
        )
    for number in range(1, dispatchers + 1):
        dispatcher = Dispatcher(database, config, senders)
        scheduler.add_job(
            dispatcher.run,
            IntervalTrigger(seconds=DISPATCH_EVERY_SECONDS),
            id=f"outbox-dispatcher-{number}",
            name=f"outbox dispatcher {number}",
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            next_run_time=start,
        )
