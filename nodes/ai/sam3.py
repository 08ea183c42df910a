"""SAM3Segment (one frame, SAM 3's image model) and SAM3Track (video, in bounded memory).

Models come from the ``sam3`` package (Carion et al., "SAM 3: Segment Anything with Concepts",
2025): :func:`build_video_model` and :func:`build_image_model` build them with
``load_from_HF=False`` and the checkpoint rotograph resolved (``facebook/sam3``'s ``sam3.pt``, a
local file, or random initialisation). How the nodes drive the two video APIs is in
:mod:`._sam3_video`.
"""

from __future__ import annotations

import os
import threading

import numpy as np

from rotograph import Image, Input, MaskObject, MaskSet, Masks, Node, Output, Param, Prompts, RangeNode, Reach, Segment
from rotograph.errors import ParamError, RotographError
from rotograph.core.node import Upgrade
from rotograph.interop.models import MANAGER, ModelError, Weights, choose_device, model_key, require, resolve_weights

from ..common._imaging import to_display_u8
from ._sam3_compat import on_device
from ._sam3_embeddings import embeddings_of
from ._sam3_video import ConceptSession, ObjectPrompt, VideoModel, concept_chunk, to_numpy, track_chunk
from ..matte.masks import matte_became_masks
from .specs import SAM3

BPE_NAME = "bpe_simple_vocab_16e6.txt.gz"
SAM3_DTYPE = "bfloat16"  # SAM 3 runs its networks under bf16 autocast on CUDA, whatever the caller does
_LOCK = threading.RLock()  # Sam3Processor and predict_inst keep per-call state on the shared model


def bpe_vocab() -> str:
    """The CLIP BPE vocabulary SAM3's tokenizer needs: ``$ROTOGRAPH_SAM3_BPE``, else the copy
    ``open_clip_torch`` ships (the ``sam3`` wheel lacks it)."""
    import importlib.metadata

    if os.environ.get("ROTOGRAPH_SAM3_BPE"):
        return os.environ["ROTOGRAPH_SAM3_BPE"]
    for dist in ("sam3", "open_clip_torch"):
        try:
            for f in importlib.metadata.files(dist) or []:
                if str(f).endswith(BPE_NAME):
                    return str(f.locate())
        except importlib.metadata.PackageNotFoundError:
            continue
    raise ModelError(f"SAM3 needs the CLIP BPE vocabulary {BPE_NAME}, which the sam3 wheel lacks: "
                     f"pip install open_clip_torch (it ships the file), or set ROTOGRAPH_SAM3_BPE")


def sam3_key(weights: Weights, device: str) -> dict:
    """Key material of SAM 3's results: weights identity, device, and the dtype SAM 3 sets
    itself (bf16 autocast on CUDA)."""
    return model_key(weights, device, SAM3_DTYPE if device.startswith("cuda") else "float32")


def _checkpoint(weights: Weights) -> str | None:
    return None if weights.random else weights.path(SAM3.files[0])


def build_video_model(weights: Weights, device: str) -> VideoModel:
    """SAM 3's video model (``build_sam3_video_model``; CUDA only upstream) and its two APIs:
    the request API of ``Sam3VideoPredictor`` around this model (its own ``__init__`` would build
    a second model and download the HF checkpoint: it has no ``load_from_HF``) and the tracker,
    given the detector's backbone so that it computes image features itself."""
    require(SAM3)
    from sam3.model.sam3_video_predictor import Sam3VideoPredictor
    from sam3.model_builder import build_sam3_video_model

    class RequestPredictor(Sam3VideoPredictor):
        def __init__(self, model):  # what upstream's __init__ sets, around a model built once
            self.model, self.async_loading_frames, self.video_loader_type = model, False, "cv2"

    with on_device(device):
        model = build_sam3_video_model(checkpoint_path=_checkpoint(weights), load_from_HF=False, bpe_path=bpe_vocab(),
                                       device=device).eval()
    tracker = model.tracker
    tracker.backbone = model.detector.backbone
    return VideoModel(RequestPredictor(model), tracker)


def build_image_model(weights: Weights, device: str):
    """SAM 3's image model with instance interactivity (the SAM 1 task: clicks on one object),
    wrapped in its ``Sam3Processor``."""
    require(SAM3)
    from sam3.model.sam3_image_processor import Sam3Processor
    from sam3.model_builder import build_sam3_image_model

    with on_device(device):
        model = build_sam3_image_model(bpe_path=bpe_vocab(), device=device, checkpoint_path=_checkpoint(weights),
                                       load_from_HF=False, enable_inst_interactivity=True)
        return Sam3Processor(model, device=device)


