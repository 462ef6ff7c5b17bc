"""Deciding what one message means for the conversation, in this order:

1. a global word (cancel, menu, person; and unsubscribe) wins at every step, whoever
   owns the conversation;
2. while staff own the conversation, anything else goes to their ticket, silently;
3. a pressed button does what its payload says;
4. "English please" / "说中文" switches language, even inside a form;
5. an open offer ("See the other rewards?") takes a typed yes or no, and a refused or
   dropped request a new quantity (`ok just 2 then`);
6. inside a form, the message answers the current step, unless it is a digression
   (bot/digressions.py): a question is answered and the form resumes, the form's own
   intent fills its slots, another task asks whether to drop the form; but a ticket
   staff spoke on since the form last moved hears it first (step 7), and a typed yes to
   a confirmation asked long ago is asked again;
7. a ticket that expects the member (a rating, an answer to staff) takes what is not a
   new task (handlers/conversation/ticket_talk.py);
8. otherwise the intent is routed to its handler, or to the fallback when unclear.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from bot import digressions
from bot.digressions import NOT_DIGRESSIONS, OFFER
from bot.router import FORMS, REFINED, ROUTES
from core import payloads
from core.global_words import global_word
from core.messages import Reply
from core.payloads import BadPayload, Pressed
from handlers.conversation import (
    answers,
    binding,
    complaints,
    profile,
    rules,
    smalltalk,
    ticket_talk,
)
from handlers.conversation.context import Context, Reask
from handlers.conversation.forms import Form
from handlers.desk import tickets
from nlu.clauses import clauses
from nlu.understanding import Understanding

GLOBAL_INTENTS = {
    "cancel": "cancel",
    "menu": "help",
    "person": "human_handoff",
    "unsubscribe": "unsubscribe",
}
# Intents never offered as a "did you mean" guess.
NOT_GUESSES = NOT_DIGRESSIONS | {"cancel", "set_language", "help"}
GUESSES = 3


def understand(text: str | None, button: str | None, form: Form | None, parser) -> tuple:
    """(what was understood, the pressed button or None, the global word or None)."""
    if button is not None:
        try:
            pressed = payloads.decode(button)
        except BadPayload:
            return Understanding.pressed(None), Pressed("stale"), None
        if pressed.kind == "global":
            return Understanding.pressed(GLOBAL_INTENTS[pressed.value]), pressed, pressed.value
        if pressed.kind == "intent":
            return Understanding.pressed(pressed.value, pressed.entities), pressed, None
        if pressed.kind == "confirm":
            return Understanding.pressed("affirm" if pressed.yes else "deny"), pressed, None
        if pressed.kind == "language":
            return Understanding.pressed("set_language", {"language": pressed.value}), pressed, None
        return Understanding.pressed(form.intent if form else None), pressed, None
    if text is None:
        raise ValueError("a message has either text or a button payload")
    word = global_word(text)
    if word:
        return Understanding.pressed(GLOBAL_INTENTS[word]), None, word
    rest = form.drops(text) if form is not None and form.drops is not None else None
    if form is None:
        rest = answers.meant(text)  # `不是，我是想查一下积分`: the request after the slip
    # A form dropped in words: what else the message asks is what is understood.
    understood = Understanding.from_parse(parser.parse(text if rest is None else rest))
    if complaints.asks_to_complain(text):
        understood = replace(understood, intent=complaints.COMPLAINT_INTENT, confidence=1.0)
    elif form is None and rules.asks_to_return(text):
        understood = replace(understood, intent="ask_rules", confidence=1.0)
    elif form is None and rest is None and understood.intent in SEVERAL_REQUESTS:
        understood = _every_request(text, understood, parser)
    if form is complaints.COMPLAINT and not understood.entity("complaint_category"):
        # Inside the complaint form a message is read as a complaint: `my coffee was cold`
        # names the coffee's quality even where, alone, it would be small talk.
        category = parser.complaint_category(text)
        if category:
            entities = {**understood.entities, "complaint_category": [category["name"]]}
            understood = replace(understood, entities=entities)
    return understood, None, None


# Requests answered at once that change nothing (the questions a form answers aside): a
# message may string several together.
ANSWERED_AT_ONCE = digressions.QUESTIONS
# Done first, whatever else the message asks, with no confirmation to wait for: in
# `退订，另外我有多少积分`, `what's my balance? also I want to unsubscribe` and `退订，顺便投诉一下
# 你们推送太多了` the unsubscribe or the rest was left undone.
DONE_AT_ONCE = frozenset({"unsubscribe"})
# A clause counts as a request of its own only when it is read with this confidence.
_CLAUSE_CONFIDENCE = 0.9


# A request that starts something, asked last after questions answered first: `券有几张？
# 另外我想投诉`, `积分多少，然后帮我转人工`.
STARTED_LAST = frozenset({"human_handoff", "file_complaint"})
# What a message that asks several things may read as, whole.
SEVERAL_REQUESTS = ANSWERED_AT_ONCE | STARTED_LAST | DONE_AT_ONCE


def _every_request(text: str, understood: Understanding, parser) -> Understanding:
    """`帮我查下积分，顺便看看我的券`: the first request, with the others to answer after
    it. Only when every clause reads confidently as a request of its own that is answered
    at once (or, last, a bare request for a person or to complain, after questions), and
    the whole message reads as one of them; otherwise the message is one request: `积分怎么
    少了，我要投诉` is a complaint whose description asks a question."""
    parts = clauses(text)
    if len(parts) < 2:
        return understood
    readings = [Understanding.from_parse(parser.parse(part)) for part in parts]
    if done := _done_at_once(parts, readings, parser):
        return done
    found: list[Understanding] = []
    for number, (part, clause) in enumerate(zip(parts, readings, strict=True)):
        if complaints.asks_to_complain(part):
            clause = replace(clause, intent=complaints.COMPLAINT_INTENT, confidence=1.0)
        started_last = (
            number == len(parts) - 1
            and clause.intent in STARTED_LAST
            and bool(found)
            and all(answers.is_question(seen.text) for seen in found)
            and (
                clause.intent != complaints.COMPLAINT_INTENT
                or complaints.asks_only_to_complain(part)
            )
        )
        if (
            (clause.intent in ANSWERED_AT_ONCE or started_last)
            and (clause.confidence or 0.0) >= _CLAUSE_CONFIDENCE
            and all(clause.intent != seen.intent for seen in found)
        ):
            found.append(clause)
    if len(found) < 2 or all(clause.intent != understood.intent for clause in found):
        return understood
    if found[-1].intent == complaints.COMPLAINT_INTENT:  # the questions may be what went wrong
        found[-1] = replace(found[-1], text=text)
    return replace(found[0], then=tuple(found[1:]))


# `如果我退订，积分还在吗` asks what unsubscribing would do: nothing is done.
_SUPPOSES = re.compile(r"如果|要是|假如|假设|万一|的话|\b(?:if|suppose|what happens|when)\b")


def _done_at_once(parts: list[str], readings: list[Understanding], parser) -> Understanding | None:
    """The clause done at once, then the rest of the message read as a message of its own."""
    for number, (part, clause) in enumerate(zip(parts, readings, strict=True)):
        if (
            clause.intent in DONE_AT_ONCE
            and (clause.confidence or 0.0) >= _CLAUSE_CONFIDENCE
            and not answers.is_question(part)
            and not _SUPPOSES.search(answers.folded(part))
        ):
            others = [p for i, p in enumerate(parts) if i != number]
            rest = ("，" if any(not p.isascii() for p in others) else ", ").join(others)
            then = _every_request(rest, Understanding.from_parse(parser.parse(rest)), parser)
            return replace(clause, then=(replace(then, then=()), *then.then))
    return None


def respond(ctx: Context, pressed: Pressed | None, word: str | None) -> None:
    if word:
        on_global_word(ctx, word)
    elif ctx.state.owner == "staff" and _drops_the_person(ctx):
        on_global_word(ctx, "cancel")
    elif ctx.state.owner == "staff":
        to_staff(ctx)
    elif pressed is not None:
        press(ctx, pressed)
    elif ctx.intent_is("set_language") and (not ctx.state.flow or digressions.names_language(ctx)):
        switch_language(ctx, answers.wanted_language(ctx.text) or ctx.entity("language"))
    elif ctx.state.flow == OFFER:
        answer_offer(ctx)
    elif ctx.state.flow:
        since = ctx.state.updated_at
        if not ticket_talk.hears(ctx, new_task=_new_task(ctx), since=since or ctx.now):
            step(ctx)
    elif not ticket_talk.hears(ctx, new_task=_new_task(ctx)):
        route(ctx)
    if ctx.follow_up and ctx.member is not None:
        # Binding was a detour: now do what the member first asked for.
        ctx.understood, ctx.follow_up = Understanding.pressed(ctx.follow_up), None
        route(ctx)
    if ctx.offered and not ctx.state.flow:
        ctx.state.flow, ctx.state.step, ctx.state.slots = OFFER, "answer", dict(ctx.offered)


def _new_task(ctx: Context) -> bool:
    """A confident request the bot answers itself, not something said to a ticket."""
    understood = ctx.understood
    return (
        understood.confident(ctx.config.nlu.fallback_threshold)
        and understood.intent in ROUTES
        and understood.intent not in ticket_talk.FOR_THE_TICKET
    )


def answer_offer(ctx: Context) -> None:
    """The answer to "Do you want ...?": yes runs the offer, no runs its alternative if it
    has one ("Already a member? Link it. Not yet? Join": no joins) or else closes it,
    anything else is a new message; an offer that `undo`es what was just done runs when
    the member takes it back (`哎呀点错了`). A typed request for the offered task takes what the
    offer kept, as its button does. An offer made without a question (`by_yes: False`) is
    not accepted by a yes: after "if it's ours, tap complaint", `好吧` acknowledges."""
    offered, otherwise = ctx.slots.get("intent"), ctx.slots.get("otherwise")
    entities = ctx.slots.get("entities") or {}
    by_yes = ctx.slots.get("by_yes", True)
    amend, undo = ctx.slots.get("amend"), ctx.slots.get("undo")
    end_form(ctx)
    if undo and offered in ROUTES and answers.undoes(ctx.text):
        ctx.understood = Understanding.pressed(offered, entities)
        route(ctx)
        return
    if amend and _amends(ctx, amend):
        named = {k: v for k in ("benefit", "quantity") if (v := ctx.entity(k))}
        ctx.understood = Understanding.pressed(amend["intent"], {**amend["entities"], **named})
        route(ctx)
        return
    if entities and offered and ctx.intent_is(offered) and not _tells_its_own(ctx, offered):
        kept = {name: [value] for name, value in entities.items()}
        ctx.understood = replace(ctx.understood, entities={**kept, **ctx.understood.entities})
        route(ctx)
        return
    yes = ctx.yes_no() if by_yes else None
    if yes and offered in ROUTES:
        ctx.understood = Understanding.pressed(offered, entities)
        route(ctx)
    elif yes is False and otherwise in ROUTES:
        ctx.understood = Understanding.pressed(otherwise, entities)
        route(ctx)
    elif yes is False:
        ctx.handler = "offer.declined"
        ctx.say("offer.declined")
    elif not ticket_talk.hears(ctx, new_task=_new_task(ctx)):
        route(ctx)


def _tells_its_own(ctx: Context, offered: str) -> bool:
    """A complaint that tells its own trouble is a new one: the trouble the offer kept (told
    of a courier, not filed) was merged into it, with the first one's order."""
    return offered == complaints.COMPLAINT_INTENT and not complaints.asks_only_to_complain(ctx.text)


