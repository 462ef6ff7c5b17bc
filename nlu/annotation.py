"""Rasa's inline entity annotations: `[text](entity)` and `[text]{"entity": "e", "value": "v"}`."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

_ANNOTATION = re.compile(
    r"\[(?P<text>[^\]]+?)\]"
    r"(?:\((?P<entity>[^:)\s]+?)(?::(?P<value>[^)]+))?\)|(?P<json>\{[^}]*\}))"
)
_DANGLING = re.compile(r"\]\s*[({]")


class AnnotationError(ValueError):
    """An example whose annotation cannot be read."""


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    entity: str
    value: str


def parse_annotated(raw: str) -> tuple[str, list[Span]]:
    """The plain text of an annotated example and the entity spans in it."""
    parts: list[str] = []
    spans: list[Span] = []
    length = 0
    cursor = 0
    for match in _ANNOTATION.finditer(raw):
        before = raw[cursor : match.start()]
        _check_plain(before)
        parts.append(before)
        length += len(before)
        surface = match["text"]
        entity, value = _entity_and_value(match)
        spans.append(Span(length, length + len(surface), entity, value or surface))
        parts.append(surface)
        length += len(surface)
        cursor = match.end()
    rest = raw[cursor:]
    _check_plain(rest)
    parts.append(rest)
    return "".join(parts), spans


def _check_plain(text: str) -> None:
    if _DANGLING.search(text):
        raise AnnotationError(
            f"broken entity annotation near {text[:60]!r}: "
            'write [text](entity) or [text]{"entity": "name", "value": "canonical"}'
        )


def _entity_and_value(match: re.Match) -> tuple[str, str | None]:
    if match["entity"]:
        return match["entity"], match["value"]
    try:
        fields = json.loads(match["json"])
    except json.JSONDecodeError as exc:
        raise AnnotationError(
            f"entity annotation {match['json']!r} is not JSON ({exc.msg})"
        ) from None
    if not isinstance(fields, dict) or not isinstance(fields.get("entity"), str):
        raise AnnotationError(f'entity annotation {match["json"]!r} needs "entity"')
    value = fields.get("value")
    if value is not None and not isinstance(value, str | int | float):
        raise AnnotationError(f"entity annotation {match['json']!r}: value must be text")
    return fields["entity"], None if value is None else str(value)
