"""Roto shapes out to compositing packages: Nuke, After Effects, Fusion/Resolve, Silhouette, SVG
and plain JSON. Each writer takes the animation as ``{frame: ShapeSet}`` (every frame a key;
a curve keeps its vertex count, as MatteToShapes guarantees) and returns the file's text.

Coordinate conventions (ours, the *Shapes convention*: pixels, origin top-left, y down, the
image spans [0, width] × [0, height]; tangents relative to their vertex):

==============  ==============================================================================
format          convention written
==============  ==============================================================================
Nuke .nk        pixels, origin bottom-left, y up: X = x, Y = height − y; tangents (dx, −dy).
                Floats as Nuke writes them (``x`` + the float32's hex bits).
After Effects   layer pixels, origin top-left, y down: our values unchanged (AE's ``Shape``
.jsx            ``vertices``, ``inTangents``, ``outTangents``); times (frame − first) / fps.
Fusion          normalised to the image width on both axes, origin at the image centre, y up:
.setting        X = x / width − 0.5, Y = (height / 2 − y) / width; handles (LX, LY) = in,
                (RX, RY) = out, relative, same units.
Silhouette      normalised to the image height, origin at the centre, y down, x times the pixel
.fxs            aspect: X = (x − width / 2) / height × aspect, Y = (y − height / 2) / height;
                each Bézier point "(vertex),(in handle),(out handle)" absolute (the in handle
                on the side of the previous vertex); key frames counted from the first frame (0).
SVG             user units = pixels, origin top-left, y down (``viewBox 0 0 width height``);
                one ``path`` per object (absolute ``M``/``C``/``Z``), ``fill-rule="evenodd"`` so
                holes cut out, a colour of its own per object (a presentation attribute).
JSON            our convention, with the format and the frame numbers.
==============  ==============================================================================

Holes: AE masks in Subtract mode, Fusion polygon masks in Subtract paint mode over the
object's outline, Silhouette shapes in Subtract mode, SVG sub-paths (even-odd). Nuke Roto
shapes cannot hold a hole: a hole is its own shape named ``<object>_hole<key>`` (set its blending
mode to *minus* in Nuke). Feather: per-vertex feather goes to Nuke's feather curve (each
feather point pushed out along the vertex normal) and to After Effects' feather points (one of
that radius on each feathered vertex: ``Shape.featherSegLocs`` … ``featherRadii``); Fusion and
Silhouette get the curve's mean feather as the mask/shape softness.

Nuke's curves knob was compared with Roto nodes in scripts saved by Nuke (public GitHub
repositories, found by searching code for ``{v x3f99999a}`` / ``{layer Root``): one with shapes
``Bezier1`` and ``Rectangle1`` (Roto36/Roto37, a single key at frame 1065), one with ``Bezier1``
keyed at 1045 (a newer layout: Root flags ``2097152`` and ``pt1x … ptref`` layer attributes), and
bare Roto / RotoPaint nodes. What we write matches the first: ``{{{v x3f99999a} {f 0} {n {layer Root {f 512}
{t cx cy} {a} …}}}}`` with the format centre; per shape ``{curvegroup NAME 512 bezier {{cc {f 8192}
{px KEYS {in} {vertex} {out} …}} {cc {f 8192} {px KEYS {in} {feather offset} {out} …}}} {tx KEY cx
cy} {a spx … spy … sb 1 tt x40800000}}``, floats as ``x`` + float32 hex; the shape curve in
format pixels with y up and tangents relative to their vertex; the feather curve with offsets
from the vertex (``{0 0}`` = no feather) and the vertex's tangents. Not seen in a saved script:
a point with several keys — we write each coordinate as ``{v_key1 v_key2 …}`` after ``px``'s
key list (as a knob's per-key values), unverified in Nuke itself.

Silhouette's handle order. No file saved by Silhouette was found to compare with; the order is
deduced from two public sources. (1) A Roto node saved by Nuke (``Rectangle1`` above: corners
(478, 1100) → (496, 1100) → (496, −12) → (478, −12)) writes each point as ``{a} {vertex} {b}``
where ``a`` points a third of the way to the *previous* corner and ``b`` a third of the way to
the next: ``a`` is the in tangent, ``b`` the out tangent, both added to the vertex (as our .nk
writes them). (2) The only public .fxs writer, NukeFXSExporter (Nuke Python, magnoborgo), writes
``(vertex),(vertex − rightTangent),(vertex − leftTangent)`` from Nuke's control points, i.e. the
*mirror* of the out handle, then the mirror of the in handle; its README lists one defect, that
rectangles come in with "swapped tangents" (fixed by smoothing and cusping the points). For a
smooth point the mirrors are the in and out handles themselves, so the order Silhouette reads is
(vertex, in, out); for a rectangle's corners, whose handles run along two different edges, the
mirrors point off the shape — the defect its README reports. Were Silhouette's order (vertex,
out, in), every smooth shape from that exporter would come in with reversed handles, which its
README does not report. ``test_silhouette_handles_agree_with_the_public_fxs_writer`` holds both.

Flame. Flame documents two imports that end as GMask splines. (1) SVG: Action's Import node reads
``.svg`` files, each element becoming a 3D Shape node with its GMask and Axis, elements of one
colour grouped (Autodesk Flame help, "Action 3D Shape: Importing SVG Files as 3D Shapes",
2016–2025). Our SVG (``WriteShapes`` with ``shapes.####.svg``) is written for it: paths only,
absolute coordinates, no transforms or CSS, the colour as a presentation attribute (which the help
asks of Illustrator files) and a colour per object so that each object imports as its own
group. A file holds one frame: Flame gets editable splines for that frame, not an animated
shape. (2) GMask setups: the GMask menu's "Import RAW" reads *raw setup files* (keyframe count,
vertex count, x y z per vertex per key; Flame help, "Importing and Exporting Raw Setup Files",
2009–2025) and the GMask Tracer loads ``.mask`` setups; neither syntax is published and no sample
with a shape was found (a GMask setup saved by Flame 2013 without shapes shows the channel
syntax only), so none is written. For an *animated* shape in Flame, the documented route is the
``.fxs`` through Mocha Pro: its Python reference lists a Silhouette shape importer
(``mocha.aux_importers.SilhouetteImporter``) and Flame GMask Tracer exporters, which write
``.mask`` setups that Flame's GMask Tracer loads.
"""

