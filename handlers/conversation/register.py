"""Joining as a new member: privacy -> name -> phone -> birthday -> offers -> referrer.

Every message of the form gives what it can: `I'm Bob Lee, 13966662222, born 1985-11-03`
fills three steps at once, and `my name is Robert Lee` at a later step corrects the name.
Flow diagram: handlers/conversation/binding.md."""

from __future__ import annotations

import re
from datetime import date

from core import payloads
from core.global_words import normalise
from handlers.conversation import answers
from handlers.conversation.binding import birthday_in, link
from handlers.conversation.context import Context, Reask
from handlers.conversation.forms import Form, State
from storage import members
from storage.members import NewMember
from storage.models import Member

NAME_MAX = 40
NO_REFERRER = {"没有", "无", "没", "不用", "跳过", "no", "none", "skip", "n/a", "nobody"}
DETAILS = ("name", "phone", "birthday")
REFERRER_COMING = "referrer_coming"  # the member said a member referred them
# A name said anywhere: `my name is Anna Smith`, `我叫王小明，手机139…`. `I'm` and `我是`
# only open a reply to "what's your name?": elsewhere `i'm not sure` is no name.
_NAME_CUE = re.compile(
    r"(?:^|[\s,，.。])(?:my name is|my name's|name is|我叫|我的名字是|名字是|名字叫|叫我"
    # `call me on 13912345678` asks for a call: its name was "on"
    r"|call me(?!\s+(?:on|at|back|later|tomorrow|asap|now|when|if|please|pls|anytime)\b)"
    # a correction: `等下 名字打错了 是王小明不是王晓明`, `my name should be Bob Lee`
    r"|名字(?:打|写|输)?错了[\s,，]*(?:应该)?(?:是|叫)?|(?:把)?名字改(?:成|为)"
    r"|name (?:should be|is actually)|(?:wrong|misspelt|misspelled) name[\s,:]*(?:it'?s|it is)?)"
    r"\s*[:：]?\s*"
)
_NAME_OPENING = re.compile(r"^(?:i'm|i am|im|我是)\s*")
_NAME_TAIL = re.compile(r"(?:就行了?|就好了?|就可以了?|就得|吧|啦|呀)$")  # `叫我小陈就行`
_CHAT = {"greet", "thanks", "help", "goodbye", "affirm", "deny", "cancel", "human_handoff"}
# Where a name stops: punctuation, digits that are not part of it (`abc123` is no name), or
# the next detail.
_NAME_END = re.compile(
    r"[,，.。;；!！?？]|(?<![a-z])\d|\s(?:and|born|phone|mobile|birthday|actually|instead|please|thanks)\b"
    r"|手机|电话|生日|出生|不是|\snot\b"
)


def begin(ctx: Context) -> str | None:
    if ctx.member is not None:
        ctx.say("binding.already", member_no=ctx.member.member_no)
        return None
    if ctx.entity("then"):
        ctx.set_slot("then", ctx.entity("then"))
    return "privacy"


def ask_privacy(ctx: Context) -> None:
    """Consent to keeping personal data comes before any is asked for, let alone kept."""
    ctx.ask_yes_no("register.ask_privacy", "register.privacy_yes", "register.privacy_no")


def got_privacy(ctx: Context) -> str | Reask | None:
    agreed = ctx.yes_no("register.privacy_yes", "register.privacy_no")
    if agreed is None:
        return ctx.reask("register.pick_privacy")
    if not agreed:
        ctx.outcome = "cancelled"
        ctx.say("register.privacy_declined")
        return None
    ctx.set_slot("privacy", True)
    return "name"


def _name(ctx: Context, reply: bool) -> str | None:
    """The name this message gives: after a cue anywhere, or, as the `reply` to "what's
    your name?", the message itself. None when there is none that can be a name."""
    text = (ctx.text or "").strip()
    cue = _NAME_CUE.search(text.lower())
    opening = _NAME_OPENING.match(text.lower()) if ctx.state.step == "name" else None
    if cue is not None:
        said = text[cue.end() :]
    elif opening is not None:
        said = text[opening.end() :]
    elif reply and not _chat(ctx):
        said = text
    else:
        return None
    end = _NAME_END.search(said.lower())
    name = _NAME_TAIL.sub("", (said[: end.start()] if end else said).strip(" :：'\""))
    valid = 0 < len(name) <= NAME_MAX and not any(c.isdigit() for c in name)
    return name if valid else None


def _chat(ctx: Context) -> bool:
    """Not a name, said where one was asked: a question (`为什么要名字？`), a yes or no, a
    greeting, thanks or a call for help (`help` was welcomed aboard as "help")."""
    text = ctx.text or ""
    return (
        answers.is_question(text)
        or answers.yes_or_no(text) is not None
        or (
            ctx.understood.intent in _CHAT
            and ctx.understood.confident(ctx.config.nlu.digression_threshold)
        )
    )


def _take(ctx: Context) -> bool:
    """Fill or correct every detail the message gives; True when it gave one."""
    took = False
    if (name := _name(ctx, reply=ctx.state.step == "name")) and name != ctx.slots.get("name"):
        if "name" in ctx.slots:
            ctx.say("register.name_corrected", name=name)
        ctx.set_slot("name", name)
        took = True
    if (phone := answers.phone(ctx.text or "", ctx.entity("phone"))) and phone != ctx.slots.get(
        "phone"
    ):
        ctx.set_slot("phone", phone)
        took = True
    born = birthday_in(ctx)
    if born and born.isoformat() != ctx.slots.get("birthday"):
        ctx.set_slot("birthday", born.isoformat())
        took = True
    return took


