"""The console chat's terminal: line editing and history (prompt_toolkit) when both ends are a
terminal, plain lines otherwise; colour only on a terminal and never with NO_COLOR set."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TextIO

import click
from platformdirs import user_state_path

STYLES: dict[str, dict[str, Any]] = {
    "button": {"fg": "cyan", "bold": True},
    "bot": {"fg": "green"},
    "note": {"dim": True},
}


def history_file() -> str:
    """Chat history lives in the user's state directory, never in the working directory."""
    folder = user_state_path("memberbot")
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder / "chat-history")


def reader(stdin: TextIO, stdout: TextIO) -> Callable[[str], str]:
    """A line reader: prompt_toolkit (arrows, Ctrl-R, history across runs) on a terminal."""
    if not (stdin.isatty() and stdout.isatty()):
        return input
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory

    session: PromptSession[str] = PromptSession(history=FileHistory(history_file()))
    return session.prompt


def painter(stdout: TextIO) -> Callable[[str, str], str]:
    """(role, text) -> text, coloured by role when the terminal shows colour."""
    if not stdout.isatty() or os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return lambda _role, text: text
    return lambda role, text: click.style(text, **STYLES.get(role, {}))
