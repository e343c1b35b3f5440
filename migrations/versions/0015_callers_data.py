"""callers' data under control (issue 19): conversation recording per queue and per
interaction, retention per queue, who may hear recordings and see numbers, privacy requests

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

KEEP_DAYS = ("keep_recordings_days", "keep_voicemails_days", "keep_notes_days",
             "keep_identity_days")


def upgrade() -> None:
    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recording_mode", sa.String(length=20), nullable=False,
                                      server_default="off"))
        for name in KEEP_DAYS:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=True))
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recording_policy", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("resolved_first", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("anonymised_at", models.base.UTCDateTime(timezone=True),
                                      nullable=True))
    op.create_table(
        "conversation_recordings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("interaction_id", sa.Integer(), nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("sid", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("media_url", sa.Text(), nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("started_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["interaction_id"], ["interactions.id"],
                                name=op.f("fk_conversation_recordings_interaction_id_interactions"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_recordings")),
        sa.UniqueConstraint("sid", name=op.f("uq_conversation_recordings_sid")),
    )
    with op.batch_alter_table("conversation_recordings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_conversation_recordings_interaction_id"),
                              ["interaction_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_conversation_recordings_status"), ["status"],
                              unique=False)
    op.create_table(
        "role_access",
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("hear_recordings", sa.Boolean(), nullable=False),
        sa.Column("see_numbers", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("role", name=op.f("pk_role_access")),
    )
    op.create_table(
        "privacy_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("masked_number", sa.String(length=20), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_requests")),
    )
    with op.batch_alter_table("privacy_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_privacy_requests_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("privacy_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_privacy_requests_at"))
    op.drop_table("privacy_requests")
    op.drop_table("role_access")
    with op.batch_alter_table("conversation_recordings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversation_recordings_status"))
        batch_op.drop_index(batch_op.f("ix_conversation_recordings_interaction_id"))
    op.drop_table("conversation_recordings")
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.drop_column("anonymised_at")
        batch_op.drop_column("resolved_first")
        batch_op.drop_column("recording_policy")
    with op.batch_alter_table("queues", schema=None) as batch_op:
        for name in reversed(KEEP_DAYS):
            batch_op.drop_column(name)
        batch_op.drop_column("recording_mode")
