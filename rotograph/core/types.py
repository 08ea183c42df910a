"""Port value types: what flows along a link.

=========  ==========================================================  ===================
type       value                                                       meaning
=========  ==========================================================  ===================
Image      ``np.ndarray`` float32 H×W×3 or H×W×4, scene-linear          plate / RGBA, straight
                                                                       alpha unless a node
                                                                       says premultiplied
Matte      ``np.ndarray`` float32 H×W in [0, 1]                         one alpha / mask
Masks      :class:`MaskSet` (uint16 H×W label map + object table)       multi-object segments
Depth      :class:`DepthMap` (float32 H×W Z + ``metric``, ``units``)    Z-depth
Normals    ``np.ndarray`` float32 H×W×3 in [-1, 1], camera space        surface normals
Camera     :class:`CameraData` (3×3 intrinsics, 4×4 world-to-camera     OpenCV convention
           extrinsics, image size)
Shapes     :class:`~rotograph.core.shapes.ShapeSet` (per object: cubic       roto splines, plate
           Bézier curves, per-vertex feather; format w, h, aspect)      pixels, y down
=========  ==========================================================  ===================

Every value also has a :class:`Format` (pixel size and pixel aspect), carried beside it by the
engine: a node's format follows from its inputs' formats and its params (:meth:`Node.output_format
<rotograph.node.Node.output_format>`), a Read's from its file's header, and it reaches ``compute``
through the :class:`~rotograph.node.Context` and the cache key.

Each :class:`PortType` knows how to check a value, measure its bytes and turn it into named
arrays plus JSON attributes for the disk cache (and back). Plugins may register more types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .shapes import ShapeSet, check_shapes, decode_shapes, encode_shapes  # noqa: F401


@dataclass(frozen=True)
class Format:
    """An image format: ``width`` × ``height`` pixels and ``pixel_aspect`` (pixel width / height:
    1.0 square, 2.0 for 2:1 anamorphic; the picture is displayed ``width × pixel_aspect`` wide)."""

    width: int
    height: int
    pixel_aspect: float = 1.0

    def scaled(self, scale: float) -> "Format":
        """This format at ``scale`` × its size (rounded, at least 1 px), same pixel aspect."""
        return Format(max(1, round(self.width * scale)), max(1, round(self.height * scale)), self.pixel_aspect)


@dataclass(frozen=True)
class MaskObject:
    """One object of a :class:`MaskSet`: label ``id`` (1..65535), ``name``, ``score`` in [0, 1],
    ``occluded`` in [0, 1] (how much of the object is hidden or outside the frame; 1: not seen)."""

    id: int
    name: str = ""
    score: float = 1.0
    occluded: float = 0.0


@dataclass
class MaskSet:
    """Multi-object segmentation: ``labels`` uint16 H×W (0 = background) and the object table."""

    labels: np.ndarray
    objects: list[MaskObject] = field(default_factory=list)

    def matte(self, object_id: int | None = None) -> np.ndarray:
        """float32 H×W matte of one object, or of the union of all objects when ``None``."""
        sel = self.labels > 0 if object_id is None else self.labels == object_id
        return sel.astype(np.float32)


@dataclass
class DepthMap:
    """Z-depth: ``z`` float32 H×W; ``metric`` true when in real units (``units``, e.g. "m")."""

    z: np.ndarray
    metric: bool = False
    units: str = "relative"


@dataclass
class CameraData:
    """Pinhole camera: ``intrinsics`` 3×3 K (pixels), ``extrinsics`` 4×4 world-to-camera
    (OpenCV: +X right, +Y down, +Z forward), ``size`` (width, height) in pixels."""

    intrinsics: np.ndarray
    extrinsics: np.ndarray
    size: tuple[int, int]


@dataclass
class Written:
    """What a writer returns: the file it wrote and that file's identity at write time, plus
    the ``extra`` files written with it (``(path, size, mtime_ns)`` each: a sidecar, one file
    per object). ``path`` is empty when a frame had nothing to write (no objects)."""

    path: str
    size: int
    mtime_ns: int
    extra: tuple[tuple[str, int, int], ...] = ()

    def files(self) -> list[tuple[str, int, int]]:
        """Every file written, as ``(path, size, mtime_ns)``."""
        return ([(self.path, self.size, self.mtime_ns)] if self.path else []) + list(self.extra)


Arrays = dict[str, np.ndarray]


@dataclass(frozen=True)
class PortType:
    """A named value type. ``check(value)`` returns an error string or ``None``."""

    name: str
    color: tuple[int, int, int]
    check: Callable[[Any], str | None]
    encode: Callable[[Any], tuple[Arrays, dict]]
    decode: Callable[[Arrays, dict], Any]

    def __repr__(self) -> str:
        return self.name


def _array_check(ndims: tuple[int, ...], channels: tuple[int, ...] | None, dtype=np.float32):
    def check(v):
        if not isinstance(v, np.ndarray):
            return f"expected a numpy array, got {type(v).__name__}"
        if v.ndim not in ndims:
            return f"expected {' or '.join(map(str, ndims))} dimensions, got shape {v.shape}"
        if channels and v.ndim == 3 and v.shape[2] not in channels:
            return f"expected {channels} channels, got shape {v.shape}"
        if v.dtype != dtype:
            return f"expected dtype {np.dtype(dtype).name}, got {v.dtype}"
        return None

    return check


def _plain_encode(v):
    return {"data": v}, {}


def _plain_decode(arrays, attrs):
    return arrays["data"]


def _masks_check(v):
    if not isinstance(v, MaskSet):
        return f"expected a MaskSet, got {type(v).__name__}"
    if v.labels.dtype != np.uint16 or v.labels.ndim != 2:
        return f"MaskSet.labels must be uint16 H×W, got {v.labels.dtype} {v.labels.shape}"
    return None


def _masks_encode(v: MaskSet):
    return {"labels": v.labels}, {"objects": [[o.id, o.name, o.score, o.occluded] for o in v.objects]}


def _masks_decode(arrays, attrs):  # entries written before ``occluded`` have 3 fields
    return MaskSet(arrays["labels"], [MaskObject(int(o[0]), str(o[1]), float(o[2]), float(o[3]) if len(o) > 3 else 0.0)
                                      for o in attrs["objects"]])


def _depth_check(v):
    if not isinstance(v, DepthMap):
        return f"expected a DepthMap, got {type(v).__name__}"
    return _array_check((2,), None)(v.z)


def _camera_check(v):
    if not isinstance(v, CameraData):
        return f"expected CameraData, got {type(v).__name__}"
    if np.shape(v.intrinsics) != (3, 3) or np.shape(v.extrinsics) != (4, 4):
        return "CameraData needs 3×3 intrinsics and 4×4 extrinsics"
    return None


def _camera_encode(v: CameraData):
    return ({"intrinsics": np.asarray(v.intrinsics, np.float64), "extrinsics": np.asarray(v.extrinsics, np.float64)},
            {"size": list(v.size)})


def _written_check(v):
    return None if isinstance(v, Written) else f"expected Written, got {type(v).__name__}"


Image = PortType("Image", (230, 200, 60), _array_check((3,), (3, 4)), _plain_encode, _plain_decode)
Matte = PortType("Matte", (200, 200, 200), _array_check((2,), None), _plain_encode, _plain_decode)
Masks = PortType("Masks", (220, 90, 200), _masks_check, _masks_encode, _masks_decode)
Depth = PortType(
    "Depth", (80, 160, 240), _depth_check,
    lambda v: ({"z": v.z}, {"metric": bool(v.metric), "units": v.units}),
    lambda a, attrs: DepthMap(a["z"], bool(attrs["metric"]), str(attrs["units"])),
)
Normals = PortType("Normals", (140, 140, 255), _array_check((3,), (3,)), _plain_encode, _plain_decode)
Camera = PortType(
    "Camera", (240, 120, 80), _camera_check, _camera_encode,
    lambda a, attrs: CameraData(a["intrinsics"], a["extrinsics"], tuple(attrs["size"])),
)
File = PortType(
    "File", (120, 120, 120), _written_check,
    lambda v: ({}, {"path": v.path, "size": v.size, "mtime_ns": v.mtime_ns, "extra": [list(e) for e in v.extra]}),
    lambda a, attrs: Written(attrs["path"], int(attrs["size"]), int(attrs["mtime_ns"]),
                             tuple((str(p), int(s), int(m)) for p, s, m in attrs.get("extra", []))),
)

Shapes = PortType("Shapes", (250, 150, 60), check_shapes, encode_shapes, decode_shapes)

BUILTIN_TYPES = (Image, Matte, Masks, Depth, Normals, Camera, File, Shapes)
