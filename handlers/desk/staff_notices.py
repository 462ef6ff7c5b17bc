"""Alerts to the staff group on Telegram (channels.telegram.staff_chat_id): new urgent
tickets, deadlines near and missed, low ratings. Use cases queue an alert (once per key,
in their own transaction); the notifier sends what is queued through the Telegram
sender, right after the use case where a sender is at hand and on every deadline check."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.config import Config
from handlers.ports import Outcome, Outgoing, Sender
from storage.db import Database
from storage.models import Member, StaffAlert, Ticket

TEXTS = {
    "urgent": {
        "zh": "🔴 紧急工单 {number}（{category}）{member}：{summary}",
        "en": "🔴 Urgent ticket {number} ({category}) {member}: {summary}",
    },
    "near_deadline": {
        "zh": "⏰ 工单 {number} 即将超时（{deadline}，{due}），已升级给主管 {supervisor}",
        "en": "⏰ Ticket {number} is near its {deadline} deadline ({due}); "
        "escalated to {supervisor}",
    },
    "breach": {
        "zh": "⚠️ 工单 {number} 已超时：{deadline}截止于 {due}",
        "en": "⚠️ Ticket {number} missed its {deadline} deadline ({due})",
    },
    "approval": {
        "zh": "💰 工单 {number}：{agent} 申请补偿 {points} 积分，超出政策，待主管审批",
        "en": "💰 Ticket {number}: {agent} asks to grant {points} points, beyond policy; "
        "a supervisor's approval is needed",
    },
    "low_rating": {
        "zh": "👎 工单 {number} 获得 {rating} 分评价，已重新打开，请主管 {supervisor} 跟进",
        "en": "👎 Ticket {number} was rated {rating}; reopened for {supervisor} to follow up",
    },
}
DEADLINES = {
    "first_response": {"zh": "首次响应", "en": "first response"},
    "resolution": {"zh": "解决", "en": "resolution"},
}
BATCH = 50


def queue(
    session: Session, config: Config, key: str, kind: str, ticket: Ticket, at: datetime, **fields
) -> bool:
    """Queue an alert once per key in the caller's transaction; False when already known."""
    if session.scalar(select(StaffAlert.id).where(StaffAlert.key == key)) is not None:
        return False
    lang = config.default_language
    member = session.get(Member, ticket.member_id) if ticket.member_id else None
    if "deadline" in fields:
        fields["deadline"] = DEADLINES[fields["deadline"]][lang]
    if "due" in fields:
        fields["due"] = fields["due"].astimezone(config.zone).strftime("%m-%d %H:%M")
    text = TEXTS[kind][lang].format(
        number=ticket.number,
        category=ticket.category,
        member=" ".join(p for p in (member.name, member.member_no) if p) if member else "",
        summary=" ".join(ticket.description.split())[:120],
        **fields,
    )
    session.add(
        StaffAlert(
            key=key,
            ticket_id=ticket.id,
            kind=kind,
            text=text,
            status="queued",
            attempts=0,
            created_at=at,
        )
    )
    return True


class StaffNotifier:
    """Sends queued staff alerts to the staff group through the Telegram sender."""

    def __init__(self, config: Config, sender: Sender | None):
        self.chat_id = config.channels.telegram.staff_chat_id
        self.sender = sender
        self.max_attempts = config.outbound.max_attempts

    def flush(self, db: Database, at: datetime) -> int:
        """Send what is queued; returns how many went out."""
        with db.unit_of_work() as session:
            pending = session.scalars(
                select(StaffAlert)
                .where(StaffAlert.status == "queued")
                .order_by(StaffAlert.id)
                .limit(BATCH)
            ).all()
            if not pending:
                return 0
            if self.chat_id is None or self.sender is None:
                why = (
                    "channels.telegram.staff_chat_id is not set"
                    if self.chat_id is None
                    else "no Telegram sender configured (TELEGRAM_BOT_TOKEN)"
                )
                if self.chat_id is None:
                    for alert in pending:
                        alert.status, alert.last_error = "skipped", why
                    session.commit()
                return 0
            jobs = [(alert.id, alert.text) for alert in pending]
        sent = 0
        for alert_id, text in jobs:
            try:
                result = self.sender.send(
                    Outgoing(external_id=str(self.chat_id), text=text, kind="staff_alert")
                )
                outcome, detail = result.outcome, result.detail
            except Exception as exc:  # the next check tries again
                outcome, detail = Outcome.RETRY, f"{type(exc).__name__}: {exc}"
            with db.unit_of_work() as session:
                alert = session.get_one(StaffAlert, alert_id)
                alert.attempts += 1
                if outcome == Outcome.SENT:
                    alert.status, alert.sent_at = "sent", at
                    sent += 1
                else:
                    alert.last_error = detail[:500]
                    if outcome != Outcome.RETRY or alert.attempts >= self.max_attempts:
                        alert.status = "failed"
                session.commit()
            if outcome == Outcome.RETRY:
                break  # rate limited or unreachable platform: wait for the next check
        return sent


def recent(session: Session, limit: int = 20) -> list[StaffAlert]:
    return list(session.scalars(select(StaffAlert).order_by(StaffAlert.id.desc()).limit(limit)))