# What changes a refused or dropped request, whatever else the NLU hears in
# `ok just 2 then` (out of scope), `2 then` (a rating) or `what about 2` (help).
_CARRIES_A_CHANGE = frozenset({"affirm", "deny", "out_of_scope", "rate_service", "help"})


def _amends(ctx: Context, amend: dict) -> bool:
    """The message names only another quantity or reward for the request kept in
    `amend` (`ok just 2 then`, `fine. the coffee then`)."""
    understood = ctx.understood
    quantity = answers.quantity(understood.entity("quantity")) and answers.only_a_quantity(ctx.text)
    return bool(
        (quantity or understood.entity("benefit"))
        and (
            understood.intent in _CARRIES_A_CHANGE | {amend["intent"]}
            or not understood.confident(ctx.config.nlu.fallback_threshold)
        )
    )


# -- global words and the staff owner ----------------------------------------------------


def on_global_word(ctx: Context, word: str) -> None:
    ctx.handler = f"global.{word}"
    if word == "unsubscribe":
        profile.unsubscribe(ctx)  # whatever else is going on, which carries on
        return
    if word == "person":
        if ctx.state.owner == "staff":
            complaints.still_waiting(ctx)
        else:
            end_form(ctx)
            complaints.handoff(ctx)
        return
    was_staff = ctx.state.owner == "staff"
    if was_staff:
        withdrawn = tickets.member_left(ctx.session, ctx.state, ctx.now, withdraws=word == "cancel")
        if withdrawn is not None:
            ctx.say("handoff.withdrawn", number=withdrawn.number)
        else:
            ctx.say("handoff.left")
    if word == "cancel" and not was_staff:
        cancelled(ctx)
    end_form(ctx)
    ctx.outcome = "cancelled" if word == "cancel" else "menu"
    smalltalk.menu(ctx, intro=word == "menu")


