"""SAM3Track and SAM3Segment against a double of the ``sam3`` package that is held to the API
recorded from the real one on a GPU (../shared/sam3_api): the conformance of the double, then the
nodes' logic — concept (request API) and objects (tracker: points, boxes, masks), corrections,
backward tracking, chunks re-seeded with masks, stable ids, resume — and weights resolution."""

from __future__ import annotations

import importlib.util
import json
import os
from unittest import mock

import numpy as np
import pytest

import rotograph
from rotograph.interop.models import MANAGER
from rotograph.nodes.ai import _sam3_models as sam3_models

from conftest import GRAPHS, write_png_sequence

try:
    import torch
except ImportError as e:  # `make test` installs it and sets ROTOGRAPH_REQUIRE_AI: never skip there
    if os.environ.get("ROTOGRAPH_REQUIRE_AI"):
        raise
    pytest.skip(f"the sam3 double returns torch tensors, as sam3 does ({e})", allow_module_level=True)

import sam3_double  # noqa: E402  (needs torch)

N = 30
RED, BLUE, GREEN = [220, 30, 30], [30, 40, 220], [40, 200, 40]


def squares(n=N, first=1001, green_from=None):
    """A red square moving right and a blue one moving left over grey (a green one appears at
    ``green_from``), with their truth labels (1 red, 2 blue, 3 green)."""
    frames, truth = {}, {}
    for i in range(n):
        img = np.full((96, 160, 3), 90, np.uint8)
        lab = np.zeros((96, 160), np.uint16)
        rx, bx = 10 + 3 * i, 120 - 3 * i
        img[20:44, rx:rx + 24], lab[20:44, rx:rx + 24] = RED, 1
        img[56:80, bx:bx + 24], lab[56:80, bx:bx + 24] = BLUE, 2
        if green_from is not None and first + i >= green_from:
            img[4:18, 70:90], lab[4:18, 70:90] = GREEN, 3
        frames[first + i], truth[first + i] = img, lab
    return frames, truth


two_squares = squares  # graphs tests elsewhere use this name


@pytest.fixture
def double(monkeypatch, tmp_path):
    """The sam3 double installed as the ``sam3`` package, on a machine that "has CUDA"."""
    bpe = tmp_path / "bpe_simple_vocab_16e6.txt.gz"
    bpe.write_bytes(b"")
    api = sam3_double.install(monkeypatch, str(bpe))
    monkeypatch.setattr(sam3_models, "choose_device", lambda preferred="auto": "cuda")
    MANAGER.clear()
    yield api
    MANAGER.clear()


def _graph(registry, tmp_path, frames=None, **params):
    frames = frames or squares()[0]
    g = rotograph.Graph(registry)
    g.add("rotograph.Read", "read", file=write_png_sequence(tmp_path / "plate", frames), colorspace="sRGB")
    g.add("rotograph.SAM3Track", "track", **{"weights": "random", **params})
    g.connect("read.image", "track.image")
    return g


def _evaluator(g, frames, cache=None):
    ev = rotograph.Evaluator(g, cache or rotograph.Cache())
    ev.wanted = {"track": set(frames)}
    return ev


def iou(a, b):
    return (a & b).sum() / max(1, (a | b).sum())


def _check(ev, truth, frames, pairs):
    """Each (label in the output, label in the truth) overlaps > 0.8 on every frame."""
    for f in frames:
        masks = ev.get("track", "masks", f)
        for oid, tid in pairs:
            assert iou(masks.labels == oid, truth[f] == tid) > 0.8, (f, oid)


def _kf(frame, obj, points=(), box=None):
    return {"frame": frame, "object": obj, "points": [list(p) for p in points], "box": box}


# -- the double is the recorded API ------------------------------------------------------------
def test_double_has_the_recorded_signatures():
    trace = sam3_double.load_trace()
    for name, text in trace["signatures"].items():
        if text == "MISSING":  # e.g. Sam3TrackerPredictor.reset_state: absent in 0.1.4
            cls, attr = name.split(".")
            assert not hasattr(getattr(sam3_double, cls), attr), name
            continue
        if name == "SAM3InteractiveImagePredictor.predict":
            continue  # predict_inst's **kwargs are bound against it on every call
        want = sam3_double.recorded_signature(text)
        got = __import__("inspect").signature(sam3_double.SURFACE[name])
        assert [(p.name, p.kind, p.default is p.empty) for p in got.parameters.values()] == \
               [(p.name, p.kind, p.default is p.empty) for p in want.parameters.values()], name


