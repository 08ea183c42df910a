"""Parameter declarations and their validation.

A :class:`Param` is declared on a node class with a value type, a default and constraints; the
same declaration drives validation (from JSON, ``--set`` or the editor), the editor's widget, the
JSON Schema and the docs. Every accepted value is *canonical* (``int`` for int params, ``float``
for float params, lists for colours and prompts), so cache keys and saved graphs are stable.
"""

from __future__ import annotations

import math
import os
from typing import Any

from ..errors import ParamError, did_you_mean, json_repr  # noqa: F401  (json_repr: was defined here)
from ..io.media import MOVIE_EXTS, SAMPLES, frame_pattern
from ..io.timing import exact_rate


class ParamKind:
    """Base of the special parameter kinds (file paths, colours, prompts)."""

    name = "value"
    #: the editor's widget kind for params of this kind (UI metadata only; ``None``: the kind's
    #: ``name``); a plugin kind names a widget it registers (see ``rotograph.editor.widgets``)
    widget: str | None = None

    @classmethod
    def canonical(cls, value: Any) -> Any:  # pragma: no cover - overridden
        """The canonical form of ``value`` for this kind (what is stored, saved and hashed);
        raises ``ValueError`` with the reason (``Param`` adds node and param names)."""
        raise NotImplementedError


class FileIn(ParamKind):
    """Path of media to read: a file, a sequence pattern (``shot.####.exr``, ``%04d``, ``@@@@``)
    or a bundled sample (``sample:bigbuckbunny.mp4``). Existence is checked by the node."""

    name = "file_in"
    widget = "file_open"

    @classmethod
    def canonical(cls, value):
        value = _text(value, "a path string")
        if "\0" in value:
            raise ValueError("a path cannot contain NUL characters")
        if value.startswith("sample:"):
            if value[len("sample:"):] not in SAMPLES:
                raise ValueError(f"unknown sample {value!r} (known: {', '.join('sample:' + s for s in SAMPLES)})")
        return value


class FileOut(FileIn):
    """Path to write with a frame pattern (``out/shot.####.exr``, ``%04d``, ``@@@@``): one file
    per frame. Empty means not set yet."""

    name = "file_out"
    widget = "file_save"

    @classmethod
    def canonical(cls, value):
        value = super().canonical(value)
        if value and frame_pattern(value) is None:
            raise ValueError(f"{value!r} has no frame pattern (####, %04d or @@@@): every frame would "
                             f"overwrite the last")
        return value


class MovieOut(FileIn):
    """Path of a movie file to write (``.mov``, ``.mp4``, …): one file for all frames."""

    name = "movie_out"
    widget = "file_save"

    @classmethod
    def canonical(cls, value):
        value = super().canonical(value)
        if value and os.path.splitext(value)[1].lower() not in MOVIE_EXTS:
            raise ValueError(f"{value!r} is not a movie file name ({', '.join(sorted(MOVIE_EXTS))})")
        return value


def output_file_kind(name: str, extensions: tuple[str, ...], what: str) -> type[FileIn]:
    """A param kind for the path of one output file ending in one of ``extensions`` (lower
    case, with the dot: ``(".csv", ".json")``); ``what`` names such files in the error
    (``"box tables"``). Use it for a writer's ``file`` param when it writes one file that is not
    a movie, e.g. ``TableFile = output_file_kind("table_out", (".csv",), "tables")``. The kind's
    ``name`` is ``name`` (the editor shows a save-file picker for it)."""

    def canonical(cls, value):
        value = FileIn.canonical(value)
        if value and not value.lower().endswith(extensions):
            raise ValueError(f"{value!r}: {what} end in {', '.join(extensions)}")
        return value

    return type(name, (FileIn,), {"name": name, "widget": "file_save", "canonical": classmethod(canonical),
                                  "__doc__": f"Path of {what} ({', '.join(extensions)})."})


class FrameRate(ParamKind):
    """A frame rate: ``"auto"`` (the source's) or an exact rate given as a number or a string
    (``24``, ``"24000/1001"``, ``23.976`` = 24000/1001), kept canonical as ``"24000/1001"``
    or ``"25"`` (see :func:`rotograph.io.timing.exact_rate`)."""

    name = "frame_rate"
    widget = "str"

    @classmethod
    def canonical(cls, value):
        if value == "auto":
            return value
        rate = exact_rate(value)
        return str(rate.numerator) if rate.denominator == 1 else f"{rate.numerator}/{rate.denominator}"


class Color(ParamKind):
    """RGB colour: three floats (scene-linear)."""

    name = "color"

    @classmethod
    def canonical(cls, value):
        if not isinstance(value, (list, tuple)) or len(value) != 3:
            raise ValueError("expected [r, g, b]")
        return [_number(v, float) for v in value]


