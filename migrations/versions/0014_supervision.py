"""supervisors on live calls: monitoring sessions (listen, coach, barge, audited), escalations
waiting for a free supervisor, and each queue's board alarms (issue 16)

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitoring_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("supervisor_id", sa.Integer(), nullable=False),
        sa.Column("interaction_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("phone", sa.String(length=80), nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=True),
        sa.Column("started_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=40), nullable=False),
        sa.Column("active_supervisor_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["supervisor_id"], ["agents.id"]),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"]),
        sa.ForeignKeyConstraint(["interaction_id"], ["interactions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("active_supervisor_id"),
    )
    op.create_index("ix_monitoring_sessions_supervisor_id", "monitoring_sessions",
                    ["supervisor_id"])
    op.create_index("ix_monitoring_sessions_interaction_id", "monitoring_sessions",
                    ["interaction_id"])
    op.create_index("ix_monitoring_sessions_call_sid", "monitoring_sessions", ["call_sid"])
    op.create_table(
        "escalation_waits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("interaction_id", sa.Integer(), nullable=False),
        sa.Column("from_agent_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deadline", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("settled_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("transfer_id", sa.Integer(), nullable=True),
        sa.Column("open_interaction_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["from_agent_id"], ["agents.id"]),
        sa.ForeignKeyConstraint(["interaction_id"], ["interactions.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["transfer_id"], ["transfers.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("open_interaction_id"),
    )
    op.create_index("ix_escalation_waits_interaction_id", "escalation_waits",
                    ["interaction_id"])
    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.add_column(sa.Column("alert_oldest_wait_seconds", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("alert_service_level_percent", sa.Integer(),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.drop_column("alert_service_level_percent")
        batch_op.drop_column("alert_oldest_wait_seconds")
    op.drop_index("ix_escalation_waits_interaction_id", table_name="escalation_waits")
    op.drop_table("escalation_waits")
    op.drop_index("ix_monitoring_sessions_call_sid", table_name="monitoring_sessions")
    op.drop_index("ix_monitoring_sessions_interaction_id", table_name="monitoring_sessions")
    op.drop_index("ix_monitoring_sessions_supervisor_id", table_name="monitoring_sessions")
    op.drop_table("monitoring_sessions")
