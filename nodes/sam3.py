"""SAM3Segment (one frame, SAM 3's image model) and SAM3Track (video, in bounded memory).

SAM3Track chunks the shot into predictor sessions.

The upstream video session keeps per-frame state and grows without bound on long shots
(facebookresearch/sam3 issue #169), so the shot is cut into chunks of ``chunk`` frames that
overlap by ``overlap``: each chunk is a fresh predictor session, seeded on its first frame from
the previous chunk's masks (positive points inside each object, with the same object id), so ids
stay stable across the shot and memory stays flat. The predictor is driven only through its
public request API (``handle_request`` / ``handle_stream_request``).
"""

from __future__ import annotations

import os
import shutil
import tempfile

import cv2
import numpy as np

from rotograph import Image, Input, MaskObject, MaskSet, Masks, Matte, Node, Output, Param, Prompts, RangeNode, Segment
from rotograph.errors import ParamError, RotographError
from rotograph.models import MANAGER, SPECS, ModelError, choose_device, require, resolve_weights

from ._imaging import to_display_u8

BPE_NAME = "bpe_simple_vocab_16e6.txt.gz"


def bpe_vocab() -> str:
    """The CLIP BPE vocabulary SAM3's tokenizer needs. The ``sam3`` wheel does not ship it;
    ``open_clip_torch`` ships the same file."""
    import importlib.metadata

    for dist in ("sam3", "open_clip_torch"):
        try:
            for f in importlib.metadata.files(dist) or []:
                if str(f).endswith(BPE_NAME):
                    return str(f.locate())
        except importlib.metadata.PackageNotFoundError:
            continue
    raise ModelError(f"SAM3 needs the CLIP BPE vocabulary {BPE_NAME}, which the sam3 wheel lacks: "
                     f"pip install open_clip_torch (it ships the file), or set ROTOGRAPH_SAM3_BPE")


def build_video_predictor(weights: str, device: str):
    """The real SAM3 video predictor (CUDA only upstream)."""
    require(SPECS["sam3"])
    from sam3.model_builder import build_sam3_video_predictor

    bpe = os.environ.get("ROTOGRAPH_SAM3_BPE") or bpe_vocab()
    local = os.path.exists(weights)
    # weights "random": random initialisation (GPU checks and benchmarks only)
    return build_sam3_video_predictor(checkpoint_path=weights if local else None,
                                      load_from_HF=not local and weights != "random", bpe_path=bpe)


build_video_predictor.needs_cuda = True


def seed_points(mask: np.ndarray, n: int = 3) -> list[tuple[float, float]]:
    """Up to ``n`` points deep inside a mask (maxima of its distance transform), in pixels."""
    dist = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 5)
    pts = []
    for _ in range(n):
        y, x = np.unravel_index(int(np.argmax(dist)), dist.shape)
        if dist[y, x] <= 0:
            break
        pts.append((float(x) + 0.5, float(y) + 0.5))
        cv2.circle(dist, (int(x), int(y)), max(2, int(dist[y, x])), 0, -1)
    return pts


