"""A kill at any moment loses nothing and sends nothing twice; dispatchers racing on the
same outbox never send a message twice.

The rule under test (schedules/dispatcher.py): a message left "sending" by a dead
dispatcher is sent again only on an idempotent channel; elsewhere it is failed as
`interrupted` for review, never resent blindly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from handlers.desk.demo import seed_generated
from handlers.ports import Delivery, Outcome, Outgoing
from schedules.dispatcher import Dispatcher
from schedules.outbox import Message, queue
from schedules.reminders import born_on
from storage.db import Database
from storage.migrate import upgrade
from storage.models import LedgerEntry, Member, MessageLog, OutboundMessage
from tests.conftest import ROOT
from tests.schedules.conftest import Members, local, outbox

MEMBERBOT = str(Path(sys.executable).parent / "memberbot")


class FileSender:
    """Appends each delivered outbox id to a file; idempotent: a repeat is a no-op."""

    channel = "telegram"

    def __init__(self, path: Path, idempotent: bool):
        self.path, self.idempotent = path, idempotent

    def send(self, message: Outgoing) -> Delivery:
        if self.idempotent and str(message.outbox_id) in delivered(self.path):
            return Delivery(Outcome.SENT, "already delivered")
        with self.path.open("a") as file:
            file.write(f"{message.outbox_id}\n")
        return Delivery(Outcome.SENT)


def delivered(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def three_messages(db, config, at) -> list[int]:
    people = Members(db, config)
    with db.unit_of_work() as session:
        queue(
            session,
            [Message(f"k{n}", people.add(name=f"m{n}").id, "notice", f"hi {n}", at) for n in (1, 2, 3)],
            at,
        )  # fmt: skip
        session.commit()
    return [row.id for row in outbox(db)]


def crash(db: Database, when: str, path: Path, at) -> int:
    url = db.url.render_as_string(hide_password=False)
    run = subprocess.run(
        [sys.executable, "-m", "tests.schedules.crashing_dispatcher", url, when, str(path), at.isoformat()],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    return run.returncode


@pytest.mark.parametrize("when", ["before_send", "after_send"])
def test_a_dispatcher_killed_mid_send_sends_each_message_exactly_once_on_an_idempotent_channel(
    sqlite_db, config, tmp_path, when
):
    at = local("2026-05-20 10:00")
    ids = three_messages(sqlite_db, config, at)
    path = tmp_path / "delivered.txt"
    assert crash(sqlite_db, when, path, at) == -signal.SIGKILL
    assert [r.status for r in outbox(sqlite_db)] == ["sent", "sending", "queued"]

    later = at + timedelta(minutes=10)  # past STALE_SENDING: the claim is known dead
    Dispatcher(sqlite_db, config, {"telegram": FileSender(path, True)}, clock=lambda: later).run()

    assert sorted(delivered(path)) == [str(i) for i in ids]
    assert [r.status for r in outbox(sqlite_db)] == ["sent", "sent", "sent"]


@pytest.mark.parametrize("when", ["before_send", "after_send"])
def test_a_dispatcher_killed_mid_send_never_sends_twice_and_flags_the_message_in_doubt(
    sqlite_db, config, tmp_path, when
):
    at = local("2026-05-20 10:00")
    first, second, third = three_messages(sqlite_db, config, at)
    path = tmp_path / "delivered.txt"
    assert crash(sqlite_db, when, path, at) == -signal.SIGKILL

    later = at + timedelta(minutes=10)
    Dispatcher(sqlite_db, config, {"telegram": FileSender(path, False)}, clock=lambda: later).run()

    arrived = Counter(delivered(path))
    assert max(arrived.values()) == 1
    assert arrived[str(second)] == (1 if when == "after_send" else 0)
    rows = {r.id: r for r in outbox(sqlite_db)}
    assert rows[first].status == rows[third].status == "sent"
    assert rows[second].status == "failed"
    assert rows[second].last_error.startswith("interrupted:")


def _sent_to_console(db: Database) -> tuple[int, int]:
    with db.unit_of_work(write=False) as session:
        logged = session.scalar(
            select(func.count()).select_from(MessageLog).where(MessageLog.handler == "outbox")
        )
        queued = session.scalar(select(func.count()).select_from(OutboundMessage))
    return logged, queued


@pytest.mark.slow
def test_a_scheduler_killed_mid_run_and_restarted_sends_every_message_exactly_once(
    tmp_path, config
):
    url = f"sqlite:///{tmp_path / 'memberbot.db'}"
    upgrade(url)
    db = Database(url)
    seeded = local("2026-03-04 10:00")
    seed_generated(db, config, seeded, 1000)  # console members who all joined that day
    env = os.environ | {"DATABASE_URL": url, "MEMBERBOT_CONFIG": str(ROOT / "config.yml")}
    moment = seeded + timedelta(days=7)  # everyone's day-7 follow-up, and some birthdays

    for kill_after in (150, 500):
        env["MEMBERBOT_NOW"] = moment.isoformat()
        running = subprocess.Popen(
            [MEMBERBOT, "scheduler", "--once"], env=env, cwd=tmp_path,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        while _sent_to_console(db)[0] < kill_after and running.poll() is None:
            time.sleep(0.005)
        running.send_signal(signal.SIGKILL)
        assert running.wait() == -signal.SIGKILL, "the scheduler finished before the kill"
        moment += timedelta(minutes=10)

    env["MEMBERBOT_NOW"] = moment.isoformat()
    finished = subprocess.run(
        [MEMBERBOT, "scheduler", "--once"], env=env, cwd=tmp_path, capture_output=True, timeout=300
    )
    assert finished.returncode == 0, finished.stderr

    logged, queued = _sent_to_console(db)
    assert queued >= 1000 and logged == queued
    assert {r.status for r in outbox(db)} == {"sent"}
    with db.unit_of_work(write=False) as session:
        gifts = session.execute(
            select(LedgerEntry.member_id, func.count())
            .where(LedgerEntry.kind == "birthday")
            .group_by(LedgerEntry.member_id)
        ).all()
        birthdays = session.scalar(
            select(func.count()).select_from(Member).where(born_on(moment.date()))
        )
    assert len(gifts) == birthdays > 0 and {n for _, n in gifts} == {1}
    db.dispose()


class SlowSender:
    """Records every send; a little slow, so racing dispatchers overlap."""

    channel = "console"

    def __init__(self):
        self.sent: list[int] = []
        self.lock = threading.Lock()

    def send(self, message: Outgoing) -> Delivery:
        time.sleep(0.0005)
        with self.lock:
            self.sent.append(message.outbox_id)
        return Delivery(Outcome.SENT)


@pytest.mark.slow
def test_racing_dispatchers_never_send_the_same_message_twice(db, config):
    at = local("2026-05-20 10:00")
    seed_generated(db, config, at - timedelta(days=30), 300)
    with db.unit_of_work() as session:
        people = session.scalars(select(Member.id)).all()
        queue(session, [Message(f"race:{m}", m, "notice", "hi", at) for m in people], at)
        session.commit()
    sender = SlowSender()
    racers = [
        Dispatcher(db, config, {"console": sender}, name=f"d{n}", clock=lambda: at, batch=7)
        for n in range(4)
    ]
    threads = [threading.Thread(target=racer.run) for racer in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(sender.sent) == len(set(sender.sent)) == 300
    assert {r.status for r in outbox(db)} == {"sent"}
    if not db.is_sqlite:  # on PostgreSQL the work is really shared
        assert sum(1 for racer in racers if racer.tally["sent"]) > 1
