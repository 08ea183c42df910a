"""rotograph: a node-graph dataflow engine for AI rotoscoping and matting.

Quick use::

    import rotograph
    graph = rotograph.load("graphs/quickstart.json")
    graph.set("read.file", "shot.####.exr")
    report = rotograph.render(graph, "1001-1010", cache=rotograph.open_cache())
    matte = graph.evaluate("feather", 1001)       # float32 H×W in [0, 1]
"""

from __future__ import annotations

import sys

from . import _aliases  # first: installs the finder that keeps old import paths working (rotograph.params, …)
from .core.contract import WRITER_PATH_KINDS
from .core.graph import Graph
from .core.graphio import dumps, load, loads, save, schema
from .core.node import CachePolicy, Context, Input, Node, Output, RangeNode, Reach, Segment
from .core.params import Color, FileIn, FileOut, FrameRate, MovieOut, Param, ParamKind, Prompts, output_file_kind
from .core.registry import Registry
from .core.shapes import Curve, ShapeObject, ShapeSet
from .core.types import (Camera, CameraData, Depth, DepthMap, File, Format, Image, MaskObject, MaskSet, Masks, Matte,
                         Normals, PortType, Shapes, Written)
from .core.writer import Delivery, FrameWriter, RangeWriter, Writer
from .engine.cache import Cache, open_cache
from .engine.evaluate import Evaluator
from .engine.stats import Stats
from .engine.render import RenderReport, parse_frames, render
from .engine.shots import Shot, load_shots, render_shots
from .errors import (EvaluationError, GraphError, LinkError, MediaError, ParamError, RegistryError,
                     RotographError, UnknownNodeTypeError)
from .io.timing import Timing

__version__ = "0.1.0"

__getattr__ = _aliases.package_getattr(__name__)  # rotograph.media etc. as attributes, as before the move
_aliases.shadowed(sys.modules[__name__])

__all__ = [
    "Cache", "CachePolicy", "Camera", "CameraData", "Color", "Context", "Curve", "Delivery", "Depth", "DepthMap",
    "EvaluationError", "Evaluator", "File", "FileIn", "FileOut", "Format", "FrameRate", "FrameWriter", "Graph", "GraphError",
    "Image", "Input", "LinkError", "MaskObject", "MaskSet", "Masks", "Matte", "MediaError", "MovieOut", "Node",
    "Normals", "Output", "Param", "ParamError", "ParamKind", "PortType", "Prompts", "RangeNode", "RangeWriter", "Reach",
    "Registry", "RegistryError", "RenderReport", "RotographError", "Segment", "ShapeObject", "ShapeSet", "Shapes",
    "Shot", "Stats", "Timing", "UnknownNodeTypeError", "WRITER_PATH_KINDS", "Writer", "Written", "dumps", "load",
    "load_shots", "loads", "open_cache", "output_file_kind", "parse_frames", "render", "render_shots", "save", "schema",
]