from __future__ import annotations

import colorsys
import json
import struct
import xml.etree.ElementTree as ET
from fractions import Fraction

import numpy as np

from ..core.shapes import Curve, ShapeSet

Animation = dict[int, ShapeSet]


def tracks(anim: Animation) -> list[tuple[str, int, int, bool, dict[int, Curve]]]:
    """Every animated curve: ``(name, object id, curve key, hole, {frame: curve})``, keyed on
    the frames where the curve (its object's curve of that ``key``) exists with the vertex
    count of its first frame."""
    out: dict[tuple[int, int], tuple[str, int, int, bool, dict[int, Curve]]] = {}
    labels: set[str] = set()
    for f in sorted(anim):
        for o in anim[f].objects:
            name = _ident(o.name or f"object{o.id}")
            for c in o.curves:
                if (o.id, c.key) not in out:
                    label = f"{name}_hole{c.key}" if c.hole else (name if c.key == 0 else f"{name}_{c.key}")
                    if label in labels:  # two objects of one name
                        label = f"{label}_id{o.id}"
                    labels.add(label)
                    out[(o.id, c.key)] = (label, o.id, c.key, c.hole, {})
                entry = out[(o.id, c.key)]
                first = next(iter(entry[4].values()), None)
                if first is None or len(first.points) == len(c.points):
                    entry[4][f] = c
    return [v for _, v in sorted(out.items())]


