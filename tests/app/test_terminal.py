"""The console chat's terminal: colour and line editing only where a person sits at one."""

from __future__ import annotations

import io

from app import terminal


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_buttons_are_coloured_on_a_terminal(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    painted = terminal.painter(Tty())("button", "  [1] 我的积分")
    assert painted != "  [1] 我的积分" and "\x1b[" in painted and "我的积分" in painted


def test_no_colour_when_piped_or_when_no_color_is_set(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert terminal.painter(io.StringIO())("button", "[1] x") == "[1] x"
    monkeypatch.setenv("NO_COLOR", "1")
    assert terminal.painter(Tty())("button", "[1] x") == "[1] x"


def test_piped_input_is_read_line_by_line_without_an_editor():
    assert terminal.reader(io.StringIO(), io.StringIO()) is input


def test_the_chat_history_lives_in_the_users_state_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert terminal.history_file() == str(tmp_path / "state" / "memberbot" / "chat-history")
