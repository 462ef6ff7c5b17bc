"""The member's own record: membership expiry and renewal, phone and birthday, and
marketing consent. Flow diagram: handlers/conversation/profile.md."""

from __future__ import annotations

from datetime import date

from core import membership, payloads
from handlers.conversation import answers
from handlers.conversation.context import Context, Reask
from handlers.conversation.forms import Form, State, asked_plainly, confirmation
from storage import members
from storage.models import AuditEvent

BIRTHDAY_WORDS = ("生日", "birthday", "birth")


def membership_status(ctx: Context) -> None:
    member = ctx.bound_member
    expires = member.membership_expires
    left = (expires - ctx.today()).days
    hint = membership.renewal_promise(ctx.config, ctx.lang)
    key = (
        "membership.active" if membership.is_active(expires, ctx.today()) else "membership.expired"
    )
    ctx.say(
        key,
        date=ctx.day(expires),
        days=left,
        tier=ctx.config.tier(member.tier).label.get(ctx.lang),
        hint=hint,
    )


def unsubscribe(ctx: Context) -> None:
    """Respected at once, no question asked: the law and the members expect it."""
    if ctx.member is not None and ctx.member.marketing_consent:
        members.set_marketing_consent(
            ctx.session, ctx.member, False, source=f"chat:{ctx.identity.channel}", at=ctx.now
        )
    ctx.say("profile.unsubscribed")
    if ctx.member is not None:  # `哎呀点错了` next: asked whether to subscribe again
        ctx.offered = {"intent": "subscribe", "by_yes": False, "undo": True}


# The words the unsubscribe reply tells members to send back: consent said in so many words.
SUBSCRIBE_WORDS = frozenset({"订阅", "subscribe", "/subscribe"})


def subscribe_begin(ctx: Context) -> str | None:
    """Consent must be the member's own, and the NLU only guesses: `我订阅了吗` and `am i
    subscribed` read as subscribing. So a member not yet subscribed is told so and asked,
    unless they pressed a button or sent the very word we told them to send."""
    if ctx.bound_member.marketing_consent:
        ctx.say("profile.already_subscribed")
        return None
    if asked_plainly(ctx, SUBSCRIBE_WORDS):
        _subscribed(ctx)
        return None
    return "confirm"


def ask_subscribe(ctx: Context) -> None:
    ctx.confirm("profile.subscribe_confirm")


@confirmation(dropped="profile.subscribe_dropped", words=SUBSCRIBE_WORDS)
def got_subscribe(ctx: Context) -> None:
    _subscribed(ctx)
    return None


def _subscribed(ctx: Context) -> None:
    members.set_marketing_consent(
        ctx.session, ctx.bound_member, True, source=f"chat:{ctx.identity.channel}", at=ctx.now
    )
    ctx.say("profile.subscribed")


SUBSCRIBE = Form(
    name="subscribe",
    intent="subscribe",
    begin=subscribe_begin,
    states={"confirm": State(ask_subscribe, got_subscribe)},
)


# -- updating: field -> value -> confirm ---------------------------------------------------


def _birthday_open(ctx: Context) -> bool:
    """A birthday is set once: it earns a yearly gift, so members cannot move it."""
    return ctx.bound_member.birthday is None


def begin(ctx: Context) -> str | None:
    text = (ctx.text or "").lower()
    wants_birthday = ctx.entity("date") or any(word in text for word in BIRTHDAY_WORDS)
    if wants_birthday and not _birthday_open(ctx):
        ctx.outcome = "refused"
        ctx.say("profile.birthday_locked")
        return None
    if wants_birthday:
        field = "birthday"
    elif answers.phone(ctx.text or "", ctx.entity("phone")) or not _birthday_open(ctx):
        field = "phone"
    else:
        return "field"
    ctx.set_slot("field", field)
    found = _value(ctx, field)
    if isinstance(found, Reask):  # the new phone is taken: say so, then ask for another
        if found.hint is not None:
            ctx.say(found.hint, **found.fields)
        return field
    return found


