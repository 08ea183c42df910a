"""Lazy, cached evaluation: hash, then compute.

For every (node output, frame) the :class:`Evaluator` first computes a key from the graph alone
(:mod:`rotograph.engine.keys`) —
node type, version, canonical params, extra key material (a Read's file identity), the keys of
the inputs it reads and the frame when the node depends on it — and asks the cache. Only misses
are computed, and only the misses' own misses upstream, so a cache hit never decodes upstream
pixels. A node whose ``passthrough()`` names an input shares that input's key and entry.

Range nodes are keyed by what can reach each frame (:class:`~rotograph.core.node.Reach`): a causal
node's frame key is chained along its run from the previous frame's key with the inputs and
keyframes at that frame, so a correction keyframe invalidates only the frames the run passes
after it; other range nodes are keyed by their whole segment. A miss runs the segment from the
nearest point the node can restart from — the first missing frame for resumable nodes, else the
segment's start — up to the last frame wanted, and caches every frame it emits: a frame lost
from the cache (evicted, corrupt, deleted) is rebuilt, never an error. Within a render the
frames a render reads are pinned in the cache, so each segment runs once whatever its size.
:class:`~rotograph.engine.stats.Stats` counts computes and hits per node so that tests can prove what recomputed.
"""

from __future__ import annotations

import contextlib
from typing import Any

from ..errors import EvaluationError, GraphError, blame
from .keys import Keys
from .stats import Stats
from ..core.node import Context, Node, Segment
from ..core.types import Format
from ..io.timing import Timing


