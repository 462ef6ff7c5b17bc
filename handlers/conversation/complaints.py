"""Complaints, ticket status and hand-off to a person: the conversation side of tickets.
The rules (priority, deadlines, numbers) are in handlers/desk/tickets.py and core/ticket_rules.py.
Flow diagram: handlers/conversation/complaints.md."""

from __future__ import annotations

from sqlalchemy import select

from core import payloads
from core.global_words import normalise
from handlers.conversation import answers
from handlers.conversation.context import Context, Reask
from handlers.conversation.forms import Form, State, confirmation
from handlers.desk import tickets
from storage.models import Ticket

# A first message this long already is the description, not just "我要投诉".
DESCRIPTION_MIN_HANZI = 12
DESCRIPTION_MIN_WORDS = 8
SUMMARY_CHARS = 80
SKIP = "skip"
# Typed instead of pressing "no order number".
SKIP_WORDS = {"跳过", "无", "没有", "skip", "none", "no"}


def _categories(ctx: Context) -> list[str]:
    return ctx.config.complaints.categories


def _take_entities(ctx: Context) -> None:
    category = ctx.entity("complaint_category")
    if category in _categories(ctx) and "category" not in ctx.slots:
        ctx.set_slot("category", category)
    order = answers.order_id(ctx.text or "", ctx.entity("order_id"))
    if order and "order_id" not in ctx.slots:
        ctx.set_slot("order_id", order)


def _describes(text: str) -> bool:
    hanzi = sum(1 for c in text if "\u4e00" <= c <= "\u9fff")
    return hanzi >= DESCRIPTION_MIN_HANZI or (
        not hanzi and len(text.split()) >= DESCRIPTION_MIN_WORDS
    )


def begin(ctx: Context) -> str | None:
    _take_entities(ctx)
    text = (ctx.text or "").strip()
    if text and ("category" in ctx.slots or _describes(text)):
        ctx.set_slot("description", text)
    return _next(ctx)


def _next(ctx: Context) -> str:
    for slot, state in (
        ("description", "description"),
        ("category", "category"),
        ("order_id", "order"),
    ):
        if slot not in ctx.slots:
            return state
    return "confirm"


def ask_description(ctx: Context) -> None:
    ctx.say("complaint.ask_description")


def got_description(ctx: Context) -> str | Reask:
    text = (ctx.text or "").strip()
    if len(text) < 2:
        return ctx.reask("complaint.too_short")
    ctx.set_slot("description", text)
    _take_entities(ctx)
    return _next(ctx)


def ask_category(ctx: Context) -> None:
    ctx.say(
        "complaint.ask_category",
        *(ctx.button(f"complaint.category.{c}", payloads.answer(c)) for c in _categories(ctx)),
    )


def got_category(ctx: Context) -> str | Reask:
    chosen = (
        ctx.answer
        or ctx.entity("complaint_category")
        or next((c for c in _categories(ctx) if ctx.typed(f"complaint.category.{c}")), None)
    )
    if chosen not in _categories(ctx):
        return ctx.reask("complaint.pick_category")
    ctx.set_slot("category", chosen)
    return _next(ctx)


def ask_order(ctx: Context) -> None:
    ctx.say("complaint.ask_order", ctx.button("complaint.no_order", payloads.answer(SKIP)))


def got_order(ctx: Context) -> str | Reask:
    skipped = normalise(ctx.text or "") in SKIP_WORDS or ctx.typed("complaint.no_order")
    if ctx.answer == SKIP or skipped or ctx.intent_is("deny"):
        ctx.set_slot("order_id", "")
        return _next(ctx)
    order = answers.order_id(ctx.text or "", ctx.entity("order_id"))
    if order is None:
        return ctx.reask("complaint.bad_order")
    ctx.set_slot("order_id", order)
    return _next(ctx)


def ask_confirm(ctx: Context) -> None:
    description = ctx.slots["description"]
    if len(description) > SUMMARY_CHARS:
        description = description[:SUMMARY_CHARS] + "…"
    ctx.confirm(
        "complaint.confirm",
        category=ctx.t(f"complaint.category.{ctx.slots['category']}"),
        description=description,
        order=ctx.slots["order_id"] or "-",
    )


@confirmation(dropped="complaint.dropped")
def got_confirm(ctx: Context) -> str | None:
    ctx.confirmation_key()  # remembered as done: a second press says so, opens nothing
    ticket = tickets.open_ticket(
        ctx.session,
        ctx.config,
        kind="complaint",
        category=ctx.slots["category"],
        description=ctx.slots["description"],
        order_id=ctx.slots["order_id"],
        at=ctx.now,
        member=ctx.member,
        identity=ctx.identity,
    )
    ctx.say("complaint.opened", number=ticket.number, due=ctx.when(ticket.first_response_due))
    if ticket.urgent:
        ctx.say("complaint.urgent")
    return None


COMPLAINT = Form(
    name="complaint",
    intent="file_complaint",
    begin=begin,
    states={
        "description": State(ask_description, got_description),
        "category": State(ask_category, got_category),
        "order": State(ask_order, got_order),
        "confirm": State(ask_confirm, got_confirm),
    },
)


# -- ticket status -----------------------------------------------------------------------


def ticket_status(ctx: Context) -> None:
    wanted = (ctx.entity("ticket_id") or "").upper()
    if wanted:
        ticket = ctx.session.scalar(select(Ticket).where(Ticket.number == wanted))
        if ticket is None or not (
            ticket.identity_id == ctx.identity.id
            or (ctx.member is not None and ticket.member_id == ctx.member.id)
        ):
            ctx.say("ticket.not_found", number=wanted)
            return
        _describe(ctx, ticket)
        return
    open_ones = tickets.for_member(ctx.session, ctx.member, ctx.identity)
    if not open_ones:
        ctx.say("ticket.none_open")
        return
    for ticket in open_ones:
        _describe(ctx, ticket)


def _describe(ctx: Context, ticket: Ticket) -> None:
    ctx.say(
        "ticket.status",
        number=ticket.number,
        kind=ctx.t(f"ticket.kind.{ticket.kind}"),
        status=ctx.t(f"ticket.state.{ticket.status}"),
        opened=ctx.when(ticket.created_at),
        due=ctx.when(ticket.first_response_due),
    )


# -- a person ----------------------------------------------------------------------------


def handoff(ctx: Context) -> None:
    """The member asked for a person: no confirmation, since asking is the decision,
    and a member who wants a person should not be made to click twice."""
    if ctx.state.owner == "staff":
        still_waiting(ctx)
        return
    said = ctx.text or ctx.t("handoff.asked")
    ticket = tickets.open_handoff(
        ctx.session, ctx.config, ctx.state, ctx.identity, ctx.member, said, ctx.now
    )
    ctx.outcome = "handoff"
    ctx.say("handoff.started", number=ticket.number, due=ctx.when(ticket.first_response_due))


def still_waiting(ctx: Context) -> None:
    ctx.outcome = "handoff"
    if ctx.state.ticket_id is None:
        raise RuntimeError(f"chat {ctx.identity.id} is with staff but has no ticket")
    ticket = ctx.session.get_one(Ticket, ctx.state.ticket_id)
    ctx.say("handoff.waiting", number=ticket.number, due=ctx.when(ticket.first_response_due))
