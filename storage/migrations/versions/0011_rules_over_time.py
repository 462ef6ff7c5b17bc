"""rules over time: yearly tier evaluations, append-only tables enforced by triggers

Revision ID: 0011
Revises: 0014

The database itself refuses to rewrite history: UPDATE and DELETE on the ledger's entries
and lot allocations, consent events and tier evaluations raise. Ticket and audit events
refuse DELETE and any UPDATE except of their free-text columns (body, data), which a
personal-data erasure blanks (PIPL); who, what and when stay.
"""

from alembic import op
import sqlalchemy as sa


revision = "0011"
down_revision = "0014"
branch_labels = None
depends_on = None

APPEND_ONLY = ["ledger_entries", "lot_allocations", "consent_events", "tier_evaluations"]
# table -> the columns that must never change (the free-text ones may be erased)
REDACTABLE = {
    "ticket_events": ["id", "ticket_id", "kind", "actor", "created_at"],
    "audit_events": ["id", "actor", "action", "entity", "entity_id", "created_at"],
}


def _sqlite_triggers() -> None:
    for table in APPEND_ONLY:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {verb} refused'); END"
            )
    for table, fixed in REDACTABLE.items():
        op.execute(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: DELETE refused'); END"
        )
        changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in fixed)
        op.execute(
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} WHEN {changed} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused'); END"
        )


def _postgres_triggers() -> None:
    op.execute(
        """
        CREATE FUNCTION refuse_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'restrict_violation';
        END $$
        """
    )
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION refuse_rewrite()"
        )
    for table, fixed in REDACTABLE.items():
        op.execute(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION refuse_rewrite()"
        )
        changed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in fixed)
        op.execute(
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
            f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION refuse_rewrite()"
        )


def upgrade() -> None:
    op.create_table(
        "tier_evaluations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("tier_before", sa.String(length=20), nullable=False),
        sa.Column("tier_after", sa.String(length=20), nullable=False),
        sa.Column("earned", sa.Integer(), nullable=False),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_tier_evaluations_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tier_evaluations")),
        sa.UniqueConstraint("member_id", "year", name=op.f("uq_tier_evaluations_member_id_year")),
    )
    if op.get_bind().dialect.name == "postgresql":
        _postgres_triggers()
    else:
        _sqlite_triggers()


def downgrade() -> None:
    tables = [*APPEND_ONLY, *REDACTABLE]
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        for table in REDACTABLE:
            for name in ("no_delete", "no_update"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_{name} ON {table}")
    else:
        for table in tables:
            for name in ("no_delete", "no_update"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_{name}")
    op.drop_table("tier_evaluations")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS refuse_rewrite()")
