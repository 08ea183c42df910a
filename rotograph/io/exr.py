"""Reading EXR files through OpenEXR without its console chatter: a truncated or corrupt file
gives one :class:`~rotograph.errors.MediaError` naming it and quoting the library's first
complaint, instead of the C core's error lines and the binding's warning on the console."""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import tempfile
import threading

import numpy as np

from ..errors import MediaError

_STDERR_LOCK = threading.Lock()


@contextlib.contextmanager
def _library_messages():
    """Catch what a library prints — on file descriptors 1 and 2 (OpenEXR's C core prints its
    own error lines) and through Python's ``sys.stdout``/``sys.stderr`` (its binding's warning)
    — into the yielded list of lines, so that a damaged file gives one error of ours; other
    output printed meanwhile (another thread's) is passed on afterwards."""
    import ctypes

    libc = ctypes.CDLL(None)
    lines: list[str] = []
    with _STDERR_LOCK, tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        streams = sys.stdout, sys.stderr
        for stream in streams:
            if stream is not None:
                stream.flush()
        saved = [(fd, os.dup(fd), tmp, stream, io.StringIO())
                 for fd, tmp, stream in ((1, out, streams[0]), (2, err, streams[1]))]
        for fd, _, tmp, _, _ in saved:
            os.dup2(tmp.fileno(), fd)
        sys.stdout, sys.stderr = saved[0][4], saved[1][4]
        try:
            yield lines
        finally:
            libc.fflush(None)  # C and C++ streams buffered for the files
            sys.stdout, sys.stderr = streams
            for fd, copy, tmp, stream, caught in saved:
                os.dup2(copy, fd)
                os.close(copy)
                tmp.seek(0)
                text = tmp.read().decode("utf-8", "replace") + caught.getvalue()
                lines.extend(text.splitlines())
                # pass the rest on byte for byte (a progress bar's \r and escape codes too)
                other = "".join(seg for seg in re.split(r"(?<=\n)", text) if not _is_chatter(seg))
                if other and stream is not None:
                    stream.write(other)
                    stream.flush()


def _is_chatter(line: str) -> bool:
    """A line OpenEXR or its binding prints about a file it cannot read."""
    return "EXR_ERR" in line or "reading pixel data" in line


def exr_channels(path: str) -> dict[str, np.ndarray]:
    """Every channel of every part of an EXR (multi-part files included). A file that is not
    an EXR, or whose pixel data is truncated or corrupt, raises :class:`MediaError` naming it
    and quoting the library's first complaint."""
    import OpenEXR

    out: dict[str, np.ndarray] = {}
    listed: list[str] = []
    with _library_messages() as messages:
        try:
            with OpenEXR.File(path, header_only=True) as f:
                listed = [c.name for part in f.parts for c in part.header.get("channels", ())]
            with OpenEXR.File(path, separate_channels=True) as f:
                for part in f.parts:
                    out.update({name: ch.pixels.copy() for name, ch in part.channels.items() if ch.pixels is not None})
        except (RuntimeError, OSError, ValueError, TypeError, IndexError) as e:
            error = e
        else:
            error = None
    if error is not None or len(out) < len(set(listed)):
        why = next((m.split(") ", 1)[-1] for m in messages if "EXR_ERR" in m), None) or \
            (f"{error}".replace(f"'{path}'", "the file") if error else "its pixel data cannot be read")
        what = "not a readable EXR file" if not listed else "truncated or corrupt EXR"
        raise MediaError(f"{path}: {what} ({why})")
    return out
