"""The node author's contract, checked when a node class is registered.

:meth:`rotograph.Registry.add` refuses a class that would misbehave only later, deep in a
render, with the one-line reason this module returns:

- a per-frame node (:class:`~rotograph.Node`) implements ``compute`` and not
  ``compute_range``; a range node (:class:`~rotograph.RangeNode`) ``compute_range`` and not
  ``compute`` (the engine would never call the other one);
- a writer is a subclass of :class:`~rotograph.FrameWriter` (one file per frame, per-frame
  ``compute``) or :class:`~rotograph.RangeWriter` (one file for the range, ``compute_range``).
  That is the one flag: ``is_writer`` follows from it, and a class that sets ``is_writer``
  otherwise is refused;
- a writer declares a ``file`` param whose kind is a path to write (:data:`WRITER_PATH_KINDS`:
  :class:`~rotograph.FileOut` for a frame pattern, :class:`~rotograph.MovieOut` for a movie,
  or a kind made by :func:`~rotograph.core.params.output_file_kind`);
- a range node's :meth:`~rotograph.RangeNode.reach` names keyframe params it has.

See docs/writing-nodes.md for the three kinds of node with an example of each.
"""

from __future__ import annotations

from .node import Node, RangeNode
from .params import FileIn, FileOut, MovieOut
from .writer import FrameWriter, RangeWriter, Writer

#: The param kinds a writer's ``file`` param may have (and any subclass of them, such as the
#: kinds :func:`rotograph.core.params.output_file_kind` makes).
WRITER_PATH_KINDS: tuple[type, ...] = (FileOut, MovieOut, FileIn)


def _overrides(cls: type, method: str, base: type) -> bool:
    """Whether ``cls`` defines ``method`` below ``base`` in its MRO."""
    return getattr(cls, method) is not getattr(base, method)


def check_node_class(cls: type[Node]) -> str | None:
    """The first way ``cls`` breaks the node contract, as one line naming the fix, or ``None``.

    ``cls`` must be a :class:`~rotograph.Node` subclass (the registry checks that first)."""
    writer = issubclass(cls, Writer)
    if bool(cls.is_writer) != writer:
        return ("sets is_writer = True but is not a writer: subclass rotograph.FrameWriter (one file per frame) "
                "or rotograph.RangeWriter (one file for the range); is_writer follows from that"
                if cls.is_writer else "is a Writer but sets is_writer = False: leave is_writer alone")
    if cls.is_range and _overrides(cls, "compute", RangeNode):
        return ("is a range node but defines compute(), which the engine never calls: implement "
                "compute_range(ctx, segment, pull, resume=None), or subclass rotograph.Node (FrameWriter) per frame")
    if not cls.is_range and callable(getattr(cls, "compute_range", None)):
        return ("is a per-frame node but defines compute_range(), which the engine never calls: subclass "
                "rotograph.RangeNode (or RangeWriter) for a node that runs over frames")
    if writer:
        if not issubclass(cls, (FrameWriter, RangeWriter)):
            return "mixes in Writer directly: subclass rotograph.FrameWriter or rotograph.RangeWriter"
        param = cls.params.get("file")
        if param is None:
            return ("is a writer without a 'file' param: declare file = Param(FileOut, \"\") (a frame pattern), "
                    "Param(MovieOut, \"\") (a movie) or a kind from rotograph.output_file_kind(...)")
        if not (isinstance(param.type, type) and issubclass(param.type, WRITER_PATH_KINDS)):
            return (f"param 'file' is a {getattr(param.type, '__name__', param.type)}, not a path kind: use FileOut, "
                    f"MovieOut or a kind from rotograph.output_file_kind(...)")
    if cls.is_range:
        try:
            reach = cls("contract_check").reach()
        except Exception:  # a node that cannot be built with defaults is checked when added to a graph
            return None
        missing = [k for k in reach.keyframes if k not in cls.params]
        if missing:
            return f"reach() names keyframe params {missing} that the node does not declare"
    return None
