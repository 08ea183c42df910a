"""The editor's file picker: a modal window that owns the keyboard while it is open.

It lists the folder's sub-folders (``[Dir] name/``), then its files, with numbered image files
collapsed into one sequence entry ``plate.####.exr  (1001-1100, 100 frames)`` so that a plate
is chosen as a sequence. A click puts an entry's name in the file name field; a double click
enters a folder or chooses a file; Enter chooses what the field names (a folder: enters it);
Escape or Cancel closes. A path typed with folders is looked up in the folder shown, then in the
working folder. The path handed back is relative to the working directory (the folder
renders resolve relative paths against) when the file is inside it, else absolute.
"""

from __future__ import annotations

import os
import re
import time

from rotograph.io.media import IMAGE_EXTS, sequence_frames

TAG, FOLDER, NAME, LIST, OK, CANCEL, UP, MESSAGE, PREFIX = (
    "picker", "picker_folder", "picker_name", "picker_list", "picker_ok", "picker_cancel", "picker_up",
    "picker_message", "picker_prefix")
HANDLERS = "picker_handlers"
FOCUS_FRAMES = 30  # frames to keep asking for the name field's focus after opening
DOUBLE_CLICK = 0.5  # seconds between two clicks on one entry that make a double click
DOUBLE_CLICK_FRAMES = 6  # … or frames
_NUMBERED = re.compile(r"^(.*?)(\d+)(\.[A-Za-z0-9]+)$")


def list_folder(folder: str, extensions=None) -> list[tuple[str, str, str]]:
    """``[(kind, name, label)]`` for ``folder``: kind ``"dir"``, ``"seq"`` or ``"file"``; a
    sequence's name is its pattern (``plate.####.exr``). ``extensions``: lower-case suffixes
    (``".json"``) of the files to list, None for all. Hidden entries are left out."""
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    dirs = [n for n in names if not n.startswith(".") and os.path.isdir(os.path.join(folder, n))]
    files = [n for n in names if not n.startswith(".") and n not in dirs]
    if extensions is not None:
        files = [n for n in files if os.path.splitext(n)[1].lower() in extensions]
    groups: dict[tuple[str, int, str], list[tuple[int, str]]] = {}
    for n in files:
        m = _NUMBERED.match(n)
        if m and m.group(3).lower() in IMAGE_EXTS:
            groups.setdefault((m.group(1), len(m.group(2)), m.group(3)), []).append((int(m.group(2)), n))
    out = [("dir", d, f"[Dir] {d}/") for d in dirs]
    in_seq = set()
    entries = []
    for (head, pad, ext), members in groups.items():
        if len(members) < 2:
            continue
        frames = sorted(f for f, _ in members)
        in_seq.update(n for _, n in members)
        entries.append((head + "#" * pad + ext, "seq", f"{head + '#' * pad + ext}  ({frames[0]}-{frames[-1]}, "
                                                      f"{len(frames)} frames)"))
    entries += [(n, "file", n) for n in files if n not in in_seq]
    return out + [(kind, name, label) for name, kind, label in sorted(entries)]


def _exists(path: str) -> bool:
    """A file, folder, or a sequence pattern with at least one frame."""
    return os.path.exists(path) or bool(sequence_frames(path))


