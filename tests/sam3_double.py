"""A test double of the ``sam3`` 0.1.4 package, held to the API recorded from the real one on a
GPU (``../shared/sam3_api/trace-sam3-0.1.4.json``; see tests/test_sam3.py for the checks).

:func:`install` puts fake ``sam3``, ``sam3.model_builder``, ``sam3.model.sam3_video_predictor``,
``sam3.model.sam3_tracking_predictor`` and ``sam3.model.sam3_image_processor`` modules into
``sys.modules``, so the nodes' real builder code runs against it. Every builder, class and method
has the recorded signature (a keyword the real one lacks is a TypeError here too); every call is
logged in :attr:`Api.calls`; returns have the recorded structure (keys, tensor shapes, dtypes —
on the CPU) and the double raises where the real API raises: points on the request API before a
propagation has reached their frame, a box given as a Python list to the tracker (multiplied by
the image size: list repetition), a mask that is not a tensor, a new object after tracking
started, a propagation with no prompt, frames the tracker has no image for, a prompted frame not
yet tracked that names a subset of the objects (``gt_masks``: sam3 issue 221). Frames are
prepared as sam3's own loader does (PIL's bicubic resize, /255 in float64).

Instead of networks it segments by colour: a "concept" is every saturated blob; an object is
the pixels near the colour under its prompt (points, box centre or the mask's median), taken from
the nearest prompted frame in the direction of propagation. The tracker reads its frames from
``state["images"]`` (3×1008×1008, ImageNet-normalised, as the real one does), so a wrongly
prepared frame gives wrong masks.
"""

from __future__ import annotations

import ast
import functools
import inspect
import json
import os
import sys
import types
import uuid
from pathlib import Path

import cv2
import numpy as np
import torch

TRACE_PATH = Path(__file__).resolve().parents[2] / "shared" / "sam3_api" / "trace-sam3-0.1.4.json"
IMAGE_SIZE = 1008
WORK = IMAGE_SIZE // 4  # the double's working size (the tracker's frames are subsampled 4×)
MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)
TOLERANCE = 50  # max |Δ| per channel (uint8) for a pixel to be "the same colour"


def load_trace() -> dict:
    return json.loads(TRACE_PATH.read_text())


def recorded_signature(text: str) -> inspect.Signature:
    """The recorded signature text ``"(self, a, b=1, *, c=None, **kw) -> T"`` as an
    :class:`inspect.Signature` (parsed, never evaluated; defaults are placeholders)."""
    fn = ast.parse(f"def f{text}: pass").body[0]
    a = fn.args
    params = []
    plain = a.posonlyargs + a.args
    first_default = len(plain) - len(a.defaults)
    for i, arg in enumerate(plain):
        kind = inspect.Parameter.POSITIONAL_ONLY if arg in a.posonlyargs else inspect.Parameter.POSITIONAL_OR_KEYWORD
        params.append(inspect.Parameter(arg.arg, kind, default=... if i >= first_default else inspect.Parameter.empty))
    if a.vararg:
        params.append(inspect.Parameter(a.vararg.arg, inspect.Parameter.VAR_POSITIONAL))
    for arg, d in zip(a.kwonlyargs, a.kw_defaults):
        params.append(inspect.Parameter(arg.arg, inspect.Parameter.KEYWORD_ONLY,
                                        default=inspect.Parameter.empty if d is None else ...))
    if a.kwarg:
        params.append(inspect.Parameter(a.kwarg.arg, inspect.Parameter.VAR_KEYWORD))
    return inspect.Signature(params)


class Api:
    """The installed double: ``calls`` — every call as (recorded name, args without self, kwargs);
    ``max_frames`` — the most frames one session held."""

    def __init__(self):
        self.calls: list[tuple[str, tuple, dict]] = []
        self.max_frames = 0

    def names(self) -> set[str]:
        return {c[0] for c in self.calls}

    def of(self, name: str) -> list[tuple[tuple, dict]]:
        return [(a, k) for n, a, k in self.calls if n == name]


API = Api()


def recorded(name: str):
    """Log each call of the wrapped function under its recorded ``name``."""

    def wrap(fn):
        @functools.wraps(fn)
        def logged(*args, **kwargs):
            shown = args[1:] if "." in name else args  # methods: without self
            API.calls.append((name, shown, kwargs))
            return fn(*args, **kwargs)

        logged.recorded_name = name
        return logged

    return wrap


