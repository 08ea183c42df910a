"""Inspector widgets by kind, in a registry that plugins extend.

The inspector draws each param with the widget kind its declaration implies
(:attr:`Param.widget <rotograph.core.params.Param.widget>`: ``ui["widget"]``, else the value kind's
own :attr:`~rotograph.core.params.ParamKind.widget` — ``file_open`` for files read, ``file_save`` for
every output path kind, ``color``, ``prompts``, or a plugin kind's — else the value type),
``choice`` for params with choices when the declaration names no registered widget; a kind
nobody registered is shown read-only, naming the kind. This is the only table of widgets: the
param kinds say which one they want, no second list maps kinds to widgets.

A widget kind is a factory ``factory(field) -> Widget``: it adds DearPyGui items under
``field.parent`` and calls ``field.commit(value)`` when the user changes the value (the
inspector validates it, makes it an undoable edit and reports a refused value in the status
line). Plugins add kinds with an entry point in the group ``rotograph.editor_widgets``::

    [project.entry-points."rotograph.editor_widgets"]
    curves = "my_pkg.editor:register"      # def register(widgets): widgets.add("curve", curve_widget)

DearPyGui calls a callback with as many of ``(sender, app_data, user_data)`` as it declares:
factories pass what they need by closure, never as extra defaulted arguments.
"""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass
from typing import Any, Callable

from rotograph.errors import RegistryError
from rotograph.core.params import Param

ENTRY_POINT_GROUP = "rotograph.editor_widgets"


@dataclass
class Field:
    """A param as the inspector edits it."""

    node: str                        # the node's name
    param: Param                     # its declaration: type, range, choices, doc, ui hints
    value: Any                       # the canonical current value
    label: str
    parent: int | str                # the DearPyGui container to add items to
    commit: Callable[[Any], None]    # hand a new value back (validated; an undoable edit)
    model: Any = None                # the EditorModel (for widgets that show more than a value)
    services: Any = None             # the window's services: file_dialog(mode, callback), status(text)


@dataclass
class Widget:
    """What a factory made: ``item`` is the input a user clicks (None for none); ``show(value)``
    puts a new value into it in place (None: the inspector redraws the widget instead)."""

    item: int | str | None
    show: Callable[[Any], None] | None = None


class WidgetKinds:
    """Widget factories by kind name, each with the source that registered it."""

    def __init__(self):
        self._kinds: dict[str, Callable[[Field], Widget]] = {}
        self._sources: dict[str, str] = {}
        self._current = "<api>"

    def add(self, name: str, factory: Callable[[Field], Widget]) -> None:
        """Register ``factory`` for widget kind ``name``; a name claimed by another source is an error naming both."""
        if not callable(factory):
            raise RegistryError(f"{self._current}: the widget kind '{name}' is not callable")
        if name in self._kinds and self._kinds[name] is not factory:
            raise RegistryError(f"widget kind '{name}' is claimed by both {self._sources[name]} and {self._current}")
        self._kinds[name] = factory
        self._sources[name] = self._current

    def __contains__(self, name: str) -> bool:
        return name in self._kinds

    def kind_for(self, param: Param) -> str:
        """The kind that draws ``param`` (see the module docstring for the order)."""
        wanted = param.widget
        if param.choices and (param.ui.get("widget") not in self._kinds):
            return "choice"
        return wanted if wanted in self._kinds else "readonly"

    def make(self, field: Field) -> Widget:
        """Draw ``field`` with the widget of its kind (:meth:`kind_for`)."""
        return self._kinds[self.kind_for(field.param)](field)

    @classmethod
    def builtin(cls) -> "WidgetKinds":
        """The editor's own kinds only."""
        kinds = cls()
        kinds._current = "rotograph.editor (built-in)"
        for name, factory in BUILTIN.items():
            kinds.add(name, factory)
        kinds._current = "<api>"
        return kinds

    @classmethod
    def default(cls) -> "WidgetKinds":
        """The built-in kinds plus those of the ``rotograph.editor_widgets`` entry points."""
        kinds = cls.builtin()
        for ep in sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            kinds._current = f"entry point '{ep.name}' ({ep.value})"
            try:
                register = ep.load()
            except Exception as e:
                raise RegistryError(f"{kinds._current} failed to import: {type(e).__name__}: {e}") from e
            register(kinds)
        kinds._current = "<api>"
        return kinds