class FilePicker:
    """The editor's own file picker: a window that owns the keyboard while open, lists folders
    as ``[Dir]`` and numbered images as one ``plate.####.exr`` entry with its frame range."""
    def __init__(self):
        # keys typed before the name field has the keyboard (it takes it a frame or two after the
        # picker opens) are kept here, shown before the field, and are the start of the name; the
        # field itself (a real text input: any character, the cursor) takes over once active
        self.prefix = ""
        self._focus = 0
        self._was_active = False
        self._last_value = ""
        self.folder = os.getcwd()
        self.entries: list[tuple[str, str, str]] = []
        self.mode = "open"
        self.callback = None
        self.extensions = None
        self._items: list[int] = []
        self._last_click = (None, 0.0, -100)

    def build(self) -> None:
        """Create the picker's (hidden) window and its double-click handler; once, after the DearPyGui context exists."""
        import dearpygui.dearpygui as dpg

        with dpg.item_handler_registry(tag=HANDLERS):
            dpg.add_item_double_clicked_handler(callback=lambda s, a: self._double_clicked(a))
        with dpg.window(label="Open", tag=TAG, modal=False, show=False, no_collapse=True, width=640, height=440,
                        on_close=lambda: self.close()):
            with dpg.group(horizontal=True):
                dpg.add_button(label="Up", tag=UP, callback=lambda: self.enter(os.path.dirname(self.folder)))
                dpg.add_text("", tag=FOLDER)
            dpg.add_child_window(tag=LIST, height=-58, border=True)
            with dpg.group(horizontal=True):
                dpg.add_text("", tag=PREFIX)
                dpg.add_input_text(tag=NAME, label="file name", width=-90, hint="a name, a folder, or plate.####.exr")
            with dpg.group(horizontal=True):
                dpg.add_button(label="Open", tag=OK, width=110, callback=lambda: self.accept())
                dpg.add_button(label="Cancel", tag=CANCEL, width=110, callback=lambda: self.close())
                dpg.add_text("", tag=MESSAGE, color=(240, 150, 90))

    @property
    def is_open(self) -> bool:
        """Whether the picker is shown (graph shortcuts are off while it is)."""
        import dearpygui.dearpygui as dpg

        return dpg.does_item_exist(TAG) and bool(dpg.is_item_shown(TAG))

    def open(self, mode: str, callback, extensions=None, start: str | None = None) -> None:
        """``mode`` "open" or "save"; ``callback(path)`` once a path is chosen; ``start``: a
        path whose folder is shown first (default: the last folder shown)."""
        import dearpygui.dearpygui as dpg

        self.mode, self.callback = mode, callback
        self.extensions = {e.lower() for e in extensions} if extensions else None
        name = ""
        if start:
            start = os.path.abspath(start)
            folder = start if os.path.isdir(start) else os.path.dirname(start)
            if os.path.isdir(folder):
                self.folder = folder
                name = "" if os.path.isdir(start) else os.path.basename(start)
        vw, vh = dpg.get_viewport_client_width(), dpg.get_viewport_client_height()
        dpg.configure_item(TAG, label="Open" if mode == "open" else "Save as", show=True,
                           pos=(max(vw // 2 - 320, 0), max(vh // 2 - 220, 0)))
        dpg.configure_item(OK, label="Open" if mode == "open" else "Save")
        dpg.set_value(NAME, name)
        dpg.set_value(MESSAGE, "")
        self._set_prefix("")
        self.enter(self.folder)
        self._focus = FOCUS_FRAMES

    def close(self) -> None:
        """Hide the picker without choosing (Cancel, Escape or the window's close box)."""
        import dearpygui.dearpygui as dpg

        dpg.configure_item(TAG, show=False)
        self._focus = 0

    def enter(self, folder: str) -> None:
        """Show ``folder``'s entries."""
        import dearpygui.dearpygui as dpg

        self.folder = os.path.abspath(folder)
        self.entries = list_folder(self.folder, self.extensions)
        dpg.set_value(FOLDER, self.folder)
        dpg.delete_item(LIST, children_only=True)
        self._items = [dpg.add_selectable(label=label, parent=LIST, user_data=i,
                                          callback=lambda s, a, u: self._clicked(u))
                       for i, (_, _, label) in enumerate(self.entries)]
        for item in self._items:
            dpg.bind_item_handler_registry(item, HANDLERS)
        if not self.entries:
            dpg.add_text("(empty)", parent=LIST, color=(150, 150, 150))

    def _clicked(self, index: int) -> None:
        import dearpygui.dearpygui as dpg

        kind, name, _ = self.entries[index]
        for i, item in enumerate(self._items):
            dpg.set_value(item, i == index)
        # a double click: the same entry again within DOUBLE_CLICK s, or within a few frames (a
        # slow machine draws few frames a second, and the window sees one button change a frame)
        now = (time.monotonic(), dpg.get_frame_count())
        last = self._last_click
        double = last[0] == (self.folder, index) and (now[0] - last[1] < DOUBLE_CLICK or
                                                      now[1] - last[2] <= DOUBLE_CLICK_FRAMES)
        self._last_click = ((self.folder, index), *now)
        if kind != "dir":
            dpg.set_value(NAME, name)
            self._set_prefix("")
        if double:
            self._activate(index)

    def _double_clicked(self, app_data) -> None:
        """ImGui's double click on an entry (its second click is no selectable press)."""
        item = app_data[1] if isinstance(app_data, (list, tuple)) else app_data
        if item in self._items:
            self._activate(self._items.index(item))

    def _activate(self, index: int) -> None:
        """A double click: enter a folder, choose a file or sequence."""
        import dearpygui.dearpygui as dpg

        kind, name, _ = self.entries[index]
        self._last_click = (None, 0.0, -100)
        if kind == "dir":
            self.enter(os.path.join(self.folder, name))
            return
        dpg.set_value(NAME, name)
        self._set_prefix("")
        self.accept()

    def accept(self) -> None:
        """Choose the path the file name field names (Enter, Open/Save, a double click)."""
        import dearpygui.dearpygui as dpg

        if not self.is_open:
            return
        text = os.path.expanduser(self.name().strip())
        if not text:
            return
        if text.startswith("sample:"):  # a bundled sample, by name
            self.close()
            if self.callback is not None:
                self.callback(text)
            return
        path = os.path.normpath(os.path.join(self.folder, text))
        if self.mode == "open" and not _exists(path) and _exists(os.path.abspath(text)):
            path = os.path.abspath(text)  # a path typed relative to the working folder, as renders read it
        if self.mode == "save" and self.extensions and len(self.extensions) == 1 and not os.path.splitext(path)[1]:
            path += next(iter(self.extensions))
        if os.path.isdir(path):
            dpg.set_value(NAME, "")
            self._set_prefix("")
            self.enter(path)
            return
        if self.mode == "open" and not _exists(path):
            dpg.set_value(MESSAGE, f"no file {text} in this folder")
            return
        self.close()
        if self.callback is not None:
            self.callback(path)  # absolute: the model spells it relative to the graph file

    def name(self) -> str:
        """The file name typed: the keys kept before the field was active, then the field."""
        import dearpygui.dearpygui as dpg

        return self.prefix + (dpg.get_value(NAME) or "")

    def _set_prefix(self, text: str) -> None:
        import dearpygui.dearpygui as dpg

        self.prefix = text
        dpg.set_value(PREFIX, text)
        dpg.configure_item(PREFIX, show=bool(text))

    def update(self) -> None:
        """Once a frame: give the name field the keyboard (until it has it)."""
        import dearpygui.dearpygui as dpg

        if not self.is_open:
            return
        active = bool(dpg.get_item_state(NAME).get("active"))
        if self._focus and not active:
            self._focus -= 1
            dpg.focus_item(NAME)
        elif active:
            self._focus = 0
        self._was_active = active
        self._last_value = dpg.get_value(NAME) or ""

    def key(self, key: int, shift: bool = False) -> None:
        """The window routes every key here while the picker is open: Enter chooses, Escape
        closes; before the name field is active, characters and BackSpace edit the name here;
        BackSpace in the empty active field takes back a kept character."""
        import dearpygui.dearpygui as dpg

        from .items import key_char

        if key in (dpg.mvKey_Return, dpg.mvKey_NumPadEnter):
            self.accept()
        elif key == dpg.mvKey_Escape:
            self.close()
        elif dpg.get_item_state(NAME).get("active") and self._was_active:  # (the frame it became active drops keys)
            if key == dpg.mvKey_Back and not self._last_value and self.prefix:
                self._set_prefix(self.prefix[:-1])
        elif key == dpg.mvKey_Back:
            self._set_prefix(self.prefix[:-1])
        elif (c := key_char(key, shift)) is not None:
            if not self.prefix and not self._was_active:
                dpg.set_value(NAME, "")  # typing replaces the name shown, as in a focused field
            self._set_prefix(self.prefix + c)

    def describe(self) -> dict:
        """What the picker shows, for tests and the probe: open, folder, typed name, message, entries and their screen rects."""
        import dearpygui.dearpygui as dpg

        from .items import rect

        return {"open": self.is_open, "folder": self.folder, "name": self.name(), "message": dpg.get_value(MESSAGE),
                "entries": [label for _, _, label in self.entries],
                "rects": [rect(i) for i in self._items] if self.is_open else [],
                "name_rect": rect(NAME), "ok": rect(OK), "cancel": rect(CANCEL)}
