"""every user's chat is their private chat again

A tap or a command in a group once recorded the group as a user's chat, so their
reminders and cues went to the group. The bot now works in private chats only, whose id is
the user's own (Telegram gives a private chat its user's id): move any such user, and
their reminder, back. A practice begun in a group ends, as one in a chat the bot cannot
reach does (its buttons there answer nobody now, and its closing message is not sent
there); the user starts afresh in private.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("UPDATE users SET chat_id = id WHERE chat_id <> id")
    op.execute("UPDATE reminders SET chat_id = user_id WHERE chat_id <> user_id")
    op.execute(
        "UPDATE practice_sessions SET status = 'stopped', stop_reason = 'unreachable',"
        " finished_at = CURRENT_TIMESTAMP, summary_pending = false"
        " WHERE chat_id <> user_id AND (status IN ('active', 'paused') OR summary_pending)"
    )


def downgrade() -> None:
    # Which group a user was bound to is not kept: nothing to put back.
    pass