def _next(ctx: Context) -> str | None:
    """The first detail still missing; a phone that is already a member's ends the form
    with the offer to link instead."""
    phone = ctx.slots.get("phone")
    if phone and members.by_phone(ctx.session, phone) is not None:
        ctx.outcome = "refused"
        ctx.say(
            "register.phone_taken",
            ctx.button("intent.bind_account", payloads.intent("bind_account")),
        )
        return None
    return next((detail for detail in DETAILS if detail not in ctx.slots), "consent")


def gives_details(ctx: Context) -> bool:
    """The step takes the message when it gives any detail, whatever else the NLU hears
    in it (`I'm Bob Lee, 13966662222` reads as linking an account)."""
    text = ctx.text or ""
    return (
        _name(ctx, reply=False) is not None
        or answers.phone(text, ctx.entity("phone")) is not None
        or birthday_in(ctx) is not None
    )


def _answer(ctx: Context, detail: str, hint: str) -> str | Reask | None:
    """A detail step's answer: everything the message gives, then the first one missing;
    a message that gives nothing, or not a valid `detail`, is asked again."""
    took = _take(ctx)
    if detail in ctx.slots:
        return _next(ctx)
    return detail if took else ctx.reask(hint)  # `my name is …` at the phone: asked again


def ask_name(ctx: Context) -> None:
    ctx.say("register.ask_name")


def got_name(ctx: Context) -> str | Reask | None:
    return _answer(ctx, "name", "register.bad_name")


def ask_phone(ctx: Context) -> None:
    ctx.say("register.ask_phone")


def got_phone(ctx: Context) -> str | Reask | None:
    return _answer(ctx, "phone", "register.bad_phone")


def ask_birthday(ctx: Context) -> None:
    ctx.say("register.ask_birthday")


def got_birthday(ctx: Context) -> str | Reask | None:
    return _answer(ctx, "birthday", "binding.bad_birthday")


def ask_consent(ctx: Context) -> None:
    ctx.ask_yes_no("register.ask_consent", "register.consent_yes", "register.consent_no")


def got_consent(ctx: Context) -> str | Reask | None:
    if _take(ctx):  # `等下 名字打错了 是王小明`: corrected, and the question stands
        return "consent"
    consent = ctx.yes_no("register.consent_yes", "register.consent_no")
    if consent is None and ctx.understood.intent in ("subscribe", "unsubscribe"):
        # `no promotions please` answers "may we send you offers?": it set the joining aside
        # to unsubscribe someone who was no member yet.
        consent = ctx.understood.intent == "subscribe"
    if consent is None:
        return ctx.reask("register.pick_consent")
    ctx.set_slot("marketing", consent)
    return "referrer"


def ask_referrer(ctx: Context) -> None:
    key = "register.send_referrer" if ctx.slots.get(REFERRER_COMING) else "register.ask_referrer"
    ctx.say(key, ctx.button("register.no_referrer", payloads.answer("no")))


def got_referrer(ctx: Context) -> str | Reask | None:
    if _take(ctx):
        return "referrer"
    typed = normalise(ctx.text or "")
    if ctx.answer == "no" or typed in NO_REFERRER or ctx.typed("register.no_referrer"):
        return _join(ctx, None)
    number = answers.member_no(ctx.text or "", ctx.entity("member_no"))
    referrer = _referrer(ctx, number) if number else None
    if referrer is None and number is None:
        # "Did a member refer you?" answered in words: `nope` joins, `有` asks for the number.
        yes = ctx.yes_no()
        if yes is False:
            return _join(ctx, None)
        if yes and not ctx.slots.get(REFERRER_COMING):
            ctx.set_slot(REFERRER_COMING, True)
            return "referrer"
    if referrer is None:
        return ctx.reask("register.bad_referrer", heard=number is not None)
    return _join(ctx, referrer.id)


def _referrer(ctx: Context, number: str) -> Member | None:
    """The member named, when they may refer; to the new member an erased number is as
    unknown as a mistyped one."""
    try:
        return members.find_referrer(ctx.session, number)
    except members.ReferralRefused:
        return None


def _join(ctx: Context, referrer_id: int | None) -> str | None:
    member = members.open_membership(
        ctx.session,
        ctx.config,
        NewMember(
            name=ctx.slots["name"],
            phone=ctx.slots["phone"],
            birthday=date.fromisoformat(ctx.slots["birthday"]),
            language=ctx.lang,
            marketing_consent=ctx.slots["marketing"],
            privacy_consent=ctx.slots.get("privacy", False),
            referrer_id=referrer_id,
        ),
        ctx.now,
        source=f"chat:{ctx.identity.channel}",
    )
    link(ctx, member)
    ctx.say(
        "register.done",
        name=member.name,
        member_no=member.member_no,
        bonus=ctx.config.points.welcome_bonus,
    )
    return None


REGISTER = Form(
    name="register",
    intent="register",
    begin=begin,
    states={
        "privacy": State(ask_privacy, got_privacy),
        "name": State(ask_name, got_name, free_text=True, takes=gives_details),
        "phone": State(ask_phone, got_phone, takes=gives_details),
        "birthday": State(ask_birthday, got_birthday, takes=gives_details),
        "consent": State(ask_consent, got_consent, takes=gives_details),
        "referrer": State(ask_referrer, got_referrer),
    },
)
