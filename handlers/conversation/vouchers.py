"""My vouchers with their expiry, and asking staff to extend one (a "request" ticket).
Flow diagram: handlers/conversation/vouchers.md."""

from __future__ import annotations

import re
from datetime import timedelta

from core import payloads
from handlers.conversation import answers
from handlers.conversation.context import Context, Reask
from handlers.conversation.forms import Form, State, confirmation
from handlers.desk import member_views as views
from handlers.desk import tickets
from storage.models import Benefit, Voucher


def _name(ctx: Context, voucher: Voucher) -> str:
    return ctx.session.get_one(Benefit, voucher.benefit_id).name(ctx.lang)


def my_vouchers(ctx: Context) -> None:
    held = views.vouchers(ctx.session, ctx.bound_member.id, ctx.now)
    if not held:
        ctx.say(
            "vouchers.none", ctx.button("intent.list_benefits", payloads.intent("list_benefits"))
        )
        return
    lines = "\n".join(
        ctx.t(
            "vouchers.line_requested" if v.extension_requested_at else "vouchers.line",
            name=_name(ctx, v),
            code=v.code,
            until=ctx.last_day(v.expires_at),
        )
        for v in held
    )
    buttons = []
    if _extendable(ctx):
        buttons.append(ctx.button("vouchers.extend_button", payloads.intent("extend_voucher")))
    ctx.say("vouchers.list", *buttons, count=len(held), lines=lines)


EXTENSION_WORDS = ("延期", "延长", "续期", "推迟", "extend", "extension", "more time")


def asks_extension(text: str | None) -> bool:
    """ "can i extend my free shipping voucher" read as "my vouchers" is a request."""
    said = answers.folded(text)
    return any(word in said for word in EXTENSION_WORDS)


def _extendable(ctx: Context) -> list[Voucher]:
    return [
        v
        for v in views.vouchers(ctx.session, ctx.bound_member.id, ctx.now)
        if v.extension_requested_at is None
    ]


def _chosen(ctx: Context, ident: str | None) -> Voucher | None:
    return next((v for v in _extendable(ctx) if str(v.id) == ident), None)


# -- extension request: voucher -> confirm -> request ticket -------------------------------


def begin(ctx: Context) -> str | None:
    """ "我想把咖啡券延期": the voucher named by code or benefit; asked when unclear."""
    candidates = _extendable(ctx)
    if not candidates:
        ctx.say("vouchers.nothing_to_extend")
        return None
    named = _named(ctx, candidates)
    if len(named) == 1 or len(candidates) == 1:
        ctx.set_slot("voucher", str((named or candidates)[0].id))
        return "confirm"
    return "voucher"


def _named(ctx: Context, candidates: list[Voucher]) -> list[Voucher]:
    """The vouchers the message names: by code first, else by the benefit (the NLU's
    entity, or its name typed in either language)."""
    typed = (ctx.text or "").upper()
    by_code = [v for v in candidates if typed and v.code in typed]
    if by_code:
        return by_code
    wanted = ctx.entity("benefit")
    lowered = answers.folded(ctx.text)
    named = []
    for voucher in candidates:
        benefit = ctx.session.get_one(Benefit, voucher.benefit_id)
        names = (benefit.name_zh.lower(), benefit.name_en.lower())
        if benefit.code == wanted or any(n and n in lowered for n in names):
            named.append(voucher)
    return named


# `明天过期那张`, `the one expiring tomorrow`: a day said relative to today.
_RELATIVE_DAYS = (
    (re.compile(r"今天|\btoday\b"), 0),
    (re.compile(r"明天|\btomorrow\b"), 1),
    (re.compile(r"后天"), 2),
)


def _by_last_day(ctx: Context, candidates: list[Voucher]) -> list[Voucher]:
    """The vouchers whose last day the message names (`1月1日到期的那张`, `the one expiring
    1 jan`, `明天过期那张`); none when it names no day."""
    said = answers.folded(ctx.text)
    wanted = next(
        (
            (ctx.today() + timedelta(days=days)).isoformat()
            for pattern, days in _RELATIVE_DAYS
            if pattern.search(said)
        ),
        ctx.entity("date") or "",
    )
    if not wanted:
        return []
    # The NLU gives `--01-01` for a day without a year: the month and day decide.
    return [v for v in candidates if ctx.last_day(v.expires_at).endswith(wanted.lstrip("-"))]


def ask_voucher(ctx: Context) -> None:
    ctx.say(
        "vouchers.which",
        *(
            ctx.button(
                "vouchers.option",
                payloads.answer(str(v.id)),
                name=_name(ctx, v),
                code=v.code,
                until=ctx.last_day(v.expires_at),
            )
            for v in _extendable(ctx)
        ),
    )


def got_voucher(ctx: Context) -> str | Reask | None:
    """A button, the code or benefit typed, or its place among the buttons (`the first one`);
    a no (`不用了`) drops the request."""
    if ctx.answer is None and answers.yes_or_no(ctx.text) is False:
        ctx.outcome = "cancelled"
        ctx.say("vouchers.extend_dropped")
        return None
    extendable = _extendable(ctx)
    named = _named(ctx, extendable)
    if len(named) != 1:
        named = _by_last_day(ctx, named or extendable) or named
    placed = answers.at_place(extendable, answers.place_in_list(ctx.text)) if not named else None
    picked = named[0] if len(named) == 1 else placed
    ident = ctx.answer or (str(picked.id) if picked is not None else None)
    if _chosen(ctx, ident) is None:
        return ctx.reask("vouchers.pick")
    ctx.set_slot("voucher", ident)
    return "confirm"


def ask_confirm(ctx: Context) -> None:
    voucher = _chosen(ctx, ctx.slots["voucher"])
    if voucher is None:  # expired since it was chosen; a yes is answered the same way
        ctx.say("vouchers.nothing_to_extend")
        return
    ctx.confirm(
        "vouchers.confirm_extend",
        name=_name(ctx, voucher),
        code=voucher.code,
        until=ctx.last_day(voucher.expires_at),
    )


@confirmation(dropped="vouchers.extend_dropped")
def got_confirm(ctx: Context) -> str | None:
    ctx.confirmation_key()
    voucher = _chosen(ctx, ctx.slots["voucher"])
    if voucher is None:  # expired or already requested since the question
        ctx.say("vouchers.nothing_to_extend")
        return None
    voucher.extension_requested_at = ctx.now
    ticket = tickets.open_ticket(
        ctx.session,
        ctx.config,
        kind="request",
        category="points_benefits",
        description=f"voucher extension: {voucher.code} ({_name(ctx, voucher)}), "
        f"valid until {ctx.last_day(voucher.expires_at)}",
        at=ctx.now,
        member=ctx.member,
        identity=ctx.identity,
    )
    ticket.voucher_id = voucher.id  # staff extend it from the ticket
    ctx.say(
        "vouchers.extend_requested", number=ticket.number, due=ctx.when(ticket.first_response_due)
    )
    return None


EXTEND = Form(
    name="extend_voucher",
    intent="extend_voucher",
    begin=begin,
    states={
        "voucher": State(ask_voucher, got_voucher),
        "confirm": State(ask_confirm, got_confirm),
    },
)