def test_double_returns_the_recorded_structures_and_raises_where_the_real_api_raises(tmp_path, double):
    """Replays the recorded session on the double (8 grey 720×1280 frames) and compares what each
    call returns (keys, types, shapes, dtypes; devices aside: the double runs on the CPU)."""
    from PIL import Image

    trace = sam3_double.load_trace()
    frames = [np.full((720, 1280, 3), 128, np.uint8) for _ in range(8)]
    folder = tmp_path / "jpg"
    folder.mkdir()
    for i, f in enumerate(frames):
        Image.fromarray(f).save(folder / f"{i:05d}.jpg")
    pil = Image.fromarray(frames[0])
    image_model = sam3_double.build_sam3_image_model(load_from_HF=False)
    proc = sam3_double.Sam3Processor(image_model)
    video = sam3_double.build_sam3_video_model(load_from_HF=False)
    tracker = video.tracker
    tracker.backbone = video.detector.backbone
    predictor = sam3_double.Sam3VideoPredictor.__new__(sam3_double.Sam3VideoPredictor)
    predictor.model = video
    inst = sam3_double.Sam3Processor(sam3_double.build_sam3_image_model(load_from_HF=False, enable_inst_interactivity=True))
    box = torch.tensor([0.2, 0.2, 0.4, 0.5])
    ctx = {}

    def session_call(request):
        request.setdefault("session_id", ctx.get("sid"))
        return predictor.handle_request(request)

    replay = [
        ("Sam3Processor.set_image(PIL RGB)", lambda: ctx.setdefault("img", proc.set_image(pil))),
        ("Sam3Processor.set_text_prompt(state, prompt='dog') [confidence_threshold=0]",
         lambda: (proc.set_confidence_threshold(0.0), proc.set_text_prompt("dog", ctx["img"]))[1]),
        ("Sam3Processor.add_geometric_prompt(box cxcywh norm, label True)",
         lambda: proc.add_geometric_prompt([0.5, 0.5, 0.2, 0.3], True, ctx["img"])),
        ("tracker.init_state(video_path=jpeg folder)",
         lambda: ctx.setdefault("st", tracker.init_state(video_path=str(folder), offload_video_to_cpu=True,
                                                         offload_state_to_cpu=True))),
        ("tracker.add_new_points_or_box(points=[[x,y]] rel, labels=[1], obj_id=1)",
         lambda: tracker.add_new_points_or_box(ctx["st"], 0, 1, points=[[0.5, 0.5]], labels=[1])),
        ("tracker.add_new_points_or_box(box=LIST rel xyxy, obj_id=2)",
         lambda: tracker.add_new_points_or_box(ctx["st"], 0, 2, box=[0.2, 0.2, 0.4, 0.5])),
        ("tracker.add_new_points_or_box(box=torch.tensor rel xyxy, obj_id=2)",
         lambda: tracker.add_new_points_or_box(ctx["st"], 0, 2, box=box)),
        ("tracker.add_new_mask(mask bool HxW, obj_id=3)",
         lambda: tracker.add_new_mask(ctx["st"], 0, 3, torch.zeros(720, 1280, dtype=torch.bool))),
        ("list(tracker.propagate_in_video(forward, propagate_preflight=True))",
         lambda: list(tracker.propagate_in_video(ctx["st"], 0, None, False, propagate_preflight=True))),
        ("tracker.add_new_points_or_box on frame 5 after propagation (correction)",
         lambda: tracker.add_new_points_or_box(ctx["st"], 5, 1, points=[[0.5, 0.5]], labels=[1])),
        ("list(tracker.propagate_in_video(reverse=True from frame 5))",
         lambda: list(tracker.propagate_in_video(ctx["st"], 5, None, True, propagate_preflight=True))),
        ("predictor.handle_request(start_session)",
         lambda: ctx.setdefault("sid", predictor.handle_request({"type": "start_session",
                                                                 "resource_path": str(folder)})["session_id"]) and
         {"session_id": ctx["sid"]}),
        ("predictor.handle_request(add_prompt points BEFORE propagation)",
         lambda: session_call({"type": "add_prompt", "frame_index": 0, "points": [[0.5, 0.5]], "point_labels": [1],
                               "obj_id": 1})),
        ("predictor.handle_request(add_prompt text='dog')",
         lambda: session_call({"type": "add_prompt", "frame_index": 0, "text": "dog"})),
        ("list(predictor.handle_stream_request(propagate_in_video forward))",
         lambda: list(predictor.handle_stream_request({"type": "propagate_in_video", "session_id": ctx["sid"],
                                                       "propagation_direction": "forward", "start_frame_index": 0}))),
        ("predictor.handle_request(add_prompt points AFTER propagation, obj_id=1)",
         lambda: session_call({"type": "add_prompt", "frame_index": 3, "points": [[0.5, 0.5]], "point_labels": [1],
                               "obj_id": 1})),
        ("predictor.handle_request(add_prompt box exemplar xywh)",
         lambda: session_call({"type": "add_prompt", "frame_index": 0, "bounding_boxes": [[0.2, 0.2, 0.2, 0.3]],
                               "bounding_box_labels": [1], "text": "visual"})),
        ("predictor.handle_request(close_session)", lambda: session_call({"type": "close_session"})),
        ("Sam3Processor.set_image(PIL) [enable_inst_interactivity=True]",
         lambda: ctx.setdefault("inst", inst.set_image(pil))),
        ("model.predict_inst(state, point_coords=[[640,360]] px, point_labels=[1], multimask_output=False)",
         lambda: inst.model.predict_inst(ctx["inst"], point_coords=np.array([[640, 360]]), point_labels=np.array([1]),
                                         multimask_output=False)),
        ("model.predict_inst(state, box=[x0,y0,x1,y1] px, multimask_output=True)",
         lambda: inst.model.predict_inst(ctx["inst"], box=np.array([300, 200, 700, 500]), multimask_output=True)),
    ]
    assert [c["call"] for c in trace["calls"]] == [name for name, _ in replay]
    for (name, call), rec in zip(replay, trace["calls"]):
        if "raises" in rec:
            kind, message = rec["raises"].split(": ", 1)
            with pytest.raises(getattr(__builtins__, kind, None) or Exception, match=__import__("re").escape(message)):
                call()
        else:
            _same(rec["returns"], _describe(call()), name)
    # the image-size trap: set_image reads shape[-2:]
    assert [proc.set_image(frames[0])[k] for k in ("original_height", "original_width")] == \
        trace["image_state_size_from_numpy_HxWx3"]
    assert [proc.set_image(pil)[k] for k in ("original_height", "original_width")] == trace["image_state_size_from_PIL"]
    # the predictor's builder forwards its kwargs to Sam3VideoPredictor.__init__, which has no load_from_HF
    with pytest.raises(TypeError, match="load_from_HF"):
        sam3_double.build_sam3_video_predictor(load_from_HF=False)