def cancelled(ctx: Context) -> None:
    """Says what was dropped: `好的，已取消资料修改。`, or that nothing was open."""
    form = FORMS.get(ctx.state.flow or "")
    if form is not None:
        ctx.say("form.cancelled_task", task=ctx.t(f"form.task.{form.name}"))
        if form.leaves is not None:
            form.leaves(ctx)
    else:
        ctx.say("form.cancelled" if ctx.state.flow else "form.nothing_to_cancel")


# `不用转人工了，我自己查` while waiting for a person: back to the bot, as "菜单" would, or the
# bot said nothing to this and to everything after. A bare `不用了` may answer the agent,
# once one has written; before that it can only call the person off.
_A_PERSON = re.compile(r"人工|真人|客服|找人|\b(?:human|person|agent|staff|operator)\b")
_CALLS_OFF = re.compile(
    r"没事了|不用了|不需要了|(?:搞定|解决|弄好)了|唔使|\b(?:nvm|never ?mind|forget it|no need"
    r"|sorted it|figured it out|all good now)\b"
)


def _drops_the_person(ctx: Context) -> bool:
    said = answers.folded(ctx.text)
    refuses = ctx.understood.intent in ("deny", "cancel") and ctx.understood.confident(
        ctx.config.nlu.digression_threshold
    )
    if refuses and _A_PERSON.search(said):
        return True
    calls_off = refuses or _CALLS_OFF.search(said) is not None
    # Only then is the ticket read: every message to staff passes here.
    return (
        calls_off
        and ctx.state.ticket_id is not None
        and not tickets.staff_replied(ctx.session, ctx.state.ticket_id)
    )


