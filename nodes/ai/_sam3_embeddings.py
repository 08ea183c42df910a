"""SAM 3 image embeddings kept between clicks: an in-process LRU of ``Sam3Processor.set_image``
states.

``set_image`` runs SAM 3's whole image backbone (the ViT trunk and its necks: about 40 s a frame
on a CPU, tens of ms on a GPU); every prompt after it — clicks (``predict_inst``), a text
concept, exemplar boxes — only runs the prompt encoders and decoders. SAM3Segment asks
:func:`embeddings_of` its model for the state of a frame: the backbone runs once per (frame
content, model) — a model is one (weights identity, device), as the model manager keeps them —
and later clicks on that frame reuse its features.

Choice: an in-process LRU (the editor's process, where clicks happen) attached to the model
object, so it lives and dies with it (random weights built twice are two models, never mixed),
bounded by the bytes of the tensors it holds (``$ROTOGRAPH_SAM3_EMBED_MB``, default 2048 MB; a
1008-px frame's state is about 200 MB); not the disk cache: the features are larger than the
frame and cheap to recompute on a GPU. The key is the frame's content (an xxh3-128 digest of the
uint8 plate and its shape), so the same pixels reached through another graph or frame number
share one entry.
"""

from __future__ import annotations

import copy
import os
import threading
from collections import OrderedDict
from typing import Callable

import numpy as np


def _tensor_bytes(value) -> int:
    if hasattr(value, "element_size") and hasattr(value, "nelement"):
        return value.element_size() * value.nelement()
    if isinstance(value, dict):
        return sum(_tensor_bytes(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_tensor_bytes(v) for v in value)
    return 0


def fresh(state: dict) -> dict:
    """A copy of a cached ``set_image`` state that prompts may extend (``set_text_prompt``
    adds the text features to ``backbone_out``, ``add_geometric_prompt`` a ``geometric_prompt``)
    without touching the cached one; the feature tensors themselves are shared, never written."""
    out = copy.copy(state)
    out["backbone_out"] = copy.copy(state["backbone_out"])
    return out


class EmbeddingCache:
    """LRU of one model's image states by frame digest, bounded in bytes."""

    def __init__(self, max_bytes: int | None = None):
        self.max_bytes = max_bytes if max_bytes is not None else int(os.environ.get("ROTOGRAPH_SAM3_EMBED_MB", 2048)) << 20
        self._items: OrderedDict[tuple, tuple[dict, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    @staticmethod
    def frame_digest(rgb8: np.ndarray) -> str:
        import xxhash

        h = xxhash.xxh3_128(np.ascontiguousarray(rgb8).data)
        h.update(repr(rgb8.shape).encode())
        return h.hexdigest()

    def state(self, rgb8: np.ndarray, compute: Callable[[], dict]) -> dict:
        """The ``set_image`` state of the plate ``rgb8`` (uint8 H×W×3): cached, else
        ``compute()`` (which runs the backbone) and kept. Returns a :func:`fresh` copy."""
        key = self.frame_digest(rgb8)
        with self._lock:
            got = self._items.get(key)
            if got is not None:
                self._items.move_to_end(key)
                self.hits += 1
                return fresh(got[0])
            self.misses += 1
        state = compute()
        size = _tensor_bytes(state)
        with self._lock:
            self._items[key] = (state, size)
            total = sum(s for _, s in self._items.values())
            while total > self.max_bytes and len(self._items) > 1:
                _, (_, s) = self._items.popitem(last=False)
                total -= s
        return fresh(state)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._items)


_ATTACH_LOCK = threading.Lock()


def embeddings_of(model) -> EmbeddingCache:
    """The embedding cache attached to ``model`` (made on first use)."""
    with _ATTACH_LOCK:
        cache = getattr(model, "_rotograph_embeddings", None)
        if cache is None:
            cache = EmbeddingCache()
            model._rotograph_embeddings = cache
        return cache
