"""The outbox dispatcher: claims due messages and sends each through its channel's sender.

Exactly once, and what happens on a crash:
1. Claim: one transaction takes a batch of due rows (PostgreSQL `FOR UPDATE SKIP LOCKED`,
   so several dispatchers share the work; SQLite `BEGIN IMMEDIATE`), settles those that
   are not to be sent (cancelled, deferred, failed) and stamps the rest with the claim
   (`claimed_by`, `claimed_at`). A claim unused for LEASE may be taken by another
   dispatcher: nothing was sent for it.
2. Per message: status "sending" (commit), the send, then "sent" or what the channel
   said (commit). Only a row left in "sending" is in doubt.
3. A row in "sending" for longer than STALE_SENDING belongs to a dispatcher that died
   between those two commits: the message may or may not have gone out. It is sent again
   only when its channel's sender is idempotent (`idempotent = True`: a repeat of the same
   outbox id is a no-op, like the console inbox). Otherwise (Telegram, WeChat: neither
   can be asked whether a message arrived nor told to ignore a repeat) it is marked
   failed with reason `interrupted` for a person to review, never resent blindly.
So no message is ever sent twice, and none is lost: each ends sent, or failed or
cancelled with the reason recorded.

Durability: only the "sending" commit must survive a database crash (lost, the message
would go again). On PostgreSQL the claim and the final mark commit without waiting for
the disk (`synchronous_commit off`): lost, the row is merely claimed again, or found in
"sending" and settled by rule 3, so half the flushes buy nothing. (SQLite runs WAL with
synchronous=NORMAL: a process kill loses nothing, a power cut may lose the last commits.)
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, or_, select, text, update

from core.clock import now
from core.config import Config
from handlers.ports import Delivery, Outcome, Sender
from schedules.delivery_rules import Decision, after_failed_try, decide, preferred_identity
from schedules.outbox import REPLY
from schedules.senders import OutboxOutgoing
from storage.db import Database, rows_changed
from storage.models import ChatIdentity, Member, OutboundMessage
from storage.models.base import UTCDateTime

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
STALE_SENDING = timedelta(minutes=5)  # far above any sender's own timeouts and retries
DUE = ("queued", "deferred")


@dataclass(frozen=True)
class Claimed:
    id: int
    attempts: int  # including this one
    identity_id: int
    channel: str
    message: OutboxOutgoing
    reroute: bool = True  # another of the member's chats may take it (a reply never)


class Dispatcher:
    def __init__(
        self,
        database: Database,
        config: Config,
        senders: Mapping[str, Sender],
        name: str | None = None,
        clock: Callable[[], datetime] = now,
        batch: int = 50,
        lease: timedelta = LEASE,
        stale_after: timedelta = STALE_SENDING,
    ):
        self.db, self.config, self.senders = database, config, senders
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.clock, self.batch, self.lease, self.stale_after = clock, batch, lease, stale_after
        self.tally: Counter[str] = Counter()

    def run(self, max_batches: int | None = None) -> Counter[str]:
        """Settle stale sends, then claim and send until nothing is due; returns the tally
        of this run (sent, deferred, cancelled, failed, retry, resent, interrupted)."""
        before = Counter(self.tally)
        self.recover()
        done = 0
        while max_batches is None or done < max_batches:
            claimed = self.claim()
            if not claimed:
                break
            for job in claimed:
                self.deliver(job)
            done += 1
        return self.tally - before

    # -- 3. rows in doubt ------------------------------------------------------------------

    def recover(self) -> int:
        at = self.clock()
        with self.db.unit_of_work() as session:
            stale = session.scalars(
                select(OutboundMessage)
                .where(
                    OutboundMessage.status == "sending",
                    OutboundMessage.claimed_at < at - self.stale_after,
                )
                .with_for_update(skip_locked=True)
            ).all()
            for row in stale:
                if getattr(self.senders.get(row.channel or ""), "idempotent", False):
                    row.status, row.not_before = "queued", at
                    row.claimed_by = row.claimed_at = None
                    row.last_error = "interrupted: sent again; the channel ignores a repeat"
                    self.tally["resent"] += 1
                else:
                    row.status = "failed"
                    row.last_error = (
                        f"interrupted: {row.claimed_by} stopped while sending on {row.channel}; "
                        "it may or may not have arrived, so it is not resent: review it"
                    )
                    self.tally["interrupted"] += 1
                log.warning("outbox %s: %s", row.id, row.last_error)
            session.commit()
        return len(stale)

    # -- 1. claim --------------------------------------------------------------------------

    def claim(self) -> list[Claimed]:
        at = self.clock()
        with self.db.unit_of_work() as session:
            _without_waiting_for_disk(session)
            rows = session.scalars(
                select(OutboundMessage)
                .where(
                    OutboundMessage.status.in_(DUE),
                    OutboundMessage.not_before <= at,
                    or_(
                        OutboundMessage.claimed_at.is_(None),
                        OutboundMessage.claimed_at < at - self.lease,
                    ),
                )
                .order_by(OutboundMessage.not_before, OutboundMessage.id)
                .limit(self.batch)
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                return []
            member_ids = {r.member_id for r in rows if r.member_id is not None}
            members = {
                m.id: m for m in session.scalars(select(Member).where(Member.id.in_(member_ids)))
            }
            identities: dict[int, list[ChatIdentity]] = {}
            for ident in session.scalars(
                select(ChatIdentity).where(
                    ChatIdentity.member_id.in_(member_ids), ChatIdentity.reachable.is_(True)
                )
            ):
                if ident.member_id is not None:  # as the query asks
                    identities.setdefault(ident.member_id, []).append(ident)
            chat_ids = {r.identity_id for r in rows if r.category == REPLY and r.identity_id}
            chats: dict[int, ChatIdentity] = {}
            if chat_ids:  # a reply goes to the one chat it answers, bound or not
                found = session.scalars(select(ChatIdentity).where(ChatIdentity.id.in_(chat_ids)))
                chats = {i.id: i for i in found}
            claimed = []
            for row in rows:
                if row.category == REPLY:
                    candidates = [chats[row.identity_id]] if row.identity_id in chats else []
                else:
                    candidates = identities.get(row.member_id, []) if row.member_id else []
                decision = decide(
                    row,
                    members.get(row.member_id) if row.member_id is not None else None,
                    candidates,
                    self.senders,
                    at,
                    self.config,
                )
                if decision.action == "send":
                    if decision.identity is None:
                        raise RuntimeError(f"outbox {row.id}: a decision to send names no chat")
                    row.claimed_by, row.claimed_at = self.name, at
                    claimed.append(self._job(row, decision.identity))
                else:
                    self._settle(row, decision.action, decision.reason, decision.until)
            session.commit()
        return claimed

    def _job(self, row: OutboundMessage, identity: ChatIdentity) -> Claimed:
        buttons = [(title, payload) for title, payload in (row.payload or {}).get("buttons", [])]
        message = OutboxOutgoing(
            external_id=identity.external_id,
            text=row.text,
            buttons=buttons,
            kind=row.kind,
            last_inbound_at=identity.last_inbound_at,
            outbox_id=row.id,
        )
        return Claimed(
            row.id, row.attempts + 1, identity.id, identity.channel, message, row.category != REPLY
        )

    def _settle(self, row: OutboundMessage, action: str, reason: str, until) -> None:
        row.status = STATUS_AFTER[action]
        if action == "retry":
            row.attempts += 1
        if until is not None:
            row.not_before = until
        row.last_error = reason[:500]
        row.claimed_by = row.claimed_at = None
        self.tally[row.status if action != "retry" else "retry"] += 1

    # -- 2. send ---------------------------------------------------------------------------

    def deliver(self, job: Claimed) -> None:
        with self.db.unit_of_work() as session:
            taken = session.execute(
                TAKE,
                dict(
                    row=job.id,
                    me=self.name,
                    at=self.clock(),
                    tries=job.attempts,
                    ident=job.identity_id,
                    chan=job.channel,
                ),
            )
            session.commit()
        if rows_changed(taken) != 1:
            return  # the lease ran out and another dispatcher has it now
        try:
            delivery = self.senders[job.channel].send(job.message)
        except Exception as exc:  # a sender broke its promise to answer: never resend
            log.exception("outbox %s: the %s sender raised", job.id, job.channel)
            delivery = Delivery(Outcome.FAILED, f"error: {type(exc).__name__}: {exc}")
        self._record(job, delivery)

    def _record(self, job: Claimed, delivery: Delivery) -> None:
        at = self.clock()
        if delivery.outcome is Outcome.SENT:
            values: dict[str, object] = dict(at=at)
            statement = FINISH_SENT
            self.tally["sent"] += 1
        else:
            decision = self._after(job, delivery, at)
            status = STATUS_AFTER[decision.action]
            statement = FINISH_UNSENT
            values = dict(status=status, why=decision.reason[:500], until=decision.until)
            self.tally[status if decision.action != "retry" else "retry"] += 1
        with self.db.unit_of_work() as session:
            _without_waiting_for_disk(session)
            session.execute(statement, dict(values, row=job.id, me=self.name))
            if delivery.outcome is Outcome.UNREACHABLE:
                session.execute(
                    update(ChatIdentity)
                    .where(ChatIdentity.id == job.identity_id)
                    .values(reachable=False, unreachable_reason=delivery.detail[:200])
                )
            session.commit()

    def _after(self, job: Claimed, delivery: Delivery, at: datetime) -> Decision:
        detail = delivery.detail or str(delivery.outcome)
        if delivery.outcome is Outcome.RETRY:
            return after_failed_try(job.attempts, detail, at, self.config, delivery.retry_after)
        if delivery.outcome is Outcome.UNREACHABLE:
            if job.reroute and self._another_identity(job):
                return Decision("retry", f"blocked: on {job.channel}, trying another: {detail}", at)
            return Decision("fail", f"blocked: {detail}")
        if detail.startswith("error: "):
            return Decision("fail", detail)
        return Decision("fail", f"refused: {detail}")

    def _another_identity(self, job: Claimed) -> bool:
        with self.db.unit_of_work(write=False) as session:
            member_id = session.scalar(
                select(OutboundMessage.member_id).where(OutboundMessage.id == job.id)
            )
            others = session.scalars(
                select(ChatIdentity).where(
                    ChatIdentity.member_id == member_id,
                    ChatIdentity.reachable.is_(True),
                    ChatIdentity.id != job.identity_id,
                )
            ).all()
            return preferred_identity(list(others), self.senders) is not None


def _without_waiting_for_disk(session) -> None:
    if session.bind.dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))


# The per-message statements, built once (Core: no ORM bookkeeping on the hot path).
_outbox = OutboundMessage.__table__
TAKE = (
    update(_outbox)
    .where(
        _outbox.c.id == bindparam("row"),
        _outbox.c.claimed_by == bindparam("me"),
        _outbox.c.status.in_(DUE),
    )
    .values(
        status="sending",
        claimed_at=bindparam("at"),
        attempts=bindparam("tries"),
        identity_id=bindparam("ident"),
        channel=bindparam("chan"),
    )
)
_mine = (
    (_outbox.c.id == bindparam("row"))
    & (_outbox.c.status == "sending")
    & (_outbox.c.claimed_by == bindparam("me"))
)
FINISH_SENT = (
    update(_outbox)
    .where(_mine)
    .values(
        status="sent", sent_at=bindparam("at"), last_error=None, claimed_by=None, claimed_at=None
    )
)
FINISH_UNSENT = (
    update(_outbox)
    .where(_mine)
    .values(
        status=bindparam("status"),
        last_error=bindparam("why"),
        not_before=func.coalesce(bindparam("until", type_=UTCDateTime()), _outbox.c.not_before),
        claimed_by=None,
        claimed_at=None,
    )
)

STATUS_AFTER = {
    "defer": "deferred",
    "retry": "queued",
    "cancel": "cancelled",
    "fail": "failed",
}
