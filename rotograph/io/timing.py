"""Frame rates as exact rationals, and SMPTE timecode.

Video rates are rationals: the NTSC-derived rates are n×1000/1001 (23.976 = 24000/1001,
29.97 = 30000/1001, 59.94 = 60000/1001). A decimal read from a file header (DPX stores a float)
or typed by a user (``23.976``, ``23.98``, ``29.97``) is snapped to the rational it stands for;
other rates keep their exact value (``25``, ``12.5`` = 25/2).

SMPTE timecode (SMPTE ST 12-1) ``HH:MM:SS:FF`` counts frames at the nominal integer rate (24
for 23.976). Drop-frame timecode (``HH:MM:SS;FF``, 29.97 and 59.94 only) skips frame labels
0-1 (0-3 at 59.94) at the start of every minute except each tenth, so that its clock follows
the wall clock.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

from ..errors import json_repr

_TIMECODE = re.compile(r"(\d{1,2}):(\d{2}):(\d{2})([:;.,])(\d{2,3})")


MAX_RATE = 1000  # fps: above any camera's, and below what floats and timecode arithmetic can hold


def exact_rate(value) -> Fraction:
    """A frame rate as an exact :class:`~fractions.Fraction` (frames per second).

    Accepts a Fraction, an int, a float or a string (``"24000/1001"``, ``"23.976"``, ``"25"``).
    Decimals within 0.006 of n×1000/1001 (and not of n) become n×1000/1001.
    Raises ``ValueError`` for anything else, zero, negative, non-finite or over ``MAX_RATE`` rates."""
    try:
        if isinstance(value, str):
            text = value.strip()
            rate = Fraction(text) if "/" in text else Fraction(float(text))
        elif isinstance(value, bool):
            raise TypeError
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise ValueError
            rate = Fraction(value)
        else:
            rate = Fraction(value)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        raise ValueError(f"{json_repr(value)} is not a frame rate (use e.g. 24, 25, 24000/1001 or 23.976)") from None
    if not 0 < rate <= MAX_RATE:
        raise ValueError(f"{json_repr(value)} is not a frame rate: it must be above 0 and at most {MAX_RATE} fps")
    if rate.denominator in (1, 1001):
        return rate
    n = round(rate * Fraction(1001, 1000))
    ntsc = Fraction(n * 1000, 1001)
    if n >= 1 and abs(rate - ntsc) < Fraction(6, 1000) and abs(rate - n) >= Fraction(6, 1000):
        return ntsc
    return rate.limit_denominator(1001)


def chosen_rate(setting: str, timing: "Timing | None", default: int = 24) -> Fraction:
    """The rate a writer uses: a ``FrameRate`` param's value, or with ``"auto"`` the source's
    (``timing``), or ``default`` when the source has none."""
    if setting != "auto":
        return exact_rate(setting)
    return timing.rate if timing is not None and timing.rate else Fraction(default)


def format_rate(rate: Fraction) -> str:
    """``24000/1001`` → ``"23.976 (24000/1001)"``; ``25`` → ``"25"``."""
    if rate.denominator == 1:
        return str(rate.numerator)
    return f"{float(rate):.3f} ({rate.numerator}/{rate.denominator})"


def _drop_per_minute(rate: Fraction, drop: bool) -> int:
    """Frame labels dropped each minute (0, 2 at 29.97, 4 at 59.94)."""
    if not drop:
        return 0
    nominal = round(rate)
    if rate.denominator != 1001 or nominal % 30:
        raise ValueError(f"drop-frame timecode needs 29.97 or 59.94 fps, not {float(rate):.3f}")
    return nominal // 15


def parse_timecode(text: str) -> tuple[int, int, int, int, bool]:
    """``"01:00:00:00"`` → (1, 0, 0, 0, False); ``;`` before the frames means drop-frame."""
    m = _TIMECODE.fullmatch(str(text).strip())
    if not m:
        raise ValueError(f"{text!r} is not a SMPTE timecode (HH:MM:SS:FF)")
    h, mi, s, sep, f = m.groups()
    return int(h), int(mi), int(s), int(f), sep in ";,"


def timecode_to_frames(text: str, rate: Fraction) -> int:
    """Frames since 00:00:00:00 of a timecode at ``rate``."""
    h, m, s, f, drop = parse_timecode(text)
    nominal = round(rate)
    if f >= nominal or m > 59 or s > 59:
        raise ValueError(f"{text!r} is not a valid timecode at {float(rate):.3f} fps")
    minutes = 60 * h + m
    return (3600 * h + 60 * m + s) * nominal + f - _drop_per_minute(rate, drop) * (minutes - minutes // 10)


def frames_to_timecode(frames: int, rate: Fraction, drop: bool = False) -> str:
    """Timecode of the frame ``frames`` after 00:00:00:00 (wraps at 24 hours)."""
    nominal = round(rate)
    d = _drop_per_minute(rate, drop)
    if d:
        per_minute = nominal * 60 - d
        per_ten = per_minute * 10 + d
        frames %= per_ten * 6 * 24
        tens, rest = divmod(frames, per_ten)
        frames += 9 * d * tens + (d * ((rest - d) // per_minute) if rest >= d else 0)
    frames %= nominal * 86400
    s, f = divmod(frames, nominal)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    return f"{h:02d}:{m:02d}:{s:02d}{';' if d else ':'}{f:02d}"


def timecode_bcd(text: str) -> int:
    """SMPTE 32-bit BCD packing ``0xHHMMSSFF`` (drop-frame flag in bit 6 of the frames byte),
    as DPX headers and OpenImageIO's ``smpte:TimeCode`` store it."""
    h, m, s, f, drop = parse_timecode(text)
    bcd = lambda v: ((v // 10) << 4) | (v % 10)  # noqa: E731
    return (bcd(h) << 24) | (bcd(m) << 16) | (bcd(s) << 8) | bcd(f) | (0x40 if drop else 0)


@dataclass(frozen=True)
class Timing:
    """When a node's frames are: ``rate`` (frames per second, exact) and, when the source has
    one, the ``timecode`` of frame number ``first``. Nodes pass their inputs' timing on (see
    :meth:`rotograph.Node.timing`); Read takes it from the file."""

    rate: Fraction | None = None
    timecode: str | None = None
    first: int = 0

    def timecode_at(self, frame: int) -> str | None:
        """The timecode of ``frame``, or ``None`` when the source has no timecode or rate."""
        if self.rate is None or not self.timecode:
            return None
        drop = parse_timecode(self.timecode)[4]
        return frames_to_timecode(timecode_to_frames(self.timecode, self.rate) + frame - self.first, self.rate, drop)
