"""Roto shapes: the value of a ``Shapes`` port — per object, cubic Bézier curves in plate pixels.

Coordinates (the *Shapes convention*, the one every exporter converts from): pixel units of
the plate's format (``width`` × ``height``, ``pixel_aspect`` width/height of one pixel), origin
at the top-left corner of the image, x right, y down; a pixel (col, row) covers
[col, col+1] × [row, row+1], so its centre is (col + 0.5, row + 0.5) and the whole image is
[0, width] × [0, height]. This is After Effects' layer space and SVG's user space; Nuke flips y
(origin bottom-left), Fusion and Silhouette normalise (see :mod:`rotograph.interop.shape_formats`).

A :class:`Curve` is a list of vertices, each with an *in* tangent (the handle before the vertex)
and an *out* tangent (the handle after it), both relative to the vertex, as in After Effects'
``inTangents``/``outTangents``: the segment from vertex i to vertex i+1 is the cubic Bézier
``P_i, P_i + out_i, P_{i+1} + in_{i+1}, P_{i+1}`` (a closed curve also joins the last vertex to
the first). ``feather`` is a per-vertex feather width in pixels (outwards, ≥ 0; 0 = hard edge).
A hole of an object is a separate closed curve with ``hole=True``: it is cut out of the
object's other curves.

Values are small and JSON-friendly (:meth:`ShapeSet.to_json` / :meth:`ShapeSet.from_json`);
the cache stores the vertices as float64 arrays, so a value round-trips bit-exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .params import ParamKind

POINT_COLUMNS = ("x", "y", "in_dx", "in_dy", "out_dx", "out_dy")


@dataclass
class Curve:
    """One Bézier curve: ``points`` float64 N×6 (x, y, in_dx, in_dy, out_dx, out_dy) in plate
    pixels, ``feather`` float64 N (pixels, ≥ 0), ``closed`` (a closed outline, else an open
    path), ``hole`` (cut out of the object's other curves; only for closed curves), ``key``
    (the curve's identity within its object, the same on every frame: what exporters and
    keyframe interpolation pair curves by; unique within the object)."""

    points: np.ndarray
    feather: np.ndarray | None = None
    closed: bool = True
    hole: bool = False
    key: int = 0

    def __post_init__(self):
        self.points = np.asarray(self.points, np.float64).reshape(-1, 6)
        self.feather = (np.zeros(len(self.points)) if self.feather is None
                        else np.asarray(self.feather, np.float64).reshape(-1))
        self.closed, self.hole, self.key = bool(self.closed), bool(self.hole), int(self.key)

    @property
    def vertices(self) -> np.ndarray:
        """N×2 vertex positions (x, y)."""
        return self.points[:, :2]

    def segments(self) -> np.ndarray:
        """S×4×2 control points of the cubic segments (S = N for a closed curve, N−1 open)."""
        p = self.points
        n = len(p) if self.closed else len(p) - 1
        if n <= 0:
            return np.zeros((0, 4, 2))
        nxt = np.roll(p, -1, axis=0)[:n]
        a = p[:n, :2]
        b = nxt[:, :2]
        return np.stack([a, a + p[:n, 4:6], b + nxt[:, 2:4], b], axis=1)

    def sample(self, per_segment: int = 16) -> np.ndarray:
        """Points along the curve, ``per_segment`` per segment (the last vertex of an open curve
        included): K×2 float64 — the polyline a rasteriser or a length measure uses."""
        seg = self.segments()
        if not len(seg):
            return self.vertices.copy()
        t = np.linspace(0.0, 1.0, per_segment, endpoint=False)[:, None]
        basis = np.concatenate([(1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t ** 2, t ** 3], axis=1)
        pts = np.einsum("tk,skd->std", basis, seg).reshape(-1, 2)
        return pts if self.closed else np.vstack([pts, seg[-1, 3]])

    def to_json(self) -> dict:
        """The curve as JSON: ``key``, ``closed``, ``hole``, ``points`` (rows of floats) and ``feather``."""
        return {"key": self.key, "closed": self.closed, "hole": self.hole,
                "points": [[float(v) for v in row] for row in self.points],
                "feather": [float(v) for v in self.feather]}


@dataclass
class ShapeObject:
    """The curves of one object: ``id`` (1..65535, the id of the Masks object it came from),
    ``name``, ``curves`` (outlines, open paths and holes)."""

    id: int
    name: str = ""
    curves: list[Curve] = field(default_factory=list)

    @property
    def vertex_count(self) -> int:
        """Vertices over all of the object's curves."""
        return sum(len(c.points) for c in self.curves)


@dataclass
class ShapeSet:
    """Roto shapes of one frame: the plate's format (``width``, ``height`` in pixels,
    ``pixel_aspect``) and the objects' curves, in the Shapes convention (module docstring)."""

    width: int
    height: int
    pixel_aspect: float = 1.0
    objects: list[ShapeObject] = field(default_factory=list)

    def object(self, object_id: int) -> ShapeObject | None:
        """The object with id ``object_id``, or None."""
        return next((o for o in self.objects if o.id == object_id), None)

    def scaled(self, width: int, height: int) -> "ShapeSet":
        """The same shapes in another format of the same image (a proxy, a Reformat): every
        coordinate, tangent and feather scaled by width/self.width and height/self.height
        (feather by their mean)."""
        sx, sy = width / self.width, height / self.height
        scale = np.array([sx, sy] * 3)
        return ShapeSet(width, height, self.pixel_aspect * sy / sx if sx != sy else self.pixel_aspect,
                        [ShapeObject(o.id, o.name, [Curve(c.points * scale, c.feather * (sx + sy) / 2, c.closed, c.hole, c.key)
                                                    for c in o.curves]) for o in self.objects])

    # -- JSON -----------------------------------------------------------------------------
    def to_json(self) -> dict:
        """A plain-JSON form: ``{"format": [w, h, pixel_aspect], "objects": [{"id", "name",
        "curves": [{"closed", "hole", "points": [[x, y, in_dx, in_dy, out_dx, out_dy], …],
        "feather": […]}]}]}``."""
        return {"format": [self.width, self.height, self.pixel_aspect],
                "objects": [{"id": o.id, "name": o.name, "curves": [c.to_json() for c in o.curves]}
                            for o in self.objects]}

    @classmethod
    def from_json(cls, doc, where: str = "shapes") -> "ShapeSet":
        """Read :meth:`to_json`'s form; raises ``ValueError`` naming the field at fault."""
        if not isinstance(doc, dict) or "format" not in doc:
            raise ValueError(f"{where}: expected an object with 'format' and 'objects'")
        fmt = doc["format"]
        if not (isinstance(fmt, list) and len(fmt) == 3 and all(_is_number(v) for v in fmt)
                and fmt[0] >= 1 and fmt[1] >= 1 and fmt[2] > 0):
            raise ValueError(f"{where}.format: expected [width ≥ 1, height ≥ 1, pixel_aspect > 0], got {fmt!r:.60}")
        objects = []
        for i, o in enumerate(doc.get("objects", [])):
            w = f"{where}.objects[{i}]"
            if not isinstance(o, dict) or not isinstance(o.get("id"), int) or not 1 <= o["id"] <= 65535:
                raise ValueError(f"{w}.id: expected an integer in 1..65535")
            curves = []
            for j, c in enumerate(o.get("curves", [])):
                wc = f"{w}.curves[{j}]"
                if not isinstance(c, dict):
                    raise ValueError(f"{wc}: expected an object with points")
                pts = c.get("points", [])
                if not (isinstance(pts, list) and all(isinstance(p, list) and len(p) == 6 and all(map(_is_number, p))
                                                      for p in pts)):
                    raise ValueError(f"{wc}.points: expected a list of [x, y, in_dx, in_dy, out_dx, out_dy] numbers")
                if not isinstance(c.get("key", j), int) or isinstance(c.get("key"), bool):
                    raise ValueError(f"{wc}.key: expected an integer")
                feather = c.get("feather", [0.0] * len(pts))
                if not (isinstance(feather, list) and len(feather) == len(pts) and all(map(_is_number, feather))):
                    raise ValueError(f"{wc}.feather: expected {len(pts)} numbers (one per vertex)")
                curves.append(Curve(np.array(pts, np.float64).reshape(-1, 6), np.array(feather, np.float64),
                                    bool(c.get("closed", True)), bool(c.get("hole", False)), c.get("key", j)))
            objects.append(ShapeObject(o["id"], str(o.get("name", "")), curves))
        shapes = cls(int(fmt[0]), int(fmt[1]), float(fmt[2]), objects)
        problem = check_shapes(shapes)
        if problem:
            raise ValueError(f"{where}: {problem}")
        return shapes


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)


