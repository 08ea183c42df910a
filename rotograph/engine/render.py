"""Rendering: evaluate a graph's writers over a frame range, with progress and a report.

A render is planned as tasks (:mod:`rotograph.engine.plan`): range nodes run once per segment, in
dependency order, then frames are rendered in chunks. The same plan runs in this process
(``workers=1``), over a local process pool (``workers=N``) or on a Dask cluster
(``scheduler="tcp://host:8786"`` or ``"local:N"``); parallel backends share the disk cache.

A failing frame is retried ``retries`` times, then ``on_error`` decides: ``stop`` ends the
render (frames already written stay), ``skip`` leaves the frame out, ``hold`` has every writer
write the failed frame from the nearest good frame's inputs (as Nuke's "hold" does), so the
held file names its own frame (see :meth:`rotograph.core.writer.Writer.hold`). Outputs are written
atomically, so a render killed at any point resumes with a plain re-run.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from dataclasses import dataclass, field

from .cache import Cache, open_cache
from ..errors import EXIT_FAILED, GraphError, RotographError, UsageError, blame, shorten
from .evaluate import Evaluator
from .stats import Stats
from .plan import Session, TaskResult, frame_tasks, pinned_entries, range_stages
from ..core.writer import Writer

ON_ERROR = ("stop", "skip", "hold")
MAX_FRAMES = 1_000_000  # frames one render may list (11.5 hours at 24 fps)


def parse_frames(text: str) -> list[int]:
    """``"1001-1100"``, ``"1001,1010-1020"``, ``"1001-1100x10"`` (every 10th) → frame list.
    Raises :class:`UsageError` naming the part it cannot read, an empty range, or more than
    :data:`MAX_FRAMES` frames (refused before any list is built)."""
    parts, count = [], 0
    for part in str(text).replace(" ", "").split(","):
        m = re.fullmatch(r"(-?\d{1,18})(?:-(-?\d{1,18})(?:x(\d{1,18}))?)?", part)
        if not m:
            raise UsageError(f"--frames: cannot read {shorten(repr(part))} (use e.g. 1001-1100 or 1001,1005,1010-1020)")
        a = int(m.group(1))
        b = int(m.group(2)) if m.group(2) is not None else a
        step = int(m.group(3) or 1)
        if b < a or step < 1:
            raise UsageError(f"--frames: {part!r} is an empty range")
        count += len(range(a, b + 1, step))
        if count > MAX_FRAMES:
            raise UsageError(f"--frames: {part!r} holds {len(range(a, b + 1, step))} frames; a render takes at most "
                             f"{MAX_FRAMES} (split the range, or check the numbers)")
        parts.append(range(a, b + 1, step))
    return sorted({f for r in parts for f in r})


@dataclass
class RenderReport:
    """What a render did. ``done``: frames rendered; ``failed``: frame → error; ``held``: failed
    frames filled with a neighbour's output; ``retried``: retries spent; ``stats``: computes,
    cache hits and range-node segment runs per node; ``error``: why it stopped, if it did."""

    frames: list[int]
    done: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    held: list[int] = field(default_factory=list)
    retried: int = 0
    seconds: float = 0.0
    stats: Stats = field(default_factory=Stats)
    error: str | None = None
    exit_code: int = 0  # what ``rotograph render`` exits with (0: ok; see rotograph.errors)

    @property
    def ok(self) -> bool:
        """True when no frame failed and no error stopped the render."""
        return not self.failed and self.error is None

    @property
    def fps(self) -> float:
        """Frames done per second of wall time (0 before any time passed)."""
        return len(self.done) / self.seconds if self.seconds > 0 else 0.0

    @property
    def hits(self) -> int:
        """Cache hits over all nodes."""
        return sum(self.stats.hits.values())


def _targets(graph, targets) -> list[str]:
    names = list(targets) if targets else graph.writers()
    if not names:
        raise GraphError("the graph has no writer nodes to render (or name the nodes to render)")
    for n in names:
        graph.node(n)
    return names


def default_frames(graph, targets, evaluator: Evaluator) -> list[int]:
    """Every frame from the first to the last of the targets' frame ranges; raises
    :class:`GraphError` ("give --frames") when no target knows its range."""
    ranges = [evaluator.frame_range(t) for t in targets]
    ranges = [r for r in ranges if r]
    if not ranges:
        raise GraphError("cannot tell the frame range: give --frames")
    return list(range(min(r[0] for r in ranges), max(r[1] for r in ranges) + 1))


def check_frames(graph, targets, frames: list[int], evaluator: Evaluator) -> None:
    """Refuse, before anything renders, frames outside a target's frame range, naming the node
    whose own range ends there (usually the Read of the plate) and that range."""
    for target in targets:
        rng = evaluator.frame_range(target)
        outside = [f for f in frames if rng and not rng[0] <= f <= rng[1]]
        if not outside:
            continue
        end = 1 if outside[-1] > rng[1] else 0  # the range's last (or first) frame is exceeded
        ups = graph.upstream([target])
        name = next(n for n in graph.topological()
                    if n in ups and (r := evaluator.frame_range(n)) is not None and r[end] == rng[end])
        node = graph.nodes[name]
        what = f" ({node.file})" if "file" in node.params and node.file else ""
        span = (f"frame {outside[0]} is" if len(outside) == 1 else
                f"frames {outside[0]}-{outside[-1]} are" if outside[-1] - outside[0] + 1 == len(outside) else
                f"{len(outside)} frames in {outside[0]}-{outside[-1]} are")
        raise GraphError(f"{span} outside the frame range {rng[0]}-{rng[1]} of node '{name}'{what}")


def _backend(evaluator, workers: int, scheduler: str | None, worker_resources):
    from .backends import DaskBackend, PoolBackend, SerialBackend

    if scheduler:
        return DaskBackend(scheduler, worker_resources)
    if workers > 1:
        return PoolBackend(workers)
    return SerialBackend(evaluator)


def render(graph, frames=None, *, targets=None, cache: Cache | None = None, workers: int = 1,
           scheduler: str | None = None, retries: int = 1, on_error: str = "stop", chunk: int | None = None,
           worker_resources: dict[str, float] | None = None, progress=None,
           evaluator: Evaluator | None = None) -> RenderReport:
    """Render ``targets`` (default: every writer) over ``frames`` (default: their frame range).

    ``frames``: a list or a string such as ``"1001-1100"``. ``cache``: a :class:`Cache` (parallel
    backends need its disk tier). ``progress``: called with the :class:`RenderReport` after each
    task. Node failures do not raise: they are in the report. Graph errors (bad graph, bad
    frames) raise :class:`GraphError` before anything runs.
    """
    if on_error not in ON_ERROR:
        raise GraphError(f"--on-error {on_error!r}: expected one of {', '.join(ON_ERROR)}")
    if workers < 1:
        raise GraphError(f"workers={workers}: a render needs at least 1 worker (1 renders in this process)")
    if retries < 0:
        raise GraphError(f"retries={retries}: expected 0 or more")
    targets = _targets(graph, targets)
    graph.validate(targets)
    if evaluator is None:
        evaluator = Evaluator(graph, cache if cache is not None else open_cache())
    cache = evaluator.cache
    parallel = workers > 1 or scheduler
    if parallel and cache.disk is None:
        raise GraphError("parallel renders need a disk cache shared by the workers")
    frames = parse_frames(frames) if isinstance(frames, str) else (list(frames) if frames else None)
    frames = frames or default_frames(graph, targets, evaluator)
    check_frames(graph, targets, frames, evaluator)
    report = RenderReport(frames)
    try:
        _run(graph, evaluator, targets, frames, report, workers, scheduler, retries, on_error, chunk,
             worker_resources, progress)
    finally:
        evaluator.end_render()
    return report


def _run(graph, evaluator: Evaluator, targets, frames, report: RenderReport, workers, scheduler, retries, on_error,
         chunk, worker_resources, progress) -> None:
    """The body of :func:`render`: the range nodes' segments stage by stage, then the frames,
    with every range node frame the render reads pinned in the cache until the end."""
    cache = evaluator.cache
    parallel = workers > 1 or scheduler
    t0 = time.perf_counter()
    try:
        evaluator.begin_render(targets, frames)
        stages = range_stages(graph, evaluator)
        pins = pinned_entries(graph, evaluator)
    except RotographError as e:
        report.error, report.exit_code = str(e), e.exit_code
        return
    from ..core.graphio import dumps

    session = Session(dumps(graph) if parallel else "", cache.disk.url if cache.disk else None,
                      cache.disk.max_bytes if cache.disk else 0, cache.memory.max_bytes, tuple(targets),
                      tuple(frames), retries, on_error,
                      threads=1 if scheduler else (max(1, cpu_count() // workers) if workers > 1 else 0),
                      render_id=uuid.uuid4().hex, folder=graph.folder)
    segment_failed: set[int] = set()

    def on_result(result: TaskResult) -> bool:
        report.stats.merge(result.stats)
        report.retried += result.retried
        if result.task.kind == "frames":
            report.done.extend(result.done)
            report.failed.update(result.failed)
        elif result.failed:
            segment_failed.update(result.failed)
            report.failed.update(result.failed)
        if result.failed:
            report.exit_code = result.exit_code if on_error == "stop" else EXIT_FAILED
        if result.failed and on_error == "stop":
            report.error = next(iter(result.failed.values()))
        if progress:
            progress(report)
        return report.error is None

    backend = _backend(evaluator, workers, scheduler, worker_resources)
    try:
        with cache.pin(pins):
            for stage in stages:
                backend.run(session, stage, on_result)
                if report.error:
                    break
            else:
                todo = [f for f in frames if f not in segment_failed]
                size = chunk or (1 if not parallel else max(1, min(8, len(todo) // (8 * max(workers, 2)) or 1)))
                backend.run(session, frame_tasks(graph, targets, todo, size), on_result)
    finally:
        backend.close()
    report.done.sort()
    if on_error == "hold" and report.failed and report.done:
        report.held = _hold(evaluator, targets, sorted(report.failed), report.done)
    report.seconds = time.perf_counter() - t0


def _hold(evaluator: Evaluator, targets, failed: list[int], done: list[int]) -> list[int]:
    """Have every writer that holds write each failed frame from the nearest rendered frame's
    inputs (its headers name the failed frame; the key recorded is the source frame's).
    A frame that cannot be held stays failed."""
    held = []
    for f in failed:
        source = min(done, key=lambda d: (abs(d - f), d > f))
        try:
            for name in targets:
                node = evaluator.graph.nodes[name]
                if isinstance(node, Writer) and node.holds:
                    ctx = evaluator.context(name, f, key=evaluator.key(name, None, source))
                    inputs = evaluator.inputs(name, source)
                    with blame(name, f):
                        node.hold(ctx, inputs)
        except RotographError:
            continue
        held.append(f)
    return held


def cpu_count() -> int:
    """CPUs this process may run on (its affinity where the OS tells it, else all)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
