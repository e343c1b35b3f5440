"""callback attempts record who answered the customer's phone (issue 13 item 8)

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("callback_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("answered_by", sa.String(length=24), nullable=False,
                                      server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("callback_attempts", schema=None) as batch_op:
        batch_op.drop_column("answered_by")