def _by_frame(prompts: list[dict]) -> dict[int, dict[int, dict]]:
    """frame → object → {"points": [[x, y, label], …], "box": […] | None} (entries of one object
    on one frame merged)."""
    out: dict[int, dict[int, dict]] = {}
    for kf in prompts:
        slot = out.setdefault(kf["frame"], {}).setdefault(kf["object"], {"points": [], "box": None})
        slot["points"] += kf["points"]
        slot["box"] = slot["box"] or kf["box"]
    return out


def _parse_frames(text: str) -> list[int]:
    """``"1001, 1040"`` → ``[1001, 1040]`` (a param checked when set: ValueError otherwise)."""
    try:
        return sorted({int(t) for t in text.replace(" ", "").split(",") if t})
    except ValueError:
        raise ValueError(f"{text!r} is not a comma-separated list of frame numbers") from None


def _seed_frames_param(value: str) -> str:
    _parse_frames(value)
    return value


def _parse_range(text: str) -> tuple[int, int] | None:
    """``"1001-1100"`` → ``(1001, 1100)``; ``""`` → ``None`` (ValueError when malformed)."""
    text = text.replace(" ", "")
    if not text:
        return None
    head, sep, tail = text[1:].partition("-")  # a leading minus belongs to the first number
    try:
        first, last = int(text[0] + head), int(tail)
    except ValueError:
        raise ValueError(f"{text!r} is not a frame range like '1001-1100'") from None
    if not sep or last < first:
        raise ValueError(f"{text!r} is not a frame range like '1001-1100' (first ≤ last)")
    return first, last


def _range_param(value: str) -> str:
    _parse_range(value)
    return value


def _matte_to_masks(name: str, params: dict):
    obj = params.pop("object", 0)
    return matte_became_masks(name, params, str(obj) if obj else "")