class Evaluator(Keys):
    """Evaluates outputs of ``graph`` through ``cache``.

    ``wanted`` maps range nodes to the frames a render will ask for, so that a segment run stops
    after the last of them instead of running the node's whole frame range.
    """

    def __init__(self, graph, cache, stats: Stats | None = None, log=print):
        self.graph = graph
        self.cache = cache
        self.stats = stats or Stats()
        self.wanted: dict[str, set[int]] = {}
        self.log = log
        self._revision = -1
        self._sync()

    def _sync(self) -> None:
        if self._revision != self.graph.revision:
            self._keys: dict[tuple[str, str, int], str] = {}
            self._links: dict[str, dict[str, tuple[str, str]]] = {}
            self._ranges: dict[str, tuple[int, int] | None] = {}
            self._timing: dict[str, Timing | None] = {}
            self._formats: dict[str, Format | None] = {}
            self._segments: dict[str, list[Segment]] = {}
            self._where: dict[str, dict[int, tuple[int, int]]] = {}  # range node → frame → (segment, place in its run)
            self._segment_keys: dict[tuple[str, int], str] = {}
            self._chains: dict[tuple[str, int], list[str]] = {}
            self._revision = self.graph.revision

    def begin_render(self, targets, frames) -> None:
        """Start a render of ``targets`` over ``frames``: range nodes run only as far as the
        render reads them (:meth:`want`) until :meth:`end_render`."""
        self.want(targets, frames)

    def end_render(self) -> None:
        """End the render begun by :meth:`begin_render`: range nodes run to the frame asked again."""
        self.wanted = {}

    # -- structure ------------------------------------------------------------------------
    def links(self, name: str) -> dict[str, tuple[str, str]]:
        """Node ``name``'s connected inputs: input port → (source node, source output)."""
        if name not in self._links:
            self._links[name] = self.graph.inputs_of(name)
        return self._links[name]

    def output_name(self, node: Node, output: str | None) -> str:
        """``output``, checked against ``node``'s outputs (``None``: its first); raises :class:`GraphError` naming close matches."""
        if output is None:
            return next(iter(node.outputs))
        if output not in node.outputs:
            from ..errors import did_you_mean

            raise GraphError(f"node '{node.name}' has no output '{output}'" + did_you_mean(output, node.outputs))
        return output

    def frame_range(self, name: str) -> tuple[int, int] | None:
        """Inclusive (first, last) frame range of a node, from its inputs (Reads probe files)."""
        return self._from_inputs("_ranges", name, self.frame_range, "frame_range")

    def timing(self, name: str) -> Timing | None:
        """A node's frame rate and timecode, from its inputs (Reads take them from the file)."""
        return self._from_inputs("_timing", name, self.timing, "timing")

    def format(self, name: str) -> Format | None:
        """A node's output format (size, pixel aspect), from its inputs' (Reads take it from the
        file's header: never a decode)."""
        return self._from_inputs("_formats", name, self.format, "output_format")

    def _from_inputs(self, memo: str, name: str, upstream, method: str):
        """Node ``name``'s ``method`` given the same property of each linked input's source
        (``upstream``, recursively), memoised in the dict attribute ``memo`` (reset by ``_sync``)."""
        self._sync()
        values = getattr(self, memo)
        if name not in values:
            node = self.graph.nodes[name]
            ins = {i: upstream(src) for i, (src, _) in self.links(name).items()}
            with blame(name, None):
                values[name] = getattr(node, method)(ins)
        return values[name]

    def context(self, name: str, frame: int, **more) -> Context:
        """The :class:`Context` that node ``name`` computes ``frame`` in: its timing, its format
        and its inputs' formats, plus ``more`` (key, frames, frame range)."""
        links = self.links(name)
        return Context(frame=frame, node=name, log=self.log, timing=self.timing(name), format=self.format(name),
                       input_formats={i: self.format(src) for i, (src, _) in links.items()}, check=self.check, **more)

    def segments(self, name: str) -> list[Segment]:
        """A range node's segments over its frame range."""
        self._sync()
        if name not in self._segments:
            rng = self.frame_range(name)
            if rng is None:
                raise EvaluationError(name, None, "range node has no frame range (is its input connected?)")
            with blame(name, None):
                self._segments[name] = self.graph.nodes[name].segments(*rng)
        return self._segments[name]

    def segment_of(self, name: str, frame: int) -> Segment:
        """The segment of range node ``name`` whose emitted frames hold ``frame``."""
        return self.segments(name)[self._place(name, frame)[0]]

    def _place(self, name: str, frame: int) -> tuple[int, int]:
        """(number of the segment that emits ``frame``, index of ``frame`` in that segment's run)."""
        where = self._where.get(name)
        if where is None:
            where = self._where[name] = {f: (n, len(seg.lead) + i) for n, seg in enumerate(self.segments(name))
                                         for i, f in enumerate(seg.frames)}
        if frame not in where:
            rng = self.frame_range(name)
            raise EvaluationError(name, frame, f"frame {frame} is outside the node's frame range {rng[0]}-{rng[1]}")
        return where[frame]

    def _passthrough(self, node: Node) -> tuple[str, str] | None:
        if len(node.outputs) != 1:
            return None
        pt = node.passthrough()
        if pt is None:
            return None
        return self.links(node.name).get(pt)

    # -- cancellation and progress (hooks for an editor) ----------------------------------
    def check(self) -> None:
        """Raise to stop the evaluation (an editor's Cancel): called between the frames of a
        range node's run and, through ``Context.check``, inside long computes. Nothing here."""

    def running(self, name: str, done: int, total: int) -> None:
        """Range node ``name``'s run has emitted ``done`` of the ``total`` frames it emits (called
        as it starts and after each frame: an editor's progress). Nothing here."""

    # -- which frames are read (the keys are in engine/keys.py) ---------------------------
    def window(self, name: str, input: str, frame: int) -> tuple[int, ...] | None:
        """The frames at which node ``name`` reads a windowed ``input`` to compute ``frame``:
        [f − k, f + k] clamped to the node's frame range (only f outside it); ``None`` for a
        plain input."""
        k = self.graph.nodes[name].input_window(input)
        if k is None:
            return None
        lo, hi = frame - k, frame + k
        rng = self.frame_range(name)
        if rng is not None:
            lo, hi = (max(lo, rng[0]), min(hi, rng[1])) if rng[0] <= frame <= rng[1] else (frame, frame)
        return tuple(range(lo, hi + 1))

    def want(self, targets, frames) -> None:
        """Set :attr:`wanted` for a render of ``targets`` over ``frames``: every range node
        upstream → the frames at which the render reads it, through time offsets and windows
        (so a segment run goes on to the last frame that a window downstream reads)."""
        need: dict[str, set[int]] = {t: set(frames) for t in targets}
        for name in reversed(self.graph.topological()):
            node, asked = self.graph.nodes[name], need.get(name)
            if not asked:
                continue
            pt = node.passthrough() if self._passthrough(node) else None
            for i, (src, _) in self.links(name).items():
                if pt is not None and i != pt:
                    continue
                for f in asked:
                    window = None if pt is not None else self.window(name, i, f)
                    need.setdefault(src, set()).update(node.input_frame(i, g) for g in (window or (f,)))
        self.wanted = {n: need[n] for n in need if self.graph.nodes[n].is_range}

    # -- values ---------------------------------------------------------------------------
    def get(self, name: str, output: str | None, frame: int):
        """The value of ``name.output`` at ``frame``: from the cache, or computed."""
        self._sync()
        node = self.graph.nodes.get(name)
        if node is None:
            raise GraphError(f"no node named '{name}'")
        output = self.output_name(node, output)
        pt = self._passthrough(node)
        if pt is not None:
            return self.get(pt[0], pt[1], node.input_frame(node.passthrough(), frame))
        key = self.key(name, output, frame)
        ptype = node.outputs[output].type
        value = self.cache.get(key, ptype, node.cache_policy)
        if value is not None:
            if node.validate_cached(output, value):
                self.stats.hits[name] += 1
                return value
            self.cache.forget(key)
        if node.is_range:
            # this frame, and every frame the render wants from this segment that is missing too
            # (a node that is not causal recomputes every wanted frame: each depends on them all)
            seg = self.segment_of(name, frame)
            wanted = sorted(self.wanted.get(name, set()) & set(seg.frames) - {frame})
            todo = self.missing(name, wanted) if node.reach().causal else wanted
            return self._run_range(node, seg, {frame, *todo}, keep=frame)[output]
        inputs = self._pull(node, frame)
        self.check()  # before each compute: a chain of nodes computes after its deepest input is read
        ctx = self.context(name, frame, key=key)
        with blame(name, frame):
            result = node.compute(ctx, **inputs)
        outs = self._store(node, frame, result)
        self.stats.computes[name] += 1
        return outs[output]

    def inputs(self, name: str, frame: int) -> dict[str, Any]:
        """The input values node ``name`` reads to produce ``frame`` (``None`` if unconnected)."""
        return self._pull(self.graph.nodes[name], frame)

    def _pull(self, node: Node, frame: int) -> dict[str, Any]:
        links = self.links(node.name)
        values = {}
        for iname in node.inputs:
            if iname in links:
                src, sout = links[iname]
                window = self.window(node.name, iname, frame)
                if window is None:
                    values[iname] = self.get(src, sout, node.input_frame(iname, frame))
                else:
                    values[iname] = {g: self.get(src, sout, node.input_frame(iname, g)) for g in window}
            else:
                values[iname] = None
        return values

    def _store(self, node: Node, frame: int, result) -> dict[str, Any]:
        outs = result if len(node.outputs) > 1 else {next(iter(node.outputs)): result}
        if not isinstance(outs, dict) or set(outs) != set(node.outputs):
            raise EvaluationError(node.name, frame, f"compute must return a value for each of the outputs "
                                                    f"{sorted(node.outputs)}")
        for oname, value in outs.items():
            ptype = node.outputs[oname].type
            problem = ptype.check(value)
            if problem:
                raise EvaluationError(node.name, frame, f"output '{oname}' ({ptype.name}): {problem}")
            self.cache.put(self.key(node.name, oname, frame), ptype, value, node.cache_policy)
        return outs

    def _cached_outputs(self, node: Node, frame: int) -> dict[str, Any] | None:
        outs = {}
        for oname, out in node.outputs.items():
            v = self.cache.get(self.key(node.name, oname, frame), out.type, node.cache_policy)
            if v is None:
                return None
            outs[oname] = v
        return outs

    def missing(self, name: str, frames) -> list[int]:
        """The frames of range node ``name`` among ``frames`` whose outputs are not all in the
        cache (a cheap presence check: a corrupt entry is found, and rebuilt, when read)."""
        node = self.graph.nodes[name]
        return [f for f in frames
                if not all(self.cache.contains(self.key(name, o, f), node.cache_policy) for o in node.outputs)]

    def ensure(self, name: str, frames) -> int:
        """Have every frame of range node ``name`` among ``frames`` (one segment's) in the
        cache, running the segment from the nearest restart point before the first missing
        one; returns how many frames were missing."""
        frames, node = list(frames), self.graph.nodes[name]
        lost = self.missing(name, frames)
        if lost:
            seg = self.segment_of(name, frames[0])
            self._run_range(node, seg, lost if node.reach().causal else frames, keep=lost[0])
        else:  # present: read the last one, which checks it still stands (a writer's file is there)
            last = max(frames, key=lambda f: self._place(name, f)[1])
            for o in node.outputs:
                self.get(name, o, last)
        return len(lost)

    def _run_range(self, node: Node, seg: Segment, todo, keep: int) -> dict[str, Any]:
        """Run ``node``'s segment ``seg`` so that it emits (and caches) every frame of ``todo``;
        return the outputs at ``keep`` (one of them). A resumable node starts after the nearest
        cached frame before the first missing frame to do, others at the segment's start."""
        name, frames = node.name, seg.frames
        pos = {f: i for i, f in enumerate(frames)}
        order = sorted(pos[f] for f in todo)
        first, stop = order[0], order[-1]
        resume = None
        if node.resumable:  # restart after the nearest cached frame before the first missing one
            gap = next((i for i in order if self.missing(name, [frames[i]])), first)
            back = next((j for j in range(gap - 1, -1, -1) if not self.missing(name, [frames[j]])), None)
            state = self._cached_outputs(node, frames[back]) if back is not None else None
            if state is not None:
                resume = (frames[back], state)
        wanted = self.wanted.get(name, set()) | set(todo)
        ctx = self.context(name, frames[0], frames=tuple(f for f in frames[: stop + 1] if f in wanted),
                           frame_range=self.frame_range(name))
        result = None
        self.stats.range_runs[name] += 1
        gen = node.compute_range(ctx, seg, lambda f: self._pull(node, f), resume)
        last = pos[resume[0]] if resume else -1
        start = last
        self.running(name, 0, stop - start)
        with blame(name, keep), contextlib.closing(gen):
            for f, value in gen:
                if pos.get(f, -1) <= last:
                    raise EvaluationError(name, f, "range node emitted frames out of segment order")
                last = pos[f]
                outs = self._store(node, f, value)
                self.stats.computes[name] += 1
                self.running(name, last - start, stop - start)
                if f == keep:
                    result = outs
                if last == stop:
                    break
                self.check()  # between the frames of a run (each emitted frame is cached)
        if result is None or last < stop:
            raise EvaluationError(name, keep if result is None else frames[stop], "range node did not emit this frame")
        return result
