"""What a message inside a form is, when it is not simply the answer to the step.

    fill    the form's own intent again ("我要投诉，订单号A20261101" mid-complaint): its
            slots are filled, the form goes on where it was, nothing restarts
    aside   a question (balance, rules, vouchers...): answered, then the form resumes
            with "回到您的投诉：…"; one we cannot answer (`最近的门店在哪`) is declined
            politely, and the form resumes the same way
    switch  another task: the member is asked whether to drop the open form for it
    restart a person asked for, or a form that cannot take a second request

Before the step reads the message, only a message the step would wrongly swallow is
a digression: a question, or at a free-text step (the description, a name) a statement
the NLU is all but sure is another request, unless the step `takes` it.
After the step could not use the message, any confident other request is one."""

from __future__ import annotations

from bot.router import ROUTES
from handlers.conversation import answers
from handlers.conversation.context import Context
from handlers.conversation.forms import Form, State
from nlu.understanding import FALLBACK, Understanding

OFFER = "offer"  # the flow of an open "Do you want ...?" question
SWITCH = "_switch"  # the slot holding the request waiting for "drop the form?"

# Intents that, said inside a form, are not a change of subject.
# "help" too: the menu word itself is global, and "不知道" is a wrong answer, not a request.
NOT_DIGRESSIONS = {
    "affirm",
    "deny",
    "greet",
    "thanks",
    "goodbye",
    "out_of_scope",
    "help",
    "rate_service",
    FALLBACK,
}
# Questions answered on the spot; the form then resumes.
QUESTIONS = {
    "check_points",
    "points_history",
    "tier_info",
    "list_benefits",
    "my_vouchers",
    "membership_status",
    "ask_rules",
    "ticket_status",
}
RESTARTS = {"human_handoff", "cancel", "set_language"}
# A statement where the form asked for free text is the answer unless the NLU is this
# sure it is another request: `my coffee was cold` is a complaint's description, though
# read as `my_vouchers` at 0.55; `兑换咖啡券` (0.99) is a request.
SURE_OF_A_STATEMENT = 0.9
# Where the step's answer was not understood, a statement is another request at this
# confidence (a question at the digression threshold).
CLEAR_REQUEST = 0.6


def kind(ctx: Context, form: Form, current: State, before: bool) -> str | None:
    understood, text = ctx.understood, ctx.text or ""
    if ctx.answer is not None or ctx.pressed_yes is not None or ctx.payload is not None:
        return None
    if not any(c.isalpha() for c in text):
        return None  # digits alone are an answer, however the NLU reads them
    if understood.intent == "out_of_scope":
        return "aside" if before and _asks_what_we_cannot_answer(ctx, current) else None
    if (
        understood.intent not in ROUTES
        or understood.intent in NOT_DIGRESSIONS
        or not understood.confident(ctx.config.nlu.digression_threshold)
    ):
        return None
    if understood.intent == "set_language" and not names_language(ctx):
        return None
    if understood.intent == form.intent:
        if current.takes and current.takes(ctx):
            return None  # `没有订单号` reads as a complaint, yet answers "which order?"
        if form.fill is not None:
            return "fill"
        # Starting over without anything new would only dodge the re-ask limit.
        return None if before or not understood.entities else "restart"
    if before:
        swallowed = (
            current.free_text
            and not (current.takes and current.takes(ctx))
            and understood.confident(SURE_OF_A_STATEMENT)
        )
        if not (swallowed or answers.is_question(text)):
            return None
    elif not (answers.is_question(text) or understood.confident(CLEAR_REQUEST)):
        # `the one from last week` at "which order?" read as points_history at 0.46: a
        # statement that is no answer is another request only when clearly one.
        return None
    if understood.intent in RESTARTS:
        return "restart"
    needs_binding = ROUTES[understood.intent].needs_member and ctx.member is None
    return "aside" if understood.intent in QUESTIONS and not needs_binding else "switch"


def names_language(ctx: Context) -> bool:
    """Inside a form a language switch must name the language: the name `陈大文` read as
    set_language at the name question."""
    return bool(answers.wanted_language(ctx.text) or ctx.entity("language"))


def _asks_what_we_cannot_answer(ctx: Context, current: State) -> bool:
    """`最近的门店在哪` at "redeem it?" gets the polite "can't help with that", then the
    step again, instead of "please answer yes or no". At a free-text step only when the
    NLU is all but sure: a description may be put as a question."""
    if current.takes and current.takes(ctx):
        return False
    sure = SURE_OF_A_STATEMENT if current.free_text else ctx.config.nlu.digression_threshold
    return answers.is_question(ctx.text) and ctx.understood.confident(sure)


def pending(ctx: Context) -> dict:
    """The request waiting for the answer to "drop the form?", as it was understood."""
    understood = ctx.understood
    return {
        "intent": understood.intent,
        "entities": {name: values[0] for name, values in understood.entities.items()},
        "text": ctx.text,
    }


def understood(pending: dict) -> Understanding:
    return Understanding.pressed(pending["intent"], pending["entities"])
