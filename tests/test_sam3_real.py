"""SAM3Segment and SAM3Track against the real ``sam3`` package on the CPU, random weights, through
the compatibility module (rotograph/nodes/ai/_sam3_compat.py): each redirected sam3 line is still
there, each kind of redirection does what it says, and the nodes give exactly the masks of
upstream's own calls made in the same order.

These run in `make test` (the three model tests: ~140 CPU-seconds together, 70-80 s on 2 quiet
cores; ~5 GB peak): each model is built once, for the one test that uses it, and shared
by the node and upstream's direct calls; only the 1008-px ViT trunk is swapped
for a cheap module with its output shapes, the random weights are filled from seeded buffers
(not torch's per-tensor draws), and the backbone remembers its outputs by input bytes, so the
node and upstream pay for one neck pass a frame (tests/sam3_real.py). The full backbone runs in
`make sam3-cpu-check` (bench/sam3_cpu.py and the ``sam3_cpu`` tests). Skipped where sam3 is not
installed, except under ROTOGRAPH_REQUIRE_AI (`make test`), where that is a failure.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import rotograph
from rotograph.interop.models import MANAGER, SPECS, resolve_weights
from rotograph.nodes.ai import _sam3_compat as compat

from conftest import write_png_sequence

try:
    import sam3  # noqa: F401
    import torch
except ImportError as e:  # `make test` installs sam3 and sets ROTOGRAPH_REQUIRE_AI: never skip there
    if os.environ.get("ROTOGRAPH_REQUIRE_AI"):
        raise
    pytest.skip(f"the real sam3 package is not installed ({e}): make sam3-cpu-check installs it", allow_module_level=True)

from sam3_real import (cheap_trunk, fast_random_init, memo_backbone, raise_concept_scores, release_memory,  # noqa: E402
                       shift_concept_masks)

CPU = "cpu"


def iou(a, b):
    return float((a & b).sum() / max(1, (a | b).sum()))


def _kf(frame, obj, points=(), box=None):
    return {"frame": frame, "object": obj, "points": [list(p) for p in points], "box": box}


def plates(n=3):
    """Two squares (red moving right, blue moving left) over grey, 96×160 uint8."""
    out = {}
    for i in range(n):
        img = np.full((96, 160, 3), 90, np.uint8)
        img[20:44, 10 + 3 * i:34 + 3 * i] = [220, 30, 30]
        img[56:80, 100 - 3 * i:124 - 3 * i] = [30, 40, 220]
        out[1001 + i] = img
    return out


# -- the compatibility list -------------------------------------------------------------------
def test_the_installed_sam3_is_a_checked_version():
    assert compat.sam3_version() in compat.CHECKED_VERSIONS, (
        f"sam3 {compat.sam3_version()} is not one rotograph's compatibility module was checked against "
        f"{compat.CHECKED_VERSIONS}: check each line of REDIRECTS in the new version, then add it")


@pytest.mark.parametrize("redirect", compat.REDIRECTS, ids=lambda r: f"{r.where}:{r.line[:30]}")
def test_each_redirected_line_is_in_the_installed_sam3(redirect):
    """Fails when an upgrade changes the code a redirection targets: an upgrade is a conscious act."""
    lines = [ln.strip() for ln in redirect.source().splitlines()]
    assert any(redirect.line in ln for ln in lines), f"{redirect.where} no longer has: {redirect.line}"


def test_the_mode_redirects_each_kind_of_cuda_call_and_nothing_else():
    lin = torch.nn.Linear(2, 2)
    with compat.on_device(CPU):
        assert torch.zeros(2, device="cuda").device.type == CPU  # position_encoding, decoder
        assert torch.ones(2).cuda(non_blocking=True).device.type == CPU  # tracker's Tensor.cuda()
        t = torch.ones(3)
        assert t.pin_memory() is t  # pin_memory needs a CUDA driver
        assert t.to("cuda").device.type == CPU and t.to(device=torch.device("cuda")).device.type == CPU
        assert t.to(torch.device("cuda"), torch.float64).dtype == torch.float64
        assert lin.cuda() is lin and lin.weight.device.type == CPU  # Module.cuda() goes through Tensor.cuda
        assert t.to(torch.bfloat16).dtype == torch.bfloat16  # bfloat16 elsewhere: untouched
        scope = {"torch": torch}
        exec(compile("def _build_multigpu_buffer_next_chunk(x):\n    return [y.to(torch.bfloat16) for y in x]\n",
                     "/site-packages/sam3/model/sam3_image.py", "exec"), scope)
        assert scope["_build_multigpu_buffer_next_chunk"]([t])[0].dtype == torch.float32  # the detector's gather
    if not torch.cuda.is_available():  # the mode is left: CUDA calls fail again
        with pytest.raises((RuntimeError, AssertionError)):
            torch.zeros(1, device="cuda")
    assert compat.on_device("cuda").__class__.__name__ == "nullcontext"


def test_the_gpu_properties_probe_answers_off_cuda():
    from sam3.model.sam3_video_predictor import Sam3VideoPredictor

    compat.install()
    text = Sam3VideoPredictor._get_torch_and_gpu_properties(None)
    assert torch.__version__ in text


def test_connected_components_answer_a_batch_of_no_masks_and_leave_the_others_to_upstream():
    """sam3's CPU connected components (the detector's hole filling in concept tracking) raise on a
    batch of no masks — a frame without a new detection — upstream; wrapped, that batch gets empty
    labels and counts of its shape, and a real batch gets upstream's own answer (scikit-image's
    labels, each pixel's component size)."""
    import sam3.perflib.connected_components as cc

    compat.install()
    assert cc.connected_components_cpu.__wrapped__ is not cc.connected_components_cpu
    with pytest.raises(RuntimeError):  # upstream's own function: torch.stack of an empty list
        cc.connected_components_cpu.__wrapped__(torch.zeros((0, 1, 8, 8), dtype=torch.uint8))
    labels, counts = cc.connected_components(torch.zeros((0, 1, 8, 8), dtype=torch.uint8))
    assert labels.shape == counts.shape == (0, 1, 8, 8) and labels.dtype == counts.dtype == torch.int64
    masks = torch.zeros((2, 1, 8, 8), dtype=torch.uint8)
    masks[0, 0, 1:3, 1:4] = 1  # 6 pixels
    masks[0, 0, 5:8, 5:8] = 1  # 9 pixels
    masks[1, 0, 3, 3:5] = 1  # 2 pixels, and one touching it diagonally (8-connected): 3
    masks[1, 0, 4, 5] = 1
    labels, counts = cc.connected_components(masks)
    want_labels, want_counts = cc.connected_components_cpu.__wrapped__(masks)
    assert torch.equal(labels, want_labels) and torch.equal(counts, want_counts)
    assert sorted(counts[0, 0].unique().tolist()) == [0, 6, 9] and sorted(counts[1, 0].unique().tolist()) == [0, 3]


