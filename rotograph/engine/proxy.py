"""Proxy resolution: run a graph at a fraction of its formats' size (``render --proxy 0.5``).

:func:`apply_proxy` rewrites a graph in place, so that the engine needs to know nothing of it:

- every source's image (a node with no inputs and an Image output: a Read) goes through a
  ``Reformat`` (format ``scale``, area filter) named ``<read>_proxy``, so every image in the
  graph is ``scale`` times its full size;
- every param measured in pixels is scaled: radii and sizes by ``scale``, areas (px²) by
  ``scale²``, boxes, offsets and prompt coordinates by ``scale``; named Reformat formats become
  custom formats of the scaled size; fractions, percentages, thresholds and working-resolution
  caps are left as they are. Each node declares which of its params are in pixels with its
  ``pixel_params`` class attribute ({param: power}) and any other change with
  :meth:`~rotograph.core.node.Node.proxy_params`;
- every writer's output path gains a ``proxy<scale>`` folder
  (``render/shot.####.exr`` → ``render/proxy0.5/shot.####.exr``), so a proxy render never
  overwrites the full-resolution one.

Cache keys follow from the rewrite: the proxy Reformat and the scaled params give every node
downstream of a Read its own keys, and the full-resolution entries stay valid.
"""

from __future__ import annotations

import os

from ..errors import GraphError
from ..core.params import FileOut, MovieOut, Prompts


def proxy_folder(path: str, scale: float) -> str:
    """``dir/name`` → ``dir/proxy<scale>/name`` (an empty path stays empty)."""
    if not path:
        return path
    head, tail = os.path.split(path)
    return os.path.join(head, f"proxy{scale:g}", tail)


def _scaled(value, power: int, scale: float):
    if isinstance(value, bool) or not power:
        return value
    v = value * scale ** power
    return round(v) if isinstance(value, int) else v


def _scaled_prompts(prompts: list, scale: float) -> list:
    return [{**kf, "points": [[x * scale, y * scale, label] for x, y, label in kf["points"]],
             "box": None if kf["box"] is None else [v * scale for v in kf["box"]]} for kf in prompts]


def scaled_params(node, scale: float) -> dict:
    """The params of ``node`` that change at proxy ``scale``: {param: new value}."""
    out = {}
    for param, power in type(node).pixel_params.items():
        power = power(node) if callable(power) else power
        out[param] = _scaled(getattr(node, param), power, scale)
    for name, p in type(node).params.items():
        value = getattr(node, name)
        if p.type is Prompts and value:
            out[name] = _scaled_prompts(value, scale)
        elif isinstance(p.type, type) and issubclass(p.type, (FileOut, MovieOut)) and value:
            out[name] = proxy_folder(value, scale)
    out.update(node.proxy_params(scale))
    return out


def apply_proxy(graph, scale: float):
    """Rewrite ``graph`` (in place; returned too) to run at ``scale`` × its formats' size.
    Raises :class:`GraphError` for a scale outside (0, 1]."""
    if not 0.0 < scale <= 1.0:
        raise GraphError(f"--proxy {scale:g}: expected a fraction in (0, 1], e.g. 0.5")
    if scale == 1.0:
        return graph
    sources = [(n.name, o) for n in graph if not n.inputs for o, out in n.outputs.items() if out.type.name == "Image"]
    for node in list(graph):
        for param, value in scaled_params(node, scale).items():
            graph.set(f"{node.name}.{param}", value)
    for read, image in sources:
        proxy = graph.add("rotograph.Reformat", graph.unique_name(f"{read}_proxy"), format="scale", scale=scale,
                          filter="area")
        for name in [n.name for n in graph]:
            for port, (src, out) in graph.inputs_of(name).items():
                if src == read and out == image and name != proxy.name:
                    graph.connect(f"{proxy.name}.out", f"{name}.{port}")
        graph.connect(f"{read}.{image}", f"{proxy.name}.image")
    return graph


def proxy_copy(graph, scale: float):
    """A copy of ``graph`` rewritten by :func:`apply_proxy` (``graph`` is left as it is): what
    the editor's proxy toggle evaluates. At ``scale`` 1 the copy equals the graph."""
    from ..core.graphio import dumps, loads

    return apply_proxy(loads(dumps(graph), graph.registry, folder=graph.folder), scale)
