"""What every channel's outbound sender promises. The bot's asynchronous replies, the
scheduled dispatcher and staff replies all send through a Sender and branch on Outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from core.scrub import scrub


@dataclass(frozen=True)
class Outgoing:
    external_id: str  # the member's id on the channel: WeChat openid, Telegram chat id
    text: str
    buttons: list[tuple[str, str]] = field(default_factory=list)  # (title, payload)
    # The kind of message (birthday, points_expiry, ticket_update ...): a channel that may
    # only send approved templates outside a window (WeChat) picks the template by it.
    kind: str = "service_notice"
    last_inbound_at: datetime | None = None
    # The fields of a template message (name -> value), when the template has its own;
    # by default the text goes in a field named `content`.
    template_data: dict[str, str] | None = None


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # try again later (rate limited, platform busy, network)
    UNREACHABLE = "unreachable"  # the member blocked us or left: stop sending to them
    FAILED = "failed"  # will not succeed as it is (bad configuration, refused content)


@dataclass(frozen=True)
class Delivery:
    outcome: Outcome
    detail: str = ""
    retry_after: float | None = None
    via: str | None = None  # how it went: "message", "customer_service", "template"

    def __post_init__(self):
        # The detail is stored (outbox last_error, message log) and shown: no secrets.
        object.__setattr__(self, "detail", scrub(self.detail))


class Sender(Protocol):
    channel: str

    def send(self, message: Outgoing) -> Delivery: ...