# -- the nodes against upstream's own calls ---------------------------------------------------
@pytest.fixture
def image_model():
    """SAM 3's image model (cheap trunk, fast seeded random init), built once by the node's own
    builder and shared by the node and upstream's direct calls; one test uses it, and it is let go
    after it (peak memory: one model at a time, ~4.5 GB)."""
    from rotograph.nodes.ai.sam3 import build_image_model

    release_memory()  # a model an earlier test let go (pytest drops it only after the teardown)
    with cheap_trunk(), fast_random_init():
        proc = build_image_model(resolve_weights(SPECS["sam3"], "random"), CPU)
    assert all(torch.isfinite(p).all() for p in proc.model.parameters())  # none left as torch.empty's memory
    memo_backbone(proc.model.backbone)
    shift_concept_masks(proc.model)
    yield proc
    MANAGER.clear()
    del proc
    release_memory()


def _segment_graph(registry, tmp_path, proc, **params):
    MANAGER.clear()
    MANAGER.get("sam3:image", resolve_weights(SPECS["sam3"], "random"), CPU, lambda w, d: proc)
    g = rotograph.Graph(registry)
    g.add("rotograph.Read", "read", file=write_png_sequence(tmp_path / "p", plates()), colorspace="sRGB")
    g.add("rotograph.SAM3Segment", "seg", weights="random", device=CPU, **params)
    g.connect("read.image", "seg.image")
    return g


