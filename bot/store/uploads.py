"""The file_id Telegram gave each uploaded pose picture, so it is uploaded once per bot, and
who is uploading a picture that has none yet.

A picture without a file_id is claimed before it is uploaded: one row per picture, taken
with an insert that does nothing on conflict (the primary key settles a race: on
PostgreSQL the second insert waits for the first's transaction, then finds the row), or,
once the claim has lapsed (its worker died or gave up), with one conditional update. So
exactly one worker uploads; the others read the row until it holds the id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Insert, delete, or_, select, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.database import changed_rows
from bot.models import UploadedPicture


@dataclass(frozen=True)
class UploadClaim:
    """What a claim found: the picture's id, or that the caller won it, or neither (another
    worker uploads it until `until`; None: nobody, the row went meanwhile)."""

    file_id: str | None = None
    won: bool = False
    until: datetime | None = None


class UploadRepository:
    def __init__(self, db: AsyncSession) -> None:
        self._db = db

    async def file_id(self, key: str) -> str | None:
        return await self._db.scalar(
            select(UploadedPicture.file_id).where(UploadedPicture.key == key)
        )

    async def look(self, key: str) -> UploadClaim:
        """The picture's id, or until when another worker's claim on it holds."""
        row = (
            await self._db.execute(
                select(UploadedPicture.file_id, UploadedPicture.claimed_until).where(
                    UploadedPicture.key == key
                )
            )
        ).one_or_none()
        if row is None:
            return UploadClaim()
        return UploadClaim(file_id=row.file_id, until=row.claimed_until)

    async def claim(self, key: str, by: str, now: datetime, until: datetime) -> UploadClaim:
        """Take the picture to upload it (`by` until `until`), unless it has an id or
        another worker's claim still holds at `now`."""
        inserted = await self._db.execute(self._insert_if_new(key, by, until))
        if changed_rows(inserted) == 1:
            return UploadClaim(won=True)
        taken_over = await self._db.execute(
            update(UploadedPicture)
            .where(
                UploadedPicture.key == key,
                UploadedPicture.file_id.is_(None),
                or_(UploadedPicture.claimed_until.is_(None), UploadedPicture.claimed_until <= now),
            )
            .values(claimed_by=by, claimed_until=until)
        )
        if changed_rows(taken_over) == 1:
            return UploadClaim(won=True)
        return await self.look(key)

    async def renew(self, key: str, by: str, until: datetime) -> bool:
        """Hold `by`'s claim until `until`; False if it is no longer `by`'s."""
        renewed = await self._db.execute(
            update(UploadedPicture)
            .where(
                UploadedPicture.key == key,
                UploadedPicture.claimed_by == by,
                UploadedPicture.file_id.is_(None),
            )
            .values(claimed_until=until)
        )
        return changed_rows(renewed) == 1

    async def release(self, key: str, by: str) -> None:
        """`by`'s upload failed: the next worker to look claims the picture at once."""
        await self._db.execute(
            delete(UploadedPicture).where(
                UploadedPicture.key == key,
                UploadedPicture.claimed_by == by,
                UploadedPicture.file_id.is_(None),
            )
        )

    async def remember(self, key: str, file_id: str, now: datetime) -> None:
        # A merge: the row is most often this worker's claim. A worker whose claim had
        # lapsed may land here after the one that took it over: either id serves the
        # picture. Without a row (a database that lost it), both may insert: the later one
        # then updates it instead.
        values = {"file_id": file_id, "uploaded_at": now, "claimed_by": None, "claimed_until": None}
        try:
            async with self._db.begin_nested():
                await self._db.merge(UploadedPicture(key=key, **values))
                await self._db.flush()
        except IntegrityError:
            await self._db.execute(
                update(UploadedPicture).where(UploadedPicture.key == key).values(**values)
            )

    async def forget(self, key: str, file_id: str) -> None:
        """Telegram refused `file_id`: forgotten, unless another worker already replaced it
        with a fresh one (which is kept)."""
        await self._db.execute(
            delete(UploadedPicture).where(
                UploadedPicture.key == key, UploadedPicture.file_id == file_id
            )
        )

    def _insert_if_new(self, key: str, by: str, until: datetime) -> Insert:
        dialect = self._db.get_bind().dialect.name
        values = {"key": key, "claimed_by": by, "claimed_until": until}
        if dialect == "postgresql":
            # Imported here: a bot on SQLite never loads this dialect (some 2 MB resident).
            from sqlalchemy.dialects import postgresql

            return postgresql.insert(UploadedPicture).values(values).on_conflict_do_nothing()
        return sqlite.insert(UploadedPicture).values(values).on_conflict_do_nothing()
