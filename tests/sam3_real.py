"""The real ``sam3`` package on the CPU, random weights, for tests: :func:`cheap_trunk` swaps only
SAM 3's 1008-px ViT image trunk (32 blocks, ~40 s a frame on a CPU) for :class:`CheapTrunk`,
which has the real trunk's output shapes (one 1×1024×72×72 feature map, ``channel_list``
[1024]); the neck, text encoder, detector, decoders, tracker and memory are sam3's own."""

from __future__ import annotations

import contextlib

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
