"""The scheduler process: named jobs, one process at a time, and `scheduler --once` end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

from schedules.scheduler import jobs, schedule
from schedules.scheduler_lock import SchedulerLock
from storage.db import Database
from storage.migrate import upgrade
from storage.models import LedgerEntry
from tests.conftest import ROOT
from tests.schedules.conftest import RecordingSender, fetch

MEMBERBOT = str(Path(sys.executable).parent / "memberbot")


def test_scheduling_twice_replaces_the_jobs_instead_of_doubling_them(sqlite_db, config):
    runner = BackgroundScheduler()
    runner.start(paused=True)
    try:
        senders = {"telegram": RecordingSender()}
        schedule(runner, sqlite_db, config, senders, dispatchers=2)
        schedule(runner, sqlite_db, config, senders, dispatchers=2)
        ids = sorted(job.id for job in runner.get_jobs())
    finally:
        runner.shutdown(wait=False)
    named = [job.name for job in jobs(senders)]
    expected = sorted([*named, "outbox-dispatcher-1", "outbox-dispatcher-2"])
    assert ids == expected


def test_a_second_scheduler_waits_for_the_first_and_says_so(db):
    first = SchedulerLock(db)
    assert first.acquire(timeout=5)
    notes: list[str] = []
    second = SchedulerLock(db, poll_seconds=0.05, on_wait=notes.append)
    try:
        assert not second.acquire(timeout=0.3)
        assert notes and "waiting" in notes[0]
        got = threading.Event()
        waiter = threading.Thread(target=lambda: second.acquire() and got.set())
        waiter.start()
        assert not got.wait(0.3)
        first.release()
        assert got.wait(5)
        waiter.join()
    finally:
        first.release()
        second.release()


def test_a_killed_schedulers_lock_is_free_for_the_next(sqlite_db):
    url = sqlite_db.url.render_as_string(hide_password=False)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, url], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "locked"
    assert not SchedulerLock(sqlite_db).acquire(timeout=0.2)
    holder.kill()
    holder.wait()
    lock = SchedulerLock(sqlite_db)
    assert lock.acquire(timeout=5)
    lock.release()


HOLD_LOCK = """
import sys, time
from storage.db import Database
from schedules.scheduler_lock import SchedulerLock
SchedulerLock(Database(sys.argv[1])).acquire()
print("locked", flush=True)
time.sleep(60)
"""


def _memberbot(tmp_path, url, now, *args) -> subprocess.CompletedProcess:
    env = os.environ | {
        "DATABASE_URL": url,
        "MEMBERBOT_CONFIG": str(ROOT / "config.yml"),
        "MEMBERBOT_NOW": now,
    }
    return subprocess.run(
        [MEMBERBOT, *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )


def test_on_the_demo_members_birthday_scheduler_once_sends_one_greeting_with_the_gift_once(
    tmp_path, config
):
    url = f"sqlite:///{tmp_path / 'memberbot.db'}"
    upgrade(url)
    seeded = _memberbot(tmp_path, url, "2027-05-01T10:00:00+08:00", "demo", "seed")
    assert seeded.returncode == 0, seeded.stderr
    birthday = "2027-05-20T10:00:00+08:00"  # M000001 was born on 1990-05-20

    first = _memberbot(tmp_path, url, birthday, "scheduler", "--once")
    assert first.returncode == 0, first.stderr
    assert "birthday-greetings 1" in first.stdout
    assert "[console → demo] 张伟，生日快乐" in first.stdout

    again = _memberbot(tmp_path, url, birthday, "scheduler", "--once")
    assert again.returncode == 0, again.stderr
    assert "queued: nothing" in again.stdout and "outbox: nothing" in again.stdout

    listed = _memberbot(tmp_path, url, birthday, "outbox", "--member", "M000001", "--json")
    greetings = [m for m in json.loads(listed.stdout) if m["kind"] == "birthday"]
    assert [(g["member"], g["channel"], g["status"]) for g in greetings] == [
        ("M000001", "console", "sent")
    ]
    assert "200" in greetings[0]["text"]
    database = Database(url)
    gifts = fetch(database, select(LedgerEntry).where(LedgerEntry.kind == "birthday"))
    assert [g.points for g in gifts] == [config.points.birthday_gift]
    database.dispose()


def test_the_outbox_command_names_an_unknown_member_with_exit_status_2(tmp_path):
    url = f"sqlite:///{tmp_path / 'memberbot.db'}"
    upgrade(url)
    listed = _memberbot(tmp_path, url, "2027-05-20T10:00:00+08:00", "outbox", "--member", "M9")
    assert listed.returncode == 2
    assert "no member M9" in listed.stderr and "Traceback" not in listed.stderr


def test_the_scheduler_on_a_database_without_tables_says_to_upgrade(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    ran = _memberbot(tmp_path, url, "2027-05-20T10:00:00+08:00", "scheduler", "--once")
    assert ran.returncode == 1
    assert "memberbot db upgrade" in ran.stderr and "Traceback" not in ran.stderr


def test_on_the_evaluation_day_scheduler_once_moves_the_demo_member_down_and_tells_him_once(
    tmp_path,
):
    url = f"sqlite:///{tmp_path / 'memberbot.db'}"
    upgrade(url)
    assert _memberbot(tmp_path, url, "2026-12-01T10:00:00+08:00", "demo", "seed").returncode == 0
    new_year = "2028-01-01T10:00:00+08:00"  # his purchases are all older than 12 months

    before = _memberbot(tmp_path, url, "2027-12-31T23:00:00+08:00", "scheduler", "--once")
    first = _memberbot(tmp_path, url, new_year, "scheduler", "--once")
    again = _memberbot(tmp_path, url, new_year, "scheduler", "--once")

    assert "yearly-tier-evaluation" not in before.stdout
    assert first.returncode == 0, first.stderr
    assert "yearly-tier-evaluation 3" in first.stdout
    assert "[console → demo] 张伟，年度等级评定" in first.stdout
    assert "yearly-tier-evaluation" not in again.stdout


def test_a_campaign_for_a_past_time_is_exit_2_with_one_line_naming_the_time(tmp_path):
    url = f"sqlite:///{tmp_path / 'memberbot.db'}"
    upgrade(url)
    made = _memberbot(
        tmp_path,
        url,
        "2026-05-20T10:00:00+08:00",
        *("campaign", "create", "late", "--at", "2026-05-01T10:00", "--text-zh", "你好"),
    )
    assert made.returncode == 2
    assert made.stderr.strip().splitlines() == [
        "Error: --at 2026-05-01T10:00+08:00 is in the past (now 2026-05-20T10:00+08:00): "
        "choose a later time"
    ]
