from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_queue", "status", "priority", "first_response_due"),
        Index("ix_tickets_created", "created_at"),
        Index("ix_tickets_assignee", "assignee_id", "status"),
        Index("ix_tickets_identity", "identity_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("chat_identities.id"))
    kind: Mapped[str] = mapped_column(String(20))  # complaint, handoff, request
    category: Mapped[str] = mapped_column(String(30))
    priority: Mapped[str] = mapped_column(String(10))
    urgent: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)
    order_id: Mapped[str | None] = mapped_column(String(40))
    order_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    first_response_due: Mapped[datetime]
    resolution_due: Mapped[datetime]
    first_responded_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    # The supervisor a ticket near its deadline (or rated low) was escalated to.
    escalated_to_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    # When the staff group was told of a new urgent ticket, and of each deadline missed:
    # set once, so the deadline job never repeats an alert.
    alerted_at: Mapped[datetime | None]
    response_breached_at: Mapped[datetime | None]
    resolution_breached_at: Mapped[datetime | None]
    rating: Mapped[int | None]
    # The voucher a member asked to extend (kind request): staff extend it from the ticket.
    voucher_id: Mapped[int | None] = mapped_column(ForeignKey("vouchers.id"))
    # The member wrote on the ticket since the last staff reply: the queue shows a marker.
    member_wrote_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class TicketEvent(Base):
    """Append-only history of a ticket: every change with its actor."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(100))
    body: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict | None]
    created_at: Mapped[datetime]
