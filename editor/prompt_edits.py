"""Editing a node's segmentation prompts (points and boxes on keyframes) as the viewer does:
each change is one undoable :meth:`~rotograph.editor.model.EditorModel.set_param` of the whole
``prompts`` list. Part of :class:`~rotograph.editor.model.EditorModel`."""

from __future__ import annotations

from dataclasses import dataclass

from rotograph.errors import GraphError


@dataclass(frozen=True)
class PromptRef:
    """One prompt of a node: the ``index``-th point, or the box, of ``obj`` on ``frame``."""

    frame: int
    obj: int
    kind: str  # "point" or "box"
    index: int = 0


class PromptEdits:
    """The model's prompt edits (a mixin of :class:`~rotograph.editor.model.EditorModel`)."""

    def _prompts(self, node: str) -> list[dict]:
        n = self.graph.node(node)
        if "prompts" not in n.params:
            raise GraphError(f"node '{node}' ({n.type_id}) takes no prompts")
        return [{**k, "points": [list(p) for p in k["points"]]} for k in n.prompts]

    def add_prompt(self, node: str, frame: int, point=None, box=None, obj: int = 1) -> PromptRef:
        """Add a positive/negative point ``(x, y, label)`` or set the box ``(x0, y0, x1, y1)`` of
        object ``obj`` in a node's ``prompts`` on ``frame`` (which becomes a keyframe)."""
        prompts = self._prompts(node)
        kf = next((k for k in prompts if k["frame"] == frame and k["object"] == obj), None)
        if kf is None:
            kf = {"frame": frame, "object": obj, "points": [], "box": None}
            prompts.append(kf)
        ref = PromptRef(frame, obj, "box")
        if point is not None:
            kf["points"].append(list(point))
            ref = PromptRef(frame, obj, "point", len(kf["points"]) - 1)
        if box is not None:
            kf["box"] = list(box)
        self.set_param(node, "prompts", prompts)
        return ref

    def move_prompt(self, node: str, ref: PromptRef, value) -> None:
        """Give a point new ``(x, y)`` (its label kept) or the box new ``(x0, y0, x1, y1)``."""
        prompts = self._prompts(node)
        kf = next(k for k in prompts if k["frame"] == ref.frame and k["object"] == ref.obj)
        if ref.kind == "point":
            kf["points"][ref.index][:2] = [float(value[0]), float(value[1])]
        else:
            kf["box"] = [float(v) for v in value]
        self.set_param(node, "prompts", prompts)

    def remove_prompt(self, node: str, ref: PromptRef) -> None:
        """Delete one point or the box; a keyframe left with neither goes away."""
        prompts = self._prompts(node)
        kf = next(k for k in prompts if k["frame"] == ref.frame and k["object"] == ref.obj)
        if ref.kind == "point":
            del kf["points"][ref.index]
        else:
            kf["box"] = None
        if not kf["points"] and kf["box"] is None:
            prompts.remove(kf)
        self.set_param(node, "prompts", prompts)

    def keyframes(self, node: str) -> list[int]:
        """The frames on which ``node`` has prompts or roto shape keys (none for other nodes)."""
        n = self.graph.nodes.get(node)
        keyed = [p for p, spec in n.params.items() if p == "prompts" or spec.type_name == "shape_keys"] if n else []
        return sorted({k["frame"] for p in keyed for k in getattr(n, p)})  # prompts and roto shape keys
