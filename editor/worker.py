"""Evaluation off the UI thread: the viewer asks for (node, output, frame), a worker thread
computes it and the UI picks the newest result up on its next frame.

The worker evaluates a private copy of the graph (rebuilt from the model's JSON when it
changed), sharing one memory cache across copies: keys come from content, so whatever did not
change upstream is a cache hit. A newer request supersedes an older one that has not started.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass

import rotograph
from rotograph.errors import RotographError


@dataclass
class Result:
    node: str
    output: str | None
    frame: int
    value: object = None
    plate: object = None
    error: str | None = None
    seconds: float = 0.0


class EvalWorker:
    def __init__(self, registry, cache=None):
        self.registry = registry
        self.cache = cache or rotograph.Cache()
        self._requests: queue.Queue = queue.Queue()
        self._results: queue.Queue = queue.Queue()
        self._graph = None
        self._text = None
        self.errors: dict[str, str] = {}  # node → last evaluation error (error badges)
        self._thread = threading.Thread(target=self._run, daemon=True, name="rotograph-eval")
        self._thread.start()

    def request(self, graph_text: str, node: str, output: str | None, frame: int, plate_node: str | None = None):
        self._requests.put((graph_text, node, output, frame, plate_node))

    def result(self) -> Result | None:
        """The newest finished result, if any (older ones are dropped)."""
        out = None
        while True:
            try:
                out = self._results.get_nowait()
            except queue.Empty:
                return out

    def _run(self) -> None:
        while True:
            item = self._requests.get()
            while True:  # only the newest request matters
                try:
                    item = self._requests.get_nowait()
                except queue.Empty:
                    break
            if item is None:
                return
            text, node, output, frame, plate_node = item
            t0 = time.perf_counter()
            res = Result(node, output, frame)
            try:
                if text != self._text:
                    self._graph, self._text = rotograph.loads(text, self.registry), text
                ev = rotograph.Evaluator(self._graph, self.cache)
                res.value = ev.get(node, output, frame)
                if plate_node:
                    res.plate = ev.get(plate_node, None, frame)
                self.errors.pop(node, None)
            except RotographError as e:
                res.error = str(e)
                self.errors[getattr(e, "node", node) or node] = str(e)
            res.seconds = time.perf_counter() - t0
            self._results.put(res)

    def cached_frames(self, graph_text: str, node: str, frames) -> list[int]:
        """Frames of ``node`` whose result is in the cache (for the timeline bar)."""
        try:
            g = rotograph.loads(graph_text, self.registry)
            ev = rotograph.Evaluator(g, self.cache)
            return [f for f in frames if self.cache.contains(ev.key(node, None, f), g.nodes[node].cache_policy)]
        except RotographError:
            return []

    def close(self) -> None:
        self._requests.put(None)
