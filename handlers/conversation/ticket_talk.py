"""A ticket keeps talking: what a member types outside a form reaches the ticket that
expects it, before the bot reads it as a new request.

- a resolved ticket not yet rated takes a typed rating ("2分，还是没解决", "5", "很满意",
  "terrible", "★★★★", "畀兩粒星"): recorded with the rest of the message as the comment;
  the rating asked last is the one answered; "还是没解决" without a rating opens the
  ticket again with the member's words;
- a ticket waiting for the member (staff replied or asked for information) takes any
  message that is not a new task: it becomes a member message on the ticket (staff see
  it, the queue marks it), the ticket is back in progress, and the member is told. A
  complaint about another order, or a complaint while a hand-off waits, is a new one.

Flow diagram: handlers/conversation/ticket_talk.md."""

from __future__ import annotations

import re
from datetime import datetime

from core import payloads
from core.ticket_rules import OPEN_STATUSES
from handlers.conversation import answers
from handlers.conversation.context import Context
from handlers.desk import tickets
from handlers.desk.ticket_lifecycle import TicketError, member_reopens, record_rating
from storage.models import Ticket

# Intents that, while a ticket waits for the member, are said to the ticket rather than
# asked of the bot: a yes, a thank-you, "还是没收到" (read as a complaint).
FOR_THE_TICKET = {
    "affirm",
    "deny",
    "greet",
    "thanks",
    "goodbye",
    "out_of_scope",
    "help",
    "file_complaint",
    "rate_service",
}


def hears(ctx: Context, new_task: bool, since: datetime | None = None) -> bool:
    """True when the message was for a ticket and has been answered. With `since` (a form
    is open), only a ticket staff spoke on after it counts: `好的` to the agent's question,
    not to a redemption asked before it."""
    if ctx.text is None or ctx.payload is not None:
        return False
    expecting = tickets.talking(ctx.session, ctx.member, ctx.identity)
    if expecting and since is not None:
        expecting = tickets.staff_spoke_since(ctx.session, expecting, since)
    if not expecting:
        return False
    # The rating asked last is the one a bare `5` answers.
    resolved = [t for t in expecting if t.status == "resolved"]
    to_rate = max(resolved, key=lambda t: (t.resolved_at or t.updated_at, t.id), default=None)
    if to_rate is not None:
        score = answers.rating(ctx.text)
        if score is not None and not (new_task and ctx.understood.intent != "rate_service"):
            _rate(ctx, to_rate, score)
            return True
        if score is None and (
            (ctx.understood.intent == "rate_service" and new_task)
            or _OUT_OF_RANGE.match(answers.folded(ctx.text))
        ):
            ctx.handler, ctx.outcome = "ticket.rating", "reask"
            ctx.say("ticket.rate_typed", number=to_rate.number)
            return True
        if answers.not_fixed(ctx.text) and _reopen(ctx, to_rate):
            return True
    waiting = next((t for t in expecting if t.status != "resolved"), None)
    if waiting is not None and _ASKS_WHATS_NEXT.search(answers.folded(ctx.text)):
        # `so what happens now?`, `还是没有解决，你们到底什么时候处理`: staff see it, the
        # member hears where the ticket stands.
        ctx.handler = "ticket.status"
        tickets.add_member_message(ctx.session, waiting, ctx.text or "", ctx.now)
        describe(ctx, waiting, said_on_it=True)
        return True
    if waiting is None or _new_complaint(ctx, waiting) or (new_task and not _answers_staff(ctx)):
        return False
    tickets.add_member_message(ctx.session, waiting, ctx.text, ctx.now)
    if waiting.order_id is None and (order := ctx.entity("order_id")):
        waiting.order_id = order  # `订单号找到了 SO-2026-77001`: staff asked which order
    ctx.handler, ctx.outcome = "ticket.member_message", "to_ticket"
    ctx.say(
        "ticket.passed_on",
        ctx.button("intent.file_complaint", payloads.intent("file_complaint")),
        number=waiting.number,
    )
    return True


def staff_spoke_since(ctx: Context, since: datetime) -> bool:
    """Staff replied on or resolved one of the member's tickets after `since`: a `好的` now
    may answer them, not a confirmation the bot asked before."""
    expecting = tickets.talking(ctx.session, ctx.member, ctx.identity)
    return bool(expecting and tickets.staff_spoke_since(ctx.session, expecting, since))


# A score out of 1 to 5 (`10分`, `0`, `6`): was "there is no ticket waiting for your rating".
_OUT_OF_RANGE = re.compile(r"^\s*(?:0|[6-9]|\d{2,})\s*(?:分|stars?|/\s*(?:5|10))?\s*$")


