"""callback slots: a callback booked for an open slot (issue 3)

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("callbacks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("slot_start", models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("slot_end", models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_callbacks_slot_start"), ["slot_start"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("callbacks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_callbacks_slot_start"))
        batch_op.drop_column("slot_end")
        batch_op.drop_column("slot_start")
