"""Where an evaluation is, for the viewer's waiting line and the render panel: the node and
frame it reads or computes, and how far a range node's run has got — frames emitted of the
frames this run emits (from the segment's start, or from where a resumable node goes on, to
the last frame wanted), so the total is right whatever frame was asked for.

:class:`Tracked` is an evaluator that keeps :class:`Progress` up to date and stops when its
``stop()`` says so (the subclass decides: a Cancel click, a newer viewer request); it checks
at every value read, before every compute, between a run's frames and inside long computes
(``Context.check``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import rotograph


@dataclass(frozen=True)
class Progress:
    """What is computing for the request ``(node, frame)``: ``at`` is the node it is in,
    ``at_frame`` its frame; ``run``, ``done``/``total`` the range node whose run is going and
    the frames it has emitted of those it emits (0/0: none); ``since`` when it began
    (``time.perf_counter``)."""

    node: str
    frame: int
    at: str
    at_frame: int
    done: int = 0
    total: int = 0
    since: float = 0.0
    run: str | None = None

    def text(self) -> str:
        """``track @ 1045 (frame 5/60 of its run)``, or ``grow @ 1045``."""
        where = f"{self.at} @ {self.at_frame}"
        if self.run is not None and self.total:
            where += f" ({self.run}: frame {min(self.done + 1, self.total)}/{self.total} of its run)"
        return where


class Tracked(rotograph.Evaluator):
    """An evaluator that records where it is (:attr:`progress`) and raises ``cancelled()``
    whenever :meth:`stop` says so."""

    def __init__(self, graph, cache, node: str, frame: int):
        super().__init__(graph, cache, log=lambda msg: None)
        self.since = time.perf_counter()
        self.progress = Progress(node, frame, node, frame, since=self.since)
        self._runs: list[tuple[str, int, int]] = []  # (range node, done, total), innermost last

    # -- what a subclass decides ----------------------------------------------------------
    def stop(self) -> BaseException | None:
        """The exception to stop with now, or None to go on."""
        return None

    # -- the engine's hooks ---------------------------------------------------------------
    def check(self) -> None:
        """A cancellation point: raise what :meth:`stop` returns."""
        error = self.stop()
        if error is not None:
            raise error

    def get(self, name, output, frame):
        self.check()
        self._moved(name, frame)
        return super().get(name, output, frame)

    def running(self, name, done, total):
        self._runs = [r for r in self._runs if r[0] != name]
        if done < total:
            self._runs.append((name, done, total))
        p = self.progress
        self._moved(p.at, p.at_frame)

    def _moved(self, at: str, at_frame: int) -> None:
        p = self.progress
        run = self._runs[-1] if self._runs else (None, 0, 0)
        self.progress = Progress(p.node, p.frame, at, at_frame, run[1], run[2], self.since, run[0])
