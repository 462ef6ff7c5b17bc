"""staff workbench: sessions, API keys, canned replies, compensations, ticket alert marks

Revision ID: 0005
Revises: 0003
"""

from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None

# Standard replies for the frequent complaint kinds; supervisors edit them on the workbench.
CANNED = [
    ("greeting", None, "问候", "Greeting",
     "您好，我是客服，已收到您的反馈，正在为您处理。",
     "Hello, this is customer service. We have your message and are looking into it."),
    ("delivery_delay", "delivery_delay", "配送延迟致歉", "Late delivery apology",
     "非常抱歉您的订单配送延迟了。我们已联系物流加急处理，并将按规则为您补偿积分。",
     "We are sorry your order is late. We have asked the courier to hurry it and will "
     "compensate you in points under our rules."),
    ("product_quality", "product_quality", "商品质量问题", "Product quality",
     "很抱歉商品给您带来困扰。请提供订单号和商品照片，我们会尽快为您安排退换。",
     "We are sorry about the product. Please send the order number and a photo, and we "
     "will arrange a return or exchange right away."),
    ("service_attitude", "service_attitude", "服务态度致歉", "Service apology",
     "对于您遇到的服务问题，我们深表歉意，已反馈给相关门店负责人跟进。",
     "We apologise for the service you received and have passed it to the store manager."),
    ("points_benefits", "points_benefits", "积分权益核查", "Points check",
     "我们正在核对您的积分和权益记录，核实后会立即为您更正。",
     "We are checking your points and benefits and will correct them as soon as we have."),
    ("billing_refund", "billing_refund", "退款进度", "Refund status",
     "您的退款申请已提交财务处理，一般 3 到 5 个工作日到账。",
     "Your refund has gone to our finance team; it usually arrives in 3 to 5 working days."),
    ("closing", None, "结束语", "Closing",
     "问题已为您处理完毕，感谢您的耐心。如还有其他问题，随时联系我们。",
     "Your issue is resolved, thank you for your patience. Write to us any time."),
]


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("escalated_to_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("alerted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("response_breached_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("resolution_breached_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_tickets_escalated_to_id_staff_users"),
            "staff_users", ["escalated_to_id"], ["id"],
        )
        batch_op.create_index("ix_tickets_created", ["created_at"], unique=False)
        batch_op.create_index("ix_tickets_assignee", ["assignee_id", "status"], unique=False)

    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_users.id"], name=op.f("fk_staff_sessions_staff_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_sessions_token_hash")),
    )
    with op.batch_alter_table("staff_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_sessions_staff_id"), ["staff_id"], unique=False)

    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=12), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("name", name=op.f("uq_api_keys_name")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )

    canned = op.create_table(
        "canned_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=50), nullable=False),
        sa.Column("category", sa.String(length=30), nullable=True),
        sa.Column("title_zh", sa.String(length=100), nullable=False),
        sa.Column("title_en", sa.String(length=100), nullable=False),
        sa.Column("body_zh", sa.Text(), nullable=False),
        sa.Column("body_en", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canned_replies")),
        sa.UniqueConstraint("key", name=op.f("uq_canned_replies_key")),
    )

    op.create_table(
        "compensations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("within_policy", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["ledger_entries.id"], name=op.f("fk_compensations_entry_id_ledger_entries")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_compensations_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_compensations_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compensations")),
        sa.UniqueConstraint("ticket_id", name=op.f("uq_compensations_ticket_id")),
    )
    with op.batch_alter_table("compensations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_compensations_member_id"), ["member_id"], unique=False)

    op.create_table(
        "staff_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_staff_alerts_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_alerts")),
        sa.UniqueConstraint("key", name=op.f("uq_staff_alerts_key")),
    )
    with op.batch_alter_table("staff_alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_alerts_ticket_id"), ["ticket_id"], unique=False)

    at = datetime(2026, 1, 1, tzinfo=timezone.utc)
    op.bulk_insert(
        canned,
        [
            dict(key=key, category=category, title_zh=tz, title_en=te, body_zh=bz, body_en=be,
                 active=True, updated_by="system", updated_at=at)
            for key, category, tz, te, bz, be in CANNED
        ],
    )


def downgrade() -> None:
    with op.batch_alter_table("staff_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_alerts_ticket_id"))
    op.drop_table("staff_alerts")
    with op.batch_alter_table("compensations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compensations_member_id"))
    op.drop_table("compensations")
    op.drop_table("canned_replies")
    op.drop_table("api_keys")
    with op.batch_alter_table("staff_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_sessions_staff_id"))
    op.drop_table("staff_sessions")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_assignee")
        batch_op.drop_index("ix_tickets_created")
        batch_op.drop_constraint(
            batch_op.f("fk_tickets_escalated_to_id_staff_users"), type_="foreignkey"
        )
        batch_op.drop_column("resolution_breached_at")
        batch_op.drop_column("response_breached_at")
        batch_op.drop_column("alerted_at")
        batch_op.drop_column("escalated_to_id")
