"""Movie writers: WriteProRes (ProRes 4444 with alpha, 422 HQ) and WriteVideo (H.264 previews).

A movie holds every frame in one file, so these writers are range nodes: one task encodes the
frames the render asks for, in order, through PyAV (FFmpeg's ``prores_ks`` and ``libx264``),
into a temporary file that is renamed into place when complete.
"""

from __future__ import annotations

import av
import cv2
import numpy as np

from rotograph import File, Image, Input, MovieOut, Output, Param, RangeNode, Segment
from rotograph.colour import convert
from rotograph.errors import RotographError

from ._colour import colorspace_param, working_space_param
from .write import Writer

PRORES = {"4444": ("4", "yuva444p10le"), "4444XQ": ("5", "yuva444p10le"), "422HQ": ("3", "yuv422p10le"),
          "422": ("2", "yuv422p10le")}


class MovieWriter(Writer, RangeNode):
    """Base of the movie writers: one segment over the input's frame range."""

    image = Input(Image)
    file = Param(MovieOut, "", doc="Movie file, e.g. render/shot_v001.mov", ui={"widget": "file_save"})
    fps = Param(float, 24.0, range=(1.0, 240.0))
    colorspace = colorspace_param("Rec.709", "Encoding of the movie's RGB (Rec.709 for review)")
    working_space = working_space_param()
    written = Output(File)

    codec = ""

    def segments(self, first: int, last: int) -> list[Segment]:
        return [Segment(tuple(range(first, last + 1)))]

    def stream_setup(self, stream) -> str:
        """Configure the stream; return the pixel format frames are converted to."""
        raise NotImplementedError

    def to_frame(self, image: np.ndarray, frame: int) -> av.VideoFrame:
        raise NotImplementedError

    def compute_range(self, ctx, segment, pull, resume=None):
        frames = ctx.frames or segment.frames
        size = None

        def write(tmp):
            nonlocal size
            with av.open(tmp, "w") as out:
                stream = out.add_stream(self.codec, rate=self._rate())
                pix_fmt = None
                for f in frames:
                    image = pull(f)["image"]
                    if size is None:
                        size = image.shape[1], image.shape[0]
                        stream.width, stream.height = size
                        pix_fmt = self.stream_setup(stream)
                    elif (image.shape[1], image.shape[0]) != size:
                        raise RotographError(f"frame {f} is {image.shape[1]}×{image.shape[0]}, the movie "
                                             f"is {size[0]}×{size[1]}")
                    rgb = convert(image[..., :3], self.working_space, self.colorspace)
                    encoded = np.dstack([rgb, image[..., 3:]]) if image.shape[2] == 4 else rgb
                    for packet in stream.encode(self.to_frame(encoded, f).reformat(format=pix_fmt)):
                        out.mux(packet)
                for packet in stream.encode():
                    out.mux(packet)

        written = self.publish(frames[0], write)
        for f in frames:
            yield f, written

    def _rate(self):
        from fractions import Fraction

        return Fraction(self.fps).limit_denominator(1001)


class WriteProRes(MovieWriter):
    """Write a QuickTime ProRes movie: ``4444`` / ``4444XQ`` (10-bit 4:4:4 with alpha, for
    comp) or ``422HQ`` / ``422`` (10-bit 4:2:2, no alpha). image: Image H×W×3/4 in
    ``working_space``; RGB is converted to ``colorspace`` and quantised to 16 bits before
    FFmpeg's ``prores_ks`` encodes it; alpha (straight, as given) goes into the 4444 alpha plane.
    """

    type_id = "rotograph.WriteProRes"
    codec = "prores_ks"
    profile = Param(str, "4444", choices=tuple(PRORES))

    def stream_setup(self, stream) -> str:
        profile, pix_fmt = PRORES[self.profile]
        stream.pix_fmt = pix_fmt
        stream.options = {"profile": profile, "vendor": "apl0"}
        return pix_fmt

    def to_frame(self, image, frame):
        if image.shape[2] == 3:
            image = np.dstack([image, np.ones(image.shape[:2], np.float32)])
        rgba = (np.clip(image, 0, 1) * 65535 + 0.5).astype(np.uint16)
        return av.VideoFrame.from_ndarray(rgba, format="rgba64le")


class WriteVideo(MovieWriter):
    """Write an H.264 (libx264, yuv420p) review movie, optionally with the frame number burnt
    into the bottom-left corner. image: Image H×W×3/4 in ``working_space`` (alpha dropped);
    odd sizes are padded by one pixel (4:2:0 needs even sizes). ``crf``: quality, lower is better.
    """

    type_id = "rotograph.WriteVideo"
    codec = "libx264"
    crf = Param(int, 18, range=(0, 51))
    burn_in = Param(bool, True, doc="Burn the frame number in")

    def stream_setup(self, stream) -> str:
        stream.pix_fmt = "yuv420p"
        stream.width += stream.width % 2
        stream.height += stream.height % 2
        stream.options = {"crf": str(self.crf), "preset": "medium"}
        return "yuv420p"

    def to_frame(self, image, frame):
        rgb = (np.clip(image[..., :3], 0, 1) * 255 + 0.5).astype(np.uint8)
        h, w = rgb.shape[:2]
        rgb = np.pad(rgb, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
        if self.burn_in:
            scale = max(0.5, rgb.shape[0] / 720)
            org = (int(20 * scale), rgb.shape[0] - int(20 * scale))
            cv2.putText(rgb, str(frame), org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), int(4 * scale), cv2.LINE_AA)
            cv2.putText(rgb, str(frame), org, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), max(1, int(scale * 1.5)),
                        cv2.LINE_AA)
        return av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
