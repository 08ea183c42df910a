"""Movie writers: WriteProRes (ProRes 4444 with alpha, 422 HQ) and WriteVideo (H.264 previews).

A movie holds every frame in one file, so these writers are range writers: one task encodes the
frames the render asks for, in order, through PyAV (FFmpeg's ``prores_ks`` and ``libx264``),
into a temporary file that is renamed into place when complete. The frame rate is exact
(24000/1001, not 23.976) and by default the plate's; the source's timecode goes into the movie.
"""

from __future__ import annotations

import av
import cv2
import numpy as np

from rotograph import Delivery, Image, Input, Matte, MovieOut, Param, RangeWriter
from rotograph.io.colour import convert
from rotograph.errors import RotographError
from rotograph.core.params import FrameRate
from rotograph.io.timing import chosen_rate

from ..common._colour import ColourKeyed, colorspace_param, working_space_param

PRORES = {"4444": ("4", "yuva444p10le"), "4444XQ": ("5", "yuva444p10le"), "422HQ": ("3", "yuv422p10le"),
          "422": ("2", "yuv422p10le")}


class MovieWriter(ColourKeyed, RangeWriter):
    """Base of the movie writers: one segment over the input's frame range.

    image: Image H×W×3/4 in ``working_space``; matte: float32 H×W in [0, 1]. A matte alone is
    the picture (grey: ``alpha.mp4``); with an image, ``matte_as`` says what it does: ``alpha``
    (the movie's alpha plane, ProRes 4444) or ``premultiply`` (the image × matte over black:
    ``foreground.mp4``). ``fps``: ``auto`` (the plate's rate, exact; 24 when the source has
    none) or a rate such as ``24000/1001``, ``23.976`` (= 24000/1001), ``25``."""

    image = Input(Image, optional=True)
    matte = Input(Matte, optional=True)
    file = Param(MovieOut, "", doc="Movie file, e.g. render/shot_v001.mov", ui={"widget": "file_save"})
    fps = Param(FrameRate, "auto", doc="auto (the plate's rate) or e.g. 24000/1001, 23.976, 25")
    colorspace = colorspace_param("Rec.709", "Encoding of the movie's RGB (Rec.709 for review)")
    working_space = working_space_param()

    codec = ""

    @classmethod
    def upgrade(cls, from_version, params):
        if from_version < 2 and "fps" in params:  # v1: a float, 24 by default whatever the plate
            params = {**params, "fps": FrameRate.canonical(params["fps"])}
        return params

    def stream_setup(self, stream) -> str:
        """Configure the stream; return the pixel format frames are converted to."""
        raise NotImplementedError

    def to_frame(self, image: np.ndarray, frame: int, review: bool) -> av.VideoFrame:
        """``image`` (from :meth:`picture`) as a frame to encode; ``review``: an image is
        connected (a picture to look at), not a matte alone (a delivered matte: never marked)."""
        raise NotImplementedError

    def picture(self, image, matte) -> np.ndarray:
        """What is encoded: float32 RGB(A) in ``colorspace`` (alpha kept linear)."""
        if image is None and matte is None:
            raise RotographError("no input connected: connect image, matte or both")
        if image is None:
            return np.dstack([matte] * 3)
        if matte is not None and matte.shape != image.shape[:2]:
            raise RotographError(f"matte is {matte.shape[1]}×{matte.shape[0]} but the image is "
                                 f"{image.shape[1]}×{image.shape[0]}")
        rgb = convert(image[..., :3], self.working_space, self.colorspace)
        if matte is None:
            return np.dstack([rgb, image[..., 3:]]) if image.shape[2] == 4 else rgb
        if self.matte_as == "alpha":
            return np.dstack([rgb, matte])
        return convert(image[..., :3] * matte[..., None], self.working_space, self.colorspace)

    def compute_range(self, ctx, segment, pull, resume=None):
        frames = ctx.frames or segment.frames
        rate = chosen_rate(self.fps, ctx.timing)
        timecode = ctx.timing.timecode_at(frames[0]) if ctx.timing is not None else None
        size = None

        def write(tmp):
            nonlocal size
            with av.open(tmp, "w") as out:
                if timecode:
                    out.metadata["timecode"] = timecode
                stream = out.add_stream(self.codec, rate=rate)
                time_base = 1 / rate  # the frames' (the muxer picks the stream's own)
                pix_fmt = None
                for i, f in enumerate(frames):
                    values = pull(f)
                    encoded = self.picture(values["image"], values["matte"])
                    if size is None:
                        size = encoded.shape[1], encoded.shape[0]
                        stream.width, stream.height = size
                        pix_fmt = self.stream_setup(stream)
                    elif (encoded.shape[1], encoded.shape[0]) != size:
                        raise RotographError(f"frame {f} is {encoded.shape[1]}×{encoded.shape[0]}, the movie "
                                             f"is {size[0]}×{size[1]}")
                    picture = self.to_frame(encoded, f, values["image"] is not None).reformat(format=pix_fmt)
                    picture.pts, picture.time_base = i, time_base
                    for packet in stream.encode(picture):
                        out.mux(packet)
                for packet in stream.encode():
                    out.mux(packet)

        written = self.publish(frames[0], write)
        for f in frames:
            yield f, written

    def deliveries(self, connected):
        ext = self.pattern().rsplit(".", 1)[-1].lower()
        grey = "image" not in connected
        return [Delivery(self.pattern(), "movie", ext, per_frame=False, colorspace="linear" if grey else self.colorspace)]


