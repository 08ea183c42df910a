"""Camera conventions and back-projection, shared by the camera and point-cloud writers.

Cameras on the wire are OpenCV pinhole cameras: intrinsics K (pixels) and world-to-camera
extrinsics (+X right, +Y down, +Z forward, world axes the same way). Nuke (and OpenGL) cameras
are camera-to-world with +Y up and −Z forward in a +Y-up world, so both the camera and the world
axes flip Y and Z (W = diag(1, −1, −1)): C_nuke = W · E⁻¹ · W. Rotations are written in Nuke's
default order ZXY (Z applied first: R = Ry·Rx·Rz), in degrees.
"""

from __future__ import annotations

import math

import numpy as np

from rotograph.core.types import CameraData

CV_TO_GL = np.diag([1.0, -1.0, -1.0, 1.0])
# OpenCV world (+Y down, +Z forward) → Blender world (+Z up, +Y forward): (x, y, z) → (x, z, −y)
CV_TO_BLENDER = np.array([[1.0, 0, 0, 0], [0, 0, 1, 0], [0, -1, 0, 0], [0, 0, 0, 1]])
BLENDER_SENSOR = 36.0  # mm, Blender's default sensor width (sensor fit: horizontal)


def camera_to_world_gl(cam: CameraData) -> np.ndarray:
    """4×4 camera-to-world matrix in the OpenGL/Nuke axis convention (camera and world)."""
    return CV_TO_GL @ np.linalg.inv(np.asarray(cam.extrinsics, np.float64)) @ CV_TO_GL


def blender_camera(cam: CameraData) -> tuple[np.ndarray, float, float, float]:
    """(camera-to-world 4×4 in Blender's axes, lens in mm on a 36 mm horizontal sensor,
    shift_x, shift_y) of an OpenCV camera. Blender cameras look down their −Z with +Y up, in a
    +Z-up world: M = B · E⁻¹ · diag(1, −1, −1, 1) with B = :data:`CV_TO_BLENDER`. Shifts are
    the principal point's offset from the image centre in units of the image width (Blender's
    unit with the horizontal sensor fit; square pixels assumed: fx is used)."""
    k = np.asarray(cam.intrinsics, np.float64)
    w, h = cam.size
    m = CV_TO_BLENDER @ np.linalg.inv(np.asarray(cam.extrinsics, np.float64)) @ CV_TO_GL
    lens = k[0, 0] * BLENDER_SENSOR / w
    return m, float(lens), float((w / 2 - k[0, 2]) / w), float((k[1, 2] - h / 2) / w)


def rot(axis: str, degrees: float) -> np.ndarray:
    """The 3×3 rotation by ``degrees`` about ``axis`` (``"x"``, ``"y"`` or ``"z"``), right-handed."""
    a = math.radians(degrees)
    c, s = math.cos(a), math.sin(a)
    return {"x": np.array([[1, 0, 0], [0, c, -s], [0, s, c]]),
            "y": np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]]),
            "z": np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])}[axis]


def euler_zxy(r: np.ndarray) -> tuple[float, float, float]:
    """(rx, ry, rz) in degrees with R = Ry(ry)·Rx(rx)·Rz(rz) (Nuke rotation order ZXY)."""
    rx = math.asin(max(-1.0, min(1.0, -r[1, 2])))
    if abs(math.cos(rx)) > 1e-9:
        ry = math.atan2(r[0, 2], r[2, 2])
        rz = math.atan2(r[1, 0], r[1, 1])
    else:  # gimbal lock: ry absorbs the rotation
        ry = math.atan2(-r[2, 0], r[0, 0])
        rz = 0.0
    return math.degrees(rx), math.degrees(ry), math.degrees(rz)


def nuke_transform(cam: CameraData) -> tuple[list[float], list[float], float]:
    """(translate xyz, rotate xyz in degrees, vertical field of view in degrees)."""
    m = camera_to_world_gl(cam)
    rx, ry, rz = euler_zxy(m[:3, :3])
    fy = float(cam.intrinsics[1][1])
    vfov = math.degrees(2 * math.atan(cam.size[1] / (2 * fy)))
    return [float(v) for v in m[:3, 3]], [rx, ry, rz], vfov


def back_project(z: np.ndarray, cam: CameraData, stride: int = 1, world: bool = True):
    """Points (N×3, float32) of every ``stride``-th pixel with finite Z > 0, and their pixel
    indices. Camera space is OpenCV's; ``world`` maps them through the inverse extrinsics."""
    k = np.asarray(cam.intrinsics, np.float64)
    ys, xs = np.mgrid[0:z.shape[0]:stride, 0:z.shape[1]:stride]
    d = z[ys, xs].astype(np.float64)
    ok = np.isfinite(d) & (d > 0)
    xs, ys, d = xs[ok], ys[ok], d[ok]
    pts = np.stack([(xs + 0.5 - k[0, 2]) / k[0, 0] * d, (ys + 0.5 - k[1, 2]) / k[1, 1] * d, d], axis=1)
    if world:
        c2w = np.linalg.inv(np.asarray(cam.extrinsics, np.float64))
        pts = pts @ c2w[:3, :3].T + c2w[:3, 3]
    return pts.astype(np.float32), (ys, xs)
