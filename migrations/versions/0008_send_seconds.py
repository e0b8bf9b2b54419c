"""the bot's sends per second, counted for every worker together

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 02:35:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "send_seconds",
        sa.Column("second", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("second"),
    )


def downgrade() -> None:
    op.drop_table("send_seconds")
