"""A ticket keeps talking: what a member types outside a form reaches the ticket that
expects it, before the bot reads it as a new request.

- a resolved ticket not yet rated takes a typed rating ("2分，还是没解决", "5", "很满意",
  "terrible", "★★★★"): recorded with the rest of the message as the comment;
- a ticket waiting for the member (staff replied or asked for information) takes any
  message that is not a new task: it becomes a member message on the ticket (staff see
  it, the queue marks it), the ticket is back in progress, and the member is told.

Flow diagram: handlers/conversation/ticket_talk.md."""

from __future__ import annotations

from core import payloads
from handlers.conversation import answers
from handlers.conversation.context import Context
from handlers.desk import tickets
from handlers.desk.ticket_lifecycle import TicketError, record_rating
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


def hears(ctx: Context, new_task: bool) -> bool:
    """True when the message was for a ticket and has been answered."""
    if ctx.text is None or ctx.payload is not None:
        return False
    expecting = tickets.talking(ctx.session, ctx.member, ctx.identity)
    if not expecting:
        return False
    to_rate = next((t for t in expecting if t.status == "resolved"), None)
    if to_rate is not None:
        score = answers.rating(ctx.text)
        if score is not None and not (new_task and ctx.understood.intent != "rate_service"):
            _rate(ctx, to_rate, score)
            return True
        if ctx.understood.intent == "rate_service" and new_task:
            ctx.handler, ctx.outcome = "ticket.rating", "reask"
            ctx.say("ticket.rate_typed", number=to_rate.number)
            return True
    waiting = next((t for t in expecting if t.status != "resolved"), None)
    if waiting is None or new_task:
        return False
    tickets.add_member_message(ctx.session, waiting, ctx.text, ctx.now)
    ctx.handler, ctx.outcome = "ticket.member_message", "to_ticket"
    ctx.say(
        "ticket.passed_on",
        ctx.button("intent.file_complaint", payloads.intent("file_complaint")),
        number=waiting.number,
    )
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