def _describe(v):
    """The trace's notation of a value's structure."""
    if v is None:
        return {"NoneType": None}
    if isinstance(v, bool):
        return {"bool": v}
    if type(v) is int:
        return {"int": v}
    if isinstance(v, str):
        return {"str": v}
    if isinstance(v, torch.Tensor):
        return {"tensor": list(v.shape), "dtype": str(v.dtype), "device": v.device.type}
    if isinstance(v, np.ndarray):
        return {"ndarray": list(v.shape), "dtype": str(v.dtype)}
    if isinstance(v, (list, tuple)):
        return {type(v).__name__: [_describe(x) for x in v], "len": len(v)}
    if isinstance(v, dict):
        return {k: _describe(x) for k, x in v.items()}
    return type(v).__name__


def _same(want, got, where):
    if isinstance(want, str) or want is None:
        assert got == want, (where, want, got)
        return
    if isinstance(got, str):
        raise AssertionError((where, want, got))
    for tag in ("tensor", "ndarray"):
        if tag in want:
            assert tag in got and got[tag] == want[tag] and got["dtype"] == want["dtype"], (where, want, got)
            return
    for tag in ("list", "tuple"):
        if tag in want:
            assert tag in got and got["len"] == want["len"], (where, want, got)
            for i, (a, b) in enumerate(zip(want[tag], got[tag])):
                _same(a, b, f"{where}[{i}]")
            return
    if "str" in want:
        assert "str" in got, (where, want, got)
        return
    if set(want) & {"int", "bool", "NoneType"}:
        assert got == want, (where, want, got)
        return
    assert set(got) == set(want), (where, sorted(set(want) ^ set(got)))
    for k in want:
        _same(want[k], got[k], f"{where}.{k}")


def test_every_call_the_nodes_make_binds_to_the_recorded_signatures(registry, tmp_path, double):
    """Run every mode of both nodes, then bind each call they made to sam3 to the signature
    recorded from the real package: no keyword the real API lacks, no missing argument."""
    frames, _ = squares(12)
    g = _graph(registry, tmp_path, frames, prompts=[_kf(1003, 1, [(22, 32, 1)]), _kf(1003, 2, box=[114, 50, 144, 84]),
                                                   _kf(1008, 1, [(40, 30, 1), (5, 5, 0)])], chunk=6, overlap=2)
    g.add("rotograph.SAM3Track", "concept", text="square", weights="random", chunk=6, overlap=2,
          prompts=[_kf(1005, 1, [(30, 30, 1)])])
    g.add("rotograph.SAM3Segment", "seg", text="square", weights="random", prompts=[_kf(1001, 1, box=[10, 20, 34, 44])])
    g.add("rotograph.SAM3Segment", "click", mode="objects", weights="random", prompts=[_kf(1001, 2, [(130, 60, 1)])])
    for n in ("concept", "seg", "click"):
        g.connect("read.image", f"{n}.image")
    g.validate()
    ev = _evaluator(g, range(1001, 1013))
    ev.wanted["concept"] = set(range(1001, 1013))
    for f in (1001, 1012):
        ev.get("track", "masks", f)
        ev.get("concept", "masks", f)
    ev.get("seg", "masks", 1001)
    ev.get("click", "masks", 1002)
    trace = sam3_double.load_trace()["signatures"]
    used = set()
    for name, args, kwargs in double.calls:
        text = trace.get(name)
        if name == "Sam3VideoPredictor.handle_stream_request":  # recorded as a call, source: (self, request)
            assert len(args) == 1 and not kwargs
            continue
        assert text not in (None, "MISSING"), f"{name} is not in the recorded API"
        sam3_double.recorded_signature(text).bind(*((None,) if "." in name else ()), *args, **kwargs)
        used.add(name)
    assert {"build_sam3_video_model", "build_sam3_image_model", "Sam3TrackerPredictor.init_state",
            "Sam3TrackerPredictor.add_new_points_or_box", "Sam3TrackerPredictor.add_new_mask",
            "Sam3TrackerPredictor.propagate_in_video", "Sam3VideoPredictor.handle_request",
            "Sam3VideoPredictor.add_prompt", "Sam3Processor.set_image", "Sam3Processor.set_text_prompt",
            "Sam3Processor.add_geometric_prompt", "Sam3Image.predict_inst"} <= used
    for _, kw in double.of("build_sam3_video_model") + double.of("build_sam3_image_model"):
        assert kw["load_from_HF"] is False and kw["checkpoint_path"] is None  # "random": no download
    assert all(kw.get("video_path") is None for _, kw in double.of("Sam3TrackerPredictor.init_state"))  # no JPEGs
    starts = [a[0] for a, _ in double.of("Sam3VideoPredictor.handle_request") if a[0]["type"] == "start_session"]
    assert starts and all(isinstance(s["resource_path"], list) for s in starts)  # PIL frames, no JPEG folder


# -- SAM3Track, objects mode (the tracker) -----------------------------------------------------
def test_tracker_frames_are_what_the_trackers_own_loader_makes(tmp_path):
    """The frames handed to the tracker in memory equal, bit for bit, those its
    init_state(video_path=…) makes from a JPEG folder (PIL's bicubic resize to 1008², /255,
    ImageNet mean and std) for the same decoded pixels — in the double, and in the real sam3
    loader when the package is installed."""
    from PIL import Image

    from rotograph.nodes.ai._sam3_video import TrackerFrames

    folder = tmp_path / "jpg"
    folder.mkdir()
    rng = np.random.default_rng(3)
    for i in range(2):
        Image.fromarray(rng.integers(0, 256, (72, 128, 3), np.uint8)).save(folder / f"{i:05d}.jpg")
    plates = [np.array(Image.open(folder / f"{i:05d}.jpg").convert("RGB")) for i in range(2)]
    loaded = sam3_double.Sam3TrackerPredictor().init_state(video_path=str(folder))["images"]
    ours = TrackerFrames(plates)
    assert len(ours) == 2
    for i in range(2):
        assert ours[i].dtype == torch.float32 and tuple(ours[i].shape) == (3, 1008, 1008)
        assert torch.equal(ours[i], loaded[i])
    try:
        from sam3.model.utils.sam2_utils import load_video_frames
    except ImportError:
        return  # the real package is not installed here (make sam3-cpu-check installs it)
    real, h, w = load_video_frames(str(folder), 1008, offload_video_to_cpu=True, compute_device=torch.device("cpu"))
    assert (h, w) == (72, 128)
    for i in range(2):
        assert torch.equal(ours[i], real[i])


