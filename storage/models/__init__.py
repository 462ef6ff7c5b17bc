"""The records: SQLAlchemy 2.0 typed models, one module per area."""

from storage.models.base import Base
from storage.models.channels import ChannelMenu, ChannelToken, InboundClaim, SendLimit
from storage.models.conversation import ConversationState, MessageLog
from storage.models.desk import (
    ApiKey,
    CannedReply,
    Compensation,
    StaffAlert,
    StaffSession,
    TicketViewer,
)
from storage.models.guards import FailedAttempt, SignedRequest
from storage.models.ledger import LedgerEntry, LotAllocation, PointsAccount, PointsLot
from storage.models.members import ChatIdentity, ConsentEvent, Member, TierEvaluation
from storage.models.outbound import Campaign, OutboundMessage
from storage.models.rewards import Benefit, Redemption, Voucher
from storage.models.staff import AuditEvent, StaffUser
from storage.models.tickets import Ticket, TicketEvent

__all__ = [
    "ApiKey",
    "AuditEvent",
    "Base",
    "Benefit",
    "Campaign",
    "CannedReply",
    "ChannelMenu",
    "ChannelToken",
    "SendLimit",
    "ChatIdentity",
    "Compensation",
    "InboundClaim",
    "ConsentEvent",
    "ConversationState",
    "FailedAttempt",
    "LedgerEntry",
    "LotAllocation",
    "Member",
    "MessageLog",
    "OutboundMessage",
    "PointsAccount",
    "PointsLot",
    "Redemption",
    "SignedRequest",
    "StaffAlert",
    "StaffSession",
    "StaffUser",
    "Ticket",
    "TicketEvent",
    "TicketViewer",
    "TierEvaluation",
    "Voucher",
]