def _clicks_equal_upstream(registry, tmp_path, proc):
    """Objects mode on 1002 (a click on one object, a box on another) against upstream's
    ``set_image`` and two ``predict_inst`` calls; returns the node's graph."""
    from PIL import Image

    frame = plates()[1002]
    g = _segment_graph(registry, tmp_path, proc, mode="objects",
                       prompts=[_kf(1002, 1, [(25, 32, 1)]), _kf(1002, 2, box=[94, 54, 120, 82])])
    ours = g.evaluate("seg", 1002, "masks")
    hits = proc.model.backbone.memo_hits
    with compat.on_device(CPU):
        state = proc.set_image(Image.fromarray(frame))
        m1, s1, _ = proc.model.predict_inst(state, point_coords=np.array([[25, 32]], np.float32),
                                            point_labels=np.array([1], np.int32), multimask_output=True)
        m2, s2, _ = proc.model.predict_inst(state, box=np.array([94, 54, 120, 82], np.float32), multimask_output=False)
    want = np.zeros((96, 160), np.uint16)
    one, two = m1[int(np.argmax(s1))] > 0.5, m2[int(np.argmax(s2))] > 0.5
    want[one] = 1
    want[two & (want == 0)] = 2
    assert one.any() and two.any()  # random weights still give masks to compare
    assert np.array_equal(ours.labels, want)
    # upstream's set_image gave the backbone the very tensor the node's frame preparation gave it
    assert proc.model.backbone.memo_hits == hits + 1
    return g


def test_sam3_segment_clicks_and_exemplars_equal_upstream_on_the_cpu(registry, tmp_path, image_model):
    """Objects mode (a click on one object, a box on another) and concept mode with an exemplar
    box give the masks of upstream's Sam3Processor / predict_inst calls made in the same order;
    the second prompt on the frame reuses the embedding (one backbone pass)."""
    from PIL import Image

    proc = image_model
    frame = plates()[1002]
    g = _clicks_equal_upstream(registry, tmp_path, proc)

    cache = proc._rotograph_embeddings
    misses = cache.misses
    g.set("seg.mode", "concept")  # an exemplar box on 1002, the same frame: the embedding is reused
    g.set("seg.threshold", 0.0)
    g.set("seg.prompts", [_kf(1002, 1, box=[94, 54, 120, 82])])
    ours = g.evaluate("seg", 1002, "masks")
    assert cache.misses == misses and cache.hits >= 1
    with compat.on_device(CPU):
        state = proc.set_image(Image.fromarray(frame))
        proc.set_confidence_threshold(0.0)
        state = proc.add_geometric_prompt([107 / 160, 68 / 96, 26 / 160, 28 / 96], True, state)
    masks = state["masks"].reshape(-1, 96, 160).numpy()
    scores = state["scores"].float().numpy()
    want = np.zeros((96, 160), np.uint16)
    for oid, i in enumerate(np.argsort(-scores, kind="stable"), start=1):
        want[masks[i] & (want == 0)] = oid
    assert want.any() and np.array_equal(ours.labels, want)
    assert np.array_equal(np.array([o.score for o in ours.objects], np.float32), -np.sort(-scores, kind="stable"))
    assert g.evaluate("seg", 1003, "masks").objects == []  # the exemplar belongs to 1002


