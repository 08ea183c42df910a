"""What a node added after the selected one is linked from (Nuke's way) and where a new writer
writes: the auto link, the stream links, the plate behind a node, the project's render folder.
Part of :class:`~rotograph.editor.model.EditorModel`."""

from __future__ import annotations

import os

from rotograph.core.graphio import portable
from rotograph.core.writer import graph_reads


class NodeLinks:
    """The model's new-node defaults (a mixin of :class:`~rotograph.editor.model.EditorModel`)."""

    def stream_links(self, src: str, dst: str) -> list[tuple[str, str]]:
        """The links that put ``dst``, added after ``src``, in ``src``'s stream: each of its
        inputs still unlinked takes the source ``src``'s input of that type reads (a Premult
        after a Despill gets the Despill's matte, a Write after a Premult the Premult's matte),
        or, for a required image, ``src``'s plate (a Despill after a Feather gets the plate the
        matte was pulled from)."""
        g = self.graph
        taken = g.inputs_of(dst)
        theirs = {g.nodes[src].inputs[i].type: f"{s}.{o}" for i, (s, o) in g.inputs_of(src).items()}
        plate = self.plate_of(src)
        out = []
        for iname, inp in g.nodes[dst].inputs.items():
            if iname in taken:
                continue
            if inp.type in theirs:
                out.append((theirs[inp.type], f"{dst}.{iname}"))
            elif inp.type.name == "Image" and not inp.optional and plate is not None and plate != dst:
                image = next(o for o, p in g.nodes[plate].outputs.items() if p.type.name == "Image")
                out.append((f"{plate}.{image}", f"{dst}.{iname}"))
        return out

    def project_folder(self) -> str | None:
        """The folder that holds both the graph file and the files its readers read (``show/``
        for ``show/comp/a.json`` reading ``show/plates/…``); the graph file's folder when they
        share nothing below the root, or read nothing yet."""
        folder = self.graph.folder
        if not folder:
            return None
        g = self.graph
        reads = [os.path.abspath(path) for n, p, path in graph_reads(g, g.topological())
                 if not getattr(g.nodes[n], p).startswith("sample:")]
        common = os.path.commonpath([folder, *reads])
        return folder if os.path.dirname(common) == common else common

    def _default_output(self, node) -> None:
        """A new writer writes where the shipped graphs do: ``render/<graph>/<graph>.####.<ext>``
        (<graph>: the graph file's name) in the :meth:`project_folder`, when that is a valid path
        for it."""
        from rotograph.errors import ParamError

        stem = os.path.splitext(os.path.basename(self.path))[0]
        ext = {"WriteEXR": "exr", "WritePNG": "png"}.get(node.type_id.rsplit(".", 1)[-1])
        if ext is None or not self.graph.folder:
            return
        path = os.path.join(self.project_folder(), "render", stem, f"{stem}.####.{ext}")
        try:
            node.file = portable(path, self.graph.folder)
        except ParamError:
            pass

    def auto_link(self, src: str, dst: str) -> tuple[str, str] | None:
        """The link ``add_node(after=src)`` makes into ``dst``: ``("src.out", "dst.in")`` or ``None``."""
        g = self.graph
        taken = g.inputs_of(dst)
        for oname, out in g.nodes[src].outputs.items():
            for iname, inp in g.nodes[dst].inputs.items():
                if iname not in taken and inp.type is out.type:
                    return f"{src}.{oname}", f"{dst}.{iname}"
        return None

    def plate_of(self, name: str) -> str | None:
        """The plate behind ``name``: the nearest upstream source (a node with no inputs) with
        an Image output — found by what nodes are, never by their type names."""
        g = self.graph
        seen, frontier = {name}, [name]
        while frontier:
            nxt = []
            for n in frontier:
                node = g.nodes[n]
                if not node.inputs and any(o.type.name == "Image" for o in node.outputs.values()):
                    return n
                for src, _ in g.inputs_of(n).values():
                    if src not in seen:
                        seen.add(src)
                        nxt.append(src)
            frontier = sorted(nxt)
        return None
