"""presence: not-ready reasons (admin list, seeded), agents' current not-ready reason, and
one row per spell in a state (issue 15), for the board and the reports

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

DEFAULT_REASONS = ("Break", "Lunch", "Training", "Meeting")


def upgrade() -> None:
    reasons = op.create_table(
        "not_ready_reasons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.bulk_insert(reasons, [{"name": name, "position": n, "active": True}
                             for n, name in enumerate(DEFAULT_REASONS)])
    op.create_table(
        "presence_spells",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=60), nullable=False),
        sa.Column("started_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_presence_spells_agent_id", "presence_spells", ["agent_id"])
    op.create_index("ix_presence_spells_started_at", "presence_spells", ["started_at"])
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("not_ready_reason", sa.String(length=60), nullable=False,
                                      server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_column("not_ready_reason")
    op.drop_index("ix_presence_spells_started_at", table_name="presence_spells")
    op.drop_index("ix_presence_spells_agent_id", table_name="presence_spells")
    op.drop_table("presence_spells")
    op.drop_table("not_ready_reasons")