@pytest.fixture
def video_model():
    """SAM 3's video model (cheap trunk, fast seeded random init), built once by the node's own
    builder and shared by the node and upstream's direct calls; let go after its one test."""
    from rotograph.nodes.ai.sam3 import build_video_model

    release_memory()
    with cheap_trunk(), fast_random_init():
        sam = build_video_model(resolve_weights(SPECS["sam3"], "random"), CPU)
    memo_backbone(sam.tracker.backbone)
    # random weights score every object absent (masks then forced empty): raise the object-score
    # bias so that objects are present and the masks compared mean something
    head = sam.tracker.sam_mask_decoder.pred_obj_score_head
    last = head.layers[-1] if hasattr(head, "layers") else head
    with torch.no_grad():
        last.bias.fill_(10.0)
    yield sam
    MANAGER.clear()
    del sam
    release_memory()


def _track_masks(registry, tmp_path, model, plates: dict, **params) -> dict:
    """SAM3Track's masks per frame (random weights on the CPU, ``model`` served as its video
    model) on ``plates`` ({frame: H×W×3 uint8}) written as a PNG sequence; ``params``: the node's."""
    MANAGER.clear()
    MANAGER.get("sam3:video", resolve_weights(SPECS["sam3"], "random"), CPU, lambda w, d: model)
    g = rotograph.Graph(registry)
    g.add("rotograph.Read", "read", file=write_png_sequence(tmp_path / "p", plates), colorspace="sRGB")
    g.add("rotograph.SAM3Track", "track", weights="random", device=CPU, chunk=8, overlap=2, **params)
    g.connect("read.image", "track.image")
    ev = rotograph.Evaluator(g, rotograph.Cache())
    ev.wanted = {"track": set(plates)}
    return {f: ev.get("track", "masks", f) for f in plates}


def test_sam3_track_subset_correction_equals_upstream_on_the_cpu(registry, tmp_path, video_model):
    """Two objects clicked on 1001, object 1 corrected on 1002 (object 2 not named), three
    frames: SAM3Track's masks equal upstream's tracker driven in the interactive order with its
    own JPEG loader (prompt, propagate to 1002, correct, propagate on), and frame 1001 equals a
    track without the correction."""
    from PIL import Image

    from rotograph.nodes.ai._sam3_video import mask_set

    frames = plates(3)
    folder = tmp_path / "jpg"
    folder.mkdir()
    decoded = {}
    for i, (f, rgb) in enumerate(frames.items()):  # the plates the node reads = what the JPEG loader decodes
        Image.fromarray(rgb).save(folder / f"{i:05d}.jpg", quality=95)
        decoded[f] = np.array(Image.open(folder / f"{i:05d}.jpg").convert("RGB"))
    prompts = [_kf(1001, 1, [(22, 32, 1)]), _kf(1001, 2, [(112, 68, 1)]), _kf(1002, 1, [(30, 30, 1), (60, 80, 0)])]
    ours = _track_masks(registry, tmp_path, video_model, decoded, prompts=prompts)

    tr = video_model.tracker
    want = {}

    def rel(x, y):
        return torch.tensor([[x / 160, y / 96]], dtype=torch.float32)

    def propagate(state, start, count):
        for i, ids, _, logits, scores in compat.iterate(tr.propagate_in_video(
                state, start_frame_idx=start, max_frame_num_to_track=count, reverse=False, tqdm_disable=True,
                propagate_preflight=True), CPU):
            probs = 1 / (1 + np.exp(-scores.float().numpy().reshape(-1)))
            want[1001 + i] = mask_set(list(ids), (logits[:, 0] > 0).numpy(), probs, lambda o: f"object{o}", (96, 160))

    with compat.on_device(CPU):
        state = tr.init_state(video_path=str(folder), offload_video_to_cpu=True, offload_state_to_cpu=True)
        tr.add_new_points_or_box(state, 0, 1, points=rel(22, 32), labels=torch.tensor([1], dtype=torch.int32))
        tr.add_new_points_or_box(state, 0, 2, points=rel(112, 68), labels=torch.tensor([1], dtype=torch.int32))
    propagate(state, 0, 1)
    first = want[1001]
    with compat.on_device(CPU):
        tr.add_new_points_or_box(state, 1, 1, points=torch.tensor([[30 / 160, 30 / 96], [60 / 160, 80 / 96]]),
                                 labels=torch.tensor([1, 0], dtype=torch.int32))
    propagate(state, 1, 1)
    for f in frames:
        assert ours[f].objects and np.array_equal(ours[f].labels, want[f].labels), \
            (f, int((ours[f].labels != want[f].labels).sum()), [iou(ours[f].labels == o, want[f].labels == o) for o in (1, 2)])
        assert [o.id for o in ours[f].objects] == [o.id for o in want[f].objects]
    assert np.array_equal(ours[1001].labels, first.labels)  # the correction changed nothing before it
    # three frames, three backbone inputs: upstream's JPEG loader made the very tensors the node's
    # in-memory frames did
    assert len(tr.backbone.memo) == len(frames)


