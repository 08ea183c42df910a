"""WriteBlender: a Python script that rebuilds the shot in Blender — the animated camera, the
plate on an image plane in front of it and the point cloud — and exports FBX or Alembic when
Blender runs it with ``-- --export fbx|abc FILE``.

The script is plain data plus Blender calls: the camera per frame (Blender axes, lens in mm on
a 36 mm sensor, shifts), the plate sequence and the PLY, as literals a reader can check with
``ast.literal_eval``; see :func:`rotograph.nodes.spatial.geometry.blender_camera` for the conversion.
"""

from __future__ import annotations

import os

import numpy as np

import rotograph
from rotograph import Camera, Delivery, File, FrameRate, Image, Input, Param, RangeWriter
from rotograph.core.node import Upgrade
from rotograph.io.colour import convert
from rotograph.io.media import expand_frame
from rotograph.io.timing import chosen_rate
from rotograph.core.writer import bundle, publish_file

from ..common._colour import ColourKeyed, colorspace_param, working_space_param
from ..spatial.geometry import BLENDER_SENSOR, CV_TO_BLENDER, blender_camera
from .write import output_file_kind
from .write_image import colour_tag, quantise, write_oiio, write_text

ScriptFile = output_file_kind("blender_out", (".py",), "Blender scripts")

