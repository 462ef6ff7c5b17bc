"""Linking a chat to a membership (member number or phone, plus birthday), and joining
as a new member. Flow diagram: handlers/conversation/binding.md."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from core import payloads
from handlers.conversation import answers
from handlers.conversation.context import Context, Reask
from handlers.conversation.forms import Form, State
from storage import members
from storage.members import NewMember


def offer(ctx: Context, then: str | None = None) -> None:
    """An unbound chat asked for something only a member has."""
    ctx.outcome = "needs_binding"
    extra = {"then": then} if then else {}
    ctx.say(
        "binding.needed",
        ctx.button("intent.bind_account", payloads.intent("bind_account", **extra)),
        ctx.button("intent.register", payloads.intent("register", **extra)),
    )


def _locked_until(ctx: Context) -> datetime | None:
    """When binding opens again for this chat, while it is locked."""
    until = ctx.identity.bind_locked_until
    return until if until is not None and until > ctx.now else None


def _bind(ctx: Context, member) -> None:
    ctx.identity.member_id, ctx.identity.bind_failures = member.id, 0
    ctx.identity.bind_locked_until = None
    ctx.identity.member = ctx.member = member
    if ctx.identity.language is None:  # nothing guessed or chosen yet: the member's own
        ctx.lang = ctx.identity.language = member.language
    ctx.follow_up = ctx.slots.get("then")


# -- binding: identifier -> birthday -> (check) ------------------------------------------


def begin(ctx: Context) -> str | None:
    if ctx.member is not None:
        ctx.say("binding.already", member_no=ctx.member.member_no)
        return None
    if until := _locked_until(ctx):
        ctx.outcome = "refused"
        ctx.say("binding.locked", until=ctx.when(until))
        return None
    if ctx.entity("then"):
        ctx.set_slot("then", ctx.entity("then"))
    _take_identifier(ctx)
    if "identifier" in ctx.slots and (born := _birthday(ctx)):
        ctx.set_slot("birthday", born.isoformat())
        return _check(ctx)
    return "birthday" if "identifier" in ctx.slots else "identifier"


def _take_identifier(ctx: Context) -> bool:
    found = answers.member_no(ctx.text or "", ctx.entity("member_no")) or answers.phone(
        ctx.text or "", ctx.entity("phone")
    )
    if found:
        ctx.set_slot("identifier", found)
    return bool(found)


def _birthday(ctx: Context) -> date | None:
    return answers.birthday(ctx.text or "", ctx.entity("date"), ctx.today())


def ask_identifier(ctx: Context) -> None:
    ctx.say("binding.ask_identifier")


def got_identifier(ctx: Context) -> str | Reask | None:
    if not _take_identifier(ctx):
        return ctx.reask("binding.bad_identifier")
    if born := _birthday(ctx):  # "13800000002, born 1985-11-03": both at once
        ctx.set_slot("birthday", born.isoformat())
        return _check(ctx)
    return "birthday"


def ask_birthday(ctx: Context) -> None:
    ctx.say("binding.ask_birthday")


def got_birthday(ctx: Context) -> str | Reask | None:
    born = _birthday(ctx)
    if born is None:
        return ctx.reask("binding.bad_birthday")
    ctx.set_slot("birthday", born.isoformat())
    return _check(ctx)


def _check(ctx: Context) -> str | None:
    """Both must match; which one did not is not said, so numbers cannot be probed."""
    identifier = ctx.slots["identifier"]
    member = (
        members.by_number(ctx.session, identifier)
        if identifier.startswith("M")
        else members.by_phone(ctx.session, identifier)
    )
    if member is not None and member.birthday == date.fromisoformat(ctx.slots["birthday"]):
        _bind(ctx, member)
        ctx.say("binding.done", name=member.name, member_no=member.member_no)
        return None
    rules = ctx.config.dialogue
    ctx.identity.bind_failures += 1
    if ctx.identity.bind_failures >= rules.binding_max_attempts:
        ctx.identity.bind_failures = 0
        ctx.identity.bind_locked_until = ctx.now + timedelta(minutes=rules.binding_lock_minutes)
        ctx.outcome = "refused"
        ctx.say("binding.locked", until=ctx.when(ctx.identity.bind_locked_until))
        return None
    ctx.state.slots = {k: v for k, v in ctx.slots.items() if k not in ("identifier", "birthday")}
    ctx.say("binding.mismatch", left=rules.binding_max_attempts - ctx.identity.bind_failures)
    return "identifier"


BIND = Form(
    name="bind",
    intent="bind_account",
    begin=begin,
    states={
        "identifier": State(ask_identifier, got_identifier),
        "birthday": State(ask_birthday, got_birthday),
    },
)


# -- registration: name -> phone -> birthday -> consent -> welcome ---------------------------

NAME_MAX = 40


def register_begin(ctx: Context) -> str | None:
    if ctx.member is not None:
        ctx.say("binding.already", member_no=ctx.member.member_no)
        return None
    if ctx.entity("then"):
        ctx.set_slot("then", ctx.entity("then"))
    return "name"


def ask_name(ctx: Context) -> None:
    ctx.say("register.ask_name")


def got_name(ctx: Context) -> str | Reask:
    name = (ctx.text or "").strip()
    if not name or len(name) > NAME_MAX or any(c.isdigit() for c in name):
        return ctx.reask("register.bad_name")
    ctx.set_slot("name", name)
    return "phone"


def ask_phone(ctx: Context) -> None:
    ctx.say("register.ask_phone")


def got_phone(ctx: Context) -> str | Reask | None:
    phone = answers.phone(ctx.text or "", ctx.entity("phone"))
    if phone is None:
        return ctx.reask("register.bad_phone")
    if members.by_phone(ctx.session, phone) is not None:
        ctx.outcome = "refused"
        ctx.say(
            "register.phone_taken",
            ctx.button("intent.bind_account", payloads.intent("bind_account")),
        )
        return None
    ctx.set_slot("phone", phone)
    return "birthday"


def ask_register_birthday(ctx: Context) -> None:
    ctx.say("register.ask_birthday")


def got_register_birthday(ctx: Context) -> str | Reask:
    born = _birthday(ctx)
    if born is None:
        return ctx.reask("binding.bad_birthday")
    ctx.set_slot("birthday", born.isoformat())
    return "consent"


def ask_consent(ctx: Context) -> None:
    ctx.say(
        "register.ask_consent",
        ctx.button("register.consent_yes", payloads.answer("yes")),
        ctx.button("register.consent_no", payloads.answer("no")),
    )


def got_consent(ctx: Context) -> str | Reask | None:
    consent = ctx.yes_no("register.consent_yes", "register.consent_no")
    if consent is None:
        return ctx.reask("register.pick_consent")
    member = members.open_membership(
        ctx.session,
        ctx.config,
        NewMember(
            name=ctx.slots["name"],
            phone=ctx.slots["phone"],
            birthday=date.fromisoformat(ctx.slots["birthday"]),
            language=ctx.lang,
            marketing_consent=consent,
        ),
        ctx.now,
        source=f"chat:{ctx.identity.channel}",
    )
    _bind(ctx, member)
    ctx.say(
        "register.done",
        name=member.name,
        member_no=member.member_no,
        bonus=ctx.config.points.welcome_bonus,
    )
    return None


REGISTER = Form(
    name="register",
    intent="bind_account",
    begin=register_begin,
    states={
        "name": State(ask_name, got_name),
        "phone": State(ask_phone, got_phone),
        "birthday": State(ask_register_birthday, got_register_birthday),
        "consent": State(ask_consent, got_consent),
    },
)
