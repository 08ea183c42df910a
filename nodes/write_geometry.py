"""Camera and point-cloud writers: Nuke .chan, JSON and NPZ cameras; binary PLY point clouds."""

from __future__ import annotations

import json

import numpy as np

from rotograph import Camera, Depth, File, Image, Input, Matte, Output, Param, RangeNode, Segment
from rotograph.errors import RotographError
from rotograph.params import FileIn

from ._colour import convert_rgba, working_space_param
from .geometry import back_project, nuke_transform
from .write import FileWriter, Writer


class CameraFile(FileIn):
    """Path of a camera file (.chan, .json or .npz): one file for all frames."""

    name = "camera_out"

    @classmethod
    def canonical(cls, value):
        value = super().canonical(value)
        if value and not value.lower().endswith((".chan", ".json", ".npz")):
            raise ValueError(f"{value!r}: camera files end in .chan, .json or .npz")
        return value


class WriteCamera(Writer, RangeNode):
    """Write a per-frame camera (e.g. DA3Depth's) for other packages, one file for the range.

    ``.chan`` (Nuke, Houdini): ``frame tx ty tz rx ry rz vfov`` per line — camera-to-world in a
    +Y-up world (OpenCV's Y and Z flipped, see :mod:`rotograph.nodes.geometry`), rotations in
    degrees in Nuke's default order ZXY, vertical field of view in degrees.
    ``.json``: per frame the OpenCV intrinsics (3×3, pixels), world-to-camera extrinsics (4×4)
    and image size. ``.npz``: arrays ``frames`` (N), ``intrinsics`` (N×3×3), ``extrinsics``
    (N×4×4), ``size`` (2). camera: Camera. Output ``written``: the file.
    """

    type_id = "rotograph.WriteCamera"
    camera = Input(Camera)
    file = Param(CameraFile, "", doc="render/shot_camera.chan (or .json, .npz)", ui={"widget": "file_save"})
    written = Output(File)

    def segments(self, first: int, last: int) -> list[Segment]:
        return [Segment(tuple(range(first, last + 1)))]

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


class WritePointCloud(FileWriter):
    """Write a coloured point cloud per frame as binary little-endian PLY.

    Every ``stride``-th pixel with a valid Z is back-projected through the camera (OpenCV
    pinhole, Z along the optical axis) into camera or, with ``world_space``, world coordinates;
    a connected ``matte`` keeps only pixels above 0.5. Colours are the image converted from
    ``working_space`` to sRGB 8-bit. depth: Depth; camera: Camera; image: Image (same size).
    """

    type_id = "rotograph.WritePointCloud"
    image = Input(Image)
    depth = Input(Depth)
    camera = Input(Camera)
    matte = Input(Matte, optional=True)
    stride = Param(int, 2, range=(1, 64), doc="Keep every n-th pixel in x and y")
    world_space = Param(bool, True)
    working_space = working_space_param()

    def compute(self, ctx, image, depth, camera, matte):
        z = depth.z
        if image.shape[:2] != z.shape or (matte is not None and matte.shape != z.shape):
            raise RotographError(f"image {image.shape[:2]}, depth {z.shape} and matte sizes differ")
        if matte is not None:
            z = np.where(matte > 0.5, z, np.nan)
        pts, (ys, xs) = back_project(z, camera, self.stride, self.world_space)
        rgb = convert_rgba(image[..., :3], self.working_space, "sRGB")[ys, xs]
        colours = (np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8)
        vertex = np.empty(len(pts), dtype=[("x", "<f4"), ("y", "<f4"), ("z", "<f4"),
                                            ("red", "u1"), ("green", "u1"), ("blue", "u1")])
        vertex["x"], vertex["y"], vertex["z"] = pts.T
        vertex["red"], vertex["green"], vertex["blue"] = colours.T
        header = ("ply\nformat binary_little_endian 1.0\ncomment rotograph point cloud, frame "
                  f"{ctx.frame}, {'world' if self.world_space else 'camera (OpenCV)'} space\n"
                  f"element vertex {len(vertex)}\nproperty float x\nproperty float y\nproperty float z\n"
                  "property uchar red\nproperty uchar green\nproperty uchar blue\nend_header\n")

        def write(tmp):
            with open(tmp, "wb") as out:
                out.write(header.encode("ascii"))
                out.write(vertex.tobytes())

        return self.publish(ctx.frame, write)
