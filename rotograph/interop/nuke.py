"""Export a rendered graph's outputs as a Nuke script (.nk).

What to export comes from the writers' :class:`~rotograph.core.writer.Delivery` list (the Writer
protocol), never from node types: every image sequence (EXR, DPX, TIFF, PNG) and movie becomes
a Read — with a Shuffle per extra layer (matte, depth, N) and a Cryptomatte node when the file
has Cryptomatte — and every ``.chan`` camera a Camera2 with the channel file's animation as
keyframes (rotation order ZXY, as written).
The script follows Nuke's ``.nk`` syntax: ``Class { knob value ... }`` blocks wired through the
node stack (``set``/``push``), animated knobs as ``{curve x<first> v v v ...}``.
"""

from __future__ import annotations

import math
import os
from dataclasses import replace

from .. import __version__
from ..errors import GraphError, OutputError, RotographError
from ..io.media import expand_frame, probe, sequence_frames
from ..core.writer import Delivery, Writer

HAPERTURE = 24.576  # Nuke's default horizontal aperture (mm)


def _q(text: str) -> str:
    return '"' + str(text).replace("\\", "/").replace('"', '\\"') + '"'


def _node(cls: str, knobs: list[tuple[str, str]]) -> str:
    return cls + " {\n" + "".join(f" {k} {v}\n" for k, v in knobs) + "}\n"


def _image_size(path: str) -> tuple[int, int, float] | None:
    """(width, height, pixel aspect) of a written image (OpenImageIO reads every format written;
    an EXR's ``pixelAspectRatio``), or None."""
    import OpenImageIO as oiio

    inp = oiio.ImageInput.open(path)
    if inp is None:
        oiio.geterror()  # not written (yet): clear OpenImageIO's pending error
        return None
    try:
        spec = inp.spec()
        return spec.width, spec.height, spec.get_float_attribute("PixelAspectRatio", 1.0) or 1.0
    finally:
        inp.close()


def _shuffle(layer: str, channels: tuple[str, ...]) -> list[tuple[str, str]]:
    """Shuffle knobs bringing ``layer`` into rgba: a one-channel alpha layer fills rgba, another
    one-channel layer fills rgb, a three-channel layer maps to rgb."""
    if channels == ("A",):
        return [("in", layer), ("red", "alpha"), ("green", "alpha"), ("blue", "alpha"), ("alpha", "alpha")]
    rgb = ("red", "green", "blue") if len(channels) >= 3 else ("red", "red", "red")
    return [("in", layer), ("red", rgb[0]), ("green", rgb[1]), ("blue", rgb[2]), ("alpha", "black")]


def _read(name: str, d: Delivery, rng: tuple[int, int], x: int) -> list[tuple[str, str]]:
    """Read knobs for an image sequence (frames ``rng``) or a movie (its frames start at rng[0])."""
    knobs = [("inputs", "0"), ("file", _q(d.path))]
    if d.per_frame:
        size = _image_size(expand_frame(d.path, rng[0]))
        if size:
            knobs.append(("format", _q(f"{size[0]} {size[1]} 0 0 {size[0]} {size[1]} {size[2]:g} ")))
    if d.per_frame:
        knobs += [("first", str(rng[0])), ("last", str(rng[1])), ("origfirst", str(rng[0])), ("origlast", str(rng[1]))]
    else:  # a movie's frames are 1..N in Nuke: start them at the graph's first frame
        n = rng[1] - rng[0] + 1
        knobs += [("first", "1"), ("last", str(n)), ("origfirst", "1"), ("origlast", str(n)),
                  ("frame_mode", _q("start at")), ("frame", _q(str(rng[0])))]
    knobs += [("origset", "true"), ("colorspace", _q(d.colorspace or "linear")), ("name", f"Read_{name}"),
              ("xpos", str(x)), ("ypos", "0")]
    return knobs


def _nuke_name(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text)


def _object_folders(d: Delivery) -> list[tuple[str, Delivery]]:
    """A per-object delivery (``out/{object}/shot.####.png``) as one delivery per object
    folder rendered on disk, sorted by name."""
    folder, base = os.path.split(d.path)
    parent = os.path.dirname(folder)
    try:
        names = sorted(os.listdir(parent))
    except OSError:
        return []
    out = []
    for obj in names:
        one = replace(d, path=os.path.join(parent, obj, base), per_object=False)
        if os.path.isdir(os.path.join(parent, obj)) and sequence_frames(one.path):
            out.append((obj, one))
    return out