# -- the built-in kinds ---------------------------------------------------------------------
def _dpg():
    import dearpygui.dearpygui as dpg

    return dpg


WIDTH = -150  # leave room for the label


PRECISION = 3  # decimals a float param keeps unless its ``ui["precision"]`` says otherwise


def typed_float(value: float, param: Param) -> float:
    """A float widget's value as the user meant it: rounded to the param's declared precision
    (``ui["precision"]`` decimals, default :data:`PRECISION`), so that a typed 0.05 is stored
    as 0.05 and a drag does not save digits nobody chose."""
    return round(float(value), int(param.ui.get("precision", PRECISION)))


def float_widget(f: Field) -> Widget:
    """A slider (for a ranged param) or a number field; the value kept at the param's precision."""
    dpg = _dpg()
    decimals = int(f.param.ui.get("precision", PRECISION))
    fmt = f"%.{decimals}f"
    commit = lambda s, a: f.commit(typed_float(a, f.param))  # noqa: E731
    if f.param.range:
        lo, hi = f.param.range
        item = dpg.add_slider_double(label=f.label, default_value=f.value, min_value=lo, max_value=hi, clamped=True,
                                     format=fmt, width=WIDTH, parent=f.parent, callback=commit)
    else:
        item = dpg.add_input_double(label=f.label, default_value=f.value, step=0, on_enter=True, width=WIDTH,
                                    format=fmt, parent=f.parent, callback=commit)
    return Widget(item, lambda v: dpg.set_value(item, v))


def int_widget(f: Field) -> Widget:
    """A whole-number field with - and + buttons, clamped to the range."""
    dpg = _dpg()
    lo, hi = f.param.range or (-2**31, 2**31 - 1)
    item = dpg.add_input_int(label=f.label, default_value=f.value, min_value=lo, max_value=hi, min_clamped=True,
                             max_clamped=True, on_enter=True, width=WIDTH, parent=f.parent,
                             callback=lambda s, a: f.commit(int(a)))
    return Widget(item, lambda v: dpg.set_value(item, v))


def bool_widget(f: Field) -> Widget:
    """A checkbox."""
    dpg = _dpg()
    item = dpg.add_checkbox(label=f.label, default_value=f.value, parent=f.parent,
                            callback=lambda s, a: f.commit(bool(a)))
    return Widget(item, lambda v: dpg.set_value(item, v))


def str_widget(f: Field) -> Widget:
    """A text field (Enter commits)."""
    dpg = _dpg()
    item = dpg.add_input_text(label=f.label, default_value=f.value, on_enter=True, auto_select_all=True,
                              width=WIDTH, parent=f.parent, callback=lambda s, a: f.commit(a))
    return Widget(item, lambda v: dpg.set_value(item, v))


def _combo(f: Field, items: list[str]) -> Widget:
    dpg = _dpg()
    by_text = {str(c): c for c in items}
    current = str(f.value)
    if current not in by_text:
        by_text[current] = f.value
    item = dpg.add_combo(list(by_text), label=f.label, default_value=current, width=WIDTH, parent=f.parent,
                         callback=lambda s, a: f.commit(by_text[a]))
    return Widget(item, lambda v: dpg.set_value(item, str(v)))


RADIO_CHOICES = 3  # at most this many choices show as radio buttons: one click, no menu


