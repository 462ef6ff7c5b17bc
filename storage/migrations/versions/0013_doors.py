"""doors: signed requests seen (WeChat replay refusal) and failed guesses (lockouts)

Revision ID: 0013
Revises: 0011
"""

from alembic import op
import sqlalchemy as sa


revision = "0013"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signed_requests",
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.Column("body_digest", sa.String(length=64), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "signature", name=op.f("pk_signed_requests")),
    )
    op.create_index("ix_signed_requests_time", "signed_requests", ["seen_at"], unique=False)
    op.create_table(
        "failed_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_failed_attempts")),
    )
    op.create_index(
        "ix_failed_attempts_subject", "failed_attempts", ["scope", "subject", "at"], unique=False
    )
    op.create_index("ix_failed_attempts_time", "failed_attempts", ["at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_failed_attempts_time", table_name="failed_attempts")
    op.drop_index("ix_failed_attempts_subject", table_name="failed_attempts")
    op.drop_table("failed_attempts")
    op.drop_index("ix_signed_requests_time", table_name="signed_requests")
    op.drop_table("signed_requests")
