"""Image-file writers through OpenImageIO: WritePNG (8/16-bit), WriteTIFF (8/16-bit, 32-bit
float) and WriteDPX (10/16-bit, log or linear).

Each writes one file per frame of one of: an image (RGB(A), converted from ``working_space`` to
``colorspace``; a connected ``matte`` becomes its alpha), a matte (grey), a Z-depth (PNG, TIFF:
normalised between near and far, stated in the file and a JSON sidecar), normals (PNG, TIFF) or
a Masks — then every object's matte goes to its own sequence, one folder per object. Integer
codes are ``round(value × (2^bits − 1))`` of the clipped [0, 1] value; alpha is written as given
(flagged unassociated, PNG's convention); float TIFFs keep values as they are.
"""

from __future__ import annotations

import json
import os

import numpy as np

from rotograph import Delivery, Depth, Image, Input, Masks, Matte, Normals, Param
from rotograph.io.colour import COLORSPACES, convert, ocio_config
from rotograph.errors import RotographError
from rotograph.io.timing import timecode_bcd
from rotograph.core.writer import bundle, object_name, publish_file

from ..common._colour import colorspace_param, working_space_param
from .write import FileWriter

DEPTH_ENCODING = ("code 0: no depth (non-finite or ≤ 0); codes 1..{top}: Z = near + (far − near) × (code − 1) / {span}, "
                  "linear in Z")


def quantise(values: np.ndarray, bits: int) -> np.ndarray:
    """Float values in [0, 1] (clipped) → integer codes of ``bits`` bits, as uint8 (8) or uint16
    (10, 12, 16; OpenImageIO scales uint16 to the file's bit depth, so a 10-bit code c is
    passed as ceil(c × 65535 / 1023), which it maps back to c exactly). 32: float32 as is."""
    if bits == 32:
        return np.ascontiguousarray(values, dtype=np.float32)
    top = 2 ** bits - 1
    codes = np.floor(np.clip(values, 0.0, 1.0) * top + 0.5)
    if bits == 8:
        return codes.astype(np.uint8)
    if bits < 16:
        codes = np.ceil(codes * (65535 / top))
    return codes.astype(np.uint16)


def write_oiio(path: str, pixels: np.ndarray, bits: int, attrs: dict) -> None:
    """Write ``pixels`` (H×W or H×W×C, from :func:`quantise`) with OpenImageIO; ``attrs`` are
    ImageSpec attributes (a ``(typedesc, value)`` pair for typed ones: timecode, rational)."""
    import OpenImageIO as oiio

    fmt = oiio.FLOAT if bits == 32 else (oiio.UINT8 if bits == 8 else oiio.UINT16)
    if pixels.ndim == 2:  # OpenImageIO's Python binding wants H×W×C
        pixels = pixels[..., None]
    h, w, channels = pixels.shape
    spec = oiio.ImageSpec(w, h, channels, fmt)
    if bits not in (8, 16, 32):
        spec.attribute("oiio:BitsPerSample", bits)
    spec.attribute("oiio:UnassociatedAlpha", 1)  # alpha as given: no (un)premultiplying on write
    for name, value in attrs.items():
        if isinstance(value, tuple):
            spec.attribute(name, oiio.TypeDesc(value[0]), value[1])
        else:
            spec.attribute(name, value)
    out = oiio.ImageOutput.create(path)
    if out is None:
        raise RotographError(f"{path}: OpenImageIO cannot write this format ({oiio.geterror()})")
    try:
        if not out.open(path, spec) or not out.write_image(pixels):
            raise RotographError(f"{path}: OpenImageIO could not write ({out.geterror()})")
    finally:
        out.close()


def colour_tag(colorspace: str) -> dict:
    """OpenImageIO's colour tag for encoded RGB: sRGB files say so (a PNG gets its sRGB chunk),
    every other encoding is tagged Raw (no chunk that would make viewers re-interpret it)."""
    return {"oiio:ColorSpace": "srgb_rec709_scene" if colorspace == "sRGB" else "Raw"}


def sidecar_path(path: str) -> str:
    """``depth.1001.png`` → ``depth.1001.json``."""
    return os.path.splitext(path)[0] + ".json"


