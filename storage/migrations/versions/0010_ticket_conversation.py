"""tickets keep talking: when the member last wrote on a ticket (the queue's marker), and
an index to find a chat's tickets on every message

Revision ID: 0010
Revises: 0013
"""

from alembic import op
import sqlalchemy as sa


revision = "0010"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("member_wrote_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_tickets_identity", ["identity_id", "status"])


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index("ix_tickets_identity")
        batch.drop_column("member_wrote_at")
