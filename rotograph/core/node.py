"""The node API: typed ``Input``/``Output``/``Param`` declarations, per-frame and range nodes.

A node is a small class::

    class Grow(Node):
        '''Dilate (positive) or erode (negative) a matte. ...'''
        type_id = "rotograph.Grow"      # namespaced, stable, never renamed
        version = 1                     # bump when output pixels change: it enters the cache key
        matte = Input(Matte)
        size = Param(float, 0.0, range=(-256, 256))
        out = Output(Matte)

        def passthrough(self):          # reuse the input's cache key when the node is a no-op
            return "matte" if self.size == 0 else None

        def compute(self, ctx, matte):  # pure: no globals, inputs are read-only arrays
            return grow(matte, self.size)

The engine derives every cache key from these declarations (type, version, canonical params, the
keys of the inputs, the frame when the node reads it): nobody writes a hash by hand.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Iterator

from ..errors import ParamError
from .params import Param
from ..io.timing import Timing
from .types import Format, PortType
from .upgrade import Upgrade


class CachePolicy(enum.Enum):
    """Where a node's results are kept: memory and disk, memory only, or nowhere."""

    ALWAYS = "always"
    MEMORY_ONLY = "memory_only"
    NEVER = "never"


class Input:
    """A typed input port. ``optional`` inputs may be left unconnected (``None`` in compute).

    ``window`` makes the input *windowed*: to compute frame f the node reads it at every frame
    of [f − k, f + k], clamped to the node's frame range (only f when f lies outside that range),
    where k (frames, ≥ 0) is ``window`` itself (an int) or the value of the int param it names
    (``Input(Matte, window="radius")``). ``compute`` then receives a dict frame → value with
    ascending frame keys (the centre is ``ctx.frame``; near the first or last frame the window
    is one-sided), and the keys of every frame of the window enter the node's cache key.
    """

    def __init__(self, type: PortType, *, optional: bool = False, doc: str = "", window: int | str | None = None):
        self.type = type
        self.optional = optional
        self.doc = doc
        self.window = window
        self.name = ""

    def __set_name__(self, owner, name):
        self.name = name


class Output:
    """A typed output port, named by its class attribute, or by ``name`` when it carries the
    name of an input (a MatteRefine takes a ``matte`` and gives a ``matte``: its output is
    declared ``matte_result = Output(Matte, name="matte")``). Links and ``compute``'s dict use
    the port's name."""

    def __init__(self, type: PortType, *, doc: str = "", name: str = ""):
        self.type = type
        self.doc = doc
        self.name = name

    def __set_name__(self, owner, name):
        self.name = self.name or name


@dataclass
class Context:
    """What ``compute`` may know besides its inputs: the frame, the node's name, the cache
    key of what it computes (writers record it in file metadata) and the node's
    :class:`~rotograph.io.timing.Timing` (frame rate and timecode of the source, when known)."""

    frame: int
    node: str
    log: Callable[[str], None] = print
    key: str = ""
    frames: tuple[int, ...] = ()  # range nodes: the frames of the segment this render wants
    timing: Timing | None = None
    frame_range: tuple[int, int] | None = None  # range nodes: the node's frame range (inclusive)
    format: Format | None = None  # the node's output format (size, pixel aspect), when known
    input_formats: dict[str, Format | None] = field(default_factory=dict)  # each connected input's format
    # a long compute calls ``check()`` between its steps: it raises when the evaluation was
    # cancelled (the editor's Cancel, a newer viewer request) and does nothing otherwise
    check: Callable[[], None] = lambda: None


@dataclass(frozen=True)
class Segment:
    """A run of frames a range node processes in one go, in ``frames`` order (may descend).

    ``lead``: frames the run reads and processes before its first emitted frame, without
    emitting them (a run backwards from a keyframe is seeded on that keyframe, which the
    forward segment emits). The run is ``lead + frames``."""

    frames: tuple[int, ...]
    lead: tuple[int, ...] = ()

    @property
    def bounds(self) -> tuple[int, int]:
        """(first, last) frame the segment emits, whatever its direction."""
        return (min(self.frames), max(self.frames))

    @property
    def run(self) -> tuple[int, ...]:
        """Every frame the run processes, in order: the lead, then the emitted frames."""
        return self.lead + self.frames

    @property
    def direction(self) -> int:
        """+1 for a run forwards in time, −1 backwards."""
        run = self.run
        return -1 if len(run) > 1 and run[1] < run[0] else 1


