"""Words that work at every step of every form, whoever owns the conversation.

Matched on the whole message, not inside it: "取消" cancels, "取消订单怎么办" is a question."""

from __future__ import annotations

import unicodedata

WORDS = {
    "cancel": {"取消", "算了", "不要了", "退出", "cancel", "/cancel", "stop", "quit", "never mind"},
    "menu": {"菜单", "選單", "主菜单", "menu", "/menu", "/start", "start"},
    "person": {
        "人工",
        "转人工",
        "轉人工",
        "人工客服",
        "真人",
        "agent",
        "/human",
        "human",
        "talk to a person",
        "talk to a human",
    },
    # Not a dialogue word but a promise: marketing stops at once, even mid-form or while
    # a person owns the conversation.
    "unsubscribe": {"退订", "退訂", "td", "取消订阅", "unsubscribe", "/unsubscribe"},
}

_TRIM = " \t\r\n!！。.?？~～,，"


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip(_TRIM).lower()


def global_word(text: str) -> str | None:
    """cancel, menu, person or unsubscribe when the whole message is one of their words."""
    said = normalise(text)
    # Telegram deep links arrive as "/start <payload>": still the start of a conversation.
    if said.startswith("/start"):
        return "menu"
    for word, spellings in WORDS.items():
        if said in spellings:
            return word
    return None
