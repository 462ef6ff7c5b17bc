"""send limits shared by every process: one row per limit (a channel overall, a chat)

Revision ID: 0014
Revises: 0012
"""

from alembic import op
import sqlalchemy as sa


revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "send_limits",
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("next_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_send_limits")),
    )


def downgrade() -> None:
    op.drop_table("send_limits")
