"""The Tab palette: a searchable list of node types and saved templates, opened at the mouse.

Typing filters (every word must appear in the type id, its category or its docstring's first
line; names that start with the text come first), ↑/↓ move the highlight, Enter or a click adds
the highlighted entry, Escape or a click outside closes it.
"""

from __future__ import annotations

from .items import rect

PALETTE, FILTER, LIST = "palette", "palette_filter", "palette_list"


class Palette:
    """The node palette (Tab): every node type and template, searched as the user types."""

    def __init__(self, registry, on_pick, typed=None):
        self.registry = registry
        self.typed = typed          # the window's TypedText: it types every key into the filter, in order
        self.on_pick = on_pick      # on_pick(entry, mouse): "rotograph.Grow" or "template:NAME"
        self.items: list[str] = []  # entries shown, best first
        self.highlight = 0
        self.mouse = None
        self._down = False

    def build(self) -> None:
        """Make its window (hidden until :meth:`open`)."""
        import dearpygui.dearpygui as dpg

        with dpg.window(label="Add node", tag=PALETTE, show=False, width=340, height=330, no_collapse=True,
                        on_close=lambda: self.close()):
            dpg.add_input_text(tag=FILTER, hint="type to search, Enter adds", width=-1,
                               callback=lambda s, a: self.filter(a))
            dpg.add_listbox([], tag=LIST, width=-1, num_items=13, callback=lambda s, a: self._clicked(a))

    @property
    def is_open(self) -> bool:
        """Whether it is on screen (it owns the keyboard then)."""
        import dearpygui.dearpygui as dpg

        return bool(dpg.is_item_shown(PALETTE))

    def _entries(self) -> dict[str, str]:
        """label → entry."""
        from rotograph.core.groups import list_templates

        out = {}
        for tid, cls in self.registry.node_types.items():
            out[f"{tid.rsplit('.', 1)[-1]}  ({cls.category}, {tid.rsplit('.', 1)[0]})"] = tid
        for name in list_templates():
            out[f"{name}  (template)"] = f"template:{name}"
        return out

    def filter(self, text: str) -> None:
        """List the entries that match ``text`` (name, type id, docstring), best first."""
        import dearpygui.dearpygui as dpg

        words = text.lower().split()
        entries = self._entries()
        scored = []
        for label, entry in entries.items():
            cls = self.registry.node_types.get(entry)
            doc = (cls.__doc__ or "").strip().split("\n")[0] if cls is not None else ""
            hay = f"{label} {entry} {doc}".lower()
            if all(w in hay for w in words):
                short = label.split()[0].lower()
                rank = 0 if words and short.startswith(words[0]) else 1 if words and words[0] in short else 2
                scored.append((rank, short, label))
        self.items = [label for _, _, label in sorted(scored)]
        self._labels = entries
        self.highlight = 0
        dpg.configure_item(LIST, items=self.items)
        if self.items:
            dpg.set_value(LIST, self.items[0])

    def open_at_mouse(self) -> None:
        """Tab, or Edit > Add node: the palette where the mouse is."""
        from .items import mouse

        self.open(mouse())

    def open(self, mouse) -> None:
        """Show it at the screen position ``mouse``, its search field empty and active."""
        import dearpygui.dearpygui as dpg

        self.mouse = tuple(mouse)
        vw, vh = dpg.get_viewport_client_width(), dpg.get_viewport_client_height()
        x = int(min(max(mouse[0] - 20, 0), max(vw - 340, 0)))
        y = int(min(max(mouse[1] - 10, 0), max(vh - 330, 0)))
        dpg.configure_item(PALETTE, show=True, pos=(x, y))
        dpg.set_value(FILTER, "")
        self.filter("")
        dpg.focus_item(PALETTE)
        if self.typed is not None:
            self.typed.own(FILTER, self.filter)
        else:
            dpg.focus_item(FILTER)

    def close(self) -> None:
        """Hide it without adding anything."""
        import dearpygui.dearpygui as dpg

        dpg.configure_item(PALETTE, show=False)
        if self.typed is not None:
            self.typed.release(FILTER)

    def move(self, delta: int) -> None:
        """↑/↓: move the highlight."""
        import dearpygui.dearpygui as dpg

        if self.items:
            self.highlight = min(max(self.highlight + delta, 0), len(self.items) - 1)
            dpg.set_value(LIST, self.items[self.highlight])

    def _clicked(self, label: str) -> None:
        if label in self.items:
            self.highlight = self.items.index(label)
            self.pick()

    def pick(self) -> None:
        """Enter (the window routes it here while the palette is open): add the highlighted entry where the palette was opened."""
        if not self.items:
            return
        entry = self._labels[self.items[self.highlight]]
        self.close()
        self.on_pick(entry, self.mouse)

    def update(self) -> None:
        """Per frame: a click outside the palette closes it."""
        import dearpygui.dearpygui as dpg

        down = dpg.is_mouse_button_down(0)
        pressed, self._down = down and not self._down, down
        if pressed and self.is_open:
            r = rect(PALETTE)
            x, y = dpg.get_mouse_pos(local=False)
            if r is not None and not (r[0] <= x < r[0] + r[2] and r[1] <= y < r[1] + r[3]):
                self.close()

    def describe(self) -> dict:
        """What it shows, for the probe."""
        import dearpygui.dearpygui as dpg

        return {"open": self.is_open, "items": self.items[:13], "highlight": self.highlight,
                "filter": dpg.get_value(FILTER),
                "filter_active": bool(dpg.get_item_state(FILTER).get("active")) or self.is_open and self.typed is not None}
