"""Read: movies and image sequences into scene-linear float32 images."""

from __future__ import annotations

import os

import numpy as np

from rotograph import FileIn, Format, Image, Node, Output, Param
from rotograph.io.colour import COLORSPACES, lut_to_linear, to_linear
from rotograph.errors import MediaError
from rotograph.io.media import (IMAGE_EXTS, MediaInfo, MovieSource, expand_frame, frame_pattern, probe, read_image,
                             resolve_path, sequence_frames)
from rotograph.core.node import CachePolicy
from rotograph.io.timing import Timing

from ..common._colour import colorspace_param, colour_key, convert_rgba, working_space_param


class Read(Node):
    """Read a movie (MP4/MOV/WebM/AVI/MKV via PyAV, frame-accurate) or an image sequence
    (``shot.####.exr``, ``%04d``, ``@@@@``; EXR via OpenEXR, PNG/TIFF 8/16-bit and JPG via
    OpenCV, DPX and others via OpenImageIO).

    Output ``image``: float32 H×W×3 (×4 when the file has alpha), scene-linear, straight alpha.
    Movie frames are numbered from ``first_frame`` (default 1001); sequence frames keep the
    numbers in their file names. ``colorspace`` is the encoding of the file — ``auto`` means
    linear for float files (EXR) and sRGB for integer files and movies; any OpenColorIO
    colourspace works (ACEScg, ARRI LogC4, ADX10, …) — and the image is converted to
    ``working_space``. ``layer`` picks an EXR layer (a single channel is repeated into RGB; no
    colour conversion makes sense for data layers: set ``colorspace`` to linear). A sequence
    with gaps is detected (``rotograph info``/``validate`` list them); ``missing_frames`` says
    what a missing frame gives. The frame rate (exact, e.g. 30000/1001) and the SMPTE timecode
    come from the file when it has them (movies, EXR and DPX headers) and reach the writers.
    A missing or unreadable frame raises :class:`MediaError` naming the file and frame.
    """

    type_id = "rotograph.Read"
    category = "Input"
    frame_dependent = True
    cache_policy = CachePolicy.MEMORY_ONLY  # decoding is cheaper than a compressed disk read

    file = Param(FileIn, "", doc="Movie, sequence pattern or sample:NAME", ui={"widget": "file_open"})
    first_frame = Param(int, 1001, range=(-1_000_000, 10_000_000), doc="Frame number of a movie's first frame")
    colorspace = colorspace_param("auto", "Encoding of the file (auto: linear for float files, sRGB otherwise)",
                                  allow_auto=True)
    working_space = working_space_param()
    layer = Param(str, "", doc="EXR layer to read (matte, depth, N, …); empty for RGBA")
    missing_frames = Param(str, "error", choices=("error", "hold", "black"),
                           doc="A missing sequence frame: fail naming it, hold the nearest earlier frame, "
                               "or black")
    image = Output(Image)

    def __init__(self, name: str = "", **params):
        self._movie: tuple[tuple, MovieSource] | None = None
        self._info: tuple[tuple, MediaInfo] | None = None
        super().__init__(name, **params)

    # -- file identity (the key) ------------------------------------------------------------
    def _real(self) -> str:
        if not self.file:
            raise MediaError("no file set")
        return os.path.abspath(resolve_path(self.resolve(self.file)))

    def _is_sequence(self, real: str) -> bool:
        return frame_pattern(real) is not None and os.path.splitext(real)[1].lower() in IMAGE_EXTS

    def _frame_file(self, frame: int) -> str | None:
        """The file that holds ``frame`` (for ``hold``, the nearest earlier one; for ``black``,
        ``None`` when it is missing)."""
        real = self._real()
        if not self._is_sequence(real):
            return real
        path = expand_frame(real, frame)
        if self.missing_frames == "error" or os.path.exists(path):
            return path
        if self.missing_frames == "black":
            return None
        frames = sequence_frames(real)
        earlier = [f for f in frames if f < frame]
        if not frames:
            return path
        return frames[max(earlier)] if earlier else frames[min(frames)]

    def check(self) -> None:
        try:
            real = self._real()
        except MediaError as e:  # no file set, a folder without one sequence: missing input
            raise MediaError(f"node '{self.name}': param 'file': {e}") from None
        if self._is_sequence(real):
            probe(real, self.first_frame, self.layer)  # raises when no frame matches, or it has no RGB
        elif not os.path.exists(real):
            raise MediaError(f"node '{self.name}': param 'file': {self.file}: file not found")

    def key_material(self, frame: int):
        path = self._frame_file(frame)
        if path is None:
            return {"black": list(self._size())}
        try:
            st = os.stat(path)
        except FileNotFoundError:
            raise MediaError(f"{path}: frame {frame} is missing") from None
        ident = {"path": path, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
        if not self._is_sequence(self._real()):
            ident["index"] = frame - self.first_frame
        ocio = colour_key(self.colorspace.replace("auto", "linear"), self.working_space)
        if ocio:
            ident.update(ocio)
        return ident

    def _probe(self) -> MediaInfo:
        """The file's description, probed again only when the file (or a sequence's folder) changes."""
        real = self._real()
        try:
            st = os.stat(os.path.dirname(real) if self._is_sequence(real) else real)
            ident = (real, self.first_frame, self.layer, st.st_mtime_ns, st.st_size)
        except OSError:
            return probe(real, self.first_frame, self._layer())  # raises the error naming the file
        if self._info is None or self._info[0] != ident:
            self._info = (ident, probe(real, self.first_frame, self._layer()))
        return self._info[1]

    def _layer(self) -> str | None:
        """The layer probed: this Read's for an image file (EXR), none for a movie."""
        return self.layer if os.path.splitext(self._real())[1].lower() in IMAGE_EXTS else None

    def frame_range(self, input_ranges):
        info = self._probe()
        return (info.first, info.last)

    def timing(self, input_timing):
        """The file's frame rate (exact: 30000/1001 for 29.97) and first frame's timecode."""
        info = self._probe()
        return Timing(info.fps, info.timecode, info.first) if info.fps or info.timecode else None

    def output_format(self, input_formats):
        """The file's size and pixel aspect (EXR ``pixelAspectRatio``, DPX/TIFF through
        OpenImageIO, a movie's sample aspect ratio), from its header."""
        info = self._probe()
        return Format(info.width, info.height, info.pixel_aspect)

    def warnings(self):
        if not self.file:
            return []
        info = self._probe()
        out = []
        if info.missing:
            gaps = ",".join(map(str, info.missing[:20])) + (" …" if len(info.missing) > 20 else "")
            out.append(f"{self.file}: {len(info.missing)} missing frames in {info.first}-{info.last}: {gaps} "
                       f"(missing_frames={self.missing_frames})")
        if info.truncated:
            out.append(f"{self.file}: the file ends early: its index lists {info.truncated} frames, only "
                       f"{info.first}-{info.last} can be decoded")
        return out

    # -- pixels -----------------------------------------------------------------------------
    def _movie_source(self, path: str) -> MovieSource:
        st = os.stat(path)
        ident = (path, st.st_size, st.st_mtime_ns)
        if self._movie is None or self._movie[0] != ident:
            if self._movie is not None:
                self._movie[1].close()
            self._movie = (ident, MovieSource(path))
        return self._movie[1]

    def _size(self) -> tuple[int, int]:
        info = self._probe()
        return info.height, info.width

    def compute(self, ctx):
        path = self._frame_file(ctx.frame)
        if path is None:  # missing frame, filled with black
            return np.zeros((*self._size(), 3), np.float32)
        if self._is_sequence(self._real()):
            try:
                pixels, _, _ = read_image(path, self.layer)
            except FileNotFoundError:
                raise MediaError(f"{path}: frame {ctx.frame} is missing") from None
            except Exception as e:
                reason = str(e).removeprefix(f"{path}: ") if isinstance(e, MediaError) else f"{type(e).__name__}: {e}"
                raise MediaError(f"{path}: frame {ctx.frame} is unreadable ({reason})") from None
            info = self._probe()
            if pixels.shape[:2] != (info.height, info.width):
                raise MediaError(f"{path}: frame {ctx.frame} is {pixels.shape[1]}x{pixels.shape[0]}, but the "
                                 f"sequence starts at {info.width}x{info.height} (frame {info.first}): a shot "
                                 f"changes resolution mid-sequence; reformat it or split it into shots")
        else:
            src = self._movie_source(path)
            index = ctx.frame - self.first_frame
            if not 0 <= index < len(src):
                raise MediaError(f"{path}: frame {ctx.frame} is outside the movie's frames "
                                 f"{self.first_frame}-{self.first_frame + len(src) - 1}")
            if self.layer:
                raise MediaError(f"{path}: only EXR files have layers (layer {self.layer!r} asked for)")
            pixels = src.read(index, ctx.frame, ctx.check)
        space = self.colorspace
        if space == "auto":
            space = "linear" if pixels.dtype.kind == "f" else "sRGB"
        if pixels.dtype.kind == "f":
            rgb = pixels[..., :3].astype(np.float32)
            alpha = pixels[..., 3].astype(np.float32) if pixels.shape[2] == 4 else None
        else:
            top = np.float32(np.iinfo(pixels.dtype).max)
            alpha = pixels[..., 3].astype(np.float32) / top if pixels.shape[2] == 4 else None
            if space in COLORSPACES:  # exact built-in curve through a lookup table
                rgb, space = lut_to_linear(16 if pixels.dtype == np.uint16 else 8, space)[pixels[..., :3]], "linear"
            else:
                rgb = pixels[..., :3].astype(np.float32) / top
        if space in COLORSPACES and space != "linear":
            rgb, space = to_linear(rgb, space), "linear"
        out = convert_rgba(rgb, space, self.working_space)
        if alpha is not None:  # alpha is linear coverage, never colour-encoded
            out = np.dstack([out, alpha])
        return np.ascontiguousarray(out, dtype=np.float32)
