"""What an evaluation did, per node: frames computed, cache hits, range runs (tests prove with it
what recomputed; a render's report sums its workers')."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Stats:
    """Per-node counters: ``computes`` (frames computed), ``hits`` (cache hits),
    ``range_runs`` (segment runs of range nodes)."""

    computes: Counter = field(default_factory=Counter)
    hits: Counter = field(default_factory=Counter)
    range_runs: Counter = field(default_factory=Counter)

    def reset(self) -> None:
        """Zero every counter."""
        self.computes.clear()
        self.hits.clear()
        self.range_runs.clear()

    def since(self, before: "Stats") -> "Stats":
        """The counts added since the snapshot ``before``."""
        return Stats(self.computes - before.computes, self.hits - before.hits,
                     self.range_runs - before.range_runs)

    def merge(self, other: "Stats") -> None:
        """Add ``other``'s counts to these (a worker's task into the render's report)."""
        self.computes.update(other.computes)
        self.hits.update(other.hits)
        self.range_runs.update(other.range_runs)
