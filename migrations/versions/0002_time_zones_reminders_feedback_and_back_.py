"""time zones, reminders, feedback and back check-ins

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 15:39:10.930877
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reminders",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("minute", sa.Integer(), nullable=False),
        sa.Column("days", sa.String(length=32), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_for", sa.String(length=10), nullable=True),
        sa.Column("repeat_of", sa.String(length=10), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id"),
    )
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.create_index("ix_reminders_due", ["enabled", "next_due_at"], unique=False)

    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("class_id", sa.String(length=64), nullable=True),
        sa.Column("step_index", sa.Integer(), nullable=True),
        sa.Column("step_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["session_id"], ["practice_sessions.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.create_index("ix_feedback_user_created", ["user_id", "created_at"], unique=False)

    with op.batch_alter_table("practice_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("back_before", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("back_after", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("checkin_message_id", sa.BigInteger(), nullable=True))
        batch_op.create_index(
            "ux_practice_sessions_checkin", ["chat_id", "checkin_message_id"], unique=True
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("awaiting_feedback_since", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("awaiting_feedback_since")
        batch_op.drop_column("timezone")

    with op.batch_alter_table("practice_sessions", schema=None) as batch_op:
        batch_op.drop_index("ux_practice_sessions_checkin")
        batch_op.drop_column("checkin_message_id")
        batch_op.drop_column("back_after")
        batch_op.drop_column("back_before")

    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_user_created")

    op.drop_table("feedback")
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.drop_index("ix_reminders_due")

    op.drop_table("reminders")
