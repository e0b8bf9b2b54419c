"""A user's own data: their history as one CSV file, and deleting all of it."""

from __future__ import annotations

import csv
import io

from bot.models import EventKind
from bot.progress import STATUS_WORDS, class_title, pose_title
from bot.store import UserStore
from bot.timezones import user_zone
from sequences import YogaClass

COLUMNS = [
    "kind",
    "at",
    "class",
    "pose",
    "status",
    "minutes",
    "poses_done",
    "easier_used",
    "back_before",
    "back_after",
    "text",
]


class UserDataService:
    def __init__(
        self, store: UserStore, catalog: dict[str, YogaClass], default_timezone: str
    ) -> None:
        self._store = store
        self._catalog = catalog
        self._default_zone = default_timezone

    async def history_csv(self, user_id: int) -> bytes | None:
        """Practices, then feedback, each oldest first, times in the user's zone; None
        when nothing is stored about the user."""
        user = await self._store.user(user_id)
        if user is None:
            return None
        zone = user_zone(user.timezone, self._default_zone)
        counts = await self._store.event_counts_of(user_id)
        rows: list[dict[str, object]] = []
        for s in await self._store.sessions_of(user_id):
            rows.append(
                {
                    "kind": "practice",
                    "at": s.started_at.astimezone(zone).isoformat(timespec="minutes"),
                    "class": class_title(self._catalog, s.class_id),
                    "status": STATUS_WORDS[s.status],
                    "minutes": round(s.practised_seconds / 60, 1),
                    "poses_done": counts.get((s.id, EventKind.SHOWN), 0),
                    "easier_used": counts.get((s.id, EventKind.EASIER), 0),
                    "back_before": s.back_before,
                    "back_after": s.back_after,
                }
            )
        for f in await self._store.feedback_of(user_id):
            pose = pose_title(self._catalog, f.class_id, f.step_id) if f.class_id else None
            rows.append(
                {
                    "kind": "feedback",
                    "at": f.created_at.astimezone(zone).isoformat(timespec="minutes"),
                    "class": class_title(self._catalog, f.class_id) if f.class_id else None,
                    "pose": pose if f.step_id else None,
                    "text": f.text,
                }
            )
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
        # The BOM lets spreadsheet apps detect UTF-8, so names and emoji open intact.
        return out.getvalue().encode("utf-8-sig")

    async def forget(self, user_id: int) -> list[int] | None:
        """Delete everything about the user; the sessions whose timers must stop, or None
        when nothing was stored."""
        return await self._store.forget(user_id)
