"""One turn of a conversation as a handler sees it: who is writing, what they said,
the conversation's state, and the replies being built.

Handlers speak only through the catalogue (`say`), so every string exists in both
languages."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from core import catalogue, payloads, validity
from core.config import Config
from core.global_words import normalise
from core.messages import Button, Reply
from core.send_window import member_zone
from handlers.conversation import answers
from nlu.understanding import Understanding
from storage.models import ChatIdentity, ConversationState, Member

# How many finished confirmations are remembered, to answer a repeated press.
REMEMBERED_CONFIRMATIONS = 5


@dataclass(frozen=True)
class Reask:
    """A step's verdict on an answer it cannot use: say the hint, ask again."""

    hint: str | None = None
    fields: dict = field(default_factory=dict)
    heard: bool = False  # the right kind of answer, just not a usable one: no digression


@dataclass
class Context:
    session: Session
    config: Config
    now: datetime
    identity: ChatIdentity
    member: Member | None
    state: ConversationState
    lang: str
    understood: Understanding
    text: str | None = None
    payload: str | None = None  # the raw payload of a pressed button
    answer: str | None = None  # the value of a pressed answer button (a:...)
    pressed_yes: bool | None = None  # a pressed confirm button (c:...:y|n)
    replies: list[Reply] = field(default_factory=list)
    outcome: str = "answered"
    handler: str | None = None
    follow_up: str | None = None  # an intent to run once this one is done (after binding)
    # What a typed answer to the last question runs: {"intent": yes, "otherwise": no,
    # "entities": {...}, "by_yes": whether a bare yes accepts, True unless said};
    # bot/dispatch.py keeps it open for the next message.
    offered: dict | None = None

    # -- speaking ----------------------------------------------------------------------

    def t(self, key: str, **fields) -> str:
        return catalogue.text(self.lang, key, **fields)

    def say(self, key: str, *buttons: Button, **fields) -> None:
        self.replies.append(Reply(self.t(key, **fields), tuple(buttons)))

    def say_text(self, text: str, *buttons: Button) -> None:
        self.replies.append(Reply(text, tuple(buttons)))

    def button(self, key: str, payload: str, **fields) -> Button:
        return Button(self.t(key, **fields), payload)

    @property
    def bound_member(self) -> Member:
        """The member behind this chat, for handlers the router runs only for a bound chat
        (`needs_member`) or after binding has set it."""
        if self.member is None:
            raise RuntimeError(f"handler {self.handler!r} needs a bound member, the chat has none")
        return self.member

    def offer(self, key: str, intent: str, entities: dict | None = None, **fields) -> None:
        """A "Do you want ...?" question: its button runs `intent`, and so does a typed
        yes to it (bot/dispatch.py keeps the offer open for the next message), with
        `entities` kept for it."""
        self.say(key, self.button(f"intent.{intent}", payloads.intent(intent)), **fields)
        self.offered = {"intent": intent, **({"entities": entities} if entities else {})}

    def keep_to_amend(self, intent: str, entities: dict) -> None:
        """A request just refused or dropped: a next message that changes only its
        quantity (`ok just 2 then`, `那就两张吧`) asks it again with that (bot/dispatch.py),
        beside any offer made."""
        offered = self.offered or {"by_yes": False}
        self.offered = {**offered, "amend": {"intent": intent, "entities": entities}}

    # -- reading the message -----------------------------------------------------------

    @property
    def slots(self) -> dict:
        return self.state.slots

    def set_slot(self, name: str, value) -> None:
        # Reassign, so SQLAlchemy sees the JSON column change.
        self.state.slots = {**self.state.slots, name: value}

    def entity(self, name: str) -> str | None:
        return self.understood.entity(name)

    def intent_is(self, *names: str) -> bool:
        return self.understood.intent in names and self.understood.confident(
            self.config.nlu.fallback_threshold
        )

    # -- time, in the member's zone ----------------------------------------------------

    @property
    def zone(self) -> ZoneInfo:
        return member_zone(self.member.timezone if self.member else None, self.config)

    def today(self) -> date:
        return self.now.astimezone(self.zone).date()

    def when(self, moment: datetime) -> str:
        return moment.astimezone(self.zone).strftime("%Y-%m-%d %H:%M")

    def day(self, moment: datetime | date) -> str:
        if isinstance(moment, datetime):
            moment = moment.astimezone(self.zone).date()
        return moment.isoformat()

    def last_day(self, expires_at: datetime) -> str:
        """The day something expiring at `expires_at` is named by (core/validity.py)."""
        return validity.last_day(expires_at, self.zone).isoformat()

    # -- confirmations -----------------------------------------------------------------

    def confirm(self, key: str, **fields) -> None:
        """Ask a yes/no question whose buttons carry this confirmation's id."""
        if not self.state.confirmation:
            self.state.confirmation = secrets.token_hex(4)
        ident = self.state.confirmation
        self.say(
            key,
            self.button("confirm.yes", payloads.confirm(ident, True)),
            self.button("confirm.no", payloads.confirm(ident, False)),
            **fields,
        )

    def typed(self, key: str) -> bool:
        """The member typed a button's title instead of pressing it (in either language)."""
        said = normalise(self.text or "")
        return bool(said) and any(
            said == normalise(catalogue.text(lang, key)) for lang in catalogue.LANGUAGES
        )

    def ask_yes_no(self, question: str, yes: str, no: str) -> None:
        """A yes/no question with its two buttons; `yes_no(yes, no)` reads the answer."""
        self.say(
            question,
            self.button(yes, payloads.answer("yes")),
            self.button(no, payloads.answer("no")),
        )

    def yes_no(
        self, yes: str = "confirm.yes", no: str = "confirm.no", guess_yes: bool = True
    ) -> bool | None:
        """True, False, or None when the answer is neither. The buttons' titles typed
        out count before the NLU's guess; without `guess_yes`, a yes must be pressed or
        typed in so many words (the NLU read `let me think` as yes)."""
        if self.pressed_yes is not None:
            return self.pressed_yes
        if self.answer in ("yes", "no"):
            return self.answer == "yes"
        if self.typed(yes) or self.typed(no):
            return self.typed(yes)
        word = answers.yes_or_no(self.text)
        if word is not None:
            return word
        # A question or a hesitation is no yes, whatever the NLU guesses: `确定吗？`, `are you
        # sure?` and `ok wait` at a confirmation read as affirm, and the points were spent.
        if self.intent_is("affirm"):
            return True if guess_yes and not answers.hesitates(self.text) else None
        if self.intent_is("deny", "cancel"):
            return False
        return None

    def confirmation_key(self) -> str:
        """The request key of the confirmed action: the same for a repeated press, so the
        action happens once; the confirmation is remembered as done."""
        ident = self.state.confirmation or secrets.token_hex(4)
        done = [ident, *[c for c in self.state.confirmed or [] if c != ident]]
        self.state.confirmed = done[:REMEMBERED_CONFIRMATIONS]
        return f"chat:{self.identity.id}:{ident}"

    def reask(self, hint: str | None = None, heard: bool = False, **fields) -> Reask:
        return Reask(hint, fields, heard)
