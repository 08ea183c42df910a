"""SAM 3's two video APIs, driven one session (one chunk of a shot) at a time for SAM3Track.

- :func:`track_chunk` — SAM 3's tracker (``model.tracker`` with the detector's backbone):
  per-object points, boxes and masks on any frame of the session, propagated forwards and
  backwards (``Sam3TrackerPredictor.init_state`` / ``add_new_points_or_box`` / ``add_new_mask`` /
  ``propagate_in_video``).
- :func:`concept_chunk` — the request API of ``Sam3VideoPredictor`` (detector + tracker): a text
  concept finds and tracks every instance; point prompts refine an object once a propagation has
  reached their frame (the real API refuses them before).

Facts these functions rely on were recorded from the real ``sam3`` 0.1.4 on a GPU
(``../shared/sam3_api``): the tracker takes relative (0–1) coordinates and a box only as a tensor
(a Python list is repeated by ``box * image_size``); its yields are ``(frame_idx, obj_ids,
low_res_masks, video_res_masks[N,1,H,W] logits, obj_scores[N,1] logits)``; the request API's
outputs are ``out_obj_ids`` / ``out_probs`` / ``out_binary_masks[N,H,W]`` at the plate's size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from rotograph import MaskObject, MaskSet

# SAM 3's tracker input: frames resized to IMAGE_SIZE² and normalised as its own JPEG loader
# does (sam3.model.utils.sam2_utils.load_video_frames: /255, ImageNet mean and std).
IMAGE_SIZE = 1008
IMAGE_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGE_STD = np.array([0.229, 0.224, 0.225], np.float32)


@dataclass
class VideoModel:
    """SAM 3's video model seen through its two APIs: ``predictor`` (the request API of
    ``Sam3VideoPredictor``, for text concepts) and ``tracker`` (``model.tracker`` with
    ``model.detector.backbone``, for per-object points, boxes and masks). Both share one model."""

    predictor: Any
    tracker: Any


class TrackerFrames:
    """The frames of one tracker session as the tracker reads them — ``state["images"][i]``, a
    float32 3×1008×1008 tensor made exactly as its own loader makes it from a JPEG
    (``sam3.model.utils.sam2_utils._load_img_as_tensor``: PIL's ``resize`` — bicubic — then
    /255 in float64, float32, minus the ImageNet mean, over its std) — made on access from the
    uint8 plates: no JPEG round trip, and 3 bytes a pixel held instead of the loader's 12 MB a
    frame. ``plates``: uint8 H×W×3 sRGB frames in session order."""

    # (float32(v / 255) - mean) / std for every uint8 v, per channel, in float32 as the loader
    # computes it: one table lookup a pixel, bit-identical to the loader's arithmetic
    _luts = [(((np.arange(256) / 255.0).astype(np.float32) - np.float32(m)) / np.float32(s)).astype(np.float32)
             for m, s in zip(IMAGE_MEAN, IMAGE_STD)]

    def __init__(self, plates: list[np.ndarray]):
        self._plates = plates

    def __len__(self) -> int:
        return len(self._plates)

    def __getitem__(self, index: int):
        import torch
        from PIL import Image

        rgb = np.asarray(Image.fromarray(self._plates[index]).convert("RGB").resize((IMAGE_SIZE, IMAGE_SIZE)))
        out = torch.empty((3, IMAGE_SIZE, IMAGE_SIZE), dtype=torch.float32)  # torch's allocator: aligned as the loader's
        view = out.numpy()
        for c, lut in enumerate(self._luts):
            np.take(lut, rgb[..., c], out=view[c])
        return out


@dataclass
class ObjectPrompt:
    """One object's prompt on one frame of a session: ``points`` N×2 and ``labels`` N (1
    positive, 0 negative) and/or ``box`` (x0, y0, x1, y1), all relative to the plate (0–1); or a
    ``mask`` (bool H×W at the plate's size)."""

    obj_id: int
    points: np.ndarray | None = None
    labels: np.ndarray | None = None
    box: np.ndarray | None = None
    mask: np.ndarray | None = None


def to_numpy(x) -> np.ndarray:
    return np.asarray(x.detach().float().cpu().numpy() if hasattr(x, "detach") else x)


def mask_set(ids: list[int], fg: np.ndarray, scores, names: Callable[[int], str], shape) -> MaskSet:
    """A MaskSet of the objects of ``ids`` (in that order) from their masks ``fg`` (N×H×W
    bool): uint16 labels, where masks overlap the first object keeps the pixel; the table lists
    the objects left with pixels."""
    labels = np.zeros(shape, np.uint16)
    objects = []
    for oid, m, score in zip(ids, fg, scores):
        sel = m & (labels == 0)
        if sel.any():
            labels[sel] = oid
            objects.append(MaskObject(int(oid), names(int(oid)), float(score)))
    return MaskSet(labels, sorted(objects, key=lambda o: o.id))


# -- the tracker -------------------------------------------------------------------------------
def _add(tracker, state, index: int, p: ObjectPrompt) -> None:
    import torch

    if p.mask is not None:
        tracker.add_new_mask(state, index, p.obj_id, torch.from_numpy(np.ascontiguousarray(p.mask, bool)))
        return
    kw = {}
    if p.points is not None and len(p.points):
        kw["points"] = torch.as_tensor(p.points, dtype=torch.float32)
        kw["labels"] = torch.as_tensor(p.labels, dtype=torch.int32)
    if p.box is not None:
        kw["box"] = torch.as_tensor(p.box, dtype=torch.float32)  # a list would be repeated 1008 times
    tracker.add_new_points_or_box(state, index, p.obj_id, **kw)


def track_chunk(tracker, plates: list[np.ndarray], prompts: dict[int, list[ObjectPrompt]], reverse: bool,
                names: Callable[[int], str], offload_state: bool = True, device: str = "cuda",
                check=None) -> dict[int, MaskSet]:
    """Run SAM 3's tracker over one session in the interactive order and return its masks by
    session index.

    ``plates``: uint8 H×W×3 sRGB frames in time order. ``prompts``: session index → object
    prompts (seed masks and keyframes). ``reverse`` (a backward chunk): keyframes are taken from
    the last towards index 0. The order is the one upstream supports (sam3 issue 221: prompts
    on several frames added before the first propagation fail as soon as a frame names a subset
    of the objects): prompt the first keyframe, propagate up to and including the next one,
    correct there — a refinement of the tracked masks, for the objects it names only — and
    propagate on from it, to the end of the session. A keyframe that introduces an object the
    session lacks (the tracker takes new objects only before tracking starts) starts a new
    session there, seeded with the tracked masks of the other objects.

    Causal: the masks of a frame depend only on the keyframes at or before it in processing
    order (a later keyframe changes nothing before it). Frames before the first keyframe (in
    processing order) get no masks. ``check()``: a cancellation point before each propagated frame.
    """
    from ._sam3_compat import iterate, on_device

    n = len(plates)
    h, w = plates[0].shape[:2]
    results: dict[int, MaskSet] = {}
    order = sorted(prompts, reverse=reverse)
    state, known = None, set()

    def run(start: int, count: int):
        for i, ids, _low, logits, scores in iterate(tracker.propagate_in_video(
                state, start_frame_idx=start, max_frame_num_to_track=count, reverse=reverse, tqdm_disable=True,
                propagate_preflight=True), device, check):
            fg = np.asarray((logits[:, 0] > 0).cpu().numpy() if hasattr(logits, "cpu") else logits[:, 0] > 0)
            probs = 1.0 / (1.0 + np.exp(-to_numpy(scores).reshape(-1)))
            results[i] = mask_set(list(ids), fg, probs, names, (h, w))

    for j, k in enumerate(order):
        named = {p.obj_id for p in prompts[k]}
        adds = list(prompts[k])
        if state is None or named - known:  # a new session: the first keyframe, or a new object
            if state is not None:  # the other objects go on from their tracked masks on k
                adds = [ObjectPrompt(o.id, mask=results[k].labels == o.id) for o in results[k].objects
                        if o.id not in named] + adds
            with on_device(device):
                state = tracker.init_state(video_height=h, video_width=w, num_frames=n, offload_video_to_cpu=True,
                                           offload_state_to_cpu=offload_state)
            state["images"] = TrackerFrames(plates)
            known = set()
        with on_device(device):
            for p in adds:
                _add(tracker, state, k, p)
        known |= {p.obj_id for p in adds}
        end = order[j + 1] if j + 1 < len(order) else (0 if reverse else n - 1)
        run(k, abs(end - k))
    return results


# -- the request API ---------------------------------------------------------------------------
@dataclass
class ConceptSession:
    """Object ids across the sessions of one concept track: the request API numbers objects per
    session from 0; the node's ids (1…) stay stable by matching each new session's objects to the
    previous session's masks on the frames both saw."""

    next_id: int = 1


def _outputs_to_masks(outputs: dict, to_stable: dict[int, int], names, shape) -> MaskSet:
    sids = np.asarray(outputs.get("out_obj_ids", []), np.int64).reshape(-1).tolist()
    masks = np.asarray(outputs.get("out_binary_masks", np.zeros((0, *shape), bool)), bool).reshape(-1, *shape)
    probs = np.asarray(outputs.get("out_probs", np.ones(len(sids))), np.float32).reshape(-1)
    order = sorted(range(len(sids)), key=lambda k: to_stable.get(sids[k], 1 << 30))
    ids = [to_stable[sids[k]] for k in order if sids[k] in to_stable]
    keep = [k for k in order if sids[k] in to_stable]
    return mask_set(ids, masks[keep], probs[keep], names, shape)


def _match(prev: dict[int, MaskSet], raw: dict[int, dict], shape, min_iou: float = 0.3) -> dict[int, int]:
    """session id → stable id, greedily by IoU summed over the frames both sessions saw."""
    inter: dict[tuple[int, int], float] = {}
    union: dict[tuple[int, int], float] = {}
    for i, ms in prev.items():
        outputs = raw.get(i)
        if outputs is None:
            continue
        sids = np.asarray(outputs.get("out_obj_ids", []), np.int64).reshape(-1).tolist()
        masks = np.asarray(outputs.get("out_binary_masks", np.zeros((0, *shape), bool)), bool).reshape(-1, *shape)
        for o in ms.objects:
            old = ms.labels == o.id
            for s, m in zip(sids, masks):
                inter[(s, o.id)] = inter.get((s, o.id), 0) + float((old & m).sum())
                union[(s, o.id)] = union.get((s, o.id), 0) + float((old | m).sum())
    pairs = sorted(((inter[k] / union[k], k) for k in inter if union[k] > 0), reverse=True)
    out: dict[int, int] = {}
    for iou, (s, oid) in pairs:
        if iou >= min_iou and s not in out and oid not in out.values():
            out[s] = oid
    return out


def concept_chunk(predictor, plates: list[np.ndarray], text: str, corrections: dict[int, list[ObjectPrompt]],
                  prev: dict[int, MaskSet], ids: ConceptSession, names, device: str = "cuda",
                  check=None) -> dict[int, MaskSet]:
    """Run one request-API session of the concept ``text`` over ``plates`` (uint8 H×W×3 sRGB,
    handed over as PIL images: no JPEG round trip) and return its masks by session index.

    ``prev``: the previous session's masks on this session's first frames (session index →
    MaskSet), used to keep object ids; ``corrections``: session index → point prompts of an
    object (stable id), added after the concept's propagation has reached them (the request API
    refuses points before), then propagated forwards from their frame (never backwards: a
    correction changes no frame before it). ``device``: where sam3 runs
    (:mod:`._sam3_compat`); ``check()``: a cancellation point before each propagated frame."""
    from PIL import Image

    from ._sam3_compat import iterate, on_device

    def handle(request: dict):
        with on_device(device):
            return predictor.handle_request(request)

    h, w = plates[0].shape[:2]
    sid = handle({"type": "start_session", "resource_path": [Image.fromarray(p) for p in plates]})["session_id"]
    try:
        handle({"type": "add_prompt", "session_id": sid, "frame_index": 0, "text": text})
        raw: dict[int, dict] = {}

        def propagate(start: int, direction: str, count: int | None = None):
            request = {"type": "propagate_in_video", "session_id": sid, "propagation_direction": direction,
                       "start_frame_index": start, "max_frame_num_to_track": count}
            for item in iterate(predictor.handle_stream_request(request), device, check):
                if 0 <= item["frame_index"] < len(plates):
                    raw[item["frame_index"]] = item["outputs"]

        propagate(0, "forward")
        to_stable = _match(prev, raw, (h, w))
        for s in sorted({s for o in raw.values() for s in np.asarray(o.get("out_obj_ids", [])).reshape(-1).tolist()}):
            if s not in to_stable:
                to_stable[s] = ids.next_id
            ids.next_id = max(ids.next_id, to_stable[s] + 1)
        for j in sorted(corrections):
            for p in corrections[j]:
                session_id = {v: s for s, v in to_stable.items()}.get(p.obj_id)
                if session_id is None:  # a new object: an id the session has not used
                    session_id = max(to_stable, default=-1) + 1
                    to_stable[session_id] = p.obj_id
                    ids.next_id = max(ids.next_id, p.obj_id + 1)
                handle({"type": "add_prompt", "session_id": sid, "frame_index": j, "points": p.points.tolist(),
                        "point_labels": p.labels.tolist(), "obj_id": int(session_id)})
            propagate(j, "forward")  # causal: the frames before j keep the first propagation's masks
        return {i: _outputs_to_masks(o, to_stable, names, (h, w)) for i, o in raw.items()}
    finally:
        handle({"type": "close_session", "session_id": sid})