class Prompts(ParamKind):
    """Segmentation prompts: a list of keyframes, each
    ``{"frame": 1001, "object": 1, "points": [[x, y, label], ...], "box": [x0, y0, x1, y1]}``
    in pixel coordinates of the plate (label 1 positive, 0 negative; ``box`` may be null)."""

    name = "prompts"

    @classmethod
    def canonical(cls, value):
        if not isinstance(value, list):
            raise ValueError("expected a list of keyframe prompts")
        out = []
        for i, kf in enumerate(value):
            if not isinstance(kf, dict):
                raise ValueError(f"[{i}]: expected an object with frame, points, box")
            unknown = set(kf) - {"frame", "object", "points", "box"}
            if unknown:
                raise ValueError(f"[{i}]: unknown key {sorted(unknown)[0]!r}")
            if "frame" not in kf:
                raise ValueError(f"[{i}]: missing 'frame'")
            given = kf.get("points")
            if given is not None and not isinstance(given, list):
                raise ValueError(f"[{i}].points: expected a list of [x, y, label], got {json_repr(given)}")
            points = []
            for j, p in enumerate(given or []):
                if not isinstance(p, (list, tuple)) or len(p) != 3 or p[2] not in (0, 1):
                    raise ValueError(f"[{i}].points[{j}]: expected [x, y, label] with label 0 or 1")
                points.append([_number(p[0], float), _number(p[1], float), int(p[2])])
            box = kf.get("box")
            if box is not None:
                if not isinstance(box, (list, tuple)) or len(box) != 4:
                    raise ValueError(f"[{i}].box: expected [x0, y0, x1, y1]")
                box = [_number(v, float) for v in box]
                if box[2] <= box[0] or box[3] <= box[1]:
                    raise ValueError(f"[{i}].box: x1 > x0 and y1 > y0 needed, got {box}")
            if not points and box is None:
                raise ValueError(f"[{i}]: a keyframe needs points or a box")
            out.append({"frame": _number(kf["frame"], int), "object": _number(kf.get("object", 1), int),
                        "points": points, "box": box})
        return sorted(out, key=lambda k: (k["frame"], k["object"]))


def _number(value, typ):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected a number, got {json_repr(value)}")
    if typ is int:
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(f"expected an integer, got {value}")
        return int(value)
    try:
        value = float(value)
    except OverflowError:  # an integer beyond float's range (JSON allows any number of digits)
        value = math.inf
    if not math.isfinite(value):
        got = json_repr(value) if math.isnan(value) else "a number beyond ±1.8e308"
        raise ValueError(f"expected a finite number, got {got}")
    return value


def _text(value, what: str = "a string") -> str:
    """``value`` if it is a string that can be saved (UTF-8: no lone surrogates)."""
    if not isinstance(value, str):
        raise ValueError(f"expected {what}, got {json_repr(value)}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{json_repr(value)} is not valid Unicode text (it holds a lone surrogate)") from None
    return value


class Param:
    """A node parameter.

    ``Param(float, 0.0, range=(-256, 256))``; ``Param(str, "over", choices=("over", "under"))``;
    ``Param(FileIn, "")``; ``Param(Color, [0.1, 0.8, 0.1])``; ``Param(Prompts, [])``.
    ``range`` bounds are inclusive; ``check`` is an extra validator (value → canonical value,
    raising ``ValueError``), e.g. a colourspace name known to OpenColorIO. ``ui`` carries editor hints (label, widget, step) only.
    """

    def __init__(self, type, default, *, range=None, choices=None, check=None, doc: str = "",
                 ui: dict | None = None):
        self.type = type
        self.range = range
        self.choices = tuple(choices) if choices else None
        self.check = check  # extra validation: value -> canonical value, raising ValueError
        self.doc = doc
        self.ui = dict(ui or {})
        self.name = ""
        self.default = self.canonical(default, where="default")

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, node, owner=None):
        if node is None:
            return self
        return node._params[self.name]

    def __set__(self, node, value):
        node._params[self.name] = self.canonical(value, where=f"node '{node.name}'")
        node._touched()

    @property
    def widget(self) -> str:
        """The editor's widget kind its declaration implies: ``ui["widget"]``, else the value
        kind's :attr:`ParamKind.widget` (or its name), else ``int``/``float``/``str``/``bool``."""
        if self.ui.get("widget"):
            return self.ui["widget"]
        if isinstance(self.type, type) and issubclass(self.type, ParamKind):
            return self.type.widget or self.type.name
        return self.type_name

    @property
    def type_name(self) -> str:
        """The value type's name as graph files and ``rotograph nodes --json`` show it:
        the kind's ``name`` (``file_out``, ``prompts``) or ``int``/``float``/``str``/``bool``."""
        return self.type.name if isinstance(self.type, type) and issubclass(self.type, ParamKind) else self.type.__name__

    def canonical(self, value, where: str = ""):
        """Return the canonical form of ``value`` or raise :class:`ParamError` naming ``where``."""
        try:
            if isinstance(self.type, type) and issubclass(self.type, ParamKind):
                v = self.type.canonical(value)
            elif self.type is bool:
                if not isinstance(value, bool):
                    raise ValueError(f"expected true or false, got {json_repr(value)}")
                v = value
            elif self.type in (int, float):
                v = _number(value, self.type)
            elif self.type is str:
                v = _text(value)
            else:
                raise ValueError(f"unsupported param type {self.type!r}")
            if self.choices is not None and v not in self.choices:
                raise ValueError(f"{json_repr(v)} is not one of {', '.join(map(str, self.choices))}"
                                 + did_you_mean(v, self.choices))
            if self.range is not None and not (self.range[0] <= v <= self.range[1]):
                raise ValueError(f"{v} is outside the range [{self.range[0]}, {self.range[1]}]")
            if self.check is not None:
                v = self.check(v)
        except ValueError as e:
            prefix = f"{where}: " if where else ""
            raise ParamError(f"{prefix}param '{self.name}': {e}") from None
        return v

    def describe(self) -> dict:
        """Machine-readable description (``rotograph nodes --json``, editor widgets)."""
        d = {"type": self.type_name, "default": self.default, "doc": self.doc}
        if self.range is not None:
            d["range"] = list(self.range)
        if self.choices is not None:
            d["choices"] = list(self.choices)
        if self.ui:
            d["ui"] = self.ui
        return d
