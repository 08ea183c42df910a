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
COLUMN_GAP, ROW_GAP, BAND_GAP = 70.0, 40.0, 90.0
# the side of the square a laid-out graph should fit in: the canvas panel is about square, and at
# 1280×720 it shows 760 graph units across at 10 px labels (2/3 of 100 %) once framed
READABLE = 760.0
WRAP_SLACK = 1.25  # how much wider a row may be than the narrowest, to wrap where fewer links do


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
    labels = [title(name, node), *(p + (" (opt)" if i.optional else "") for p, i in node.inputs.items()),
              *node.outputs]
    return (PAD + CHAR_W * max(map(len, labels)),
            TITLE_H + ROW_H * (len(node.inputs) + len(node.outputs)) + PAD)


def _layers(graph, names) -> tuple[list[list[str]], dict]:
    """``names`` in columns by dependency (each node in the column after its deepest input:
    longest-path layering with networkx), and the DAG of their links."""
    import networkx as nx

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
    return [columns[c] for c in sorted(columns)], dag


def _split(widths: list[float], bands: int, crossing: list[int], slack: float = WRAP_SLACK) -> list[int]:
    """Where to cut a row of columns of ``widths`` into ``bands`` consecutive runs: the index each
    run starts at. The widest run (gaps included) is kept within ``slack`` times the narrowest
    it can be, and among such cuts the fewest links wrap (``crossing[j]``: the links from a
    column before ``j`` to one from ``j`` on), so that a chain wraps where it has one link."""
    from functools import lru_cache

    k = len(widths)

    def run(i, j):  # columns i..j-1 side by side
        return sum(widths[i:j]) + COLUMN_GAP * (j - i - 1)

    @lru_cache(maxsize=None)
    def solve(i, b, cap):  # columns i.. in b runs no wider than cap: (links cut, widest run, starts)
        if b == 1:
            return (0, run(i, k), (i,)) if run(i, k) <= cap else None
        options = []
        for j in range(i + 1, k - b + 2):
            rest = solve(j, b - 1, cap) if run(i, j) <= cap else None
            if rest is not None:
                options.append((crossing[j] + rest[0], max(run(i, j), rest[1]), (i,) + rest[2]))
        return min(options, default=None)

    caps = sorted({run(i, j) for i in range(k) for j in range(i + 1, k + 1)})
    lo, hi = 0, len(caps) - 1  # the narrowest cap that can be met (a wider one always can)
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if solve(0, bands, caps[mid]) is not None else (mid + 1, hi)
    narrowest = caps[lo]
    return list(solve(0, bands, narrowest * slack + 1e-6)[2])


def auto_layout(graph, names=None, side: float = READABLE) -> dict[str, tuple[int, int]]:
    """Positions for ``names`` (default: every node) left → right by dependency: columns by
    :func:`_layers`, as wide as their widest node, nodes in a column ordered by the mean row of
    their inputs (fewer crossings) and stacked without overlap. A long chain wraps into rows
    (bands) read top to bottom, each left → right, as text does: the fewest bands whose extent
    fits a square of ``side`` graph units (else the squarest), so that the graph framed in the
    canvas (about square) is drawn large enough to read."""
    names = list(graph.nodes) if names is None else list(names)
    if not names:
        return {}
    columns, dag = _layers(graph, names)
    sizes = {n: estimate_size(graph, n) for n in names}
    widths = [max(sizes[n][0] for n in col) for col in columns]
    heights = [sum(sizes[n][1] for n in col) + ROW_GAP * (len(col) - 1) for col in columns]

    def extent(starts):
        ends = starts[1:] + [len(columns)]
        w = max(sum(widths[i:j]) + COLUMN_GAP * (j - i - 1) for i, j in zip(starts, ends))
        h = sum(max(heights[i:j]) for i, j in zip(starts, ends)) + BAND_GAP * (len(starts) - 1)
        return w, h

    index = {n: c for c, col in enumerate(columns) for n in col}
    crossing = [sum(index[a] < j <= index[b] for a, b in dag.edges) for j in range(len(columns) + 1)]

    def wrapped(bands):  # wrapping where fewer links do, unless that makes it harder to frame
        tight, loose = _split(widths, bands, crossing, 1.0), _split(widths, bands, crossing)
        return loose if max(extent(loose)) <= max(side, max(extent(tight))) else tight

    starts = None
    for bands in range(1, len(columns) + 1):
        option = wrapped(bands)
        if starts is None or max(extent(option)) < max(extent(starts)):
            starts = option
        if max(extent(option)) <= side or extent(option)[1] > 2 * side:
            break  # fits, or more rows only make it taller
    pos: dict[str, tuple[int, int]] = {}
    row: dict[str, float] = {}
    x = y = band_h = 0.0
    for c, col in enumerate(columns):
        if c in starts and c:
            x, y, band_h = 0.0, y + band_h + BAND_GAP, 0.0
        col = sorted(col, key=lambda n: (sum(row[p] for p in dag.predecessors(n)) / max(1, dag.in_degree(n)),
                                         names.index(n)))
        top = y
        for i, n in enumerate(col):
            pos[n] = (int(round(x)), int(round(top)))
            row[n] = i
            top += sizes[n][1] + ROW_GAP
        band_h = max(band_h, heights[c])
        x += widths[c] + COLUMN_GAP
    return pos
