"""Error types. Every error rotograph raises for bad input is a :class:`RotographError`
whose message is one line naming the file, node, param, frame or JSON path at fault.

Each error class has an ``exit_code``: what ``rotograph`` exits with when it stops on it
(the table is in README.md, "Exit codes"):

==== ===========================================================================
0    everything rendered / the command succeeded
1    frames failed while rendering (a node's computation failed)
2    usage error: a bad command-line option or value (:class:`UsageError`)
3    bad graph: graph file, node, param or link (:class:`GraphError`, …)
4    missing or corrupt input media (:class:`MediaError`)
5    output or disk failure: disk full, read-only folder, cache unusable (:class:`OutputError`)
130  interrupted (Ctrl+C): frames already rendered are kept
==== ===========================================================================
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import sys

EXIT_FAILED, EXIT_USAGE, EXIT_GRAPH, EXIT_INPUT, EXIT_OUTPUT, EXIT_INTERRUPTED = 1, 2, 3, 4, 5, 130


def shorten(text, limit: int = 80) -> str:
    """``text`` (any value: its ``repr`` unless a str) cut to ``limit`` characters for a
    message, with the full size appended: ``"'aaaa…(10 MB)"``; short text is returned whole."""
    text = text if isinstance(text, str) else repr(text)
    if len(text) <= limit:
        return text
    size = len(text.encode("utf-8", "replace"))
    unit = next((f"{size / scale:.0f} {u}" for u, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)) if size >= scale),
                f"{size} bytes")
    return f"{text[:limit]}…({unit})"


def short_message(message: str, limit: int = 80, whole: int = 2000) -> str:
    """``message`` with every run of more than 2×``limit`` non-space characters (a pasted
    value, a 10 MB param) cut to ``limit`` by :func:`shorten` (so a shortened message is
    never shortened again), then cut to ``whole`` characters."""
    if len(message) <= 2 * limit:
        return message
    message = re.sub(r"\S{%d,}" % (2 * limit + 1), lambda m: shorten(m.group(0), limit), message)
    return shorten(message, whole) if len(message) > whole else message


class RotographError(Exception):
    """Base of every error caused by bad input (graph, params, media, cache). A message
    quoting a long value is shortened (:func:`short_message`)."""

    exit_code = EXIT_FAILED

    def __init__(self, *args):
        if len(args) == 1 and isinstance(args[0], str):
            args = (short_message(args[0]),)
        super().__init__(*args)


class UsageError(RotographError):
    """A command-line option has a bad value (``--frames``, ``--cache-size``, ``--workers``…)."""

    exit_code = EXIT_USAGE


class OutputError(RotographError):
    """An output or cache file cannot be written: disk full, read-only folder, permission."""

    exit_code = EXIT_OUTPUT


_DISK_FAULTS = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is exceeded",
                errno.EROFS: "read-only filesystem", errno.EACCES: "permission denied",
                errno.EPERM: "permission denied"}


def output_error(what: str, error: BaseException, hint: str = "") -> OutputError:
    """An :class:`OutputError` for a failed write of ``what`` (a file, ``cache <url>``):
    says the disk is full / read-only / not writable when ``error`` (an ``OSError``, or a
    library's error quoting one) says so, else quotes it; ``hint`` says how to fix it."""
    code = getattr(error, "errno", None)
    text = str(error)
    if code not in _DISK_FAULTS:
        code = next((c for c in _DISK_FAULTS if os.strerror(c) in text), None)
    why = _DISK_FAULTS.get(code) or f"{type(error).__name__}: {getattr(error, 'strerror', None) or text}"
    return OutputError(f"{what}: cannot write ({why})" + (f": {hint}" if hint else ""))


class GraphError(RotographError):
    """A graph file or graph edit is invalid.

    ``path`` is the JSON path at fault, e.g. ``nodes.grow.params.size``; ``source`` the file.
    """

    exit_code = EXIT_GRAPH

    def __init__(self, message: str, path: str = "", source: str | None = None):
        self.path = path
        self.source = source
        self.message = message
        where = ": ".join(p for p in (source, path) if p)
        super().__init__(f"{where}: {message}" if where else message)


class ParamError(RotographError):
    """A parameter value was refused (wrong type, out of range, not a choice, missing file)."""

    exit_code = EXIT_GRAPH


class LinkError(RotographError):
    """Two ports cannot be connected (mismatched types, unknown port)."""

    exit_code = EXIT_GRAPH


class MediaError(RotographError):
    """A media file or frame is missing or unreadable; the message names file and frame."""

    exit_code = EXIT_INPUT


class EvaluationError(RotographError):
    """A node failed while computing; the message names node and frame.

    ``exit_code`` is the wrapped error's (a :class:`MediaError` raised in a node exits 4,
    a full disk 5): given, or taken from the error being handled when this one is raised."""

    def __init__(self, node: str, frame: int | None, message: str, exit_code: int | None = None):
        self.node = node
        self.frame = frame
        if exit_code is None:
            handling = sys.exc_info()[1]
            exit_code = getattr(handling, "exit_code", EXIT_FAILED)
        self.exit_code = exit_code
        at = f"node '{node}'" + (f", frame {frame}" if frame is not None else "")
        super().__init__(f"{at}: {message}")


class CacheError(RotographError):
    """The cache cannot be opened: its path is a file, or its URL needs a filesystem package
    that is not installed; the message names the URL and what to do."""

    exit_code = EXIT_OUTPUT


class CacheCorruptError(RotographError):
    """A cache entry is truncated or corrupt (it is dropped and recomputed)."""


class RegistryError(RotographError):
    """Two plugins claim one type_id, a plugin failed to import or register, or a node class
    breaks the node author's contract (a writer without a ``file`` path param, …)."""

    exit_code = EXIT_GRAPH


class UnknownNodeTypeError(GraphError, KeyError):
    """:meth:`rotograph.Registry.get` was asked for a ``type_id`` nobody registered; the message
    names it and the closest registered ones. A :class:`GraphError` (and, for code written
    before it existed, a ``KeyError``)."""

    __str__ = Exception.__str__  # KeyError would quote the message


def did_you_mean(name: str, candidates, n: int = 1) -> str:
    """Return ``" (did you mean 'x'?)"`` (or ``'x', 'y' or 'z'`` with ``n`` > 1) for the
    closest of ``candidates`` by :func:`difflib.get_close_matches` (ratio ≥ 0.5), or ``""``."""
    import difflib

    if len(str(name)) > 200:  # a pasted value, not a typo (difflib would take seconds on 10 MB)
        return ""
    close = difflib.get_close_matches(str(name), [str(c) for c in candidates], n=n, cutoff=0.5)
    if not close:
        return ""
    quoted = [f"'{c}'" for c in close]
    listed = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
    return f" (did you mean {listed}?)"


def json_repr(value) -> str:
    """At most 60 characters of ``value`` as JSON (else its repr) for an error message; never
    raises, even for values nested too deeply or integers too long to print."""
    for text in (json.dumps, repr):
        try:
            return text(value)[:60]
        except (TypeError, ValueError, RecursionError):
            pass
    return f"a {type(value).__name__}"


@contextlib.contextmanager
def blame(node: str, frame: int | None):
    """Turn any failure inside the block into an :class:`EvaluationError` naming node and frame
    (an error already naming its node passes through unchanged)."""
    try:
        yield
    except EvaluationError:
        raise
    except RotographError as e:
        raise EvaluationError(node, frame, str(e)) from None
    except Exception as e:
        raise EvaluationError(node, frame, f"{type(e).__name__}: {e}") from e
