"""rotograph's built-in node library (import name ``rotograph.nodes``)."""

from __future__ import annotations

from .alpha import Merge, Premult, ShuffleMatte, Unpremult
from .colorspace import ColorSpace
from .da3 import DA3Depth
from .depth_ops import DepthLayers, DepthMatte, DepthToNormals
from .edge_extend import EdgeExtend
from .flowtrack import FlowTrack
from .keying import Despill, Keyer
from .masks import MasksFromMattes, MasksToMatte
from .matanyone import MatAnyoneRefine
from .matte_cleanup import BorderFix, FillHoles, RemoveDots
from .matte_ops import Feather, Grow
from .matte_stats import MatteStats
from .matterefine import MatteRefine
from .read import Read
from .shapes import MatteToShapes, ShapesToMatte
from .shapes_roto import Roto
from .shapes_write import WriteShapes
from .sam3 import SAM3Segment, SAM3Track
from .temporal import EdgeMotionBlur, TemporalSmooth
from .transform import Crop, Reformat, Transform
from .write import WriteEXR
from .write_blender import WriteBlender
from .write_geometry import WriteCamera, WritePointCloud
from .write_image import WriteDPX, WritePNG, WriteTIFF
from .write_movie import WriteProRes, WriteVideo
from .write_objects import MasksToBoxes, WriteCrops

BUILTIN_NODES = (
    Read, ColorSpace,                                                       # input and colour
    FlowTrack, SAM3Segment, SAM3Track, MatAnyoneRefine,                     # segmentation and matting
    Keyer, Despill, EdgeExtend, Grow, Feather, MatteRefine, MasksFromMattes, MasksToMatte,  # keying and mattes
    FillHoles, RemoveDots, BorderFix, TemporalSmooth, EdgeMotionBlur,       # matte clean-up
    MatteToShapes, ShapesToMatte, Roto, WriteShapes,                        # roto shapes
    Premult, Unpremult, ShuffleMatte, Merge,                                # alpha and compositing
    Reformat, Crop, Transform,                                              # format and placement
    DA3Depth, DepthToNormals, DepthMatte, DepthLayers,                      # depth
    WriteEXR, WritePNG, WriteTIFF, WriteDPX, WriteProRes, WriteVideo,       # image and movie outputs
    MasksToBoxes, WriteCrops,                                               # per-object outputs
    WriteCamera, WritePointCloud, WriteBlender, MatteStats,                 # camera, geometry, QC outputs
)


def register(registry) -> None:
    """Add every built-in node to ``registry``."""
    for cls in BUILTIN_NODES:
        registry.add(cls)
