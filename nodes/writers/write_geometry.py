"""Camera and point-cloud writers: Nuke .chan, JSON and NPZ cameras; binary PLY point clouds
(one per frame, or one for the shot accumulated in world space)."""

from __future__ import annotations

import json

import numpy as np

from rotograph import Camera, Delivery, Depth, Image, Input, Matte, Param, RangeWriter
from rotograph.errors import ParamError, RotographError
from rotograph.io.media import frame_pattern
from rotograph.core.types import CameraData

from ..common._colour import convert_rgba, working_space_param
from ..spatial.geometry import back_project, nuke_transform
from .write import output_file_kind

CameraFile = output_file_kind("camera_out", (".chan", ".json", ".npz"), "camera files")
PlyFile = output_file_kind("ply_out", (".ply",), "point clouds")


def ply_bytes(points: np.ndarray, colours: np.ndarray, comments: list[str]) -> bytes:
    """Binary little-endian PLY of N points (float32 x, y, z) with uint8 red, green, blue."""
    vertex = np.empty(len(points), dtype=[("x", "<f4"), ("y", "<f4"), ("z", "<f4"),
                                          ("red", "u1"), ("green", "u1"), ("blue", "u1")])
    vertex["x"], vertex["y"], vertex["z"] = np.asarray(points, np.float32).T
    vertex["red"], vertex["green"], vertex["blue"] = np.asarray(colours, np.uint8).T
    header = ("ply\nformat binary_little_endian 1.0\n" + "".join(f"comment {c}\n" for c in comments)
              + f"element vertex {len(vertex)}\nproperty float x\nproperty float y\nproperty float z\n"
              "property uchar red\nproperty uchar green\nproperty uchar blue\nend_header\n")
    return header.encode("ascii") + vertex.tobytes()


