"""Linking a chat to a membership (member number or phone, plus birthday); joining as a
new member is register.py. Flow diagram: handlers/conversation/binding.md."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from sqlalchemy import select

from core import catalogue, payloads
from core.lockout import Rule
from handlers.conversation import answers
from handlers.conversation.context import Context, Reask
from handlers.conversation.forms import Form, State
from storage import attempts, members
from storage.models import ChatIdentity, Member, OutboundMessage

# Wrong birthdays are counted per chat (on its identity), per membership whichever chats
# they come from (rotating chats gains nothing), and over all memberships together.
PER_NUMBER, EVERYWHERE = "bind_number", "bind_all"


def offer(ctx: Context, then: str | None = None) -> None:
    """An unbound chat asked for something only a member has."""
    ctx.outcome = "needs_binding"
    extra = {"then": then} if then else {}
    ctx.say(
        "binding.needed",
        ctx.button("intent.bind_account", payloads.intent("bind_account", **extra)),
        ctx.button("intent.register", payloads.intent("register", **extra)),
    )
    # A typed yes to "Already a member?" links, a typed no ("not yet") joins.
    ctx.offered = {"intent": "bind_account", "otherwise": "register", "entities": extra}


def _locked_until(ctx: Context) -> datetime | None:
    """When binding opens again for this chat, while it is locked."""
    until = ctx.identity.bind_locked_until
    return until if until is not None and until > ctx.now else None


def link(ctx: Context, member) -> None:
    """This chat is now the member's; the first request runs next (`then`)."""
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
    if "identifier" in ctx.slots and (born := birthday_in(ctx)):
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


def birthday_in(ctx: Context) -> date | None:
    return answers.birthday(ctx.text or "", ctx.entity("date"), ctx.today())


def ask_identifier(ctx: Context) -> None:
    ctx.say("binding.ask_identifier")


# `我不记得会员号了`, `i forgot my member number`: no wrong answer, a member who needs the other way.
_FORGOT = re.compile(
    r"不记得|忘了|忘记|记不(?:清|得|住)|想不起|\b(?:forgot|forget|don't remember|dont remember|can't remember|cant remember|lost)\b"
)


def got_identifier(ctx: Context) -> str | Reask | None:
    if not _take_identifier(ctx):
        if _FORGOT.search(answers.folded(ctx.text)):
            # An answer to the step, however the NLU reads it (`我不记得会员号了` reads as
            # unlinking or a membership question): not a change of subject.
            return ctx.reask("binding.use_phone", heard=True)
        return ctx.reask("binding.bad_identifier")
    if born := birthday_in(ctx):  # "13800000002, born 1985-11-03": both at once
        ctx.set_slot("birthday", born.isoformat())
        return _check(ctx)
    return "birthday"


def ask_birthday(ctx: Context) -> None:
    ctx.say("binding.ask_birthday")


def got_birthday(ctx: Context) -> str | Reask | None:
    # `哦不对，是13800000003`: the number corrected at the birthday step replaces the first.
    corrected = _take_identifier(ctx)
    born = birthday_in(ctx)
    if born is None:
        if not corrected:
            return ctx.reask("binding.bad_birthday")
        ctx.say("binding.corrected", identifier=ctx.slots["identifier"])
        return "birthday"
    ctx.set_slot("birthday", born.isoformat())
    return _check(ctx)


def _rules(ctx: Context) -> tuple[Rule, Rule]:
    rules = ctx.config.dialogue
    window = timedelta(minutes=rules.binding_window_minutes)
    lock = timedelta(minutes=rules.binding_number_lock_minutes)
    return (
        Rule(rules.binding_number_max_failures, window, lock),
        Rule(rules.binding_global_max_failures, window, lock),
    )


