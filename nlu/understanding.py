"""What the bot made of a message, from the NLU's parse or from a pressed button."""

from __future__ import annotations

from dataclasses import dataclass, field

FALLBACK = "nlu_fallback"


@dataclass(frozen=True)
class Understanding:
    text: str
    intent: str | None
    confidence: float | None
    ranking: tuple[tuple[str, float], ...] = ()
    entities: dict[str, list[str]] = field(default_factory=dict)
    # Further requests of the same message, answered after this one (`积分多少，还有我
    # 是什么等级`): each clause's own understanding.
    then: tuple[Understanding, ...] = ()

    @classmethod
    def from_parse(cls, parsed: dict) -> Understanding:
        """Rasa's /model/parse shape: intent{name,confidence}, intent_ranking, entities."""
        intent = parsed.get("intent") or {}
        entities: dict[str, list[str]] = {}
        for found in parsed.get("entities") or ():
            entities.setdefault(found["entity"], []).append(str(found["value"]))
        ranking = tuple(
            (r["name"], float(r.get("confidence") or 0.0))
            for r in parsed.get("intent_ranking") or ()
        )
        confidence = intent.get("confidence")
        return cls(
            text=parsed.get("text", ""),
            intent=intent.get("name"),
            confidence=None if confidence is None else float(confidence),
            ranking=ranking,
            entities=entities,
        )

    @classmethod
    def pressed(cls, intent: str | None, entities: dict[str, str] | None = None) -> Understanding:
        """A button is certain: confidence 1."""
        return cls(
            text="",
            intent=intent,
            confidence=1.0,
            entities={k: [v] for k, v in (entities or {}).items()},
        )

    @property
    def typed(self) -> bool:
        """Read from what the member typed, not from a pressed button or an accepted offer."""
        return bool(self.text)

    def entity(self, name: str) -> str | None:
        values = self.entities.get(name)
        return values[0] if values else None

    def confident(self, threshold: float) -> bool:
        return (
            self.intent not in (None, FALLBACK)
            and self.confidence is not None
            and self.confidence >= threshold
        )
