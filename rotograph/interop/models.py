"""One model manager: optional AI packages, devices, precision and weights, loaded once per process.

Each AI model family is a :class:`ModelSpec` (import name, distribution, what to ``pip install``,
default Hugging Face id and the files a checkpoint holds there, environment variable for a local
checkpoint), registered like a node type (:meth:`rotograph.Registry.add_model`, by the plugin
whose nodes use it; :data:`SPECS` lists what is registered). :func:`choose_device` picks the device (CUDA > MPS > CPU unless told),
:func:`autocast_dtype` the precision (bf16 where CUDA supports it, fp16 on MPS, fp32 on CPU).
:func:`resolve_weights` turns a node's ``weights`` param (> environment variable > HF id) into
:class:`Weights`: ``"random"``, a local file or folder, or a Hugging Face id pinned to one snapshot
revision — what identifies the weights (never their name) goes into cache keys
(:func:`model_key`), with the resolved device and dtype. :class:`ModelManager` keeps one
instance per (model, weights identity, device) for the whole process — a module-level manager on
purpose: a 3 GB model must not load once per node.
Hugging Face downloads go through ``huggingface_hub`` and honour ``HF_HUB_OFFLINE``,
``HF_HOME`` and ``HF_HUB_CACHE`` as set when the weights are resolved.
Every failure is a :class:`ModelError` that says exactly what to install or run.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import json
import os
import threading
from dataclasses import dataclass
from collections.abc import Mapping
from typing import Any, Callable

from ..errors import RotographError


class ModelError(RotographError):
    """A model cannot be used here: missing package, missing or gated weights, wrong device."""


@dataclass(frozen=True)
class ModelSpec:
    """A model family. ``module``: import name; ``dist``: its distribution on PyPI (what
    ``doctor`` looks up); ``files``: the checkpoint's files in its Hugging Face repo."""

    name: str
    module: str
    dist: str
    pip: str
    hf_id: str
    env_var: str
    files: tuple[str, ...]
    gated: bool = False


class _RegisteredModels(Mapping):
    """The model families registered with :meth:`Registry.default() <rotograph.Registry.default>`
    — the built-in nodes' and every plugin's (``registry.add_model``) — by key, read when used."""

    def _table(self) -> dict:
        from ..core.registry import Registry

        return Registry.default().models

    def __getitem__(self, key: str) -> ModelSpec:
        table = self._table()
        if key not in table:
            from ..errors import did_you_mean

            raise ModelError(f"no model '{key}' is registered" + did_you_mean(key, table, n=3))
        return table[key]

    def __iter__(self):
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())


SPECS: Mapping[str, ModelSpec] = _RegisteredModels()


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
    """The torch dtype to autocast to on ``device``: bfloat16 on CUDA where supported (else float16),
    float16 on MPS, float32 on the CPU."""
    torch = _torch()
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device == "mps":
        return torch.float16
    return torch.float32


def visible_gpus() -> list[str]:
    """The CUDA devices this process may hand out, as ``CUDA_VISIBLE_DEVICES`` entries: that
    variable's list when set, else one per GPU the NVIDIA driver lists (``/proc/driver/nvidia``),
    without importing torch."""
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        return [d.strip() for d in env.split(",") if d.strip() and d.strip() != "-1"]
    try:
        return [str(i) for i in range(len(os.listdir("/proc/driver/nvidia/gpus")))]
    except OSError:
        return []


def worker_gpu(gpus: list[str], index: int) -> str:
    """The GPU (a ``CUDA_VISIBLE_DEVICES`` value) of worker ``index``: one each, round robin
    when there are more workers than GPUs."""
    return gpus[index % len(gpus)]


# -- weights ----------------------------------------------------------------------------------
def hf_offline() -> bool:
    """Whether ``HF_HUB_OFFLINE`` is set (read now, not when huggingface_hub was imported)."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in ("1", "ON", "YES", "TRUE")


def hf_cache_dir() -> str:
    """The Hugging Face hub cache as the environment says now: ``HF_HUB_CACHE``, else
    ``HF_HOME``/hub, else huggingface_hub's default."""
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(var):
            return os.path.expanduser(os.environ[var])
    if os.environ.get("HF_HOME"):
        return os.path.join(os.path.expanduser(os.environ["HF_HOME"]), "hub")
    from huggingface_hub import constants

    return constants.HF_HUB_CACHE


