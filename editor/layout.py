"""Where new nodes go on the canvas: free of the others (plain geometry, no window).

Rectangles are ``(x, y, w, h)`` in graph units (the positions saved under ``"ui"``).
"""

from __future__ import annotations

NODE_SIZE = (190.0, 90.0)  # a node's footprint before it has been drawn
GAP = 30.0


def overlaps(a, b, gap: float = GAP) -> bool:
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