def _ident(name: str) -> str:
    s = "".join(ch if (ch.isascii() and ch.isalnum()) or ch == "_" else "_" for ch in name)
    return s if s and not s[0].isdigit() else f"_{s}"


def _mean_feather(keyed: dict[int, Curve]) -> float:
    """A curve's feather averaged over its vertices and keys (px): for formats with one
    softness per shape."""
    values = np.concatenate([c.feather for c in keyed.values()])
    return float(values.mean()) if len(values) else 0.0


def _format(anim: Animation) -> tuple[int, int, float]:
    s = anim[min(anim)]
    return s.width, s.height, s.pixel_aspect


# -- Nuke ---------------------------------------------------------------------------------
def nuke_float(v: float) -> str:
    """A float as Nuke's curves knob writes it: ``0`` or ``x`` + its float32 bits in hex."""
    f = float(np.float32(v))
    return "0" if f == 0.0 else "x" + struct.pack(">f", f).hex()


def _nk_value(values: list[float]) -> str:
    return nuke_float(values[0]) if len(values) == 1 else "{" + " ".join(nuke_float(v) for v in values) + "}"


def _nk_curve(frames: list[int], curves: list[Curve], height: float, feather: bool) -> str:
    """One ``cc`` block: per vertex the triple {in tangent} {vertex} {out tangent}, each value
    one number per key frame. The feather curve holds each vertex's feather offset: away from
    the object (outwards of an outline, into a hole)."""
    keys = " ".join(nuke_float(f) for f in frames)
    lines = []
    for v in range(len(curves[0].points)):
        p = np.array([c.points[v] for c in curves])  # K×6
        if feather:
            n = np.array([_inward(c, v) * c.feather[v] * (1 if c.hole else -1) for c in curves])
            triple = [(p[:, 2], -p[:, 3]), (n[:, 0], -n[:, 1]), (p[:, 4], -p[:, 5])]
        else:
            triple = [(p[:, 2], -p[:, 3]), (p[:, 0], height - p[:, 1]), (p[:, 4], -p[:, 5])]
        for x, y in triple:
            lines.append(f"        {{{_nk_value(list(x))} {_nk_value(list(y))}}}")
    return "      {cc\n       {f 8192}\n       {px " + keys + "\n" + "\n".join(lines) + "}}"


def _inward(c: Curve, i: int) -> np.ndarray:
    """Unit normal at vertex i pointing into a curve that runs clockwise on screen (y down), as
    MatteToShapes' curves do."""
    t = c.points[i, 4:6] - c.points[i, 2:4]
    if not np.any(t):
        t = c.vertices[(i + 1) % len(c.points)] - c.vertices[i - 1]
    n = np.array([-t[1], t[0]])
    return n / max(float(np.linalg.norm(n)), 1e-12)


def write_nuke(anim: Animation, first: int, last: int, fps: float = 24.0) -> str:
    """A Nuke script: a Root with the frame range, format and rate, and one Roto node holding a
    Bézier shape per curve, keyed on every frame (origin bottom-left)."""
    w, h, pa = _format(anim)
    fmt = f'"{w} {h} 0 0 {w} {h} {pa:g} rotograph_{w}x{h}"'
    groups = []
    for name, _, _, hole, keyed in tracks(anim):
        frames = sorted(keyed)
        curves = [keyed[f] for f in frames]
        cx, cy = curves[0].vertices.mean(axis=0)
        groups.append(f"    {{curvegroup {name} 512 bezier\n     {{\n"
                      f"{_nk_curve(frames, curves, h, False)}\n{_nk_curve(frames, curves, h, True)}}}\n"
                      f"     {{tx {nuke_float(frames[0])} {nuke_float(cx)} {nuke_float(h - cy)}}}\n"
                      f"     {{a spx {nuke_float(w / 2)} spy {nuke_float(h / 2)} sb 1 tt x40800000}}}}")
    curves = "\n".join(groups)
    return (f"#! rotograph roto export\nversion 13.0 v1\n"
            f"Root {{\n inputs 0\n first_frame {first}\n last_frame {last}\n fps {fps:g}\n format {fmt}\n}}\n"
            f"Roto {{\n inputs 0\n output alpha\n cliptype none\n format {fmt}\n"
            f" curves {{{{{{v x3f99999a}}\n  {{f 0}}\n  {{n\n   {{layer Root\n    {{f 512}}\n"
            f"    {{t {nuke_float(w / 2)} {nuke_float(h / 2)}}}\n    {{a}}\n{curves}}}}}}}}}\n"
            f" lifetime_type \"all frames\"\n name RotographShapes\n}}\n")


