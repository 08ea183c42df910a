"""Error types. Every error rotograph raises for bad input is a :class:`RotographError`
whose message is one line naming the file, node, param, frame or JSON path at fault."""

from __future__ import annotations


class RotographError(Exception):
    """Base of every error caused by bad input (graph, params, media, cache)."""


class GraphError(RotographError):
    """A graph file or graph edit is invalid.

    ``path`` is the JSON path at fault, e.g. ``nodes.grow.params.size``; ``source`` the file.
    """

    def __init__(self, message: str, path: str = "", source: str | None = None):
        self.path = path
        self.source = source
        self.message = message
        where = ": ".join(p for p in (source, path) if p)
        super().__init__(f"{where}: {message}" if where else message)


class ParamError(RotographError):
    """A parameter value was refused (wrong type, out of range, not a choice, missing file)."""


class LinkError(RotographError):
    """Two ports cannot be connected (mismatched types, unknown port)."""


class MediaError(RotographError):
    """A media file or frame is missing or unreadable; the message names file and frame."""


class EvaluationError(RotographError):
    """A node failed while computing; the message names node and frame."""

    def __init__(self, node: str, frame: int | None, message: str):
        self.node = node
        self.frame = frame
        at = f"node '{node}'" + (f", frame {frame}" if frame is not None else "")
        super().__init__(f"{at}: {message}")


class CacheError(RotographError):
    """The cache cannot be opened: its path is a file, or its URL needs a filesystem package
    that is not installed; the message names the URL and what to do."""


class CacheCorruptError(RotographError):
    """A cache entry is truncated or corrupt (it is dropped and recomputed)."""


class RegistryError(RotographError):
    """Two plugins claim one type_id, or a plugin failed to register."""


def did_you_mean(name: str, candidates) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest candidate, or ``""``."""
    import difflib

    close = difflib.get_close_matches(str(name), [str(c) for c in candidates], n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""