def _value(ctx: Context, field: str) -> str | Reask | None:
    """Take the new value from the message if it is there; otherwise ask for it."""
    if field == "phone":
        phone = answers.phone(ctx.text or "", ctx.entity("phone"))
        if phone is None:
            return "phone"
        if phone == ctx.bound_member.phone:
            ctx.say("profile.same_phone")
            return None
        if members.by_phone(ctx.session, phone) is not None:
            return ctx.reask("profile.phone_taken")
        ctx.set_slot("value", phone)
        return "confirm"
    born = answers.birthday(ctx.text or "", ctx.entity("date"), ctx.today())
    if born is None:
        return "birthday"
    ctx.set_slot("value", born.isoformat())
    return "confirm"


def ask_field(ctx: Context) -> None:
    ctx.say(
        "profile.which",
        ctx.button("profile.field_phone", payloads.answer("phone")),
        ctx.button("profile.field_birthday", payloads.answer("birthday")),
    )


def got_field(ctx: Context) -> str | Reask:
    chosen = ctx.answer or next(
        (field for field in ("phone", "birthday") if ctx.typed(f"profile.field_{field}")), None
    )
    if chosen not in ("phone", "birthday"):
        return ctx.reask("profile.pick_field")
    ctx.set_slot("field", chosen)
    return chosen


def ask_phone(ctx: Context) -> None:
    ctx.say("profile.ask_phone")


def got_phone(ctx: Context) -> str | Reask | None:
    found = _value(ctx, "phone")
    return ctx.reask("profile.bad_phone") if found == "phone" else found


def ask_birthday(ctx: Context) -> None:
    ctx.say("register.ask_birthday")


def got_birthday(ctx: Context) -> str | Reask | None:
    found = _value(ctx, "birthday")
    return ctx.reask("binding.bad_birthday") if found == "birthday" else found


def ask_confirm(ctx: Context) -> None:
    ctx.confirm(f"profile.confirm_{ctx.slots['field']}", value=ctx.slots["value"])


def got_confirm(ctx: Context) -> str | Reask | None:
    """Another number or date typed instead of yes or no (`不对，是13911113333`) replaces
    the value, which is asked again with new buttons; yes or no answers the question."""
    if ctx.pressed_yes is None and ctx.answer is None and _corrects(ctx):
        ctx.state.confirmation = None  # the old buttons would confirm the old value
        return _value(ctx, ctx.slots["field"])
    return _confirmed(ctx)


def _corrects(ctx: Context) -> bool:
    if ctx.slots["field"] == "phone":
        phone = answers.phone(ctx.text or "", ctx.entity("phone"))
        return phone is not None and phone != ctx.slots["value"]
    born = answers.birthday(ctx.text or "", ctx.entity("date"), ctx.today())
    return born is not None and born.isoformat() != ctx.slots["value"]


@confirmation(dropped="profile.dropped")
def _confirmed(ctx: Context) -> str | None:
    ctx.confirmation_key()
    member, field, value = ctx.bound_member, ctx.slots["field"], ctx.slots["value"]
    if field == "birthday" and not _birthday_open(ctx):
        ctx.say("profile.birthday_locked")
        return None
    old = member.phone if field == "phone" else None
    if field == "phone":
        member.phone = value
    else:
        member.birthday = date.fromisoformat(value)
    ctx.session.add(
        AuditEvent(
            actor=f"member:{member.member_no}",
            action=f"update_{field}",
            entity="member",
            entity_id=member.member_no,
            data={"old": old, "new": value, "via": ctx.identity.channel},
            created_at=ctx.now,
        )
    )
    ctx.say(f"profile.updated_{field}", value=value)
    return None


UPDATE = Form(
    name="update_profile",
    intent="update_profile",
    begin=begin,
    states={
        "field": State(ask_field, got_field),
        "phone": State(ask_phone, got_phone),
        "birthday": State(ask_birthday, got_birthday),
        "confirm": State(ask_confirm, got_confirm),
    },
)
