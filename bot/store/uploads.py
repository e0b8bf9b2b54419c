"""The file_id Telegram gave each uploaded pose picture, so it is uploaded once per bot."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import UploadedPicture


class UploadRepository:
    def __init__(self, db: AsyncSession) -> None:
        self._db = db

    async def file_id(self, key: str) -> str | None:
        return await self._db.scalar(
            select(UploadedPicture.file_id).where(UploadedPicture.key == key)
        )

    async def remember(self, key: str, file_id: str, now: datetime) -> None:
        # A merge: two first sends of the same picture at once both land on one row. Across
        # workers both may find no row and insert: the later one then updates it instead
        # (either id serves the picture).
        try:
            async with self._db.begin_nested():
                await self._db.merge(UploadedPicture(key=key, file_id=file_id, uploaded_at=now))
                await self._db.flush()
        except IntegrityError:
            await self._db.execute(
                update(UploadedPicture)
                .where(UploadedPicture.key == key)
                .values(file_id=file_id, uploaded_at=now)
            )

    async def forget(self, key: str) -> None:
        await self._db.execute(delete(UploadedPicture).where(UploadedPicture.key == key))
