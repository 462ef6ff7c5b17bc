"""Regular-expression entities: phone, ticket and member numbers (and order-number patterns
from the data; the order-number extractor is orders.py).

Built-in patterns come first; a training file's `regex:` blocks named after an
entity add patterns for it. Matches never start or end inside a run of letters
or digits, so a phone number is not found inside an order number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nlu.entities.candidate import Candidate

EXTRACTOR = "RegexEntityExtractor"
_EDGE_BEFORE = r"(?<![0-9a-z])"
_EDGE_AFTER = r"(?![0-9a-z])"

BUILT_IN: dict[str, list[str]] = {
    "phone": [r"1[3-9]\d(?:[- ]?\d{4}){2}"],  # 13800000001, 138-0000-0001, 138 0000 0001
    "ticket_id": [r"t\d{6}"],
    "member_no": [r"m\d{6}"],
}
_UPPER = {"ticket_id", "member_no"}
# Rasa regex features that are not entities of ours are ignored here. Order numbers have
# an extractor of their own (orders.py); a data file's order_id patterns still add here.
KNOWN = {*BUILT_IN, "order_id"}


@dataclass
class RegexEntities:
    patterns: list[tuple[str, re.Pattern]]

    @classmethod
    def build(cls, extra: dict[str, list[str]] | None = None) -> RegexEntities:
        compiled = []
        merged: dict[str, list[str]] = {name: list(BUILT_IN.get(name, [])) for name in KNOWN}
        for name, patterns in (extra or {}).items():
            if name in KNOWN:
                merged[name].extend(p for p in patterns if p not in merged[name])
        for name, patterns in merged.items():
            for pattern in patterns:
                try:
                    regex = re.compile(_EDGE_BEFORE + f"(?:{pattern})" + _EDGE_AFTER, re.I)
                except re.error:
                    continue
                compiled.append((name, regex))
        return cls(compiled)

    def find(self, text: str) -> list[Candidate]:
        found = []
        for name, regex in self.patterns:
            for match in regex.finditer(text):
                value = match.group(0)
                value = value.upper() if name in _UPPER else value
                value = re.sub(r"\D", "", value) if name == "phone" else value
                found.append(Candidate(match.start(), match.end(), name, value, EXTRACTOR, 0))
        return found
