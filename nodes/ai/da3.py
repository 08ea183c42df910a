"""DA3Depth: Depth Anything 3 — per-frame or windowed depth, confidence and camera."""

from __future__ import annotations

import os

import numpy as np

from rotograph import Camera, CameraData, Depth, DepthMap, Image, Input, Matte, Output, Param, RangeNode, Segment
from rotograph.core.node import Upgrade
from rotograph.errors import ParamError
from rotograph.interop.models import (MANAGER, ModelError, Weights, autocast_dtype, choose_device, model_key, require,
                              resolve_weights)

from ..common._imaging import resize, to_display_float
from .specs import DA3

MODELS = ("da3-small", "da3-base", "da3-large", "da3-giant", "da3metric-large", "da3mono-large")
HF_IDS = {m: "depth-anything/" + m.upper() for m in MODELS}
PATCH = 14
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)


def build_da3(model: str, weights: Weights, device: str):
    """The Depth Anything 3 network (``depth_anything_3.model``), eval mode, on ``device``.

    ``weights``: random initialisation (tests and benchmarks only: its depth means nothing), a
    local checkpoint — ``model.safetensors`` (or a ``.pt`` state dict) or a folder in the Hugging
    Face layout — or a Hugging Face id, downloaded by ``huggingface_hub`` (the published
    ``depth-anything/DA3-*`` repos: ``model.safetensors`` whose keys carry the ``model.`` prefix of
    the package's ``DepthAnything3`` wrapper). Raises :class:`ModelError` when the file is not a
    checkpoint of ``model``. The package's ``api`` module is not used: it imports torchvision and
    moviepy for its input pipeline and exports, which rotograph does itself."""
    require(DA3)
    import torch
    from depth_anything_3.cfg import create_object, load_config
    from depth_anything_3.registry import MODEL_REGISTRY

    net = create_object(load_config(MODEL_REGISTRY[model]))
    if not weights.random:
        path = weights.path(DA3.files[0])
        state = _load_state(path)
        state = {k[len("model."):] if k.startswith("model.") else k: v for k, v in state.items()}
        missing, _ = net.load_state_dict(state, strict=False)
        if len(missing) > len(state) // 2:
            raise ModelError(f"{path}: not a {model} checkpoint ({len(missing)} weights missing)")
    return net.eval().to(torch.device(device))


def _load_state(path: str) -> dict:
    import torch

    if not os.path.isfile(path):
        raise ModelError(f"Depth Anything 3 checkpoint {path!r} not found")
    if path.endswith(".safetensors"):
        from safetensors.torch import load_file

        return load_file(path)
    state = torch.load(path, map_location="cpu", weights_only=True)
    return state["model"] if isinstance(state, dict) and isinstance(state.get("model"), dict) else state


