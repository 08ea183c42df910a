"""The Writer protocol: what every node that writes files shares, and all the engine asks of it.

A writer is a node that mixes in :class:`Writer` — :class:`FrameWriter` writes one file (or one
set of files) per frame and runs per frame; :class:`RangeWriter` writes one file for the frame
range (a movie, a camera, a table, a global point cloud) as a range node. The engine knows
writers through this protocol only, never by their ``type_id``:

- :meth:`Writer.deliveries` says what the writer delivers (:class:`Delivery`: path, kind, format,
  colourspace, layers). ``rotograph validate`` lists them and refuses two writers writing one
  file; ``rotograph export-nuke`` turns image sequences, movies and ``.chan`` cameras into Nuke
  Reads and Cameras.
- :meth:`Writer.check` (before a render): a path is set and its folder can be written.
- :meth:`Writer.publish` writes atomically: to a hidden temporary name in the target folder,
  then renamed into place, so a killed render never leaves half a file.
- :meth:`Writer.validate_cached`: a cached result stands while every file it wrote is unchanged
  (a re-render skips frames whose files are still there).
- :meth:`Writer.hold` (``--on-error hold``): write frame ``ctx.frame`` from another frame's
  inputs, so the held file carries its own frame number (headers, timecode) — never a byte copy.

A plugin writer subclasses :class:`FrameWriter` or :class:`RangeWriter`, declares a ``file``
param and calls :meth:`Writer.publish` from ``compute``: it gets validation, hold and cache
checks without any change to the engine.
"""

from __future__ import annotations

import functools
import os
import socket
import uuid
from dataclasses import dataclass
from typing import Callable, ClassVar

from ..errors import GraphError, ParamError, RotographError, output_error
from ..io.media import expand_frame, frame_pattern
from .node import Context, Node, Output, RangeNode, Segment
from .types import File, Written

HOST = socket.gethostname().replace("-", "_")


@dataclass(frozen=True)
class Delivery:
    """One thing a writer delivers.

    ``path``: absolute; a frame pattern (``shot.####.exr``) when ``per_frame``; with
    ``per_object`` the file's folder holds one sub-folder per object (shown as ``{object}``).
    ``kind``: ``image`` (pictures), ``movie``, ``camera``, ``geometry``, ``table``, ``script``
    or ``file``. ``format``: the file extension (``exr``, ``dpx``, ``mov``, ``chan``, …).
    ``colorspace``: encoding of the RGB of images and movies. ``layers``: extra image layers
    beyond RGBA as ``(layer, channels)`` (``("depth", ("Z",))``); ``cryptomatte``: the
    Cryptomatte layer's name when one is written.
    """

    path: str
    kind: str = "file"
    format: str = ""
    per_frame: bool = True
    colorspace: str = ""
    layers: tuple[tuple[str, tuple[str, ...]], ...] = ()
    cryptomatte: str = ""
    per_object: bool = False

    def files_key(self) -> str:
        """What two deliveries writing the same files share (frame tokens normalised)."""
        pattern = frame_pattern(self.path) if self.per_frame else None
        return os.path.normcase(pattern[0] if pattern else self.path)


def object_path(path: str, name: str) -> str:
    """``out/mattes/shot.####.png`` → ``out/mattes/<name>/shot.####.png`` (object names are
    made safe for file names: letters, digits, ``-``, ``_``, ``.``)."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip(".") or "object"
    folder, base = os.path.split(path)
    return os.path.join(folder, safe, base)


def object_name(masks, obj) -> str:
    """The folder name of one object of a ``Masks`` (a :class:`~rotograph.core.types.MaskSet`):
    its name, or ``object<id>`` when unnamed, with ``_<id>`` added when two objects share it."""
    name = obj.name or f"object{obj.id}"
    same = [o for o in masks.objects if (o.name or f"object{o.id}") == name]
    return name if len(same) == 1 else f"{name}_{obj.id}"


def _remove_stale_temporaries(folder: str, stem: str, ext: str) -> None:
    """Delete this host's temporaries of a file whose writing process is gone."""
    prefix = f".{stem}.tmp-{HOST}-"
    for name in os.listdir(folder):
        if name.startswith(prefix) and name.endswith(ext):
            try:
                pid = int(name[len(prefix):].split("-")[0])
                os.kill(pid, 0)
            except ProcessLookupError:
                try:
                    os.remove(os.path.join(folder, name))
                except FileNotFoundError:
                    pass
            except (ValueError, PermissionError):
                pass


