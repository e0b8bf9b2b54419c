"""The file_id Telegram gave each uploaded pose picture, so it is uploaded once per bot."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
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
        # A merge: two first sends of the same picture at once both land on one row.
        await self._db.merge(UploadedPicture(key=key, file_id=file_id, uploaded_at=now))
        await self._db.flush()

    async def forget(self, key: str) -> None:
        await self._db.execute(delete(UploadedPicture).where(UploadedPicture.key == key))
