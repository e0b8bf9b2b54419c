"""The clinician report's facts: the plan, its history, and every practice with its
scores, gathered for handlers/render/report.py to put into words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from bot import pose_memory
from bot.models import (
    Goal,
    PracticeStatus,
    StopReason,
)
from bot.practice.machine import EventKind
from bot.programme.core import (
    ProgrammeCore,
    local_day,
    paused_on,
)
from bot.programme.rules import (
    PER_WEEK,
    Change,
    NextDay,
    PauseWhy,
    week_of,
)
from bot.timezones import zone


@dataclass(frozen=True)
class PracticeFacts:
    day: date
    minutes: int
    length: str
    gentle: bool
    plan_stage: int | None
    back_before: int | None
    back_after: int | None
    next_day: NextDay | None
    finished: bool
    stop_reason: StopReason | None
    # Pose titles, each once.
    hurt: tuple[str, ...]
    easier: tuple[str, ...]
    # Every pose in its easier version (a gentle practice, or the plan's first stage).
    all_easier: bool = False


@dataclass(frozen=True)
class ReportFacts:
    name: str
    made_on: date
    zone_name: str
    class_title: str
    goal: Goal | None
    started_on: date | None
    week: int | None
    weeks: int
    stage: int | None
    stages: tuple[str, ...]
    paused: PauseWhy | None
    paused_on: date | None
    # Each change with the user's own day it happened, oldest first.
    history: tuple[tuple[date, Change], ...]
    practices: tuple[PracticeFacts, ...]
    planned: int
    done: int
    hurt_counts: tuple[tuple[str, int], ...]
    easier_counts: tuple[tuple[str, int], ...]
    # Good practices in a row that move the plan up (the class's rules).
    good_needed: int = 2


class Reporting(ProgrammeCore):
    async def report_facts(self, user_id: int) -> ReportFacts | None:
        """Everything the clinician report shows: the plan, its history, and every practice
        the user made (those before the plan too); None when nothing is stored."""
        now = self._clock()
        async with self._store.read() as uow:
            user = await uow.users.get(user_id)
            if user is None:
                return None
            zone_name = await self._zone_name_in(uow, user_id)
            local = zone(zone_name)
            today = local_day(now, local)
            plan = await uow.plans.active(user_id)
            practices = [
                p
                for p in await uow.plans.practices_since(user_id, datetime.min.replace(tzinfo=UTC))
                if p.status in (PracticeStatus.FINISHED, PracticeStatus.STOPPED)
                and p.stop_reason not in (StopReason.REPLACED, StopReason.UNREACHABLE)
            ]
            ids = [p.id for p in practices]
            answers = await uow.plans.next_day_answers(ids)
            marks = await uow.plans.steps_marked(
                ids, (EventKind.HURT, EventKind.EASIER, EventKind.USUAL)
            )
            state = await self.state_in(uow, plan, local) if plan is not None else None
        class_id = plan.class_id if plan is not None else self._default_class_id
        yoga_class = self._catalog.get(class_id)
        programme = self.programme_of(class_id)
        titles = {s.id: s.title for s in yoga_class.steps} if yoga_class else {}
        hurt_counts: dict[str, int] = {}
        easier_counts: dict[str, int] = {}
        rows: list[PracticeFacts] = []
        for p in practices:
            marked = marks.get(p.id, [])
            hurt = tuple(titles.get(s, s) for s, k in marked if k == EventKind.HURT)
            tapped = [s for s, k in marked if k == EventKind.EASIER]
            for pose in tapped:
                easier_counts[titles.get(pose, pose)] = (
                    easier_counts.get(titles.get(pose, pose), 0) + 1
                )
            for pose in hurt:
                hurt_counts[pose] = hurt_counts.get(pose, 0) + 1
            # The poses done in their easier version: chosen with a tap, or shown so from
            # the start (the plan's stage, the pose memory), unless taken back.
            taken_back = {s for s, k in marked if k == EventKind.USUAL}
            from_start = [s for s in pose_memory.unpack(p.easier_from_start) if s not in taken_back]
            steps = [s.id for s in yoga_class.steps_for(p.class_length.value)] if yoga_class else []
            all_easier = p.gentle or (bool(steps) and set(steps) <= set(from_start))
            easier = tuple(titles.get(s, s) for s in dict.fromkeys([*from_start, *tapped]))
            rows.append(
                PracticeFacts(
                    day=local_day(p.started_at, local),
                    minutes=round(p.practised_seconds / 60),
                    length=p.class_length.value,
                    gentle=p.gentle,
                    plan_stage=p.plan_stage,
                    back_before=p.back_before,
                    back_after=p.back_after,
                    next_day=NextDay(answers[p.id]) if p.id in answers else None,
                    finished=p.status == PracticeStatus.FINISHED,
                    stop_reason=p.stop_reason,
                    hurt=hurt,
                    easier=() if all_easier else easier,
                    all_easier=all_easier,
                )
            )
        started_on = date.fromisoformat(plan.started_on) if plan is not None else None
        planned = done = 0
        if plan is not None and started_on is not None:
            days = (today - started_on).days + 1
            planned = max(1, round(PER_WEEK[plan.goal] * days / 7))
            done = sum(1 for r in rows if r.finished and r.day >= started_on)
        return ReportFacts(
            name=user.first_name,
            made_on=today,
            zone_name=zone_name,
            class_title=yoga_class.title if yoga_class else class_id,
            goal=plan.goal if plan is not None else None,
            started_on=started_on,
            week=week_of(started_on, today) if started_on is not None else None,
            weeks=self._weeks(class_id),
            stage=state.stage if state is not None else None,
            stages=tuple(s.title for s in programme.stages) if programme else (),
            paused=state.paused if state is not None else None,
            paused_on=paused_on(state, local) if state is not None else None,
            history=tuple((local_day(c.at, local), c) for c in state.history)
            if state is not None
            else (),
            practices=tuple(rows),
            planned=planned,
            done=done,
            hurt_counts=tuple(sorted(hurt_counts.items(), key=lambda kv: (-kv[1], kv[0]))),
            easier_counts=tuple(sorted(easier_counts.items(), key=lambda kv: (-kv[1], kv[0]))),
            good_needed=programme.rules.good_in_a_row if programme else 2,
        )
