"""Two shapes a spoken cue could take in the chat, and the silent cue of today, measured at
the Bot API emulator over the whole seed class.

Telegram edits a photo or an audio in place (editMessageMedia) but never a voice note, so:

- **audio** (the shape yogabot uses): each cue one sendAudio (the words as its caption, its
  buttons, the pose picture as its cover); the easier version swapped in place with one
  editMessageMedia;
- **voice + photo**: each cue a photo (words, buttons) and a voice note beside it; the
  easier version a new voice note, and the photo's picture and words swapped;
- **voice only**: each cue a voice note with the words as its caption and the buttons, no
  picture; the easier version a new voice note, the words edited;
- **silent**: today's photo cue, for reference.

The voice notes are the bot's MP3s made OGG/Opus (the bot makes none). Every shape also
takes the last cue's buttons off when the next comes (one edit, sent when
the bot has headroom). CLASSES users each run the whole class, choosing the easier version
on EASIER poses, through python-telegram-bot against the emulator, the files each uploaded
once and sent by file_id after (as the bot does). The audio is the class as the bot speaks
it (bot/voice.py, the cache in .cache/voice: rendered first if missing, which takes a
while with piper). Reported per shape: calls a class makes (counted ones: those with a
chat_id, which Telegram's 30 a second limits), those that carry a cue, messages a class
leaves in the chat, bytes uploaded once per bot, and what the user gets (a picture; the
easier version in place).

    .venv/bin/python bench/voice_shapes.py [--classes 20] [--easier 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    InputMediaAudio,
    InputMediaPhoto,
    Message,
)

from bench.common import PROJECT_DIR, TOKEN, commit
from bot.pictures import cover
from bot.pose_pictures import FigurePictures
from playground.emulator import BotApiEmulator
from sequences import Step, load_catalog, load_figures
from sequences.spoken import easier_script, step_script

BUTTONS = InlineKeyboardMarkup(
    [[InlineKeyboardButton(label, callback_data=f"p:{n}") for n, label in enumerate("ENH")]]
)
SHAPES = ("audio", "voice + photo", "voice only", "silent")


@dataclass
class Files:
    """A step's files for each version: picture (PNG), audio (MP3), voice note (OGG)."""

    picture: dict[bool, Path]
    mp3: dict[bool, Path]
    ogg: dict[bool, Path]


@dataclass
class Known:
    """file_ids Telegram gave, by path: each file is uploaded once per bot."""

    ids: dict[Path, str] = field(default_factory=dict)
    uploaded_bytes: int = 0

    def source(self, path: Path) -> str | bytes:
        known = self.ids.get(path)
        if known is not None:
            return known
        data = path.read_bytes()
        self.uploaded_bytes += len(data)
        return data

    def learn(self, path: Path, file_id: str | None) -> None:
        if file_id is not None:
            self.ids.setdefault(path, file_id)


def files_of(steps: list[Step]) -> list[Files]:
    from bot.voice import Voice, available_engine

    engine = available_engine()
    if engine is None:
        raise SystemExit("no speech engine is installed (piper or espeak-ng)")
    voice = Voice(engine, PROJECT_DIR / ".cache" / "voice")
    pictures = FigurePictures(load_figures(), PROJECT_DIR / ".cache" / "pictures")
    found: list[Files] = []
    for step in steps:
        usual, easier = voice.speak(step_script(step)), voice.speak(easier_script(step))
        drawn = {v: pictures.for_step(step, easier=v) for v in (False, True)}
        assert drawn[False] is not None and drawn[True] is not None, step.id
        found.append(
            Files(
                picture={v: p.path for v, p in drawn.items() if p is not None},
                mp3={False: usual.mp3, True: easier.mp3},
                ogg={False: _voice_note(usual.mp3), True: _voice_note(easier.mp3)},
            )
        )
    return found


