"""Plays a conversation script (tests/bot/*.yml) against the real engine.

A step sends one message (say, press, payload, again) and states what the turn must
look like; `check` looks in the database; `restart` builds a new engine on the same
database, as a process restart would. Staff act on the member's latest ticket with
`staff_replies: TEXT` (the ticket then waits for the member) and `staff_resolves_ticket`
(the member is asked for a rating); `staff_resolves` only hands the chat back.

The messages go straight to the engine (the console) unless a `transport` is given:
tests/app/channels/test_conversation_scripts.py plays the same scripts through the
Telegram and WeChat channels against the fake platforms."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import func, select

from bot.engine import Engine
from core.messages import Inbound, Turn
from handlers.desk import member_views as views
from handlers.desk import ticket_lifecycle as lifecycle
from handlers.desk import tickets
from storage.models import (
    ChatIdentity,
    ConsentEvent,
    ConversationState,
    Member,
    MessageLog,
    OutboundMessage,
    Redemption,
    Ticket,
    TicketEvent,
    Voucher,
)

ACTIONS = (
    "say",
    "press",
    "payload",
    "again",
    "restart",
    "staff_resolves",
    "staff_replies",
    "staff_resolves_ticket",
    "wait_minutes",
    "check",
)
AGENT = lifecycle.Actor("amy", "agent")


class ScriptError(AssertionError):
    pass


class Script:
    def __init__(
        self, database, config, parser, user: str, at: datetime, channel="console", transport=None
    ):
        self.database, self.config, self.parser = database, config, parser
        self.user, self.channel, self.at = user, channel, at
        self.engine = self._engine()
        self.external = lambda user: user  # the chat's id on the platform
        self.transport = transport
        self.senders: dict = transport.senders if transport else {}
        self.turn: Turn | None = None
        self.last_payload: str | None = None

    def _engine(self) -> Engine:
        return Engine(self.database, self.config, self.parser, clock=lambda: self.at)

    # -- setting the scene ---------------------------------------------------------------

    def setup(self, scene: dict) -> None:
        with self.database.unit_of_work() as session:
            from storage.models import Benefit

            for code, stock in (scene.get("stock") or {}).items():
                session.scalar(select(Benefit).where(Benefit.code == code)).stock = stock
            member = self._member(session)
            if "tier" in scene:
                member.tier = scene["tier"]
            if "birthday" in scene:
                member.birthday = scene["birthday"]
            session.commit()

    # -- one step ------------------------------------------------------------------------

    def run(self, step: dict, where: str) -> None:
        unknown = set(step) - set(ACTIONS) - set(EXPECTATIONS) - {"user"}
        if unknown:
            raise ScriptError(f"{where}: unknown keys {sorted(unknown)}")
        user = step.get("user", self.user)
        if step.get("restart"):
            self.engine = self._engine()
        if step.get("wait_minutes"):
            self.at += timedelta(minutes=step["wait_minutes"])
        if step.get("staff_resolves"):
            self._staff_resolves(user)
        if "staff_replies" in step:
            number = self._latest_number(user)
            lifecycle.reply(
                self.database,
                self.config,
                self.senders,
                number,
                step["staff_replies"],
                AGENT,
                self.at,
            )
        if resolves := step.get("staff_resolves_ticket"):  # true: the latest, or a number
            number = resolves if isinstance(resolves, str) else self._latest_number(user)
            lifecycle.resolve(self.database, self.config, self.senders, number, AGENT, self.at)
        message = self._message(step, user, where)
        if message is not None:
            if self.transport is not None:
                self.turn = self.transport.handle(self, message)
            else:
                self.turn = self.engine.handle(message)
            if self.turn.outcome == "error":
                raise ScriptError(f"{where}: the engine failed (see the log)")
            said = "\n".join(r.text for r in self.turn.replies)
            for key, expect in EXPECTATIONS.items():
                if key in step:
                    expect(self, step[key], said, f"{where} ({_shown(message)} -> {said!r})")
        for name, wanted in (step.get("check") or {}).items():
            self._check(name, wanted, user, where)

    def _message(self, step: dict, user: str, where: str) -> Inbound | None:
        if "say" in step:
            return Inbound(self.channel, self.external(user), text=str(step["say"]))
        if "payload" in step:
            self.last_payload = step["payload"]
        elif "press" in step:
            self.last_payload = self._button(step["press"], where)
        elif not step.get("again"):
            return None
        if self.last_payload is None:
            raise ScriptError(f"{where}: nothing was pressed before")
        return Inbound(self.channel, self.external(user), button=self.last_payload)

    def _latest_number(self, user: str) -> str:
        with self.database.unit_of_work(write=False) as session:
            return self._latest_ticket(session, user).number

    def _button(self, title: str, where: str) -> str:
        buttons = [b for r in (self.turn.replies if self.turn else []) for b in r.buttons]
        for button in buttons:
            if button.title == title or title in button.title:
                return button.payload
        raise ScriptError(f"{where}: no button {title!r} among {[b.title for b in buttons]}")

    def _staff_resolves(self, user: str) -> None:
        with self.database.unit_of_work() as session:
            state = self._state(session, user)
            ticket = session.get(Ticket, state.ticket_id)
            tickets.hand_back(session, ticket, actor="staff:test", at=self.at)
            session.commit()

    # -- the database --------------------------------------------------------------------

    def _identity(self, session, user: str) -> ChatIdentity:
        return session.scalar(
            select(ChatIdentity).where(
                ChatIdentity.channel == self.channel,
                ChatIdentity.external_id == self.external(user),
            )
        )

    def _member(self, session, user: str | None = None) -> Member | None:
        identity = self._identity(session, user or self.user)
        return identity.member if identity else None

    def _state(self, session, user: str) -> ConversationState:
        return session.get(ConversationState, self._identity(session, user).id)

    def _latest_ticket(self, session, user: str) -> Ticket | None:
        return session.scalar(
            select(Ticket)
            .where(Ticket.identity_id == self._identity(session, user).id)
            .order_by(Ticket.id.desc())
        )

    def _check(self, name: str, wanted, user: str, where: str) -> None:
        with self.database.unit_of_work(write=False) as session:
            identity = self._identity(session, user)
            member = identity.member if identity else None
            found = CHECKS[name](self, session, identity, member, user)
        if name in ("outbox_says", "ticket_says"):  # a part of any of those texts
            found = wanted if any(wanted in text for text in found) else found
        if isinstance(wanted, dict) and isinstance(found, dict):
            found = {k: found.get(k) for k in wanted}
        if found != wanted:
            raise ScriptError(f"{where}: {name} is {found!r}, expected {wanted!r}")


def _shown(message: Inbound) -> str:
    return message.text if message.text is not None else f"[{message.button}]"


def _expect_replies(script, wanted, said, where):
    for part in wanted if isinstance(wanted, list) else [wanted]:
        if str(part) not in said:
            raise ScriptError(f"{where}: missing {part!r}")


def _expect_absent(script, unwanted, said, where):
    for part in unwanted if isinstance(unwanted, list) else [unwanted]:
        if str(part) in said:
            raise ScriptError(f"{where}: should not say {part!r}")


def _expect_buttons(script, titles, said, where):
    shown = [b.title for r in script.turn.replies for b in r.buttons]
    missing = [t for t in titles if not any(t in s for s in shown)]
    if missing:
        raise ScriptError(f"{where}: buttons {missing} not among {shown}")


def _expect_silent(script, silent, said, where):
    if bool(silent) != (not script.turn.replies):
        raise ScriptError(f"{where}: expected {'no' if silent else 'some'} replies")


def _expect_matches(script, pattern, said, where):
    if not re.search(pattern, said):
        raise ScriptError(f"{where}: nothing matches {pattern!r}")


def _expect_field(field):
    def expect(script, wanted, said, where):
        found = getattr(script.turn, field)
        if found != wanted:
            raise ScriptError(f"{where}: {field} is {found!r}, expected {wanted!r}")

    return expect


EXPECTATIONS = {
    "intent": _expect_field("intent"),
    "outcome": _expect_field("outcome"),
    "owner": _expect_field("owner"),
    "language": _expect_field("language"),
    "replies": _expect_replies,
    "absent": _expect_absent,
    "buttons": _expect_buttons,
    "silent": _expect_silent,
    "matches": _expect_matches,
}


def _count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def _ticket(script, session, identity, member, user):
    ticket = script._latest_ticket(session, user)
    if ticket is None:
        return None
    return {
        "number": ticket.number,
        "kind": ticket.kind,
        "category": ticket.category,
        "priority": ticket.priority,
        "urgent": ticket.urgent,
        "status": ticket.status,
        "order_id": ticket.order_id,
        "description": ticket.description,
        "rating": ticket.rating,
        "member_wrote": ticket.member_wrote_at is not None,
    }


def _member_messages(script, session, identity, member, user):
    ticket = script._latest_ticket(session, user)
    return list(
        session.scalars(
            select(TicketEvent.body)
            .where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "member_message")
            .order_by(TicketEvent.id)
        )
    )


def _missing(script, session, identity, member, user):
    ticket = script._latest_ticket(session, user)
    event = session.scalar(
        select(TicketEvent).where(
            TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "incomplete"
        )
    )
    return event.data["missing"] if event else []


def _referrer(script, session, identity, member, user):
    referrer = session.get(Member, member.referrer_id) if member.referrer_id else None
    return referrer.member_no if referrer else None


def _consents(script, session, identity, member, user):
    rows = session.scalars(
        select(ConsentEvent.kind)
        .where(ConsentEvent.member_id == member.id, ConsentEvent.granted.is_(True))
        .order_by(ConsentEvent.kind)
    )
    return sorted(set(rows))


def _ticket_events(script, session, identity, member, user):
    ticket = script._latest_ticket(session, user)
    rows = session.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket.id))
    counts: dict[str, int] = {}
    for kind in rows:
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def _outcomes(script, session, identity, member, user):
    rows = session.scalars(
        select(MessageLog.outcome).where(
            MessageLog.identity_id == identity.id, MessageLog.direction == "in"
        )
    )
    counts: dict[str, int] = {}
    for outcome in rows:
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


CHECKS = {
    "redemptions": lambda s, session, i, m, u: _count(
        session, Redemption, Redemption.member_id == m.id
    ),
    "vouchers": lambda s, session, i, m, u: _count(
        session, Voucher, Voucher.member_id == m.id, Voucher.status == "active"
    ),
    "extension_requested": lambda s, session, i, m, u: _count(
        session, Voucher, Voucher.member_id == m.id, Voucher.extension_requested_at.is_not(None)
    ),
    "balance": lambda s, session, i, m, u: views.balance(session, m.id),
    "tickets": lambda s, session, i, m, u: _count(session, Ticket, Ticket.identity_id == i.id),
    "ticket": _ticket,
    "ratings": lambda s, session, i, m, u: {
        t.number: t.rating
        for t in session.scalars(select(Ticket).where(Ticket.identity_id == i.id))
    },
    "ticket_events": _ticket_events,
    "member_messages": _member_messages,
    "ticket_says": lambda s, session, i, m, u: [s._latest_ticket(session, u).description],
    "outbox_says": lambda s, session, i, m, u: list(
        session.scalars(select(OutboundMessage.text).where(OutboundMessage.member_id == m.id))
    ),
    "missing": _missing,
    "referrer": _referrer,
    "consents": _consents,
    "outcomes": _outcomes,
    "owner": lambda s, session, i, m, u: s._state(session, u).owner,
    "flow": lambda s, session, i, m, u: s._state(session, u).flow,
    "bound_to": lambda s, session, i, m, u: m.member_no if m else None,
    "marketing_consent": lambda s, session, i, m, u: m.marketing_consent,
    "member_language": lambda s, session, i, m, u: m.language,
    "phone": lambda s, session, i, m, u: m.phone,
    "birthday": lambda s, session, i, m, u: m.birthday.isoformat() if m.birthday else None,
    "binding_locked": lambda s, session, i, m, u: bool(
        i.bind_locked_until and i.bind_locked_until > s.at
    ),
    "messages_logged": lambda s, session, i, m, u: _count(
        session, MessageLog, MessageLog.identity_id == i.id
    ),
}
