"""desk operations: points debt, voucher use at the till, extension tickets, key scopes,
erased members

Revision ID: 0012
Revises: 0005
"""

from alembic import op
import sqlalchemy as sa


revision = "0012"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("points_accounts") as batch:
        batch.add_column(sa.Column("debt", sa.Integer(), nullable=False, server_default="0"))
        batch.create_check_constraint(op.f("ck_points_accounts_debt_not_negative"), "debt >= 0")
    with op.batch_alter_table("ledger_entries") as batch:
        batch.add_column(sa.Column("debt", sa.Integer(), nullable=True))
    with op.batch_alter_table("vouchers") as batch:
        batch.add_column(sa.Column("used_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("used_order_id", sa.String(40), nullable=True))
        batch.add_column(sa.Column("used_store", sa.String(100), nullable=True))
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("voucher_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_tickets_voucher_id_vouchers", "vouchers", ["voucher_id"], ["id"]
        )
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("scopes", sa.JSON(), nullable=True))
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.drop_column("erased_at")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("scopes")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_constraint("fk_tickets_voucher_id_vouchers", type_="foreignkey")
        batch.drop_column("voucher_id")
    with op.batch_alter_table("vouchers") as batch:
        batch.drop_column("used_store")
        batch.drop_column("used_order_id")
        batch.drop_column("used_at")
    with op.batch_alter_table("ledger_entries") as batch:
        batch.drop_column("debt")
    with op.batch_alter_table("points_accounts") as batch:
        batch.drop_constraint(op.f("ck_points_accounts_debt_not_negative"), type_="check")
        batch.drop_column("debt")