# -- After Effects ------------------------------------------------------------------------
_AE_BODY = r"""
(function () {
  var d = ROTOGRAPH;
  app.beginUndoGroup("rotograph shapes");
  var comp = app.project.items.addComp(d.name, d.width, d.height, d.pixelAspect, d.frames / d.fps, d.fps);
  comp.displayStartFrame = d.first;
  var layer = comp.layers.addSolid([1, 1, 1], d.name, d.width, d.height, d.pixelAspect, comp.duration);
  for (var i = 0; i < d.masks.length; i++) {
    var m = d.masks[i];
    var mask = layer.property("ADBE Mask Parade").addProperty("ADBE Mask Atom");
    mask.name = m.name;
    mask.maskMode = m.hole ? MaskMode.SUBTRACT : MaskMode.ADD;
    var times = [], values = [];
    for (var k = 0; k < m.keys.length; k++) {
      var s = new Shape();
      s.vertices = m.keys[k].vertices;
      s.inTangents = m.keys[k].inTangents;
      s.outTangents = m.keys[k].outTangents;
      s.closed = m.closed;
      var f = m.keys[k].feather, locs = [], rel = [], radii = [], zeros = [], half = [];
      for (var v = 0; v < f.length; v++) {
        if (f[v] > 0) { locs.push(v); rel.push(0); radii.push(f[v]); zeros.push(0); half.push(0.5); }
      }
      if (locs.length) {  // per-vertex outer feather points (AE CC 2015+)
        s.featherSegLocs = locs; s.featherRelSegLocs = rel; s.featherRadii = radii; s.featherTypes = zeros;
        s.featherInterps = zeros; s.featherTensions = zeros; s.featherRelCornerAngles = half;
      }
      times.push((m.keys[k].frame - d.first) / d.fps);
      values.push(s);
    }
    mask.property("ADBE Mask Shape").setValuesAtTimes(times, values);
  }
  app.endUndoGroup();
})();
"""


def ae_data(anim: Animation, first: int, last: int, fps: float, name: str = "rotograph_roto") -> dict:
    """What the .jsx creates: the comp and, per curve, a mask with a key per frame (AE layer
    pixels: origin top-left, y down — our convention)."""
    w, h, pa = _format(anim)
    masks = []
    for label, _, _, hole, keyed in tracks(anim):
        keys = [{"frame": f, "vertices": c.points[:, :2].tolist(), "inTangents": c.points[:, 2:4].tolist(),
                 "outTangents": c.points[:, 4:6].tolist(), "feather": c.feather.tolist()}
                for f, c in sorted(keyed.items())]
        masks.append({"name": label, "hole": hole, "closed": next(iter(keyed.values())).closed, "keys": keys})
    return {"name": name, "width": w, "height": h, "pixelAspect": pa, "fps": fps, "first": first,
            "frames": last - first + 1, "masks": masks}


def write_after_effects(anim: Animation, first: int, last: int, fps: float = 24.0) -> str:
    """An ExtendScript (.jsx) for After Effects: File > Scripts > Run Script File creates a comp
    of the plate's format and frame range with a solid whose masks hold the animated shapes."""
    data = json.dumps(ae_data(anim, first, last, fps), separators=(",", ":"))
    return f"// rotograph roto export: run in After Effects (File > Scripts > Run Script File)\nvar ROTOGRAPH = {data};\n{_AE_BODY}"


