"""The inspector panel: the selected node's params, each drawn by its widget kind
(:mod:`rotograph.editor.widgets`), its last error and its docstring.

It listens to the model: a new selection redraws it; a graph edit puts the new values into the
widgets in place (so a slider being dragged is never destroyed under the mouse), or redraws it
when the node changed shape. Every change a widget commits is one undoable model edit (a drag
merges into one step); a refused value is reported in the status line and the widget reverts.
"""

from __future__ import annotations

import inspect as pyinspect
import os
import re

from rotograph.errors import RotographError

from .widgets import Field, Widget, WidgetKinds


NAME, TEMPLATE = "node_name", "template_name"
_ROLE = re.compile(r":[a-z]+:`~?([^`<]*?)(?:\s*<[^>]*>)?`")


_DIRECTIVE = re.compile(r"^(\s*)\.\. ([a-z-]+)::\s*(.*)$", re.M)
_STRONG = re.compile(r"\*\*(\S(?:[^*]*?\S)?)\*\*")
_EMPHASIS = re.compile(r"(?<![\w*])\*(\S(?:[^*]*?\S)?)\*(?![\w*])")


def plain_doc(doc: str) -> str:
    """A docstring as plain text for the help panel: reST roles (``:class:`~a.B```) become
    their last name; double back-quotes, ``**strong**`` and ``*emphasis*`` marks and ``::``
    are dropped; an admonition (``.. note::``) becomes ``Note:``, other directives and
    comments go."""
    text = pyinspect.cleandoc(doc)
    text = _ROLE.sub(lambda m: m.group(1).rsplit(".", 1)[-1], text)
    text = _DIRECTIVE.sub(lambda m: f"{m.group(1)}{m.group(2).capitalize()}: {m.group(3)}".rstrip()
                          if m.group(2) in ("note", "warning", "tip", "important", "seealso") else "", text)
    text = text.replace("``", "").replace("::\n", ":\n")
    text = _STRONG.sub(r"\1", text)
    text = _EMPHASIS.sub(r"\1", text)
    text = re.sub(r"(?<![\w`])`([^`]+)`", r"\1", text)
    return re.sub(r"\n{3,}", "\n\n", text)  # a dropped directive leaves no gap