# What comes next for the open ticket: `so what happens now?`, `然后呢`, `大概多久能处理`.
_ASKS_WHATS_NEXT = re.compile(
    r"^(?:那|所以)?(?:然后呢|接下来(?:呢|怎么办|会怎样)|现在(?:呢|怎么办)|下一步(?:呢|是什么)?)"
    r"|(?:大概|要)?多久(?:能|会|可以|才)?(?:处理|回复|解决|批|好|有结果)"
    r"|什么时候(?:能|会|可以|才)?(?:处理|回复|解决|批下来|有结果)"
    r"|\bwhat(?:'s| is)? (?:happens |comes )?(?:now|next)\b|\bhow long (?:will|does|until|do i)\b"
    r"|\bwhen will (?:i|you|someone|it)\b|\bany (?:news|update)\b"
)


# A date or a number answering staff (`11月20日`, `下单日期是2026-11-20`) reads as a profile
# change or linking; those are asked for in words (`改生日`, `link my account`).
_ASKED_IN_WORDS = {"update_profile", "bind_account", "register", "unlink_account"}
_NAMES_THE_TASK = re.compile(
    r"改|换|修改|更新|绑定|解绑|注册|加入|入会|\b(?:change|update|link|bind|unlink|register|join|sign up)\b"
)


def _answers_staff(ctx: Context) -> bool:
    return (
        ctx.understood.intent in _ASKED_IN_WORDS
        and _NAMES_THE_TASK.search(answers.folded(ctx.text)) is None
    )


def _new_complaint(ctx: Context, waiting: Ticket) -> bool:
    """A complaint about another order, or one said in so many words while a hand-off
    or a request waits, or about another kind of trouble: a new complaint, not a message
    on that ticket."""
    if ctx.understood.intent != "file_complaint":
        return False
    order = ctx.entity("order_id")
    if order and waiting.order_id and order != waiting.order_id:
        return True  # the order number of a ticket that had none answers it
    if not answers.names_a_complaint(ctx.text):
        return False
    # `我要投诉门店店员态度差` while a leaking cup's ticket waits: another trouble.
    categories = ctx.config.complaints.categories
    category = answers.complaint_category(
        ctx.text or "", categories, ctx.entity("complaint_category")
    )
    return waiting.kind != "complaint" or (category is not None and category != waiting.category)


def _reopen(ctx: Context, ticket: Ticket) -> bool:
    """`还是没解决` instead of a rating: the ticket is open again, with the member's words."""
    if not member_reopens(ctx.session, ctx.config, ticket.number, ctx.now):
        return False
    tickets.add_member_message(ctx.session, ticket, ctx.text or "", ctx.now)
    ctx.handler, ctx.outcome = "ticket.reopened", "to_ticket"
    ctx.say("ticket.reopened_by_member", number=ticket.number)
    return True


def _rate(ctx: Context, ticket: Ticket, score: int) -> None:
    ctx.handler = "ticket.rating"
    try:
        rated = record_rating(
            ctx.session, ctx.config, ticket.number, score, ctx.now, comment=ctx.text
        )
    except TicketError:  # rated a moment ago through the buttons
        ctx.outcome = "stale"
        ctx.say("ticket.rated_already", number=ticket.number)
        return
    ctx.outcome = "rated"
    ctx.say(
        f"ticket.{rated.reopened_text}" if rated.reopened else "ticket.rated_typed",
        number=rated.number,
        rating=score,
    )


def nothing_to_rate(ctx: Context) -> None:
    """A typed rating with no resolved ticket waiting for one."""
    ctx.say("ticket.nothing_to_rate")


def promised(ticket: Ticket) -> datetime:
    """What the member was promised next: a first reply, or once answered, the resolution."""
    return ticket.resolution_due if ticket.first_responded_at else ticket.first_response_due


def describe(ctx: Context, ticket: Ticket, said_on_it: bool = False) -> None:
    """A ticket's status with the promise that still holds; past it, an apology, and the
    member's asking is put on the ticket so staff see it (unless `said_on_it` already)."""
    fields = {
        "number": ticket.number,
        "kind": ctx.t(f"ticket.kind.{ticket.kind}"),
        "status": ctx.t(f"ticket.state.{ticket.status}"),
        "opened": ctx.when(ticket.created_at),
    }
    if ticket.status not in OPEN_STATUSES:
        ctx.say("ticket.status_done", **fields)
        return
    due = promised(ticket)
    if due < ctx.now:
        if ctx.text and not said_on_it:
            tickets.add_member_message(ctx.session, ticket, ctx.text, ctx.now)
        ctx.say("ticket.status_late", due=ctx.when(due), **fields)
        return
    key = "ticket.status_answered" if ticket.first_responded_at else "ticket.status"
    ctx.say(key, due=ctx.when(due), **fields)