def to_staff(ctx: Context) -> None:
    """The bot stays silent: the member is talking to a person."""
    ctx.handler, ctx.outcome = "staff", "to_staff"
    said = ctx.text if ctx.text is not None else f"[button] {ctx.payload}"
    tickets.record_member_message(ctx.session, ctx.state, said, ctx.now)


# -- buttons -----------------------------------------------------------------------------


def press(ctx: Context, pressed: Pressed) -> None:
    if pressed.kind == "intent":
        _with_the_offers_entities(ctx)
        end_form(ctx)  # a menu button starts afresh, whatever was half done
        route(ctx)
    elif pressed.kind == "language":
        switch_language(ctx, pressed.value)
    elif pressed.kind == "answer" and ctx.state.flow:
        ctx.answer = pressed.value
        step(ctx)
    elif pressed.kind == "confirm" and pressed.confirmation == ctx.state.confirmation:
        ctx.pressed_yes = pressed.yes
        step(ctx)
    elif pressed.kind == "confirm" and pressed.confirmation in (ctx.state.confirmed or ()):
        ctx.handler, ctx.outcome = "confirm.repeat", "repeat"
        ctx.say("confirm.already_done")
    else:
        ctx.handler, ctx.outcome = "button.stale", "stale"
        ctx.say("button.stale")
        form = FORMS.get(ctx.state.flow or "")
        if form is not None and ctx.state.step in form.states:
            form.states[ctx.state.step].ask(ctx)  # the question still open, with live buttons
        else:
            smalltalk.menu(ctx, intro=False)