class SAM3Track(RangeNode):
    """Track objects through a shot with SAM 3 (Carion et al., "SAM 3: Segment Anything with
    Concepts", 2025; package ``sam3``), in chunks of bounded memory.

    Two modes, two of SAM 3's APIs:

    - **concept** (``text``, e.g. "person in red jacket"): every instance is found and tracked by
      the detector + tracker session of the request API (``Sam3VideoPredictor``). Keyframes may
      add points to an object (its id) to correct it: the request API takes them once its
      propagation has reached their frame, then the chunk re-propagates from there.
    - **objects** (no text): per-object points and boxes on keyframes (``prompts``) and/or masks
      (the ``masks_seed`` input, read on the frames of ``seed_frames``) go to SAM 3's tracker. Frames
      after the first keyframe are tracked forwards, frames before it backwards from it. A later
      keyframe corrects the objects it names (the others go on as tracked) or introduces new
      ones, from its frame on: SAM 3's tracker is driven in the interactive order — prompt,
      propagate up to the next keyframe, correct there, propagate on (see
      :func:`._sam3_video.track_chunk`). Causal: a frame's masks depend only on the keyframes at
      or before it (frames before the first keyframe: on the first keyframe only), so a
      correction never changes a frame before it.

    The shot is processed in sessions of ``chunk`` frames overlapping by ``overlap``: the upstream
    session state grows with every frame (facebookresearch/sam3 issue #169; about 13 MB of host
    memory a frame with the tracker's offloading). In objects mode each session is seeded with
    ``add_new_mask`` from the previous session's masks (same ids); in concept mode a new session
    re-detects the concept and its objects take the ids of the previous session's objects they
    overlap on the shared frames. Frames go to the model in memory (PIL images / tensors), never
    through JPEG files; the tracker keeps its per-frame state in host memory (``offload``).

    image: Image H×W×3/4 scene-linear. Output ``masks``: Masks (uint16 labels = object ids —
    the prompts' ``object`` ids, or 1… in order of discovery for a concept — names, scores in
    [0, 1]) at the plate's size. Pick objects with MasksToMatte: that never re-runs the tracker.
    ``frames``: the frame range tracked ("1001-1100"; empty: the image's range — never the
    seed's, which may hold one frame). Objects mode runs on CUDA, MPS or the CPU (``device``;
    ``auto`` picks the best present): :mod:`._sam3_compat` redirects sam3's CUDA-only code. The
    CPU is slow (tens of seconds a frame at 1008 px): for long shots use a GPU, or FlowTrack.
    Concept mode (the request API, which also loads its frames in float16) is checked on CUDA
    only: elsewhere ``check`` refuses it.
    """

    type_id = "rotograph.SAM3Track"
    version = 4  # 3: the tracker driven in the interactive order (corrections propagate forwards from their frame);
    # 4: input seed renamed masks_seed (docs/naming.md)
    category = "Segment"
    resources = {"GPU": 1}
    resumable = True

    image = Input(Image)
    masks_seed = Input(Masks, optional=True, doc="Object masks used as keyframes on the frames of seed_frames")
    text = Param(str, "", doc="Concept prompt: every instance of it is tracked")
    prompts = Param(Prompts, [], doc="Per-object points and boxes on keyframes", ui={"widget": "prompts"})
    seed_frames = Param(str, "", check=_seed_frames_param, doc="Frames where the seed masks are keyframes, e.g. '1001, 1040'")
    chunk = Param(int, 64, range=(4, 100_000), doc="Frames per session (bounds GPU and host memory)")
    overlap = Param(int, 4, range=(1, 64), doc="Frames shared by consecutive sessions (re-seeding)")
    offload = Param(bool, True, doc="Keep the tracker's per-frame state in host memory (flat GPU memory)")
    frames = Param(str, "", check=_range_param, doc="Frame range to track, e.g. '1001-1100'; empty: the image's range")
    weights = Param(str, "", doc="HF id or checkpoint; empty: facebook/sam3 ($ROTOGRAPH_SAM3_WEIGHTS); random: tests")
    device = Param(str, "auto", choices=("auto", "cuda", "mps", "cpu"))
    masks = Output(Masks)

    @classmethod
    def upgrade_node(cls, from_version: int, name: str, params: dict):
        up = Upgrade(params) if from_version >= 2 else _matte_to_masks(name, params)  # v1 had a `matte` output
        return up.rename(name, inputs={"seed": "masks_seed"}) if from_version < 4 else up  # v2 → v3: same ports

    # -- checks and segments ----------------------------------------------------------------
    def check(self) -> None:
        if not self.text and not self.prompts and not self.seed_frames:
            raise ParamError(f"node '{self.name}': give a text prompt, keyframe prompts or seed masks (seed_frames)")
        if self.text and (any(k["box"] for k in self.prompts) or self.seed_frames):
            raise ParamError(f"node '{self.name}': with a text concept, keyframes take points only (corrections); "
                             f"boxes and seed masks are prompts of objects mode (clear 'text')")
        if self.overlap >= self.chunk:
            raise ParamError(f"node '{self.name}': param 'overlap' must be smaller than 'chunk'")
        try:
            device = choose_device(self.device)
        except ModelError as e:
            raise ParamError(f"node '{self.name}': {e}") from None
        if self.text and not device.startswith("cuda"):
            raise ParamError(f"node '{self.name}': a text concept (SAM 3's request API) is checked on CUDA only, and "
                             f"the device here is {device}: track per-object prompts (clear 'text'), or segment the "
                             f"concept on one frame with SAM3Segment")

    def frame_range(self, input_ranges):
        image = input_ranges.get("image")
        wanted = _parse_range(self.frames)
        if wanted is None or image is None:
            return image
        if wanted[0] < image[0] or wanted[1] > image[1]:
            raise ParamError(f"node '{self.name}': param 'frames' {wanted[0]}-{wanted[1]} is outside the image's "
                             f"range {image[0]}-{image[1]}")
        return wanted

    def _keyframes(self) -> list[int]:
        return sorted({k["frame"] for k in self.prompts} | set(_parse_frames(self.seed_frames)))

    def input_frame(self, input: str, frame: int) -> int:
        if input != "masks_seed":
            return frame
        frames = _parse_frames(self.seed_frames)
        return max((f for f in frames if f <= frame), default=frames[0] if frames else frame)

    def segments(self, first: int, last: int) -> list[Segment]:
        if self.text:
            return [Segment(tuple(range(first, last + 1)))]
        keys = self._keyframes()
        outside = [f for f in keys if not first <= f <= last]
        if outside:
            raise ParamError(f"node '{self.name}': keyframe {outside[0]} is outside the frame range {first}-{last}")
        segs = [Segment(tuple(range(keys[0], last + 1)))]
        if keys[0] > first:  # backwards from the first keyframe, seeded on it (the forward segment emits it)
            segs.insert(0, Segment(tuple(range(keys[0] - 1, first - 1, -1)), lead=(keys[0],)))
        return segs

    def reach(self) -> Reach:
        # objects mode: the tracker is driven causally (track_chunk), each frame from the
        # keyframes the run has passed; a concept session's detector may hold an instance back
        # until later frames confirm it, so a concept frame depends on its whole segment
        return Reach() if self.text else Reach(causal=True, keyframes=("prompts",))

    def _weights(self) -> Weights:
        return resolve_weights(SAM3, self.weights)

    def key_material(self, frame: int):
        return sam3_key(self._weights(), choose_device(self.device))

    # -- running ------------------------------------------------------------------------------
    def compute_range(self, ctx, segment, pull, resume=None):
        clip = list(segment.run)  # a backward run starts on its lead: the first keyframe
        backwards = segment.direction < 0
        sam = MANAGER.get("sam3:video", self._weights(), choose_device(self.device), build_video_model)
        run = _Run(self, sam, pull, backwards, ctx.check)
        if resume is not None:
            c0 = emitted = clip.index(resume[0])
            seeds = resume[1]["masks"]
            run.ids.next_id = max([o.id for o in seeds.objects], default=0) + 1
            run.names.update({o.id: o.name for o in seeds.objects})
            shared = {clip[c0]: seeds}
        else:
            c0, seeds, shared = 0, None, {}
            emitted = len(segment.lead) - 1
        try:
            while True:
                chunk = clip[c0:c0 + self.chunk]
                results = run.chunk(chunk, seeds, shared)
                for i, f in enumerate(chunk):
                    if c0 + i > emitted:
                        yield f, results[f]
                emitted = c0 + len(chunk) - 1
                if c0 + len(chunk) >= len(clip):
                    return
                c0 += len(chunk) - self.overlap
                seeds, shared = results[clip[c0]], {f: results[f] for f in clip[c0:c0 + self.overlap]}
        except (KeyError, RuntimeError, ValueError, AssertionError, TypeError) as e:
            raise RotographError(f"SAM3 failed: {type(e).__name__}: {e}") from e


