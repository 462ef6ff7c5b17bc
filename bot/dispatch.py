"""Deciding what one message means for the conversation, in this order:

1. a global word (cancel, menu, person; and unsubscribe) wins at every step, whoever
   owns the conversation;
2. while staff own the conversation, anything else goes to their ticket, silently;
3. a pressed button does what its payload says;
4. "English please" / "说中文" switches language, even inside a form;
5. inside a form, the message answers the current step;
6. otherwise the intent is routed to its handler, or to the fallback when unclear.
"""

from __future__ import annotations

from bot.router import FORMS, ROUTES
from core import payloads
from core.global_words import global_word
from core.payloads import BadPayload, Pressed
from handlers.conversation import binding, complaints, profile, smalltalk
from handlers.conversation.context import Context, Reask
from handlers.conversation.forms import Form
from handlers.desk import tickets
from nlu.understanding import FALLBACK, Understanding

GLOBAL_INTENTS = {
    "cancel": "cancel",
    "menu": "help",
    "person": "human_handoff",
    "unsubscribe": "unsubscribe",
}
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
    FALLBACK,
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
    return Understanding.from_parse(parser.parse(text)), None, None


def respond(ctx: Context, pressed: Pressed | None, word: str | None) -> None:
    if word:
        on_global_word(ctx, word)
    elif ctx.state.owner == "staff":
        to_staff(ctx)
    elif pressed is not None:
        press(ctx, pressed)
    elif ctx.intent_is("set_language"):
        switch_language(ctx, ctx.entity("language"))
    elif ctx.state.flow:
        step(ctx)
    else:
        route(ctx)
    if ctx.follow_up and ctx.member is not None:
        # Binding was a detour: now do what the member first asked for.
        ctx.understood, ctx.follow_up = Understanding.pressed(ctx.follow_up), None
        route(ctx)


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
        tickets.member_left(ctx.session, ctx.state, ctx.now)
        ctx.say("handoff.left")
    if word == "cancel" and not was_staff:
        ctx.say("form.cancelled" if ctx.state.flow else "form.nothing_to_cancel")
    end_form(ctx)
    ctx.outcome = "cancelled" if word == "cancel" else "menu"
    smalltalk.menu(ctx, intro=word == "menu")


def to_staff(ctx: Context) -> None:
    """The bot stays silent: the member is talking to a person."""
    ctx.handler, ctx.outcome = "staff", "to_staff"
    said = ctx.text if ctx.text is not None else f"[button] {ctx.payload}"
    tickets.record_member_message(ctx.session, ctx.state, said, ctx.now)


# -- buttons -----------------------------------------------------------------------------


def press(ctx: Context, pressed: Pressed) -> None:
    if pressed.kind == "intent":
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
        smalltalk.menu(ctx, intro=False)


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
    current = form.states[ctx.state.step]
    result = current.answer(ctx)
    if not isinstance(result, Reask):
        ctx.state.reasks = 0
        enter(ctx, form, result)
    elif digresses(ctx):
        end_form(ctx)
        route(ctx)
    elif ctx.state.reasks >= ctx.config.dialogue.max_reasks:
        end_form(ctx)
        ctx.outcome = "gave_up"
        ctx.say("form.give_up")
        smalltalk.menu(ctx, intro=False)
    else:
        ctx.state.reasks += 1
        ctx.say(result.hint or "form.reask", **result.fields)
        current.ask(ctx)
        ctx.outcome = "reask"


def digresses(ctx: Context) -> bool:
    """A typed message the step could not use, that clearly asks for something else.

    Not: digits alone ("1234" looks like a member number to the NLU, but typed in
    answer to a question it is a wrong answer); the form's own intent without new
    entities (starting over would only dodge the re-ask limit)."""
    understood, text = ctx.understood, ctx.text or ""
    if not any(c.isalpha() for c in text):
        return False
    form = FORMS.get(ctx.state.flow or "")
    if form is not None and understood.intent == form.intent and not understood.entities:
        return False
    return (
        understood.intent in ROUTES
        and understood.intent not in NOT_DIGRESSIONS
        and understood.confident(ctx.config.nlu.fallback_threshold)
    )


# -- intents -----------------------------------------------------------------------------


def route(ctx: Context) -> None:
    understood = ctx.understood
    if not understood.confident(ctx.config.nlu.fallback_threshold):
        fallback(ctx)
        return
    chosen = ROUTES.get(understood.intent or "") or ROUTES["out_of_scope"]
    if understood.intent != "out_of_scope":
        ctx.state.misses = 0
    if understood.intent == "cancel":
        on_global_word(ctx, "cancel")
    elif understood.intent == "set_language":
        switch_language(ctx, ctx.entity("language"))
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