def check_shapes(v) -> str | None:
    """Why ``v`` is not a valid :class:`ShapeSet`, or ``None``."""
    if not isinstance(v, ShapeSet):
        return f"expected a ShapeSet, got {type(v).__name__}"
    if v.width < 1 or v.height < 1 or not v.pixel_aspect > 0:
        return f"bad format {v.width}×{v.height} pixel aspect {v.pixel_aspect}"
    ids = [o.id for o in v.objects]
    if len(set(ids)) != len(ids):
        return f"object ids repeat: {ids}"
    for o in v.objects:
        keys = [c.key for c in o.curves]
        if len(set(keys)) != len(keys):
            return f"object {o.id}: curve keys repeat: {keys}"
        for j, c in enumerate(o.curves):
            if c.points.ndim != 2 or c.points.shape[1] != 6 or c.feather.shape != (len(c.points),):
                return f"object {o.id} curve {j}: points must be N×6 with N feather values"
            if not (np.isfinite(c.points).all() and np.isfinite(c.feather).all()):
                return f"object {o.id} curve {j}: non-finite coordinates"
            if (c.feather < 0).any():
                return f"object {o.id} curve {j}: negative feather"
            if c.hole and not c.closed:
                return f"object {o.id} curve {j}: a hole must be a closed curve"
    return None


