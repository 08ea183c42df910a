"""The real ``sam3`` package on the CPU, random weights, made cheap enough for ``make test``
without changing what is compared:

- :func:`cheap_trunk` swaps only SAM 3's 1008-px ViT image trunk (32 blocks, ~40 s a frame on a
  CPU) for :class:`CheapTrunk`, which has the real trunk's output shapes (one 1×1024×72×72
  feature map, ``channel_list`` [1024]); the necks, text encoder, detector, decoders, tracker and
  memory are sam3's own.
- :func:`fast_random_init` fills the random weights while sam3's builders run from two seeded
  buffers instead of torch's per-tensor random draws (``uniform_``/``normal_`` on ~400 M
  parameters: ~10 s of a build on 2 cores), with the bounds and standard deviations each init
  asks for: the same kind of random model, deterministic, in a second.
- :func:`memo_backbone` remembers the image backbone's outputs by the exact bytes of its input
  tensor: the node and upstream's own calls on the same frame then pay for one neck pass (~8 s
  at 1008 px on 2 cores) instead of one each. It can only return what the backbone computed for
  the very same input, so a node that prepared its frames differently from upstream would still
  get its own features (and a different mask).
"""

from __future__ import annotations

import contextlib
import hashlib

import torch


class CheapTrunk(torch.nn.Module):
    """Stands in for ``sam3.model.vitdet.ViT`` (img_size 1008, patch 14, embed_dim 1024): the
    image averaged over 14×14 patches, then a seeded random 1×1 convolution to 1024 channels and
    a GELU — B×3×1008×1008 → [B×1024×72×72], colour-dependent features in a few milliseconds."""

    channel_list = [1024]

    def __init__(self, seed: int = 0):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.proj = torch.nn.Conv2d(3, 1024, 1)
        with torch.no_grad():
            self.proj.weight.copy_(torch.randn(1024, 3, 1, 1, generator=gen))
            self.proj.bias.copy_(torch.randn(1024, generator=gen) * 0.1)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [torch.nn.functional.gelu(self.proj(torch.nn.functional.avg_pool2d(x, 14)))]


@contextlib.contextmanager
def cheap_trunk(seed: int = 0):
    """While entered, sam3's builders build :class:`CheapTrunk` instead of the ViT."""
    import sam3.model_builder as mb

    original = mb._create_vit_backbone
    mb._create_vit_backbone = lambda compile_mode=None: CheapTrunk(seed)
    try:
        yield
    finally:
        mb._create_vit_backbone = original


@contextlib.contextmanager
def fast_random_init(seed: int = 0, period: int = 1 << 22):
    """While entered, ``Tensor.uniform_(a, b)`` and ``Tensor.normal_(mean, std)`` — what every
    ``torch.nn.init`` function and timm's ``trunc_normal_`` end in — copy from one seeded buffer
    of ``period`` uniform and one of normal draws (tiled, each call starting at a new offset),
    scaled to the asked bounds / moments."""
    gen = torch.Generator().manual_seed(seed)
    symmetric = torch.rand(period, generator=gen).mul_(2).sub_(1)  # U[-1, 1)
    normal = torch.randn(period, generator=gen)
    calls = [0]
    saved = torch.Tensor.uniform_, torch.Tensor.normal_

    def fill(t: torch.Tensor, buf: torch.Tensor, scale: float, shift: float) -> torch.Tensor:
        calls[0] += 1
        start = (calls[0] * 2654435761) % period
        flat = t.view(-1) if t.is_contiguous() else torch.empty(t.numel(), dtype=t.dtype)
        done = 0
        with torch.no_grad():
            while done < flat.numel():  # one pass over the tensor: buffer × scale (+ shift)
                part = buf[start:start + flat.numel() - done]
                torch.mul(part, scale, out=flat[done:done + part.numel()])
                done += part.numel()
                start = 0
            if shift:
                flat.add_(shift)
            if flat.data_ptr() != t.data_ptr():
                t.copy_(flat.view_as(t))
        return t

    def uniform_(self, a=0.0, b=1.0, *, generator=None):
        return fill(self, symmetric, (b - a) / 2, (a + b) / 2)

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        return fill(self, normal, std, mean)

    torch.Tensor.uniform_, torch.Tensor.normal_ = uniform_, normal_
    try:
        yield
    finally:
        torch.Tensor.uniform_, torch.Tensor.normal_ = saved


