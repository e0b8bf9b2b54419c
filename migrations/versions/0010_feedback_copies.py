"""where each feedback note's copy went in the team's chat, so /forget_me can delete it

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Notes forwarded before this revision keep NULL: their copies were never recorded.
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.add_column(sa.Column("copy_chat_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("copy_message_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_column("copy_message_id")
        batch_op.drop_column("copy_chat_id")
