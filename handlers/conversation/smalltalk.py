"""Greetings, thanks, goodbye, the menu, and what the bot cannot do."""

from __future__ import annotations

from core import payloads
from core.messages import Button
from handlers.conversation import answers
from handlers.conversation.context import Context

MEMBER_MENU = ("check_points", "list_benefits", "my_vouchers", "tier_info", "file_complaint")
GUEST_MENU = ("bind_account", "register", "ask_rules", "file_complaint")


def menu_buttons(ctx: Context) -> list[Button]:
    shown = MEMBER_MENU if ctx.member is not None else GUEST_MENU
    buttons = [ctx.button(f"intent.{name}", payloads.intent(name)) for name in shown]
    buttons.append(ctx.button("intent.human_handoff", payloads.global_word("person")))
    return buttons


def menu(ctx: Context, intro: bool = True) -> None:
    ctx.say("menu.intro" if intro else "menu.more", *menu_buttons(ctx))


def help(ctx: Context) -> None:  # the intent is called help
    menu(ctx)


def greet(ctx: Context) -> None:
    brand = ctx.config.brand["name"].get(ctx.lang)
    if ctx.member is not None:
        ctx.say("smalltalk.greet_member", name=ctx.member.name, brand=brand)
    else:
        ctx.say("smalltalk.greet_guest", brand=brand)
    menu(ctx)


def thanks(ctx: Context) -> None:
    ctx.say("smalltalk.thanks")


def goodbye(ctx: Context) -> None:
    ctx.say("smalltalk.goodbye")


def stray_answer(ctx: Context) -> None:
    """A yes or no with no question pending."""
    ctx.say("smalltalk.nothing_pending")
    menu(ctx, intro=False)


def out_of_scope(ctx: Context) -> None:
    """Politely decline; it still counts as a miss, so a member going in circles
    is offered a person."""
    ctx.outcome = "out_of_scope"
    if answers.asks_who_answers(ctx.text):
        ctx.say("smalltalk.who_answers")
        return
    if answers.asks_where_an_order_is(ctx.text) and not ctx.state.flow:
        ctx.say("smalltalk.no_tracking", *menu_buttons(ctx))
        return
    ctx.state.misses += 1
    if ctx.state.misses >= ctx.config.dialogue.fallback_misses:
        ctx.state.misses = 0
        ctx.say("smalltalk.out_of_scope_again")
    else:
        ctx.say("smalltalk.out_of_scope")
    if ctx.state.flow:  # inside a form the step is asked again instead
        return
    if keeps_a_trouble(ctx):
        # Another company's, maybe, or ours told without naming us (`顺丰送来的蛋糕压坏了`).
        ctx.say("smalltalk.trouble_maybe_ours", *menu_buttons(ctx))
    else:
        menu(ctx, intro=False)


def keeps_a_trouble(ctx: Context) -> bool:
    """A trouble the bot could not place or did not understand (`我在11/05买的，单号
    A20261105，少发了3件`) is what the complaint button under it, or a typed `投诉`, files:
    the description and the order number it names, not asked again. No question was
    asked, so a yes after it (`好吧`) acknowledges, it does not file. True when kept."""
    if not (ctx.understood.typed and tells_a_trouble(ctx.text)):
        return False
    entities = {"description": ctx.text}
    ctx.offered = {"intent": "file_complaint", "entities": entities, "by_yes": False}
    return True


def tells_a_trouble(text: str | None) -> bool:
    """Says something went wrong, and does not ask."""
    return answers.says_something_is_wrong(text) and not answers.is_question(text)