def _how_to_get(spec: ModelSpec, repo: str) -> str:
    gated = (f" (gated: accept the licence on huggingface.co/{repo} and run `huggingface-cli login` first)"
             if spec.gated else "")
    return (f"run `huggingface-cli download {repo}`{gated} on a machine with access, or point {spec.env_var} "
            f"(or the node's weights param) at a checkpoint")


def _file_identity(path: str) -> str:
    """``file:<size>:<mtime_ns>`` of a checkpoint file; a folder: a digest of its files' names,
    sizes and mtimes."""
    if os.path.isfile(path):
        st = os.stat(path)
        return f"file:{st.st_size}:{st.st_mtime_ns}"
    rows = []
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for f in sorted(files):
            if not f.startswith("."):
                st = os.stat(os.path.join(root, f))
                rows.append([os.path.relpath(os.path.join(root, f), path), st.st_size, st.st_mtime_ns])
    return "folder:" + hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:32]


_REMOTE_REVISIONS: dict[tuple[str, str], str] = {}


def _hf_revision(spec: ModelSpec, repo: str) -> str:
    """The snapshot revision (commit hash) ``repo`` resolves to: the cached one (``refs/main``),
    else — online — the hub's current one (asked once per process; nothing is downloaded)."""
    from huggingface_hub import try_to_load_from_cache

    cache = hf_cache_dir()
    for name in spec.files:
        found = try_to_load_from_cache(repo, name, cache_dir=cache)
        if isinstance(found, str):
            return found.replace(os.sep, "/").split("/snapshots/", 1)[1].split("/", 1)[0]
    if hf_offline():
        raise ModelError(f"{spec.name} weights {repo!r} are not in the local Hugging Face cache ({cache}) and "
                         f"HF_HUB_OFFLINE is set: {_how_to_get(spec, repo)}")
    if (repo, cache) not in _REMOTE_REVISIONS:
        from huggingface_hub import HfApi
        from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

        try:
            _REMOTE_REVISIONS[(repo, cache)] = HfApi().model_info(repo).sha
        except GatedRepoError:
            raise ModelError(f"{spec.name} weights {repo!r} are gated: {_how_to_get(spec, repo)}") from None
        except RepositoryNotFoundError:
            raise ModelError(f"{spec.name} weights {repo!r}: no such Hugging Face repo (or it is private: "
                             f"run `huggingface-cli login`)") from None
        except Exception as e:  # network down, proxy, …: say how to work offline
            raise ModelError(f"{spec.name} weights {repo!r}: cannot reach the Hugging Face hub ({type(e).__name__}: "
                             f"{e}); {_how_to_get(spec, repo)} and set HF_HUB_OFFLINE=1") from None
    return _REMOTE_REVISIONS[(repo, cache)]


@dataclass(frozen=True)
class Weights:
    """A model's weights: ``source`` is ``"random"`` (random initialisation: tests and
    benchmarks only), a local checkpoint file or folder, or a Hugging Face repo id pinned to
    ``revision``. ``identity`` is what cache keys hold: ``"random"``, ``file:<size>:<mtime_ns>``
    (a folder: a digest of its files' sizes and mtimes) or ``hf:<revision>``."""

    spec: ModelSpec
    source: str
    identity: str
    revision: str | None = None

    @property
    def random(self) -> bool:
        """Whether these are random weights (``weights="random"``: tests)."""
        return self.source == "random"

    def path(self, name: str | None = None) -> str:
        """The local path of checkpoint file ``name`` (or of the checkpoint when ``name`` is
        ``None``). A local file is returned as is; a folder joined with ``name``; a Hugging Face
        id is downloaded at its pinned revision (every file of the spec; offline: from the
        cache only). Raises :class:`ModelError` for gated, missing or unreachable weights."""
        if self.random:
            raise ModelError(f"{self.spec.name}: random weights have no checkpoint file")
        if self.revision is None:
            if os.path.isdir(self.source) and name:
                return os.path.join(self.source, name)
            return self.source
        folder = self._download()
        return os.path.join(folder, name) if name else folder

    def _download(self) -> str:
        from huggingface_hub import hf_hub_download
        from huggingface_hub.errors import (EntryNotFoundError, GatedRepoError, LocalEntryNotFoundError,
                                            RepositoryNotFoundError)

        spec, repo = self.spec, self.source
        paths = []
        for name in spec.files:
            try:
                paths.append(hf_hub_download(repo, name, revision=self.revision, cache_dir=hf_cache_dir(),
                                             local_files_only=hf_offline()))
            except GatedRepoError:
                raise ModelError(f"{spec.name} weights {repo!r} are gated: {_how_to_get(spec, repo)}") from None
            except LocalEntryNotFoundError:
                raise ModelError(f"{spec.name} weights {repo!r}: {name} (revision {self.revision[:12]}) is not in the "
                                 f"local Hugging Face cache and cannot be downloaded here: {_how_to_get(spec, repo)}") from None
            except EntryNotFoundError:
                raise ModelError(f"{spec.name} weights {repo!r} have no file {name!r}: not a {spec.name} "
                                 f"checkpoint repo") from None
            except RepositoryNotFoundError:
                raise ModelError(f"{spec.name} weights {repo!r}: no such Hugging Face repo (or it is private: "
                                 f"run `huggingface-cli login`)") from None
            except OSError as e:
                raise ModelError(f"{spec.name} weights {repo!r}: download failed ({e}); {_how_to_get(spec, repo)}") from None
        return os.path.dirname(paths[0])


