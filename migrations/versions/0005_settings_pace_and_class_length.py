"""settings (class length, pace, easier options) and what each practice started with

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("class_length", sa.String(length=16), nullable=False, server_default="full")
        )
        batch_op.add_column(
            sa.Column("pace", sa.String(length=16), nullable=False, server_default="normal")
        )
        batch_op.add_column(
            sa.Column(
                "easier_mode", sa.String(length=16), nullable=False, server_default="remembered"
            )
        )
        batch_op.add_column(
            sa.Column(
                "slow_pace_suggested", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    with op.batch_alter_table("practice_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("class_length", sa.String(length=16), nullable=False, server_default="full")
        )
        batch_op.add_column(
            sa.Column("pace_factor", sa.Float(), nullable=False, server_default="1.0")
        )
        batch_op.add_column(
            sa.Column("extra_seconds", sa.Float(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("practice_sessions", schema=None) as batch_op:
        batch_op.drop_column("extra_seconds")
        batch_op.drop_column("pace_factor")
        batch_op.drop_column("class_length")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("slow_pace_suggested")
        batch_op.drop_column("easier_mode")
        batch_op.drop_column("pace")
        batch_op.drop_column("class_length")
