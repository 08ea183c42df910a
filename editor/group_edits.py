"""Groups and templates as the editor edits them: collapse a selection, expose or hide inner
params, save a group as a template and insert one. Part of
:class:`~rotograph.editor.model.EditorModel`; each is one undoable step."""

from __future__ import annotations

import os

from rotograph.errors import GraphError


class GroupEdits:
    """The model's group edits (a mixin of :class:`~rotograph.editor.model.EditorModel`)."""

    def collapse(self, names, group: str, params=None) -> None:
        """Group ``names`` (exposing ``params``, inner "node.param" refs) as one undoable edit."""
        from rotograph.core.groups import collapse

        with self.edit(f"group {group}") as g:
            collapse(g, group, names, params)
        self.select({group})

    def expose(self, group: str, ref: str, exposed: bool = True) -> None:
        """Expose the inner param ``ref`` (``"node.param"``) on ``group`` under the param's
        name (numbered when taken), or hide it again: one undoable step."""
        from rotograph.core.groups import unique_name

        with self.edit(f"{'expose' if exposed else 'hide'} {ref} on {group}") as g:
            grp = g.groups[group]
            node, _, param = ref.partition(".")
            if node not in grp.nodes or param not in g.nodes[node].params:
                raise GraphError(f"'{ref}' is not a param of a node in group '{group}'")
            if exposed and ref not in grp.params.values():
                grp.params[unique_name(param, set(grp.params))] = ref
            elif not exposed:
                grp.params = {k: v for k, v in grp.params.items() if v != ref}

    def save_template(self, group: str, path: str | None = None) -> str:
        """Save ``group`` as a template file (default: ``<templates>/<group>.json``); returns its path."""
        from rotograph.core.graphio import save_template
        from rotograph.core.groups import templates_dir

        path = path or os.path.join(templates_dir(), f"{group}.json")
        save_template(self.graph, group, path)
        return path

    def insert_template(self, path: str, pos=(0, 0), name: str | None = None) -> str:
        """Insert the template in ``path`` at ``pos`` as a new group (selected); returns its name."""
        with self.edit(f"insert {os.path.basename(path)}") as g:
            from rotograph.core.graphio import insert_template

            group = insert_template(g, path, name, pos)
        self.select({group.name})
        return group.name