def test_points_chunks_reseeded_with_masks_and_stable_ids(registry, tmp_path, double):
    truth = squares()[1]
    g = _graph(registry, tmp_path, prompts=[_kf(1001, 1, [(22, 32, 1)]), _kf(1001, 2, [(132, 68, 1)])], chunk=8, overlap=2)
    g.validate()
    ev = _evaluator(g, truth)
    _check(ev, truth, sorted(truth), [(1, 1), (2, 2)])
    assert ev.stats.range_runs["track"] == 1 and ev.stats.computes["track"] == N
    assert double.max_frames <= 8  # memory bounded by the chunk, whatever the shot length
    assert len(double.of("Sam3TrackerPredictor.init_state")) == 5  # 8 + 6 + 6 + 6 + 6 frames cover 30
    seeds = double.of("Sam3TrackerPredictor.add_new_mask")
    assert len(seeds) == 2 * 4 and {a[1] for a, _ in seeds} == {0} and {a[2] for a, _ in seeds} == {1, 2}
    assert all(a[3].dtype == torch.bool and tuple(a[3].shape) == (96, 160) for a, _ in seeds)  # masks, not points
    assert len(double.of("Sam3TrackerPredictor.add_new_points_or_box")) == 2  # the keyframe only
    names = [o.name for o in ev.get("track", "masks", 1030).objects]
    assert names == ["object1", "object2"]


def test_backward_from_a_middle_keyframe_and_boxes(registry, tmp_path, double):
    truth = squares()[1]
    g = _graph(registry, tmp_path, prompts=[_kf(1015, 7, [(64, 32, 1)]), _kf(1015, 2, box=[74, 54, 100, 82])],
               chunk=6, overlap=2)
    ev = _evaluator(g, truth)
    assert ev.segment_of("track", 1003).frames[0] == 1014  # the backward segment runs 1014 → 1001
    _check(ev, truth, [1001, 1008, 1014, 1015, 1022, 1030], [(7, 1), (2, 2)])
    n, starts = 0, []
    for name, _, kw in double.calls:  # backward sessions start from their seed: the session's last frame
        n = kw["num_frames"] if name == "Sam3TrackerPredictor.init_state" else n
        if name == "Sam3TrackerPredictor.propagate_in_video" and kw["reverse"]:
            starts.append((kw["start_frame_idx"], n - 1))
    assert len(starts) == 4 and all(a == b for a, b in starts)  # 1015 → 1001: sessions of 6, 6, 6 and 3
    boxes = [kw["box"] for _, kw in double.of("Sam3TrackerPredictor.add_new_points_or_box") if "box" in kw]
    assert boxes and all(isinstance(b, torch.Tensor) for b in boxes)  # a list would be repeated 1008 times
    assert boxes[0].tolist() == pytest.approx([74 / 160, 54 / 96, 100 / 160, 82 / 96])


def test_a_correction_keyframe_acts_from_its_frame_on_and_leaves_earlier_frames_identical(registry, tmp_path, double):
    """Object 1 is the red square at 1001; a keyframe at 1021 says object 1 is the blue one: the
    frames before 1021 stay the red square, bit-identical to a track without the correction
    (causal), the frames from 1021 on follow the blue one — in one session and in chunks."""
    truth = squares()[1]
    blue_1021 = (120 - 3 * 20 + 12, 68)
    first = [_kf(1001, 1, [(22, 32, 1)])]
    for chunk in (40, 8):
        plain = _evaluator(_graph(registry, tmp_path / f"p{chunk}", prompts=first, chunk=chunk, overlap=2), truth)
        ev = _evaluator(_graph(registry, tmp_path / f"c{chunk}", prompts=first + [_kf(1021, 1, [blue_1021 + (1,)])],
                               chunk=chunk, overlap=2), truth)
        for f in sorted(truth):
            got = ev.get("track", "masks", f)
            assert iou(got.labels == 1, truth[f] == (1 if f < 1021 else 2)) > 0.8, (chunk, f)
            if f < 1021:
                assert np.array_equal(got.labels, plain.get("track", "masks", f).labels), (chunk, f)


def test_a_correction_recomputes_only_the_frames_from_it(registry, tmp_path, double):
    """Causal keys (issue 18's Reach): after a correction at 1021 the frames before it come from
    the cache, only 1021-1030 are tracked again."""
    truth = squares()[1]
    g = _graph(registry, tmp_path, prompts=[_kf(1001, 1, [(22, 32, 1)])], chunk=8, overlap=2)
    ev = _evaluator(g, truth)
    before = {f: ev.get("track", "masks", f).labels for f in truth}
    g.set("track.prompts", [_kf(1001, 1, [(22, 32, 1)]), _kf(1021, 1, [(120 - 60 + 12, 68, 1)])])
    ev2 = rotograph.Evaluator(g, ev.cache)
    ev2.wanted = {"track": set(truth)}
    after = {f: ev2.get("track", "masks", f).labels for f in truth}
    assert ev2.stats.computes["track"] == 10
    assert all(np.array_equal(before[f], after[f]) for f in range(1001, 1021))
    assert iou(after[1025] == 1, truth[1025] == 2) > 0.8