def _voice_note(mp3: Path) -> Path:
    """The MP3 as a voice note would carry it (OGG/Opus at 24 kHz, beside it): the bot makes
    none, so the shapes that send one are measured with this."""
    import math

    import soundfile
    from scipy.signal import resample_poly

    ogg = mp3.with_suffix(".voice-note.ogg")
    if not ogg.exists():
        samples, rate = soundfile.read(str(mp3), dtype="float32")
        common = math.gcd(rate, 24_000)
        resampled = resample_poly(samples, 24_000 // common, rate // common)
        soundfile.write(str(ogg), resampled, 24_000, format="OGG", subtype="OPUS")
    return ogg


def _upload(data: str | bytes, name: str, *, attach: bool = False) -> str | InputFile:
    return data if isinstance(data, str) else InputFile(data, filename=name, attach=attach)


async def run_class(
    bot: Bot, shape: str, chat_id: int, steps: list[Step], files: list[Files], easier: set[int]
) -> None:
    known = RUNS[shape]
    previous: Message | None = None
    for n, (step, own) in enumerate(zip(steps, files, strict=True)):
        words = f"{n + 1}/{len(steps)} · {step.title}\n" + "\n".join(step.cues)
        if shape == "audio":
            audio = known.source(own.mp3[False])
            thumb = None if isinstance(audio, str) else cover(own.picture[False])
            cue = await bot.send_audio(
                chat_id,
                _upload(audio, "cue.mp3"),
                caption=words,
                reply_markup=BUTTONS,
                title=step.title,
                thumbnail=None if thumb is None else InputFile(thumb, filename="cover.jpg"),
            )
            assert cue.audio is not None
            known.learn(own.mp3[False], cue.audio.file_id)
        elif shape == "voice + photo":
            photo = known.source(own.picture[False])
            cue = await bot.send_photo(
                chat_id, _upload(photo, "pose.png"), caption=words, reply_markup=BUTTONS
            )
            known.learn(own.picture[False], cue.photo[-1].file_id)
            note = await bot.send_voice(chat_id, _upload(known.source(own.ogg[False]), "cue.ogg"))
            assert note.voice is not None
            known.learn(own.ogg[False], note.voice.file_id)
        elif shape == "voice only":
            cue = await bot.send_voice(
                chat_id,
                _upload(known.source(own.ogg[False]), "cue.ogg"),
                caption=words,
                reply_markup=BUTTONS,
            )
            assert cue.voice is not None
            known.learn(own.ogg[False], cue.voice.file_id)
        else:
            photo = known.source(own.picture[False])
            cue = await bot.send_photo(
                chat_id, _upload(photo, "pose.png"), caption=words, reply_markup=BUTTONS
            )
            known.learn(own.picture[False], cue.photo[-1].file_id)
        if previous is not None:
            await bot.edit_message_reply_markup(chat_id, previous.message_id, reply_markup=None)
        previous = cue
        if n in easier:
            await _easier(bot, shape, chat_id, cue, own, f"{words}\nEasier: {step.easier}")


async def _easier(bot: Bot, shape: str, chat_id: int, cue: Message, own: Files, words: str) -> None:
    known = RUNS[shape]
    if shape == "audio":
        audio = known.source(own.mp3[True])
        thumb = None if isinstance(audio, str) else cover(own.picture[True])
        media = InputMediaAudio(
            _upload(audio, "cue.mp3", attach=True),
            caption=words,
            thumbnail=None if thumb is None else InputFile(thumb, "cover.jpg", attach=True),
        )
        swapped = await bot.edit_message_media(
            media, chat_id=chat_id, message_id=cue.message_id, reply_markup=BUTTONS
        )
        assert isinstance(swapped, Message) and swapped.audio is not None
        known.learn(own.mp3[True], swapped.audio.file_id)
        return
    if shape in ("voice + photo", "voice only"):
        note = await bot.send_voice(chat_id, _upload(known.source(own.ogg[True]), "cue.ogg"))
        assert note.voice is not None
        known.learn(own.ogg[True], note.voice.file_id)
        if shape == "voice only":
            await bot.edit_message_caption(
                chat_id=chat_id, message_id=cue.message_id, caption=words, reply_markup=BUTTONS
            )
            return
    photo = known.source(own.picture[True])
    media_photo = InputMediaPhoto(_upload(photo, "pose.png", attach=True), caption=words)
    swapped = await bot.edit_message_media(
        media_photo, chat_id=chat_id, message_id=cue.message_id, reply_markup=BUTTONS
    )
    assert isinstance(swapped, Message)
    known.learn(own.picture[True], swapped.photo[-1].file_id)


RUNS: dict[str, Known] = {}


async def measure(classes: int, easier_poses: int) -> dict[str, Any]:
    yoga_class = next(iter(load_catalog().values()))
    steps = list(yoga_class.steps)
    files = await asyncio.to_thread(files_of, steps)
    # The first poses that have an easier picture of their own.
    easier = {n for n, step in enumerate(steps) if step.easier_figure}
    easier = set(sorted(easier)[:easier_poses])
    results: dict[str, Any] = {}
    for shape in SHAPES:
        RUNS[shape] = Known()
        async with BotApiEmulator(token=TOKEN) as emulator:
            async with Bot(TOKEN, base_url=f"{emulator.api_url}/bot") as bot:
                for user in range(classes):
                    chat = emulator.user(50_000 + user)
                    await chat.send("/start")
                    await run_class(bot, shape, chat.id, steps, files, easier)
            calls = Counter(call.method for call in emulator.calls)
            messages = sum(len(u.bot_messages) for u in emulator.users)
        counted = sum(n for method, n in calls.items() if method != "getMe")
        cue_calls = {
            "audio": calls["sendAudio"] + calls["editMessageMedia"],
            "voice + photo": calls["sendPhoto"] + calls["sendVoice"] + calls["editMessageMedia"],
            "voice only": calls["sendVoice"] + calls["editMessageCaption"],
            "silent": calls["sendPhoto"] + calls["editMessageMedia"],
        }[shape]
        results[shape] = {
            "calls_per_class": round(counted / classes, 1),
            "cue_calls_per_class": round(cue_calls / classes, 1),
            "cue_calls_per_pose": round(cue_calls / classes / len(steps), 2),
            "messages_per_class": round(messages / classes, 1),
            "uploaded_once_kb": round(RUNS[shape].uploaded_bytes / 1024),
            "calls": dict(sorted(calls.items())),
        }
    audio_seconds = 0.0
    import soundfile

    for own in files:
        audio_seconds += soundfile.info(str(own.mp3[False])).duration
    return {
        "commit": commit(),
        "poses": len(steps),
        "classes": classes,
        "easier_poses": len(easier),
        "spoken_minutes_per_class": round(audio_seconds / 60, 1),
        "shapes": results,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, default=20)
    parser.add_argument("--easier", type=int, default=3)
    args = parser.parse_args(argv)
    report = asyncio.run(measure(args.classes, args.easier))
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
