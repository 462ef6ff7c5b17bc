"""who has a ticket open: one row per open ticket page, refreshed by its event stream

Revision ID: 0015
Revises: 0010
"""

from alembic import op
import sqlalchemy as sa


revision = "0015"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_viewers",
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_viewers_ticket_id_tickets")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_users.id"], name=op.f("fk_ticket_viewers_staff_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_ticket_viewers")),
    )
    op.create_index(
        op.f("ix_ticket_viewers_ticket_id"), "ticket_viewers", ["ticket_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_ticket_viewers_ticket_id"), table_name="ticket_viewers")
    op.drop_table("ticket_viewers")
