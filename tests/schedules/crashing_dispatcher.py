"""Run by test_exactly_once: a dispatcher whose process is killed (SIGKILL) in the middle
of its second send, just before the message leaves or just after it has left.

    python -m tests.schedules.crashing_dispatcher DATABASE_URL WHEN DELIVERED_FILE AT

WHEN is `before_send` or `after_send`; DELIVERED_FILE gets one line per message that
reached the member (the outbox id); AT is the clock (ISO 8601)."""

from __future__ import annotations

import os
import signal
import sys
from datetime import datetime
from pathlib import Path

from core.config import load_config
from handlers.ports import Delivery, Outcome, Outgoing
from schedules.dispatcher import Dispatcher
from storage.db import Database
from tests.conftest import ROOT


def deliver(path: Path, message: Outgoing) -> None:
    with path.open("a") as delivered:
        delivered.write(f"{message.outbox_id}\n")
        delivered.flush()
        os.fsync(delivered.fileno())


class CrashingSender:
    channel = "telegram"

    def __init__(self, when: str, path: Path):
        self.when, self.path, self.calls = when, path, 0

    def send(self, message: Outgoing) -> Delivery:
        self.calls += 1
        if self.calls == 2 and self.when == "before_send":
            os.kill(os.getpid(), signal.SIGKILL)
        deliver(self.path, message)
        if self.calls == 2 and self.when == "after_send":
            os.kill(os.getpid(), signal.SIGKILL)
        return Delivery(Outcome.SENT, via="message")


def main(url: str, when: str, path: str, at: str) -> None:
    moment = datetime.fromisoformat(at)
    sender = CrashingSender(when, Path(path))
    Dispatcher(
        Database(url), load_config(ROOT / "config.yml"), {"telegram": sender}, clock=lambda: moment
    ).run()


if __name__ == "__main__":
    main(*sys.argv[1:])
