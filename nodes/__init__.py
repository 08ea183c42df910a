"""rotograph's built-in node library (import name ``rotograph.nodes``), in families: ``io`` (Read), ``comp``
(keying, compositing, colour), ``matte``, ``tracking``, ``ai`` (model-backed), ``spatial`` (format, placement,
depth), ``roto`` (shapes), ``writers``; ``common`` holds the helpers several families share."""

from __future__ import annotations

from rotograph._aliases import package_getattr

from .ai.da3 import DA3Depth
from .ai.matanyone import MatAnyoneRefine
from .ai.sam3 import SAM3Segment, SAM3Track
from .ai.specs import MODEL_SPECS
from .comp.alpha import Merge, Premult, ShuffleMatte, Unpremult
from .comp.colorspace import ColorSpace
from .comp.edge_extend import EdgeExtend
from .comp.keying import Despill, Keyer
from .io.read import Read
from .matte.masks import MasksFromMattes, MasksToMatte
from .matte.matte_cleanup import BorderFix, FillHoles, RemoveDots
from .matte.matte_ops import Feather, Grow
from .matte.matterefine import MatteRefine
from .matte.temporal import EdgeMotionBlur, TemporalSmooth
from .roto.shapes import MatteToShapes, ShapesToMatte
from .roto.shapes_roto import Roto
from .roto.shapes_write import WriteShapes
from .spatial.depth_ops import DepthLayers, DepthMatte, DepthToNormals
from .spatial.transform import Crop, Reformat, Transform
from .tracking.flowtrack import FlowTrack
from .writers.matte_stats import MatteStats
from .writers.write import WriteEXR
from .writers.write_blender import WriteBlender
from .writers.write_geometry import WriteCamera, WritePointCloud
from .writers.write_image import WriteDPX, WritePNG, WriteTIFF
from .writers.write_movie import WriteProRes, WriteVideo
from .writers.write_objects import MasksToBoxes, WriteCrops

__getattr__ = package_getattr(__name__)  # rotograph.nodes.comp.keying etc. as attributes, as before the move

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
    """Add every built-in node, and the AI model families they use, to ``registry``."""
    for cls in BUILTIN_NODES:
        registry.add(cls)
    for key, spec in MODEL_SPECS.items():
        registry.add_model(key, spec)