def _with_the_offers_entities(ctx: Context) -> None:
    """A button that runs the open offer's intent takes what the offer kept, as a typed
    acceptance does: the trouble the member told, for the complaint form's description."""
    offer = ctx.slots if ctx.state.flow == OFFER else {}
    intent = ctx.understood.intent
    if offer.get("entities") and offer.get("intent") == intent:
        ctx.understood = Understanding.pressed(intent, offer["entities"])


def switch_language(ctx: Context, lang: str | None) -> None:
    ctx.handler = "language"
    if lang not in ("zh", "en"):
        ctx.say(
            "language.which",
            ctx.button("language.zh", payloads.language("zh")),
            ctx.button("language.en", payloads.language("en")),
        )
        return
    ctx.lang = ctx.identity.language = lang
    if ctx.member is not None:
        ctx.member.language = lang
    ctx.state.language_chosen = True
    ctx.say("language.switched")
    form = FORMS.get(ctx.state.flow or "")
    if form is not None and ctx.state.step in form.states:
        form.states[ctx.state.step].ask(ctx)
        ctx.outcome = "form"


# -- forms -------------------------------------------------------------------------------


def end_form(ctx: Context) -> None:
    state = ctx.state
    state.flow = state.step = state.confirmation = None
    state.slots, state.reasks = {}, 0


def start(ctx: Context, form: Form) -> None:
    end_form(ctx)
    ctx.state.flow = form.name
    ctx.handler = f"form.{form.name}"
    enter(ctx, form, form.begin(ctx))


def enter(ctx: Context, form: Form, next_state: str | None) -> None:
    if next_state != ctx.state.step:
        ctx.state.confirmation = None  # a confirmation belongs to the step that asked it
    if next_state is None:
        end_form(ctx)
        return
    ctx.state.flow, ctx.state.step = form.name, next_state
    form.states[next_state].ask(ctx)
    ctx.outcome = "form"


def step(ctx: Context) -> None:
    form = FORMS.get(ctx.state.flow or "")
    if form is None or ctx.state.step not in form.states:
        end_form(ctx)  # a form renamed since the state was saved: start over, politely
        route(ctx)
        return
    ctx.handler = f"form.{form.name}"
    if digressions.SWITCH in ctx.slots:
        answer_switch(ctx, form)
        return
    current = form.states[ctx.state.step]
    if ctx.payload is None and answers.resumes(ctx.text):  # `ok back to it`
        ctx.outcome = "form"
        ctx.say("form.back", task=ctx.t(f"form.task.{form.name}"))
        current.ask(ctx)
        return
    if _greets(ctx):  # `hi` a week later was "That doesn't look like an order number"
        ctx.outcome = "form"
        ctx.say("form.greeted", task=ctx.t(f"form.task.{form.name}"))
        current.ask(ctx)
        return
    if ctx.payload is None and form.drops is not None and form.drops(ctx.text) is not None:
        dropped(ctx, form)
        return
    kind = digressions.kind(ctx, form, current, before=True)
    if kind:
        digress(ctx, form, kind)
        return
    if _stale_yes(ctx):
        # `好的` hours after "redeem 3 vouchers?", or after staff wrote, may answer them.
        ctx.outcome = "reask"
        ctx.say("confirm.stale", when=ctx.when(ctx.state.updated_at))
        ctx.state.confirmation, ctx.state.updated_at = None, ctx.now
        current.ask(ctx)
        return
    result = current.answer(ctx)
    if not isinstance(result, Reask):
        ctx.state.reasks = 0
        enter(ctx, form, result)
    elif not result.heard and (kind := digressions.kind(ctx, form, current, before=False)):
        digress(ctx, form, kind)
    elif not result.heard and _says(ctx, "goodbye"):
        # `拜拜，我晚点再弄`: the form waits for the member (it was "please type a date").
        ctx.outcome = "form"
        ctx.say("form.paused", task=ctx.t(f"form.task.{form.name}"))
    elif not result.heard and _says(ctx, "help") and _ASKS_HELP.search(answers.folded(ctx.text)):
        ctx.outcome = "reask"
        ctx.say("form.help", task=ctx.t(f"form.task.{form.name}"))
        current.ask(ctx)
    elif ctx.state.reasks >= ctx.config.dialogue.max_reasks:
        ctx.outcome = "gave_up"
        if form.give_up is not None:
            form.give_up(ctx)  # nothing said is lost: the form keeps what it has
        else:
            ctx.say("form.give_up")
            smalltalk.menu(ctx, intro=False)
        end_form(ctx)
    else:
        ctx.state.reasks += 1
        ctx.say(result.hint or "form.reask", **result.fields)
        current.ask(ctx)
        ctx.outcome = "reask"


