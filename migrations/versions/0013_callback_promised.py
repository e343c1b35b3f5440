"""what a callback's customer was told at booking: the words, and the interval they stand for
(issue 14: the callback's own promise is measured)

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("callbacks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("promised_from", models.base.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("promised_by", models.base.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("promised_words", sa.String(length=80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("callbacks", schema=None) as batch_op:
        batch_op.drop_column("promised_words")
        batch_op.drop_column("promised_by")
        batch_op.drop_column("promised_from")
