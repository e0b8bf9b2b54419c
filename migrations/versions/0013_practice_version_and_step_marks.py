"""a version on each practice, and its current step's toggle and pain on the row

Every change to a practice is now one conditional update on its version: the change is
written only onto the state it was decided from. The current step's last Easier option /
Usual version and whether it hurt, needed to draw its cue, are kept on the row instead of
being read back from the step events on every press; open practices get them from their
events here.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("practice_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("step_toggle", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("step_hurt", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # Open practices (the only ones whose cue is still drawn) take them from their events.
    op.execute(
        """
        UPDATE practice_sessions SET
          step_toggle = (
            SELECT e.kind FROM step_events e
            WHERE e.session_id = practice_sessions.id
              AND e.step_index = practice_sessions.current_step
              AND e.kind IN ('easier', 'usual')
            ORDER BY e.id DESC LIMIT 1),
          step_hurt = EXISTS (
            SELECT 1 FROM step_events e
            WHERE e.session_id = practice_sessions.id
              AND e.step_index = practice_sessions.current_step
              AND e.kind = 'hurt')
        WHERE status IN ('active', 'paused')
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("practice_sessions", schema=None) as batch_op:
        batch_op.drop_column("step_hurt")
        batch_op.drop_column("step_toggle")
        batch_op.drop_column("version")