_GREETING_WORDS = 3  # `hi there`, `hello again`; longer is more than a greeting


def _greets(ctx: Context) -> bool:
    """A bare greeting (`hi`, `你好呀`), not an answer with a greeting in front of it."""
    text = ctx.text or ""
    return (
        ctx.payload is None
        and _says(ctx, "greet")
        and not any(char.isdigit() for char in text)
        and not answers.long_text(text)
        and len(text.split()) <= _GREETING_WORDS
    )


def _stale_yes(ctx: Context) -> bool:
    """A typed yes to a confirmation asked longer ago than the dialogue allows, or before
    staff last replied on or resolved one of the member's tickets."""
    asked = ctx.state.updated_at
    if not ctx.state.confirmation or ctx.payload is not None or asked is None:
        return False
    if not ctx.yes_no():
        return False
    waited = ctx.now - asked
    return waited > timedelta(
        minutes=ctx.config.dialogue.confirmation_minutes
    ) or ticket_talk.staff_spoke_since(ctx, asked)


# Help asked in so many words; `不知道` is a wrong answer, which the step's hint answers.
_ASKS_HELP = re.compile(
    r"\bhelp\b|帮助|帮帮|求助|救命|怎么[弄办填做]|\bwhat do i (?:do|type|say)\b"
)


def _says(ctx: Context, intent: str) -> bool:
    return ctx.understood.intent == intent and ctx.understood.confident(
        ctx.config.nlu.digression_threshold
    )


def dropped(ctx: Context, form: Form) -> None:
    """The form ends as the member said; a confident other request in the same message
    (`帮我查下积分吧`) is answered."""
    ctx.say("form.cancelled_task", task=ctx.t(f"form.task.{form.name}"))
    end_form(ctx)
    ctx.outcome = "cancelled"
    understood = ctx.understood
    if understood.intent not in (form.intent, "cancel", "deny", "affirm") and understood.confident(
        ctx.config.nlu.digression_threshold
    ):
        route(ctx)


def digress(ctx: Context, form: Form, kind: str) -> None:
    if kind == "fill" and form.fill is not None:  # its own intent again: fill, not restart
        ctx.state.reasks = 0
        enter(ctx, form, form.fill(ctx))
    elif kind == "aside":
        aside(ctx, form)
    elif kind == "switch":
        ctx.outcome = "switch"
        ctx.set_slot(digressions.SWITCH, digressions.pending(ctx))
        ctx.confirm(
            "form.switch",
            task=ctx.t(f"form.task.{form.name}"),
            new=ctx.t(f"intent.{ctx.understood.intent}"),
        )
    elif ctx.understood.intent == "cancel":  # `不改手机号了`: the form is what it drops
        on_global_word(ctx, "cancel")
    else:  # "restart": a person, or a form that cannot take a second request
        end_form(ctx)
        route(ctx)


