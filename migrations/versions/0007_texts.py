"""texts: each text sent with its delivery status, and opt-outs (issue 13, items 1 and 9)

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "text_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("callback_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("sid", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["callback_id"], ["callbacks.id"],
                                name=op.f("fk_text_messages_callback_id_callbacks")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_messages")),
        sa.UniqueConstraint("key", name=op.f("uq_text_messages_key")),
        sa.UniqueConstraint("sid", name=op.f("uq_text_messages_sid")),
    )
    with op.batch_alter_table("text_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_text_messages_callback_id"), ["callback_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_text_messages_number"), ["number"], unique=False)
        batch_op.create_index(batch_op.f("ix_text_messages_status"), ["status"], unique=False)
    op.create_table(
        "text_opt_outs",
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_text_opt_outs")),
    )


def downgrade() -> None:
    op.drop_table("text_opt_outs")
    with op.batch_alter_table("text_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_text_messages_status"))
        batch_op.drop_index(batch_op.f("ix_text_messages_number"))
        batch_op.drop_index(batch_op.f("ix_text_messages_callback_id"))
    op.drop_table("text_messages")
