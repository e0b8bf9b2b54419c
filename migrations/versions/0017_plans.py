"""plans over weeks: the plan, its events, and the stage each practice ran at

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 22:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("class_id", sa.String(length=64), nullable=False),
        sa.Column("goal", sa.String(length=16), nullable=False),
        sa.Column("days", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_on", sa.String(length=10), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary_day", sa.Integer(), nullable=False, server_default="6"),
        sa.Column("next_day_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_day_practice_id", sa.Integer(), nullable=True),
        sa.Column("summary_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("quiet_weeks", sa.Integer(), nullable=False, server_default="0"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_index("ix_plans_next_day_due", "plans", ["next_day_due_at"])
    op.create_index("ix_plans_summary_due", "plans", ["summary_due_at"])
    op.create_table(
        "programme_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=True),
        sa.Column("value", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["practice_id"], ["practice_sessions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_programme_events_user_at", "programme_events", ["user_id", "at"])
    op.create_index(
        "ux_programme_events_practice_kind",
        "programme_events",
        ["practice_id", "kind"],
        unique=True,
    )
    op.add_column("practice_sessions", sa.Column("plan_stage", sa.Integer()))


def downgrade() -> None:
    with op.batch_alter_table("practice_sessions", schema=None) as batch_op:
        batch_op.drop_column("plan_stage")
    op.drop_index("ux_programme_events_practice_kind", table_name="programme_events")
    op.drop_index("ix_programme_events_user_at", table_name="programme_events")
    op.drop_table("programme_events")
    op.drop_index("ix_plans_summary_due", table_name="plans")
    op.drop_index("ix_plans_next_day_due", table_name="plans")
    op.drop_table("plans")
