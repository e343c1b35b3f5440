"""callbacks only when they may be placed: customers' quiet hours per queue, held callbacks
(issue 14)

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("callback_policies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quiet_starts", sa.Time(), nullable=False,
                                      server_default="21:00:00"))
        batch_op.add_column(sa.Column("quiet_ends", sa.Time(), nullable=False,
                                      server_default="08:00:00"))
    with op.batch_alter_table("callbacks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("held_for", models.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("callbacks", schema=None) as batch_op:
        batch_op.drop_column("held_for")
    with op.batch_alter_table("callback_policies", schema=None) as batch_op:
        batch_op.drop_column("quiet_ends")
        batch_op.drop_column("quiet_starts")