def test_a_keyframe_naming_a_subset_of_the_objects_corrects_in_the_interactive_order(registry, tmp_path, double):
    """Two objects prompted at 1001; a keyframe at 1010 moves object 1 onto the blue square and
    says nothing of object 2, which goes on as tracked. Adding both keyframes before the first
    propagation fails in the real package (sam3 issue 221, held by the double): the node
    prompts, propagates up to 1010, corrects there and propagates on."""
    truth = squares(16)[1]
    blue_1010 = (120 - 3 * 9 + 12, 68)
    prompts = [_kf(1001, 1, [(22, 32, 1)]), _kf(1001, 2, [(132, 68, 1)]), _kf(1010, 1, [blue_1010 + (1,)])]
    g = _graph(registry, tmp_path, squares(16)[0], prompts=prompts, chunk=40, overlap=2)
    ev = _evaluator(g, truth)
    _check(ev, truth, range(1001, 1010), [(1, 1), (2, 2)])
    for f in range(1010, 1017):
        m = ev.get("track", "masks", f)
        assert iou(m.labels == 1, truth[f] == 2) > 0.8 and [o.id for o in m.objects] == [1], f  # 1 took the blue pixels
    calls = [(n, a[1] if n.endswith("points_or_box") else kw.get("start_frame_idx"))
             for n, a, kw in double.calls if n.startswith("Sam3TrackerPredictor.") and n != "Sam3TrackerPredictor.init_state"]
    assert calls == [("Sam3TrackerPredictor.add_new_points_or_box", 0), ("Sam3TrackerPredictor.add_new_points_or_box", 0),
                     ("Sam3TrackerPredictor.propagate_in_video", 0), ("Sam3TrackerPredictor.add_new_points_or_box", 9),
                     ("Sam3TrackerPredictor.propagate_in_video", 9)]
    # the order the node used to take fails, as in the real package
    api = sam3_double.Sam3TrackerPredictor()
    api.backbone = object()
    state = api.init_state(video_height=96, video_width=160, num_frames=16)
    from rotograph.nodes.ai._sam3_video import TrackerFrames

    state["images"] = TrackerFrames(list(squares(16)[0].values()))
    for frame, obj, (x, y) in ((0, 1, (22, 32)), (0, 2, (132, 68)), (9, 1, blue_1010)):
        api.add_new_points_or_box(state, frame, obj, points=torch.tensor([[x / 160, y / 96]]),
                                  labels=torch.tensor([1], dtype=torch.int32))
    with pytest.raises(TypeError, match="gt_masks"):
        list(api.propagate_in_video(state, 0, None, False, propagate_preflight=True))


def test_a_keyframe_introducing_an_object_starts_a_session_there(registry, tmp_path, double):
    """Object 3 (green) first named at 1012, after tracking started: a new session from 1012,
    seeded with the tracked masks of objects 1 and 2; frames before 1012 do not know object 3."""
    frames, truth = squares(20, green_from=1008)
    prompts = [_kf(1001, 1, [(22, 32, 1)]), _kf(1001, 2, [(132, 68, 1)]), _kf(1012, 3, [(80, 10, 1)])]
    ev = _evaluator(_graph(registry, tmp_path, frames, prompts=prompts, chunk=40, overlap=2), truth)
    assert [o.id for o in ev.get("track", "masks", 1011).objects] == [1, 2]
    _check(ev, truth, range(1012, 1021), [(1, 1), (2, 2)])
    for f in range(1012, 1021):  # the thin green square: coarser in the double's 252² working size
        assert iou(ev.get("track", "masks", f).labels == 3, truth[f] == 3) > 0.7, f
    assert len(double.of("Sam3TrackerPredictor.init_state")) == 2
    seeds = double.of("Sam3TrackerPredictor.add_new_mask")
    assert sorted(a[2] for a, _ in seeds) == [1, 2] and {a[1] for a, _ in seeds} == {11}  # on 1012


def test_the_frame_range_is_the_images_or_the_param_never_the_seeds(registry, tmp_path, double):
    """A seed matte on one frame does not shrink the track to that frame; ``frames`` sets it."""
    frames, truth = squares(12)
    g = _graph(registry, tmp_path, frames, seed_frames="1004", chunk=6, overlap=1)
    g.add("rotograph.SAM3Segment", "click", mode="objects", weights="random", prompts=[_kf(1004, 2, [(132 - 9, 68, 1)])])
    g.connect("read.image", "click.image")
    g.connect("click.masks", "track.masks_seed")
    ev = rotograph.Evaluator(g, rotograph.Cache())
    assert ev.frame_range("track") == (1001, 1012)
    g.set("track.frames", "1003-1008")
    ev = rotograph.Evaluator(g, rotograph.Cache())
    assert ev.frame_range("track") == (1003, 1008)
    ev.wanted = {"track": set(range(1003, 1009))}
    _check(ev, truth, range(1003, 1009), [(2, 2)])
    with pytest.raises(rotograph.RotographError, match="not a frame range"):
        g.set("track.frames", "1008-1003")
    g.set("track.frames", "990-1008")
    with pytest.raises(rotograph.RotographError, match="outside the image's range 1001-1012"):
        rotograph.Evaluator(g, rotograph.Cache()).frame_range("track")


def test_seed_masks_from_sam3segment_clicks(registry, tmp_path, double):
    """Objects mode takes masks as keyframes: SAM3Segment's click result seeds object 2."""
    truth = squares(12)[1]
    g = _graph(registry, tmp_path, squares(12)[0], prompts=[_kf(1004, 1, [(22 + 9, 32, 1)])], seed_frames="1004",
               chunk=5, overlap=1)
    g.add("rotograph.SAM3Segment", "click", mode="objects", weights="random", prompts=[_kf(1004, 2, [(132 - 9, 68, 1)])])
    g.connect("read.image", "click.image")
    g.connect("click.masks", "track.masks_seed")
    ev = _evaluator(g, truth)
    _check(ev, truth, sorted(truth), [(1, 1), (2, 2)])
    first = double.of("Sam3TrackerPredictor.add_new_mask")[0][0]
    assert first[2] == 2 and first[1] in (0, 3)  # the seed mask on the keyframe 1004, object 2
    clicks = double.of("Sam3Image.predict_inst")
    assert len(clicks) == 1  # the seed is read once, on its keyframe


