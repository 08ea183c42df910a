"""FillHoles, RemoveDots and BorderFix on mattes with holes and dots of known area."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from rotograph import Context, RotographError
from rotograph.nodes.matte.matte_cleanup import BorderFix, FillHoles, RemoveDots

CTX = Context(1001, "cleanup")
H, W = 120, 160
HOLES = {9: (50, 60, 3), 25: (70, 50, 5), 100: (55, 85, 10)}  # area → (x, y, side) of a square hole
DOTS = {9: (8, 8, 3), 16: (140, 12, 4), 144: (130, 90, 12)}  # area → (x, y, side) of a square island


def _square(m, x, y, side, value):
    m[y:y + side, x:x + side] = value


def scene(holes=HOLES, dots=DOTS) -> np.ndarray:
    """A disc (radius 40 px) with square holes, and square islands around it: hard-edged, float32."""
    m = np.zeros((H, W), np.float32)
    cv2.circle(m, (70, 60), 40, 1.0, -1)
    for x, y, side in holes.values():
        _square(m, x, y, side, 0.0)
    for x, y, side in dots.values():
        _square(m, x, y, side, 1.0)
    return m


def soft(m):
    return cv2.GaussianBlur(m, (0, 0), 1.0, borderType=cv2.BORDER_REPLICATE)


def footprint(regions, grow=6) -> np.ndarray:
    out = np.zeros((H, W), bool)
    for x, y, side in regions:
        out[max(0, y - grow):y + side + grow, max(0, x - grow):x + side + grow] = True
    return out


def test_fill_holes_fills_exactly_the_small_holes():
    m = scene()
    out = FillHoles(max_area=25).compute(CTX, m)
    small = {a: HOLES[a] for a in (9, 25)}
    assert np.array_equal(out, scene(holes={100: HOLES[100]}))  # 9 and 25 px² filled (≤ max_area), 100 kept
    assert ((m < 0.5) & (out >= 0.5)).sum() == 34  # and nothing else changed
    assert np.array_equal(out[~footprint(small.values(), 0)], m[~footprint(small.values(), 0)])


def test_fill_holes_in_percent_of_the_object():
    m = scene(dots={})
    object_area = ((m >= 0.5).sum() + sum(HOLES))  # the disc with its holes filled
    out = FillHoles(max_area=100 * 20 / object_area, units="percent").compute(CTX, m)  # 20 px² of this object
    assert np.array_equal(out, scene(holes={a: HOLES[a] for a in (25, 100)}, dots={}))


def test_fill_holes_keeps_soft_edges_and_takes_a_soft_hole_with_its_rim():
    m = soft(scene())
    truth = soft(scene(holes={100: HOLES[100]}))  # the same soft matte without the small holes
    out = FillHoles(max_area=40).compute(CTX, m)
    changed = footprint([HOLES[9], HOLES[25]])
    assert np.array_equal(out[~changed], m[~changed])  # soft disc edge, big hole, dots: bit for bit
    assert np.abs(out - truth).max() < 2e-3  # the hole and its soft rim are gone (below 1e-3 left)
    assert (m[changed] < 0.99).sum() > 34  # there was a soft rim to take


def test_a_gap_open_to_the_frame_border_is_not_a_hole():
    m = np.ones((30, 40), np.float32)
    m[10:14, 0:6] = 0.0  # a notch at the left border
    m[20:22, 20:22] = 0.0  # a real hole of 4 px²
    out = FillHoles(max_area=1000).compute(CTX, m)
    assert (out[10:14, 0:6] == 0).all() and (out[20:22, 20:22] == 1).all()


def test_remove_dots_removes_exactly_the_small_islands():
    m = scene()
    out = RemoveDots(max_area=16).compute(CTX, m)
    assert np.array_equal(out, scene(dots={144: DOTS[144]}))  # 9 and 16 px² gone (neither touches the border…)
    edge = np.zeros_like(m)
    edge[0:3, 70:73] = 1.0  # … a 9 px² dot on the top border goes too
    assert not RemoveDots(max_area=16).compute(CTX, m + edge)[0:3, 70:73].any()


def test_remove_dots_soft_and_in_percent():
    m = soft(scene())
    truth = soft(scene(dots={144: DOTS[144]}))
    whole = (m >= 0.5).sum()
    out = RemoveDots(max_area=100 * 30 / whole, units="percent").compute(CTX, m)  # 30 px² of the matte
    changed = footprint([DOTS[9], DOTS[16]])
    assert np.array_equal(out[~changed], m[~changed])
    assert np.abs(out - truth).max() < 2e-3


@pytest.mark.parametrize("cls", [FillHoles, RemoveDots])
def test_cleanup_edge_cases(cls):
    for m in (np.zeros((5, 7), np.float32), np.ones((5, 7), np.float32), np.zeros((1, 1), np.float32)):
        assert np.array_equal(cls(max_area=34).compute(CTX, m), m)  # empty, full (35 px²), 1×1
    assert not RemoveDots(max_area=35).compute(CTX, np.ones((5, 7), np.float32)).any()  # a lone island is one
    assert cls(max_area=0).passthrough() == "matte"


def test_border_fix_clear_and_extend():
    m = np.zeros((40, 50), np.float32)
    m[15:25, 30:50] = 1.0  # an object leaving frame on the right
    m[:, 48:] *= 0.4  # the model softened the last two columns
    m[0:2, 0:10] = 0.7  # garbage along the top
    cleared = BorderFix(size=2, mode="clear").compute(CTX, m)
    extended = BorderFix(size=2, mode="extend").compute(CTX, m)
    inner = (slice(2, 38), slice(2, 48))
    assert np.array_equal(cleared[inner], m[inner]) and np.array_equal(extended[inner], m[inner])
    assert cleared.sum() == m[inner].sum()
    assert (extended[15:25, 48:] == 1.0).all() and (extended[0:2, 0:10] == 0).all()
    assert np.array_equal(extended[:, 49], extended[:, 47]) and np.array_equal(extended[0], extended[2])
    with pytest.raises(RotographError, match="leaves nothing"):
        BorderFix(size=20).compute(CTX, m)