class _Run:
    """One SAM3Track segment being computed: the node's prompts by frame, object names and
    concept ids carried from session to session."""

    def __init__(self, node: SAM3Track, sam: VideoModel, pull, backwards: bool, check=None):
        self.node, self.sam, self.pull, self.backwards = node, sam, pull, backwards
        self.check = check  # a cancellation point inside a session's propagation (Context.check)
        self.device = choose_device(node.device)
        self.by_frame = _by_frame(node.prompts)
        self.seed_frames = set(_parse_frames(node.seed_frames))
        self.names: dict[int, str] = {}
        self.ids = ConceptSession()

    def name(self, oid: int) -> str:
        text = self.node.text
        return f"{text} {oid}" if text else self.names.get(oid) or f"object{oid}"

    def prompts_at(self, frame: int, inputs: dict, size: tuple[int, int]) -> list[ObjectPrompt]:
        """The keyframe prompts on ``frame`` (plate pixels → relative): seed masks first, then
        points and boxes (which replace the seed mask of their object)."""
        w, h = size
        out = []
        if inputs.get("masks_seed") is not None and not self.seed_frames:
            raise RotographError("seed masks are connected but param 'seed_frames' names no frame to use them on")
        if frame in self.seed_frames:
            seed = inputs.get("masks_seed")
            if seed is None:
                raise RotographError(f"param 'seed_frames' names frame {frame} but no seed masks are connected")
            if seed.labels.shape != (h, w):
                raise RotographError(f"seed masks at frame {frame} are {seed.labels.shape[1]}×{seed.labels.shape[0]}, "
                                     f"the plate {w}×{h}")
            for o in seed.objects:
                self.names[o.id] = o.name
                out.append(ObjectPrompt(o.id, mask=seed.labels == o.id))
        for oid, p in self.by_frame.get(frame, {}).items():
            pts = np.array([[x / w, y / h] for x, y, _ in p["points"]], np.float32).reshape(-1, 2)
            labels = np.array([lab for _, _, lab in p["points"]], np.int32)
            box = None if p["box"] is None else np.array(p["box"], np.float32) / np.array([w, h, w, h], np.float32)
            out.append(ObjectPrompt(oid, pts if len(pts) else None, labels if len(pts) else None, box))
        return out

    def chunk(self, chunk: list[int], seeds: MaskSet | None, shared: dict[int, MaskSet]) -> dict[int, MaskSet]:
        """One session over ``chunk`` (frames in processing order; ``chunk[0]`` is where it is
        seeded): from ``seeds`` — the previous session's masks on ``chunk[0]`` (objects mode) —
        or ``shared`` — its masks on the frames both sessions see (concept mode) — and the
        keyframes inside it."""
        times = chunk[::-1] if self.backwards else chunk  # a session sees its frames in time order
        index = {f: i for i, f in enumerate(times)}
        prompts: dict[int, list[ObjectPrompt]] = {}
        if seeds is not None and not self.node.text and seeds.objects:
            prompts[index[chunk[0]]] = [ObjectPrompt(o.id, mask=seeds.labels == o.id) for o in seeds.objects]
        plates = {}
        for f in chunk:  # the session holds uint8 plates only: 3 bytes a pixel
            inputs = self.pull(f)
            plates[f] = to_display_u8(inputs["image"])
            h, w = plates[f].shape[:2]
            kf = self.prompts_at(f, inputs, (w, h))
            if kf:
                prompts.setdefault(index[f], []).extend(kf)
        frames = [plates[f] for f in times]
        if self.node.text:
            prev = {index[f]: m for f, m in shared.items() if f in index}
            got = concept_chunk(self.sam.predictor, frames, self.node.text, prompts, prev, self.ids, self.name,
                                device=self.device, check=self.check)
        else:
            got = track_chunk(self.sam.tracker, frames, prompts, reverse=self.backwards, names=self.name,
                              offload_state=self.node.offload, device=self.device, check=self.check)
        empty = MaskSet(np.zeros((h, w), np.uint16), [])
        return {f: got.get(index[f], empty) for f in chunk}