class ImageFileWriter(FileWriter):
    """Base of WritePNG, WriteTIFF and WriteDPX: one input kind per writer, encoded, then
    written through OpenImageIO with the format's attributes (:meth:`format_attrs`)."""

    image = Input(Image, optional=True, doc="Colour; RGBA writes alpha (as given)")
    matte = Input(Matte, optional=True, doc="With image: its alpha. Alone: written as grey, no colour conversion")
    masks = Input(Masks, optional=True, doc="One grey matte sequence per object, in <folder>/<object name>/")

    extension = ""
    data_inputs: tuple[str, ...] = ()  # depth, normals: encoded as data, no colour conversion

    def _kind(self, inputs: dict) -> str:
        connected = sorted(k for k, v in inputs.items() if v is not None)
        kind = "image" if "image" in connected else (connected[0] if len(connected) == 1 else "")
        if kind and set(connected) <= ({"image", "matte"} if kind == "image" else {kind}):
            return kind
        *choices, last = ["image (with an optional matte as alpha)", "matte", *self.data_inputs, "masks"]
        raise RotographError(f"connect one of {', '.join(choices)} or {last}; connected: {', '.join(connected) or 'nothing'}")

    def compute(self, ctx, **inputs):
        kind = self._kind(inputs)
        attrs = {"rotograph:frame": str(ctx.frame), "Software": "rotograph", "oiio:ColorSpace": "Raw",
                 **self.format_attrs(ctx, kind)}
        if kind == "masks":
            masks = inputs["masks"]
            written = []
            for obj in masks.objects:
                pixels = quantise(masks.matte(obj.id), self.bit_depth)
                written.append(self.publish(ctx.frame, lambda tmp, p=pixels: write_oiio(tmp, p, self.bit_depth, attrs),
                                            obj=object_name(masks, obj)))
            return bundle(written)
        if kind == "depth":
            return self._write_depth(ctx, inputs["depth"], attrs)
        pixels = self.encode(kind, inputs)
        return self.publish(ctx.frame, lambda tmp: write_oiio(tmp, pixels, self.bit_depth, attrs))

    def encode(self, kind: str, inputs: dict) -> np.ndarray:
        """The pixels to write for ``kind`` (``matte``, ``normals`` or ``image``), quantised to ``bit_depth``:
        images in the file's colourspace with the matte (or their own alpha) as alpha."""
        if kind == "matte":
            return quantise(inputs["matte"], self.bit_depth)
        if kind == "normals":
            n = inputs["normals"]
            return quantise(n if self.bit_depth == 32 else (n + 1.0) * 0.5, self.bit_depth)
        image, matte = inputs["image"], inputs["matte"]
        rgb = convert(image[..., :3], self.working_space, self.colorspace)
        if matte is not None and matte.shape != image.shape[:2]:
            raise RotographError(f"matte is {matte.shape[1]}×{matte.shape[0]} but the image is "
                                 f"{image.shape[1]}×{image.shape[0]}")
        alpha = matte if matte is not None else (image[..., 3] if image.shape[2] == 4 else None)
        return quantise(rgb if alpha is None else np.dstack([rgb, alpha]), self.bit_depth)

    def _write_depth(self, ctx, depth, attrs: dict):
        z = depth.z
        if self.bit_depth == 32:  # float: Z as it is
            return self.publish(ctx.frame, lambda tmp: write_oiio(tmp, quantise(z, 32), 32, attrs))
        valid = np.isfinite(z) & (z > 0)
        if self.depth_far > self.depth_near:
            near, far = self.depth_near, self.depth_far
        elif valid.any():
            near, far = float(z[valid].min()), float(z[valid].max())
        else:
            near, far = 0.0, 1.0
        top = 2 ** self.bit_depth - 1
        t = (np.clip(z, near, far) - near) / (far - near) if far > near else np.zeros_like(z)
        codes = np.where(valid, 1 + np.floor(np.nan_to_num(t) * (top - 1) + 0.5), 0).astype(np.uint16)
        info = {"frame": ctx.frame, "near": near, "far": far, "units": depth.units, "metric": depth.metric,
                "bit_depth": self.bit_depth, "encoding": DEPTH_ENCODING.format(top=top, span=top - 1)}
        text = {f"rotograph:{k}": str(v) for k, v in info.items()}
        pixels = codes.astype(np.uint8) if self.bit_depth == 8 else codes
        image = self.publish(ctx.frame, lambda tmp: write_oiio(tmp, pixels, self.bit_depth, {**attrs, **text}))
        side = publish_file(sidecar_path(self.path(ctx.frame)), lambda tmp: write_text(tmp, json.dumps(info, indent=1) + "\n"))
        return bundle([image, side])

    def format_attrs(self, ctx, kind: str) -> dict:
        """Attributes of the file format (colour tag, timecode, …) for an input ``kind``
        (image, matte, depth, normals, masks). Data and mattes are tagged Raw."""
        return {}

    def deliveries(self, connected):
        pattern = self.pattern()
        if "masks" in connected:
            folder, base = os.path.split(pattern)
            return [Delivery(os.path.join(folder, "{object}", base), "image", self.extension, colorspace="linear",
                             per_object=True)]
        out = [Delivery(pattern, "image", self.extension, colorspace=self.colorspace if "image" in connected else "linear")]
        if "depth" in connected and self.bit_depth != 32:
            out.append(Delivery(sidecar_path(pattern), "table", "json"))
        return out