@pytest.fixture
def concept_model():
    """SAM 3's video model for a text concept (cheap trunk, fast seeded random init), built once by
    the node's own builder and shared by the node and upstream's request-API calls: the detector's
    masks shifted to partial ones (``shift_concept_masks``), a few of its queries made detections on
    the test plates (``raise_concept_scores``, calibrated by one upstream ``add_prompt`` on the first), the
    tracker's object-score bias raised as in ``video_model``, and upstream's own object limit
    (``max_num_objects``) set to 4: bounded memory. Let go after its one test."""
    from PIL import Image

    from rotograph.nodes.ai.sam3 import build_video_model

    release_memory()
    with cheap_trunk(), fast_random_init():
        sam = build_video_model(resolve_weights(SPECS["sam3"], "random"), CPU)
    model = sam.predictor.model
    memo_backbone(model.detector.backbone)
    shift_concept_masks(model.detector)
    head = model.tracker.sam_mask_decoder.pred_obj_score_head
    with torch.no_grad():
        (head.layers[-1] if hasattr(head, "layers") else head).bias.fill_(10.0)
    model.max_num_objects = 4

    def calibrate(pred=sam.predictor):  # one frame: one detector pass (its neck pass is remembered for the test)
        with compat.on_device(CPU):
            sid = pred.handle_request({"type": "start_session", "resource_path": [Image.fromarray(plates(1)[1001])]})
            sid = sid["session_id"]
            pred.handle_request({"type": "add_prompt", "session_id": sid, "frame_index": 0, "text": CONCEPT})
            pred.handle_request({"type": "close_session", "session_id": sid})

    raise_concept_scores(model.detector, calibrate)
    yield sam
    MANAGER.clear()
    del sam, model
    release_memory()


CONCEPT = "red square"


@pytest.mark.parametrize("correction", [False, pytest.param(True, marks=pytest.mark.sam3_cpu)],
                         ids=["concept", "concept-and-correction"])
