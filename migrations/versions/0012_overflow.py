"""optional overflow: after N seconds waiting an entry may also be taken by the agents of a
named overflow queue (issue 14)

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.add_column(sa.Column("overflow_queue", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("overflow_after_seconds", sa.Integer(), nullable=False,
                                      server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.drop_column("overflow_after_seconds")
        batch_op.drop_column("overflow_queue")
