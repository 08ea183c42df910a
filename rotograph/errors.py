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
    """Two plugins claim one type_id, a plugin failed to import or register, or a node class
    breaks the node author's contract (a writer without a ``file`` path param, …)."""


class UnknownNodeTypeError(GraphError, KeyError):
    """:meth:`rotograph.Registry.get` was asked for a ``type_id`` nobody registered; the message
    names it and the closest registered ones. A :class:`GraphError` (and, for code written
    before it existed, a ``KeyError``)."""

    __str__ = Exception.__str__  # KeyError would quote the message


def did_you_mean(name: str, candidates, n: int = 1) -> str:
    """Return ``" (did you mean 'x'?)"`` (or ``'x', 'y' or 'z'`` with ``n`` > 1) for the
    closest of ``candidates`` by :func:`difflib.get_close_matches` (ratio ≥ 0.5), or ``""``."""
    import difflib

    close = difflib.get_close_matches(str(name), [str(c) for c in candidates], n=n, cutoff=0.5)
    if not close:
        return ""
    quoted = [f"'{c}'" for c in close]
    listed = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
    return f" (did you mean {listed}?)"
