"""Reformat, Crop and Transform: change an image's format, window or placement.

Coordinates follow Nuke: pixels, origin at the **bottom-left** corner of the format, x to the
right, y up; pixel (x, y) covers [x, x + 1] × [y, y + 1]. (Arrays are stored top row first:
row r holds y = H − 1 − r.) Pixels with no source are black and transparent (0 in every
channel). Images are float32 H×W×3/4 (premultiplied when they have alpha, as Nuke assumes for
filtering) and come out float32.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from rotograph import Format, Image, Input, Node, Output, Param
from rotograph.errors import RotographError
from rotograph.core.node import CachePolicy

# name: (width, height, pixel aspect) — Nuke's format names
FORMATS = {
    "PC_Video": (640, 480, 1.0), "NTSC": (720, 486, 0.91), "PAL": (720, 576, 1.09),
    "HD_720": (1280, 720, 1.0), "HD_1080": (1920, 1080, 1.0), "UHD_4K": (3840, 2160, 1.0),
    "2K_DCI": (2048, 1080, 1.0), "4K_DCI": (4096, 2160, 1.0), "2K_Super_35(full-ap)": (2048, 1556, 1.0),
    "4K_Super_35(full-ap)": (4096, 3112, 1.0), "2K_Cinemascope": (1828, 1556, 2.0),
    "square_1K": (1024, 1024, 1.0), "square_2K": (2048, 2048, 1.0),
}
FILTERS = {"nearest": cv2.INTER_NEAREST, "linear": cv2.INTER_LINEAR, "cubic": cv2.INTER_CUBIC,
           "lanczos": cv2.INTER_LANCZOS4, "area": cv2.INTER_AREA}


def _filter(name: str, shrinking: bool) -> int:
    """OpenCV flag of a filter name; ``area`` (box average) only applies when shrinking, and
    stands for ``linear`` otherwise (OpenCV's warps have no area filter)."""
    return FILTERS["linear" if name == "area" and not shrinking else name]


def place(image: np.ndarray, width: int, height: int, x: int, y: int) -> np.ndarray:
    """A ``width``×``height`` float32 canvas, black, with ``image``'s bottom-left corner at
    (x, y) (Nuke coordinates, y up); what falls outside the canvas is cut."""
    h, w = image.shape[:2]
    out = np.zeros((height, width) + image.shape[2:], np.float32)
    x0, x1 = max(x, 0), min(x + w, width)
    y0, y1 = max(y, 0), min(y + h, height)
    if x0 < x1 and y0 < y1:  # rows: y ↦ height − 1 − y
        out[height - y1:height - y0, x0:x1] = image[h - (y1 - y):h - (y0 - y), x0 - x:x1 - x]
    return out


def nuke_to_cv(matrix: np.ndarray, src_h: int, dst_h: int) -> np.ndarray:
    """A 2×3 affine map between Nuke coordinates (continuous, y up) as the 2×3 matrix of OpenCV
    pixel indices (pixel centres at integers, y down) that ``cv2.warpAffine`` takes."""
    to_nuke = np.array([[1.0, 0, 0.5], [0, -1.0, src_h - 0.5], [0, 0, 1]])
    from_nuke = np.array([[1.0, 0, -0.5], [0, -1.0, dst_h - 0.5], [0, 0, 1]])
    return (from_nuke @ np.vstack([matrix, [0, 0, 1]]) @ to_nuke)[:2]


def warp_affine(image: np.ndarray, matrix: np.ndarray, width: int, height: int, filter: str) -> np.ndarray:
    """``image`` mapped by the 2×3 affine ``matrix`` (Nuke coordinates, source → output) onto a
    ``width``×``height`` black canvas, resampled with ``filter``."""
    shrink = abs(np.linalg.det(matrix[:, :2])) < 1.0
    m = nuke_to_cv(np.asarray(matrix, np.float64), image.shape[0], height)
    out = cv2.warpAffine(image, m, (width, height), flags=_filter(filter, shrink),
                         borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return out.reshape((height, width) + image.shape[2:])


class Reformat(Node):
    """Resize an image to a format: a named one (Nuke's names: ``HD_1080`` 1920×1080,
    ``UHD_4K`` 3840×2160, ``4K_DCI`` 4096×2160, …), ``custom`` (``width``×``height``,
    ``pixel_aspect``) or ``scale`` (the input's format times ``scale``, rounded: a proxy).

    ``resize``: ``fit`` scales the whole picture into the format (bars where the aspect ratios
    differ), ``fill`` covers the format (the overhang is cut), ``width``/``height`` match that
    side, ``distort`` stretches each axis to the format, ``none`` keeps the pixel size. The
    picture is centred; aspect ratios are of the displayed picture: width × pixel aspect. The
    input's pixel aspect comes with its format (a Read takes it from the file's header: 2.0 for
    2:1 anamorphic plates); ``input_pixel_aspect`` > 0 overrides it. The output's format carries
    the target's pixel aspect (``scale`` keeps the input's). ``filter``: area
    (box average, for shrinking; linear when enlarging), nearest, linear, cubic, lanczos
    (OpenCV's ``resize``, whose pixel-centre convention Nuke shares).

    image: Image float32 H×W×3/4. Output ``image``: float32 of the format's size, same channels.
    """

    type_id = "rotograph.Reformat"
    version = 2  # 2: the input's pixel aspect from its format (input_pixel_aspect 0)
    category = "Transform"
    cache_policy = CachePolicy.MEMORY_ONLY

    image = Input(Image)
    format = Param(str, "HD_1080", choices=tuple(FORMATS) + ("custom", "scale"))
    scale = Param(float, 1.0, range=(0.001, 100.0), doc="Size factor of the scale format (0.5: half size)")
    width = Param(int, 1920, range=(1, 32768), doc="Width (px) of the custom format")
    height = Param(int, 1080, range=(1, 32768), doc="Height (px) of the custom format")
    pixel_aspect = Param(float, 1.0, range=(0.1, 10.0), doc="Pixel aspect of the custom format")
    input_pixel_aspect = Param(float, 0.0, range=(0.0, 10.0),
                               doc="Pixel aspect of the input; 0: the input format's (from the file's header)")
    resize = Param(str, "fit", choices=("fit", "fill", "width", "height", "distort", "none"))
    filter = Param(str, "area", choices=tuple(FILTERS))
    out = Output(Image)

    @classmethod
    def upgrade(cls, from_version: int, params: dict) -> dict:
        """Version 1 had no formats on the wire: its input pixel aspect (1.0 unless set) stays."""
        if from_version < 2:
            params = {**params, "input_pixel_aspect": params.get("input_pixel_aspect", 1.0)}
        return params

    def proxy_params(self, scale: float) -> dict:
        if self.format == "scale":
            return {}
        w, h, aspect = self.target(0, 0)
        return {"format": "custom", "width": max(1, round(w * scale)), "height": max(1, round(h * scale)),
                "pixel_aspect": aspect}

    def source_aspect(self, fmt: Format | None) -> float:
        """The input's pixel aspect: ``input_pixel_aspect`` when set, else its format's (else 1)."""
        return self.input_pixel_aspect or (fmt.pixel_aspect if fmt is not None else 1.0)

    def target(self, w: int, h: int, aspect: float | None = None) -> tuple[int, int, float]:
        """(width, height, pixel aspect) of the output format for a w×h input of pixel aspect
        ``aspect`` (``None``: :meth:`source_aspect` of no format)."""
        if self.format == "scale":
            return max(1, round(w * self.scale)), max(1, round(h * self.scale)), aspect or self.source_aspect(None)
        if self.format == "custom":
            return self.width, self.height, self.pixel_aspect
        return FORMATS[self.format]

    def output_format(self, input_formats):
        """The target format (``scale``: of the input's format, which it needs)."""
        fmt = input_formats.get("image")
        if fmt is None and self.format == "scale":
            return None
        w, h = (fmt.width, fmt.height) if fmt is not None else (0, 0)
        return Format(*self.target(w, h, self.source_aspect(fmt)))

    def scales(self, w: int, h: int, aspect: float | None = None) -> tuple[float, float]:
        """Pixel scale factors (x, y) from a w×h input of pixel aspect ``aspect`` to the output format."""
        pa = aspect or self.source_aspect(None)
        tw, th, tpa = self.target(w, h, pa)
        sx, sy = tw * tpa / (w * pa), th / h  # display-size ratios
        s = {"fit": min(sx, sy), "fill": max(sx, sy), "width": sx, "height": sy, "none": 1.0}.get(self.resize)
        if s is None or self.format == "scale":  # distort; a scale format fills itself exactly
            return tw / w, th / h
        return s * pa / tpa, s

    def compute(self, ctx, image):
        h, w = image.shape[:2]
        pa = self.source_aspect(ctx.input_formats.get("image"))
        tw, th, _ = self.target(w, h, pa)
        kx, ky = self.scales(w, h, pa)
        size = (max(1, round(w * kx)), max(1, round(h * ky)))
        if size != (w, h):
            shrink = kx * ky < 1.0
            image = cv2.resize(image, size, interpolation=_filter(self.filter, shrink)).reshape(
                (size[1], size[0]) + image.shape[2:])
        if size == (tw, th):
            return np.ascontiguousarray(image, dtype=np.float32)
        return place(image, tw, th, (tw - size[0]) // 2, (th - size[1]) // 2)


class Crop(Node):
    """Keep a box of the image: x, y (bottom-left corner) to right, top, in pixels (Nuke
    coordinates: origin bottom-left, y up; ``right``/``top`` exclusive). Outside the box the
    image becomes black and transparent and keeps its format; with ``reformat`` the output is
    the box itself (``right − x`` × ``top − y``; parts of the box outside the image are black).

    image: Image float32 H×W×3/4. Output ``image``: float32, same channels.
    Raises when the box is empty (right ≤ x or top ≤ y).
    """

    type_id = "rotograph.Crop"
    pixel_params = {"x": 1, "y": 1, "right": 1, "top": 1}  # in pixels: scaled by render --proxy (power of the scale)
    category = "Transform"
    cache_policy = CachePolicy.MEMORY_ONLY

    image = Input(Image)
    x = Param(int, 0, range=(-32768, 32768), doc="Left edge (px)")
    y = Param(int, 0, range=(-32768, 32768), doc="Bottom edge (px, from the bottom)")
    right = Param(int, 1920, range=(-32768, 32768), doc="Right edge (px, exclusive)")
    top = Param(int, 1080, range=(-32768, 32768), doc="Top edge (px from the bottom, exclusive)")
    reformat = Param(bool, False, doc="Make the box the output's format")
    out = Output(Image)

    def output_format(self, input_formats):
        """The input's format; with ``reformat``, the box's size (same pixel aspect)."""
        fmt = input_formats.get("image")
        if not self.reformat:
            return fmt
        return Format(max(1, self.right - self.x), max(1, self.top - self.y), fmt.pixel_aspect if fmt else 1.0)

    def compute(self, ctx, image):
        if self.right <= self.x or self.top <= self.y:
            raise RotographError(f"the crop box {self.x},{self.y} – {self.right},{self.top} is empty")
        h, w = image.shape[:2]
        if self.reformat:
            return place(image, self.right - self.x, self.top - self.y, -self.x, -self.y)
        x0, x1 = min(max(self.x, 0), w), min(max(self.right, 0), w)
        y0, y1 = min(max(self.y, 0), h), min(max(self.top, 0), h)
        out = np.zeros_like(image, dtype=np.float32)
        out[h - y1:h - y0, x0:x1] = image[h - y1:h - y0, x0:x1]
        return out


class Transform(Node):
    """Move, rotate and scale an image within its format (Nuke's Transform, no motion blur).

    The output pixel at p' shows the input at p where p' = c + t + R(rotate)·S(scale)·(p − c):
    ``translate_x``/``translate_y`` in pixels (y up), ``rotate`` in degrees counter-clockwise,
    ``scale`` (× ``scale_y_ratio`` vertically) about the centre c = (``center_x``·W,
    ``center_y``·H) — the centre as a fraction of the format (0.5, 0.5 = its middle), so it
    stays put at any resolution. On an anamorphic format (pixel aspect ≠ 1) rotation and
    scale act on the displayed picture. ``filter``: nearest, linear, cubic, lanczos (``area`` means
    linear here). OpenCV's ``warpAffine``; uncovered pixels are black and transparent.

    image: Image float32 H×W×3/4. Output ``image``: float32 H×W×C (the input's format).
    """

    type_id = "rotograph.Transform"
    pixel_params = {"translate_x": 1, "translate_y": 1}  # in pixels: scaled by render --proxy (power of the scale)
    category = "Transform"
    cache_policy = CachePolicy.MEMORY_ONLY

    image = Input(Image)
    translate_x = Param(float, 0.0, range=(-100000.0, 100000.0), doc="px, to the right")
    translate_y = Param(float, 0.0, range=(-100000.0, 100000.0), doc="px, up")
    rotate = Param(float, 0.0, range=(-36000.0, 36000.0), doc="degrees, counter-clockwise")
    scale = Param(float, 1.0, range=(0.001, 1000.0))
    scale_y_ratio = Param(float, 1.0, range=(0.001, 1000.0), doc="Vertical scale relative to horizontal")
    center_x = Param(float, 0.5, range=(-10.0, 10.0), doc="Centre of rotation and scale, fraction of the width")
    center_y = Param(float, 0.5, range=(-10.0, 10.0), doc="Centre, fraction of the height (from the bottom)")
    filter = Param(str, "cubic", choices=tuple(FILTERS))
    out = Output(Image)

    def passthrough(self):
        identity = (self.translate_x, self.translate_y, self.rotate % 360.0, self.scale, self.scale_y_ratio)
        return "image" if identity == (0.0, 0.0, 0.0, 1.0, 1.0) else None

    def matrix(self, w: int, h: int, pixel_aspect: float = 1.0) -> np.ndarray:
        """2×3 affine map, Nuke coordinates, input → output. Rotation and scale act on the
        displayed picture (x × ``pixel_aspect``), so an anamorphic plate turns undistorted."""
        a = math.radians(self.rotate)
        rs = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]]) @ np.diag(
            [self.scale, self.scale * self.scale_y_ratio])
        if pixel_aspect != 1.0:
            d = np.diag([pixel_aspect, 1.0])
            rs = np.linalg.inv(d) @ rs @ d
        c = np.array([self.center_x * w, self.center_y * h])
        return np.hstack([rs, (c + [self.translate_x, self.translate_y] - rs @ c)[:, None]])

    def compute(self, ctx, image):
        h, w = image.shape[:2]
        fmt = ctx.input_formats.get("image")
        return warp_affine(image, self.matrix(w, h, fmt.pixel_aspect if fmt else 1.0), w, h, self.filter)
