"""SAM3Track: objects or a text concept tracked through a shot with SAM 3, in chunks of bounded
memory. How it drives SAM 3's two video APIs is in :mod:`._sam3_video`; the models, their key
and device are in :mod:`._sam3_models`."""

from __future__ import annotations

import importlib.util

import numpy as np

from rotograph import Image, Input, MaskSet, Masks, Output, Param, Prompts, RangeNode, Reach, Segment
from rotograph.errors import ParamError, RotographError
from rotograph.interop.models import MANAGER, ModelError, Weights, resolve_weights

from ..common._imaging import to_display_u8
from ._sam3_models import build_video_model, by_frame, node_device, sam3_key, upgrade_sam3_node
from .specs import SAM3
from ._sam3_video import ConceptSession, ObjectPrompt, VideoModel, concept_chunk, track_chunk


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
    seed's, which may hold one frame). Both modes run on CUDA, MPS or the CPU (``device``;
    ``auto`` picks the best present): :mod:`._sam3_compat` redirects sam3's CUDA-only code
    (concept mode included: off CUDA sam3 labels the detector's masks with scikit-image, which
    the ``[sam3]`` extra installs, and a frame without a new detection is answered by the
    compatibility module). The CPU is slow (tens of seconds a frame at 1008 px): for long shots
    use a GPU, or FlowTrack.
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
        up = upgrade_sam3_node(from_version, name, params)
        return up.rename(name, inputs={"seed": "masks_seed"}) if from_version < 4 else up

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
            device = node_device(self.device)
        except ModelError as e:
            raise ParamError(f"node '{self.name}': {e}") from None
        if self.text and not device.startswith("cuda") and importlib.util.find_spec("skimage") is None:
            raise ParamError(f"node '{self.name}': a text concept off CUDA (here {device}) needs scikit-image: sam3 "
                             f"labels the detector's masks with it there but does not declare it: "
                             f"pip install 'rotograph[sam3]' (or scikit-image)")

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
        return sam3_key(self._weights(), node_device(self.device))

    # -- running ------------------------------------------------------------------------------
    def compute_range(self, ctx, segment, pull, resume=None):
        clip = list(segment.run)  # a backward run starts on its lead: the first keyframe
        backwards = segment.direction < 0
        sam = MANAGER.get("sam3:video", self._weights(), node_device(self.device), build_video_model)
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
        self.device = node_device(node.device)
        self.by_frame = by_frame(node.prompts)
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