def test_resume_reseeds_from_the_last_cached_frame(registry, tmp_path, double):
    truth = squares()[1]
    g = _graph(registry, tmp_path, prompts=[_kf(1001, 1, [(22, 32, 1)])], chunk=8, overlap=2)
    ev = _evaluator(g, range(1001, 1013), rotograph.open_cache(str(tmp_path / "cache")))
    ev.get("track", "masks", 1012)
    double.calls.clear()
    ev2 = _evaluator(g, truth, rotograph.open_cache(str(tmp_path / "cache")))
    masks = ev2.get("track", "masks", 1030)
    assert ev2.stats.computes["track"] == N - 12  # only the frames after 1012
    assert [o.id for o in masks.objects] == [1] and iou(masks.labels == 1, truth[1030] == 1) > 0.8
    assert double.of("Sam3TrackerPredictor.add_new_mask")[0][0][2] == 1  # re-seeded from 1012's mask
    assert not double.of("Sam3TrackerPredictor.add_new_points_or_box")


def test_keyframes_outside_the_range_and_mixed_modes_are_refused(registry, tmp_path, double):
    g = _graph(registry, tmp_path, prompts=[_kf(1200, 1, [(22, 32, 1)])])
    with pytest.raises(rotograph.RotographError, match="keyframe 1200 is outside the frame range 1001-1030"):
        _evaluator(g, [1001]).get("track", "masks", 1001)
    g.set("track.prompts", [_kf(1001, 1, [(22, 32, 1)])])
    g.add("rotograph.SAM3Segment", "click", mode="objects", weights="random", prompts=[_kf(1001, 2, [(130, 60, 1)])])
    g.connect("read.image", "click.image")
    g.connect("click.masks", "track.masks_seed")
    with pytest.raises(rotograph.RotographError, match="param 'seed_frames' names no frame"):
        _evaluator(g, [1001]).get("track", "masks", 1001)
    g.set("track.text", "square")
    g.set("track.prompts", [_kf(1001, 1, box=[10, 20, 34, 44])])
    with pytest.raises(rotograph.GraphError, match="keyframes take points only"):
        g.validate()


# -- SAM3Track, concept mode (the request API) -------------------------------------------------
def test_concept_sessions_keep_ids_and_number_new_instances(registry, tmp_path, double):
    frames, truth = squares(green_from=1018)
    g = _graph(registry, tmp_path, frames, text="square", chunk=10, overlap=3)
    ev = _evaluator(g, truth)
    _check(ev, truth, [1001, 1009, 1015, 1022, 1030], [(1, 1), (2, 2)])
    _check(ev, truth, [1018, 1024, 1030], [(3, 3)])  # appeared in a later session: the next id
    assert [o.name for o in ev.get("track", "masks", 1030).objects] == ["square 1", "square 2", "square 3"]
    starts = [a[0] for a, _ in double.of("Sam3VideoPredictor.handle_request") if a[0]["type"] == "start_session"]
    assert len(starts) == 4 and double.max_frames <= 10
    closes = [a[0] for a, _ in double.of("Sam3VideoPredictor.handle_request") if a[0]["type"] == "close_session"]
    assert len(closes) == 4  # every session closed


def test_concept_point_correction_after_propagation(registry, tmp_path, double):
    """A point on object 1 at 1006 (on the blue square) re-targets it from there: the request API
    takes points once its propagation reached the frame."""
    truth = squares(10)[1]
    g = _graph(registry, tmp_path, squares(10)[0], text="square", chunk=10, overlap=2,
               prompts=[_kf(1006, 1, [(120 - 15 + 12, 68, 1)])])
    ev = _evaluator(g, truth)
    for f in (1001, 1003):
        assert iou(ev.get("track", "masks", f).labels == 1, truth[f] == 1) > 0.8
    for f in (1006, 1010):
        assert iou(ev.get("track", "masks", f).labels == 1, truth[f] == 2) > 0.8
    reqs = [a[0] for a, _ in double.of("Sam3VideoPredictor.handle_request") if a[0]["type"] == "add_prompt"]
    assert [("text" in r, r.get("obj_id")) for r in reqs] == [(True, None), (False, 0)]
    plain = _evaluator(_graph(registry, tmp_path / "plain", squares(10)[0], text="square", chunk=10, overlap=2), truth)
    for f in range(1001, 1006):  # causal: the frames before the correction are those of a track without it
        assert np.array_equal(ev.get("track", "masks", f).labels, plain.get("track", "masks", f).labels), f


