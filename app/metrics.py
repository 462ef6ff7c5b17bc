"""Prometheus metrics, served at /metrics; our series are named memberbot_*.

Counters and histograms are counted where things happen (the channels, the senders, the
dialogue adapter). With `serve --workers N` each process writes its samples to files in
PROMETHEUS_MULTIPROC_DIR and /metrics, in whichever worker answers, adds them up
(prometheus_client's multiprocess mode). What lives in the database (outbox backlog,
tickets by status, ledger entries by kind) is read from it at each scrape, so every
worker reports the same figures for it.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from core.clock import now
from handlers.desk import service_figures
from handlers.ports import Outcome
from storage.db import Database

log = logging.getLogger(__name__)
MULTIPROCESS = "PROMETHEUS_MULTIPROC_DIR"
if os.environ.get(MULTIPROCESS):  # any process counting into it (the scheduler too)
    Path(os.environ[MULTIPROCESS]).mkdir(parents=True, exist_ok=True)

MESSAGES_IN = Counter(
    "memberbot_messages_in_total", "Member messages received, by channel.", ["channel"]
)
MESSAGES_OUT = Counter(
    "memberbot_messages_out_total", "Replies the bot gave, by channel.", ["channel"]
)
TURN_SECONDS = Histogram(
    "memberbot_turn_seconds",
    "Time the dialogue engine took for one message.",
    ["channel"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
NLU_FALLBACKS = Counter(
    "memberbot_nlu_fallback_total",
    "Messages the NLU did not understand well enough (nlu_fallback); divide by "
    "memberbot_messages_in_total for the rate.",
    ["channel"],
)
SENDS = Counter(
    "memberbot_sends_total",
    "Outbound sends through a platform's API, by channel and outcome.",
    ["channel", "outcome"],
)
RATE_LIMITED = Counter(
    "memberbot_rate_limited_total",
    "Answers from a platform saying to slow down (Telegram 429, WeChat 45009 and kin).",
    ["channel"],
)


# Each channel's series exist from the start, at 0: a rate (fallbacks / messages in) or an
# alert on 429s needs the series before the first event.
for _channel in ("telegram", "wechat"):
    for _series in (MESSAGES_IN, MESSAGES_OUT, NLU_FALLBACKS, RATE_LIMITED, TURN_SECONDS):
        _series.labels(_channel)
    for _outcome in Outcome:
        SENDS.labels(_channel, _outcome.value)


def prepare(workers: int) -> None:
    """Before `serve` starts its workers: a fresh folder for their samples."""
    if workers == 1 and not os.environ.get(MULTIPROCESS):
        return
    folder = os.environ.get(MULTIPROCESS)
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        for stale in Path(folder).glob("*.db"):
            stale.unlink()  # samples of an earlier run would be added to this one's
    else:
        os.environ[MULTIPROCESS] = tempfile.mkdtemp(prefix="memberbot-metrics-")


def exposition(database: Database) -> tuple[bytes, str]:
    """The body and content type of a /metrics answer."""
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROCESS):
        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY

        registry = REGISTRY
    body = generate_latest(registry) + generate_latest(_database_registry(database))
    return body, CONTENT_TYPE_LATEST


def _database_registry(database: Database) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(DatabaseFigures(database))
    return registry


class DatabaseFigures:
    """Figures read from the database at each scrape."""

    def __init__(self, database: Database):
        self.database = database

    def collect(self):
        try:
            with self.database.unit_of_work(write=False) as session:
                backlog = service_figures.outbox_backlog(session, now())
                tickets = service_figures.tickets_by_status(session)
                entries = service_figures.ledger_entries_by_kind(session)
        except Exception as exc:  # a scrape must not fail because the database is away
            log.warning("metrics: could not read the database: %s", exc)
            return
        depth = GaugeMetricFamily(
            "memberbot_outbox_messages", "Outbox messages waiting, by status.", labels=["status"]
        )
        age = GaugeMetricFamily(
            "memberbot_outbox_oldest_age_seconds",
            "Age of the oldest outbox message waiting, by status.",
            labels=["status"],
        )
        for row in backlog:
            depth.add_metric([row.status], row.count)
            age.add_metric([row.status], row.oldest_seconds)
        ticket_gauge = GaugeMetricFamily(
            "memberbot_tickets", "Tickets by status.", labels=["status"]
        )
        for status, count in sorted(tickets.items()):
            ticket_gauge.add_metric([status], count)
        ledger = CounterMetricFamily(
            "memberbot_ledger_operations",
            "Ledger entries written, by kind (earn, redeem, expire ...).",
            labels=["kind"],
        )
        for kind, count in sorted(entries.items()):
            ledger.add_metric([kind], count)
        yield from (depth, age, ticket_gauge, ledger)
