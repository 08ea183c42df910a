"""Evaluation off the UI thread: the viewer asks for (node, output, frame), a worker thread
computes it and the UI picks the newest result up on its next frame.

The worker evaluates a private copy of the graph (rebuilt from the model's JSON when it
changed) through one cache shared with renders: keys come from content, so whatever did not
change upstream is a cache hit. Only the newest request matters: one that arrives while another
is computing cancels it at the next node boundary — unless a range node is running whose run
(segment) the new request needs too, unchanged (same key): that goes on, its frames cached as
they come. A
cancelled range run loses no emitted frame (they are cached), and resumable nodes go on from there.
While it works, :attr:`EvalWorker.progress` says which node and frame it is at (for a range
node: how far through its segment).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace

import rotograph
from rotograph.errors import EvaluationError, RotographError

from .display import PixelCache, size_of, viewer_rgba
from .progress import Progress, Tracked


@dataclass
class Request:
    """What the viewer asks the worker for."""
    text: str               # the graph, as the file's JSON
    node: str
    output: str | None
    frame: int
    plate: str | None = None  # a node whose Image is shown under a matte (prompts are drawn on it)
    frames: tuple[int, ...] = ()  # the timeline's frames, for the cached-frames bar
    seq: int = 0              # the request's number, echoed by its result
    mode: str = "rgb"         # how the viewer shows it (display.MODES)
    downscale: int = 1        # the viewer draws it this many times smaller than 1:1
    proxy: float = 1.0        # the graph is a proxy at this scale (editor/proxy_view.py): sizes are full-res ones
    compare: tuple | None = None  # (node, output) shown right of the viewer's wipe line
    folder: str | None = None  # the graph file's folder: its relative file paths are relative to it


@dataclass
class Result:
    """What the worker answers: the value, its viewer pixels, or the error."""
    node: str
    output: str | None
    frame: int
    value: object = None
    plate: object = None
    error: str | None = None
    seconds: float = 0.0
    cached: list[int] = field(default_factory=list)  # frames of ``node`` in the cache
    seq: int = 0
    rgba: object = None        # the viewer's pixels (of the value, or of the plate if the node failed)
    size: tuple[int, int] | None = None  # the full-resolution width and height they show
    downscale: int = 1
    display_error: str | None = None
    pixel_key: tuple | None = None  # what ``rgba`` shows (the viewer keeps textures by it)
    compare_rgba: object = None  # the pixels of the wipe's B
    compare_error: str | None = None


class Cancelled(BaseException):
    """A newer request superseded the one being computed (a BaseException, so that no node's
    error handling turns it into a node failure on its way out)."""


class _Watched(Tracked):
    """An evaluator that publishes where it is and stops when superseded."""

    def __init__(self, graph, cache, worker: "EvalWorker", request: Request):
        super().__init__(graph, cache, request.node, request.frame)
        self.worker, self.request = worker, request
        self.stack: list[tuple[str, int]] = []  # (node, frame) being asked for, outermost first
        self.cancelled = False

    def get(self, name, output, frame):
        self.stack.append((name, frame))
        try:
            return super().get(name, output, frame)
        finally:
            self.stack.pop()

    def _running_range(self) -> tuple[str, int] | None:
        return next(((n, f) for n, f in self.stack if self.graph.nodes[n].is_range), None)

    def _moved(self, at: str, at_frame: int) -> None:
        super()._moved(at, at_frame)
        self.worker.progress = self.progress

    def stop(self):
        if self.worker._superseded(self, self._running_range()):
            self.cancelled = True
            return Cancelled()
        return None


def _node_at_fault(error: RotographError, default: str) -> str:
    """The node an error names: an evaluation error's node, a graph error's ``nodes.NAME…`` path."""
    if isinstance(error, EvaluationError):
        return error.node
    path = getattr(error, "path", "") or ""
    return path.split(".")[1] if path.startswith("nodes.") and path.count(".") >= 1 else default


class EvalWorker:
    """The evaluation thread behind the viewer (see the module's docstring)."""
    def __init__(self, registry, cache=None):
        self.registry = registry
        self.cache = cache or rotograph.Cache()
        self.errors: dict[str, str] = {}  # node → last evaluation error (error badges)
        self.errors_version = 0
        self.progress: Progress | None = None
        self.pixels = PixelCache()  # the display pixels of the images shown lately
        self._cv = threading.Condition()
        self._pending: Request | None = None
        self._results: list[Result] = []
        self._closed = False
        self._graph = None
        self._source = None  # (graph text, folder) of the graph loaded last
        self._started = 0.0
        self._superseding: tuple[int, bool] | None = None
        self._seq = 0
        self._keys_for: tuple | None = None
        self._keys: dict[int, str] = {}
        self.on_result = None  # called on the worker's thread when a result (or its cached frames) is ready
        self._thread = threading.Thread(target=self._run, daemon=True, name="rotograph-eval")
        self._thread.start()

    # -- the UI thread's side -------------------------------------------------------------
    def request(self, graph_text: str, node: str, output: str | None, frame: int, plate: str | None = None,
                frames=(), mode: str = "rgb", downscale: int = 1, proxy: float = 1.0, compare=None,
                folder: str | None = None) -> int:
        """Ask for a value (and its viewer pixels); returns the request's number (its result
        carries it). ``folder``: the graph file's folder (relative file paths are relative to it)."""
        with self._cv:
            self._seq += 1
            self._pending = Request(graph_text, node, output, frame, plate, tuple(frames), self._seq, mode,
                                    max(1, int(downscale)), proxy, tuple(compare) if compare else None, folder)
            self._cv.notify_all()
            return self._seq

    def result(self) -> Result | None:
        """The newest finished result, if any (older ones are dropped)."""
        with self._cv:
            out = self._results[-1] if self._results else None
            self._results.clear()
            return out

    def wait_result(self, timeout: float) -> bool:
        """Block (the GIL released) until a result is ready, at most ``timeout`` s; True if one is."""
        with self._cv:
            return self._cv.wait_for(lambda: bool(self._results) or self._closed, timeout)

    @property
    def busy(self) -> bool:
        """An evaluation is running."""
        return self.progress is not None

    def close(self) -> None:
        """Stop the thread (it ends after the evaluation it is in)."""
        with self._cv:
            self._closed = True
            self._cv.notify_all()
        self._thread.join(timeout=2)

    # -- the worker thread ----------------------------------------------------------------
    def _superseded(self, ev: _Watched, running_range) -> bool:
        """Whether a newer request makes the running evaluation useless: always, unless a range
        node is running whose run the newer request needs too — the same segment, unchanged
        (same key)."""
        newer = self._pending
        if newer is None:
            return False
        if running_range is None:
            return True
        if self._superseding is None or self._superseding[0] != newer.seq:
            node, frame = running_range
            try:
                graph = rotograph.loads(newer.text, self.registry, folder=newer.folder)
                new = rotograph.Evaluator(graph, self.cache)
                needed = (node in graph.nodes and node in graph.upstream([newer.node]) and
                          new.segment_of(node, newer.frame) == ev.segment_of(node, frame) and
                          new.key(node, None, frame) == ev.key(node, None, frame))
            except RotographError:
                needed = False
            self._superseding = (newer.seq, not needed)
        return self._superseding[1]

    def _run(self) -> None:
        while True:
            with self._cv:
                while self._pending is None and not self._closed:
                    self._cv.wait()
                if self._closed:
                    return
                req, self._pending = self._pending, None
            res = self._evaluate(req)
            self.progress = None
            if res is not None:
                with self._cv:
                    self._results.append(res)
                    self._cv.notify_all()
                self._wake()
                # after the result is out (a cached step is not kept waiting for the timeline's bar):
                # the frames of the node in the cache, into the result the timeline reads
                res.cached = self._cached_frames(req)
                self._wake()

    def _evaluate(self, req: Request) -> Result | None:
        self._started = t0 = time.perf_counter()
        res = Result(req.node, req.output, req.frame, seq=req.seq)
        ev = None
        try:
            if (req.text, req.folder) != self._source:
                self._graph = rotograph.loads(req.text, self.registry, folder=req.folder)
                self._source = (req.text, req.folder)
            ev = _Watched(self._graph, self.cache, self, req)
            if req.plate:  # first, so that a node that fails still shows what to prompt on
                res.plate = ev.get(req.plate, None, req.frame)
            self._graph.validate([req.node])  # an unconnected input or missing file: a one-line message
            res.value = ev.get(req.node, req.output, req.frame)
            self._set_error(req.node, None)
            if req.compare:
                self._compare(ev, req, res)
        except Cancelled:
            return None
        except RotographError as e:
            if ev is not None and ev.cancelled:
                return None
            res.error = str(e)
            self._set_error(_node_at_fault(e, req.node), str(e))
        res.seconds = time.perf_counter() - t0
        shown = res.value if res.error is None else res.plate
        if shown is not None:
            try:
                res.rgba, res.pixel_key = self._display(ev, req, shown, res.plate if res.error is None else None,
                                                        failed=res.error is not None)
                size = size_of(shown)
                res.size = size and (round(size[0] / req.proxy), round(size[1] / req.proxy))
                res.downscale = req.downscale
            except TypeError as e:
                res.display_error = str(e)
        return res

    def _compare(self, ev, req: Request, res: Result) -> None:
        """The wipe's B: its value at the frame, in the viewer's pixels (its failure is B's only)."""
        node, output = req.compare
        try:
            value = ev.get(node, output, req.frame)
            res.compare_rgba = self._display(ev, replace(req, node=node, output=output, plate=None), value, None,
                                             failed=False)[0]
        except (RotographError, TypeError) as e:
            res.compare_error = str(e)

    def _display(self, ev, req: Request, shown, plate, failed: bool):
        """The viewer's pixels of ``shown`` (over ``plate``) and what they show (a key, or None):
        from :attr:`pixels` when this image was shown lately, else made (and kept there)."""
        try:  # what the pixels show: the value (over the plate), or the plate alone (the node failed)
            plate_key = ev.key(req.plate, None, req.frame) if req.plate else None
            key = (("plate", plate_key) if failed else (ev.key(req.node, req.output, req.frame),
                                                         plate_key if plate is not None else None),
                   req.mode, req.downscale, req.proxy)
        except RotographError:
            key = None
        rgba = self.pixels.get(key) if key is not None else None
        if rgba is None:
            shrink = max(1, round(req.downscale * req.proxy))  # a proxy is already that much smaller
            rgba = viewer_rgba(shown, plate, req.mode, shrink)
            if key is not None:
                self.pixels.put(key, rgba)
        return rgba, key

    def check(self, graph) -> list[str]:
        """Check every node of ``graph`` as a render would (params, files, required inputs),
        before anything is evaluated: each problem becomes its node's error badge. Returns the
        problems, one line each."""
        from rotograph.errors import GraphError, ParamError

        problems = []
        for name in graph.topological():
            node = graph.nodes[name]
            error = None
            try:
                node.check()
            except ParamError as e:
                error = str(e)
            except RotographError as e:
                error = f"node '{name}': {e}"
            missing = [i for i, inp in node.inputs.items() if not inp.optional and i not in graph.inputs_of(name)]
            if error is None and missing:
                error = str(GraphError(f"input '{missing[0]}' is not connected", path=f"nodes.{name}.inputs"))
            self._set_error(name, error)
            if error:
                problems.append(error)
        return problems

    def _set_error(self, node: str, error: str | None) -> None:
        if self.errors.get(node) != error:
            if error is None:
                self.errors.pop(node, None)
            else:
                self.errors[node] = error
            self.errors_version += 1

    def _wake(self) -> None:
        if self.on_result is not None:
            self.on_result()

    def _cached_frames(self, req: Request) -> list[int]:
        """Frames of the requested node whose result is in the cache (the timeline's bar). The
        keys are remembered for the graph's text (computing a key can probe files)."""
        try:
            if self._keys_for != (req.text, req.node, req.output):
                self._keys_for, self._keys = (req.text, req.node, req.output), {}
            ev = rotograph.Evaluator(self._graph, self.cache)
            policy = self._graph.nodes[req.node].cache_policy
            out = []
            for f in req.frames:
                if self._pending is not None:  # a newer request: the bar can wait
                    return out
                if f not in self._keys:
                    self._keys[f] = ev.key(req.node, req.output, f)
                if self.cache.contains(self._keys[f], policy):
                    out.append(f)
            return out
        except RotographError:
            return []
