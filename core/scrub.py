"""Secrets out of error texts before they are stored or logged: credentials in URL query
strings (`secret=`, `access_token=`, `token=` ...) and the Telegram bot token, which
python-telegram-bot puts in every request's path."""

from __future__ import annotations

import re

_QUERY_SECRET = re.compile(
    r"(?i)\b((?:app)?secret|access_token|token|password|api_key|key|sign(?:ature)?)=[^&\s'\"<>]+"
)
_BOT_TOKEN = re.compile(r"(?<!\d)\d{5,12}:[A-Za-z0-9_-]{20,}")


def scrub(text: str) -> str:
    """`text` with every credential replaced by ***."""
    return _BOT_TOKEN.sub("***", _QUERY_SECRET.sub(r"\1=***", text))