@dataclass(frozen=True)
class Reach:
    """How a range node's frames depend on their inputs and keyframes: what enters each
    frame's cache key, so that a correction invalidates only the frames it can change.

    ``causal`` (the usual case for trackers and recurrent models): frame f of a run depends only
    on where the run starts and on what the run has passed by f — the inputs at every frame of
    the run up to f, plus ``lookahead`` input frames beyond each (along the run, clamped to the
    node's frame range), and the keyframes of the ``keyframes`` params at those frames. A
    frame's key is then chained from the previous frame's key along the run
    (key(fᵢ) = H(key(fᵢ₋₁), inputs and keyframes at fᵢ)), so it costs one hash per frame however
    long the shot, and a keyframe added at k changes the keys of the frames the run passes
    after k only. Params not named in ``keyframes`` enter every frame's key.
    ``causal=False``: every frame depends on the whole segment (a window of frames solved
    together, a movie file): its key covers every input frame of the segment and every param.

    ``keyframes``: names of params holding keyframes — a list of dicts each with a ``"frame"``
    (e.g. ``prompts``). A node whose keyframes are stored otherwise overrides
    :meth:`RangeNode.keyframe_material`.
    """

    causal: bool = False
    lookahead: int = 0
    keyframes: tuple[str, ...] = ()


