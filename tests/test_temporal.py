"""TemporalSmooth and EdgeMotionBlur on a moving disc with a known matte (tests/moving_disc.py)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from rotograph import Context
from rotograph.nodes.matte.temporal import EdgeMotionBlur, TemporalSmooth, edge_band

from moving_disc import coverage, edge_errors, moving_disc, temporal_variance


@pytest.fixture(scope="module")
def disc():
    return moving_disc(n=12, sigma=0.15)


def _smooth(node, disc, use_plate=True):
    """Run ``node`` on every frame with its clamped window, as the engine would."""
    out, frames = {}, sorted(disc.noisy)
    for f in frames:
        window = [g for g in range(f - node.radius, f + node.radius + 1) if g in disc.noisy]
        plate = {g: disc.plate[g] for g in window} if use_plate else None
        out[f] = node.compute(Context(f, "smooth"), {g: disc.noisy[g] for g in window}, plate)
    return out


def _edge_error(mattes, disc, frames) -> np.ndarray:
    return np.concatenate([edge_errors(mattes[f], disc.centres[f], disc.radius) for f in frames])


@pytest.mark.parametrize("use_plate", [True, False], ids=["flow-on-plate", "flow-on-matte"])
def test_temporal_smooth_removes_flicker_and_keeps_the_edge(disc, use_plate):
    out = _smooth(TemporalSmooth(radius=2), disc, use_plate)
    full = [f for f in disc.noisy if 1003 <= f <= 1010]  # frames with the whole ±2 window
    before, after = temporal_variance(disc.noisy, disc.truth, full), temporal_variance(out, disc.truth, full)
    everywhere = temporal_variance(disc.noisy, disc.truth, disc.noisy) / temporal_variance(out, disc.truth, disc.noisy)
    errors = _edge_error(out, disc, full)
    print(f"temporal variance of the error {before:.5f} → {after:.5f} ({before / after:.2f}× on frames with the "
          f"full window, {everywhere:.2f}× on all 12); edge position error mean {errors.mean():.3f} px, "
          f"95th percentile {np.percentile(errors, 95):.3f} px")
    assert before / after >= 4.0
    assert errors.mean() < 1.0 and np.percentile(errors, 95) < 1.0


def test_without_motion_compensation_the_edge_ghosts(disc):
    out = _smooth(TemporalSmooth(radius=2, motion=False), disc)
    full = [f for f in disc.noisy if 1003 <= f <= 1010]
    errors = _edge_error(out, disc, full)
    print(f"plain temporal average: edge position error 95th percentile {np.percentile(errors, 95):.2f} px")
    assert np.percentile(errors, 95) > 1.0  # the accelerating disc smears: what the flow alignment avoids
    assert temporal_variance(out, disc.truth, full) > temporal_variance(disc.noisy, disc.truth, full)


def test_edge_only_smooths_the_edge_band_and_leaves_the_rest_alone(disc):
    full = _smooth(TemporalSmooth(radius=2), disc)
    out = _smooth(TemporalSmooth(radius=2, edge_only=True, edge_band=4.0), disc)
    for f in disc.noisy:
        band = edge_band(full[f], 4.0)
        assert 0 < band.sum() < band.size // 4
        assert np.array_equal(out[f][band], full[f][band])  # the band: as smoothed everywhere
        assert np.array_equal(out[f][~band], disc.noisy[f][~band])  # the core and the clear area: untouched


def test_temporal_smooth_strength_and_a_lone_frame():
    m = np.random.default_rng(0).random((8, 9)).astype(np.float32)
    alone = TemporalSmooth(radius=3).compute(Context(1001, "s"), {1001: m}, None)
    assert np.array_equal(alone, m)
    assert TemporalSmooth(strength=0.0).passthrough() == "matte"
    assert TemporalSmooth(radius=0).passthrough() == "matte"


def test_edge_motion_blur_matches_a_rendered_motion_blur():
    """A disc moving (5, 2) px per frame: the blurred matte against the disc averaged over 64
    instants of the shutter."""
    h, w, radius, v, c0 = 96, 128, 18.0, np.array([5.0, 2.0]), np.array([50.0, 45.0])
    rng = np.random.default_rng(1)
    bg = cv2.GaussianBlur(rng.random((h, w, 3)).astype(np.float32), (0, 0), 1.5) * 0.5
    fg = cv2.GaussianBlur(rng.random((2 * h, 2 * w, 3)).astype(np.float32), (0, 0), 1.5) * 0.6 + 0.4
    mattes, plates = {}, {}
    for i, f in enumerate((1001, 1002, 1003)):
        cx, cy = c0 + v * i
        mattes[f] = coverage((h, w), cx, cy, radius)
        texture = cv2.warpAffine(fg, np.float32([[1, 0, cx - w / 2], [0, 1, cy - h / 2]]), (w, h),
                                 borderMode=cv2.BORDER_REFLECT)
        plates[f] = (texture * mattes[f][..., None] + bg * (1 - mattes[f][..., None])).astype(np.float32)
    for shutter in (0.5, 1.0):
        node = EdgeMotionBlur(shutter=shutter)
        instants = (np.arange(64) + 0.5) / 64 * shutter - shutter / 2
        for f, window in ((1002, (1001, 1002, 1003)), (1003, (1002, 1003))):  # middle, and the last frame
            centre = c0 + v * (f - 1001)
            truth = np.mean([coverage((h, w), *(centre + v * t), radius) for t in instants], axis=0)
            out = node.compute(Context(f, "mb"), {g: mattes[g] for g in window}, {g: plates[g] for g in window})
            soft = ((truth > 1e-3) & (truth < 1 - 1e-3)) | ((mattes[f] > 1e-3) & (mattes[f] < 1 - 1e-3))
            before, after = np.abs(mattes[f] - truth)[soft].mean(), np.abs(out - truth)[soft].mean()
            print(f"shutter {shutter}, frame {f}: mean |error| on the edge {before:.4f} sharp → {after:.4f} blurred")
            assert after < 0.4 * before
    assert np.array_equal(EdgeMotionBlur().compute(Context(1, "mb"), {1: mattes[1001]}, None), mattes[1001])


def test_a_plate_of_another_size_is_a_clear_error():
    from rotograph import RotographError

    m = {1001: np.zeros((8, 10), np.float32), 1002: np.zeros((8, 10), np.float32)}
    plate = {f: np.zeros((9, 10, 3), np.float32) for f in m}
    for node in (TemporalSmooth(radius=1), EdgeMotionBlur()):
        with pytest.raises(RotographError, match="the image is 10×9 but the matte is 10×8"):
            node.compute(Context(1001, "t"), m, plate)
