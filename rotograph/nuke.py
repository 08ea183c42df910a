"""Export a rendered graph's outputs as a Nuke script (.nk).

For every WriteEXR: a Read of the written sequence, a Shuffle per extra layer (matte, depth)
and a Cryptomatte node when it wrote Cryptomatte. For every WriteCamera that wrote a ``.chan``:
a Camera2 with the channel file's animation as keyframes (rotation order ZXY, as written).
The script follows Nuke's ``.nk`` syntax: ``Class { knob value ... }`` blocks wired through the
node stack (``set``/``push``), animated knobs as ``{curve x<first> v v v ...}``.
"""

from __future__ import annotations

import math
import os

from . import __version__
from .errors import GraphError, RotographError

HAPERTURE = 24.576  # Nuke's default horizontal aperture (mm)


def _q(text: str) -> str:
    return '"' + str(text).replace("\\", "/").replace('"', '\\"') + '"'


def _node(cls: str, knobs: list[tuple[str, str]]) -> str:
    return cls + " {\n" + "".join(f" {k} {v}\n" for k, v in knobs) + "}\n"


def _exr_format(path: str):
    if not os.path.exists(path):  # not rendered yet
        return None
    try:
        import OpenEXR

        with OpenEXR.File(path, header_only=True) as f:
            (x0, y0), (x1, y1) = f.header()["dataWindow"]
        return int(x1 - x0 + 1), int(y1 - y0 + 1)
    except Exception:
        return None


def export_nuke(graph, path: str, frames: list[int] | None = None) -> str:
    """Write ``path`` and return its text. Frame ranges come from the writers' inputs unless
    ``frames`` is given; formats from the first written EXR."""
    from .evaluate import Evaluator
    from .cache import Cache

    ev = Evaluator(graph, Cache())
    blocks, first, last, fmt = [], None, None, None
    x = 0
    exrs = [n for n in graph.writers() if graph.nodes[n].type_id == "rotograph.WriteEXR"]
    for name in exrs:  # the plate format, for the Root and the cameras' film back
        rng = (min(frames), max(frames)) if frames else ev.frame_range(name)
        fmt = fmt or (rng and _exr_format(graph.nodes[name].path(rng[0])))
    for name in exrs + [n for n in graph.writers() if n not in exrs]:
        node = graph.nodes[name]
        rng = (min(frames), max(frames)) if frames else ev.frame_range(name)
        if rng is None:
            continue
        first = rng[0] if first is None else min(first, rng[0])
        last = rng[1] if last is None else max(last, rng[1])
        links = graph.inputs_of(name)
        if node.type_id == "rotograph.WriteEXR":
            pattern = os.path.abspath(os.path.expanduser(node.file))
            size = _exr_format(node.path(rng[0]))
            read = [("inputs", "0"), ("file", _q(pattern)), ("first", str(rng[0])), ("last", str(rng[1])),
                    ("origfirst", str(rng[0])), ("origlast", str(rng[1])), ("origset", "true"),
                    ("colorspace", _q("linear") if node.colorspace == "linear" else _q(node.colorspace))]
            if size:
                read.insert(2, ("format", _q(f"{size[0]} {size[1]} 0 0 {size[0]} {size[1]} 1 ")))
            read += [("name", f"Read_{name}"), ("xpos", str(x)), ("ypos", "0")]
            blocks.append(_node("Read", read))
            blocks.append(f"set N{name} [stack 0]\n")
            y = 120
            layers = [("matte", "matte", "alpha"), ("depth", "depth", "Z")]
            for port, layer, channel in layers:
                if port in links:
                    blocks.append(f"push $N{name}\n")
                    blocks.append(_node("Shuffle", [("in", layer), ("red", channel if channel != "Z" else "red"),
                                                    ("green", channel if channel != "Z" else "red"),
                                                    ("blue", channel if channel != "Z" else "red"),
                                                    ("alpha", "alpha" if channel == "alpha" else "black"),
                                                    ("name", f"Shuffle_{name}_{layer}"), ("label", _q(f"{layer} layer")),
                                                    ("xpos", str(x)), ("ypos", str(y))]))
                    y += 60
            if "masks" in links:
                blocks.append(f"push $N{name}\n")
                blocks.append(_node("Cryptomatte", [("cryptoLayer", node.crypto_layer),
                                                    ("name", f"Cryptomatte_{name}"), ("xpos", str(x)),
                                                    ("ypos", str(y))]))
            x += 200
        elif node.type_id == "rotograph.WriteCamera" and node.file.lower().endswith(".chan"):
            blocks.append(_node("Camera2", _camera_knobs(node, name, fmt, x)))
            x += 200
    if first is None:
        raise GraphError("the graph has no WriteEXR or WriteCamera (.chan) outputs to export")
    root = [("inputs", "0"), ("name", _q(os.path.abspath(path))), ("first_frame", str(first)),
            ("last_frame", str(last))]
    if fmt:
        root.append(("format", _q(f"{fmt[0]} {fmt[1]} 0 0 {fmt[0]} {fmt[1]} 1 rotograph")))
    text = (f"#! nuke 14.0 (written by rotograph {__version__})\nversion 14.0\n" + _node("Root", root)
            + "".join(blocks))
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as e:
        folder = os.path.dirname(os.path.abspath(path))
        why = f"folder {folder} does not exist" if not os.path.isdir(folder) else e.strerror
        raise RotographError(f"{path}: cannot write the Nuke script ({why})") from None
    return text


def _camera_knobs(node, name: str, fmt, x: int) -> list[tuple[str, str]]:
    chan = os.path.abspath(os.path.expanduser(node.file))
    knobs = [("inputs", "0"), ("rot_order", "ZXY")]
    if os.path.exists(chan):
        rows = [list(map(float, line.split())) for line in open(chan) if line.strip()]
        start = int(rows[0][0])
        if [int(r[0]) for r in rows] != list(range(start, start + len(rows))):
            raise GraphError(f"{chan}: frames are not consecutive; cannot write one curve")
        curve = lambda col: "{curve x%d %s}" % (start, " ".join(f"{r[col]:.9g}" for r in rows))  # noqa: E731
        aspect = fmt[1] / fmt[0] if fmt else 9 / 16
        vap = HAPERTURE * aspect
        focal = "{curve x%d %s}" % (start, " ".join(f"{vap / (2 * math.tan(math.radians(r[7]) / 2)):.9g}"
                                                    for r in rows))
        knobs += [("translate", "{" + " ".join(curve(c) for c in (1, 2, 3)) + "}"),
                  ("rotate", "{" + " ".join(curve(c) for c in (4, 5, 6)) + "}"),
                  ("focal", focal), ("haperture", f"{HAPERTURE}"), ("vaperture", f"{vap:.9g}")]
    knobs += [("label", _q(os.path.basename(chan))), ("name", f"Camera_{name}"), ("xpos", str(x)), ("ypos", "0")]
    return knobs
