"""A render as a plan of tasks, and the code that runs one task anywhere.

A render of ``targets`` over ``frames`` becomes stages of tasks:

1. one task per *segment* of every disk-cached range node (SAM3Track, FlowTrack, …), staged by
   how many range nodes lie upstream, so a range node runs after the ones it reads;
2. per-frame tasks (chunks of frames) that pull the targets, reading the range nodes' frames
   from the shared cache.

A :class:`Task` is plain data (the graph as JSON text, the cache URL, node and frames), so the
same plan runs in this process, in a process pool or on a Dask cluster. :func:`run_task` is the
worker side; it keeps one loaded graph and cache per process (``_SESSIONS``) so consecutive tasks
share the memory tier.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from ..errors import EvaluationError, RotographError
from .evaluate import Evaluator
from .stats import Stats
from ..core.node import CachePolicy


@dataclass(frozen=True)
class Task:
    """One unit of work: a range-node segment or a chunk of frames."""

    kind: str  # "segment" | "frames"
    frames: tuple[int, ...]
    node: str | None = None  # the range node, for segments
    resources: tuple[tuple[str, float], ...] = ()

    @property
    def label(self) -> str:
        """How progress and errors name the task: ``"track segment 1001-1040"`` or ``"frames 1001-1004"``."""
        span = f"{self.frames[0]}-{self.frames[-1]}" if len(self.frames) > 1 else str(self.frames[0])
        return f"{self.node} segment {span}" if self.kind == "segment" else f"frames {span}"


@dataclass
class Session:
    """What a worker needs to run tasks of one render."""

    graph_json: str
    cache_url: str | None
    max_bytes: int
    memory_bytes: int
    targets: tuple[str, ...]
    frames: tuple[int, ...]
    retries: int = 1
    on_error: str = "stop"
    threads: int = 0  # threads for OpenCV in each worker (0: leave as is)
    render_id: str = ""  # one render: a worker starts a fresh evaluator
    folder: str | None = None  # the graph file's folder: relative file paths are relative to it

    @property
    def token(self) -> str:
        """A hex digest of graph, cache and render id: a worker reuses its evaluator for the same token."""
        return hashlib.sha256(f"{self.graph_json}\0{self.cache_url}\0{self.render_id}".encode()).hexdigest()


@dataclass
class TaskResult:
    """What a task did: frames done, frames failed (with the error), retries, counters."""

    task: Task
    done: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    retried: int = 0
    stats: Stats = field(default_factory=Stats)
    exit_code: int = 0  # the exit code of the last failure (RotographError.exit_code)


def range_stages(graph, evaluator: Evaluator) -> list[list[Task]]:
    """Stages of range-node segment tasks for the render begun on ``evaluator`` (each range
    node's segments over the frames the render reads it at, :attr:`Evaluator.wanted`); every
    task of a stage may run in parallel."""
    depth: dict[str, int] = {}
    for name in graph.topological():
        ups = [depth[u] for u in graph.dag.predecessors(name)]
        depth[name] = max(ups, default=0) + (1 if graph.nodes[name].is_range else 0)
    stages: dict[int, list[Task]] = {}
    for name in graph.topological():
        node, wanted = graph.nodes[name], evaluator.wanted.get(name)
        if not wanted or node.cache_policy is not CachePolicy.ALWAYS or evaluator.frame_range(name) is None:
            continue
        for seg in evaluator.segments(name):
            need = [f for f in seg.frames if f in wanted]
            if need:
                res = tuple(sorted(node.resources.items()))
                stages.setdefault(depth[name], []).append(Task("segment", tuple(need), name, res))
    return [stages[d] for d in sorted(stages)]


def pinned_entries(graph, evaluator: Evaluator) -> list[tuple[str, CachePolicy]]:
    """``(key, policy)`` of every frame of every range node that the render begun on
    ``evaluator`` reads (:attr:`Evaluator.wanted`, windows included): what the render pins so
    that each segment is computed once."""
    items = []
    for name, frames in evaluator.wanted.items():
        node = graph.nodes[name]
        rng = evaluator.frame_range(name)
        if rng is None or node.cache_policy is CachePolicy.NEVER:
            continue
        for f in sorted(frames):
            if rng[0] <= f <= rng[1]:
                items.extend((evaluator.key(name, o, f), node.cache_policy) for o in node.outputs)
    return items


def frame_tasks(graph, targets: list[str], frames: list[int], chunk: int) -> list[Task]:
    """Per-frame tasks in chunks of ``chunk`` frames, asking for the resources (e.g. GPU) of
    the nodes they may compute."""
    res: dict[str, float] = {}
    for name in graph.upstream(targets):
        node = graph.nodes[name]
        if not (node.is_range and node.cache_policy is CachePolicy.ALWAYS):
            for k, v in node.resources.items():
                res[k] = max(res.get(k, 0), v)
    return [Task("frames", tuple(frames[i:i + chunk]), None, tuple(sorted(res.items())))
            for i in range(0, len(frames), chunk)]


def execute(evaluator: Evaluator, session: Session, task: Task) -> TaskResult:
    """Run one task of ``session`` with ``evaluator``; node failures become ``failed`` entries,
    never raise."""
    targets, retries, on_error = session.targets, session.retries, session.on_error
    before = Stats()
    before.merge(evaluator.stats)
    result = TaskResult(task)
    if task.kind == "segment":
        evaluator.wanted = {**evaluator.wanted, task.node: set(task.frames)}
        try:
            evaluator.ensure(task.node, task.frames)
            result.done = list(task.frames)
        except RotographError as e:
            result.failed = {f: str(e) for f in task.frames}
            result.exit_code = e.exit_code
    else:
        for f in task.frames:
            for attempt in range(retries + 1):
                try:
                    for t in targets:
                        evaluator.get(t, None, f)
                    result.done.append(f)
                    break
                except RotographError as e:
                    error = e
                    if attempt < retries:
                        result.retried += 1
            else:
                result.failed[f] = str(error) if isinstance(error, EvaluationError) else f"frame {f}: {error}"
                result.exit_code = error.exit_code
                if on_error == "stop":
                    break
    result.stats = evaluator.stats.since(before)
    return result


_SESSIONS: dict[str, Evaluator] = {}


def run_task(session: Session, task: Task) -> TaskResult:
    """Worker entry point: load (once per process) the graph and cache, then run ``task``."""
    ev = _SESSIONS.get(session.token)
    if ev is None:
        from .cache import Cache, DiskCache
        from ..core.graphio import loads

        graph = loads(session.graph_json, source="<render>", folder=session.folder)
        disk = DiskCache(session.cache_url, session.max_bytes) if session.cache_url else None
        ev = Evaluator(graph, Cache(disk, session.memory_bytes))
        ev.begin_render(session.targets, session.frames)
        _SESSIONS.clear()  # one render at a time per worker process: free the last one's memory
        _SESSIONS[session.token] = ev
        if session.threads:
            import cv2

            cv2.setNumThreads(session.threads)  # N workers × all cores each would oversubscribe
    return execute(ev, session, task)
