"""channels: inbound claims, shared channel tokens, offered menus

Revision ID: 0003
Revises: 0002
"""

from alembic import op
import sqlalchemy as sa


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_claims",
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "key", name=op.f("pk_inbound_claims")),
    )
    with op.batch_alter_table("inbound_claims", schema=None) as batch_op:
        batch_op.create_index("ix_inbound_claims_time", ["claimed_at"], unique=False)
    op.create_table(
        "channel_tokens",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_channel_tokens")),
    )
    op.create_table(
        "channel_menus",
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("buttons", sa.JSON(), nullable=False),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "external_id", name=op.f("pk_channel_menus")),
    )


def downgrade() -> None:
    op.drop_table("channel_menus")
    op.drop_table("channel_tokens")
    with op.batch_alter_table("inbound_claims", schema=None) as batch_op:
        batch_op.drop_index("ix_inbound_claims_time")
    op.drop_table("inbound_claims")