class Node:
    """Base of every per-frame node. Subclasses declare ports and params as class attributes.

    Class attributes: ``type_id`` (str, namespaced), ``version`` (int ≥ 1), ``category``,
    ``cache_policy``, ``frame_dependent`` (True when the result depends on the frame number
    itself, not only through the inputs — e.g. Read), ``is_writer`` (sinks rendered by default),
    ``resources`` (Dask worker resources its tasks need, e.g. ``{"GPU": 1}``).
    """

    type_id: ClassVar[str] = ""
    version: ClassVar[int] = 1
    category: ClassVar[str] = "Other"
    cache_policy: ClassVar[CachePolicy] = CachePolicy.ALWAYS
    frame_dependent: ClassVar[bool] = False
    is_writer: ClassVar[bool] = False
    is_range: ClassVar[bool] = False
    resources: ClassVar[dict[str, float]] = {}  # e.g. {"GPU": 1}: Dask worker resources it needs
    # params measured in pixels: param → power of the scale (1: px, 2: px²) or a function of the
    # node giving it; ``render --proxy`` scales them with the image (see rotograph.engine.proxy)
    pixel_params: ClassVar[dict[str, Any]] = {}

    inputs: ClassVar[dict[str, Input]] = {}
    outputs: ClassVar[dict[str, Output]] = {}
    params: ClassVar[dict[str, Param]] = {}

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        ins, outs, params = {}, {}, {}
        for klass in reversed(cls.__mro__):
            named: set[str] = set()
            for k, v in vars(klass).items():
                if isinstance(v, Input):
                    ins[k] = v
                elif isinstance(v, Output):
                    if (v.name or k) in named:
                        raise TypeError(f"{cls.__name__}: two outputs are named '{v.name or k}'")
                    named.add(v.name or k)
                    outs[v.name or k] = v
                elif isinstance(v, Param):
                    params[k] = v
        cls.inputs, cls.outputs, cls.params = ins, outs, params
        for i in ins.values():
            if isinstance(i.window, str) and i.window not in params:
                raise TypeError(f"{cls.__name__}.{i.name}: window names no param '{i.window}'")

    def __init__(self, name: str = "", **params):
        self.name = name or self.type_id.rsplit(".", 1)[-1].lower()
        self._params: dict[str, Any] = {k: p.default for k, p in self.params.items()}
        self._on_change: Callable[[], None] | None = None
        self.graph_folder: str | None = None  # the graph file's folder (set by the graph), see resolve()
        for k, v in params.items():
            self.set(k, v)

    # -- params ---------------------------------------------------------------------------
    def set(self, param: str, value) -> None:
        """Validate and set a param; raises :class:`ParamError` naming node and param."""
        if param not in self.params:
            from ..errors import did_you_mean

            raise ParamError(f"node '{self.name}' ({self.type_id}) has no param '{param}'"
                             + did_you_mean(param, self.params))
        setattr(self, param, value)

    def get_params(self) -> dict[str, Any]:
        """Every param's canonical value, defaults included."""
        return dict(self._params)

    def key_params(self) -> dict[str, Any]:
        """The params as the cache key sees them: :meth:`get_params` with each file path
        resolved to an absolute one (:meth:`resolve`), so that one file spelt two ways (relative
        to another graph file's folder, or absolute) is one key."""
        import os

        from .params import FileIn

        out = self.get_params()
        for name, param in self.params.items():
            value = out[name]
            if isinstance(param.type, type) and issubclass(param.type, FileIn) and value and \
                    not value.startswith("sample:"):
                out[name] = os.path.abspath(self.resolve(value))
        return out

    def resolve(self, path: str) -> str:
        """A file param's value as the node opens it: ``~`` expanded, and a relative path joined
        to :attr:`graph_folder`, the folder of the graph file the node was read from (the current
        directory when the graph has no file). ``sample:`` names are returned unchanged."""
        import os

        if path.startswith("sample:"):
            return path
        path = os.path.expanduser(path)
        return os.path.join(self.graph_folder, path) if self.graph_folder and not os.path.isabs(path) else path

    def _touched(self):
        if self._on_change is not None:
            self._on_change()

    # -- evaluation hooks -----------------------------------------------------------------
    def check(self) -> None:
        """Cross-param and resource checks before a render (files exist, ...). Raise ParamError."""

    def passthrough(self) -> str | None:
        """Name of an input whose value (and key) the single output reuses, or ``None``."""
        return None

    def key_material(self, frame: int) -> Any:
        """Extra key material that the params do not capture (file identity, weight digests).

        Must be cheap and never decode pixels. JSON-able values only."""
        return None

    def input_frame(self, input: str, frame: int) -> int:
        """The frame at which ``input`` is read to produce ``frame`` (time nodes override)."""
        return frame

    def input_window(self, input: str) -> int | None:
        """Half-width k (frames) of the window [f − k, f + k] over which ``input`` is read, or
        ``None`` for a plain input (read at one frame). Default: from ``Input(window=...)``."""
        window = self.inputs[input].window
        if window is None:
            return None
        return max(0, int(getattr(self, window) if isinstance(window, str) else window))

    def frame_range(self, input_ranges: dict[str, tuple[int, int] | None]) -> tuple[int, int] | None:
        """This node's frame range (inclusive) given its inputs' ranges; default: their overlap."""
        ranges = [r for r in input_ranges.values() if r is not None]
        if not ranges:
            return None
        return (max(r[0] for r in ranges), min(r[1] for r in ranges))

    def timing(self, input_timing: dict[str, Timing | None]) -> Timing | None:
        """This node's frame rate and timecode given its inputs' (in input order); default:
        the first input that has one. Read takes them from the file. Derived from params and
        files only (so the cache key already covers it)."""
        return next((t for t in input_timing.values() if t is not None), None)

    def output_format(self, input_formats: dict[str, Format | None]) -> Format | None:
        """This node's output :class:`~rotograph.types.Format` (size and pixel aspect) given its
        inputs' (in input order); default: the first input that has one. Read takes it from the
        file's header; Reformat and Crop set it; Merge takes B's. Derived from params and file
        headers only, never from pixels."""
        return next((f for f in input_formats.values() if f is not None), None)

    def warnings(self) -> list[str]:
        """Problems worth a warning before a render (``rotograph validate`` prints them), e.g.
        gaps in a sequence that ``missing_frames`` will fill. Cheap: never decodes pixels."""
        return []

    def proxy_params(self, scale: float) -> dict[str, Any]:
        """Params that change, besides :attr:`pixel_params`, when the graph runs at ``scale`` ×
        its formats' size (``render --proxy``): {param: value}. Default: none (Reformat turns
        a named format into the scaled custom one)."""
        return {}

    def validate_cached(self, output: str, value) -> bool:
        """Whether a cached result still stands (writers check that their file is still there)."""
        return True

    def compute(self, ctx: Context, **inputs):
        """Compute every output for ``ctx.frame``. Return the value (one output) or a dict."""
        raise NotImplementedError(f"{type(self).__name__}.compute")

    @classmethod
    def upgrade(cls, from_version: int, params: dict) -> dict:
        """Turn params saved at an older ``version`` into this version's params."""
        return params

    @classmethod
    def upgrade_node(cls, from_version: int, name: str, params: dict) -> Upgrade:
        """Upgrade node ``name`` saved at ``from_version`` when its ports changed too: return
        an :class:`Upgrade` (new params, nodes to add, moved outputs). Default: :meth:`upgrade`
        of the params alone."""
        return Upgrade(cls.upgrade(from_version, params))

    @classmethod
    def describe(cls) -> dict:
        """Machine-readable description of the node (ports, params, doc)."""
        return {
            "type_id": cls.type_id,
            "version": cls.version,
            "kind": "range" if cls.is_range else "frame",
            "category": cls.category,
            "doc": (cls.__doc__ or "").strip(),
            "inputs": {k: {"type": i.type.name, "optional": i.optional, "doc": i.doc,
                           **({"window": i.window} if i.window is not None else {})} for k, i in cls.inputs.items()},
            "outputs": {k: {"type": o.type.name, "doc": o.doc} for k, o in cls.outputs.items()},
            "params": {k: p.describe() for k, p in cls.params.items()},
        }

    def __repr__(self):
        return f"<{self.type_id} '{self.name}'>"


