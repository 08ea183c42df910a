"""The graph loader, fuzzed: 10,000 mutations of the real graphs in graphs/*.json (values
replaced by NaN, Infinity, wrong types, deep nesting; items deleted, added, duplicated or
swapped inside lists — prompts, keyframes, points, boxes, groups, ui — and inside objects;
the JSON text cut or corrupted) and 5,000 ``Graph.set`` calls with such values. Only the
project's own errors (:class:`RotographError` subclasses) may come out; whatever loads or
is set must save and load again to the same graph.

Cases are numbered and seeded by their number: a failure prints the case, its mutation and
the error, and ``_load_case(n)`` rebuilds it.
"""

from __future__ import annotations

import json
import math
import random

import pytest

import rotograph
from rotograph import RotographError
from rotograph.core.groups import collapse
from rotograph.errors import json_repr

from conftest import GRAPHS

LOAD_CASES = 10_000
SET_CASES = 5_000

NAMES = ["frame", "object", "points", "box", "nodes", "inputs", "outputs", "params", "pos", "type", "version",
         "file", "size", "prompts", "image", "matte", "read", "track", "out", "edge", "ui", "groups", "x"]


def _every_node_type(registry) -> rotograph.Graph:
    """One node of every registered type, with its default params."""
    g = rotograph.Graph(registry)
    for type_id in registry.node_types:
        g.add(type_id)
    return g


def _base_texts(registry) -> list[str]:
    """The real graphs; one node of every type (every param declaration); quickstart with
    keyframes of two objects (points and boxes) and a group with an interface (input and
    output ports, exposed params), so every list is there. The last one is quickstart's."""
    texts = [p.read_text() for p in sorted(GRAPHS.glob("*.json"))]
    texts.append(rotograph.dumps(_every_node_type(registry)))
    g = rotograph.load(GRAPHS / "quickstart.json", registry)
    g.set("track.prompts", [{"frame": 1041, "box": [190, 30, 720, 610], "points": [[400, 300, 1], [100, 50, 0]]},
                            {"frame": 1080, "object": 2, "points": [[410, 280, 1]]},
                            {"frame": 1100, "box": [200, 40, 700, 600]}])
    collapse(g, "edge", ["grow", "feather"], params=["grow.size", "feather.size"])
    g.ui["edge"] = {"pos": [600, 40], "collapsed": True, "backdrop": {"colour": [0.2, 0.3, 0.4], "size": [300, 200]}}
    texts.append(rotograph.dumps(g))
    return texts


def _value(rng: random.Random, doc, paths: list[tuple], depth: int = 0):
    """A random JSON value: edge-case scalars, containers, a value taken from elsewhere in
    ``doc`` (a keyframe, a box, a link …; ``paths``: the document's), or deep nesting."""
    pick = rng.random()
    if pick < 0.45:
        return rng.choice([None, True, False, 0, 1, -1, 3, 2 ** 31, 10 ** 30, -10 ** 30, 10 ** 400, 0.5, -0.0, 1e308,
                           1001.0, math.nan, math.inf, -math.inf, "", "x", "read.image", "a.b.c", ".image", "track.",
                           "sample:bigbuckbunny.mp4", "sample:nope", "shot.####.exr", "out.mov", "\u0000", "😀",
                           "\ud800", "a\udcff", "1001", "NaN", "linear", "sRGB", "ACEScg", "nope", "1,3,person 2",
                           "0", "65536", "rotograph.Grow", "rotograph.Read", "blue", "float", "zip"])
    if pick < 0.75:
        return json.loads(json.dumps(_get(doc, rng.choice(paths)))) if paths else None  # a copy: no cycles
    if pick < 0.9 and depth < 3:
        n = rng.randrange(4)
        if rng.random() < 0.5:
            return [_value(rng, doc, paths, depth + 1) for _ in range(n)]
        return {rng.choice(NAMES): _value(rng, doc, paths, depth + 1) for _ in range(n)}
    if pick < 0.93:
        deep: object = rng.choice([[], {}, 1])
        for _ in range(rng.choice([10, 63, 64, 70, 300])):
            deep = [deep] if rng.random() < 0.5 else {"x": deep}
        return deep
    return rng.choice([[1, 2, 1], [math.nan, 0, 1], [0, 0, 10, 10], [10, 10, 0, 0], [[1, 2, 1]], {"pos": [1, 2]},
                       {"frame": 1041}, {"frame": 1041, "points": [[1, 2, 2]]},
                       {"frame": math.nan, "box": [0, 0, 1, 1]}])


