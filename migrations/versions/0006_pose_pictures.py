"""pose pictures: the file_id of each uploaded picture, and the Pictures setting (per user,
and as each practice started)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 00:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "uploaded_pictures",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("file_id", sa.String(length=256), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    for table in ("users", "practice_sessions"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("pictures", sa.Boolean(), nullable=False, server_default=sa.true())
            )


def downgrade() -> None:
    for table in ("practice_sessions", "users"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("pictures")
    op.drop_table("uploaded_pictures")
