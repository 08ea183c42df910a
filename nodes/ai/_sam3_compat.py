"""SAM 3 off CUDA: the ``sam3`` package's CUDA-only points redirected to the node's device.

``sam3`` (checked: :data:`CHECKED_VERSIONS`) hard-codes CUDA in a handful of places
(:data:`REDIRECTS` lists each with the source line it covers; ``tests/test_sam3_real.py`` fails
when an installed ``sam3`` no longer has that line, so an upgrade is a conscious act). Nothing of
sam3 is copied or edited: :func:`on_device` runs sam3 calls under a
:class:`torch.overrides.TorchFunctionMode` that, for a target device other than CUDA,

- turns ``Tensor.cuda()`` (and so ``Module.cuda()``, which calls it per tensor) into ``.to(device)``,
- makes ``Tensor.pin_memory()`` a no-op (pinned memory needs a CUDA driver),
- rewrites a ``device`` argument naming CUDA — ``torch.zeros(..., device="cuda")``,
  ``.to("cuda")``, ``.to(device=torch.device("cuda"))`` — to the target device,
- keeps the detector's SAM 2 backbone features in float32 where the video model casts them to
  bfloat16 "for all-gather" (on CUDA a no-op under its bf16 autocast; off CUDA autocast is off,
  and the bfloat16 features then meet the tracker's float32 convolutions, which the CPU
  rejects). The tracker's own bfloat16 memory storage is kept as upstream has it (it runs).

and :func:`install` replaces ``Sam3VideoPredictor._get_torch_and_gpu_properties`` (a logging probe
that queries the CUDA device even off CUDA) by one that asks CUDA only when it is there, and wraps
``sam3.perflib.connected_components.connected_components_cpu`` (the CPU path of the detector's
hole filling, which concept tracking runs on every frame; on CUDA, cc_torch or Triton answer) so
that a batch of no masks — a frame where the detector found nothing new — gets the empty labels
and counts a batch of no masks has, where upstream's ``torch.stack`` of an empty list raises; any
other batch goes to upstream's own function unchanged (it labels with scikit-image, which sam3
imports there but does not declare: the ``[sam3]`` extra declares it).
On CUDA nothing is redirected: :func:`on_device` is a plain context there.

The mode is entered around each call into sam3 and left before control returns to the caller
(:func:`iterate` does this for sam3's generators), so it never leaks into other code; modes are
per thread.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import inspect
from dataclasses import dataclass

CHECKED_VERSIONS = ("0.1.4",)


@dataclass(frozen=True)
class Redirect:
    """One CUDA-only point of sam3: ``where`` (module:qualified name), ``line`` (the stripped
    source line it covers, as in the checked versions) and ``how`` it is redirected."""

    where: str
    line: str
    how: str

    def source(self) -> str:
        """The current source of ``where`` in the installed sam3."""
        import importlib

        module, qual = self.where.split(":")
        obj = importlib.import_module(module)
        for part in qual.split("."):
            obj = getattr(obj, part)
        return inspect.getsource(obj)


REDIRECTS = (
    Redirect("sam3.model.position_encoding:PositionEmbeddingSine.__init__",
             'tensors = torch.zeros((1, 1) + size, device="cuda")', "device argument"),
    Redirect("sam3.model.decoder:TransformerDecoder.__init__",
             'feat_size, feat_size, device="cuda"', "device argument"),
    Redirect("sam3.model.sam3_tracker_base:Sam3TrackerBase._prepare_memory_conditioned_features",
             'feats = prev["maskmem_features"].cuda(non_blocking=True)', "Tensor.cuda"),
    Redirect("sam3.model.sam3_tracker_base:Sam3TrackerBase._prepare_memory_conditioned_features",
             'maskmem_enc = prev["maskmem_pos_enc"][-1].cuda()', "Tensor.cuda"),
    Redirect("sam3.model.sam3_tracker_base:Sam3TrackerBase._get_tpos_enc",
             "torch.tensor(rel_pos_list).pin_memory().to(device=device, non_blocking=True)", "pin_memory"),
    Redirect("sam3.model.sam3_tracking_predictor:Sam3TrackerPredictor.add_new_points_or_box",
             'prev_sam_mask_logits = prev_out["pred_masks"].cuda(non_blocking=True)', "Tensor.cuda"),
    Redirect("sam3.model.sam3_tracking_predictor:Sam3TrackerPredictor._get_image_feature",
             'image = inference_state["images"][frame_idx].cuda().float().unsqueeze(0)', "Tensor.cuda"),
    Redirect("sam3.model.sam3_tracking_predictor:Sam3TrackerPredictor.init_state",
             'inference_state["storage_device"] = torch.device("cuda")', "device argument (of the .to() that uses it)"),
    Redirect("sam3.model.sam3_image:Sam3ImageOnVideoMultiGPU._build_multigpu_buffer_next_chunk",
             'backbone_fpn_bf16 = [x.to(torch.bfloat16) for x in feats["backbone_fpn"]]', "bfloat16 cast kept float32"),
    Redirect("sam3.model.sam3_video_inference:Sam3VideoInference._postprocess_output",
             "keep_idx_gpu = keep_idx.pin_memory().to(", "pin_memory"),
    Redirect("sam3.model.geometry_encoders:SequenceGeometryEncoder._encode_boxes",
             "scale = scale.pin_memory().to(device=boxes_xyxy.device, non_blocking=True)", "pin_memory"),
    Redirect("sam3.model_builder:_setup_device_and_mode", "model = model.cuda()", "Module.cuda (not reached off CUDA)"),
    Redirect("sam3.model.sam3_video_predictor:Sam3VideoPredictor._get_torch_and_gpu_properties",
             "f\"GPU device: {torch.cuda.get_device_properties(torch.cuda.current_device())}\"", "method replaced"),
    Redirect("sam3.perflib.connected_components:connected_components_cpu",
             "labels_tensor = torch.stack(labels_list, dim=0).to(input_tensor.device)",
             "function wrapped: a batch of no masks answered empty"),
)


def sam3_version() -> str | None:
    try:
        return importlib.metadata.version("sam3")
    except importlib.metadata.PackageNotFoundError:
        return None


def _is_cuda(value) -> bool:
    import torch

    if isinstance(value, torch.device):
        return value.type == "cuda"
    return isinstance(value, str) and (value == "cuda" or value.startswith("cuda:"))


def _mode_class():
    import torch
    from torch.overrides import TorchFunctionMode

    class OnDevice(TorchFunctionMode):
        """Redirects sam3's CUDA-only tensor calls to ``device`` (see the module docstring)."""

        def __init__(self, device):
            super().__init__()
            self.device = torch.device(device)

        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = dict(kwargs or {})
            if func is torch.Tensor.cuda:
                return args[0].to(self.device, non_blocking=bool(kwargs.get("non_blocking", False)))
            if func is torch.Tensor.pin_memory:
                return args[0]
            if func is torch.Tensor.to:
                if len(args) > 1 and args[1] is torch.bfloat16 and _called_from(_GATHER):
                    return args[0]
                args = tuple(self.device if _is_cuda(a) else a for a in args)
            if _is_cuda(kwargs.get("device")):
                kwargs["device"] = self.device
            return func(*args, **kwargs)

    return OnDevice


