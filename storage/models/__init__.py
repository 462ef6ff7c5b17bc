"""The records: SQLAlchemy 2.0 typed models, one module per area."""

from storage.models.base import Base
from storage.models.conversation import ConversationState, MessageLog
from storage.models.ledger import LedgerEntry, LotAllocation, PointsAccount, PointsLot
from storage.models.members import ChatIdentity, ConsentEvent, Member
from storage.models.outbound import Campaign, OutboundMessage
from storage.models.rewards import Benefit, Redemption, Voucher
from storage.models.staff import AuditEvent, StaffUser
from storage.models.tickets import Ticket, TicketEvent

__all__ = [
    "AuditEvent",
    "Base",
    "Benefit",
    "Campaign",
    "ChatIdentity",
    "ConsentEvent",
    "ConversationState",
    "LedgerEntry",
    "LotAllocation",
    "Member",
    "MessageLog",
    "OutboundMessage",
    "PointsAccount",
    "PointsLot",
    "Redemption",
    "StaffUser",
    "Ticket",
    "TicketEvent",
    "Voucher",
]