def _paths(doc) -> list[tuple]:
    """Every path to a value inside ``doc`` (object keys and list indices)."""
    out, stack = [], [(doc, ())]
    while stack:
        node, path = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for k, v in items:
            out.append((*path, k))
            stack.append((v, (*path, k)))
    return out


def _get(doc, path):
    for k in path:
        doc = doc[k]
    return doc


def _mutate(rng: random.Random, doc, paths: list[tuple] | None = None) -> str:
    """Apply one mutation at a random place of ``doc`` (``paths``: its paths, when known);
    returns what it did."""
    paths = _paths(doc) if paths is None else paths
    if not paths:
        return "empty"
    path = rng.choice(paths)
    parent, key = _get(doc, path[:-1]), path[-1]
    op = rng.random()
    if op < 0.4:
        parent[key] = _value(rng, doc, paths)
        return f"set {path} = {json.dumps(parent[key])[:80]}"
    if op < 0.55:
        del parent[key]
        return f"delete {path}"
    if op < 0.7:
        if isinstance(parent, list):
            item = rng.choice([parent[key], _value(rng, doc, paths)])
            parent.insert(rng.randrange(len(parent) + 1), item)
            return f"insert into {path[:-1]}: {json.dumps(item)[:80]}"
        name = rng.choice(NAMES + [f"n{rng.randrange(9)}"])
        parent[name] = _value(rng, doc, paths)
        return f"add {(*path[:-1], name)} = {json.dumps(parent[name])[:80]}"
    if op < 0.8:  # change the type of what is there
        v = parent[key]
        parent[key] = (v[0] if isinstance(v, list) and v else [v] if rng.random() < 0.5 else
                       str(v) if not isinstance(v, (dict, list)) else json.dumps(v))
        return f"retype {path} = {json.dumps(parent[key])[:80]}"
    if op < 0.9:  # swap with another value of the document
        other = rng.choice(paths)
        if other[:len(path)] == path or path[:len(other)] == other:
            return "swap (nested)"
        try:
            oparent = _get(doc, other[:-1])
            a, b = parent[key], oparent[other[-1]]
            parent[key], oparent[other[-1]] = b, a
        except (KeyError, IndexError, TypeError):
            return "swap (gone)"
        return f"swap {path} <-> {other}"
    v = parent[key]  # nudge a number or a string
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        parent[key] = math.nan
    elif isinstance(v, str):
        parent[key] = rng.choice([v + "x", v[:-1], v.upper(), v.replace(".", ""), v + "." + v, " " + v])
    else:
        parent[key] = rng.choice([-v, v + 0.5, v * 1e9, int(v) + 1, math.nan, math.inf, -1])
    return f"nudge {path} = {json.dumps(parent[key])[:80]}"


def _load_case(n: int, bases: list[tuple[str, list]]) -> tuple[str, str]:
    """Case ``n``: (JSON text, what was done to it). ``bases``: (text, its paths) to mutate."""
    rng = random.Random(n)
    base, paths = rng.choice(bases)
    if rng.random() < 0.03:  # the text itself: cut, or bytes changed
        if rng.random() < 0.5:
            return base[:rng.randrange(len(base))], "cut"
        i = rng.randrange(len(base))
        junk = rng.choice(["{", "]", '"', ",", "NaN", "\\", "\u00ff", "-Infinity"])
        return base[:i] + junk + base[i + 1:], f"byte {i}"
    doc = json.loads(base)
    done = [_mutate(rng, doc, paths if i == 0 else None) for i in range(rng.choice([1, 1, 1, 2, 3]))]
    return json.dumps(doc, allow_nan=True), "; ".join(done)