class DA3Depth(RangeNode):
    """Monocular depth, a confidence matte and the camera from Depth Anything 3 (Lin et al.,
    "Depth Anything 3: Recovering the Visual Space from Any Views", 2025; package
    ``depth-anything-3``).

    ``window`` = 1 runs each frame alone; N > 1 runs runs of N frames together (segments of the
    shot), which makes depth and cameras consistent within a window. Frames are converted to sRGB,
    resized so the long side is ``work_size`` (both sides multiples of 14, the ViT patch), and
    ImageNet-normalised; results are resized back to the plate.

    image: Image H×W×3/4 scene-linear. Outputs: ``depth`` — Depth float32 H×W (metric, in metres,
    for ``da3metric-*``; relative otherwise); ``confidence`` — Matte conf/(1+conf) in [0, 1);
    ``camera`` — intrinsics (pixels, at plate size) and world-to-camera extrinsics (OpenCV) of the
    window's first frame's world. ``weights``: "" for the model's Hugging Face id, a local
    checkpoint, or "random" (tests only). ``device``: auto picks CUDA > MPS > CPU.
    """

    type_id = "rotograph.DA3Depth"
    version = 2  # 2: param process_size renamed work_size (docs/naming.md)
    category = "Depth"
    resources = {"GPU": 1}

    image = Input(Image)
    model = Param(str, "da3-large", choices=MODELS)
    weights = Param(str, "", doc="HF id or checkpoint path; empty: the model's HF id ($ROTOGRAPH_DA3_WEIGHTS)")
    device = Param(str, "auto", choices=("auto", "cuda", "mps", "cpu"))
    window = Param(int, 1, range=(1, 64), doc="Frames run together (1: per frame)")
    work_size = Param(int, 504, range=(56, 2016), doc="Long side of the network input (px)")
    depth = Output(Depth)
    confidence = Output(Matte)
    camera = Output(Camera)

    @classmethod
    def upgrade_node(cls, from_version: int, name: str, params: dict) -> Upgrade:
        """Version 1 named ``work_size`` ``process_size``."""
        up = Upgrade(params)
        return up.rename(name, params={"process_size": "work_size"}) if from_version < 2 else up

    def check(self) -> None:
        if self.work_size % PATCH:
            raise ParamError(f"node '{self.name}': param 'work_size': {self.work_size} is not a multiple of {PATCH}")

    def key_material(self, frame: int):
        return model_key(self._weights(), choose_device(self.device))

    def _weights(self) -> Weights:
        return resolve_weights(DA3, self.weights, default=HF_IDS[self.model])

    def segments(self, first: int, last: int) -> list[Segment]:
        return [Segment(tuple(range(s, min(s + self.window, last + 1)))) for s in range(first, last + 1, self.window)]

    def _net(self):
        device = choose_device(self.device)
        weights = self._weights()
        return MANAGER.get(f"da3:{self.model}", weights, device, lambda w, d: build_da3(self.model, w, d)), device

    def _prepare(self, image: np.ndarray) -> np.ndarray:
        h, w = image.shape[:2]
        s = self.work_size / max(h, w)
        size = (max(PATCH, round(w * s / PATCH) * PATCH), max(PATCH, round(h * s / PATCH) * PATCH))
        rgb = resize(to_display_float(image).astype(np.float32), size=size)
        return ((rgb - IMAGENET_MEAN) / IMAGENET_STD).transpose(2, 0, 1)

    def compute_range(self, ctx, segment, pull, resume=None):
        import torch

        net, device = self._net()
        frames = list(segment.frames)
        plates = [pull(f)["image"] for f in frames]
        h, w = plates[0].shape[:2]
        batch = torch.from_numpy(np.stack([self._prepare(p) for p in plates]))[None].to(device)
        dtype = autocast_dtype(device)
        with torch.inference_mode(), torch.autocast(device_type=batch.device.type, dtype=dtype,
                                                    enabled=dtype != torch.float32):
            out = net(batch, None, None, [], False, False, "saddle_balanced")
        depth = out["depth"][0].float().cpu().numpy()
        conf = out["depth_conf"][0].float().cpu().numpy() if "depth_conf" in out else np.ones_like(depth)
        ext = out["extrinsics"][0].float().cpu().numpy() if out.get("extrinsics") is not None else None
        intr = out["intrinsics"][0].float().cpu().numpy() if out.get("intrinsics") is not None else None
        ph, pw = depth.shape[1:]
        scale = np.diag([w / pw, h / ph, 1.0])
        metric = self.model.startswith("da3metric")
        for i, f in enumerate(frames):
            z = resize(depth[i], size=(w, h))
            c = resize(conf[i], size=(w, h))
            e = np.eye(4)
            if ext is not None:
                e[: ext.shape[1], :4] = ext[i]
            k = scale @ intr[i] if intr is not None else np.array([[w, 0, w / 2], [0, w, h / 2], [0, 0, 1.0]])
            yield f, {"depth": DepthMap(z.astype(np.float32), metric, "m" if metric else "relative"),
                      "confidence": (c / (1.0 + np.abs(c))).astype(np.float32),
                      "camera": CameraData(k, e, (w, h))}