# -- Fusion / Resolve ---------------------------------------------------------------------
def _fu(v: float) -> str:
    return repr(float(v))


def _fusion_points(c: Curve, w: int, h: int) -> str:
    pts = []
    for x, y, ix, iy, ox, oy in c.points:
        pts.append(f"{{ X = {_fu(x / w - 0.5)}, Y = {_fu((h / 2 - y) / w)}, LX = {_fu(ix / w)}, LY = {_fu(-iy / w)}, "
                   f"RX = {_fu(ox / w)}, RY = {_fu(-oy / w)} }}")
    return ",\n\t\t\t\t\t\t\t".join(pts)


def write_fusion(anim: Animation, first: int, last: int, fps: float = 24.0) -> str:
    """A Fusion macro/setting (.setting: paste into Fusion or Resolve's Fusion page): per curve a
    PolygonMask whose polyline is keyed on every frame; an object's holes chain after its
    outline in Subtract paint mode (the last hole's mask is the object's)."""
    w, h, pa = _format(anim)
    tools, outline_of = [], {}
    for name, oid, _, hole, _ in tracks(anim):
        if not hole:
            outline_of.setdefault(oid, name)
    for name, oid, _, hole, keyed in tracks(anim):
        keys = ",\n\t\t\t\t".join(
            f"[{f}] = {{ 0, Flags = {{ Linear = true, LockedY = true }}, Value = Polyline {{\n\t\t\t\t\t\t"
            f"Closed = {'true' if c.closed else 'false'},\n\t\t\t\t\t\tPoints = {{\n\t\t\t\t\t\t\t"
            f"{_fusion_points(c, w, h)}\n\t\t\t\t\t\t}}\n\t\t\t\t\t}} }}" for f, c in sorted(keyed.items()))
        soft = _mean_feather(keyed) / w
        link = f'\t\t\t\tEffectMask = Input {{ SourceOp = "{outline_of[oid]}", Source = "Mask", }},\n' \
            if hole and oid in outline_of else ""
        if link:  # holes chain: each cuts from the outline less the holes before it
            outline_of[oid] = name
        mode = '\t\t\t\tPaintMode = Input { Value = FuID { "Subtract" }, },\n' if link else ""
        tools.append(
            f"\t\t{name} = PolygonMask {{\n\t\t\tInputs = {{\n{link}{mode}"
            f"\t\t\t\tSoftEdge = Input {{ Value = {_fu(soft)}, }},\n"
            f"\t\t\t\tMaskWidth = Input {{ Value = {w}, }},\n\t\t\t\tMaskHeight = Input {{ Value = {h}, }},\n"
            f"\t\t\t\tPixelAspect = Input {{ Value = {{ {_fu(pa)}, 1 }}, }},\n"
            f"\t\t\t\tPolyline = Input {{ SourceOp = \"{name}Polyline\", Source = \"Value\", }},\n\t\t\t}},\n\t\t}},\n"
            f"\t\t{name}Polyline = BezierSpline {{\n\t\t\tNameSet = true,\n\t\t\tKeyFrames = {{\n\t\t\t\t{keys}\n"
            f"\t\t\t}}\n\t\t}},")
    return "{\n\tTools = ordered() {\n" + "\n".join(tools) + f"\n\t}},\n\tRenderRange = {{ {first}, {last} }},\n}}\n"