def test_device_auto_resolves_and_the_key_holds_the_resolved_device(registry, tmp_path):
    """SAM3Track runs off CUDA too (sam3's CUDA-only code redirected): ``auto`` validates on any
    machine and the key names the device it resolved to, never "auto"."""
    from rotograph.interop.models import choose_device

    g = _graph(registry, tmp_path, prompts=[_kf(1001, 1, [(22, 32, 1)])])
    g.validate()
    key = g.nodes["track"].key_material(1001)
    assert key["device"] == choose_device("auto") and key["dtype"] == ("bfloat16" if key["device"] == "cuda" else "float32")
    g.set("track.device", "cpu")
    g.validate()
    assert g.nodes["track"].key_material(1001)["device"] == "cpu"
    g.set("track.text", "person")  # the request API runs off CUDA too (tests/test_sam3_real.py)...
    g.set("track.prompts", [])
    if importlib.util.find_spec("skimage") is not None:  # the [sam3] extra installs it
        g.validate()
    real_find_spec = importlib.util.find_spec  # ...where scikit-image, which sam3 labels masks with there, is installed
    with mock.patch.object(importlib.util, "find_spec", lambda name, *a: None if name == "skimage" else real_find_spec(name, *a)):
        with pytest.raises(rotograph.GraphError, match=r"off CUDA \(here cpu\) needs scikit-image.*rotograph\[sam3\]"):
            g.validate()
    g.set("track.text", "")
    g.set("track.prompts", [_kf(1001, 1, [(22, 32, 1)])])
    if not torch.cuda.is_available():
        g.set("track.device", "cuda")
        with pytest.raises(rotograph.GraphError, match="no CUDA GPU is visible"):
            g.validate()


@pytest.mark.parametrize("cuda, mps, want", [(True, True, "cuda"), (False, True, "mps"), (False, False, "cpu")])
def test_device_auto_picks_cuda_then_mps_then_cpu_and_the_key_holds_it(registry, tmp_path, monkeypatch, cuda, mps, want):
    """``auto`` resolves to the best device present (CUDA, else Metal, else the CPU) and both
    nodes' cache keys hold the resolved device and its dtype (bf16 autocast on CUDA only), so a
    result computed on one device is never served as another's. Availability is monkeypatched:
    no MPS machine here."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
    g = _graph(registry, tmp_path, prompts=[_kf(1001, 1, [(22, 32, 1)])])
    g.add("rotograph.SAM3Segment", "seg", mode="objects", prompts=[_kf(1001, 1, [(22, 32, 1)])], weights="random")
    g.connect("read.image", "seg.image")
    g.validate()
    for node in ("track", "seg"):
        key = g.nodes[node].key_material(1001)
        assert (key["device"], key["dtype"]) == (want, "bfloat16" if want == "cuda" else "float32"), node
    g.set("seg.device", "cpu")  # an explicit device is kept as asked
    assert g.nodes["seg"].key_material(1001)["device"] == "cpu"


# -- SAM3Segment ---------------------------------------------------------------------------------
def test_sam3_segment_concept_and_clicks_at_the_plate_size(registry, tmp_path, double):
    from PIL import Image

    frames, truth = squares(3)
    g = rotograph.Graph(registry)
    g.add("rotograph.Read", "read", file=write_png_sequence(tmp_path / "p", frames), colorspace="sRGB")
    g.add("rotograph.SAM3Segment", "seg", text="square", weights="random")
    g.connect("read.image", "seg.image")
    masks = g.evaluate("seg", 1002, "masks")
    assert masks.labels.shape == (96, 160) and masks.labels.dtype == np.uint16
    assert [o.name for o in masks.objects] == ["square 1", "square 2"] and masks.objects[0].score == pytest.approx(0.9, abs=0.01)
    assert ((masks.labels > 0) == (truth[1002] > 0)).mean() > 0.98
    assert all(isinstance(a[0], Image.Image) for a, _ in double.of("Sam3Processor.set_image"))  # not an H×W×3 array
    g.set("seg.text", "")
    g.set("seg.prompts", [_kf(1001, 1, box=[120, 56, 144, 80])])  # an exemplar: the blue square (and its like)
    m = g.evaluate("seg", 1001, "masks").labels > 0
    assert m[truth[1001] == 2].mean() > 0.9 and m[truth[1001] == 1].mean() < 0.1
    cx = double.of("Sam3Processor.add_geometric_prompt")[-1][0][0]
    assert cx == pytest.approx([132 / 160, 68 / 96, 24 / 160, 24 / 96])
    # the exemplar belongs to 1001: on 1002 (where the blue square has moved) it is not applied
    n = len(double.of("Sam3Processor.add_geometric_prompt"))
    assert g.evaluate("seg", 1002, "masks").objects == []
    g.set("seg.text", "square")
    assert len(g.evaluate("seg", 1002, "masks").objects) == 2  # the text alone there
    assert len(double.of("Sam3Processor.add_geometric_prompt")) == n
    g.set("seg.mode", "objects")  # one object per keyframe entry: the SAM 1 task
    g.set("seg.prompts", [_kf(1001, 4, [(22, 32, 1)]), _kf(1003, 5, box=[100, 50, 140, 86])])
    a, b = g.evaluate("seg", 1002, "masks"), g.evaluate("seg", 1003, "masks")
    assert [o.id for o in a.objects] == [4] and iou(a.labels == 4, truth[1002] == 1) > 0.8  # 1001's click held
    assert [o.id for o in b.objects] == [5] and iou(b.labels == 5, truth[1003] == 2) > 0.8
    calls = double.of("Sam3Image.predict_inst")
    assert calls[0][1]["multimask_output"] is True and calls[-1][1]["multimask_output"] is False


def test_sam3_segment_reuses_a_frames_embedding_for_later_clicks(registry, tmp_path, double):
    """The backbone (set_image) runs once per frame content: a second and third click on the
    frame reuse its features and still give the new clicks' masks; another frame is encoded."""
    frames, truth = squares(3)
    g = rotograph.Graph(registry)
    g.add("rotograph.Read", "read", file=write_png_sequence(tmp_path / "p", frames), colorspace="sRGB")
    g.add("rotograph.SAM3Segment", "seg", mode="objects", weights="random", prompts=[_kf(1002, 1, [(25, 32, 1)])])
    g.connect("read.image", "seg.image")
    assert iou(g.evaluate("seg", 1002, "masks").labels == 1, truth[1002] == 1) > 0.8
    g.set("seg.prompts", [_kf(1002, 1, [(25, 32, 1)]), _kf(1002, 2, [(124, 68, 1)])])  # the user's next click
    m = g.evaluate("seg", 1002, "masks")
    assert iou(m.labels == 1, truth[1002] == 1) > 0.8 and iou(m.labels == 2, truth[1002] == 2) > 0.8
    g.set("seg.mode", "concept")
    g.set("seg.text", "square")
    assert len(g.evaluate("seg", 1002, "masks").objects) == 2
    assert len(double.of("Sam3Processor.set_image")) == 1
    g.evaluate("seg", 1003, "masks")
    assert len(double.of("Sam3Processor.set_image")) == 2


