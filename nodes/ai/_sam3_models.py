"""SAM 3's models for SAM3Segment and SAM3Track: building them from the ``sam3`` package, the
device they run on, their cache key, and the prompt helpers both nodes share.

Models come from the ``sam3`` package (Carion et al., "SAM 3: Segment Anything with Concepts",
2025): :func:`build_video_model` and :func:`build_image_model` build them with
``load_from_HF=False`` and the checkpoint rotograph resolved (``facebook/sam3``'s ``sam3.pt``, a
local file, or random initialisation).
"""

from __future__ import annotations

import os

from rotograph.interop.models import ModelError, Weights, choose_device, model_key, require
from rotograph.core.node import Upgrade

from ._sam3_compat import on_device
from ._sam3_video import VideoModel
from ..matte.masks import matte_became_masks
from .specs import SAM3

BPE_NAME = "bpe_simple_vocab_16e6.txt.gz"
SAM3_DTYPE = "bfloat16"  # SAM 3 runs its networks under bf16 autocast on CUDA, whatever the caller does


def node_device(preferred: str) -> str:
    """The device a SAM 3 node runs on: ``preferred`` ("auto": CUDA, else MPS, else the CPU) resolved
    by :func:`rotograph.interop.models.choose_device` (looked up here at call time: tests replace it)."""
    return choose_device(preferred)


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


# sam3 leaves these two text-encoder parameters as ``torch.empty`` (a checkpoint sets them): with
# random weights they would hold whatever memory was there, NaN at times. name suffix → std of the
# seeded normal they get, as OpenCLIP initialises them (sam3.model.text_encoder_ve.TextTransformer)
_UNSET_PARAMS = {"language_backbone.encoder.positional_embedding": lambda p: 0.01,
                 "language_backbone.encoder.text_projection": lambda p: p.shape[0] ** -0.5}


def _fill_unset(model, weights: Weights):
    """Random weights: give the parameters sam3 leaves uninitialised seeded values (a
    deterministic random model, no NaN from stale memory); a checkpoint sets them itself."""
    import torch

    if not weights.random:
        return model
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, p in model.named_parameters():
            std = next((f(p) for suffix, f in _UNSET_PARAMS.items() if name.endswith(suffix)), None)
            if std is not None:
                p.copy_(torch.randn(p.shape, generator=gen).mul_(std))
    return model


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
    _fill_unset(model, weights)
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
        _fill_unset(model, weights)
        return Sam3Processor(model, device=device)


def by_frame(prompts: list[dict]) -> dict[int, dict[int, dict]]:
    """frame → object → {"points": [[x, y, label], …], "box": […] | None} (entries of one object
    on one frame merged)."""
    out: dict[int, dict[int, dict]] = {}
    for kf in prompts:
        slot = out.setdefault(kf["frame"], {}).setdefault(kf["object"], {"points": [], "box": None})
        slot["points"] += kf["points"]
        slot["box"] = slot["box"] or kf["box"]
    return out


def upgrade_sam3_node(from_version: int, name: str, params: dict):
    """Both SAM 3 nodes' upgrade: v2 → v3 keeps ports and params (new ones take their defaults);
    v1 had a ``matte`` output choosing ``object``: it becomes a MasksToMatte."""
    if from_version >= 2:
        return Upgrade(params)
    obj = params.pop("object", 0)
    return matte_became_masks(name, params, str(obj) if obj else "")
