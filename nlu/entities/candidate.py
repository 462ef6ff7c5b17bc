"""An entity found by one extractor, in normalised-text offsets, before overlaps are settled."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Candidate:
    start: int
    end: int
    entity: str
    value: str
    extractor: str
    priority: int  # lower wins an overlap; then the longer span wins

    def overlaps(self, other: Candidate) -> bool:
        return self.start < other.end and other.start < self.end


def settle(candidates: list[Candidate]) -> list[Candidate]:
    """Keep the best of overlapping candidates, in text order."""
    kept: list[Candidate] = []
    ranked = sorted(candidates, key=lambda c: (c.priority, c.start - c.end, c.start))
    for candidate in ranked:
        if not any(candidate.overlaps(other) for other in kept):
            kept.append(candidate)
    return sorted(kept, key=lambda c: c.start)
