"""Masks ↔ mattes: MasksFromMattes (named mattes into one label map) and MasksToMatte (chosen
objects of a label map as one matte)."""

from __future__ import annotations

import numpy as np

from rotograph import Input, Masks, MaskObject, MaskSet, Matte, Node, Output, Param
from rotograph.errors import RotographError
from rotograph.core.node import CachePolicy, Upgrade

SLOTS = 4


class MasksFromMattes(Node):
    """Combine up to four mattes into :class:`~rotograph.MaskSet` object masks (for
    Cryptomatte, per-object mattes).

    matte_1 … matte_4: float32 H×W in [0, 1], optional. ``names``: comma-separated object
    names, in slot order. A pixel belongs to the object with the highest matte value above
    ``threshold``. Output ``masks``: uint16 labels (slot number, 0 = none) and the object table.
    """

    type_id = "rotograph.MasksFromMattes"
    category = "Matte"
    cache_policy = CachePolicy.MEMORY_ONLY

    matte_1 = Input(Matte, optional=True)
    matte_2 = Input(Matte, optional=True)
    matte_3 = Input(Matte, optional=True)
    matte_4 = Input(Matte, optional=True)
    names = Param(str, "object1,object2,object3,object4", doc="Object names, comma separated")
    threshold = Param(float, 0.5, range=(0.0, 1.0))
    masks = Output(Masks)

    def compute(self, ctx, matte_1, matte_2, matte_3, matte_4):
        slots = [(i + 1, m) for i, m in enumerate((matte_1, matte_2, matte_3, matte_4)) if m is not None]
        if not slots:
            raise RotographError("connect at least one matte")
        shapes = {m.shape for _, m in slots}
        if len(shapes) != 1:
            raise RotographError(f"mattes differ in size: {sorted(shapes)}")
        names = [n.strip() for n in self.names.split(",")]
        stack = np.stack([m for _, m in slots])
        best = stack.argmax(axis=0)
        ids = np.array([i for i, _ in slots], np.uint16)
        labels = np.where(stack.max(axis=0) > self.threshold, ids[best], 0).astype(np.uint16)
        objects = [MaskObject(i, names[i - 1] if i - 1 < len(names) and names[i - 1] else f"object{i}", 1.0)
                   for i, _ in slots]
        return MaskSet(labels, objects)


def parse_objects(text: str) -> list[int | str]:
    """``"1, 3, person 2"`` → ``[1, 3, "person 2"]``: object ids (integers) or names."""
    out: list[int | str] = []
    for part in text.split(","):
        part = part.strip()
        if part:
            out.append(int(part) if part.isdigit() else part)
    return out


def _objects_param(value: str) -> str:
    for item in parse_objects(value):
        if isinstance(item, int) and not 1 <= item <= 65535:
            raise ValueError(f"object id {item} is outside 1..65535")
    return value


class MasksToMatte(Node):
    """Pick objects of a :class:`~rotograph.MaskSet` as one matte — the cheap step after a
    tracker, so that choosing an object never re-runs the tracker (the tracker's cache key does
    not hold the choice).

    masks: Masks (uint16 H×W labels + object table). ``objects``: comma-separated object ids
    and/or names (``"1,3"``, ``"person 2"``); empty: every object. An id or name that is not in a
    frame's table selects nothing on that frame (an object that left the frame gives an all-zero
    matte, not an error). Output ``matte``: float32 H×W, 1 inside the chosen objects, 0 elsewhere.
    """

    type_id = "rotograph.MasksToMatte"
    category = "Matte"
    cache_policy = CachePolicy.MEMORY_ONLY

    masks = Input(Masks)
    objects = Param(str, "", check=_objects_param, doc="Object ids or names, comma separated; empty: all")
    matte = Output(Matte)

    def compute(self, ctx, masks):
        wanted = parse_objects(self.objects)
        if not wanted:
            return masks.matte(None)
        ids = [o.id for o in masks.objects if o.id in wanted or o.name in wanted]
        return np.isin(masks.labels, np.asarray(ids, np.uint16)).astype(np.float32)


def matte_became_masks(name: str, params: dict, objects: str = "", masks: str = "masks") -> Upgrade:
    """The :class:`~rotograph.core.node.Upgrade` of a tracker whose ``matte`` output (one object
    chosen by a param of the tracker) became its ``masks`` output alone: a MasksToMatte named
    ``<name>_matte`` picks ``objects`` from ``<name>.<masks>`` and every link from
    ``<name>.matte`` moves to it. ``params``: the tracker's upgraded params."""
    new = f"{name}_matte"
    spec = {"type": MasksToMatte.type_id, "version": MasksToMatte.version, "params": {"objects": objects},
            "inputs": {"masks": f"{name}.{masks}"}}
    return Upgrade(params, {new: spec}, {"matte": f"{new}.matte"})
