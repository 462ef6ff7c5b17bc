"""Forms: multi-turn slot filling as explicit state machines.

A form is a table of named states. Each state has two small functions: `ask` says the
question, `answer` reads the member's reply and returns the next state's name, None
when the form is done, or a Reask when the reply cannot be used. `begin` fills slots
from the first message and picks the first state, so "兑换两张咖啡券" goes straight to
the confirmation. The dialogue engine (bot/dispatch.py) runs the table: re-asks, the
re-ask limit, global words and digressions live there, once, for every form.

A form may also say how to `fill` its slots from a later message of its own intent
("我要投诉" again, with the order number this time: fill, do not restart) and what to
`give_up` with at the re-ask limit (a complaint is filed with what is known). A state
whose answer is free text (`free_text`) would take anything, so a message the NLU
confidently reads as another request is a digression there unless the state `takes` it.
What a state `takes` is its answer even when it reads as the form's own intent
(`没订单号` at "which order?"): it is answered, not filled."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from handlers.conversation import answers
from handlers.conversation.context import Context, Reask

Answer = Callable[[Context], "str | None | Reask"]


@dataclass(frozen=True)
class State:
    ask: Callable[[Context], None]
    answer: Answer
    free_text: bool = False
    takes: Callable[[Context], bool] | None = None  # an answer here, however the NLU reads it


@dataclass(frozen=True)
class Form:
    name: str
    intent: str  # reported as the intent of answers given inside the form
    begin: Callable[[Context], str | None]
    states: dict[str, State]
    fill: Callable[[Context], str | None] | None = None
    give_up: Callable[[Context], None] | None = None
    # What follows the words that drop the form (`算了不投诉了，帮我查下积分吧` -> `，帮我查下积
    # 分吧`), or None when the message does not drop it: the form ends, and the rest is
    # read and answered.
    drops: Callable[[str | None], str | None] | None = None
    # What a form dropped by a cancel leaves for the next message (a redemption keeps its
    # benefit: `不要了` then `那就两张吧` asks again for two).
    leaves: Callable[[Context], None] | None = None

    def __post_init__(self):
        if len(self.name) > 40:
            raise ValueError(f"form name {self.name!r} is longer than the flow column")


def confirmation(
    dropped: str, undoable: bool = True, words: frozenset[str] = frozenset(), waits: bool = False
) -> Callable[[Answer], Answer]:
    """The answer of a confirmation step: a reply that is neither yes nor no is re-asked,
    a no drops the form with the `dropped` message, a yes runs the decorated action. An
    action that cannot be undone takes no yes the NLU only guessed; the request's own
    `words` said again (订阅 at "subscribe?") are a yes. A form that `waits` takes a "not
    yet" as one, not as a no: dropping it would lose what the member wrote."""

    def wrap(action: Answer) -> Answer:
        def answer(ctx: Context) -> str | None | Reask:
            if waits and ctx.payload is None and answers.not_yet(ctx.text):
                return ctx.reask("confirm.not_yet", heard=True)
            yes = answers.said(ctx.text, words) or ctx.yes_no(guess_yes=undoable)
            if yes is None:
                return ctx.reask("confirm.reask")
            if not yes:
                ctx.outcome = "cancelled"
                ctx.say(dropped)
                return None
            return action(ctx)

        return answer

    return wrap


def asked_plainly(ctx: Context, words: frozenset[str]) -> bool:
    """A pressed button, or the request's own word typed alone (解绑, 订阅): nothing the
    NLU guessed, so an action that asks first when it only guessed can act at once."""
    return ctx.payload is not None or answers.said(ctx.text, words)
