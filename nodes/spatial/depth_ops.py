"""Depth-driven nodes: DepthToNormals, DepthMatte, DepthLayers (work on any Depth, e.g. DA3Depth's)."""

from __future__ import annotations

import numpy as np

from rotograph import Camera, Depth, Input, Matte, Node, Normals, Output, Param
from rotograph.core.node import CachePolicy
from rotograph.core.types import CameraData

from ..common._imaging import blur


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def default_camera(shape) -> CameraData:
    """A pinhole with a 53° horizontal field of view (focal = width) centred on the frame."""
    h, w = shape
    k = np.array([[w, 0, w / 2], [0, w, h / 2], [0, 0, 1]], np.float64)
    return CameraData(k, np.eye(4), (w, h))


class DepthToNormals(Node):
    """Surface normals from Z-depth: every pixel is back-projected through the camera (OpenCV
    pinhole; without a camera input, a 53° horizontal field of view centred on the frame), the
    tangents along x and y come from central differences and the normal is their cross product,
    turned to face the camera.

    depth: Depth (float32 H×W, Z along the optical axis); camera (optional): Camera.
    ``smoothing``: σ (px) of a blur of Z first. Output ``normals``: float32 H×W×3 in [−1, 1],
    camera space (OpenCV: +X right, +Y down, +Z forward), or world space with ``world_space``.
    """

    type_id = "rotograph.DepthToNormals"
    category = "Depth"
    cache_policy = CachePolicy.MEMORY_ONLY

    depth = Input(Depth)
    camera = Input(Camera, optional=True)
    smoothing = Param(float, 1.0, range=(0.0, 20.0))
    world_space = Param(bool, False, doc="Rotate the normals into world space (needs the camera)")
    normals = Output(Normals)

    def compute(self, ctx, depth, camera):
        z = blur(depth.z.astype(np.float32), self.smoothing).astype(np.float64)
        cam = camera or default_camera(z.shape)
        k = np.asarray(cam.intrinsics, np.float64)
        ys, xs = np.mgrid[0:z.shape[0], 0:z.shape[1]] + 0.5
        p = np.stack([(xs - k[0, 2]) / k[0, 0] * z, (ys - k[1, 2]) / k[1, 1] * z, z], -1)
        dx = np.gradient(p, axis=1)
        dy = np.gradient(p, axis=0)
        n = np.cross(dx, dy)
        n /= np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-12)
        facing = np.sum(n * p, axis=-1, keepdims=True) > 0  # normals point back at the camera
        n = np.where(facing, -n, n)
        if self.world_space and camera is not None:
            n = n @ np.linalg.inv(np.asarray(camera.extrinsics, np.float64))[:3, :3].T
        return np.nan_to_num(n, nan=0.0).astype(np.float32)


class DepthMatte(Node):
    """A matte of what lies between a near and a far plane, with a soft edge.

    matte = 1 for ``near`` ≤ Z ≤ ``far``, falling to 0 over ``falloff`` (depth units) outside
    either plane (smoothstep); ``invert`` keeps the outside. depth: Depth (metric or relative,
    as its ``units`` say). Output ``matte``: float32 H×W in [0, 1].
    """

    type_id = "rotograph.DepthMatte"
    category = "Depth"
    cache_policy = CachePolicy.MEMORY_ONLY

    depth = Input(Depth)
    near = Param(float, 0.0, range=(-1e9, 1e9))
    far = Param(float, 10.0, range=(-1e9, 1e9))
    falloff = Param(float, 0.5, range=(0.0, 1e9))
    invert = Param(bool, False)
    matte = Output(Matte)

    def compute(self, ctx, depth):
        z = depth.z
        f = max(self.falloff, 1e-9)
        m = np.minimum(_smoothstep((z - (self.near - f)) / f), _smoothstep(((self.far + f) - z) / f))
        if self.falloff == 0:
            m = ((z >= self.near) & (z <= self.far)).astype(np.float32)
        m = np.where(np.isfinite(z), m, 0.0)
        return (1.0 - m if self.invert else m).astype(np.float32)


class DepthLayers(Node):
    """Split a shot into foreground, midground and background mattes by depth.

    Z below ``split_near`` is foreground, above ``split_far`` background, between midground;
    each split is a ``softness``-wide smoothstep (depth units), so the three mattes always sum
    to 1. depth: Depth. Outputs ``foreground``, ``midground``, ``background``: float32 H×W in [0, 1].
    """

    type_id = "rotograph.DepthLayers"
    category = "Depth"
    cache_policy = CachePolicy.MEMORY_ONLY

    depth = Input(Depth)
    split_near = Param(float, 2.0, range=(-1e9, 1e9))
    split_far = Param(float, 6.0, range=(-1e9, 1e9))
    softness = Param(float, 0.5, range=(0.0, 1e9))
    foreground = Output(Matte)
    midground = Output(Matte)
    background = Output(Matte)

    def compute(self, ctx, depth):
        z = np.nan_to_num(depth.z, nan=np.inf)
        s = max(self.softness, 1e-9)
        beyond_near = _smoothstep((z - self.split_near) / s + 0.5)
        beyond_far = _smoothstep((z - max(self.split_far, self.split_near)) / s + 0.5)
        fg = 1.0 - beyond_near
        bg = beyond_far * beyond_near
        return {"foreground": fg.astype(np.float32), "midground": (1.0 - fg - bg).astype(np.float32),
                "background": bg.astype(np.float32)}
