"""Sleeping while nothing happens: the window draws no frame until an event arrives.

DearPyGui draws a frame per call and polls the window system only then, so an idle loop that
keeps calling it costs a third of a core. :class:`Wakeup` lets the loop sleep in ``select``
on what can bring news instead:

- the window system's connection (on Linux/X11: the sockets GLFW opened to the X server,
  found as the sockets that appeared while the viewport was created) — any input, expose,
  resize or close event makes it readable;
- a self-pipe that other threads write to (:meth:`Wakeup.set`: a result from the evaluation
  worker, a render's progress);

and does not sleep at all while X events already wait in Xlib's queue (read off the socket
during the last frame, which select cannot see), so the heartbeat — a frame at least this
often — is a long safety net only.

Where the connection cannot be found (not Linux), :meth:`Wakeup.wait` sleeps a short time
instead (a low frame rate), which is correct but not free.
"""

from __future__ import annotations

import os
import select
import stat
import time


def _socket_fds() -> set[int]:
    out = set()
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return out
    for n in names:
        try:
            if stat.S_ISSOCK(os.fstat(int(n)).st_mode):
                out.add(int(n))
        except OSError:
            pass
    return out


def _queued_events():
    """A function telling how many X events wait in the window's Xlib queue (``XEventsQueued``
    with ``QueuedAlready``: no I/O), through GLFW's display in DearPyGui's library; None where
    that is not available (not X11)."""
    import ctypes
    import ctypes.util

    try:
        import dearpygui._dearpygui as lib

        glfw = ctypes.CDLL(lib.__file__)
        glfw.glfwGetX11Display.restype = ctypes.c_void_p
        display = glfw.glfwGetX11Display()
        x11 = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
    except (OSError, AttributeError, ImportError):
        return None
    if not display:
        return None
    x11.XEventsQueued.argtypes = [ctypes.c_void_p, ctypes.c_int]
    x11.XEventsQueued.restype = ctypes.c_int
    return lambda: x11.XEventsQueued(display, 0)


class Wakeup:
    """Lets the idle event loop sleep until an X event arrives or a worker writes to a
    self-pipe, instead of polling every frame."""
    FALLBACK = 0.05  # seconds per idle frame where the window system cannot be watched

    def __init__(self):
        self._r, self._w = os.pipe()
        os.set_blocking(self._r, False)
        os.set_blocking(self._w, False)
        self._before: set[int] = set()
        self.fds: list[int] = []
        self._queued = None

    def before_window(self) -> None:
        """Call just before the window opens (``create_viewport``)."""
        self._before = _socket_fds()

    def after_window(self) -> None:
        """Call once it is shown: the sockets that appeared are its connection."""
        self.fds = sorted(_socket_fds() - self._before)
        self._queued = _queued_events()

    def pending(self) -> bool:
        """Whether X events already sit in Xlib's queue (read off the socket while the last frame
        waited for a reply): select would not see them."""
        return self._queued is not None and self._queued() > 0

    def set(self) -> None:
        """Wake the loop (any thread)."""
        try:
            os.write(self._w, b"!")
        except (BlockingIOError, OSError):
            pass  # the pipe is full: it is awake anyway

    def wait(self, timeout: float) -> bool:
        """Sleep until an event or :meth:`set`, at most ``timeout`` s; True if woken."""
        if self.pending():
            return True
        if not self.fds:
            time.sleep(min(timeout, self.FALLBACK))
            return False
        try:
            ready, _, _ = select.select([self._r, *self.fds], [], [], timeout)
        except (OSError, ValueError):
            time.sleep(min(timeout, self.FALLBACK))
            return False
        if self._r in ready:
            try:
                while os.read(self._r, 4096):
                    pass
            except (BlockingIOError, OSError):
                pass
        return bool(ready)

    def close(self) -> None:
        """Close the self-pipe."""
        for fd in (self._r, self._w):
            try:
                os.close(fd)
            except OSError:
                pass
