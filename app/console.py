"""The console channel: an interactive chat, and scripted chat as JSON lines.

The console user id is the chat identity (channel "console"): the demo seed binds
`demo` to M000001 and `demo-en` to M000002."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from bot.engine import Engine
from core.messages import Button, Inbound

CHANNEL = "console"
MAX_USER = 100  # chat_identities.external_id
MAX_CHANNEL = 20


class BadLine(ValueError):
    pass


def _inbound(line: str) -> Inbound:
    try:
        said = json.loads(line)
    except json.JSONDecodeError as exc:
        raise BadLine(f"not JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(said, dict):
        raise BadLine("expected a JSON object")
    user, channel = said.get("user"), said.get("channel", CHANNEL)
    if not isinstance(user, str) or not user.strip() or len(user) > MAX_USER:
        raise BadLine(f'"user" must be a non-empty string of at most {MAX_USER} characters')
    if not isinstance(channel, str) or not channel.strip() or len(channel) > MAX_CHANNEL:
        raise BadLine(f'"channel" must be a non-empty string of at most {MAX_CHANNEL} characters')
    text, button = said.get("text"), said.get("button")
    if (text is None) == (button is None):
        raise BadLine('give exactly one of "text" and "button"')
    if not isinstance(text if text is not None else button, str):
        raise BadLine('"text" and "button" must be strings')
    if text is not None and not text.strip():
        raise BadLine('"text" is empty')
    return Inbound(channel, user, text=text, button=button)


def converse(engine: Engine, lines: Iterable[str], write: Callable[[str], None]) -> None:
    """One JSON object out per line in, in order; `write` flushes."""
    for number, line in enumerate(lines, start=1):
        try:
            message = _inbound(line)
        except BadLine as exc:
            write(json.dumps({"error": f"line {number}: {exc}"}, ensure_ascii=False))
            continue
        turn = engine.handle(message)
        write(json.dumps(turn.as_dict(message.user_id), ensure_ascii=False))


def plain(_role: str, text: str) -> str:
    return text


def chat(
    engine: Engine,
    user: str,
    read: Callable[[str], str],
    write: Callable[[str], None],
    paint: Callable[[str, str], str] = plain,
) -> None:
    """Type to talk; type a button's number to press it; /quit or end of input to leave.
    `paint(role, text)` colours the bot's lines ("bot") and its buttons ("button")."""
    write(paint("note", f"memberbot console · {user} · 数字=按钮 number=button · /quit"))
    shown: list[Button] = []
    while True:
        try:
            line = read("> ").strip()
        except (EOFError, KeyboardInterrupt):
            write("")
            return
        if line in ("/quit", "/exit"):
            return
        if not line:
            continue
        if line.isdigit() and 1 <= int(line) <= len(shown):
            message = Inbound(CHANNEL, user, button=shown[int(line) - 1].payload)
        else:
            message = Inbound(CHANNEL, user, text=line)
        shown = []
        for reply in engine.handle(message).replies:
            write(paint("bot", reply.text))
            for button in reply.buttons:
                shown.append(button)
                write(paint("button", f"  [{len(shown)}] {button.title}"))
