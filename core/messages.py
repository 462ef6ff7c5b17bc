"""What goes in and out of the dialogue engine: the whole surface a channel adapter sees."""

from __future__ import annotations

from dataclasses import dataclass

from core.text import clean

# Telegram's callback_data limit; WeChat menu keys are longer, so this is the binding one.
MAX_PAYLOAD_BYTES = 64


@dataclass(frozen=True)
class Button:
    title: str
    payload: str

    def __post_init__(self):
        if len(self.payload.encode()) > MAX_PAYLOAD_BYTES:
            raise ValueError(f"button payload over {MAX_PAYLOAD_BYTES} bytes: {self.payload!r}")


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[Button, ...] = ()

    def as_dict(self) -> dict:
        return {
            "text": self.text,
            "buttons": [{"title": b.title, "payload": b.payload} for b in self.buttons],
        }


@dataclass(frozen=True)
class Inbound:
    """One message from a member: text, or the payload of a button they pressed.

    `message_id` is the channel's own id (WeChat MsgId, Telegram update id): a retry
    with the same id is answered from the log instead of being handled twice."""

    channel: str
    user_id: str
    text: str | None = None
    button: str | None = None
    message_id: str | None = None

    def __post_init__(self):
        if (self.text is None) == (self.button is None):
            raise ValueError("a message has either text or a button payload")
        # The boundary every channel passes: what reaches the engine and the records is clean.
        if self.text is not None:
            object.__setattr__(self, "text", clean(self.text))
        if self.button is not None:
            object.__setattr__(self, "button", clean(self.button, limit=256))


@dataclass(frozen=True)
class Turn:
    """The engine's answer to one inbound message.

    `owner` is who holds the conversation afterwards: "staff" means a person answers
    next, through the channel's sender, and the bot stays silent."""

    replies: list[Reply]
    intent: str | None
    confidence: float | None
    language: str
    outcome: str
    owner: str = "bot"
    member_no: str | None = None
    duplicate: bool = False

    def as_dict(self, user: str) -> dict:
        confidence = None if self.confidence is None else round(self.confidence, 4)
        return {
            "user": user,
            "intent": {"name": self.intent, "confidence": confidence},
            "replies": [r.as_dict() for r in self.replies],
        }