def write_text(path: str, text: str) -> None:
    """Write ``text`` as UTF-8 to ``path`` (a publish callback: ``path`` is the temporary file)."""
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def _depth_params():
    return (Param(float, 0.0, range=(0.0, 1e9), doc="Z written as code 1 (with far: a fixed range; 0 and 0: each "
                                                   "frame's own nearest and farthest Z)"),
            Param(float, 0.0, range=(0.0, 1e9), doc="Z written as the top code"))


class WritePNG(ImageFileWriter):
    """Write an 8- or 16-bit PNG per frame: previews, mattes, depth and normals for ML
    pipelines and review.

    image: Image H×W×3/4 in ``working_space``, converted to ``colorspace`` (sRGB by default),
    alpha from ``matte`` or the image; matte: float32 H×W → grey; depth: Depth → grey,
    normalised between ``depth_near`` and ``depth_far`` (by default each frame's own range) as
    stated in the PNG's text chunks (``rotograph:near``, ``rotograph:far``, …) and in a JSON
    sidecar next to each frame (``depth.1001.json``), code 0 = no depth; normals: float32 H×W×3
    in [-1, 1] → RGB (n + 1) / 2; masks: each object to its own sequence (one folder per object).
    """

    type_id = "rotograph.WritePNG"
    extension = "png"
    data_inputs = ("depth", "normals")
    depth = Input(Depth, optional=True)
    normals = Input(Normals, optional=True)
    bit_depth = Param(int, 8, choices=(8, 16))
    depth_near, depth_far = _depth_params()
    colorspace = colorspace_param("sRGB", "Encoding of the PNG's RGB")
    working_space = working_space_param()

    def format_attrs(self, ctx, kind):
        return colour_tag(self.colorspace) if kind == "image" else {}


class WriteTIFF(ImageFileWriter):
    """Write a TIFF per frame: 8- or 16-bit integer, or 32-bit float (values kept as they are,
    e.g. scene-linear with ``colorspace`` linear, or raw Z for depth). Inputs as
    :class:`WritePNG` (depth: normalised in 8/16-bit, with a sidecar; raw Z in 32-bit float).
    ``compression``: none, LZW or ZIP (deflate)."""

    type_id = "rotograph.WriteTIFF"
    extension = "tif"
    data_inputs = ("depth", "normals")
    depth = Input(Depth, optional=True)
    normals = Input(Normals, optional=True)
    bit_depth = Param(int, 16, choices=(8, 16, 32), doc="32: float")
    compression = Param(str, "zip", choices=("none", "lzw", "zip"))
    depth_near, depth_far = _depth_params()
    colorspace = colorspace_param("sRGB", "Encoding of the TIFF's RGB (linear for float scene-linear)")
    working_space = working_space_param()

    def format_attrs(self, ctx, kind):
        return {"compression": self.compression}


def dpx_transfer(colorspace: str) -> str:
    """The DPX transfer characteristic naming a colourspace's encoding."""
    if colorspace.upper().startswith("ADX"):
        return "Printing density"
    if colorspace == "linear":
        return "Linear"
    if colorspace == "Rec.709":
        return "ITU-R 709-4"
    if colorspace in COLORSPACES:
        return "User defined"
    encoding = ocio_config().getColorSpace(colorspace).getEncoding()
    return {"scene-linear": "Linear", "log": "Logarithmic", "sdr-video": "ITU-R 709-4"}.get(encoding, "User defined")


class WriteDPX(ImageFileWriter):
    """Write a DPX per frame, 10-bit (default) or 16-bit, for finishing and film-out.

    image: Image H×W×3/4 in ``working_space``, converted to ``colorspace`` through OpenColorIO:
    ``ADX10`` (default: 10-bit printing-density log, the film-scan encoding) or ``ACEScct``,
    ``ARRI LogC4``, … for log; ``linear`` or ``Rec.709`` otherwise (clipped to [0, 1]). matte →
    grey; masks → one sequence per object. The header carries the transfer characteristic,
    the frame number (``FramePosition``) and, from the source when it has them, the frame rate
    and the frame's SMPTE timecode.
    """

    type_id = "rotograph.WriteDPX"
    extension = "dpx"
    bit_depth = Param(int, 10, choices=(10, 16))
    colorspace = colorspace_param("ADX10", "Encoding of the DPX (ADX10 log, ACEScct, linear, …)")
    working_space = working_space_param()

    def format_attrs(self, ctx, kind):
        transfer = dpx_transfer(self.colorspace) if kind == "image" else "User defined"
        attrs = {"dpx:Transfer": transfer, "dpx:Colorimetric": transfer, "dpx:FramePosition": ctx.frame}
        timing = ctx.timing
        if timing is not None and timing.rate is not None:
            attrs["dpx:FrameRate"] = float(timing.rate)
            text = timing.timecode_at(ctx.frame)
            if text:
                attrs["smpte:TimeCode"] = ("timecode", np.array([timecode_bcd(text), 0], np.uint32))
        return attrs

