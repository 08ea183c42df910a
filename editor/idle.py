"""Sleeping while nothing happens: the window draws no frame until an event arrives.

DearPyGui draws a frame per call and polls the window system only then, so an idle loop that
keeps calling it costs a third of a core. :class:`Wakeup` lets the loop sleep in ``select``
on what can bring news instead:

- the window system's connection (on Linux/X11: the sockets GLFW opened to the X server,
  found as the sockets that appeared while the viewport was created) — any input, expose,
  resize or close event makes it readable;
- a self-pipe that other threads write to (:meth:`Wakeup.set`: a result from the evaluation
  worker, a render's progress).

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

    def before_window(self) -> None:
        """Call just before the window opens (``create_viewport``)."""
        self._before = _socket_fds()

    def after_window(self) -> None:
        """Call once it is shown: the sockets that appeared are its connection."""
        self.fds = sorted(_socket_fds() - self._before)

    def set(self) -> None:
        """Wake the loop (any thread)."""
        try:
            os.write(self._w, b"!")
        except (BlockingIOError, OSError):
            pass  # the pipe is full: it is awake anyway

    def wait(self, timeout: float) -> bool:
        """Sleep until an event or :meth:`set`, at most ``timeout`` s; True if woken."""
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
