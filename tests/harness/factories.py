"""Small objects for tests: a three-pose class with one-minute holds, a tiny PNG."""

from __future__ import annotations

import struct
import zlib

from sequences import Step, YogaClass


def make_class(class_id: str = "tiny-class", holds: tuple[int, ...] = (60, 60, 60)) -> YogaClass:
    steps = [
        Step(
            id=f"pose-{n}",
            pose=f"Pose {n}",
            side="right side" if n == 2 else None,
            cues=[f"Inhale, lengthen into pose {n}.", "Exhale, soften the shoulders."],
            hold_seconds=hold,
            easier=f"Easier pose {n}: keep the knees down.",
            props=[],
        )
        for n, hold in enumerate(holds, start=1)
    ]
    return YogaClass(
        id=class_id,
        title="Tiny Class",
        teacher="Test Teacher",
        level="gentle",
        total_minutes=round(sum(holds) / 60),
        props_needed=[],
        safety_note="Stop if anything hurts.",
        steps=steps,
    )


def tiny_png(width: int = 24, height: int = 16) -> bytes:
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    rows = b"".join(b"\x00" + b"\x3f\x7a\x57" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def tiny_sound(seconds: float = 2.0, kind: str = "OGG") -> bytes:
    """`seconds` of a quiet tone: "OGG" (Opus, a voice note), "MP3", "VORBIS" (OGG/Vorbis)
    or "WAV"."""
    import io

    import numpy as np
    import soundfile

    rate = 48_000
    tone = 0.1 * np.sin(2 * np.pi * 440 * np.arange(int(rate * seconds)) / rate)
    formats = {
        "OGG": ("OGG", "OPUS"),
        "MP3": ("MP3", "MPEG_LAYER_III"),
        "VORBIS": ("OGG", "VORBIS"),
        "WAV": ("WAV", "PCM_16"),
    }
    container, codec = formats[kind]
    buffer = io.BytesIO()
    soundfile.write(buffer, tone.astype(np.float32), rate, format=container, subtype=codec)
    return buffer.getvalue()