class SAM3Track(RangeNode):
    """Track objects through a shot with SAM 3 (Carion et al., "SAM 3: Segment Anything with
    Concepts", 2025; package ``sam3``), in chunks of bounded memory.

    Prompts: ``text`` (a concept, e.g. "person in red jacket": every instance is tracked) and/or
    ``prompts`` — per-object points on keyframes (boxes are sent as visual exemplars of the
    concept); later keyframes correct the track. Frames after the first keyframe are tracked
    forwards, frames before it backwards (the chunk's frames are handed to the predictor in
    reverse). Each chunk re-seeds from the previous chunk's masks with the same object ids.

    image: Image H×W×3/4 scene-linear. Outputs ``masks``: Masks (uint16 labels = object ids,
    names, scores); ``matte``: float32 H×W — object ``object``, or every object when 0.
    Needs CUDA upstream: on a machine without it ``check`` fails and names FlowTrack.
    """

    type_id = "rotograph.SAM3Track"
    category = "Segment"
    resources = {"GPU": 1}
    resumable = True

    image = Input(Image)
    text = Param(str, "", doc="Concept prompt: every instance of it is tracked")
    prompts = Param(Prompts, [], doc="Per-object points (and exemplar boxes) on keyframes", ui={"widget": "prompts"})
    object = Param(int, 0, range=(0, 65535), doc="Object id of the matte output; 0: all objects")
    chunk = Param(int, 64, range=(4, 100_000), doc="Frames per predictor session (bounds memory)")
    overlap = Param(int, 4, range=(1, 64), doc="Frames shared by consecutive chunks (re-seeding)")
    weights = Param(str, "", doc="HF id or checkpoint; empty: facebook/sam3 ($ROTOGRAPH_SAM3_WEIGHTS)")
    device = Param(str, "auto", choices=("auto", "cuda"))
    masks = Output(Masks)
    matte = Output(Matte)

    # -- checks and segments ----------------------------------------------------------------
    def check(self) -> None:
        if not self.text and not self.prompts:
            raise ParamError(f"node '{self.name}': give a text prompt or keyframe prompts")
        if self.overlap >= self.chunk:
            raise ParamError(f"node '{self.name}': param 'overlap' must be smaller than 'chunk'")
        if getattr(build_video_predictor, "needs_cuda", False):
            try:
                device = choose_device(self.device)
            except ModelError as e:
                raise ParamError(f"node '{self.name}': {e}") from None
            if device != "cuda":
                raise ParamError(f"node '{self.name}': SAM3's video predictor needs a CUDA GPU and none is "
                                 f"visible here; use rotograph.FlowTrack for CPU tracking")

    def _keyframes(self) -> list[int]:
        return sorted({k["frame"] for k in self.prompts})

    def segments(self, first: int, last: int) -> list[Segment]:
        k0 = self._keyframes()[0] if self.prompts else first
        k0 = min(max(k0, first), last)
        segs = [Segment(tuple(range(k0, last + 1)))]
        if k0 > first:
            segs.insert(0, Segment(tuple(range(k0 - 1, first - 1, -1))))
        return segs

    def key_material(self, frame: int):
        return {"weights": self.weights or os.environ.get(SPECS["sam3"].env_var, "") or SPECS["sam3"].hf_id}

    # -- running ------------------------------------------------------------------------------
    def _predictor(self):
        weights = self.key_material(0)["weights"]
        if getattr(build_video_predictor, "needs_cuda", False) and weights != "random":
            weights = resolve_weights(SPECS["sam3"], weights)
        device = choose_device(self.device) if getattr(build_video_predictor, "needs_cuda", False) else "any"
        return MANAGER.get("sam3:video", weights, device, build_video_predictor)

    def compute_range(self, ctx, segment, pull, resume=None):
        seg = list(segment.frames)
        backwards = bool(self.prompts) and seg[0] < self._keyframes()[0]
        # the backward clip starts on the first keyframe (seeded there, emitted by the forward segment)
        clip = [seg[0] + 1] + seg if backwards else seg
        predictor = self._predictor()
        if resume is not None:
            c0 = emitted = clip.index(resume[0])
            seed = resume[1]["masks"]
        else:
            c0, seed = 0, None
            emitted = 0 if backwards else -1
        while True:
            chunk = clip[c0:c0 + self.chunk]
            results = self._run_chunk(predictor, chunk, pull, seed)
            for i, f in enumerate(chunk):
                if c0 + i > emitted:
                    masks = results.get(f) or MaskSet(np.zeros_like(next(iter(results.values())).labels), [])
                    yield f, {"masks": masks, "matte": masks.matte(self.object or None)}
            emitted = c0 + len(chunk) - 1
            if c0 + len(chunk) >= len(clip):
                return
            c0 += len(chunk) - self.overlap
            seed = results[clip[c0]]

    def _run_chunk(self, predictor, chunk, pull, seed: MaskSet | None) -> dict[int, MaskSet]:
        """One predictor session over ``chunk``: seeded from ``seed`` (the previous chunk's masks
        on ``chunk[0]``) or, for the first chunk, from the text and keyframe prompts."""
        first_chunk = seed is None
        folder = tempfile.mkdtemp(prefix="rotograph-sam3-")
        try:
            size = None
            for i, f in enumerate(chunk):  # the predictor reads a folder of JPEG frames
                rgb = to_display_u8(pull(f)["image"])
                size = rgb.shape[1], rgb.shape[0]
                cv2.imwrite(os.path.join(folder, f"{i:05d}.jpg"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                            [cv2.IMWRITE_JPEG_QUALITY, 95])
            w, h = size
            sid = predictor.handle_request({"type": "start_session", "resource_path": folder})["session_id"]
            try:
                names = {}
                if seed is not None:
                    for obj in seed.objects:
                        pts = seed_points(seed.labels == obj.id)
                        if pts:
                            names[obj.id] = obj.name
                            self._add(predictor, sid, 0, obj.id, [(x / w, y / h) for x, y in pts], [1] * len(pts))
                elif first_chunk and self.text:
                    predictor.handle_request({"type": "add_prompt", "session_id": sid, "frame_index": 0,
                                              "text": self.text})
                for kf in self.prompts:  # keyframes (and later corrections) inside this chunk
                    if kf["frame"] in chunk and (first_chunk or chunk.index(kf["frame"]) > 0):
                        local = chunk.index(kf["frame"])
                        if kf["points"]:
                            self._add(predictor, sid, local, kf["object"],
                                      [(p[0] / w, p[1] / h) for p in kf["points"]], [p[2] for p in kf["points"]])
                        if kf["box"] is not None:
                            x0, y0, x1, y1 = kf["box"]
                            predictor.handle_request({"type": "add_prompt", "session_id": sid, "frame_index": local,
                                                      "bounding_boxes": [[x0 / w, y0 / h, (x1 - x0) / w, (y1 - y0) / h]],
                                                      "bounding_box_labels": [1], "text": self.text or "visual"})
                        names.setdefault(kf["object"], f"object{kf['object']}")
                results = {}
                stream = predictor.handle_stream_request({"type": "propagate_in_video", "session_id": sid,
                                                          "propagation_direction": "forward", "start_frame_index": 0})
                for item in stream:
                    i = item["frame_index"]
                    if 0 <= i < len(chunk):
                        results[chunk[i]] = self._to_masks(item["outputs"], (h, w), names)
                return results
            finally:
                predictor.handle_request({"type": "close_session", "session_id": sid})
        except (KeyError, RuntimeError, ValueError, AssertionError) as e:
            raise RotographError(f"SAM3 predictor failed: {type(e).__name__}: {e}") from e
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    @staticmethod
    def _add(predictor, sid, frame_index, obj_id, points, labels):
        predictor.handle_request({"type": "add_prompt", "session_id": sid, "frame_index": frame_index,
                                  "points": [list(p) for p in points], "point_labels": list(labels),
                                  "obj_id": int(obj_id)})

    def _to_masks(self, outputs: dict, shape, names: dict) -> MaskSet:
        labels = np.zeros(shape, np.uint16)
        objects = []
        ids = np.asarray(outputs.get("out_obj_ids", []), np.int64)
        probs = np.asarray(outputs.get("out_probs", np.ones(len(ids))), np.float32)
        masks = np.asarray(outputs.get("out_binary_masks", np.zeros((0, *shape), bool)))
        for oid, p, m in sorted(zip(ids.tolist(), probs.tolist(), masks), key=lambda t: t[0]):
            if m.shape != shape:
                m = cv2.resize(m.astype(np.uint8), (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST) > 0
            labels[m.astype(bool)] = oid
            name = names.get(oid) or (f"{self.text} {oid}" if self.text else f"object{oid}")
            objects.append(MaskObject(int(oid), name, float(p)))
        return MaskSet(labels, objects)


def build_image_processor(weights: str, device: str):
    """The real SAM3 image model wrapped in its ``Sam3Processor``."""
    require(SPECS["sam3"])
    from sam3.model.sam3_image_processor import Sam3Processor
    from sam3.model_builder import build_sam3_image_model

    bpe = os.environ.get("ROTOGRAPH_SAM3_BPE") or bpe_vocab()
    local = os.path.exists(weights)
    model = build_sam3_image_model(bpe_path=bpe, device=device, checkpoint_path=weights if local else None,
                                   load_from_HF=not local and weights != "random")
    return Sam3Processor(model, device=device)


def _numpy(x) -> np.ndarray:
    return np.asarray(x.detach().float().cpu().numpy() if hasattr(x, "detach") else x)


class SAM3Segment(Node):
    """Segment one frame with SAM 3's image model (Carion et al., 2025; package ``sam3``).

    ``text`` (a concept, e.g. "person in red jacket") finds every instance; the boxes of
    ``prompts`` are visual exemplars of the concept (positive with point label 1, negative with
    0 — a box keyframe's points, if any, give its label), so a single box finds that object and
    things like it. Instances scoring below ``threshold`` are dropped.

    image: Image H×W×3/4 scene-linear. Outputs ``masks``: Masks (ids 1…N by descending score,
    names from the text, scores in [0, 1]); ``matte``: float32 H×W — object ``object`` or all.
    """

    type_id = "rotograph.SAM3Segment"
    category = "Segment"
    resources = {"GPU": 1}

    image = Input(Image)
    text = Param(str, "", doc="Concept prompt: every instance")
    prompts = Param(Prompts, [], doc="Exemplar boxes (plate pixels)", ui={"widget": "prompts"})
    threshold = Param(float, 0.5, range=(0.0, 1.0))
    object = Param(int, 0, range=(0, 65535), doc="Object id of the matte output; 0: all")
    weights = Param(str, "", doc="HF id or checkpoint; empty: facebook/sam3 ($ROTOGRAPH_SAM3_WEIGHTS)")
    device = Param(str, "auto", choices=("auto", "cuda", "mps", "cpu"))
    masks = Output(Masks)
    matte = Output(Matte)

    def check(self) -> None:
        if not self.text and not any(k["box"] for k in self.prompts):
            raise ParamError(f"node '{self.name}': give a text prompt or an exemplar box")

    def key_material(self, frame: int):
        return {"weights": self.weights or os.environ.get(SPECS["sam3"].env_var, "") or SPECS["sam3"].hf_id}

    def _processor(self):
        weights = self.key_material(0)["weights"]
        real = getattr(build_image_processor, "needs_weights", True)
        device = choose_device(self.device) if real else "any"
        if real and weights != "random":
            weights = resolve_weights(SPECS["sam3"], weights)
        return MANAGER.get("sam3:image", weights, device, build_image_processor)

    def compute(self, ctx, image):
        proc = self._processor()
        rgb8 = to_display_u8(image)
        h, w = rgb8.shape[:2]
        state = proc.set_image(rgb8)
        if self.text:
            state = proc.set_text_prompt(self.text, state)
        for kf in self.prompts:
            if kf["box"] is not None:
                x0, y0, x1, y1 = kf["box"]
                label = bool(kf["points"][0][2]) if kf["points"] else True
                state = proc.add_geometric_prompt([(x0 + x1) / 2 / w, (y0 + y1) / 2 / h, (x1 - x0) / w, (y1 - y0) / h],
                                                  label, state)
        masks = _numpy(state.get("masks", np.zeros((0, 1, h, w), bool))).reshape(-1, h, w)
        scores = _numpy(state.get("scores", np.zeros(len(masks)))).reshape(-1)
        labels = np.zeros((h, w), np.uint16)
        objects = []
        order = [i for i in np.argsort(-scores) if scores[i] >= self.threshold]
        for oid, i in enumerate(order, start=1):
            labels[(masks[i] > 0.5) & (labels == 0)] = oid
            objects.append(MaskObject(oid, f"{self.text or 'object'} {oid}", float(scores[i])))
        ms = MaskSet(labels, objects)
        return {"masks": ms, "matte": ms.matte(self.object or None)}
