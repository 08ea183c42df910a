"""Many shots through one graph: a table of per-shot overrides (the spreadsheet pattern).

A shots table is CSV or JSON. Each row names a ``shot`` and may set ``frames`` and any
``node.param`` (``read.file``, ``write.file``, ``track.prompts``, …). Values are JSON when they
parse (numbers, lists, ``true``) and strings otherwise; ``@path.json`` loads a value (e.g. a
keyframes file) from a JSON file next to the table. Empty cells override nothing.

CSV::

    shot,frames,read.file,write.file,track.prompts
    sh010,1001-1100,/shots/sh010/plate.####.exr,/renders/sh010/matte.####.exr,@sh010_keys.json

JSON: a list of objects with the same keys.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass, field

from ..errors import GraphError, RotographError

RESERVED = ("shot", "frames")


@dataclass
class Shot:
    """One row: its name, frame range (or ``None`` for the graph's) and param overrides."""

    name: str
    frames: str | None = None
    overrides: dict[str, object] = field(default_factory=dict)


def _value(text, base: str, where: str):
    if not isinstance(text, str):
        return text
    if text.startswith("@"):
        path = os.path.join(base, text[1:])
        try:
            with open(path, encoding="utf-8") as f:
                return json.load(f)
        except (OSError, json.JSONDecodeError) as e:
            raise GraphError(f"{where}: cannot read {path}: {e}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def load_shots(path: str) -> list[Shot]:
    """Read a shots table (``.csv`` or ``.json``); errors name the file, row and column."""
    base = os.path.dirname(os.path.abspath(path))
    try:
        with open(path, encoding="utf-8", newline="") as f:
            if path.lower().endswith(".json"):
                rows = json.load(f)
                if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                    raise GraphError(f"{path}: expected a JSON list of objects, one per shot")
            else:
                rows = list(csv.DictReader(f))
    except OSError as e:
        raise GraphError(f"{path}: {e.strerror}") from None
    except json.JSONDecodeError as e:
        raise GraphError(f"{path}: malformed JSON: {e.msg} at line {e.lineno}") from None
    shots, seen = [], set()
    for i, row in enumerate(rows, start=1):
        where = f"{path}: row {i}"
        name = str(row.get("shot") or "").strip()
        if not name:
            raise GraphError(f"{where}: no 'shot' name")
        if name in seen:
            raise GraphError(f"{where}: shot '{name}' appears twice")
        seen.add(name)
        frames = row.get("frames") or None
        overrides = {}
        for column, cell in row.items():
            if column in RESERVED or cell in (None, ""):
                continue
            if column is None or "." not in str(column):
                raise GraphError(f"{where}: column {column!r} is not node.param")
            overrides[column] = _value(cell, base, f"{where}, column {column}")
        shots.append(Shot(name, str(frames) if frames is not None else None, overrides))
    if not shots:
        raise GraphError(f"{path}: the shots table is empty")
    return shots


def apply(graph, shot: Shot, source: str = "") -> None:
    """Set a shot's overrides on a graph; errors name the shot and column. A relative file
    path means the current directory, as on the command line."""
    from ..core.graphio import cwd_path

    for ref, value in shot.overrides.items():
        try:
            graph.set(ref, cwd_path(graph, ref, value))
        except RotographError as e:
            raise GraphError(f"{source}shot '{shot.name}', column {ref}: {e}") from None


def render_shots(graph_path: str, shots: list[Shot], progress=None, **render_kwargs):
    """Render every shot (a fresh graph each); returns ``[(shot, report or error text)]``.
    A shot that fails does not stop the others."""
    from ..core.graphio import load
    from .render import render

    results = []
    for shot in shots:
        try:
            graph = load(graph_path)
            apply(graph, shot)
            report = render(graph, shot.frames, progress=(lambda r, s=shot: progress(s, r)) if progress else None,
                            **render_kwargs)
        except RotographError as e:
            results.append((shot, str(e)))
            continue
        results.append((shot, report))
    return results
