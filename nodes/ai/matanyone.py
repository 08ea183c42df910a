"""MatAnyoneRefine: video matting from a first-frame mask or tracked masks with MatAnyone 2."""

from __future__ import annotations

import json
import os
import sys
import types

import cv2
import numpy as np

from rotograph import Image, Input, Masks, Matte, Output, Param, RangeNode, Reach, Segment
from rotograph.core.node import Upgrade
from rotograph.errors import RotographError
from rotograph.interop.models import (MANAGER, ModelError, Weights, autocast_dtype, choose_device, model_key, require,
                              resolve_weights)

from ..common._imaging import dilate_mask, erode_mask, resize, to_display_float
from .specs import MATANYONE2

class _NoTorchvision(types.ModuleType):
    """Stands in for torchvision where no build matches the installed torch (CPU-only machines):
    matanyone2 imports it only for its own video reading, which rotograph does not use."""

    def __getattr__(self, name):
        if name.startswith("__"):  # introspection (__file__, __path__, …): a plain missing attribute
            raise AttributeError(name)
        raise ImportError(f"torchvision.{name} is not available here (no build for this torch); "
                          f"rotograph reads frames itself")


def _import_matanyone():
    require(MATANYONE2)
    try:
        import torchvision  # noqa: F401
    except ImportError:
        sys.modules.setdefault("torchvision", _NoTorchvision("torchvision"))
    from matanyone2.inference.inference_core import InferenceCore
    from matanyone2.model.matanyone2 import MatAnyone2

    return MatAnyone2, InferenceCore


def _config():
    from hydra import compose, initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    with initialize_config_module(version_base="1.3.2", config_module="matanyone2.config"):
        return compose(config_name="eval_matanyone_config")


def build_matanyone(weights: Weights, device: str):
    """The MatAnyone 2 network, eval mode, on ``device``.

    ``weights``: random initialisation (tests and benchmarks only; no ImageNet ResNet download),
    a checkpoint in the Hugging Face layout (``config.json`` + ``model.safetensors``, as
    ``MatAnyone2.save_pretrained`` writes and ``PeiqingYang/MatAnyone2`` publishes: a folder, or the
    HF id downloaded by ``huggingface_hub``), or a ``.pth`` state dict (the GitHub release's
    ``matanyone2.pth``). A checkpoint for the other object mode goes through upstream's
    ``MatAnyone2.load_weights``, which converts it. Raises :class:`ModelError` when the file is
    not a MatAnyone 2 checkpoint."""
    import torch
    from omegaconf import OmegaConf, open_dict

    MatAnyone2, _ = _import_matanyone()
    cfg, single_object, state = _config(), True, None
    if not weights.random:
        path = weights.path()
        try:
            if os.path.isdir(path):
                with open(os.path.join(path, "config.json")) as f:
                    saved = json.load(f)
                cfg = OmegaConf.create(saved["cfg"]) if "cfg" in saved else cfg
                single_object = bool(saved.get("single_object", True))
                from safetensors.torch import load_file

                state = load_file(os.path.join(path, "model.safetensors"))
            else:
                state = torch.load(path, map_location="cpu", weights_only=True)
        except (OSError, ValueError, KeyError, RuntimeError) as e:
            raise ModelError(f"cannot read MatAnyone 2 weights {weights.source!r}: {type(e).__name__}: {e}") from None
    with open_dict(cfg):
        cfg.model.pretrained_resnet = False  # the checkpoint (or random init) sets every weight
    net = MatAnyone2(cfg, single_object=single_object)
    if state is not None:
        own = net.state_dict()
        missing = set(own) - set(state)
        if len(missing) > len(own) // 2:
            raise ModelError(f"{weights.source}: not a MatAnyone 2 checkpoint ({len(missing)} weights missing)")
        if all(k in own and own[k].shape == v.shape for k, v in state.items()):
            net.load_state_dict(state, strict=False)
        else:  # upstream's loader converts single- ↔ multi-object checkpoints (slowly: seconds on a CPU)
            net.load_weights(state)
    return net.eval().to(torch.device(device))