def _rendered(d: Delivery, rng: tuple[int, int], frames: list[int] | None) -> tuple[int, int]:
    """The frames a delivery holds: ``frames`` when given; else, for an image sequence, the
    first to last file on disk (what was rendered), for a movie its length from ``rng[0]``;
    ``rng`` (the graph's range) when nothing was written yet."""
    if frames:
        return min(frames), max(frames)
    if d.kind == "image" and d.per_frame:
        have = sequence_frames(d.path)
        return (min(have), max(have)) if have else rng
    if d.kind == "movie" and os.path.exists(d.path):
        try:
            info = probe(d.path, rng[0])
        except RotographError:
            return rng
        return info.first, info.last
    return rng


def export_nuke(graph, path: str, frames: list[int] | None = None) -> str:
    """Write ``path`` and return its text. Frame ranges: ``frames`` when given, else what was
    rendered (the files of each sequence on disk, a movie's length; the writers' input range
    for outputs not written yet). A per-object writer gives one Read per object folder on
    disk. The script's format comes from the first written image."""
    from ..engine.cache import Cache
    from ..engine.evaluate import Evaluator

    ev = Evaluator(graph, Cache())
    outputs = []  # (Nuke node name, delivery, frame range)
    for name in graph.writers():
        node = graph.nodes[name]
        if not isinstance(node, Writer) or not node.file:
            continue
        rng = (min(frames), max(frames)) if frames else ev.frame_range(name)
        if rng is None:
            continue
        for d in node.deliveries(set(graph.inputs_of(name))):
            if d.kind == "image" and d.per_object:
                outputs.extend((f"{name}_{_nuke_name(obj)}", one, _rendered(one, rng, frames))
                               for obj, one in _object_folders(d))
            elif d.kind in ("image", "movie") or (d.kind == "camera" and d.format == "chan"):
                outputs.append((name, d, _rendered(d, rng, frames)))
    if not outputs:
        raise GraphError("the graph has no writers of images, movies or .chan cameras to export")
    outputs.sort(key=lambda o: (o[1].kind == "camera", o[1].format != "exr"))  # plates first, cameras last
    fmt = next((_image_size(expand_frame(d.path, r[0])) for _, d, r in outputs if d.kind == "image"), None)
    blocks, x = [], 0
    for name, d, rng in outputs:
        if d.kind == "camera":
            blocks.append(_node("Camera2", _camera_knobs(d.path, name, fmt, x)))
            x += 200
            continue
        blocks.append(_node("Read", _read(name, d, rng, x)))
        blocks.append(f"set N{name} [stack 0]\n")
        y = 120
        for layer, channels in d.layers:
            blocks.append(f"push $N{name}\n")
            blocks.append(_node("Shuffle", _shuffle(layer, channels) + [
                ("name", f"Shuffle_{name}_{layer}"), ("label", _q(f"{layer} layer")), ("xpos", str(x)),
                ("ypos", str(y))]))
            y += 60
        if d.cryptomatte:
            blocks.append(f"push $N{name}\n")
            blocks.append(_node("Cryptomatte", [("cryptoLayer", d.cryptomatte), ("name", f"Cryptomatte_{name}"),
                                                ("xpos", str(x)), ("ypos", str(y))]))
        x += 200
    first, last = min(r[0] for _, _, r in outputs), max(r[1] for _, _, r in outputs)
    root = [("inputs", "0"), ("name", _q(os.path.abspath(path))), ("first_frame", str(first)),
            ("last_frame", str(last))]
    if fmt:
        root.append(("format", _q(f"{fmt[0]} {fmt[1]} 0 0 {fmt[0]} {fmt[1]} {fmt[2]:g} rotograph")))
    text = (f"#! nuke 14.0 (written by rotograph {__version__})\nversion 14.0\n" + _node("Root", root)
            + "".join(blocks))
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as e:
        folder = os.path.dirname(os.path.abspath(path))
        why = f"folder {folder} does not exist" if not os.path.isdir(folder) else e.strerror
        raise OutputError(f"{path}: cannot write the Nuke script ({why})") from None
    return text


def _camera_knobs(chan: str, name: str, fmt, x: int) -> list[tuple[str, str]]:
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
