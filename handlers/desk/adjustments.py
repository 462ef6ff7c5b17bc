"""Corrections: a supervisor or admin adds or takes away points by hand, with a reason,
through the ledger (an `adjust` entry with who and why, shown in the member's history).
Agents are refused, so is a correction to an erased member's account, and so is one
beyond `points.max_adjustment` either way (a typing mistake, which the ledger's sums could
not hold) or one that takes away more than the balance. The request key makes a repeated
submission post once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.config import Config
from handlers.desk.staff_accounts import at_least
from handlers.desk.ticket_lifecycle import Actor
from storage.db import Database
from storage.ledger import Ledger, LedgerError
from storage.members import by_number
from storage.models import AuditEvent, PointsAccount


class AdjustmentRefused(Exception):
    """`code`: forbidden, not_found, bad_input."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Adjusted:
    member_no: str
    points: int
    balance: int
    created: bool  # false: this request key was posted before, nothing changed


def adjust(
    db: Database,
    config: Config,
    member_no: str,
    points: int,
    reason: str,
    actor: Actor,
    at: datetime,
    key: str,
) -> Adjusted:
    if not at_least(actor.role, "supervisor"):
        raise AdjustmentRefused("forbidden", "only supervisors and admins correct points")
    most = config.points.max_adjustment
    if abs(points) > most:
        raise AdjustmentRefused(
            "bad_input", f"points: give 1 to {most}, or -1 to -{most} to take away, not {points}"
        )
    with db.unit_of_work() as session:
        member = by_number(session, member_no.strip())
        if member is None:
            raise AdjustmentRefused("not_found", f"no member {member_no.strip().upper()}")
        if member.erased_at is not None:
            raise AdjustmentRefused(
                "bad_input", f"member {member.member_no} was erased on request: nothing to correct"
            )
        try:
            posted = Ledger(session, config, clock=lambda: at).adjust(
                member.id, points, actor.username, reason.strip()[:500], key
            )
        except LedgerError as exc:
            raise AdjustmentRefused("bad_input", str(exc)) from None
        if posted.created:
            session.add(
                AuditEvent(
                    actor=actor.username,
                    action="points_adjusted",
                    entity="member",
                    entity_id=member.member_no,
                    data={"points": points, "reason": reason.strip()[:500]},
                    created_at=at,
                )
            )
        balance = session.get_one(PointsAccount, member.id).balance
        session.commit()
        return Adjusted(member.member_no, posted.entry.points, balance, posted.created)
