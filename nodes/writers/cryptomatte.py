"""Cryptomatte encoding of a :class:`~rotograph.MaskSet`.

Follows the Cryptomatte specification v1.2.0 (Friedman & Jones, Psyop, 2015;
github.com/Psyop/Cryptomatte, ``specification/cryptomatte_specs.pdf``): each object name is
hashed with MurmurHash3_32 (seed 0); the 32 bits are stored as a float32 ID, with bit 23
flipped when the exponent would be 0 or 255 (no denormals, infinities or NaNs). Channels come in
``<layer>00.R/G/B/A``, ``<layer>01.R/G/B/A``, … holding (ID, coverage) pairs by rank; the
header carries ``cryptomatte/<key>/name|hash|conversion|manifest`` with ``key`` the first 7 hex
digits of the layer name's hash and the manifest a JSON map of name → 8-digit hex hash.
"""

from __future__ import annotations

import json

import mmh3
import numpy as np

from rotograph.core.types import MaskSet


def name_hash(name: str) -> int:
    """The object's 32-bit ID: MurmurHash3_32 of its UTF-8 name, exponent kept finite."""
    h = mmh3.hash(name.encode("utf-8"), 0, signed=False)
    exponent = (h >> 23) & 0xFF
    if exponent in (0, 0xFF):
        h ^= 1 << 23
    return h


def id_to_float(h: int) -> np.float32:
    """The float32 whose bits are the 32-bit hash ``h`` (how Cryptomatte stores an id in a float channel)."""
    return np.array([h], np.uint32).view(np.float32)[0]


def encode(masks: MaskSet, layer: str = "CryptoObject", levels: int = 6) -> tuple[dict, dict]:
    """(channels, header attributes) for ``masks``. A label map holds one object per pixel, so
    rank 0 carries (ID, 1.0) and the other ranks are zero; background pixels are all zero.
    Objects without a name are called ``object<id>``."""
    labels = masks.labels
    names = {o.id: (o.name or f"object{o.id}") for o in masks.objects}
    for i in np.unique(labels):
        if i and int(i) not in names:
            names[int(i)] = f"object{int(i)}"
    lut = np.zeros(int(labels.max()) + 1 if labels.size else 1, np.float32)
    manifest = {}
    for i, name in names.items():
        h = name_hash(name)
        manifest[name] = f"{h:08x}"
        if i < lut.size:
            lut[i] = id_to_float(h)
    ids = lut[labels]
    coverage = (labels > 0).astype(np.float32)
    zeros = np.zeros(labels.shape, np.float32)
    ranks = [(ids, coverage)] + [(zeros, zeros)] * (levels - 1)
    channels = {}
    for n in range(0, levels, 2):
        (i0, c0), (i1, c1) = ranks[n], ranks[n + 1]
        prefix = f"{layer}{n // 2:02d}"
        channels.update({f"{prefix}.R": i0, f"{prefix}.G": c0, f"{prefix}.B": i1, f"{prefix}.A": c1})
    key = f"{mmh3.hash(layer.encode('utf-8'), 0, signed=False):08x}"[:7]
    header = {f"cryptomatte/{key}/name": layer, f"cryptomatte/{key}/hash": "MurmurHash3_32",
              f"cryptomatte/{key}/conversion": "uint32_to_float32",
              f"cryptomatte/{key}/manifest": json.dumps(manifest, sort_keys=True)}
    return channels, header
