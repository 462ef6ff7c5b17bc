"""Button payloads: short, so they fit Telegram's 64-byte callback data.

i:<intent>[:<entity>=<value>]   start what an intent does, e.g. i:redeem_benefit:benefit=coffee_voucher
a:<value>                       answer the question of the current form step
c:<confirmation id>:y|n         answer a confirmation; the id makes a repeat press harmless
g:cancel|menu|person            a global word
l:zh|en                         switch language
"""

from __future__ import annotations

from dataclasses import dataclass, field

GLOBALS = ("cancel", "menu", "person", "unsubscribe")


@dataclass(frozen=True)
class Pressed:
    kind: str  # intent, answer, confirm, global, language
    value: str = ""
    entities: dict[str, str] = field(default_factory=dict)
    confirmation: str | None = None
    yes: bool = False


class BadPayload(ValueError):
    pass


def intent(name: str, **entities: str) -> str:
    extra = "".join(f":{key}={value}" for key, value in entities.items())
    return f"i:{name}{extra}"


def answer(value: str) -> str:
    return f"a:{value}"


def confirm(confirmation: str, yes: bool) -> str:
    return f"c:{confirmation}:{'y' if yes else 'n'}"


def global_word(word: str) -> str:
    return f"g:{word}"


def language(lang: str) -> str:
    return f"l:{lang}"


def decode(payload: str) -> Pressed:
    kind, _, rest = payload.partition(":")
    if kind == "i" and rest:
        name, *pairs = rest.split(":")
        entities = dict(pair.split("=", 1) for pair in pairs if "=" in pair)
        return Pressed("intent", name, entities)
    if kind == "a" and rest:
        return Pressed("answer", rest)
    if kind == "c":
        confirmation, _, yes = rest.partition(":")
        if confirmation and yes in ("y", "n"):
            return Pressed("confirm", confirmation=confirmation, yes=yes == "y")
    if kind == "g" and rest in GLOBALS:
        return Pressed("global", rest)
    if kind == "l" and rest in ("zh", "en"):
        return Pressed("language", rest)
    raise BadPayload(f"unknown button payload {payload!r}")
