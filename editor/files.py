"""The window's file actions: New, Open, Save, Save as, the recent files and the question asked
before unsaved changes are left (Save / Don't save / Cancel). A render of the graph being left
stops first."""

from __future__ import annotations

import functools
import json
import os

from rotograph.errors import RotographError

RECENT_FILE = os.path.join(os.path.expanduser("~"), ".config", "rotograph", "recent.json")
CONFIRM = "confirm"  # the unsaved-changes dialog


class Files:
    """File > New, Open, Save, Save as, Recent and Quit, each asking first when there are
    unsaved changes."""

    def __init__(self, model, services, render_panel):
        self.model = model
        self.services = services
        self.render_panel = render_panel  # a render of the graph being left is cancelled
        self._then = None                 # what runs once the unsaved changes are saved or discarded

    def build(self) -> None:
        """The unsaved-changes dialog (the menus are the window's)."""
        import dearpygui.dearpygui as dpg

        with dpg.window(label="Unsaved changes", tag=CONFIRM, modal=True, show=False, no_collapse=True,
                        no_resize=True, width=420, height=110):
            dpg.add_text("", tag="confirm_text", wrap=400)
            with dpg.group(horizontal=True):
                for tag, label, answer in (("confirm_save", "Save", "save"),
                                           ("confirm_discard", "Don't save", "discard"),
                                           ("confirm_cancel", "Cancel", None)):
                    dpg.add_button(label=label, tag=tag, width=110, callback=self.confirmed, user_data=answer)
        self.fill_recent()

    @property
    def asking(self) -> bool:
        """Whether the unsaved-changes question is on screen (it owns the keyboard)."""
        import dearpygui.dearpygui as dpg

        return bool(dpg.is_item_shown(CONFIRM))

    # -- the actions ----------------------------------------------------------------------
    def new(self) -> None:
        """File > New (Ctrl+N)."""
        self.confirm_discard(self._new)

    def open_dialog(self) -> None:
        """File > Open (Ctrl+O): the picker, for a .json graph."""
        self.confirm_discard(self._pick_graph)

    def open_recent(self, sender, app_data, path: str) -> None:
        """A File > Recent entry (its path is the item's user data)."""
        self.confirm_discard(functools.partial(self.open, path))

    def open(self, path: str) -> None:
        """Start over on the graph in ``path``."""
        self.render_panel.cancel()  # a render of the graph being left stops
        try:
            self.model.open_file(path)
            self._remember(path)
        except RotographError as e:
            self.services.status(f"cannot open: {e}")

    def save(self) -> None:
        """File > Save (Ctrl+S); Save as for a graph without a file yet."""
        if not self.model.path:
            self.save_as()
            return
        self._save(None)

    def save_as(self) -> None:
        """File > Save as (Ctrl+Shift+S): the file's paths are spelt from its new folder."""
        self.services.file_dialog("save", self._save, ".json", start=self.model.path)

    def request_close(self) -> None:
        """The window's close button or Ctrl+Q: asks first when there are unsaved changes."""
        import dearpygui.dearpygui as dpg

        self.confirm_discard(dpg.stop_dearpygui)

    # -- asking first ---------------------------------------------------------------------
    def confirm_discard(self, then) -> None:
        """Run ``then`` now, or after the user saved or discarded unsaved changes."""
        import dearpygui.dearpygui as dpg

        if not self.model.dirty:
            then()
            return
        self._then = then
        name = os.path.basename(self.model.path) if self.model.path else "the untitled graph"
        dpg.set_value("confirm_text", f"Save the changes to {name}?")
        vw, vh = dpg.get_viewport_client_width(), dpg.get_viewport_client_height()
        dpg.configure_item(CONFIRM, show=True, pos=(max(vw // 2 - 210, 0), max(vh // 2 - 55, 0)))

    def confirmed(self, sender=None, app_data=None, answer: str | None = None) -> None:
        """The question's answer: ``"save"``, ``"discard"`` or None (Cancel, Escape)."""
        import dearpygui.dearpygui as dpg

        dpg.configure_item(CONFIRM, show=False)
        if answer is None:
            self.services.status("cancelled")
            return
        if answer == "save" and not self.model.path:
            self.services.file_dialog("save", self._save_then, ".json")
            return
        if answer == "save" and not self._save(None):
            return
        self._then()

    # -- helpers --------------------------------------------------------------------------
    def _new(self) -> None:
        self.render_panel.cancel()
        self.model.open_file(None)

    def _pick_graph(self) -> None:
        self.services.file_dialog("open", self.open, ".json")

    def _save_then(self, path: str) -> None:
        if self._save(path):
            self._then()

    def _save(self, path: str | None) -> bool:
        try:
            saved = self.model.save(path)
        except (RotographError, OSError) as e:
            self.services.status(f"not saved: {e}")
            return False
        self._remember(saved)
        self.services.status(f"saved {saved}")
        return True

    def _remember(self, path: str) -> None:
        recent = self.recent_files()
        recent = [os.path.abspath(path)] + [p for p in recent if p != os.path.abspath(path)]
        try:
            os.makedirs(os.path.dirname(RECENT_FILE), exist_ok=True)
            with open(RECENT_FILE, "w") as f:
                json.dump(recent[:10], f)
        except OSError:
            return
        self.fill_recent()

    @staticmethod
    def recent_files() -> list[str]:
        """The last files opened or saved, newest first."""
        try:
            with open(RECENT_FILE) as f:
                return [p for p in json.load(f) if isinstance(p, str)]
        except (OSError, ValueError):
            return []

    def fill_recent(self) -> None:
        """File > Recent, from :meth:`recent_files`."""
        import dearpygui.dearpygui as dpg

        if not dpg.does_item_exist("recent_menu"):
            return
        dpg.delete_item("recent_menu", children_only=True)
        for p in self.recent_files():
            dpg.add_menu_item(label=p, parent="recent_menu", user_data=p, callback=self.open_recent)
