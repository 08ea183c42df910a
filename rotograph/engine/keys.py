"""Cache keys: what identifies a node's output at a frame, computed from the graph alone.

A per-frame node's key hashes its type, version, canonical params, extra key material (a Read's
file identity), the keys of the inputs it reads (every frame of a windowed input) and the frame
when the node depends on it; a node passing an input through shares that input's key. A causal
range node's frame key is chained along its run: the run's start, then one hash per frame with
the inputs and keyframes there, so a keyframe changes only the keys of the frames after it; any
other range node's frame key covers its whole segment.
"""

from __future__ import annotations

from typing import Any

from ..core.node import Node
from ..errors import blame
from .hashing import digest


class Keys:
    """The key half of :class:`~rotograph.engine.evaluate.Evaluator` (a mixin: it reads the
    evaluator's graph, links, segments and memo tables)."""

    def key(self, name: str, output: str | None, frame: int) -> str:
        """The cache key of ``name.output`` at ``frame``; never touches pixels."""
        self._sync()
        node = self.graph.nodes[name]
        output = self.output_name(node, output)
        memo = (name, output, frame)
        key = self._keys.get(memo)
        if key is not None:
            return key
        pt = self._passthrough(node)
        if pt is not None:
            src, sout = pt
            key = self.key(src, sout, node.input_frame(node.passthrough(), frame))
        else:
            material: dict[str, Any] = {"type": node.type_id, "version": node.version,
                                        "params": node.key_params(), "output": output}
            with blame(name, frame):
                extra = node.key_material(frame)
            if extra is not None:
                material["extra"] = extra
            if node.is_range:
                number, upto = self._place(name, frame)
                if node.reach().causal:
                    material = {"chain": self._chain(name, number, upto), "output": output}
                else:
                    material["segment"] = self._segment_key(name, number)
                material["frame"] = frame
            else:
                material["inputs"] = {i: self._input_key(node, i, frame) for i in sorted(self.links(name))}
                if node.frame_dependent:
                    material["frame"] = frame
            fmt = self.format(name)
            if fmt is not None and fmt.pixel_aspect != 1.0:  # square pixels keep the keys they had
                material["pixel_aspect"] = fmt.pixel_aspect
            key = digest(material, where=f"node '{name}'")
        self._keys[memo] = key
        return key

    def _input_key(self, node: Node, input: str, frame: int):
        """Key material of one connected input: its key at the frame it is read, or for a
        windowed input the (offset from ``frame``, key) of every frame of the window."""
        src, sout = self.links(node.name)[input]
        window = self.window(node.name, input, frame)
        if window is None:
            return self.key(src, sout, node.input_frame(input, frame))
        return [[g - frame, self.key(src, sout, node.input_frame(input, g))] for g in window]

    def _chain(self, name: str, number: int, upto: int) -> str:
        """Key of a causal range node's state after processing ``run[upto]`` of its segment
        ``number``: the node's type, version and params other than keyframes, the run's start,
        then one hash per frame of the run chained from the previous one — the inputs at that
        frame and ``lookahead`` frames on (along the run, within the frame range) and the
        keyframes applied there."""
        chain = self._chains.setdefault((name, number), [])
        if len(chain) > upto:
            return chain[upto]
        node, seg = self.graph.nodes[name], self.segments(name)[number]
        reach = node.reach()
        run, step = seg.run, seg.direction
        rng = self.frame_range(name)
        inputs = sorted(self.links(name))
        where = f"node '{name}'"
        if not chain:
            params = {k: v for k, v in node.key_params().items() if k not in reach.keyframes}
            with blame(name, run[0]):
                extra = node.key_material(run[0])
            start = digest({"type": node.type_id, "version": node.version, "params": params, "extra": extra,
                            "start": run[0], "direction": step, "lead": len(seg.lead)}, where=where)
            chain.append(self._link(node, start, run[0], inputs, reach.lookahead, step, rng, where))
        for i in range(len(chain), upto + 1):
            chain.append(self._link(node, chain[-1], run[i], inputs, reach.lookahead, step, rng, where))
        return chain[upto]

    def _link(self, node: Node, prev: str, f: int, inputs, lookahead: int, step: int, rng, where: str) -> str:
        """One step of a causal chain: ``prev`` then what frame ``f`` brings."""
        ahead = [g for g in range(f + step, f + step * (lookahead + 1), step) if rng is None or rng[0] <= g <= rng[1]]
        with blame(node.name, f):
            kfs = node.keyframe_material(f)
        return digest({"prev": prev, "frame": f, "keyframes": kfs,
                       "inputs": [self._input_key(node, i, f) for i in inputs],
                       "ahead": [[self._input_key(node, i, g) for i in inputs] for g in ahead]}, where=where)

    def _segment_key(self, name: str, number: int) -> str:
        memo = (name, number)
        if memo not in self._segment_keys:
            node, seg = self.graph.nodes[name], self.segments(name)[number]
            keys = [[self._input_key(node, i, f) for i in sorted(self.links(name))] for f in seg.run]
            self._segment_keys[memo] = digest({"frames": list(seg.frames), "lead": list(seg.lead), "inputs": keys})
        return self._segment_keys[memo]