class SAM3Segment(Node):
    """Segment one frame with SAM 3's image model (Carion et al., 2025; package ``sam3``).

    ``mode`` "concept": ``text`` (e.g. "person in red jacket") finds every instance; the boxes of
    ``prompts`` are visual exemplars of the concept (positive with point label 1, negative with
    0 — a box keyframe's points, if any, give its label), so a single box finds that object and
    things like it. An exemplar belongs to the frame it was drawn on and is used there only (a
    frame with neither text nor an exemplar of its own has no masks). Instances scoring below
    ``threshold`` are dropped; ids 1…N by descending score, named after the text.
    ``mode`` "objects": the points and/or box of each object of a keyframe select that one
    object (SAM 3's instance-interactivity predictor, the SAM 1 task); the keyframe on the frame
    itself is used, else the nearest one before it (else the first). Ids and names are the
    prompts' objects, scores the predicted IoU.

    The image embedding (SAM 3's backbone pass, the bulk of the cost) is computed once per
    frame content, weights and device and reused by every later prompt on that frame
    (:mod:`._sam3_embeddings`, an in-process LRU): a second click costs only the prompt decoder. Runs on CUDA, MPS
    or the CPU (:mod:`._sam3_compat`).

    image: Image H×W×3/4 scene-linear. Output ``masks``: Masks (uint16 labels H×W at the plate's
    size, object table, scores in [0, 1]). Pick objects with MasksToMatte.
    """

    type_id = "rotograph.SAM3Segment"
    version = 3  # 3: exemplar boxes act on the frame they were drawn on only
    category = "Segment"
    resources = {"GPU": 1}

    image = Input(Image)
    mode = Param(str, "concept", choices=("concept", "objects"), doc="concept: every instance; objects: the clicked ones")
    text = Param(str, "", doc="Concept prompt: every instance")
    prompts = Param(Prompts, [], doc="Exemplar boxes (concept) or clicks and boxes per object (objects)",
                    ui={"widget": "prompts"})
    threshold = Param(float, 0.5, range=(0.0, 1.0))
    weights = Param(str, "", doc="HF id or checkpoint; empty: facebook/sam3 ($ROTOGRAPH_SAM3_WEIGHTS); random: tests")
    device = Param(str, "auto", choices=("auto", "cuda", "mps", "cpu"))
    masks = Output(Masks)

    @classmethod
    def upgrade_node(cls, from_version: int, name: str, params: dict):
        if from_version >= 2:  # v2 → v3: same ports and params (new ones take their defaults)
            return Upgrade(params)
        return _matte_to_masks(name, params)  # v1 had a `matte` output choosing `object`

    def check(self) -> None:
        if self.mode == "concept" and not self.text and not any(k["box"] for k in self.prompts):
            raise ParamError(f"node '{self.name}': give a text prompt or an exemplar box")
        if self.mode == "objects" and not self.prompts:
            raise ParamError(f"node '{self.name}': mode 'objects' needs points or a box on a keyframe")

    def _keyframe(self, frame: int) -> int:
        frames = sorted({k["frame"] for k in self.prompts})
        return max((f for f in frames if f <= frame), default=frames[0])

    def _weights(self) -> Weights:
        return resolve_weights(SAM3, self.weights)

    def key_material(self, frame: int):
        key = sam3_key(self._weights(), choose_device(self.device))
        if self.mode == "objects" and self.prompts:
            key["keyframe"] = self._keyframe(frame)  # which clicks this frame uses
        return key

    def compute(self, ctx, image):
        from PIL import Image as PILImage

        weights, device = self._weights(), choose_device(self.device)
        proc = MANAGER.get("sam3:image", weights, device, build_image_model)
        rgb8 = to_display_u8(image)
        h, w = rgb8.shape[:2]
        exemplars = [k for k in self.prompts if k["box"] is not None and k["frame"] == ctx.frame]
        if self.mode == "concept" and not self.text and not exemplars:
            return MaskSet(np.zeros((h, w), np.uint16), [])  # exemplars drawn on other frames only

        def encode():
            with on_device(device):  # an H×W×3 array would be read as (W, 3): a PIL image
                return proc.set_image(PILImage.fromarray(rgb8))

        state = embeddings_of(proc).state(rgb8, encode)
        with _LOCK, on_device(device):  # the processor keeps per-call state on itself
            if self.mode == "objects":
                return self._objects(proc, state, ctx.frame, (h, w))
            return self._concept(proc, state, exemplars, (h, w))

    def _concept(self, proc, state, exemplars: list[dict], shape) -> MaskSet:
        h, w = shape
        proc.set_confidence_threshold(self.threshold)
        if self.text:
            state = proc.set_text_prompt(self.text, state)
        for kf in exemplars:
            x0, y0, x1, y1 = kf["box"]
            label = bool(kf["points"][0][2]) if kf["points"] else True
            state = proc.add_geometric_prompt([(x0 + x1) / 2 / w, (y0 + y1) / 2 / h, (x1 - x0) / w, (y1 - y0) / h],
                                              label, state)
        masks = to_numpy(state.get("masks", np.zeros((0, 1, h, w), bool))).reshape(-1, h, w) > 0.5
        scores = to_numpy(state.get("scores", np.zeros(len(masks)))).reshape(-1)
        order = [int(i) for i in np.argsort(-scores, kind="stable") if scores[i] >= self.threshold]
        labels = np.zeros((h, w), np.uint16)
        objects = []
        for oid, i in enumerate(order, start=1):
            labels[masks[i] & (labels == 0)] = oid
            objects.append(MaskObject(oid, f"{self.text or 'object'} {oid}", float(scores[i])))
        return MaskSet(labels, objects)

    def _objects(self, proc, state, frame: int, shape) -> MaskSet:
        labels = np.zeros(shape, np.uint16)
        objects = []
        for oid, p in sorted(_by_frame(self.prompts)[self._keyframe(frame)].items()):
            kw = {}
            if p["points"]:
                kw["point_coords"] = np.array([[x, y] for x, y, _ in p["points"]], np.float32)
                kw["point_labels"] = np.array([lab for _, _, lab in p["points"]], np.int32)
            if p["box"] is not None:
                kw["box"] = np.array(p["box"], np.float32)
            single = len(p["points"]) == 1 and p["box"] is None  # ambiguous: let SAM offer three masks
            masks, scores, _ = proc.model.predict_inst(state, multimask_output=single, **kw)
            best = int(np.argmax(scores))
            m = np.asarray(masks[best]) > 0.5
            if m.shape != shape:
                raise RotographError(f"SAM3 returned a {m.shape[1]}×{m.shape[0]} mask for a {shape[1]}×{shape[0]} plate")
            labels[m & (labels == 0)] = oid
            if (labels == oid).any():
                objects.append(MaskObject(oid, f"object{oid}", float(np.clip(scores[best], 0.0, 1.0))))
        return MaskSet(labels, objects)


