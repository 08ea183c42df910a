"""SAM3Track's logic — chunked sessions, re-seeding, stable ids, keyframes, both directions —
against a double that follows sam3's real predictor API; and the CUDA check."""

from __future__ import annotations

import numpy as np
import pytest

import rotograph
from rotograph.models import MANAGER
from rotograph.nodes import sam3 as sam3_nodes

from conftest import write_png_sequence
from sam3_double import FakeSam3VideoPredictor

N = 30


def two_squares(n=N, first=1001):
    """A red square moving right and a blue one moving left over grey, with their truth."""
    frames, truth = {}, {}
    for i in range(n):
        img = np.full((96, 160, 3), 90, np.uint8)
        lab = np.zeros((96, 160), np.uint16)
        rx, bx = 10 + 3 * i, 120 - 3 * i
        img[20:44, rx:rx + 24] = [220, 30, 30]
        lab[20:44, rx:rx + 24] = 1
        img[56:80, bx:bx + 24] = [30, 40, 220]
        lab[56:80, bx:bx + 24] = 2
        frames[first + i], truth[first + i] = img, lab
    return frames, truth


@pytest.fixture
def double(monkeypatch):
    fake = FakeSam3VideoPredictor()
    factory = lambda weights, device: fake  # noqa: E731  (no needs_cuda: a double runs anywhere)
    monkeypatch.setattr(sam3_nodes, "build_video_predictor", factory)
    MANAGER.clear()
    yield fake
    MANAGER.clear()


def _graph(registry, tmp_path, **params):
    frames, truth = two_squares()
    g = rotograph.Graph(registry)
    g.add("rotograph.Read", "read", file=write_png_sequence(tmp_path / "plate", frames), colorspace="sRGB")
    g.add("rotograph.SAM3Track", "track", **params)
    g.connect("read.image", "track.image")
    return g, truth


def _check_ids(ev, truth, frames):
    for f in frames:
        masks = ev.get("track", "masks", f)
        for oid in (1, 2):
            got, want = masks.labels == oid, truth[f] == oid
            assert (got & want).sum() / (got | want).sum() > 0.8, (f, oid)  # a colour double on JPEG frames


def test_points_chunks_reseed_with_stable_ids(registry, tmp_path, double):
    prompts = [{"frame": 1001, "object": 1, "points": [[22, 32, 1]], "box": None},
               {"frame": 1001, "object": 2, "points": [[132, 68, 1]], "box": None}]
    g, truth = _graph(registry, tmp_path, prompts=prompts, chunk=8, overlap=2)
    g.validate()
    ev = rotograph.Evaluator(g, rotograph.Cache())
    ev.wanted = {"track": set(truth)}
    _check_ids(ev, truth, sorted(truth))
    assert ev.stats.range_runs["track"] == 1 and ev.stats.computes["track"] == N
    assert double.max_frames <= 8  # memory bounded by the chunk, whatever the shot length
    sessions = [r for r in double.log if r["type"] == "start_session"]
    assert len(sessions) == 5  # 8 + 6 + 6 + 6 + 6 frames cover 30 with 2 of overlap
    reseeds = [r for r in double.log if r["type"] == "add_prompt" and r["frame_index"] == 0]
    assert sorted({r["obj_id"] for r in reseeds}) == [1, 2] and len(reseeds) == 2 * 5  # every chunk re-seeded
    assert not double.sessions  # every session closed
    m = ev.get("track", "matte", 1020)
    assert m.dtype == np.float32 and m.max() == 1 and set(np.unique(m)) <= {0.0, 1.0}


def test_text_prompt_and_backwards_from_a_middle_keyframe(registry, tmp_path, double):
    g, truth = _graph(registry, tmp_path, text="square", chunk=10, overlap=3)
    ev = rotograph.Evaluator(g, rotograph.Cache())
    ev.wanted = {"track": set(truth)}
    _check_ids(ev, truth, [1001, 1015, 1030])  # ids by the concept detector, kept across chunks
    names = [o.name for o in ev.get("track", "masks", 1030).objects]
    assert names == ["square 1", "square 2"]

    prompts = [{"frame": 1015, "object": 7, "points": [[10 + 42 + 12, 32, 1]], "box": None}]
    g2, _ = _graph(registry, tmp_path / "b", prompts=prompts, chunk=6, overlap=2, object=7)
    ev2 = rotograph.Evaluator(g2, rotograph.Cache())
    ev2.wanted = {"track": set(truth)}
    first = ev2.get("track", "matte", 1001)  # before the keyframe: tracked backwards
    assert ((first > 0.5) & (truth[1001] == 1)).sum() / ((first > 0.5) | (truth[1001] == 1)).sum() > 0.9
    assert ev2.segment_of("track", 1003).frames[0] == 1014  # the backward segment runs 1014 → 1001


def test_resume_reseeds_from_the_last_cached_frame(registry, tmp_path, double):
    prompts = [{"frame": 1001, "object": 1, "points": [[22, 32, 1]], "box": None}]
    g, truth = _graph(registry, tmp_path, prompts=prompts, chunk=8, overlap=2)
    cache = rotograph.open_cache(str(tmp_path / "cache"))
    ev = rotograph.Evaluator(g, cache)
    ev.wanted = {"track": set(range(1001, 1013))}
    ev.get("track", "masks", 1012)
    ev2 = rotograph.Evaluator(g, rotograph.open_cache(str(tmp_path / "cache")))
    ev2.wanted = {"track": set(truth)}
    masks = ev2.get("track", "masks", 1030)
    assert ev2.stats.computes["track"] == N - 12  # only the frames after 1012
    assert [o.id for o in masks.objects] == [1]


def test_without_cuda_the_check_names_flowtrack(registry, tmp_path):
    g, _ = _graph(registry, tmp_path, text="person")
    try:
        import torch

        if torch.cuda.is_available():
            pytest.skip("this machine has CUDA")
    except ImportError:
        pass
    with pytest.raises(rotograph.GraphError, match="FlowTrack|PyTorch"):
        g.validate()


def test_sam3_segment_text_and_exemplar_box(registry, tmp_path, monkeypatch):
    from sam3_double import FakeSam3Processor

    fake = FakeSam3Processor()
    factory = lambda weights, device: fake  # noqa: E731
    factory.needs_weights = False
    monkeypatch.setattr(sam3_nodes, "build_image_processor", factory)
    MANAGER.clear()
    frames, truth = two_squares(3)
    g = rotograph.Graph(registry)
    g.add("rotograph.Read", "read", file=write_png_sequence(tmp_path / "p", frames), colorspace="sRGB")
    g.add("rotograph.SAM3Segment", "seg", text="square")
    g.connect("read.image", "seg.image")
    masks = g.evaluate("seg", 1002, "masks")
    assert [o.name for o in masks.objects] == ["square 1", "square 2"] and masks.objects[0].score == pytest.approx(0.9)
    assert ((masks.labels > 0) == (truth[1002] > 0)).mean() > 0.98
    g.set("seg.text", "")
    g.set("seg.prompts", [{"frame": 1001, "box": [120, 56, 144, 80]}])  # the blue square at 1002
    m = g.evaluate("seg", 1002, "matte")
    blue = truth[1002] == 2
    assert (m > 0.5)[blue].mean() > 0.9 and (m > 0.5)[truth[1002] == 1].mean() < 0.1
    box_call = [c for c in fake.calls if c[0] == "box"][-1]
    assert box_call[1] == pytest.approx([132 / 160, 68 / 96, 24 / 160, 24 / 96])
    MANAGER.clear()