def test_sam3_track_concept_equals_upstream_on_the_cpu(registry, tmp_path, concept_model, monkeypatch, correction):
    """A text concept tracked over two frames on the CPU (sam3's request API: detector + tracker,
    through the compatibility module — scikit-image labelling, a frame without a new detection
    answered): SAM3Track's masks, ids and scores equal upstream's own request-API calls made in
    the same order (start_session, add_prompt, propagate_in_video forwards; with ``correction``,
    points on object 1 at the second frame, then a propagation forwards from there: one more
    detector and tracker pass each side, so `make sam3-cpu-check` only)."""
    import sam3.perflib.connected_components as cc
    from PIL import Image

    from rotograph.nodes.ai._sam3_video import mask_set

    batches = []  # the batch sizes sam3's CPU connected components get (the compatibility wrapper answers 0)
    wrapped = cc.connected_components_cpu
    monkeypatch.setattr(cc, "connected_components_cpu", lambda masks: (batches.append(masks.shape[0]), wrapped(masks))[1])
    frames = plates(2)
    points = [(30, 30, 1), (60, 80, 0)]
    ours = _track_masks(registry, tmp_path, concept_model, frames, text=CONCEPT,
                        prompts=[_kf(1002, 1, points)] if correction else [])

    pred = concept_model.predictor
    raw = {}

    def propagate(sid, start):
        for item in compat.iterate(pred.handle_stream_request({"type": "propagate_in_video", "session_id": sid,
                                                               "propagation_direction": "forward", "start_frame_index": start,
                                                               "max_frame_num_to_track": None}), CPU):
            raw[1001 + item["frame_index"]] = item["outputs"]

    with compat.on_device(CPU):
        sid = pred.handle_request({"type": "start_session", "resource_path": [Image.fromarray(p) for p in frames.values()]})
        sid = sid["session_id"]
        pred.handle_request({"type": "add_prompt", "session_id": sid, "frame_index": 0, "text": CONCEPT})
    propagate(sid, 0)
    sids = sorted({int(s) for o in raw.values() for s in np.asarray(o["out_obj_ids"]).reshape(-1)})
    stable = {s: k for k, s in enumerate(sids, start=1)}  # the node numbers a concept's objects 1… in session-id order
    if correction:
        assert sids, "no object for the correction"
        with compat.on_device(CPU):
            pred.handle_request({"type": "add_prompt", "session_id": sid, "frame_index": 1, "obj_id": sids[0],
                                 "points": [[x / 160, y / 96] for x, y, _ in points],
                                 "point_labels": [lab for _, _, lab in points]})
        propagate(sid, 1)
    with compat.on_device(CPU):
        pred.handle_request({"type": "close_session", "session_id": sid})
    want = {}
    for f, o in raw.items():
        keep = [k for k, s in enumerate(np.asarray(o["out_obj_ids"]).reshape(-1)) if int(s) in stable]
        o = {key: np.asarray(o[key])[keep] for key in ("out_obj_ids", "out_binary_masks", "out_probs")}
        ids = [stable[int(s)] for s in np.asarray(o["out_obj_ids"]).reshape(-1)]
        order = np.argsort(ids, kind="stable")
        masks = np.asarray(o["out_binary_masks"], bool).reshape(-1, 96, 160)[order]
        want[f] = mask_set([ids[k] for k in order], masks, np.asarray(o["out_probs"], np.float32).reshape(-1)[order],
                           lambda i: f"{CONCEPT} {i}", (96, 160))
    assert set(raw) == set(frames) and any(want[f].objects for f in frames)  # detections to compare
    for f in frames:
        assert np.array_equal(ours[f].labels, want[f].labels), (f, int((ours[f].labels != want[f].labels).sum()))
        assert [(o.id, o.name) for o in ours[f].objects] == [(o.id, o.name) for o in want[f].objects]
        assert np.allclose([o.score for o in ours[f].objects], [o.score for o in want[f].objects])
    assert 0 in batches and any(batches)  # a frame without a new detection, and masks labelled by scikit-image
    # two frames, two backbone inputs (the calibration's, the node's and upstream's): the node
    # handed the request API the very frames upstream's calls did
    assert len(concept_model.predictor.model.detector.backbone.memo) == len(frames)


@pytest.mark.sam3_cpu
def test_sam3_segment_clicks_with_the_full_backbone_equal_upstream(registry, tmp_path):
    """The same clicks through SAM 3's own 1008-px ViT trunk (one pass: ~40 s and ~3 GB on 2 cores):
    `make sam3-cpu-check`, not `make test`."""
    from rotograph.nodes.ai.sam3 import build_image_model

    release_memory()
    with fast_random_init():
        proc = build_image_model(resolve_weights(SPECS["sam3"], "random"), CPU)
    assert type(proc.model.backbone.vision_backbone.trunk).__name__ == "ViT"
    memo_backbone(proc.model.backbone)
    _clicks_equal_upstream(registry, tmp_path, proc)
    MANAGER.clear()