def _check(ctx: Context) -> str | None:
    """Both must match; which one did not is not said, so numbers cannot be probed."""
    identifier = ctx.slots["identifier"]
    member = (
        members.by_number(ctx.session, identifier)
        if identifier.startswith("M")
        else members.by_phone(ctx.session, identifier)
    )
    number = member.member_no if member is not None else identifier
    if member is not None:  # guesses at one membership queue here, so none slips past the count
        ctx.session.execute(select(Member.id).where(Member.id == member.id).with_for_update())
    per_number, everywhere = _rules(ctx)
    paused = attempts.lock_end(ctx.session, EVERYWHERE, "*", everywhere, ctx.now)
    locked = attempts.lock_end(ctx.session, PER_NUMBER, number, per_number, ctx.now)
    if paused or locked:
        ctx.outcome = "refused"
        ctx.state.slots = {
            k: v for k, v in ctx.slots.items() if k not in ("identifier", "birthday")
        }
        ctx.say("binding.number_locked", until=ctx.when(max(filter(None, (paused, locked)))))
        return None
    if member is not None and member.birthday == date.fromisoformat(ctx.slots["birthday"]):
        _tell_other_chats(ctx, member)
        link(ctx, member)
        attempts.forgive(ctx.session, PER_NUMBER, number)
        ctx.say("binding.done", name=member.name, member_no=member.member_no)
        return None
    attempts.fail(ctx.session, PER_NUMBER, number, per_number, ctx.now)
    attempts.fail(ctx.session, EVERYWHERE, "*", everywhere, ctx.now)
    ctx.session.flush()
    number_locked = attempts.lock_end(ctx.session, PER_NUMBER, number, per_number, ctx.now)
    if number_locked and member is not None:
        key = f"locked:{number_locked:%Y%m%d%H%M}"
        _notify(ctx, member, "binding.guessed_notice", key, at=number_locked)
    rules = ctx.config.dialogue
    ctx.identity.bind_failures += 1
    if ctx.identity.bind_failures >= rules.binding_max_attempts:
        ctx.identity.bind_failures = 0
        ctx.identity.bind_locked_until = ctx.now + timedelta(minutes=rules.binding_lock_minutes)
        ctx.outcome = "refused"
        ctx.say("binding.locked", until=ctx.when(ctx.identity.bind_locked_until))
        return None
    ctx.state.slots = {k: v for k, v in ctx.slots.items() if k not in ("identifier", "birthday")}
    if number_locked:
        ctx.outcome = "refused"
        ctx.say("binding.number_locked", until=ctx.when(number_locked))
        return None
    ctx.say("binding.mismatch", count=rules.binding_max_attempts - ctx.identity.bind_failures)
    return "identifier"


def _tell_other_chats(ctx: Context, member: Member) -> None:
    """Binding a membership already bound on another chat: the member hears of it there."""
    others = ctx.session.scalars(
        select(ChatIdentity).where(
            ChatIdentity.member_id == member.id, ChatIdentity.id != ctx.identity.id
        )
    ).all()
    for other in others:
        _notify(ctx, member, "binding.bound_elsewhere_notice", f"bound:{ctx.identity.id}", other)


def _notify(
    ctx: Context,
    member: Member,
    key: str,
    dedupe: str,
    on: ChatIdentity | None = None,
    at: datetime | None = None,
) -> None:
    """A security notice to the member through the outbox (on `on`, else their own chat)."""
    when = ctx.when(at or ctx.now)
    row_key = f"security:{member.member_no}:{dedupe}:{on.id if on else ''}"
    if ctx.session.scalar(select(OutboundMessage.id).where(OutboundMessage.dedupe_key == row_key)):
        return
    ctx.session.add(
        OutboundMessage(
            dedupe_key=row_key,
            member_id=member.id,
            identity_id=on.id if on else None,
            channel=on.channel if on else None,
            kind="security_notice",
            category="service",
            text=catalogue.text(member.language, key, member_no=member.member_no, at=when),
            status="queued",
            not_before=ctx.now,
            attempts=0,
            created_at=ctx.now,
        )
    )


BIND = Form(
    name="bind",
    intent="bind_account",
    begin=begin,
    states={
        "identifier": State(ask_identifier, got_identifier),
        "birthday": State(ask_birthday, got_birthday),
    },
)