# -- colour "segmentation" ---------------------------------------------------------------------
def _blobs(rgb: np.ndarray) -> list[tuple[float, np.ndarray]]:
    """Saturated blobs (> 30 px): (centre x, median colour)."""
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    n, lab, stats, cents = cv2.connectedComponentsWithStats((hsv[..., 1] > 120).astype(np.uint8))
    out = []
    for k in range(1, n):
        if stats[k, cv2.CC_STAT_AREA] > 30:
            out.append((float(cents[k][0]), np.median(rgb[lab == k], axis=0).astype(int)))
    return sorted(out, key=lambda b: b[0])


def _match(rgb: np.ndarray, colour) -> np.ndarray:
    return np.abs(rgb.astype(int) - np.asarray(colour)).max(axis=-1) < TOLERANCE


def _lazy(shape, dtype):
    """A tensor of ``shape`` and ``dtype`` that holds one element (stand-in features)."""
    return torch.zeros(1, dtype=dtype).expand(*shape)


# -- sam3.model_builder ------------------------------------------------------------------------
class _Backbone:
    pass


class _Detector:
    def __init__(self):
        self.backbone = _Backbone()


class Sam3VideoModel:
    """Stands in for ``Sam3VideoInferenceWithInstanceInteractivity``: ``.tracker``, ``.detector``."""

    def __init__(self, checkpoint_keys):
        self.checkpoint_keys = checkpoint_keys
        self.tracker = Sam3TrackerPredictor()
        self.detector = _Detector()

    def eval(self):
        return self

    def cuda(self):
        return self

    def named_parameters(self):  # a torch Module in sam3; the double holds no tensors
        return iter(())


def _read_checkpoint(checkpoint_path, load_from_HF):
    if checkpoint_path is None:
        if load_from_HF:
            raise RuntimeError("sam3 double: load_from_HF=True would download facebook/sam3 here")
        return None
    ckpt = torch.load(checkpoint_path, map_location="cpu", weights_only=True)  # as model_builder does
    if "model" in ckpt and isinstance(ckpt["model"], dict):
        ckpt = ckpt["model"]
    return sorted(ckpt)


@recorded("build_sam3_video_model")
def build_sam3_video_model(checkpoint_path=None, load_from_HF=True, bpe_path=None, has_presence_token=True,
                           geo_encoder_use_img_cross_attn=True, strict_state_dict_loading=True,
                           apply_temporal_disambiguation=True, device="cuda", compile=False):
    return Sam3VideoModel(_read_checkpoint(checkpoint_path, load_from_HF))


@recorded("build_sam3_video_predictor")
def build_sam3_video_predictor(*model_args, gpus_to_use=None, **model_kwargs):
    return Sam3VideoPredictor(*model_args, **model_kwargs)  # the real one forwards kwargs the same way


class Sam3Image:
    """Stands in for ``sam3.model.sam3_image.Sam3Image``."""

    def __init__(self, checkpoint_keys, inst_interactivity):
        self.checkpoint_keys = checkpoint_keys
        self.inst_interactive_predictor = object() if inst_interactivity else None

    def named_parameters(self):  # a torch Module in sam3; the double holds no tensors
        return iter(())

    @recorded("Sam3Image.predict_inst")
    def predict_inst(self, inference_state, **kwargs):
        if self.inst_interactive_predictor is None:
            raise AttributeError("'NoneType' object has no attribute 'model'")
        recorded_signature(load_trace()["signatures"]["SAM3InteractiveImagePredictor.predict"]).bind(None, **kwargs)
        rgb = inference_state.pixels
        h, w = inference_state["original_height"], inference_state["original_width"]
        points, box = kwargs.get("point_coords"), kwargs.get("box")
        if points is not None:
            labels = np.asarray(kwargs["point_labels"])
            x, y = np.asarray(points)[list(labels).index(1)]
        elif box is not None:
            x0, y0, x1, y1 = np.asarray(box, float)
            x, y = (x0 + x1) / 2, (y0 + y1) / 2
        else:
            raise ValueError("point_coords or box needed")
        m = _match(rgb, rgb[int(np.clip(y, 0, h - 1)), int(np.clip(x, 0, w - 1))]).astype(np.float32)
        k = 3 if kwargs.get("multimask_output", True) else 1
        masks = np.stack([m] + [np.zeros_like(m)] * (k - 1))
        scores = np.array([0.95] + [0.1] * (k - 1), np.float32)
        return masks, scores, np.zeros((k, 288, 288), np.float32)


@recorded("build_sam3_image_model")
def build_sam3_image_model(bpe_path=None, device="cuda", eval_mode=True, checkpoint_path=None, load_from_HF=True,
                           enable_segmentation=True, enable_inst_interactivity=False, compile=False):
    return Sam3Image(_read_checkpoint(checkpoint_path, load_from_HF), enable_inst_interactivity)


