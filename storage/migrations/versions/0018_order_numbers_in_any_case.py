"""order numbers found in any case

Order numbers are case-insensitive: new ones are kept in upper case, and a purchase is
found by the upper case of its order number, so that the rows written before (in the case
the till typed) keep their idempotency. Only an index is added: the ledger's rows are never
rewritten (migration 0011), and an order that earned twice under two cases stays as it was.

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op


revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_ledger_order_upper", "ledger_entries", [sa.text("upper(order_id)")])


def downgrade() -> None:
    op.drop_index("ix_ledger_order_upper", table_name="ledger_entries")
