"""What the player's page is sent: one JSON object per screen, facts only (the page holds
its own words, except the class's and the safety screen's, which every surface shares).
The shapes are the API's contract, described in the README ("The player")."""

from __future__ import annotations

from typing import Any

from bot.cues import Summary
from bot.emergency import EmergencyNumber, whom_to_call
from bot.practice.service import PlayerCue
from bot.safety import EMERGENCY_SIGNS, OTHER_SIGNS, Gate
from bot.uploads import Media
from sequences import YogaClass

View = dict[str, Any]


def media_url(media: Media | None) -> str | None:
    """Relative to the page: its pictures and spoken cues are served beside it."""
    return None if media is None else f"media/{media.key}"


def practice(shown: PlayerCue) -> View:
    cue = shown.cue
    pose = cue.pose
    return {
        "screen": "practice",
        "practice": cue.practice_id,
        "version": shown.version,
        "step": cue.step,
        "total": cue.total,
        "status": shown.status.value,
        "question": None if shown.question is None else shown.question.value,
        "title": pose.title,
        "sanskrit": pose.sanskrit,
        "bridge": cue.bridge,
        "lines": list(pose.cues),
        "easier": {
            "shown": cue.easier_shown,
            "text": pose.easier,
            "can_take_back": shown.can_take_back,
        },
        "hold": round(shown.hold, 3),
        "left": round(shown.left, 3),
        "picture": media_url(cue.picture),
        "sound": media_url(cue.sound),
        "next": None if cue.following is None else cue.following.title,
        "last": cue.last,
    }


def in_chat(shown: PlayerCue) -> View:
    cue = shown.cue
    return {
        "screen": "in_chat",
        "practice": cue.practice_id,
        "step": cue.step,
        "total": cue.total,
        "title": cue.pose.title,
    }


def start(yoga_class: YogaClass, minutes: int, poses: int) -> View:
    return {"screen": "start", "class_title": yoga_class.title, "minutes": minutes, "poses": poses}


def safety() -> View:
    return {
        "screen": "safety",
        "emergency_signs": list(EMERGENCY_SIGNS),
        "other_signs": list(OTHER_SIGNS),
    }


def no_class(reason: str, emergency: EmergencyNumber | None = None) -> View:
    """No class today: `urgent` (with whom to call), `see_clinician`, `rest_day`, `not_today`."""
    return {
        "screen": "no_class",
        "reason": reason,
        "call": None if emergency is None else whom_to_call(emergency),
    }


def checkin() -> View:
    return {"screen": "checkin"}


def gate(decision: Gate, score: int | None) -> View:
    return {"screen": "gate", "gate": decision.value, "score": score}


def summary(facts: Summary) -> View:
    return {
        "screen": "summary",
        "status": facts.status.value,
        "minutes": facts.minutes,
        "poses_done": facts.poses_done,
        "total_poses": facts.total_poses,
        "easier_used": facts.easier_used,
        # Finished in well under its holds' time (tapped through), and what it takes.
        "rushed": facts.rushed,
        "planned_minutes": facts.planned_minutes,
        "stop_reason": None if facts.stop_reason is None else facts.stop_reason.value,
    }