def choice_widget(f: Field) -> Widget:
    """A param with choices: radio buttons in a row when there are few (one click picks one),
    else a menu."""
    if len(f.param.choices) > RADIO_CHOICES:
        return _combo(f, list(f.param.choices))
    dpg = _dpg()
    by_text = {str(c): c for c in f.param.choices}
    with dpg.group(horizontal=True, parent=f.parent):
        dpg.add_text(f"{f.label}:")  # before the options: after them it reads as one more
        item = dpg.add_radio_button(list(by_text), default_value=str(f.value), horizontal=True,
                                    callback=lambda s, a: f.commit(by_text[a]))
    return Widget(item, lambda v: dpg.set_value(item, str(v)))


def radio_centres(item) -> list[float]:
    """The x offsets, from a horizontal radio button row's left edge, of each option's circle
    (ImGui's layout: a square of the frame height, the inner spacing, the label, the item
    spacing), for tools that click an option."""
    dpg = _dpg()
    height = dpg.get_item_rect_size(item)[1]
    x, out = 0.0, []
    for label in dpg.get_item_configuration(item)["items"]:
        out.append(x + height / 2)
        x += height + 4 + dpg.get_text_size(label)[0] + 8  # ItemInnerSpacing.x, ItemSpacing.x
    return out


def colorspace_widget(f: Field) -> Widget:
    """A menu of colourspaces: auto (when the param takes it), the built-in names, then the
    OpenColorIO config's colourspaces."""
    from rotograph.io.colour import COLORSPACES, ocio_config
    from rotograph.errors import ParamError

    names = []
    try:
        f.param.canonical("auto")
        names.append("auto")
    except ParamError:
        pass
    names += list(COLORSPACES)
    try:
        names += [n for n in ocio_config().getColorSpaceNames() if n not in names]
    except Exception:  # an unreadable $OCIO: the built-in names still work
        pass
    return _combo(f, names)


VIEW_TRANSFORM = "sRGB"  # how the viewer encodes scene-linear values for the screen (rotograph.editor.display)


def display_colour(rgb) -> list[float]:
    """A scene-linear colour as the viewer shows it: clipped to [0, 1], then through the view
    transform (:data:`VIEW_TRANSFORM`); floats in [0, 1]."""
    import numpy as np

    from rotograph.io.colour import from_linear

    return [float(c) for c in from_linear(np.clip(np.asarray(rgb, np.float32), 0, 1), VIEW_TRANSFORM)]


def picked_colour(display, intensity: float) -> list[float]:
    """A colour picked on the display (floats in [0, 1], view-encoded) back to scene-linear,
    times ``intensity`` (the colour's largest component when it was above 1, so that a picker
    changes its hue and saturation, not its brightness)."""
    import numpy as np

    from rotograph.io.colour import to_linear

    display = [float(c) for c in display[:3]]
    if any(c > 1.0 for c in display):  # DearPyGui gives 0-255 from get_value, 0-1 to callbacks
        display = [c / 255 for c in display]
    return [float(c) * intensity for c in to_linear(np.asarray(display, np.float32), VIEW_TRANSFORM)]


