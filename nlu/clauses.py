"""The clauses a message strings its requests together with: `帮我查下积分，顺便看看我的
券`, `how many points do I have and what vouchers do I have`. Each clause is parsed on its
own when the bot looks for more than one request in a message."""

from __future__ import annotations

import re

# A clause ends at punctuation (with any joining word after it) or at a joining word.
# 还有 and 再 join only after punctuation: `我还有多少积分` is one question.
_JOINS = re.compile(
    r"(?:[，,;；。！!？?]+|\.\s)\s*(?:然后|顺便|另外|还有|再|也|并且|而且|and also|and then|and"
    r"|also|plus|then|btw)?\s*"
    r"|\s+(?:and also|and then|and|also|plus|btw)\s+"
    r"|顺便|另外|然后|以及|并且",
    re.IGNORECASE,
)


def clauses(text: str) -> list[str]:
    return [clause.strip() for clause in _JOINS.split(text) if clause and clause.strip()]