class RangeNode(Node):
    """A temporal node: processes a run of frames in order and emits each frame's outputs.

    Subclasses implement :meth:`segments` (how the node's frame range splits into independent
    runs, e.g. between keyframes) and :meth:`compute_range`. Every emitted frame is cached, so
    asking for a frame after a run is a cache read. A node that sets ``resumable = True``
    accepts ``resume=(frame, outputs)`` — its state rebuilt from the previous frame's cached
    outputs — which lets an interrupted render go on where it stopped.
    """

    is_range = True
    frame_dependent = True
    resumable: ClassVar[bool] = False

    def segments(self, first: int, last: int) -> list[Segment]:
        """How the frame range [first, last] splits into independent runs, each in processing
        order, with the ``lead`` frames a run reads before its first emitted frame. Every frame
        of the range lies in exactly one segment's ``frames``. Default: one forward run."""
        return [Segment(tuple(range(first, last + 1)))]

    def reach(self) -> Reach:
        """What each frame's result depends on (see :class:`Reach`). Default: the whole segment
        (``causal=False``) — always correct, but a change anywhere recomputes every frame of
        the segment. Trackers declare ``Reach(causal=True, lookahead=…, keyframes=("prompts",))``."""
        return Reach()

    def keyframe_material(self, frame: int):
        """The keyframes applied at ``frame`` (JSON-able key material; ``None`` for none): by
        default the entries of the :meth:`reach` ``keyframes`` params whose ``"frame"`` is
        ``frame``. Only causal nodes' keys use it."""
        out = {}
        for name in self.reach().keyframes:
            here = [kf for kf in (getattr(self, name) or []) if kf.get("frame") == frame]
            if here:
                out[name] = here
        return out or None

    def compute_range(self, ctx: Context, segment: Segment,
                      pull: Callable[[int], dict[str, Any]],
                      resume: tuple[int, dict[str, Any]] | None = None) -> Iterator[tuple[int, Any]]:
        """Yield ``(frame, outputs)`` for the frames of ``segment`` in order.

        ``pull(frame)`` returns this node's input values at a frame. With ``resume``, start
        after ``resume[0]`` using ``resume[1]`` (that frame's outputs) as state."""
        raise NotImplementedError(f"{type(self).__name__}.compute_range")

    def compute(self, ctx, **inputs):  # range nodes are evaluated through compute_range
        raise ParamError(f"node '{self.name}' is a range node; evaluate it through the engine")