# -- weights and keys --------------------------------------------------------------------------
def test_weights_from_the_hf_cache_and_a_local_file_reach_the_builder(registry, tmp_path, double, monkeypatch):
    """SAM 3's checkpoint (a ``model`` key, as facebook/sam3's sam3.pt) in a Hugging Face cache
    layout: the node resolves the HF id offline to its snapshot revision (the cache key holds the
    revision, not the name) and hands the file to the builder with load_from_HF=False; a local
    path is keyed by size and mtime. (Loading it into the real model needs CUDA: make gpu-check.)"""
    from hf_cache import REVISION, hf_snapshot

    ckpt = tmp_path / "sam3.pt"
    torch.save({"model": {"detector.backbone.w": torch.zeros(2), "tracker.maskmem.w": torch.ones(1)}}, ckpt)
    snapshot = hf_snapshot(tmp_path / "hf", "facebook/sam3", {"sam3.pt": ckpt, "config.json": ckpt})
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("ROTOGRAPH_SAM3_WEIGHTS", raising=False)
    g = _graph(registry, tmp_path, squares(4)[0], prompts=[_kf(1001, 1, [(22, 32, 1)])], weights="")
    key = g.nodes["track"].key_material(1001)
    assert key == {"weights": f"hf:{REVISION}", "device": "cuda", "dtype": "bfloat16"}
    _evaluator(g, [1001, 1002]).get("track", "masks", 1002)
    (_, kw), = double.of("build_sam3_video_model")
    assert kw["checkpoint_path"] == str(snapshot / "sam3.pt") and kw["load_from_HF"] is False
    g.set("track.weights", str(ckpt))
    st = ckpt.stat()
    assert g.nodes["track"].key_material(1001)["weights"] == f"file:{st.st_size}:{st.st_mtime_ns}"
    ev = _evaluator(g, [1001, 1002])
    ev.get("track", "masks", 1002)
    assert double.of("build_sam3_video_model")[-1][1]["checkpoint_path"] == str(ckpt)
    os.utime(ckpt, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # the file changed: a new key, a new model
    assert g.nodes["track"].key_material(1001)["weights"] != f"file:{st.st_size}:{st.st_mtime_ns}"
    g.set("track.weights", "facebook/not-cached")
    with pytest.raises(rotograph.RotographError, match="huggingface-cli download facebook/not-cached.*gated"):
        g.nodes["track"].key_material(1001)


# -- graphs --------------------------------------------------------------------------------------
def test_v1_graphs_upgrade_to_masks_and_masks_to_matte(registry):
    doc = {"format": "rotograph.graph", "schema_version": 1, "nodes": {
        "read": {"type": "rotograph.Read", "version": 1, "params": {"file": "sample:bigbuckbunny.mp4"}},
        "track": {"type": "rotograph.SAM3Track", "version": 1, "inputs": {"image": "read.image"},
                  "params": {"text": "dog", "object": 2, "chunk": 64, "overlap": 4, "prompts": [], "weights": "",
                             "device": "auto"}},
        "seg": {"type": "rotograph.SAM3Segment", "version": 1, "inputs": {"image": "read.image"},
                "params": {"text": "dog", "object": 0, "threshold": 0.5, "prompts": [], "weights": "", "device": "auto"}},
        "grow": {"type": "rotograph.Grow", "version": 1, "inputs": {"matte": "track.matte"}, "params": {"size": 1.0}},
        "grow2": {"type": "rotograph.Grow", "version": 1, "inputs": {"matte": "seg.matte"}, "params": {"size": 1.0}}}}
    g = rotograph.loads(json.dumps(doc), registry)
    assert g.nodes["track_matte"].objects == "2" and g.nodes["seg_matte"].objects == ""
    assert g.inputs_of("grow") == {"matte": ("track_matte", "matte")}
    assert g.inputs_of("grow2") == {"matte": ("seg_matte", "matte")}
    assert "object" not in g.nodes["track"].get_params() and g.nodes["seg"].mode == "concept"


def test_sam3_matte_graph_picks_the_object_downstream(registry, tmp_path, double):
    g = rotograph.load(GRAPHS / "sam3_matte.json", registry)
    assert g.inputs_of("track_matte") == {"masks": ("track", "masks")}
    assert rotograph.load(GRAPHS / "depth_layers.json", registry).nodes["track"].version == 4
    frames, truth = squares(4)
    g.set("read.file", write_png_sequence(tmp_path / "plate", frames))
    g.set("read.colorspace", "sRGB")
    g.set("track.text", "square")
    g.set("track.weights", "random")
    g.set("track_matte.objects", "2")
    ev = rotograph.Evaluator(g, rotograph.Cache())
    ev.wanted = {"track": set(truth)}
    m = ev.get("track_matte", "matte", 1003)
    assert m.dtype == np.float32 and iou(m > 0.5, truth[1003] == 2) > 0.8
    runs = ev.stats.range_runs["track"]
    g.set("track_matte.objects", "1")  # choosing another object never re-runs the tracker
    ev2 = rotograph.Evaluator(g, ev.cache)
    assert iou(ev2.get("track_matte", "matte", 1003) > 0.5, truth[1003] == 1) > 0.8
    assert ev2.stats.range_runs["track"] == 0 and runs == 1