# -- sam3.model.sam3_tracking_predictor --------------------------------------------------------
class _TrackerState(dict):
    """The tracker's inference_state: the recorded keys, plus the double's colour models as
    attributes (not keys)."""

    prompts: dict  # obj_id → {frame_idx: (colour, made_before_tracking)}
    outputs: dict  # frame_idx → (obj masks at video res, dtype)


class Sam3TrackerPredictor:
    image_size = IMAGE_SIZE

    def __init__(self):
        self.backbone = None

    @recorded("Sam3TrackerPredictor.init_state")
    def init_state(self, video_height=None, video_width=None, num_frames=None, video_path=None, cached_features=None,
                   offload_video_to_cpu=False, offload_state_to_cpu=False, async_loading_frames=False):
        s = _TrackerState()
        s["offload_video_to_cpu"] = offload_video_to_cpu
        s["offload_state_to_cpu"] = offload_state_to_cpu
        s["device"] = torch.device("cpu")
        s["storage_device"] = torch.device("cpu")
        if video_path is not None:
            files = sorted(f for f in os.listdir(video_path) if f.lower().endswith((".jpg", ".jpeg")))
            from PIL import Image  # as sam3's _load_img_as_tensor: PIL's (bicubic) resize, /255 in float64

            pils = [Image.open(os.path.join(video_path, f)) for f in files]
            video_width, video_height = pils[0].size
            imgs = torch.from_numpy(np.stack([np.array(p.convert("RGB").resize((IMAGE_SIZE, IMAGE_SIZE))) / 255.0
                                              for p in pils]).transpose(0, 3, 1, 2).copy()).float()
            s["images"] = (imgs - torch.tensor(MEAN)[:, None, None]) / torch.tensor(STD)[:, None, None]
            num_frames = len(files)
        s["num_frames"] = num_frames
        s["video_height"] = video_height
        s["video_width"] = video_width
        for k in ("point_inputs_per_obj", "mask_inputs_per_obj"):
            s[k] = {}
        s["cached_features"] = {} if cached_features is None else cached_features
        s["constants"] = {}
        s["obj_id_to_idx"], s["obj_idx_to_id"], s["obj_ids"] = {}, {}, []
        s["output_dict"] = {"cond_frame_outputs": {}, "non_cond_frame_outputs": {}}
        s["first_ann_frame_idx"] = None
        s["output_dict_per_obj"], s["temp_output_dict_per_obj"] = {}, {}
        s["consolidated_frame_inds"] = {"cond_frame_outputs": set(), "non_cond_frame_outputs": set()}
        s["tracking_has_started"] = False
        s["frames_already_tracked"] = {}
        s.prompts, s.outputs = {}, {}
        API.max_frames = max(API.max_frames, num_frames or 0)
        return s

    # the real tracker reads frames through _get_image_feature
    def _frame(self, state, frame_idx) -> np.ndarray:
        if frame_idx not in state["cached_features"] and self.backbone is None:
            raise RuntimeError(f"Image features for frame {frame_idx} are not cached. "
                               "Please run inference on this frame first.")
        image = state["images"][frame_idx].cpu().float()
        assert tuple(image.shape) == (3, IMAGE_SIZE, IMAGE_SIZE), image.shape
        small = image[:, ::4, ::4].numpy()  # the double segments at 252²
        rgb = small * (STD * 255).reshape(3, 1, 1) + (MEAN * 255 + 0.5).reshape(3, 1, 1)
        return np.clip(rgb, 0, 255).astype(np.uint8).transpose(1, 2, 0)

    def _obj(self, state, obj_id):
        if obj_id not in state["obj_id_to_idx"]:
            if state["tracking_has_started"]:
                raise RuntimeError(f"Cannot add new object id {obj_id} after tracking starts. All existing object ids: "
                                   f"{state['obj_ids']}. Please call 'reset_state' to restart from scratch.")
            idx = len(state["obj_ids"])
            state["obj_id_to_idx"][obj_id], state["obj_idx_to_id"][idx] = idx, obj_id
            state["obj_ids"].append(obj_id)
            for k in ("point_inputs_per_obj", "mask_inputs_per_obj"):
                state[k][idx] = {}
            state["output_dict_per_obj"][idx] = {"cond_frame_outputs": {}, "non_cond_frame_outputs": {}}
            state["temp_output_dict_per_obj"][idx] = {"cond_frame_outputs": {}, "non_cond_frame_outputs": {}}
        return state["obj_id_to_idx"][obj_id]

    def _prompt(self, state, frame_idx, obj_id, colour):
        state.prompts.setdefault(obj_id, {})[frame_idx] = (colour, not state["tracking_has_started"])
        state["temp_output_dict_per_obj"][state["obj_id_to_idx"][obj_id]]["cond_frame_outputs"][frame_idx] = True
        if state["first_ann_frame_idx"] is None:
            state["first_ann_frame_idx"] = frame_idx
        masks = self._segment(state, frame_idx, reverse=False, at=frame_idx)
        return frame_idx, list(state["obj_ids"]), None, masks

    @recorded("Sam3TrackerPredictor.add_new_points_or_box")
    def add_new_points_or_box(self, inference_state, frame_idx, obj_id, points=None, labels=None, clear_old_points=True,
                              rel_coordinates=True, use_prev_mem_frame=False, normalize_coords=True, box=None):
        state = inference_state
        self._obj(state, obj_id)
        if (points is not None) != (labels is not None):
            raise ValueError("points and labels must be provided together")
        if points is None and box is None:
            raise ValueError("at least one of points or box must be provided as input")
        if points is None:
            points = torch.zeros(0, 2, dtype=torch.float32)
        elif not isinstance(points, torch.Tensor):
            points = torch.tensor(points, dtype=torch.float32)
        if labels is None:
            labels = torch.zeros(0, dtype=torch.int32)
        elif not isinstance(labels, torch.Tensor):
            labels = torch.tensor(labels, dtype=torch.int32)
        if rel_coordinates:  # what the real one does, list repetition included
            points = points * self.image_size
            if box is not None:
                box = box * self.image_size
        if box is not None:
            if not isinstance(box, torch.Tensor):
                box = torch.tensor(box, dtype=torch.float32)
            box = box.reshape(1, 2, 2)
        rgb = self._frame(state, frame_idx)
        pos = [p for p, lab in zip(points.reshape(-1, 2).tolist(), labels.reshape(-1).tolist()) if lab == 1]
        x, y = pos[0] if pos else box.reshape(2, 2).mean(0).tolist()
        colour = rgb[int(np.clip(y / 4, 0, WORK - 1)), int(np.clip(x / 4, 0, WORK - 1))].astype(int)
        return self._prompt(state, frame_idx, obj_id, colour)

    @recorded("Sam3TrackerPredictor.add_new_mask")
    def add_new_mask(self, inference_state, frame_idx, obj_id, mask, add_mask_to_memory=False):
        state = inference_state
        self._obj(state, obj_id)
        assert mask.dim() == 2
        rgb = self._frame(state, frame_idx)
        m = cv2.resize(mask.cpu().numpy().astype(np.uint8), (WORK, WORK), interpolation=cv2.INTER_NEAREST) > 0
        colour = np.median(rgb[m], axis=0).astype(int) if m.any() else None
        return self._prompt(state, frame_idx, obj_id, colour)

    def _segment(self, state, frame_idx, reverse, at=None):
        """Masks of every object on ``frame_idx`` ([N,1,H,W] float32 logits at video size): the
        colour of each object's nearest prompt in the direction of propagation (else the other)."""
        rgb = self._frame(state, frame_idx)
        h, w = state["video_height"], state["video_width"]
        out = []
        for obj_id in state["obj_ids"]:
            frames = state.prompts.get(obj_id, {})
            before = [f for f in frames if f <= frame_idx]
            after = [f for f in frames if f >= frame_idx]
            if at is not None and at in frames:
                src = at
            elif reverse:
                src = min(after) if after else max(before, default=None)
            else:
                src = max(before) if before else min(after, default=None)
            colour = frames[src][0] if src is not None else None
            m = _match(rgb, colour) if colour is not None else np.zeros(rgb.shape[:2], bool)
            m = cv2.resize(m.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
            out.append(np.where(m, 10.0, -10.0).astype(np.float32))
        return torch.from_numpy(np.stack(out)[:, None] if out else np.zeros((0, 1, h, w), np.float32))

    @recorded("Sam3TrackerPredictor.propagate_in_video")
    def propagate_in_video(self, inference_state, start_frame_idx, max_frame_num_to_track, reverse, tqdm_disable=False,
                           obj_ids=None, run_mem_encoder=True, propagate_preflight=False):
        state = inference_state
        if propagate_preflight:  # consolidate the prompts added since the last propagation
            for per_obj in state["temp_output_dict_per_obj"].values():
                for f in list(per_obj["cond_frame_outputs"]):
                    if f not in state["frames_already_tracked"] and any(
                            f not in state.prompts.get(o, {}) for o in state["obj_ids"]):
                        # sam3 issue 221: an object with no output on a prompted frame gets an
                        # "empty mask pointer" through a track_step call that passes gt_masks
                        raise TypeError("Sam3TrackerBase.track_step() got an unexpected keyword argument 'gt_masks'")
                    state["output_dict"]["cond_frame_outputs"][f] = True
                    state["consolidated_frame_inds"]["cond_frame_outputs"].add(f)
                    del per_obj["cond_frame_outputs"][f]
            state["tracking_has_started"] = True
        if obj_ids is not None:
            raise NotImplementedError("Per-object tracking yet for batched inference if not implemented.")
        if len(state["output_dict"]["cond_frame_outputs"]) == 0:
            raise RuntimeError("No points are provided; please add points first")
        n = state["num_frames"]
        if start_frame_idx is None:
            start_frame_idx = min(state["output_dict"]["cond_frame_outputs"])
        if max_frame_num_to_track is None:
            max_frame_num_to_track = n
        if reverse:
            end = max(start_frame_idx - max_frame_num_to_track, 0)
            order = range(start_frame_idx, end - 1, -1) if start_frame_idx > 0 else [0]
        else:
            order = range(start_frame_idx, min(start_frame_idx + max_frame_num_to_track, n - 1) + 1)
        for i in order:
            cond = i in state["consolidated_frame_inds"]["cond_frame_outputs"]
            masks = self._segment(state, i, reverse, at=i if cond else None)
            early = cond and all(state.prompts.get(o, {}).get(i, (None, False))[1] for o in state["obj_ids"]
                                 if i in state.prompts.get(o, {}))
            present = (masks > 0).flatten(1).any(1) if len(masks) else torch.zeros(0, dtype=torch.bool)
            scores = torch.where(present, 8.0, -8.0)[:, None].to(torch.float32 if early else torch.bfloat16)
            state["frames_already_tracked"][i] = {"reverse": reverse}
            yield i, state["obj_ids"], torch.zeros(len(masks), 1, 288, 288), masks, scores

    @recorded("Sam3TrackerPredictor.remove_object")
    def remove_object(self, inference_state, obj_id, strict=False, need_output=True):
        raise NotImplementedError("sam3 double: remove_object is not used by rotograph")


# -- sam3.model.sam3_video_predictor: the request API -------------------------------------------
_READS = {  # request keys the real dispatcher reads, by request type
    "start_session": {"type", "resource_path", "session_id"},
    "add_prompt": {"type", "session_id", "frame_index", "text", "points", "point_labels", "bounding_boxes",
                   "bounding_box_labels", "obj_id"},
    "remove_object": {"type", "session_id", "obj_id", "is_user_action"},
    "reset_session": {"type", "session_id"},
    "close_session": {"type", "session_id"},
    "propagate_in_video": {"type", "session_id", "propagation_direction", "start_frame_index", "max_frame_num_to_track"},
}


def _keys_read(request):
    unread = set(request) - _READS.get(request["type"], set())
    if unread:  # the real dispatcher ignores them silently: a request that says more than it does
        raise AssertionError(f"sam3 double: request keys {sorted(unread)} are not read by the real dispatcher")


class Sam3VideoPredictor:
    _ALL_INFERENCE_STATES: dict = {}

    @recorded("Sam3VideoPredictor.__init__")
    def __init__(self, checkpoint_path=None, bpe_path=None, has_presence_token=True, geo_encoder_use_img_cross_attn=True,
                 strict_state_dict_loading=True, async_loading_frames=False, video_loader_type="cv2",
                 apply_temporal_disambiguation=True):
        self.async_loading_frames = async_loading_frames
        self.video_loader_type = video_loader_type
        self.model = build_sam3_video_model(checkpoint_path=checkpoint_path, bpe_path=bpe_path)  # load_from_HF: default

    @recorded("Sam3VideoPredictor.handle_request")
    def handle_request(self, request):
        _keys_read(request)
        kind = request["type"]
        if kind == "start_session":
            return self.start_session(resource_path=request["resource_path"], session_id=request.get("session_id", None))
        if kind == "add_prompt":
            return self.add_prompt(session_id=request["session_id"], frame_idx=request["frame_index"],
                                   text=request.get("text", None), points=request.get("points", None),
                                   point_labels=request.get("point_labels", None),
                                   bounding_boxes=request.get("bounding_boxes", None),
                                   bounding_box_labels=request.get("bounding_box_labels", None),
                                   obj_id=request.get("obj_id", None))
        if kind == "close_session":
            return self.close_session(session_id=request["session_id"])
        raise RuntimeError(f"invalid request type: {kind}")

    @recorded("Sam3VideoPredictor.handle_stream_request")
    def handle_stream_request(self, request):
        _keys_read(request)
        if request["type"] != "propagate_in_video":
            raise RuntimeError(f"invalid request type: {request['type']}")
        yield from self.propagate_in_video(
            session_id=request["session_id"], propagation_direction=request.get("propagation_direction", "both"),
            start_frame_idx=request.get("start_frame_index", None),
            max_frame_num_to_track=request.get("max_frame_num_to_track", None))

    @recorded("Sam3VideoPredictor.start_session")
    def start_session(self, resource_path, session_id=None):
        if isinstance(resource_path, list):
            from PIL import Image

            assert all(isinstance(im, Image.Image) for im in resource_path)  # as load_resource_as_video_frames
            frames = [np.asarray(im.convert("RGB")) for im in resource_path]
        else:
            files = sorted(f for f in os.listdir(resource_path) if f.lower().endswith((".jpg", ".jpeg")))
            frames = [cv2.cvtColor(cv2.imread(os.path.join(resource_path, f)), cv2.COLOR_BGR2RGB) for f in files]
        session_id = session_id or str(uuid.uuid4())
        self._ALL_INFERENCE_STATES[session_id] = {"frames": frames, "objects": {}, "text": None, "cached": set()}
        API.max_frames = max(API.max_frames, len(frames))
        return {"session_id": session_id}

    def _session(self, session_id):
        session = self._ALL_INFERENCE_STATES.get(session_id)
        if session is None:
            raise RuntimeError(f"Cannot find session {session_id}; it might have expired")
        return session

    def _outputs(self, session, i, detect=True, stats=True):
        rgb = session["frames"][i]
        if detect and session["text"] is not None:  # the detector runs on every frame: new instances
            for _, colour in _blobs(rgb):
                if not any(np.abs(colour - c).max() < TOLERANCE for c in session["objects"].values()):
                    session["objects"][max(session["objects"], default=-1) + 1] = colour
        ids = sorted(session["objects"])
        masks = [_match(rgb, session["objects"][o]) for o in ids]
        keep = [k for k, m in enumerate(masks) if m.any()]
        h, w = rgb.shape[:2]
        return {"out_obj_ids": np.array([ids[k] for k in keep], np.int64),
                "out_probs": np.full(len(keep), 0.9, np.float32),
                "out_boxes_xywh": np.zeros((len(keep), 4), np.float32),
                "out_binary_masks": np.array([masks[k] for k in keep], bool).reshape(len(keep), h, w),
                "frame_stats": {"num_obj_tracked": np.int64(len(keep)), "num_obj_dropped": 0} if stats else None}

    @recorded("Sam3VideoPredictor.add_prompt")
    def add_prompt(self, session_id, frame_idx, text=None, points=None, point_labels=None, bounding_boxes=None,
                   bounding_box_labels=None, obj_id=None):
        session = self._session(session_id)
        rgb = session["frames"][frame_idx]
        h, w = rgb.shape[:2]
        if points is not None:
            assert text is None and bounding_boxes is None, "When points are provided, text_str and boxes_xywh must be None."
            assert obj_id is not None, "When points are provided, obj_id must be provided."
            assert frame_idx in session["cached"], ("No cached outputs found. Ensure normal propagation has run first "
                                                    "to populate the cache.")
            x, y = points[list(point_labels).index(1)]
            assert 0 <= x <= 1 and 0 <= y <= 1, "relative coordinates"
            session["objects"][obj_id] = rgb[int(y * (h - 1)), int(x * (w - 1))].astype(int)
            return {"frame_index": frame_idx, "outputs": self._outputs(session, frame_idx, detect=False, stats=False)}
        assert text is not None or bounding_boxes is not None, "at least one type of prompt (text, boxes) must be provided"
        session["objects"], session["cached"] = {}, set()  # a semantic prompt starts over
        session["text"] = text if text is not None else "visual"
        if bounding_boxes is not None:
            boxes = np.asarray(bounding_boxes, np.float32)
            assert (boxes >= 0).all() and (boxes <= 1).all(), "boxes are xywh in 0..1"
        return {"frame_index": frame_idx, "outputs": self._outputs(session, frame_idx)}

    @recorded("Sam3VideoPredictor.propagate_in_video")
    def propagate_in_video(self, session_id, propagation_direction, start_frame_idx, max_frame_num_to_track):
        session = self._session(session_id)
        if propagation_direction not in ("both", "forward", "backward"):
            raise ValueError(f"invalid propagation direction: {propagation_direction}")
        n = len(session["frames"])
        start = start_frame_idx or 0
        count = n if max_frame_num_to_track is None else max_frame_num_to_track
        if propagation_direction in ("both", "forward"):
            for i in range(start, min(start + count, n - 1) + 1):
                session["cached"].add(i)  # what points on this frame need
                yield {"frame_index": i, "outputs": self._outputs(session, i)}
        if propagation_direction in ("both", "backward"):
            for i in range(start, max(start - count, 0) - 1, -1):
                session["cached"].add(i)
                yield {"frame_index": i, "outputs": self._outputs(session, i)}

    @recorded("Sam3VideoPredictor.close_session")
    def close_session(self, session_id):
        self._ALL_INFERENCE_STATES.pop(session_id, None)
        return {"is_success": True}

    @recorded("Sam3VideoPredictor.remove_object")
    def remove_object(self, session_id, obj_id, is_user_action=True):
        self._session(session_id)["objects"].pop(obj_id, None)
        return {"is_success": True}


# -- sam3.model.sam3_image_processor -----------------------------------------------------------
class Prompt:
    """Stands in for sam3's geometric ``Prompt``."""

    def __init__(self):
        self.boxes = []


class _ImageState(dict):
    pixels: np.ndarray


def _backbone(inst: bool) -> dict:
    bf = torch.bfloat16
    levels = [(1, 256, 288, 288), (1, 256, 144, 144), (1, 256, 72, 72)]
    out = {"vision_features": _lazy((1, 256, 72, 72), bf), "vision_pos_enc": [_lazy(s, bf) for s in levels],
           "backbone_fpn": [_lazy(s, bf) for s in levels], "sam2_backbone_out": None}
    if inst:
        out["sam2_backbone_out"] = {
            "vision_features": _lazy((1, 256, 72, 72), bf), "vision_pos_enc": [_lazy(s, bf) for s in levels],
            "backbone_fpn": [_lazy(s, bf) for s in [(1, 32, 288, 288), (1, 64, 144, 144), (1, 256, 72, 72)]]}
    return out


class Sam3Processor:
    @recorded("Sam3Processor.__init__")
    def __init__(self, model, resolution=1008, device="cuda", confidence_threshold=0.5):
        self.model, self.resolution, self.device = model, resolution, device
        self.confidence_threshold = confidence_threshold

    @recorded("Sam3Processor.set_image")
    def set_image(self, image, state=None):
        from PIL import Image

        if isinstance(image, Image.Image):
            width, height = image.size
            pixels = np.asarray(image.convert("RGB"))
        elif isinstance(image, (torch.Tensor, np.ndarray)):
            height, width = image.shape[-2:]  # as the real one: an H×W×3 array gives (W, 3)
            pixels = np.asarray(image.permute(1, 2, 0) if isinstance(image, torch.Tensor) else image)
        else:
            raise ValueError("Image must be a PIL image or a tensor")
        state = _ImageState() if state is None else state
        state.pixels = pixels
        state["original_height"], state["original_width"] = height, width
        state["backbone_out"] = _backbone(self.model.inst_interactive_predictor is not None)
        return state

    def _text(self, state):
        state["backbone_out"].update({"language_features": _lazy((32, 1, 256), torch.bfloat16),
                                      "language_mask": _lazy((1, 32), torch.bool),
                                      "language_embeds": _lazy((32, 1, 1024), torch.float32)})

    def _ground(self, state, keep):
        h, w = state["original_height"], state["original_width"]
        rgb = cv2.resize(state.pixels, (w, h), interpolation=cv2.INTER_NEAREST) if state.pixels.shape[:2] != (h, w) else state.pixels
        masks, scores = [], []
        for k, (_, colour) in enumerate(_blobs(rgb)):
            if keep(colour) and 0.9 - 0.1 * k > self.confidence_threshold:
                masks.append(_match(rgb, colour))
                scores.append(0.9 - 0.1 * k)
        m = torch.from_numpy(np.array(masks, bool).reshape(len(masks), 1, h, w))
        state["masks_logits"] = m.float()
        state["masks"] = m
        state["boxes"] = torch.zeros(len(masks), 4)
        state["scores"] = torch.tensor(scores, dtype=torch.float32).to(torch.bfloat16)
        return state

    @recorded("Sam3Processor.set_text_prompt")
    def set_text_prompt(self, prompt, state):
        if "backbone_out" not in state:
            raise ValueError("You must call set_image before set_text_prompt")
        self._text(state)
        state.setdefault("geometric_prompt", Prompt())
        return self._ground(state, lambda colour: True)

    @recorded("Sam3Processor.add_geometric_prompt")
    def add_geometric_prompt(self, box, label, state):
        if "backbone_out" not in state:
            raise ValueError("You must call set_image before set_text_prompt")
        if "language_features" not in state["backbone_out"]:
            self._text(state)  # "visual"
        state.setdefault("geometric_prompt", Prompt())
        boxes = torch.tensor(box, dtype=torch.float32).view(1, 1, 4)  # cx, cy, w, h in 0..1
        assert len(box) == 4 and bool(((boxes >= 0) & (boxes <= 1)).all()), "boxes are cx, cy, w, h in 0..1"
        state["geometric_prompt"].boxes.append((boxes, bool(label)))
        rgb, h, w = state.pixels, state["original_height"], state["original_width"]
        refs = [(rgb[int(b[0, 0, 1] * (h - 1)), int(b[0, 0, 0] * (w - 1))].astype(int), pos)
                for b, pos in state["geometric_prompt"].boxes]

        def keep(colour):
            near = [pos for ref, pos in refs if np.abs(colour - ref).max() < TOLERANCE]
            return bool(near) and all(near)

        return self._ground(state, keep)

    @recorded("Sam3Processor.reset_all_prompts")
    def reset_all_prompts(self, state):
        for k in ("geometric_prompt", "boxes", "masks", "masks_logits", "scores"):
            state.pop(k, None)

    @recorded("Sam3Processor.set_confidence_threshold")
    def set_confidence_threshold(self, threshold, state=None):
        self.confidence_threshold = threshold
        return state


# -- installation -------------------------------------------------------------------------------
SURFACE = {  # recorded name → the double's callable
    "Sam3VideoPredictor.__init__": Sam3VideoPredictor.__init__,
    "Sam3VideoPredictor.handle_request": Sam3VideoPredictor.handle_request,
    "Sam3VideoPredictor.start_session": Sam3VideoPredictor.start_session,
    "Sam3VideoPredictor.add_prompt": Sam3VideoPredictor.add_prompt,
    "Sam3VideoPredictor.propagate_in_video": Sam3VideoPredictor.propagate_in_video,
    "Sam3VideoPredictor.close_session": Sam3VideoPredictor.close_session,
    "Sam3VideoPredictor.remove_object": Sam3VideoPredictor.remove_object,
    "Sam3TrackerPredictor.init_state": Sam3TrackerPredictor.init_state,
    "Sam3TrackerPredictor.add_new_points_or_box": Sam3TrackerPredictor.add_new_points_or_box,
    "Sam3TrackerPredictor.add_new_mask": Sam3TrackerPredictor.add_new_mask,
    "Sam3TrackerPredictor.propagate_in_video": Sam3TrackerPredictor.propagate_in_video,
    "Sam3TrackerPredictor.remove_object": Sam3TrackerPredictor.remove_object,
    "Sam3Processor.__init__": Sam3Processor.__init__,
    "Sam3Processor.set_image": Sam3Processor.set_image,
    "Sam3Processor.set_text_prompt": Sam3Processor.set_text_prompt,
    "Sam3Processor.add_geometric_prompt": Sam3Processor.add_geometric_prompt,
    "Sam3Processor.reset_all_prompts": Sam3Processor.reset_all_prompts,
    "Sam3Processor.set_confidence_threshold": Sam3Processor.set_confidence_threshold,
    "build_sam3_image_model": build_sam3_image_model,
    "build_sam3_video_model": build_sam3_video_model,
    "build_sam3_video_predictor": build_sam3_video_predictor,
    "Sam3Image.predict_inst": Sam3Image.predict_inst,
}


def install(monkeypatch, bpe_path: str) -> Api:
    """Put the double in ``sys.modules`` as ``sam3`` (for this test only) and return its log."""
    API.calls.clear()
    API.max_frames = 0
    Sam3VideoPredictor._ALL_INFERENCE_STATES.clear()
    modules = {name: types.ModuleType(name) for name in (
        "sam3", "sam3.model", "sam3.model_builder", "sam3.model.sam3_video_predictor",
        "sam3.model.sam3_tracking_predictor", "sam3.model.sam3_image_processor", "sam3.model.sam3_image")}
    modules["sam3"].__version__ = "0.1.4"
    modules["sam3"].__path__ = modules["sam3.model"].__path__ = []
    modules["sam3"].model, modules["sam3"].model_builder = modules["sam3.model"], modules["sam3.model_builder"]
    for fn in (build_sam3_video_model, build_sam3_image_model, build_sam3_video_predictor):
        setattr(modules["sam3.model_builder"], fn.__name__, fn)
    modules["sam3.model.sam3_video_predictor"].Sam3VideoPredictor = Sam3VideoPredictor
    modules["sam3.model.sam3_tracking_predictor"].Sam3TrackerPredictor = Sam3TrackerPredictor
    modules["sam3.model.sam3_image_processor"].Sam3Processor = Sam3Processor
    modules["sam3.model.sam3_image"].Sam3Image = Sam3Image
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setenv("ROTOGRAPH_SAM3_BPE", bpe_path)
    return API
