"""languages (issue 18): each queue's language, voice, the languages its callers may choose
and its admin-written texts per language; a holiday's message per language; the language of
each call, callback and known caller

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("voice", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("languages", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("texts", sa.JSON(), nullable=True))
    with op.batch_alter_table("holidays", schema=None) as batch_op:
        batch_op.add_column(sa.Column("messages", sa.JSON(), nullable=True))
    for table in ("interactions", "callers"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("language", sa.String(length=16), nullable=True))
    with op.batch_alter_table("callbacks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=16), nullable=True))
        batch_op.alter_column("promised_words", existing_type=sa.String(length=80),
                              type_=sa.String(length=160), existing_nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("callbacks", schema=None) as batch_op:
        batch_op.alter_column("promised_words", existing_type=sa.String(length=160),
                              type_=sa.String(length=80), existing_nullable=True)
        batch_op.drop_column("language")
    for table in ("callers", "interactions"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("language")
    with op.batch_alter_table("holidays", schema=None) as batch_op:
        batch_op.drop_column("messages")
    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.drop_column("texts")
        batch_op.drop_column("languages")
        batch_op.drop_column("voice")
        batch_op.drop_column("language")