def encode_shapes(v: ShapeSet) -> tuple[dict[str, np.ndarray], dict]:
    """Arrays for the disk cache: ``points`` M×6 float64 and ``feather`` M float64 (every
    curve's vertices, in order) and ``curves`` K×5 int64 (object index, vertex count, closed,
    hole, key); attributes: the format and the object table."""
    curves = [(i, c) for i, o in enumerate(v.objects) for c in o.curves]
    points = np.concatenate([c.points for _, c in curves]) if curves else np.zeros((0, 6))
    feather = np.concatenate([c.feather for _, c in curves]) if curves else np.zeros(0)
    table = np.array([[i, len(c.points), int(c.closed), int(c.hole), c.key] for i, c in curves],
                     np.int64).reshape(-1, 5)
    attrs = {"format": [v.width, v.height, v.pixel_aspect], "objects": [[o.id, o.name] for o in v.objects]}
    return {"points": points, "feather": feather, "curves": table}, attrs


def decode_shapes(arrays: dict[str, np.ndarray], attrs: dict) -> ShapeSet:
    """The :class:`ShapeSet` that :func:`encode_shapes` stored as ``arrays`` (``curves``, ``points``,
    ``feather``) and ``attrs`` (``format``: width, height, pixel aspect; ``objects``: id, name)."""
    w, h, pa = attrs["format"]
    objects = [ShapeObject(int(i), str(n)) for i, n in attrs["objects"]]
    start = 0
    for oi, n, closed, hole, key in arrays["curves"].tolist():
        objects[oi].curves.append(Curve(arrays["points"][start:start + n].copy(),
                                        arrays["feather"][start:start + n].copy(), bool(closed), bool(hole), key))
        start += n
    return ShapeSet(int(w), int(h), float(pa), objects)


def interpolate(a: ShapeSet, b: ShapeSet, t: float) -> ShapeSet:
    """Shapes between keyframe ``a`` (t = 0) and ``b`` (t = 1): every vertex, tangent and
    feather linearly interpolated for each curve that both hold (same object id and ``key``)
    with the same vertex count and kind; any other curve holds ``a``'s. Format: ``a``'s."""
    objects = []
    for oa in a.objects:
        ob = b.object(oa.id)
        curves = []
        by_key = {c.key: c for c in ob.curves} if ob is not None else {}
        for ca in oa.curves:
            cb = by_key.get(ca.key)
            if cb is None or cb.points.shape != ca.points.shape or (cb.closed, cb.hole) != (ca.closed, ca.hole):
                curves.append(ca)
            else:
                curves.append(Curve(ca.points + t * (cb.points - ca.points), ca.feather + t * (cb.feather - ca.feather),
                                    ca.closed, ca.hole, ca.key))
        objects.append(ShapeObject(oa.id, oa.name, curves))
    return ShapeSet(a.width, a.height, a.pixel_aspect, objects)


def shapes_at(keys: list[dict], frame: int) -> ShapeSet | None:
    """The shapes of canonical :class:`ShapeKeys` at ``frame``: a keyframe's
    own, linear interpolation between the two keyframes around ``frame`` (per curve of the
    same vertex count; see :func:`interpolate`), the first before the first
    keyframe and the last after the last. ``None`` without keyframes."""
    if not keys:
        return None
    frames = [k["frame"] for k in keys]
    i = int(np.searchsorted(frames, frame, side="right"))
    if i == 0:
        return ShapeSet.from_json(keys[0]["shapes"])
    a = ShapeSet.from_json(keys[i - 1]["shapes"])
    if i == len(keys) or frames[i - 1] == frame:
        return a
    b = ShapeSet.from_json(keys[i]["shapes"])
    return interpolate(a, b, (frame - frames[i - 1]) / (frames[i] - frames[i - 1]))


class ShapeKeys(ParamKind):
    """Keyframed roto shapes: ``[{"frame": 1001, "shapes": <ShapeSet JSON>}, …]`` (see
    :meth:`ShapeSet.to_json`), one entry per keyframe, kept sorted by frame; frames unique."""

    name = "shape_keys"

    @classmethod
    def canonical(cls, value):
        if not isinstance(value, list):
            raise ValueError("expected a list of {frame, shapes} keyframes")
        out = {}
        for i, key in enumerate(value):
            if not isinstance(key, dict) or set(key) != {"frame", "shapes"}:
                raise ValueError(f"[{i}]: expected an object with 'frame' and 'shapes'")
            frame = key["frame"]
            if isinstance(frame, bool) or not isinstance(frame, int):
                raise ValueError(f"[{i}].frame: expected an integer frame number")
            if frame in out:
                raise ValueError(f"[{i}].frame: frame {frame} is keyed twice")
            out[frame] = ShapeSet.from_json(key["shapes"], where=f"[{i}].shapes").to_json()
        return [{"frame": f, "shapes": out[f]} for f in sorted(out)]