class Inspector:
    """The inspector panel (see the module docstring)."""

    TAG = "inspector"

    def __init__(self, model, widgets: WidgetKinds, services, errors: dict):
        self.model = model
        self.widgets = widgets
        self.services = services
        self.errors = errors  # node → last evaluation error (the worker's)
        self.fields: dict[str, tuple[Widget, str]] = {}  # "node.param" → (widget, kind)
        self._shown: tuple | None = None
        self._values: dict[str, object] = {}
        model.subscribe(self._on_event, "graph", "selection")

    def build(self, parent) -> None:
        """Make the panel under ``parent``."""
        import dearpygui.dearpygui as dpg

        dpg.add_child_window(tag=self.TAG, parent=parent, width=-1, height=-1)
        self.redraw()

    # -- events ---------------------------------------------------------------------------
    def _on_event(self, event: str, detail: str) -> None:
        if event == "graph" and self._shown == self._shape():
            self.refresh()
        else:
            self.redraw()

    def _target(self) -> str | None:
        sel = [n for n in self.model.selection if n in self.model.graph.nodes or n in self.model.graph.groups]
        return sel[0] if len(sel) == 1 else None

    def _params(self):
        """``[(label, node, param name)]`` shown for the selection; for a group, its exposed
        params (under their exposed names), then every other inner param (``node.param``)."""
        g, name = self.model.graph, self._target()
        if name is None:
            return []
        if name in g.groups:
            grp = g.groups[name]
            exposed = [(port, *ref.split(".")) for port, ref in grp.params.items()]
            inner = [(f"{n}.{p.ui.get('label', pname)}", n, pname) for n in grp.nodes
                     for pname, p in g.nodes[n].params.items() if f"{n}.{pname}" not in grp.params.values()]
            return exposed + inner
        return [(p.ui.get("label", pname), name, pname) for pname, p in g.nodes[name].params.items()]

    def _shape(self) -> tuple:
        g, name = self.model.graph, self._target()
        return (name, tuple((label, n, p, g.nodes[n].type_id) for label, n, p in self._params()))

    def refresh(self) -> None:
        """Show the model's values in the widgets drawn (a redraw when one cannot)."""
        g = self.model.graph
        for key, (widget, _) in self.fields.items():
            n, p = key.split(".")
            value = g.nodes[n].get_params()[p]
            if value != self._values.get(key):
                if widget.show is None:
                    self.redraw()
                    return
                widget.show(value)
                self._values[key] = value

    # -- drawing --------------------------------------------------------------------------
    def redraw(self) -> None:
        """Draw the selection's params anew: its id, its widgets, its error and its help."""
        import dearpygui.dearpygui as dpg

        if not dpg.does_item_exist(self.TAG):
            return
        dpg.delete_item(self.TAG, children_only=True)
        self.fields.clear()
        self._values.clear()
        self._shown = self._shape()
        g, name = self.model.graph, self._target()
        if name is None:
            n = len(self.model.selection)
            dpg.add_text("Select one node to edit its parameters." if not n else f"{n} nodes selected",
                         parent=self.TAG)
            return
        with dpg.group(horizontal=True, parent=self.TAG):  # the id, renamed by typing a new one + Enter
            dpg.add_input_text(tag=NAME, default_value=name, on_enter=True, width=180,
                               callback=lambda s, a: self._rename(name, a))
            if name in g.groups:
                dpg.add_text(f"group of {', '.join(g.groups[name].nodes)}", color=(230, 200, 60), wrap=0)
            else:
                node = g.nodes[name]
                dpg.add_text(f"{node.type_id} v{node.version}", color=(230, 200, 60))
        if name in g.groups:
            self._group_fields(name)
            with dpg.group(horizontal=True, parent=self.TAG):
                dpg.add_input_text(tag=TEMPLATE, default_value=name, width=180, hint="template name")
                dpg.add_button(label="Save as template", tag="save_template",
                               callback=lambda: self._save_template(name, dpg.get_value(TEMPLATE)))
            return
        for label, n, p in self._params():
            self._field(label, n, p)
        dpg.add_text("", tag="inspector_error", parent=self.TAG, wrap=0, color=(240, 90, 90))
        self.show_error()
        dpg.add_separator(parent=self.TAG)
        dpg.add_text(plain_doc(g.nodes[name].__doc__ or ""), parent=self.TAG, wrap=0, color=(170, 170, 170))

    def show_error(self) -> None:
        """The inspected node's last evaluation error (the worker's), in place."""
        import dearpygui.dearpygui as dpg

        if dpg.does_item_exist("inspector_error"):
            error = self.errors.get(self._target())
            dpg.set_value("inspector_error", f"last error: {error}" if error else "")
            dpg.configure_item("inspector_error", show=bool(error))

    def _group_fields(self, group: str) -> None:
        """A group's exposed params, each with a button that hides it again, then its other
        inner params under a header, each with a button that exposes it."""
        import dearpygui.dearpygui as dpg

        grp = self.model.graph.groups[group]
        rows = self._params()
        exposed, inner = rows[:len(grp.params)], rows[len(grp.params):]
        if not exposed:
            dpg.add_text("No params exposed yet: + exposes an inner param on the group.", parent=self.TAG,
                         color=(150, 150, 150), wrap=0)
        for label, n, p in exposed:
            with dpg.group(horizontal=True, parent=self.TAG) as row:
                dpg.add_button(label="-", tag=f"{n}.{p}.expose", width=22,
                               callback=lambda s, a, u: self.expose(group, u, False), user_data=f"{n}.{p}")
            self._field(label, n, p, row)
        with dpg.collapsing_header(label=f"inner params ({len(inner)})", parent=self.TAG, default_open=not exposed):
            header = dpg.last_container()
            for label, n, p in inner:
                with dpg.group(horizontal=True, parent=header) as row:
                    dpg.add_button(label="+", tag=f"{n}.{p}.expose", width=22,
                                   callback=lambda s, a, u: self.expose(group, u, True), user_data=f"{n}.{p}")
                self._field(label, n, p, row)

    def expose(self, group: str, ref: str, exposed: bool) -> None:
        """Expose the inner param ``ref`` on ``group`` (or hide it again): one undoable edit."""
        try:
            self.model.expose(group, ref, exposed)
        except RotographError as e:
            self.services.status(f"refused: {e}")

    def _field(self, label: str, node: str, pname: str, parent=None) -> None:
        import dearpygui.dearpygui as dpg

        decl = self.model.graph.nodes[node].params[pname]
        value = self.model.graph.nodes[node].get_params()[pname]
        key = f"{node}.{pname}"

        def commit(new):
            self.commit(node, pname, new)

        field = Field(node, decl, value, label, parent or self.TAG, commit, self.model, self.services)
        kind = self.widgets.kind_for(decl)
        widget = self.widgets.make(field)
        self.fields[key] = (widget, kind)
        self._values[key] = value
        if decl.doc and widget.item is not None:
            with dpg.tooltip(widget.item):
                dpg.add_text(decl.doc)

    def commit(self, node: str, pname: str, value) -> None:
        """A widget's new value → one undoable edit; a refused value reverts the widget."""
        try:
            self.model.set_param(node, pname, value, merge=True)
        except RotographError as e:
            self.services.status(f"refused: {e}")
            widget, _ = self.fields.get(f"{node}.{pname}", (None, None))
            if widget is not None and widget.show is not None and node in self.model.graph.nodes:
                widget.show(self.model.graph.nodes[node].get_params()[pname])

    def _rename(self, old: str, new: str) -> None:
        import dearpygui.dearpygui as dpg

        try:
            self.model.rename(old, new.strip())
        except RotographError as e:
            self.services.status(f"refused: {e}")
            if dpg.does_item_exist(NAME):
                dpg.set_value(NAME, old)

    def _save_template(self, group: str, name: str) -> None:
        from rotograph.core.groups import templates_dir

        name = name.strip() or group
        if not name.replace("-", "_").isidentifier():
            self.services.status(f"refused: '{name}' cannot name a template (letters, digits, - and _)")
            return
        try:
            path = self.model.save_template(group, os.path.join(templates_dir(), f"{name}.json"))
            self.services.status(f"saved template {name} ({path}); Tab lists it")
        except (RotographError, OSError) as e:
            self.services.status(f"cannot save the template: {e}")

    # -- for the window -------------------------------------------------------------------
    def text_items(self) -> list:
        """The inspector's text-entry items (while one is active, keys are typing, not shortcuts)."""
        return [NAME, TEMPLATE, *(w.item for w, _ in self.fields.values() if w.item is not None)]