_GATHER = "_build_multigpu_buffer_next_chunk"  # the one bfloat16 cast kept in float32


def _called_from(name: str) -> bool:
    """Whether the Python code that made the intercepted call is sam3's function ``name`` (or a
    comprehension inside it)."""
    import sys

    frame = sys._getframe(2)  # _called_from ← __torch_function__ ← the caller (the mode is entered from C)
    for _ in range(2):
        if frame is None:
            return False
        if frame.f_code.co_name == name and "sam3" in frame.f_code.co_filename:
            return True
        frame = frame.f_back
    return False


_MODE = None


def on_device(device: str):
    """A context that runs sam3 calls on ``device`` ("cpu", "mps", "cuda", "cuda:N"): a plain
    context on CUDA, the redirecting mode elsewhere."""
    global _MODE
    if _is_cuda(device):
        return contextlib.nullcontext()
    install()
    if _MODE is None:
        _MODE = _mode_class()
    return _MODE(device)


def iterate(gen, device: str, check=None):
    """Iterate a sam3 generator with :func:`on_device` entered around each step only;
    ``check()`` (a cancellation point, ``Context.check``) before each step."""
    it = iter(gen)
    while True:
        if check is not None:
            check()
        with on_device(device):
            try:
                item = next(it)
            except StopIteration:
                return
        yield item


_INSTALLED = False


def install() -> None:
    """Check that the installed sam3 is one of :data:`CHECKED_VERSIONS` (else
    :class:`~rotograph.interop.models.ModelError`: the redirections were checked against those only),
    then replace sam3's GPU-properties logging probe by one that asks CUDA only when present
    (it is evaluated eagerly in a debug log line of every ``start_session``) and wrap its CPU
    connected components so that a batch of no masks is answered (idempotent)."""
    global _INSTALLED
    if _INSTALLED:
        return
    version = sam3_version()
    if version is not None and version not in CHECKED_VERSIONS:
        from rotograph.interop.models import ModelError

        raise ModelError(f"sam3 {version} off CUDA: rotograph's compatibility module was checked against sam3 "
                         f"{', '.join(CHECKED_VERSIONS)} only: pip install 'sam3=={CHECKED_VERSIONS[-1]}', or use a CUDA GPU")
    import torch
    from sam3.model.sam3_video_predictor import Sam3VideoPredictor

    original = Sam3VideoPredictor._get_torch_and_gpu_properties

    def properties(self):
        if torch.cuda.is_available():
            return original(self)
        return f"torch: {torch.__version__}, no CUDA device"

    Sam3VideoPredictor._get_torch_and_gpu_properties = properties
    import sam3.perflib.connected_components as cc

    cc.connected_components_cpu = _empty_batch_answered(cc.connected_components_cpu)
    _INSTALLED = True


def _empty_batch_answered(original):
    """``original`` (sam3's ``connected_components_cpu``: labels and component sizes of a
    B×H×W or B×1×H×W batch of masks), answering a batch of no masks (B = 0) with empty int64
    labels and counts of the input's shape (upstream stacks an empty list there and raises)."""
    import torch

    def connected_components_cpu(input_tensor):
        if input_tensor.shape[0] == 0:
            empty = torch.zeros(input_tensor.shape, dtype=torch.int64, device=input_tensor.device)
            return empty, empty.clone()
        return original(input_tensor)

    connected_components_cpu.__wrapped__ = original
    return connected_components_cpu
