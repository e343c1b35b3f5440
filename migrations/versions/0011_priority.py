"""priority where the admin wants it: a per-queue age bonus for VIP callers and overdue
callbacks, and the caller directory's VIP flag (issue 14)

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.add_column(sa.Column("priority_bonus_seconds", sa.Integer(), nullable=False,
                                      server_default="0"))
    with op.batch_alter_table("callers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("vip", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("callers", schema=None) as batch_op:
        batch_op.drop_column("vip")
    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.drop_column("priority_bonus_seconds")
