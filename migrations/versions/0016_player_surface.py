"""the player: where a practice is followed, its note in the chat, and the player's heartbeat

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMNs, on SQLite too: constant defaults need no copy of the table.
    op.add_column(
        "practice_sessions",
        sa.Column("surface", sa.String(length=16), nullable=False, server_default="chat"),
    )
    op.add_column("practice_sessions", sa.Column("note_message_id", sa.BigInteger()))
    op.add_column(
        "practice_sessions",
        sa.Column("away", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("practice_sessions", sa.Column("player_seen_at", sa.DateTime(timezone=True)))
    op.create_index("ix_practice_sessions_surface", "practice_sessions", ["surface", "status"])


def downgrade() -> None:
    op.drop_index("ix_practice_sessions_surface", table_name="practice_sessions")
    with op.batch_alter_table("practice_sessions", schema=None) as batch_op:
        for column in ("player_seen_at", "away", "note_message_id", "surface"):
            batch_op.drop_column(column)
