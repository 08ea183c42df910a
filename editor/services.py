"""What the window offers the panels (a status line, the file picker, typed text) and the check
that a window can open at all."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

from rotograph.errors import RotographError

from .filepicker import FilePicker
from .items import TypedText


class NoDisplayError(RotographError):
    """The editor cannot open a window: no display."""


def check_display() -> tuple[int, int] | None:
    """Raise :class:`NoDisplayError` unless a window can open (on Linux: an X server answers on
    ``$DISPLAY``; GLFW would abort the process instead). Returns the screen's size when known."""
    if not sys.platform.startswith("linux"):
        return None
    hint = "run it on a desktop, or under a virtual X server: xvfb-run -a rotograph edit graph.json"
    display = os.environ.get("DISPLAY")
    if not display:
        raise NoDisplayError(f"no display found (DISPLAY is not set): {hint}")
    lib = ctypes.util.find_library("X11")
    if lib is None:
        return None
    x11 = ctypes.CDLL(lib)
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    for f in (x11.XCloseDisplay, x11.XDefaultScreen):
        f.argtypes = [ctypes.c_void_p]
    for f in (x11.XDisplayWidth, x11.XDisplayHeight):
        f.argtypes = [ctypes.c_void_p, ctypes.c_int]
    handle = x11.XOpenDisplay(None)
    if not handle:
        raise NoDisplayError(f"no display found: cannot open DISPLAY={display}: {hint}")
    screen = x11.XDefaultScreen(handle)
    size = x11.XDisplayWidth(handle, screen), x11.XDisplayHeight(handle, screen)
    x11.XCloseDisplay(handle)
    return size


class Services:
    """What panels may ask of the window: a status line and a file picker."""

    def __init__(self):
        self.message = ""
        self.typed = TypedText()
        self.picker = FilePicker()
        self.graph_path = lambda: None  # () -> the graph file's path (the picker starts in its folder)

    def status(self, text: str) -> None:
        """Show ``text`` on the status line (one line; the newest message replaces the last)."""
        self.message = text

    def file_dialog(self, mode: str, callback, extension: str | None = None, start: str | None = None) -> None:
        """``mode`` "open" or "save"; ``callback(path)`` with the chosen path (absolute, or a
        ``sample:`` name); ``extension`` (".json"): list only such files."""
        if start is None and self.graph_path():
            start = os.path.dirname(self.graph_path()) or None  # the graph's folder, no name in the field
        self.picker.open(mode, callback, [extension] if extension else None, start)


