"""Where new nodes go on the canvas: free of the others (plain geometry, no window).

Rectangles are ``(x, y, w, h)`` in graph units (the positions saved under ``"ui"``).
"""

from __future__ import annotations

NODE_SIZE = (190.0, 90.0)  # a node's footprint before it has been drawn
GAP = 30.0


def overlaps(a, b, gap: float = GAP) -> bool:
    """Whether rectangles ``(x, y, w, h)`` ``a`` and ``b`` come closer than ``gap``."""
    return (a[0] < b[0] + b[2] + gap and b[0] < a[0] + a[2] + gap and
            a[1] < b[1] + b[3] + gap and b[1] < a[1] + a[3] + gap)


def free_position(want, size, occupied, gap: float = GAP) -> tuple[int, int]:
    """The spot nearest ``want`` (the top left of a ``size`` box) that overlaps none of the
    ``occupied`` rectangles, searched on a grid of node-sized steps, below and right first."""
    w, h = size
    sx, sy = w + gap, h / 2 + gap
    candidates = [(want[0] + i * sx, want[1] + j * sy) for i in range(-2, 12) for j in range(-8, 24)]
    candidates.sort(key=lambda p: (abs(p[0] - want[0]) / sx) ** 2 * 1.5 + ((p[1] - want[1]) / sy) ** 2
                    + (0.25 if p[1] < want[1] or p[0] < want[0] else 0))
    for x, y in candidates:
        if not any(overlaps((x, y, w, h), r, gap) for r in occupied):
            return int(round(x)), int(round(y))
    return int(want[0]), int(max((r[1] + r[3] for r in occupied), default=want[1]) + gap)


def bounds(rects) -> tuple[float, float, float, float] | None:
    """The bounding box ``(x, y, w, h)`` of ``rects``, or ``None`` for none."""
    rects = list(rects)
    if not rects:
        return None
    x0, y0 = min(r[0] for r in rects), min(r[1] for r in rects)
    x1, y1 = max(r[0] + r[2] for r in rects), max(r[1] + r[3] for r in rects)
    return x0, y0, x1 - x0, y1 - y0


def duplicate_offset(chosen, others, gap: float = GAP) -> tuple[int, int]:
    """How far to move copies of the ``chosen`` rectangles so that none overlaps ``others`` or
    the originals: the copies' box goes to the free spot nearest just below the originals."""
    box = bounds(chosen)
    if box is None:
        return 0, 0
    x, y = free_position((box[0], box[1] + box[3] + gap), box[2:], list(chosen) + list(others), gap)
    return x - int(box[0]), y - int(box[1])


CHAR_W, ROW_H, TITLE_H, PAD = 8.5, 24.0, 32.0, 16.0  # DejaVu Sans 15 px, as the canvas draws at 100 %
COLUMN_GAP, ROW_GAP = 70.0, 40.0


def title(name: str, node) -> str:
    """A node's title on the canvas: its name, followed by its type when the name does not say
    it already (``track  (FlowTrack)``, but ``grow1``, ``write_exr``: a narrower node, so that
    a framed graph is drawn larger)."""
    type_name = node.type_id.rsplit(".", 1)[-1]
    return name if name.replace("_", "").rstrip("0123456789").lower() == type_name.lower() \
        else f"{name}  ({type_name})"


def estimate_size(graph, name: str) -> tuple[float, float]:
    """A node's drawn footprint at 100 % before it is drawn: its :func:`title` or its widest
    pin label, and one row per pin."""
    return footprint(name, graph.nodes[name])


def footprint(name: str, node) -> tuple[float, float]:
    """:func:`estimate_size` of a node (or node class) ``node`` that would be called ``name``."""
    labels = [title(name, node), *(p + " (opt)" for p in node.inputs), *node.outputs]
    return (PAD + CHAR_W * max(map(len, labels)),
            TITLE_H + ROW_H * (len(node.inputs) + len(node.outputs)) + PAD)


def auto_layout(graph, names=None) -> dict[str, tuple[int, int]]:
    """Positions for ``names`` (default: every node) left → right by dependency: each node in
    the column after its deepest input (longest-path layering of the graph's DAG, with
    networkx), columns as wide as their widest node, nodes in a column ordered by the mean row
    of their inputs (fewer crossings) and stacked without overlap."""
    import networkx as nx

    names = list(graph.nodes) if names is None else list(names)
    dag = nx.DiGraph()
    dag.add_nodes_from(names)
    for n in names:
        dag.add_edges_from((src, n) for src, _ in graph.inputs_of(n).values() if src in dag)
    layer: dict[str, int] = {}
    for n in nx.topological_sort(dag):
        layer[n] = max((layer[p] + 1 for p in dag.predecessors(n)), default=0)
    columns: dict[int, list[str]] = {}
    for n in names:
        columns.setdefault(layer[n], []).append(n)
    sizes = {n: estimate_size(graph, n) for n in names}
    pos: dict[str, tuple[int, int]] = {}
    row: dict[str, float] = {}
    x = 0.0
    for c in sorted(columns):
        col = sorted(columns[c], key=lambda n: (sum(row[p] for p in dag.predecessors(n)) /
                                                max(1, dag.in_degree(n)), names.index(n)))
        y = 0.0
        for i, n in enumerate(col):
            pos[n] = (int(round(x)), int(round(y)))
            row[n] = i
            y += sizes[n][1] + ROW_GAP
        x += max(sizes[n][0] for n in col) + COLUMN_GAP
    return pos
