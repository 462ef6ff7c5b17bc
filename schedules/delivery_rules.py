"""What the dispatcher does with one due message: plain rules, no I/O.

A reply (a live answer the platform put off) goes to the chat it answers, at any hour,
with or without a member, while it is fresh (REPLY_KEPT); it is never moved to another
chat. Every other message, in order: a member who is gone cancels it; marketing without
consent (never given, or withdrawn with "退订"/"unsubscribe") cancels it, service notices
still go; a campaign message that cannot go out on the day it was queued (member local
time: the campaign's day, or the day an operator ran it) is missed, never sent a day late;
quiet hours and holidays defer it; no reachable chat identity fails it; a
reachable identity whose channel has no sender in this process waits (and gives up after
the configured tries); otherwise it goes to the member's most recently active reachable
identity."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core.config import Config
from core.send_window import earliest_send, member_zone
from schedules.outbox import MARKETING, REPLY
from storage.models import ChatIdentity, Member, OutboundMessage

EPOCH = datetime.min.replace(tzinfo=UTC)
# Past this, an answer to "how many points do I have?" confuses more than it helps.
REPLY_KEPT = timedelta(minutes=30)


@dataclass(frozen=True)
class Decision:
    action: str  # send, defer, cancel, fail, retry
    reason: str = ""  # "code: detail", for last_error
    until: datetime | None = None  # defer, retry
    identity: ChatIdentity | None = None  # send


def preferred_identity(
    identities: list[ChatIdentity], channels: Mapping[str, object]
) -> ChatIdentity | None:
    """The reachable identity the member used last, among channels we can send on."""
    usable = [i for i in identities if i.reachable and i.channel in channels]
    return max(usable, key=lambda i: (i.last_inbound_at or EPOCH, i.id), default=None)


def retry_delay(attempts: int, config: Config, retry_after: float | None = None) -> timedelta:
    """The back-off after the `attempts`-th try: what the platform asked, else the schedule."""
    if retry_after is not None:
        return timedelta(seconds=retry_after)
    schedule = config.outbound.backoff_seconds or [60]
    return timedelta(seconds=schedule[min(attempts, len(schedule)) - 1])


def after_failed_try(
    attempts: int, detail: str, at: datetime, config: Config, retry_after: float | None = None
) -> Decision:
    if attempts >= config.outbound.max_attempts:
        return Decision("fail", f"gave_up: {detail} (after {attempts} tries)")
    return Decision("retry", f"retry: {detail}", at + retry_delay(attempts, config, retry_after))


def decide(
    row: OutboundMessage,
    member: Member | None,
    identities: list[ChatIdentity],
    channels: Mapping[str, object],
    at: datetime,
    config: Config,
) -> Decision:
    if row.category == REPLY:
        return _reply(row, identities, channels, at, config)
    if member is None:
        return Decision("cancel", "no_member: the member no longer exists")
    if row.category == MARKETING and not member.marketing_consent:
        return Decision("cancel", "opted_out: no marketing consent")
    zone = member_zone(member.timezone, config)
    until, why = earliest_send(at, zone, row.category, config)
    day = row.created_at.astimezone(zone).date()
    if row.campaign_id is not None and until.astimezone(zone).date() > day:
        return Decision("cancel", f"missed: not sendable on the campaign's day {day}")
    if why:
        return Decision("defer", f"{why}: until {until.isoformat()}", until)
    reachable = [i for i in identities if i.reachable]
    if not reachable:
        return Decision("fail", "unreachable: no reachable chat identity")
    # A message for one chat (a security notice for the chat bound first) goes there.
    pinned = [i for i in reachable if i.id == row.identity_id]
    chosen = preferred_identity(pinned, channels) or preferred_identity(reachable, channels)
    if chosen is None:
        names = ", ".join(sorted({i.channel for i in reachable}))
        return after_failed_try(
            row.attempts + 1, f"no sender here for channel {names}: set its secrets", at, config
        )
    return Decision("send", identity=chosen)


def _reply(
    row: OutboundMessage,
    identities: list[ChatIdentity],
    channels: Mapping[str, object],
    at: datetime,
    config: Config,
) -> Decision:
    if at - row.created_at > REPLY_KEPT:
        minutes = int(REPLY_KEPT.total_seconds() // 60)
        return Decision("cancel", f"stale: not sent within {minutes} min of the message")
    chat = next((i for i in identities if i.id == row.identity_id and i.reachable), None)
    if chat is None:
        return Decision("fail", "unreachable: the chat it answers is not reachable")
    if chat.channel not in channels:
        detail = f"no sender here for channel {chat.channel}: set its secrets"
        return after_failed_try(row.attempts + 1, detail, at, config)
    return Decision("send", identity=chat)