def color_widget(f: Field) -> Widget:
    """A scene-linear RGB colour: its three floats typed as they are (they may exceed 1, the
    param's precision), a swatch showing it through the viewer's view transform, and a picker
    (a click on the swatch) that sets hue and saturation on the display and keeps the intensity."""
    dpg = _dpg()
    decimals = int(f.param.ui.get("precision", PRECISION))
    intensity = lambda v: max(1.0, *v)  # noqa: E731
    to_255 = lambda rgb: [c * 255 for c in rgb] + [255]  # noqa: E731  (DearPyGui takes 0-255)
    commit = lambda s, a: f.commit([typed_float(c, f.param) for c in a[:3]])  # noqa: E731
    state = {"value": list(f.value)}
    with dpg.group(horizontal=True, parent=f.parent):
        swatch = dpg.add_color_button(to_255(display_colour(f.value)), no_alpha=True, width=22, height=22)
        item = dpg.add_input_doublex(label=f.label, default_value=list(f.value), size=3, format=f"%.{decimals}f",
                                     on_enter=True, width=WIDTH - 30, callback=commit)
    with dpg.popup(swatch, mousebutton=dpg.mvMouseButton_Left):
        picker = dpg.add_color_picker(to_255(display_colour([c / intensity(f.value) for c in f.value])),
                                      no_alpha=True, no_side_preview=True, no_inputs=True, width=180,
                                      callback=lambda s, a: f.commit([typed_float(c, f.param) for c in picked_colour(
                                          a, intensity(state["value"]))]))
        dpg.add_text("scene-linear: type values above 1 in the fields", color=(150, 150, 150))

    def show(v):
        state["value"] = list(v)
        dpg.set_value(item, list(v))
        dpg.set_value(swatch, to_255(display_colour(v)))
        dpg.set_value(picker, to_255(display_colour([c / intensity(v) for c in v])))

    return Widget(item, show)


def _file_widget(f: Field, mode: str) -> Widget:
    dpg = _dpg()
    with dpg.group(horizontal=True, parent=f.parent):
        item = dpg.add_input_text(label=f.label, default_value=f.value, on_enter=True, auto_select_all=True,
                                  width=WIDTH - 30, callback=lambda s, a: f.commit(a))
        if f.services is not None:
            start = f.model.graph.nodes[f.node].resolve(f.value) if f.value and f.model is not None else None
            dpg.add_button(label="...", tag=f"{f.node}.{f.param.name}.browse",
                           callback=lambda: f.services.file_dialog(mode, f.commit, start=start))
    return Widget(item, lambda v: dpg.set_value(item, v))


def file_open_widget(f: Field) -> Widget:
    """A path of a file to read: a text field and a ... button that opens the picker."""
    return _file_widget(f, "open")


def file_save_widget(f: Field) -> Widget:
    """A path to write: a text field and a ... button that opens the picker to save."""
    return _file_widget(f, "save")


def prompts_widget(f: Field) -> Widget:
    """Keyframes of a prompts param, each with a button to go there; the points and boxes are
    drawn, added, moved and deleted in the viewer."""
    dpg = _dpg()
    dpg.add_text(f"{f.label}: {len(f.value)} keyframe prompt{'s' if len(f.value) != 1 else ''}", parent=f.parent)
    for kf in f.value:
        with dpg.group(horizontal=True, parent=f.parent):
            frame = kf["frame"]
            dpg.add_button(label=f"go {frame}", callback=lambda s, a, u: f.model.set_frame(u), user_data=frame)
            box = " box " + " ".join(f"{v:g}" for v in kf["box"]) if kf["box"] else ""
            dpg.add_text(f"object {kf['object']}:{box} {len(kf['points'])} point(s)")
    dpg.add_text("In the viewer: click adds a + point, Shift/Ctrl+click a - point; in box mode drag a box. "
                 "Drag a point or corner to move it, Del removes the selected one.", wrap=0, parent=f.parent,
                 color=(150, 150, 150))
    return Widget(None)


def readonly_widget(f: Field) -> Widget:
    """A param no widget kind draws: its value as text, naming its kind."""
    import json

    dpg = _dpg()
    dpg.add_text(f"{f.label}: {json.dumps(f.value)[:80]}  (no editor widget for '{f.param.type_name}' params)",
                 parent=f.parent, wrap=0)
    return Widget(None)


BUILTIN: dict[str, Callable[[Field], Widget]] = {
    "float": float_widget, "int": int_widget, "bool": bool_widget, "str": str_widget,
    "choice": choice_widget, "colorspace": colorspace_widget, "color": color_widget,
    "file_open": file_open_widget, "file_save": file_save_widget, "prompts": prompts_widget,
    "readonly": readonly_widget,
}