SCRIPT = '''\
# Blender scene written by rotograph {version} (node '{node}'): the animated camera, the plate
# on an image plane in front of it and the point cloud, frames {first}-{last}.
#   blender --python {script}                                 build the scene
#   blender -b --python {script} -- --export fbx shot.fbx     build it and export FBX (or abc)
import os
import sys

import bpy
from mathutils import Matrix

FPS = {fps!r}  # exact rate: numerator, denominator
FRAMES = ({first}, {last})
RESOLUTION = {resolution!r}
SENSOR_WIDTH = {sensor!r}  # mm, horizontal sensor fit
PLATE = {plate!r}  # image sequence, relative to this script (None: no image plane)
POINT_CLOUD = {cloud!r}  # PLY in OpenCV world axes, relative to this script (None: none)
CV_TO_BLENDER = {cv_to_blender!r}  # OpenCV world (+Y down, +Z forward) to Blender's (+Z up)
PLANE_DISTANCE = {distance!r}  # the image plane's distance from the camera (world units)
# frame, lens (mm), shift x, shift y (fractions of the image width), camera-to-world (Blender axes)
CAMERA = [
{camera}]
HERE = os.path.dirname(os.path.abspath(__file__))


def _path(rel):
    return rel if os.path.isabs(rel) else os.path.join(HERE, rel)


def _link(scene, obj):
    scene.collection.objects.link(obj)
    return obj


def build_camera(scene):
    data = bpy.data.cameras.new("rotograph_camera")
    data.sensor_fit = "HORIZONTAL"
    data.sensor_width = SENSOR_WIDTH
    cam = _link(scene, bpy.data.objects.new("rotograph_camera", data))
    cam.rotation_mode = "XYZ"
    scene.camera = cam
    for frame, lens, shift_x, shift_y, matrix in CAMERA:
        location, rotation, _ = Matrix(matrix).decompose()
        cam.location = location
        cam.rotation_euler = rotation.to_euler("XYZ", cam.rotation_euler)  # continuous with the last key
        data.lens, data.shift_x, data.shift_y = lens, shift_x, shift_y
        cam.keyframe_insert("location", frame=frame)
        cam.keyframe_insert("rotation_euler", frame=frame)
        for prop in ("lens", "shift_x", "shift_y"):
            data.keyframe_insert(prop, frame=frame)
    return cam


def build_image_plane(scene, cam):
    mesh = bpy.data.meshes.new("rotograph_plate")
    mesh.from_pydata([(-1, -1, 0), (1, -1, 0), (1, 1, 0), (-1, 1, 0)], [], [(0, 1, 2, 3)])
    uv = mesh.uv_layers.new(name="UVMap")
    for loop in mesh.loops:
        x, y, _ = mesh.vertices[loop.vertex_index].co
        uv.data[loop.index].uv = ((x + 1) / 2, (y + 1) / 2)
    plane = _link(scene, bpy.data.objects.new("rotograph_plate", mesh))
    plane.parent = cam
    image = bpy.data.images.load(_path(PLATE.replace("####", "%04d" % FRAMES[0])))
    image.source = "SEQUENCE"
    material = bpy.data.materials.new("rotograph_plate")
    material.use_nodes = True
    nodes = material.node_tree.nodes
    nodes.clear()
    texture = nodes.new("ShaderNodeTexImage")
    texture.image = image
    texture.image_user.frame_duration = FRAMES[1] - FRAMES[0] + 1
    texture.image_user.frame_start = FRAMES[0]
    texture.image_user.frame_offset = FRAMES[0] - 1
    texture.image_user.use_auto_refresh = True
    emission = nodes.new("ShaderNodeEmission")
    output = nodes.new("ShaderNodeOutputMaterial")
    material.node_tree.links.new(texture.outputs["Color"], emission.inputs["Color"])
    material.node_tree.links.new(emission.outputs["Emission"], output.inputs["Surface"])
    mesh.materials.append(material)
    aspect = RESOLUTION[1] / RESOLUTION[0]
    for frame, lens, shift_x, shift_y, _ in CAMERA:  # fill the frustum at PLANE_DISTANCE
        width = PLANE_DISTANCE * SENSOR_WIDTH / lens
        plane.location = (shift_x * width, shift_y * width, -PLANE_DISTANCE)
        plane.scale = (width / 2, width / 2 * aspect, 1)
        plane.keyframe_insert("location", frame=frame)
        plane.keyframe_insert("scale", frame=frame)
    return plane


def import_point_cloud(scene):
    path = _path(POINT_CLOUD)
    if "ply_import" in dir(bpy.ops.wm):  # Blender 4.0+
        bpy.ops.wm.ply_import(filepath=path)
    else:
        bpy.ops.import_mesh.ply(filepath=path)
    cloud = bpy.context.selected_objects[0]
    cloud.name = "rotograph_point_cloud"
    cloud.matrix_world = Matrix(CV_TO_BLENDER)
    return cloud


def build_scene():
    """Add the camera, image plane and point cloud to the current scene; return them."""
    scene = bpy.context.scene
    nominal = round(FPS[0] / FPS[1])
    scene.render.fps, scene.render.fps_base = nominal, nominal * FPS[1] / FPS[0]
    scene.frame_start, scene.frame_end = FRAMES
    scene.render.resolution_x, scene.render.resolution_y = RESOLUTION
    cam = build_camera(scene)
    made = [cam]
    if PLATE:
        made.append(build_image_plane(scene, cam))
    if POINT_CLOUD:
        made.append(import_point_cloud(scene))
    return made


def export(made, fmt, path):
    """Export what build_scene made as FBX (baked animation) or Alembic."""
    for obj in bpy.context.scene.objects:
        obj.select_set(obj in made)
    if fmt == "fbx":
        bpy.ops.export_scene.fbx(filepath=path, use_selection=True, bake_anim=True)
    else:
        bpy.ops.wm.alembic_export(filepath=path, selected=True, start=FRAMES[0], end=FRAMES[1])


def main(argv):
    args = argv[argv.index("--") + 1:] if "--" in argv else []
    if args and (len(args) != 3 or args[0] != "--export" or args[1] not in ("fbx", "abc")):
        raise SystemExit("usage: blender -b --python SCRIPT -- --export fbx|abc FILE")
    made = build_scene()
    if args:
        export(made, args[1], os.path.abspath(args[2]))


if __name__ == "__main__":
    main(sys.argv)
'''


def _literal(m: np.ndarray) -> tuple:
    return tuple(tuple(round(float(v), 12) for v in row) for row in m)


