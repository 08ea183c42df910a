"""Test double for geometry writers: a camera dollying and turning in front of a wall.

The wall is the world plane z = 0 (OpenCV axes); the camera sits at (x_f, 0.2, -5) looking
along +Z, turned by yaw_f about Y, so every frame's depth and camera are known exactly."""

import math

import numpy as np

from rotograph import Camera, CameraData, Depth, DepthMap, Image, Node, Output

W, H, F = 64, 48, 60.0


def camera(frame: int) -> CameraData:
    i = frame - 1001
    yaw = math.radians(2.0 * i)
    r = np.array([[math.cos(yaw), 0, math.sin(yaw)], [0, 1, 0], [-math.sin(yaw), 0, math.cos(yaw)]])  # cam→world
    c = np.array([0.1 * i, 0.2, -5.0])
    ext = np.eye(4)
    ext[:3, :3] = r.T
    ext[:3, 3] = -r.T @ c
    k = np.array([[F, 0, W / 2], [0, F, H / 2], [0, 0, 1]])
    return CameraData(k, ext, (W, H))


class WallScene(Node):
    """Image, exact Z-depth of the wall z = 0, and the camera, per frame 1001-1010."""

    type_id = "test.WallScene"
    frame_dependent = True
    image = Output(Image)
    depth = Output(Depth)
    camera = Output(Camera)

    def frame_range(self, input_ranges):
        return (1001, 1010)

    def compute(self, ctx):
        cam = camera(ctx.frame)
        c2w = np.linalg.inv(cam.extrinsics)
        ys, xs = np.mgrid[0:H, 0:W] + 0.5
        rays = np.stack([(xs - W / 2) / F, (ys - H / 2) / F, np.ones_like(xs)], -1) @ c2w[:3, :3].T
        z = (-c2w[2, 3] / rays[..., 2]).astype(np.float32)  # camera-space Z: ray scale reaching world z = 0
        img = np.dstack([xs / W, ys / H, np.full_like(xs, 0.5)]).astype(np.float32)
        return {"image": img, "depth": DepthMap(z, True, "m"), "camera": cam}


def register(registry):
    registry.add(WallScene)