def aside(ctx: Context, form: Form) -> None:
    """Answer the question, then ask the step again: "回到您的投诉：…"."""
    state = ctx.state
    kept = (state.flow, state.step, dict(state.slots), state.confirmation, state.reasks)
    route(ctx)
    state.flow, state.step, state.slots, state.confirmation, state.reasks = kept
    resume(ctx, form)
    ctx.outcome = "aside"


def resume(ctx: Context, form: Form) -> None:
    ctx.handler = f"form.{form.name}"
    back = ctx.t("form.back", task=ctx.t(f"form.task.{form.name}"))
    asked = len(ctx.replies)
    form.states[ctx.state.step or ""].ask(ctx)
    first = ctx.replies[asked]
    ctx.replies[asked] = Reply(back + first.text, first.buttons)
    ctx.outcome = "form"


def answer_switch(ctx: Context, form: Form) -> None:
    """The answer to "drop the open form for that?": yes does the new task, no resumes
    the form, anything else is read as an answer to the form's step."""
    pending = ctx.slots[digressions.SWITCH]
    ctx.state.slots = {k: v for k, v in ctx.slots.items() if k != digressions.SWITCH}
    yes = ctx.yes_no()
    ctx.state.confirmation = None
    if yes:
        ctx.say("form.dropped", task=ctx.t(f"form.task.{form.name}"))
        end_form(ctx)
        ctx.understood, ctx.text = digressions.understood(pending), pending["text"]
        route(ctx)
    elif yes is False:
        resume(ctx, form)
    else:
        step(ctx)


# -- intents -----------------------------------------------------------------------------


def route(ctx: Context) -> None:
    """Answers the request understood, then any more the message asked for."""
    more = ctx.understood.then
    if more:  # each request is answered from its own words
        ctx.text = ctx.understood.text
    _route_one(ctx)
    for then in more:
        if ctx.state.flow or ctx.outcome == "needs_binding":  # one thing at a time
            break
        ctx.understood, ctx.text = then, then.text
        _route_one(ctx)


def _route_one(ctx: Context) -> None:
    understood = ctx.understood
    if not understood.confident(ctx.config.nlu.fallback_threshold):
        fallback(ctx)
        return
    refined = next(
        (to for asks, to in REFINED.get(understood.intent or "", ()) if asks(ctx.text)), None
    )
    if refined:
        understood = ctx.understood = replace(understood, intent=refined)
    chosen = ROUTES.get(understood.intent or "") or ROUTES["out_of_scope"]
    if understood.intent != "out_of_scope" and ctx.state.misses:
        ctx.state.misses = 0  # only when set: a changed state costs a flush
    if understood.intent == "cancel":
        on_global_word(ctx, "cancel")
    elif understood.intent == "set_language":
        switch_language(ctx, answers.wanted_language(ctx.text) or ctx.entity("language"))
    elif chosen.needs_member and ctx.member is None:
        ctx.handler = "binding.offer"
        binding.offer(ctx, then=understood.intent)
    elif isinstance(chosen.run, Form):
        start(ctx, chosen.run)
    else:
        ctx.handler = f"{chosen.run.__module__.rsplit('.', 1)[-1]}.{chosen.run.__name__}"
        chosen.run(ctx)


def fallback(ctx: Context) -> None:
    ctx.handler, ctx.outcome = "fallback", "fallback"
    ctx.state.misses += 1
    smalltalk.keeps_a_trouble(ctx)  # its complaint button files what was said, as out of scope
    if ctx.state.misses >= ctx.config.dialogue.fallback_misses:
        ctx.state.misses = 0
        ctx.say("fallback.give_up")
        smalltalk.menu(ctx, intro=False)
        return
    guesses = [
        name for name, _ in ctx.understood.ranking if name in ROUTES and name not in NOT_GUESSES
    ][:GUESSES]
    if guesses:
        ctx.say(
            "fallback.did_you_mean",
            *(ctx.button(f"intent.{name}", payloads.intent(name)) for name in guesses),
        )
    else:
        ctx.say("fallback.not_understood")
        smalltalk.menu(ctx, intro=False)
