"""an index for the deadline sweep: active practices by the end of their hold

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 02:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_practice_sessions_deadline", "practice_sessions", ["status", "hold_ends_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_practice_sessions_deadline", table_name="practice_sessions")
