"""the red-flag screen, gentle practices, questions a practice asks, and why it stopped

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("feedback_prompt_message_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("screen_answer", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("screened_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("practice_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("gentle", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("easier_from_start", sa.Text(), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("question", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("stop_reason", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("practice_sessions", schema=None) as batch_op:
        batch_op.drop_column("stop_reason")
        batch_op.drop_column("question")
        batch_op.drop_column("easier_from_start")
        batch_op.drop_column("gentle")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("screened_at")
        batch_op.drop_column("screen_answer")
        batch_op.drop_column("feedback_prompt_message_id")
