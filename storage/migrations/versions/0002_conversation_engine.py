"""conversation engine: re-ask and confirmation state, language guess, reply links

Revision ID: 0002
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversation_states", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reasks", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("confirmation", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("confirmed", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("messages_in", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("language_chosen", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("message_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reply_to_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("buttons", sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f("ix_message_log_reply_to_id"), ["reply_to_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_message_log_reply_to_id_message_log"), "message_log",
            ["reply_to_id"], ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("message_log", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_message_log_reply_to_id_message_log"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_message_log_reply_to_id"))
        batch_op.drop_column("buttons")
        batch_op.drop_column("reply_to_id")
    with op.batch_alter_table("conversation_states", schema=None) as batch_op:
        batch_op.drop_column("language_chosen")
        batch_op.drop_column("messages_in")
        batch_op.drop_column("confirmed")
        batch_op.drop_column("confirmation")
        batch_op.drop_column("reasks")
