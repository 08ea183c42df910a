"""Cooperative cancellation in the engine: an evaluator's ``check()`` is called at every value
read, before every compute, between a range run's frames and inside long computes
(``Context.check``); what it raises stops the evaluation at once, and the frames a run emitted
before stay cached."""

from __future__ import annotations

import sys

import cv2
import numpy as np
import pytest

import rotograph
from conftest import build_track_graph


class Stop(BaseException):
    """What the test's check raises."""


class Stopping(rotograph.Evaluator):
    """Raises :class:`Stop` at the ``at``-th check; records where checks came from."""

    def __init__(self, graph, cache, at=None):
        super().__init__(graph, cache, log=lambda m: None)
        self.at, self.calls, self.inside, self.runs = at, 0, 0, []

    def check(self):
        self.calls += 1
        caller = sys._getframe(1)
        self.inside += "tracking" in caller.f_code.co_filename  # called by FlowTrack's code itself
        if self.at is not None and self.calls >= self.at:
            raise Stop()

    def running(self, name, done, total):
        self.runs.append((name, done, total))


def test_a_range_run_stops_inside_its_frames_and_keeps_what_it_emitted(registry, square_shot, tmp_path, cache):
    pattern, _ = square_shot
    graph = build_track_graph(registry, pattern, tmp_path / "out")
    full = Stopping(graph, rotograph.Cache())
    full.get("track", None, 1008)
    assert full.runs[0] == ("track", 0, 8) and full.runs[-1] == ("track", 8, 8)  # 1001-1008: the right total
    assert full.inside >= 2 * 7  # inside FlowTrack's frames: at least before each flow and each object

    stopping = Stopping(graph, cache, at=full.calls // 2)
    with pytest.raises(Stop):  # not turned into a node's EvaluationError on its way out
        stopping.get("track", None, 1008)
    emitted = stopping.stats.computes["track"]
    assert 0 < emitted < 8
    again = Stopping(graph, cache)
    again.get("track", None, 1008)
    assert again.stats.computes["track"] == 8 - emitted  # a resumable run goes on from the last cached frame


def test_grabcut_split_at_its_checks_gives_the_same_cut():
    from rotograph.nodes.tracking._cuts import grabcut

    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (120, 160, 3)).astype(np.uint8)
    img[30:90, 40:120] = (200, 180, 60) + rng.integers(0, 30, (60, 80, 3))
    tri = np.full((120, 160), cv2.GC_BGD, np.uint8)
    tri[25:95, 35:125] = cv2.GC_PR_FGD
    calls = []
    one = grabcut(img, tri.copy(), 5)
    split = grabcut(img, tri.copy(), 5, check=lambda: calls.append(1))
    assert np.array_equal(one, split) and len(calls) == 4 and 3000 < one.sum() < 6000


def test_sam3track_stops_inside_a_sessions_propagation(registry, tmp_path, monkeypatch):
    """SAM3Track (against the recorded sam3 double) checks before each frame it propagates."""
    pytest.importorskip("torch")
    import sam3_double
    from conftest import write_png_sequence
    from test_sam3 import squares

    from rotograph.interop.models import MANAGER
    from rotograph.nodes.ai import _sam3_models

    bpe = tmp_path / "bpe_simple_vocab_16e6.txt.gz"
    bpe.write_bytes(b"")
    sam3_double.install(monkeypatch, str(bpe))
    monkeypatch.setattr(_sam3_models, "choose_device", lambda preferred="auto": "cuda")  # as test_sam3's double
    MANAGER.clear()
    try:
        g = rotograph.Graph(registry)
        g.add("rotograph.Read", "read", file=write_png_sequence(tmp_path / "plate", squares()[0]), colorspace="sRGB")
        g.add("rotograph.SAM3Track", "track", weights="random", chunk=8, overlap=2,
              prompts=[{"frame": 1001, "object": 1, "points": [[22, 32, 1]], "box": None}])
        g.connect("read.image", "track.image")

        class InSam3(Stopping):
            def check(self):
                if "_sam3_compat" in sys._getframe(1).f_code.co_filename:
                    raise Stop()

        with pytest.raises(Stop):
            InSam3(g, rotograph.Cache()).get("track", "masks", 1005)
    finally:
        MANAGER.clear()