def resolve_weights(spec: ModelSpec, param: str = "", default: str | None = None) -> Weights:
    """The weights a node uses: its ``weights`` param, else ``$<spec.env_var>``, else ``default``
    (or the spec's HF id). ``"random"``: random initialisation. A path that exists is a local
    checkpoint; otherwise the value must be a Hugging Face id (``org/name``), resolved to its
    snapshot revision without downloading anything (offline: the cached snapshot, else an error
    saying what to run). Cheap enough for cache keys."""
    value = param or os.environ.get(spec.env_var, "") or default or spec.hf_id
    if value == "random":
        return Weights(spec, "random", "random")
    path = os.path.expanduser(value)
    if os.path.exists(path):
        path = os.path.abspath(path)
        return Weights(spec, path, _file_identity(path))
    if value.count("/") != 1 or value.startswith((".", "/", "~")) or value.endswith("/"):
        raise ModelError(f"{spec.name} weights {value!r}: no such file, and not a Hugging Face id")
    revision = _hf_revision(spec, value)
    return Weights(spec, value, f"hf:{revision}", revision)


def model_key(weights: Weights, device: str, dtype: str | None = None) -> dict:
    """Cache-key material of a model's results: the weights' identity and the resolved device
    and dtype (``dtype``: what the model runs in when it sets it itself; default the autocast
    dtype of :func:`autocast_dtype`) — never the weights' name, never ``"auto"``."""
    dtype = dtype or str(autocast_dtype(device)).removeprefix("torch.")
    return {"weights": weights.identity, "device": device, "dtype": dtype}


def weights_cached(hf_id: str) -> bool:
    """Whether the Hugging Face cache holds a snapshot of ``hf_id`` (False without huggingface_hub)."""
    try:
        from huggingface_hub import scan_cache_dir
    except ImportError:
        return False
    try:
        return any(r.repo_id == hf_id for r in scan_cache_dir(hf_cache_dir()).repos)
    except Exception:
        return False


class ModelManager:
    """Loads each (model, weights identity, device) once per process; thread-safe."""

    def __init__(self):
        self._models: dict[tuple, Any] = {}
        self._lock = threading.Lock()

    def get(self, key: str, weights: Weights, device: str, build: Callable[[Weights, str], Any]):
        """The model ``key`` with ``weights`` on ``device``, built by ``build(weights, device)``
        the first time. Instances are kept per weights *identity*: a checkpoint replaced on disk
        (new size or mtime) or a new HF revision loads anew."""
        k = (key, weights.identity, device)
        with self._lock:
            if k not in self._models:
                self._models[k] = build(weights, device)
            return self._models[k]

    def loaded(self) -> list[tuple]:
        """The (model key, weights identity, device) of every model instance held."""
        return list(self._models)

    def clear(self) -> None:
        """Drop every model instance (their memory is freed when nothing else holds them)."""
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
            rows.append(("GPU", "none visible: AI nodes run on the CPU (slow for SAM 3: FlowTrack tracks fast on the CPU)"))
    except ImportError:
        rows.append(("torch", "not installed: pip install torch"))
    for key, spec in SPECS.items():
        try:
            version = importlib.metadata.version(spec.dist)
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
