"""who is uploading each pose picture, so that it is uploaded once per bot

A row of uploaded_pictures may now be a claim before it holds a file_id: the worker that
took it (claimed_by) uploads the picture, the others wait for its id until claimed_until.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("uploaded_pictures", schema=None) as batch_op:
        batch_op.alter_column("file_id", existing_type=sa.String(length=256), nullable=True)
        batch_op.alter_column(
            "uploaded_at", existing_type=sa.DateTime(timezone=True), nullable=True
        )
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # Claims are only in flight: a row without a file_id is not worth keeping.
    op.execute("DELETE FROM uploaded_pictures WHERE file_id IS NULL")
    with op.batch_alter_table("uploaded_pictures", schema=None) as batch_op:
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("claimed_by")
        batch_op.alter_column(
            "uploaded_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )
        batch_op.alter_column("file_id", existing_type=sa.String(length=256), nullable=False)