class MatAnyoneRefine(RangeNode):
    """Video matting: a rough mask in, a soft alpha out — hair, motion blur, transparency —
    with MatAnyone 2 (Yang et al., "MatAnyone: Stable Video Matting with Consistent Memory
    Propagation", CVPR 2025; package ``matanyone2-runtime``).

    The first frame's mask (``matte``, or object ``object`` of ``masks``; ``erode`` then ``dilate``
    pixels) seeds the memory, refined over ``warmup`` iterations on that frame; later frames are
    matted from memory. Where a per-frame mask is connected and the matte drifts from it
    (IoU < ``reanchor_iou``), the mask re-anchors the memory on that frame. Work runs at most
    ``work_size`` px on the long side; alpha is upsampled to the plate.

    image: Image H×W×3/4 scene-linear. Outputs ``matte`` (alpha, float32 H×W in [0, 1]) and
    ``foreground`` (Image H×W×4: the plate's RGB with the alpha, straight).
    """

    type_id = "rotograph.MatAnyoneRefine"
    version = 2  # 2: param max_size renamed work_size, output refined renamed matte (docs/naming.md)
    category = "Matte"
    resources = {"GPU": 1}

    image = Input(Image)
    matte = Input(Matte, optional=True, doc="First-frame or per-frame mask")
    masks = Input(Masks, optional=True, doc="Tracked masks (e.g. SAM3Track's); see object")
    object = Param(int, 0, range=(0, 65535), doc="Object of masks to matte; 0: all")
    warmup = Param(int, 10, range=(0, 100))
    erode = Param(int, 0, range=(0, 100))
    dilate = Param(int, 0, range=(0, 100))
    reanchor_iou = Param(float, 0.0, range=(0.0, 1.0), doc="Re-anchor below this IoU with the mask (0: never)")
    work_size = Param(int, 1024, range=(128, 8192), doc="Long side of the network input (px)")
    weights = Param(str, "", doc="HF id or checkpoint; empty: PeiqingYang/MatAnyone2 ($ROTOGRAPH_MATANYONE_WEIGHTS)")
    device = Param(str, "auto", choices=("auto", "cuda", "mps", "cpu"))
    matte_result = Output(Matte, name="matte")
    foreground = Output(Image)

    @classmethod
    def upgrade_node(cls, from_version: int, name: str, params: dict) -> Upgrade:
        """Version 1 named ``work_size`` ``max_size`` and the ``matte`` output ``refined``."""
        up = Upgrade(params)
        return up.rename(name, params={"max_size": "work_size"}, outputs={"refined": "matte"}) if from_version < 2 else up

    def segments(self, first: int, last: int) -> list[Segment]:
        return [Segment(tuple(range(first, last + 1)))]

    def reach(self) -> Reach:
        return Reach(causal=True)  # recurrent memory: frame f has seen the frames before it only

    def key_material(self, frame: int):
        return model_key(self._weights(), choose_device(self.device))

    def _weights(self) -> Weights:
        return resolve_weights(MATANYONE2, self.weights)

    def _mask(self, inputs) -> np.ndarray | None:
        if inputs.get("matte") is not None:
            return inputs["matte"] > 0.5
        if inputs.get("masks") is not None:
            return inputs["masks"].matte(self.object or None) > 0.5
        return None

    def compute_range(self, ctx, segment, pull, resume=None):
        import torch

        device = choose_device(self.device)
        net = MANAGER.get("matanyone2", self._weights(), device, build_matanyone)
        _, InferenceCore = _import_matanyone()
        core = InferenceCore(net, cfg=net.cfg, device=device)
        dtype = autocast_dtype(device)
        for i, f in enumerate(segment.frames):
            inputs = pull(f)
            plate = inputs["image"]
            h, w = plate.shape[:2]
            s = min(1.0, self.work_size / max(h, w))
            size = (max(16, round(w * s / 16) * 16), max(16, round(h * s / 16) * 16))
            img = torch.from_numpy(resize(to_display_float(plate).astype(np.float32), size=size).transpose(2, 0, 1))
            img = img.to(device)
            mask = self._mask(inputs)
            with torch.inference_mode(), torch.autocast(device_type=img.device.type, dtype=dtype,
                                                        enabled=dtype != torch.float32):
                if i == 0:
                    if mask is None:
                        raise RotographError("connect a matte or masks: the first frame needs a mask")
                    seed = dilate_mask(erode_mask(mask, self.erode), self.dilate)
                    m = torch.from_numpy(resize(seed.astype(np.float32), size=size, interpolation=cv2.INTER_NEAREST))
                    out = core.step(img, m.to(device), objects=[1])
                    for _ in range(self.warmup):
                        ctx.check()  # a cancelled evaluation stops between model steps
                        out = core.step(img, first_frame_pred=True)
                else:
                    out = core.step(img)
                    ctx.check()
                    alpha_small = np.nan_to_num(out[-1].float().cpu().numpy())
                    if mask is not None and self.reanchor_iou > 0:
                        seen = resize(mask.astype(np.float32), size=size, interpolation=cv2.INTER_NEAREST) > 0.5
                        a = alpha_small > 0.5
                        iou = (a & seen).sum() / max(1, (a | seen).sum())
                        if iou < self.reanchor_iou:
                            out = core.step(img, torch.from_numpy(seen.astype(np.float32)).to(device), objects=[1])
            alpha = np.clip(np.nan_to_num(out[-1].float().cpu().numpy()), 0.0, 1.0)
            alpha = np.clip(resize(alpha.astype(np.float32), size=(w, h), interpolation=cv2.INTER_LINEAR), 0, 1)
            yield f, {"matte": alpha.astype(np.float32),
                      "foreground": np.dstack([plate[..., :3], alpha]).astype(np.float32)}