def _round_trip(graph, registry) -> None:
    for gname, group in graph.groups.items():  # a loaded group's interface leads somewhere
        for port in group.params:
            node, param = group.params[port].split(".")
            graph.set(f"{gname}.{port}", graph.nodes[node].get_params()[param])
        for ref in [group.outputs[p] for p in group.outputs] + [r for refs in group.inputs.values() for r in refs]:
            node, port = ref.split(".")
            assert port in graph.nodes[node].outputs or port in graph.nodes[node].inputs, ref
    saved = rotograph.dumps(graph)
    saved.encode("utf-8")  # as save() writes it
    assert rotograph.dumps(rotograph.loads(saved, registry)) == saved


def _python_values() -> list:
    """Values only Python code can pass to Graph.set (not JSON)."""
    import numpy as np

    deep: list = []
    for _ in range(5000):
        deep = [deep]
    return [(1, 2, 3), {1, 2}, np.float32(2.5), np.int64(3), np.array([1.0, 2.0, 3.0]), np.array(2.0), object(),
            b"bytes", deep, 10 ** 5000, [[0, 0, 1]] * 3, float("nan")]


def _bases(registry) -> list[tuple[str, list]]:
    return [(text, _paths(json.loads(text))) for text in _base_texts(registry)]


def test_fuzzed_graph_files_give_only_rotograph_errors(registry):
    bases = _bases(registry)
    crashes, loaded, refused = [], 0, 0
    for n in range(LOAD_CASES):
        text, what = _load_case(n, bases)
        try:
            graph = rotograph.loads(text, registry, source="fuzz.json")
        except RotographError as e:
            assert "\n" not in str(e), (n, what, str(e))
            refused += 1
            continue
        except Exception as e:  # noqa: BLE001 - what the test is looking for
            crashes.append(f"case {n}: {what}: {type(e).__name__}: {e}")
            continue
        loaded += 1
        try:
            _round_trip(graph, registry)
        except Exception as e:  # noqa: BLE001
            crashes.append(f"case {n}: {what}: loads, but does not save and load again: {type(e).__name__}: {e}")
    assert not crashes, f"{len(crashes)} crashes, e.g.:\n" + "\n".join(crashes[:15])
    assert loaded > LOAD_CASES // 20 and refused > LOAD_CASES // 2, (loaded, refused)  # both paths exercised


def test_fuzzed_graph_set_gives_only_rotograph_errors(registry):
    texts = _base_texts(registry)
    graph = rotograph.loads(texts[-1], registry)
    for name, node in _every_node_type(registry).nodes.items():
        graph.add(node.type_id, f"all_{name}")
    doc = json.loads(texts[-1])
    paths = _paths(doc)
    refs = [f"{n}.{p}" for n, node in graph.nodes.items() for p in node.params] + \
           [f"edge.{p}" for p in graph.groups["edge"].params]
    python_values = _python_values()
    crashes, accepted = [], 0
    for n in range(SET_CASES):
        rng = random.Random(-1 - n)
        ref = rng.choice(refs)
        if rng.random() < 0.15:
            ref = rng.choice(["read", "read.", ".file", "a.b.c", "edge", "edge.nope", "nope.size", "grow.sise", "",
                              "edge.size.x", "track.prompts.0", None, 5, ("grow", "size"), "\ud800.size"])
        value = _value(rng, doc, paths) if rng.random() < 0.9 else rng.choice(python_values)
        if rng.random() < 0.4 and isinstance(ref, str) and ref.endswith("prompts"):  # a keyframe list, mutated inside
            value = json.loads(json.dumps(graph.nodes["track"].prompts))  # a copy to mutate
            holder = {"v": value}
            what = _mutate(rng, holder, None)
            value = holder.get("v", value)
        else:
            what = json_repr(value)
        try:
            graph.set(ref, value)
            accepted += 1
            _round_trip(graph, registry)
        except RotographError as e:
            assert "\n" not in str(e), (n, ref, what, str(e))
        except Exception as e:  # noqa: BLE001
            crashes.append(f"case {n}: set {ref!r} = {what}: {type(e).__name__}: {e}")
    assert not crashes, f"{len(crashes)} crashes, e.g.:\n" + "\n".join(crashes[:15])
    assert accepted > SET_CASES // 50, accepted


@pytest.mark.parametrize("n", [0, 1, 2])
def test_cases_are_reproducible(registry, n):
    bases = _bases(registry)
    assert _load_case(n, bases) == _load_case(n, bases)
