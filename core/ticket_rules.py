"""Ticket rules, free of I/O: urgency, priority, deadlines, the number a member quotes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.config import ServiceLevels

PRIORITIES = ("urgent", "high", "normal", "low")  # queue order
OPEN_STATUSES = ("new", "assigned", "in_progress", "waiting_member")


def unassigned_status(status: str) -> str:
    """A ticket given back to the queue: an assigned one is new again; the later statuses
    say where the conversation with the member stands, and stay."""
    return "new" if status == "assigned" else status


def is_urgent(text: str, keywords: list[str]) -> bool:
    """Regulators, media, lawyers, safety, injury, allergy, abuse: see config."""
    said = text.lower()
    return any(word.lower() in said for word in keywords)


def priority(kind: str, urgent: bool, vip: bool) -> str:
    """Urgent words first; then VIP members jump the queue; a request (a voucher
    extension) waits behind complaints and hand-offs."""
    if urgent:
        return "urgent"
    if vip:
        return "high"
    return "low" if kind == "request" else "normal"


@dataclass(frozen=True)
class Deadlines:
    first_response: datetime
    resolution: datetime


def deadlines(opened_at: datetime, urgent: bool, vip: bool, levels: ServiceLevels) -> Deadlines:
    hours = levels.first_response
    first = hours.urgent if urgent else hours.vip if vip else hours.normal
    return Deadlines(
        first_response=opened_at + timedelta(hours=first),
        resolution=opened_at + timedelta(hours=levels.resolution),
    )


def number(ticket_id: int) -> str:
    return f"T{ticket_id:06d}"
