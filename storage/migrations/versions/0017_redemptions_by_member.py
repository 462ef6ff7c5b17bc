"""redemptions indexed by member, benefit and time, not by benefit alone

A redemption counts the member's redemptions of the benefit this month. With an index on
the benefit alone, PostgreSQL's generic plan could read every redemption of a popular
benefit each time (bench/RESULTS.md, issue 14).

Revision ID: 0017
Revises: 0016
"""

from alembic import op


revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_redemptions_member_benefit_time",
        "redemptions",
        ["member_id", "benefit_id", "created_at"],
    )
    op.drop_index("ix_redemptions_member_id", table_name="redemptions")
    op.drop_index("ix_redemptions_benefit_id", table_name="redemptions")


def downgrade() -> None:
    op.create_index("ix_redemptions_benefit_id", "redemptions", ["benefit_id"])
    op.create_index("ix_redemptions_member_id", "redemptions", ["member_id"])
    op.drop_index("ix_redemptions_member_benefit_time", table_name="redemptions")