def publish_file(path: str, write: Callable[[str], None]) -> Written:
    """Call ``write(tmp_path)``, then rename the temporary file to ``path``; returns its identity.

    The temporary file is hidden (``.name.tmp-HOST-PID-RAND.ext``) next to the target; one left
    by a killed render of this host is removed when the file is written again. Any failure
    removes the temporary and raises :class:`RotographError` naming ``path``."""
    folder, base = os.path.split(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    stem, ext = os.path.splitext(base)
    _remove_stale_temporaries(folder, stem, ext)
    tmp = os.path.join(folder, f".{stem}.tmp-{HOST}-{os.getpid()}-{uuid.uuid4().hex[:6]}{ext}")
    try:
        write(tmp)
        os.replace(tmp, path)
    except Exception as e:
        try:
            os.remove(tmp)
        except OSError:
            pass
        if isinstance(e, RotographError):
            raise
        raise output_error(path, e, "frames already written are kept; free space or fix the folder, "
                                    "then run again to resume") from e
    st = os.stat(path)
    return Written(path, st.st_size, st.st_mtime_ns)


def bundle(written: list[Written]) -> Written:
    """Several files written for one frame as one :class:`Written` (the first is the main file)."""
    files = [f for w in written for f in w.files()]
    if not files:
        return Written("", 0, 0)
    (path, size, mtime), *rest = files
    return Written(path, size, mtime, tuple(rest))


class Writer:
    """The protocol every writer implements (mixed into a :class:`Node` or :class:`RangeNode`).

    Subclasses declare a ``file`` param (the output path) and write through :meth:`publish`.
    ``delivery_kind`` says what kind of file is written (:class:`Delivery`; the extension is its
    format); override :meth:`deliveries` when a writer delivers more than that one file."""

    category = "Output"
    is_writer = True
    frame_dependent = True
    holds: ClassVar[bool] = True  # whether --on-error hold can write a failed frame
    delivery_kind: ClassVar[str] = "file"

    def check(self) -> None:
        """Before a render: raise :class:`ParamError` naming the node when ``file`` is empty or
        its folder (or the nearest existing parent) cannot be written."""
        if not self.file:
            raise ParamError(f"node '{self.name}': param 'file': no output path set")
        folder = os.path.dirname(self.pattern())
        probe = folder
        while not os.path.exists(probe):
            probe = os.path.dirname(probe)
        if not os.path.isdir(probe) or not os.access(probe, os.W_OK):
            raise ParamError(f"node '{self.name}': param 'file': cannot write to {folder}")

    def pattern(self) -> str:
        """The ``file`` param as an absolute path (frame token kept; relative to the graph file's
        folder, see :meth:`~rotograph.Node.resolve`)."""
        return os.path.abspath(self.resolve(self.file))

    def path(self, frame: int, obj: str | None = None) -> str:
        """The absolute file written for ``frame`` (and object ``obj``, for per-object output)."""
        path = expand_frame(self.pattern(), frame)
        return object_path(path, obj) if obj is not None else path

    def deliveries(self, connected: set[str]) -> list[Delivery]:
        """What this writer delivers. ``connected``: the names of its inputs that are linked
        (e.g. ``{"image", "matte"}``; an unlinked optional input writes nothing). Default: one
        :class:`Delivery` of ``delivery_kind`` at :meth:`pattern`, format from its extension."""
        path = self.pattern()
        return [Delivery(path, self.delivery_kind, os.path.splitext(path)[1][1:].lower(), per_frame=not self.is_range)]

    def publish(self, frame: int, write: Callable[[str], None], obj: str | None = None) -> Written:
        """Write ``path(frame, obj)`` atomically through ``write(tmp_path)``; see :func:`publish_file`."""
        return publish_file(self.path(frame, obj), write)

    def validate_cached(self, output, value: Written) -> bool:
        """A cached result stands while every file it names exists with the recorded size
        and modification time (a deleted or rewritten file makes the frame render again)."""
        for path, size, mtime_ns in value.files():
            try:
                st = os.stat(path)
            except OSError:
                return False
            if st.st_size != size or st.st_mtime_ns != mtime_ns:
                return False
        return True

    def hold(self, ctx: Context, inputs: dict) -> Written:
        """Write frame ``ctx.frame`` from ``inputs`` taken at another (good) frame; the
        default computes the frame as usual, so every header names ``ctx.frame``."""
        return self.compute(ctx, **inputs)


class FrameWriter(Writer, Node):
    """Base of writers of one file (or one set of files) per frame. Output ``written``.

    ``compute(ctx, **inputs)`` receives the inputs at ``ctx.frame`` only and returns
    :meth:`publish`'s :class:`~rotograph.core.types.Written`. ``ctx.frames`` is empty for a
    per-frame node: the render calls ``compute`` once per frame it writes (in any order, maybe
    in several processes), so a writer never walks the frame range itself."""

    written = Output(File)


class RangeWriter(Writer, RangeNode):
    """Base of writers of one file for the frame range (movies, cameras, tables): one segment
    over the input's frame range, written in frame order. Output ``written`` (the same file
    for every frame).

    ``compute_range(ctx, segment, pull)`` is called once per render (and again only when its
    file must be rewritten): ``ctx.frames`` holds the frames this render writes, ascending (a
    subset of ``segment.frames``, which spans the input's whole range); ``pull(f)`` evaluates
    the inputs at frame f and returns ``{input: value}``. Pull each frame of ``ctx.frames``
    once, write the file with :meth:`publish`, then yield ``(f, written)`` for each of them.
    Pulling is bounded (see :func:`bounded_pulls`): a frame pulled twice, or more pulls than
    twice the frames written (one neighbour each, as MatteStats's flicker reads the frame
    before), is refused — walking ``segment.frames`` would evaluate the input at every frame
    of the shot for a render of a few."""

    holds = False
    written = Output(File)

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if "compute_range" in vars(cls):
            cls.compute_range = bounded_pulls(vars(cls)["compute_range"])

    def segments(self, first: int, last: int) -> list[Segment]:
        """One segment over the whole frame range [first, last], forwards."""
        return [Segment(tuple(range(first, last + 1)))]


def bounded_pulls(compute_range):
    """Wrap a range writer's ``compute_range`` so that its ``pull`` refuses a frame already
    pulled in this run, and more pulls than ``2 × len(ctx.frames)`` (``segment.frames`` when
    ``ctx.frames`` is empty), with a :class:`RotographError` saying what to iterate instead."""
    if getattr(compute_range, "bounded_pulls", False):
        return compute_range

    @functools.wraps(compute_range)
    def guarded(self, ctx, segment, pull, resume=None):
        written = ctx.frames or segment.frames
        limit, pulled = 2 * len(written), set()

        def bounded(frame):
            if frame in pulled:
                raise RotographError(f"writer pulled its inputs at frame {frame} twice in one run: keep the value "
                                     f"(each pull evaluates the inputs again)")
            if len(pulled) >= limit:
                raise RotographError(f"writer pulled {len(pulled) + 1} input frames for the {len(written)} frames "
                                     f"this render writes: iterate ctx.frames, not segment.frames or the frame range")
            pulled.add(frame)
            return pull(frame)

        return compute_range(self, ctx, segment, bounded, resume)

    guarded.bounded_pulls = True
    return guarded


def _file_set(path: str, per_frame: bool = True) -> tuple[str, str, str | None]:
    """What files a path names, comparable across spellings: ``(folder, head, tail)`` with
    the folder's symlinks resolved; ``tail`` is ``None`` for one file (``head`` is its name),
    else the sequence is ``head`` + frame digits + ``tail`` (``####``, ``%04d``, ``@@@@``)."""
    folder, base = os.path.split(os.path.abspath(os.path.expanduser(path)))
    folder = os.path.normcase(os.path.realpath(folder))
    pattern = frame_pattern(base) if per_frame else None
    if pattern is None:
        return folder, os.path.normcase(base), None
    head, tail = pattern[0].split("{:0%dd}" % pattern[1])
    unbrace = lambda t: os.path.normcase(t.replace("{{", "{").replace("}}", "}"))  # noqa: E731
    return folder, unbrace(head), unbrace(tail)


def _overlap(a: tuple[str, str, str | None], b: tuple[str, str, str | None]) -> bool:
    """Whether two :func:`_file_set` results can name one file (paddings aside: ``###`` and
    ``####`` both name ``1001``)."""
    if a[0] != b[0]:
        return False
    if a[2] is not None and b[2] is not None:
        return a[1:] == b[1:]
    if a[2] is None and b[2] is None:
        return a[1] == b[1]
    seq, one = (a, b) if a[2] is not None else (b, a)
    middle = one[1][len(seq[1]):len(one[1]) - len(seq[2])] if one[1].startswith(seq[1]) and \
        one[1].endswith(seq[2]) and len(one[1]) > len(seq[1]) + len(seq[2]) else ""
    return middle.lstrip("-").isdigit()


def graph_reads(graph, names) -> list[tuple[str, str, str]]:
    """``(node, param, path)`` of every file the nodes ``names`` read: the file params
    (:class:`~rotograph.core.params.FileIn`) of the nodes that are not writers, resolved as the
    node reads them (``sample:`` names, a folder of frames → its sequence)."""
    from ..errors import MediaError
    from ..io.media import resolve_path
    from .params import FileIn

    out = []
    for name in names:
        node = graph.nodes[name]
        if isinstance(node, Writer):
            continue
        for pname, param in node.params.items():
            value = getattr(node, pname)
            if isinstance(param.type, type) and issubclass(param.type, FileIn) and value:
                try:
                    out.append((name, pname, resolve_path(node.resolve(value))))
                except MediaError:  # the node's own check names a path that cannot resolve
                    continue
    return out


def check_deliveries(graph, names) -> None:
    """Refuse two writers among ``names`` that write the same files (the second would
    overwrite the first), and a writer whose files are files the graph reads (it would render
    over its own plates). Raises :class:`GraphError` naming the writer's ``file`` param."""
    seen: dict[str, str] = {}
    reads = [(n, p, _file_set(path)) for n, p, path in graph_reads(graph, graph.topological())]
    for name in names:
        node = graph.nodes[name]
        if not isinstance(node, Writer) or not node.file:
            continue
        for d in node.deliveries(set(graph.inputs_of(name))):
            other = seen.setdefault(d.files_key(), name)
            if other != name:
                raise GraphError(f"writers '{other}' and '{name}' both write {d.path}", path=f"nodes.{name}.params.file")
            mine = _file_set(d.path, d.per_frame and not d.per_object)
            for reader, param, files in reads:
                if _overlap(mine, files):
                    raise GraphError(f"{d.path} would overwrite the files node '{reader}' reads (its param "
                                     f"'{param}'): write the output elsewhere",
                                     path=f"nodes.{name}.params.file")