def memo_backbone(backbone) -> None:
    """Make ``backbone.forward_image`` (sam3's ``SAM3VLBackbone``, shared by the image model,
    the detector and the tracker) remember its outputs by the SHA-1 of its input tensor's bytes,
    shape and dtype; each caller gets its own containers and tensor copies."""
    original = backbone.forward_image
    memo: dict[str, object] = {}

    def copied(value):
        if isinstance(value, torch.Tensor):
            return value.clone()
        if isinstance(value, dict):
            return {k: copied(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(copied(v) for v in value)
        return value

    def forward_image(samples: torch.Tensor):
        h = hashlib.sha1(samples.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
        h.update(repr((tuple(samples.shape), samples.dtype)).encode())
        key = h.hexdigest()
        if key in memo:
            backbone.memo_hits += 1
        else:
            memo[key] = original(samples)
        return copied(memo[key])

    backbone.memo_hits, backbone.memo = 0, memo
    backbone.forward_image = forward_image


def shift_concept_masks(model, logit: float = 1.2) -> None:
    """Random weights put every mask logit of SAM 3's detector below 0 (no pixel in any
    instance's mask: a comparison of empty masks). Turn channel 0 of the segmentation head's
    instance embedding into a constant 1 and make every query's channel-0 embedding ``logit``:
    each mask logit is raised by ``logit`` minus its old channel-0 term, and instances get partial
    masks (4-15 % of the test plate) that depend on the image, the prompt and the query."""
    seg = model.segmentation_head
    with torch.no_grad():
        seg.instance_seg_head.weight[0].zero_()
        seg.instance_seg_head.bias[0] = 1.0
        last = seg.mask_predictor.mask_embed.layers[-1]
        last.weight[0].zero_()
        last.bias[0] = logit


def release_memory() -> None:
    """Collect the model just let go (memo_backbone's closure makes a reference cycle through it)
    and hand the freed heap back to the OS (glibc keeps it otherwise: the next model's peak would
    stack on this one's)."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def raise_concept_scores(detector, calibrate, passing: int = 3, gain: float = 40.0, presence: float = 3.0,
                         seed: int = 0) -> None:
    """Random weights score every query of SAM 3's detector alike (a concept nowhere: the request
    API tracks nothing), and a uniform raise makes all 200 queries detections (its mask NMS then
    asks for 200²×H×W bytes, ~26 GB). Make a few queries — those the decoder sets apart along
    one seeded random direction — detections: ``calibrate()`` runs the detector once (the
    plate and text of the comparison); the presence head's logit becomes ``presence`` and
    channel 0 of the dot-product score becomes ``gain`` × (the query's last-layer output along a
    seeded direction orthogonal to the queries' mean there − a threshold halfway between the
    ``passing``-th and next query's value) + 2 (logit), so about ``passing`` queries clear the
    detection thresholds on that frame, and more or fewer elsewhere as the image moves them.
    The weights stay fixed afterwards: the node and upstream's calls see one model."""
    seen: list[torch.Tensor] = []
    scoring = detector.dot_prod_scoring
    hook = scoring.register_forward_hook(lambda mod, args, out: seen.append(args[0][-1].detach().float().flatten(0, -2)))
    try:
        calibrate()
    finally:
        hook.remove()
    hs = seen[0]
    mean = hs.mean(0)
    r = torch.randn(hs.shape[1], generator=torch.Generator().manual_seed(seed))
    r -= (r @ mean) / (mean @ mean) * mean
    along = (hs @ r).sort(descending=True).values
    threshold = float(along[passing - 1] + along[passing]) / 2
    with torch.no_grad():
        scoring.hs_proj.weight[0] = gain * r
        scoring.hs_proj.bias[0] = 2.0 - gain * threshold
        scoring.prompt_proj.weight[0].zero_()
        scoring.prompt_proj.bias[0] = 1.0 / scoring.scale  # channel 0's product × scale = the hs_proj value
        last = detector.transformer.decoder.presence_token_head.layers[-1]
        last.weight.zero_()
        last.bias.fill_(presence)
