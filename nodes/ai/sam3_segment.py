"""SAM3Segment: one frame segmented with SAM 3's image model — every instance of a concept, or
the objects clicked — with the image embedding kept between prompts (:mod:`._sam3_embeddings`)."""

from __future__ import annotations

import threading

import numpy as np

from rotograph import Image, Input, MaskObject, MaskSet, Masks, Node, Output, Param, Prompts
from rotograph.errors import ParamError, RotographError
from rotograph.interop.models import MANAGER, Weights, resolve_weights

from ..common._imaging import to_display_u8
from ._sam3_compat import on_device
from ._sam3_embeddings import embeddings_of
from ._sam3_models import build_image_model, by_frame, node_device, sam3_key, upgrade_sam3_node
from .specs import SAM3
from ._sam3_video import to_numpy

_LOCK = threading.RLock()  # Sam3Processor and predict_inst keep per-call state on the shared model


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
        return upgrade_sam3_node(from_version, name, params)

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
        key = sam3_key(self._weights(), node_device(self.device))
        if self.mode == "objects" and self.prompts:
            key["keyframe"] = self._keyframe(frame)  # which clicks this frame uses
        return key

    def compute(self, ctx, image):
        from PIL import Image as PILImage

        weights, device = self._weights(), node_device(self.device)
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
        for oid, p in sorted(by_frame(self.prompts)[self._keyframe(frame)].items()):
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