def write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` (a publish callback: ``path`` is the temporary file)."""
    with open(path, "wb") as f:
        f.write(data)


class VoxelGrid:
    """Points accumulated in a voxel grid: every voxel of ``size`` (world units) keeps the mean
    of the points (and colours) that fell in it; ``size`` 0 keeps every point. Memory is
    bounded by the number of occupied voxels, not the number of frames."""

    def __init__(self, size: float):
        self.size = size
        self.keys = np.zeros((0, 3), np.int64)
        self.sums = np.zeros((0, 6), np.float64)  # x, y, z, r, g, b
        self.counts = np.zeros(0, np.float64)

    def add(self, points: np.ndarray, colours: np.ndarray) -> None:
        """Add N×3 ``points`` (world units) with their N×3 ``colours``, merged into the voxels they fall in."""
        rows = np.hstack([np.asarray(points, np.float64), np.asarray(colours, np.float64)])
        if self.size <= 0:
            self.sums = np.vstack([self.sums, rows])
            self.counts = np.concatenate([self.counts, np.ones(len(rows))])
            return
        keys = np.vstack([self.keys, np.floor(rows[:, :3] / self.size).astype(np.int64)])
        uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        sums = np.vstack([self.sums, rows])
        self.sums = np.stack([np.bincount(inverse, sums[:, i], len(uniq)) for i in range(6)], axis=1)
        self.counts = np.bincount(inverse, np.concatenate([self.counts, np.ones(len(rows))]), len(uniq))
        self.keys = uniq

    def points(self) -> tuple[np.ndarray, np.ndarray]:
        """(N×3 mean positions, N×3 mean colours rounded to uint8)."""
        mean = self.sums / self.counts[:, None]
        return mean[:, :3], np.clip(np.floor(mean[:, 3:] + 0.5), 0, 255).astype(np.uint8)


class WriteCamera(RangeWriter):
    """Write a per-frame camera (e.g. DA3Depth's) for other packages, one file for the range.

    ``.chan`` (Nuke, Houdini): ``frame tx ty tz rx ry rz vfov`` per line — camera-to-world in a
    +Y-up world (OpenCV's Y and Z flipped, see :mod:`rotograph.nodes.spatial.geometry`), rotations in
    degrees in Nuke's default order ZXY, vertical field of view in degrees.
    ``.json``: per frame the OpenCV intrinsics (3×3, pixels), world-to-camera extrinsics (4×4)
    and image size. ``.npz``: arrays ``frames`` (N), ``intrinsics`` (N×3×3), ``extrinsics``
    (N×4×4), ``size`` (2). camera: Camera. Output ``written``: the file.
    """

    type_id = "rotograph.WriteCamera"
    delivery_kind = "camera"
    camera = Input(Camera)
    file = Param(CameraFile, "", doc="render/shot_camera.chan (or .json, .npz)", ui={"widget": "file_save"})

    def compute_range(self, ctx, segment, pull, resume=None):
        frames = ctx.frames or segment.frames
        cams = [(f, pull(f)["camera"]) for f in frames]
        ext = self.file.lower().rsplit(".", 1)[-1]

        def write(tmp):
            if ext == "chan":
                with open(tmp, "w") as out:
                    for f, cam in cams:
                        t, r, vfov = nuke_transform(cam)
                        out.write(" ".join([str(f)] + [f"{v:.9g}" for v in (*t, *r, vfov)]) + "\n")
            elif ext == "json":
                doc = {"convention": "OpenCV: intrinsics in pixels, extrinsics world-to-camera, +Y down, +Z forward",
                       "frames": {str(f): {"intrinsics": np.asarray(c.intrinsics).tolist(),
                                           "extrinsics": np.asarray(c.extrinsics).tolist(),
                                           "size": list(c.size)} for f, c in cams}}
                with open(tmp, "w") as out:
                    json.dump(doc, out, indent=1)
            else:
                with open(tmp, "wb") as out:
                    np.savez(out, frames=np.array(frames), size=np.array(cams[0][1].size),
                             intrinsics=np.stack([np.asarray(c.intrinsics, np.float64) for _, c in cams]),
                             extrinsics=np.stack([np.asarray(c.extrinsics, np.float64) for _, c in cams]))

        written = self.publish(frames[0], write)
        for f in frames:
            yield f, written


class WritePointCloud(RangeWriter):
    """Write coloured point clouds as binary little-endian PLY: one per frame, or one for the
    shot.

    Every ``stride``-th pixel with a valid Z is back-projected through the camera (OpenCV
    pinhole, Z along the optical axis); a connected ``matte`` keeps only pixels above 0.5, a
    connected ``confidence`` (e.g. DA3Depth's, in [0, 1)) only pixels at or above
    ``min_confidence``. Colours are the image converted from ``working_space`` to sRGB 8-bit.
    ``mode``: ``frame`` writes ``file`` (with a frame pattern) per frame, in camera or, with
    ``world_space``, world coordinates; ``global`` accumulates every frame of the range in
    world space into one PLY (``file`` without a frame pattern), averaged per voxel of
    ``voxel_size`` world units (0: every point is kept). depth: Depth; camera: Camera; image:
    Image (same size).
    """

    type_id = "rotograph.WritePointCloud"
    version = 2
    image = Input(Image)
    depth = Input(Depth)
    camera = Input(Camera)
    matte = Input(Matte, optional=True)
    confidence = Input(Matte, optional=True, doc="Per-pixel confidence in [0, 1] (DA3Depth's)")
    file = Param(PlyFile, "", doc="render/cloud.####.ply per frame, or render/cloud.ply (global)",
                 ui={"widget": "file_save"})
    mode = Param(str, "frame", choices=("frame", "global"), doc="One PLY per frame, or one accumulated over the range")
    stride = Param(int, 2, range=(1, 64), doc="Keep every n-th pixel in x and y")
    world_space = Param(bool, True, doc="frame mode: world (true) or camera coordinates; global is always world")
    voxel_size = Param(float, 0.0, range=(0.0, 1e6), doc="global mode: voxel edge in world units (0: keep every point)")
    min_confidence = Param(float, 0.0, range=(0.0, 1.0), doc="Keep pixels whose confidence is at least this")
    working_space = working_space_param()

    @classmethod
    def upgrade(cls, from_version, params):
        return {**params, "mode": "frame"} if from_version < 2 else params

    @property
    def holds(self) -> bool:
        """A failed frame can be held (``--on-error hold``) in ``frame`` mode only: one accumulated file cannot."""
        return self.mode == "frame"

    def check(self) -> None:
        super().check()
        per_frame = frame_pattern(self.file) is not None
        if per_frame != (self.mode == "frame"):
            raise ParamError(f"node '{self.name}': param 'file': mode {self.mode} needs a file "
                             f"{'with' if self.mode == 'frame' else 'without'} a frame pattern (####)")

    def frame_points(self, image, depth, camera: CameraData, matte, confidence, world: bool):
        """(N×3 points, N×3 uint8 sRGB colours) of one frame."""
        z = depth.z
        for what, plane in (("image", image), ("matte", matte), ("confidence", confidence)):
            if plane is not None and plane.shape[:2] != z.shape:
                raise RotographError(f"{what} is {plane.shape[1]}×{plane.shape[0]} but the depth is {z.shape[1]}×{z.shape[0]}")
        keep = np.ones(z.shape, bool)
        if matte is not None:
            keep &= matte > 0.5
        if confidence is not None:
            keep &= confidence >= self.min_confidence
        pts, (ys, xs) = back_project(np.where(keep, z, np.nan), camera, self.stride, world)
        rgb = convert_rgba(image[..., :3], self.working_space, "sRGB")[ys, xs]
        return pts, (np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8)

    def hold(self, ctx, inputs):
        return self._write_frame(ctx.frame, inputs)

    def _write_frame(self, frame: int, inputs):
        pts, colours = self.frame_points(**inputs, world=self.world_space)
        data = ply_bytes(pts, colours, [f"rotograph point cloud, frame {frame}, "
                                        f"{'world' if self.world_space else 'camera (OpenCV)'} space"])
        return self.publish(frame, lambda tmp: write_bytes(tmp, data))

    def compute_range(self, ctx, segment, pull, resume=None):
        frames = ctx.frames or segment.frames
        if self.mode == "frame":
            for f in frames:
                yield f, self._write_frame(f, pull(f))
            return
        grid = VoxelGrid(self.voxel_size)
        for f in frames:
            grid.add(*self.frame_points(**pull(f), world=True))
        pts, colours = grid.points()
        data = ply_bytes(pts, colours, [f"rotograph point cloud, frames {frames[0]}-{frames[-1]}, world space "
                                        "(OpenCV axes: +Y down, +Z forward)",
                                        f"voxel size {self.voxel_size:g}, min confidence {self.min_confidence:g}"])
        written = self.publish(frames[0], lambda tmp: write_bytes(tmp, data))
        for f in frames:
            yield f, written

    def deliveries(self, connected):
        return [Delivery(self.pattern(), "geometry", "ply", per_frame=self.mode == "frame")]
