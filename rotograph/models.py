"""One model manager: optional AI packages, devices, precision and weights, loaded once per process.

Each AI model family is a :class:`ModelSpec` (import name, what to ``pip install``, default
Hugging Face id, environment variable for a local checkpoint). :class:`ModelManager` picks the
device (CUDA > MPS > CPU unless told), the autocast dtype (bf16 where CUDA supports it, fp16 on
MPS, fp32 on CPU), resolves weights (node param > environment variable > HF id; honouring
``HF_HUB_OFFLINE``) and keeps one instance per (model, weights, device) for the whole process —
a module-level manager on purpose: a 3 GB model must not load once per node.
Every failure is a :class:`ModelError` that says exactly what to install or run.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import threading
from dataclasses import dataclass
from typing import Any, Callable

from .errors import RotographError


class ModelError(RotographError):
    """A model cannot be used here: missing package, missing or gated weights, wrong device."""


@dataclass(frozen=True)
class ModelSpec:
    name: str
    module: str
    pip: str
    hf_id: str
    env_var: str
    gated: bool = False


SPECS = {
    "sam3": ModelSpec("SAM 3", "sam3", "pip install sam3", "facebook/sam3", "ROTOGRAPH_SAM3_WEIGHTS",
                      gated=True),
    "da3": ModelSpec("Depth Anything 3", "depth_anything_3",
                     "pip install --no-deps depth-anything-3 (it pins numpy<2 and app-only packages)", "depth-anything/DA3-LARGE",
                     "ROTOGRAPH_DA3_WEIGHTS"),
    "matanyone2": ModelSpec("MatAnyone 2", "matanyone2",
                            "pip install --no-deps matanyone2-runtime (it pins gradio, PySide6, …)",
                            "PeiqingYang/MatAnyone2", "ROTOGRAPH_MATANYONE_WEIGHTS"),
}


def _torch():
    try:
        import torch
    except ImportError:
        raise ModelError("the AI nodes need PyTorch: pip install torch") from None
    return torch


def require(spec: ModelSpec):
    """Import the model's package or say what to install."""
    try:
        return importlib.import_module(spec.module)
    except ImportError as e:
        raise ModelError(f"{spec.name} needs the '{spec.module}' package ({e}): {spec.pip}") from None


def choose_device(preferred: str = "auto") -> str:
    """``auto`` → cuda, else mps, else cpu; an explicit device must exist."""
    torch = _torch()
    cuda = torch.cuda.is_available()
    mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    if preferred == "auto":
        return "cuda" if cuda else "mps" if mps else "cpu"
    if preferred.startswith("cuda") and not cuda:
        raise ModelError(f"device {preferred!r} asked for but no CUDA GPU is visible (torch {torch.__version__}, "
                         f"CUDA build: {torch.version.cuda or 'no'}): use device=auto or cpu")
    if preferred == "mps" and not mps:
        raise ModelError("device 'mps' asked for but Metal is not available: use device=auto or cpu")
    return preferred


def autocast_dtype(device: str):
    torch = _torch()
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device == "mps":
        return torch.float16
    return torch.float32


def resolve_weights(spec: ModelSpec, param: str = "") -> str:
    """A local checkpoint path or a HF id. Offline (``HF_HUB_OFFLINE=1``) an HF id must be in the
    local cache; the error says how to get it."""
    value = param or os.environ.get(spec.env_var, "") or spec.hf_id
    if os.path.exists(os.path.expanduser(value)):
        return os.path.abspath(os.path.expanduser(value))
    if "/" not in value or value.startswith((".", "/", "~")):
        raise ModelError(f"{spec.name} weights {value!r}: no such file, and not a Hugging Face id")
    if os.environ.get("HF_HUB_OFFLINE", "") in ("1", "true", "TRUE", "yes") and not weights_cached(value):
        gated = (f" (gated: accept the licence on huggingface.co/{value} and run `huggingface-cli login` first)"
                 if spec.gated else "")
        raise ModelError(f"{spec.name} weights {value!r} are not in the local Hugging Face cache and "
                         f"HF_HUB_OFFLINE is set: run `huggingface-cli download {value}`{gated} on a machine "
                         f"with access, or point {spec.env_var} (or the node's weights param) at a checkpoint")
    return value


def weights_cached(hf_id: str) -> bool:
    try:
        from huggingface_hub import scan_cache_dir
    except ImportError:
        return False
    try:
        return any(r.repo_id == hf_id for r in scan_cache_dir().repos)
    except Exception:
        return False


class ModelManager:
    """Loads each (model, weights, device) once per process; thread-safe."""

    def __init__(self):
        self._models: dict[tuple, Any] = {}
        self._lock = threading.Lock()

    def get(self, key: str, weights: str, device: str, build: Callable[[str, str], Any]):
        """The model ``key`` with ``weights`` on ``device``, built by ``build(weights, device)``
        the first time."""
        k = (key, weights, device)
        with self._lock:
            if k not in self._models:
                self._models[k] = build(weights, device)
            return self._models[k]

    def loaded(self) -> list[tuple]:
        return list(self._models)

    def clear(self) -> None:
        with self._lock:
            self._models.clear()


MANAGER = ModelManager()


def doctor() -> list[tuple[str, str]]:
    """What ``rotograph doctor`` reports: (item, state) rows."""
    rows = []
    try:
        torch = importlib.import_module("torch")
        rows.append(("torch", f"{torch.__version__} (CUDA build {torch.version.cuda or 'none'})"))
        if torch.cuda.is_available():
            for i in range(torch.cuda.device_count()):
                p = torch.cuda.get_device_properties(i)
                rows.append((f"GPU {i}", f"{p.name}, {p.total_memory / 2**30:.0f} GiB"))
        else:
            rows.append(("GPU", "none visible: AI nodes run on the CPU (SAM3Track needs CUDA: use FlowTrack)"))
    except ImportError:
        rows.append(("torch", "not installed: pip install torch"))
    for key, spec in SPECS.items():
        try:
            version = importlib.metadata.version(spec.module.replace("_", "-"))
        except importlib.metadata.PackageNotFoundError:
            version = None
        rows.append((spec.module, version or f"not installed: {spec.pip}"))
        local = os.environ.get(spec.env_var)
        if local:
            rows.append((f"{key} weights", f"{local} ({'found' if os.path.exists(local) else 'MISSING'})"))
        else:
            rows.append((f"{key} weights", f"{spec.hf_id}: "
                         + ("in the HF cache" if weights_cached(spec.hf_id) else
                            f"not downloaded (huggingface-cli download {spec.hf_id}"
                            + (", gated" if spec.gated else "") + f"; or set {spec.env_var})")))
    return rows
