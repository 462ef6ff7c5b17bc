"""The senders the dispatcher may use, keyed by channel, and the console's own.

Telegram and WeChat senders are built by the composition root (app/composition.py) when
their secrets are set in the environment; the console sender always is.

What "sent" means on the console: there is no one to push to, so the message is put in
the member's console inbox, the message log (direction "out", handler "outbox"), keyed
`outbox:<id>`, and echoed on the scheduler's output. The key makes a repeat a no-op: the
console is an idempotent channel, so a send interrupted by a crash is simply sent again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from core.clock import now
from handlers.ports import Delivery, Outcome, Outgoing, Sender
from storage.db import Database
from storage.models import ChatIdentity, MessageLog


@dataclass(frozen=True)
class OutboxOutgoing(Outgoing):
    """An Outgoing that knows its outbox row: an idempotent channel keys the send by it."""

    outbox_id: int | None = None


class ConsoleSender:
    channel = "console"
    idempotent = True

    def __init__(
        self,
        database: Database,
        clock: Callable[[], datetime] = now,
        echo: Callable[[str], None] | None = None,
    ):
        self._db = database
        self._clock = clock
        self._echo = echo
        identities, log = ChatIdentity.__table__, MessageLog.__table__
        self._find = select(identities.c.id, identities.c.member_id).where(
            identities.c.channel == self.channel,
            identities.c.external_id == bindparam("user"),
        )
        dialect = postgresql if database.engine.dialect.name == "postgresql" else sqlite
        self._store = (
            dialect.insert(log)
            .values(
                identity_id=bindparam("ident"),
                member_id=bindparam("member"),
                channel=self.channel,
                direction="out",
                external_msg_id=bindparam("key"),
                text=bindparam("body"),
                handler="outbox",
                outcome="sent",
                created_at=bindparam("at"),
            )
            .on_conflict_do_nothing(index_elements=["channel", "external_msg_id"])
            .returning(log.c.id)
        )

    def send(self, message: Outgoing) -> Delivery:
        outbox_id = getattr(message, "outbox_id", None)
        with self._db.unit_of_work() as session:
            found = session.execute(self._find, {"user": message.external_id}).first()
            if found is None:
                return Delivery(Outcome.UNREACHABLE, f"no console user {message.external_id}")
            stored = session.execute(
                self._store,
                dict(
                    ident=found.id,
                    member=found.member_id,
                    key=f"outbox:{outbox_id}" if outbox_id else None,
                    body=message.text,
                    at=self._clock(),
                ),
            ).first()
            session.commit()
        if stored is None:
            return Delivery(Outcome.SENT, "already in the console inbox", via="inbox")
        if self._echo:
            self._echo(f"[console → {message.external_id}] {message.text}")
        return Delivery(Outcome.SENT, via="inbox")


def close_senders(senders: dict[str, Sender]) -> None:
    for sender in senders.values():
        if close := getattr(sender, "close", None):
            close()