# -- Silhouette ---------------------------------------------------------------------------
def write_silhouette(anim: Animation, first: int, last: int, fps: float = 24.0) -> str:
    """Silhouette shapes (.fxs, File > Import > Silhouette Shapes): one layer holding a Bézier
    shape per curve, its path keyed on every frame (frames counted from ``first``)."""
    w, h, pa = _format(anim)
    root = ET.Element("Silhouette", {"width": str(w), "height": str(h), "pixelAspect": repr(float(pa)),
                                     "workRangeStart": "0", "workRangeEnd": str(last - first),
                                     "sessionStartFrame": str(first), "frameRate": repr(float(fps))})
    layer = ET.SubElement(root, "Layer", {"type": "Layer", "label": "rotograph", "expanded": "True"})
    objects = ET.SubElement(ET.SubElement(layer, "Properties"), "Property", {"id": "objects", "constant": "True"})

    def sx(x):
        return (x - w / 2) / h * pa

    def sy(y):
        return (y - h / 2) / h

    for name, _, _, hole, keyed in tracks(anim):
        shape = ET.SubElement(objects, "Object", {"type": "Shape", "label": name, "shape_type": "Bezier"})
        props = ET.SubElement(shape, "Properties")
        mode = ET.SubElement(props, "Property", {"id": "mode", "constant": "True"})
        ET.SubElement(mode, "Value").text = "Subtract" if hole else "Add"
        blur = ET.SubElement(props, "Property", {"id": "outerBlur", "constant": "True"})
        ET.SubElement(blur, "Value").text = repr(_mean_feather(keyed))
        path = ET.SubElement(props, "Property", {"id": "path"})
        for f, c in sorted(keyed.items()):
            key = ET.SubElement(path, "Key", {"frame": str(f - first), "interp": "linear"})
            p = ET.SubElement(key, "Path", {"closed": str(c.closed), "type": "Bezier"})
            for x, y, ix, iy, ox, oy in c.points:
                ET.SubElement(p, "Point").text = (f"({sx(x):.9f},{sy(y):.9f}),({sx(x + ix):.9f},{sy(y + iy):.9f}),"
                                                  f"({sx(x + ox):.9f},{sy(y + oy):.9f})")
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# -- SVG and JSON -------------------------------------------------------------------------
def svg_path(curves: list[Curve]) -> str:
    """SVG path data (absolute ``M``/``C``/``Z``) of curves, in pixels."""
    parts = []
    for c in curves:
        seg = c.segments()
        if not len(seg):
            continue
        parts.append("M " + " ".join(map(_fu, seg[0, 0])))
        parts += ["C " + " ".join(map(_fu, s[1:].reshape(-1))) for s in seg]
        if c.closed:
            parts.append("Z")
    return " ".join(parts)


def object_colour(object_id: int) -> str:
    """A colour per object id (``#rrggbb``): hues a golden angle apart, so that neighbouring ids
    differ and Flame's SVG import, which groups elements by colour, keeps objects apart."""
    r, g, b = colorsys.hsv_to_rgb((object_id * 0.381966) % 1.0, 0.65, 1.0)
    return "#" + "".join(f"{round(v * 255):02x}" for v in (r, g, b))


def write_svg(shapes: ShapeSet, frame: int) -> str:
    """One frame as SVG, for review and for Flame's Action Import (see the module notes): a path
    per object, in its own colour, with its id and name as attributes."""
    w, h = shapes.width, shapes.height
    root = ET.Element("svg", {"xmlns": "http://www.w3.org/2000/svg", "width": str(w), "height": str(h),
                              "viewBox": f"0 0 {w} {h}", "data-frame": str(frame)})
    for o in shapes.objects:
        if o.curves:
            ET.SubElement(root, "path", {"id": f"object{o.id}", "data-name": o.name, "fill": object_colour(o.id),
                                         "fill-rule": "evenodd", "d": svg_path(o.curves)})
    return ET.tostring(root, encoding="unicode") + "\n"


def write_json(anim: Animation, first: int, last: int, fps: float = 24.0) -> str:
    """Every frame's :meth:`ShapeSet.to_json` with the frame range and rate."""
    doc = {"format": "rotograph.shapes", "version": 1, "first": first, "last": last,
           "fps": str(Fraction(fps).limit_denominator(1001)),
           "frames": {str(f): anim[f].to_json() for f in sorted(anim)}}
    return json.dumps(doc, indent=1) + "\n"


WRITERS = {".nk": write_nuke, ".jsx": write_after_effects, ".setting": write_fusion, ".fxs": write_silhouette,
           ".json": write_json}
