"""The one normaliser for text from outside (members, platforms, files) before anything
stores it: NUL and other control characters (PostgreSQL refuses NUL in text) and lone
surrogates (not encodable as UTF-8) are removed, and the length is bounded."""

from __future__ import annotations

import re

MAX_TEXT = 4096  # Telegram's own limit for one message; WeChat's is lower

# C0 controls except tab and newline, DEL, and UTF-16 surrogate halves standing alone.
_UNWANTED = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")


def clean(text: str, limit: int = MAX_TEXT) -> str:
    """`text` without characters no database or platform can keep, at most `limit` long."""
    return _UNWANTED.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))[:limit]
