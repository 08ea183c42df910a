"""Deterministic cache keys.

Key material is normalised to canonical JSON (sorted keys, type-tagged containers so that a
list and a tuple differ, floats by ``repr``) and hashed with SHA-256. Values that cannot be
normalised raise, naming the node: a shot cache never falls back to a random token.
(After dask's ``tokenize``: one normaliser with type tags and no silent fallback.)
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

from ..errors import RotographError


def normalise(value: Any, where: str = "") -> Any:
    """Return a JSON-able, type-tagged form of ``value``; raise on anything else."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return {"__float__": repr(value)}
        return {"__float__": repr(value)}
    if isinstance(value, list):
        return [normalise(v, where) for v in value]
    if isinstance(value, tuple):
        return {"__tuple__": [normalise(v, where) for v in value]}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise RotographError(f"{where}: cache key material needs string dict keys")
        return {k: normalise(v, where) for k, v in value.items()}
    raise RotographError(f"{where}: cannot build a cache key from a {type(value).__name__}")


def canonical_bytes(value: Any, where: str = "") -> bytes:
    """Canonical JSON bytes of ``value`` (see :func:`normalise`): what :func:`digest` hashes."""
    return json.dumps(normalise(value, where), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode()


def digest(value: Any, where: str = "") -> str:
    """SHA-256 hex digest of the canonical form of ``value``."""
    return hashlib.sha256(canonical_bytes(value, where)).hexdigest()