class WriteProRes(MovieWriter):
    """Write a QuickTime ProRes movie: ``4444`` / ``4444XQ`` (10-bit 4:4:4 with alpha, for
    comp) or ``422HQ`` / ``422`` (10-bit 4:2:2, no alpha). image: Image H×W×3/4 in
    ``working_space`` and/or matte (see :class:`MovieWriter`); RGB is converted to ``colorspace``
    and quantised to 16 bits before FFmpeg's ``prores_ks`` encodes it; alpha (straight, as
    given, or the matte) goes into the 4444 alpha plane.
    """

    type_id = "rotograph.WriteProRes"
    version = 2
    codec = "prores_ks"
    profile = Param(str, "4444", choices=tuple(PRORES))
    matte_as = Param(str, "alpha", choices=("alpha", "premultiply"),
                     doc="With an image: the matte as the alpha plane (4444), or the image × matte")

    def stream_setup(self, stream) -> str:
        profile, pix_fmt = PRORES[self.profile]
        stream.pix_fmt = pix_fmt
        stream.options = {"profile": profile, "vendor": "apl0"}
        return pix_fmt

    def to_frame(self, image, frame, review):
        if image.shape[2] == 3:
            image = np.dstack([image, np.ones(image.shape[:2], np.float32)])
        rgba = (np.clip(image, 0, 1) * 65535 + 0.5).astype(np.uint16)
        return av.VideoFrame.from_ndarray(rgba, format="rgba64le")


class WriteVideo(MovieWriter):
    """Write an H.264 (libx264, yuv420p) movie. image: Image H×W×3/4 in ``working_space``
    (alpha dropped) and/or matte (alone: grey, ``alpha.mp4``; with the image: the image × matte
    over black). ``burn_in`` (off by default) burns the frame number into the bottom-left corner
    of a review movie — one with an image; a matte alone is a deliverable and is never marked;
    odd sizes are padded by one pixel (4:2:0 needs even sizes). ``crf``: quality, lower is better.
    """

    type_id = "rotograph.WriteVideo"
    version = 2
    codec = "libx264"
    matte_as = "premultiply"  # H.264 has no alpha: with an image, the matte premultiplies it
    crf = Param(int, 18, range=(0, 51))
    burn_in = Param(bool, False, doc="Burn the frame number into a review movie (never into a matte alone)")

    def stream_setup(self, stream) -> str:
        stream.pix_fmt = "yuv420p"
        stream.width += stream.width % 2
        stream.height += stream.height % 2
        stream.options = {"crf": str(self.crf), "preset": "medium"}
        return "yuv420p"

    def to_frame(self, image, frame, review):
        rgb = (np.clip(image[..., :3], 0, 1) * 255 + 0.5).astype(np.uint8)
        h, w = rgb.shape[:2]
        rgb = np.pad(rgb, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
        if self.burn_in and review:
            scale = max(0.5, rgb.shape[0] / 720)
            org = (int(20 * scale), rgb.shape[0] - int(20 * scale))
            cv2.putText(rgb, str(frame), org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), int(4 * scale), cv2.LINE_AA)
            cv2.putText(rgb, str(frame), org, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), max(1, int(scale * 1.5)),
                        cv2.LINE_AA)
        return av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