class WriteBlender(ColourKeyed, RangeWriter):
    """Write a Python script for Blender that rebuilds the shot: a camera animated from the
    ``camera`` input (OpenCV cameras converted to Blender's axes: +Z-up world, lens in mm on a
    36 mm horizontal sensor, principal point as lens shift), the plate on an image plane
    parented to the camera at ``plane_distance`` (from ``image``: written as 8-bit PNGs in
    ``<script>_plate/``), and the point cloud of ``file_cloud`` (connect a WritePointCloud's
    ``written``, e.g. its global PLY) imported and turned into Blender's axes. Scene frame
    range, resolution and frame rate (exact: fps / fps_base) follow the shot.

    Run ``blender --python shot.py`` to build the scene, or ``blender -b --python shot.py --
    --export fbx shot.fbx`` (or ``abc``) to export it for Maya, Houdini, Unreal, …
    """

    type_id = "rotograph.WriteBlender"
    version = 2  # 2: input cloud renamed file_cloud (docs/naming.md)
    camera = Input(Camera)
    image = Input(Image, optional=True, doc="The plate, shown on the image plane")
    file_cloud = Input(File, optional=True, doc="A point cloud file (a WritePointCloud's written)")
    file = Param(ScriptFile, "", doc="render/shot_blender.py", ui={"widget": "file_save"})
    fps = Param(FrameRate, "auto", doc="auto (the plate's rate) or e.g. 24000/1001, 25")
    plane_distance = Param(float, 100.0, range=(1e-3, 1e9), doc="Image plane distance from the camera (world units)")
    colorspace = colorspace_param("sRGB", "Encoding of the plate PNGs")
    working_space = working_space_param()

    @classmethod
    def upgrade_node(cls, from_version: int, name: str, params: dict) -> Upgrade:
        """Version 1 named the ``file_cloud`` input ``cloud``."""
        up = Upgrade(params)
        return up.rename(name, inputs={"cloud": "file_cloud"}) if from_version < 2 else up

    def plate_pattern(self) -> str:
        """Where the plate PNGs go: ``<script>_plate/plate.####.png`` beside the script."""
        stem = os.path.splitext(self.pattern())[0]
        return os.path.join(f"{stem}_plate", "plate.####.png")

    def compute_range(self, ctx, segment, pull, resume=None):
        frames = ctx.frames or segment.frames
        folder = os.path.dirname(self.pattern())
        rows, plates, size, cloud = [], {}, None, None
        for f in frames:
            values = pull(f)
            cam = values["camera"]
            size = size or tuple(int(v) for v in cam.size)
            matrix, lens, sx, sy = blender_camera(cam)
            rows.append(f"    ({f}, {lens!r}, {sx!r}, {sy!r}, {_literal(matrix)!r}),\n")
            if values["image"] is not None:
                pixels = quantise(convert(values["image"][..., :3], self.working_space, self.colorspace), 8)
                plates[f] = publish_file(expand_frame(self.plate_pattern(), f),
                                         lambda tmp, p=pixels: write_oiio(tmp, p, 8, colour_tag(self.colorspace)))
            if cloud is None and values["file_cloud"] is not None and values["file_cloud"].path:
                cloud = os.path.relpath(values["file_cloud"].path, folder)
        rate = chosen_rate(self.fps, ctx.timing)
        text = SCRIPT.format(
            version=rotograph.__version__, node=self.name, script=os.path.basename(self.pattern()), fps=(
                rate.numerator, rate.denominator), first=frames[0], last=frames[-1], resolution=size,
            sensor=BLENDER_SENSOR, plate=os.path.relpath(self.plate_pattern(), folder) if plates else None,
            cloud=cloud, cv_to_blender=_literal(CV_TO_BLENDER), distance=self.plane_distance, camera="".join(rows))
        script = self.publish(frames[0], lambda tmp: write_text(tmp, text))
        for f in frames:
            yield f, bundle([script] + ([plates[f]] if f in plates else []))

    def deliveries(self, connected):
        out = [Delivery(self.pattern(), "script", "py", per_frame=False)]
        if "image" in connected:
            out.append(Delivery(self.plate_pattern(), "image", "png", colorspace=self.colorspace))
        return out
