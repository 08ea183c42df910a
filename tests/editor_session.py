"""Drive the real editor window with X input: a private Xvfb, ``rotograph edit`` in it, and
xdotool for every mouse move, click, drag, wheel notch and key press.

The editor writes what it shows to a probe file (``ROTOGRAPH_EDITOR_PROBE``: where nodes, pins,
widgets and the viewer are, the selection, the graph); the driver only reads it to know where to
point, and acts through X events like a user — it never calls into the editor.

Needs the system packages ``xvfb`` (Xvfb), ``xdotool`` and ``imagemagick`` (``import`` for
screenshots). ``python tests/editor_session.py --docs`` retakes the README's screenshots.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ("Xvfb", "xdotool", "import")


def missing_tools() -> list[str]:
    return [t for t in TOOLS if shutil.which(t) is None]


class EditorError(AssertionError):
    pass


class Session:
    """``with Session(tmp, graph) as s:`` starts Xvfb and the editor on ``graph`` (a file that
    may not exist yet). ``s.gestures`` counts the user's actions (a key or chord, a typed text, a
    click, a drag, a wheel notch); ``s.x_events`` the X key and button presses behind them."""

    def __init__(self, tmp, graph, size=(1600, 1000), env=None, timeout=30.0, cache=None):
        self.tmp = Path(tmp)
        self.cache = Path(cache) if cache else self.tmp / "cache"
        self.graph = str(graph)
        self.size = size
        self.env_extra = dict(env or {})
        self.timeout = timeout
        self.probe_path = self.tmp / "probe.json"
        self.gestures = 0
        self.x_events = 0
        self.log: list[str] = []
        self.t0 = time.monotonic()
        self.xvfb = self.editor = None

    # -- lifecycle ------------------------------------------------------------------------
    def __enter__(self):
        try:
            return self._start()
        except BaseException:
            self.close()
            raise

    def _start(self):
        missing = missing_tools()
        if missing:
            raise EditorError(f"missing {', '.join(missing)}: apt-get install xvfb xdotool imagemagick")
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.probe_path.unlink(missing_ok=True)
        read, write = os.pipe()
        self.xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0",
                                      f"{self.size[0]}x{self.size[1]}x24", "-nolisten", "tcp"],
                                     pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        os.close(write)
        with os.fdopen(read) as f:
            number = f.readline().strip()
        if not number:
            raise EditorError("Xvfb did not start")
        self.display = f":{number}"
        # an idle editor draws no frame until an event; the driver counts frames (settle), so it
        # asks for one every 0.1 s at least
        env = {**os.environ, "DISPLAY": self.display, "ROTOGRAPH_EDITOR_PROBE": str(self.probe_path),
               "HOME": str(self.tmp / "home"), "ROTOGRAPH_EDITOR_HEARTBEAT": "0.1", **self.env_extra}
        self.stderr_path = self.tmp / "editor.stderr"
        self.stdout_path = self.tmp / "editor.stdout"
        self.editor = subprocess.Popen(
            [sys.executable, "-m", "rotograph.cli", "edit", self.graph, "--cache", str(self.cache),
             "--memory", "512M"], cwd=self.tmp, env=env, stdout=open(self.stdout_path, "w"),
            stderr=open(self.stderr_path, "w"), start_new_session=True)
        self.wait(lambda p: p["canvas"]["rect"] is not None, "the editor window", timeout=60)
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        for proc in (self.editor, self.xvfb):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(5)

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text() if self.stderr_path.exists() else ""

    # -- reading the window ---------------------------------------------------------------
    def probe(self, tries: int = 100) -> dict | None:
        """The editor's latest probe (None if it has written none yet)."""
        for _ in range(tries):
            if self.editor is not None and self.editor.poll() is not None:
                raise EditorError(f"the editor exited ({self.editor.returncode}): {self.stderr[-3000:]}")
            try:
                return json.loads(self.probe_path.read_text())
            except (OSError, ValueError):
                time.sleep(0.05)
        return None

    def wait(self, cond, what: str, timeout: float | None = None) -> dict:
        """Poll the probe until ``cond(probe)`` holds; fail naming ``what``."""
        t0 = time.monotonic()
        last = None
        while time.monotonic() - t0 < (timeout or self.timeout):
            try:
                last = self.probe(tries=1) or last
                if last is not None and cond(last):
                    return last
            except (KeyError, TypeError, IndexError):
                pass
            time.sleep(0.05)
        status = last.get("status") if last else None
        raise EditorError(f"timed out waiting for {what} (status: {status!r}); actions: {self.log[-6:]}")

    def settle(self, frames: int = 3) -> dict | None:
        """Wait until the editor has drawn ``frames`` more frames (it has seen what was sent);
        None if what was sent closed it."""
        try:
            sent = time.time()
            first = self.wait(lambda p: p["time"] > sent, "a probe after the action")["frame_count"]
            return self.wait(lambda p: p["frame_count"] >= first + frames, f"{frames} frames")
        except EditorError:
            if self.editor.poll() == 0:
                return None
            raise

    def _step(self) -> None:
        """Between the parts of a gesture: let the editor draw a frame (a busy machine draws
        few per second, and the UI reads the mouse buttons once a frame)."""
        self.settle(1)

    # -- acting: X input only -------------------------------------------------------------
    def _xdo(self, *args) -> None:
        subprocess.run(["xdotool", *map(str, args)], env={**os.environ, "DISPLAY": self.display}, check=True,
                       timeout=30)

    def _count(self, what: str, x_events: int) -> None:
        self.gestures += 1
        self.x_events += x_events
        self.log.append(f"{time.monotonic() - self.t0:6.1f}s {what}")

    def move(self, x, y) -> None:
        self._xdo("mousemove", int(round(x)), int(round(y)))

    def key(self, chord: str) -> None:
        """One key or chord in xdotool's names: ``Tab``, ``Return``, ``ctrl+s``."""
        self._xdo("key", "--delay", 40, chord)
        self._count(f"key {chord}", 1)
        self._step()

    def type(self, text: str) -> None:
        self._xdo("type", "--delay", 12, "--", text)
        self._count(f"type {text!r}", len(text))
        self._step()

    def click(self, x, y, button: int = 1, modifier: str | None = None) -> None:
        self.move(x, y)
        if modifier:
            self._xdo("keydown", modifier)
            self._step()
        self._xdo("mousedown", button)
        self._step()
        self._xdo("mouseup", button)
        if modifier:
            self._step()
            self._xdo("keyup", modifier)
        self._count(f"click {button} {modifier or ''} at {int(x)},{int(y)}", 1 + bool(modifier))
        self.settle(2)  # a popup it opens appears a frame later

    def drag(self, a, b, button: int = 1, steps: int = 6) -> None:
        self.move(*a)
        self._xdo("mousedown", button)
        self._step()
        for i in range(1, steps + 1):
            self.move(a[0] + (b[0] - a[0]) * i / steps, a[1] + (b[1] - a[1]) * i / steps)
            self._step()
        self._xdo("mouseup", button)
        self._count(f"drag {button} {tuple(map(int, a))}->{tuple(map(int, b))}", 1)
        self._step()

    def wheel(self, x, y, notches: int) -> None:
        """Positive notches zoom in (X button 4), negative out (button 5)."""
        self.move(x, y)
        for _ in range(abs(notches)):
            self._xdo("click", 4 if notches > 0 else 5)
            self._count(f"wheel {'in' if notches > 0 else 'out'}", 1)
            self._step()

    def window(self) -> int:
        out = subprocess.run(["xdotool", "search", "--name", "rotograph"], env={**os.environ, "DISPLAY": self.display},
                             capture_output=True, text=True, timeout=30).stdout.split()
        if not out:
            raise EditorError("no editor window on the display")
        return int(out[0])

    def close_window(self) -> None:
        """Ask the window to close as a window manager does (WM_DELETE_WINDOW)."""
        _send_delete_window(self.display, self.window())
        self._count("close button", 1)

    def resize_window(self, width: int, height: int) -> None:
        """Resize the window as a window manager does."""
        self._xdo("windowsize", self.window(), width, height)
        self._count("resize", 1)

    def screenshot(self, path) -> Path:
        p = self.probe()["viewport"]
        subprocess.run(["import", "-display", self.display, "-window", "root", "-crop",
                        f"{p[2]}x{p[3]}+{p[0]}+{p[1]}", "+repage", str(path)], check=True, timeout=60)
        return Path(path)

    # -- where things are -----------------------------------------------------------------
    @staticmethod
    def centre(rect, dx: float = 0.5, dy: float = 0.5):
        return rect[0] + rect[2] * dx, rect[1] + rect[3] * dy


def overlap(a, b) -> bool:
    """Whether two screen rectangles ``(x, y, w, h)`` overlap."""
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def click_node(s: Session, name: str) -> dict:
    """Click a node's title bar; the probe once it is the selection."""
    r = s.wait(lambda p: name in p["canvas"]["nodes"], f"{name} on the canvas")["canvas"]["nodes"][name]
    s.click(r[0] + 10, r[1] + 4)
    return s.wait(lambda p: p["selection"] == [name], f"{name} selected")


def _send_delete_window(display: str, window: int) -> None:
    """A WM_PROTOCOLS / WM_DELETE_WINDOW client message, through Xlib (what a close button sends)."""
    import ctypes
    import ctypes.util

    x11 = ctypes.CDLL(ctypes.util.find_library("X11"))
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XInternAtom.restype = ctypes.c_ulong
    x11.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    x11.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long, ctypes.c_void_p]
    x11.XFlush.argtypes = [ctypes.c_void_p]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]

    class ClientMessage(ctypes.Structure):
        _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong), ("send_event", ctypes.c_int),
                    ("display", ctypes.c_void_p), ("window", ctypes.c_ulong), ("message_type", ctypes.c_ulong),
                    ("format", ctypes.c_int), ("data", ctypes.c_long * 5), ("pad", ctypes.c_long * 12)]

    d = x11.XOpenDisplay(display.encode())
    ev = ClientMessage()
    ev.type = 33  # ClientMessage
    ev.window = window
    ev.message_type = x11.XInternAtom(d, b"WM_PROTOCOLS", 0)
    ev.format = 32
    ev.data[0] = x11.XInternAtom(d, b"WM_DELETE_WINDOW", 0)
    x11.XSendEvent(d, window, 0, 0, ctypes.byref(ev))
    x11.XFlush(d)
    x11.XCloseDisplay(d)


# -- building a graph file's graph by hand --------------------------------------------------------
def _canonical_params(graph: dict, registry) -> dict:
    """Every node's params that differ from its type's defaults (what a user has to set)."""
    out = {}
    for name, spec in graph["nodes"].items():
        cls = registry.get(spec["type"])
        out[name] = {k: v for k, v in spec.get("params", {}).items() if cls.params[k].canonical(v) != cls.params[k].default}
    return out


def _links(graph: dict) -> list[tuple[str, str, str, str]]:
    """(src node, src output, dst node, dst input) of every link in a graph file."""
    return [(*ref.split("."), name, port) for name, spec in graph["nodes"].items()
            for port, ref in sorted(spec.get("inputs", {}).items())]


def _order(graph: dict) -> list[str]:
    done, order = set(), []
    while len(order) < len(graph["nodes"]):
        for name in sorted(graph["nodes"]):
            deps = {ref.split(".")[0] for ref in graph["nodes"][name].get("inputs", {}).values()}
            if name not in done and deps <= done:
                done.add(name)
                order.append(name)
                break
    return order


def _auto_link(registry, src_type: str, dst_type: str) -> tuple[str, str] | None:
    """The link the editor makes from a selected node into a new one (its first output to the
    first input of the same type) — the driver's model of what it will see."""
    src, dst = registry.get(src_type), registry.get(dst_type)
    for oname, out in src.outputs.items():
        for iname, inp in dst.inputs.items():
            if inp.type is out.type:
                return oname, iname
    return None


def _stream_links(registry, graph: dict, src: str, dst_type: str, auto: tuple[str, str]) -> set[tuple[str, str]]:
    """(source ref, input) links the editor makes into a new ``dst_type`` node added after
    ``src`` besides the auto link: each input left takes the source ``src``'s input of that type
    reads, or for a required image, ``src``'s plate (the driver's model of
    ``EditorModel.stream_links``)."""
    spec = graph["nodes"][src]
    cls_src, dst = registry.get(spec["type"]), registry.get(dst_type)
    theirs = {cls_src.inputs[i].type: ref for i, ref in spec.get("inputs", {}).items()}
    seen, frontier, plate = {src}, [src], None
    while frontier and plate is None:  # the nearest upstream node with no inputs and an Image output
        nxt = []
        for n in frontier:
            cls = registry.get(graph["nodes"][n]["type"])
            image = next((o for o, p in cls.outputs.items() if p.type.name == "Image"), None)
            if not cls.inputs and image:
                plate = f"{n}.{image}"
                break
            for ref in graph["nodes"][n].get("inputs", {}).values():
                if ref.split(".")[0] not in seen:
                    seen.add(ref.split(".")[0])
                    nxt.append(ref.split(".")[0])
        frontier = nxt
    out = set()
    for iname, inp in dst.inputs.items():
        if iname == auto[1]:
            continue
        if inp.type in theirs:
            out.add((theirs[inp.type], iname))
        elif inp.type.name == "Image" and not inp.optional and plate is not None:
            out.add((plate, iname))
    return out


HOTKEYS = {"rotograph.Read": "r", "rotograph.WriteEXR": "w"}  # node types the editor adds with one key


class Builder:
    """Builds a graph file's graph in an empty editor with the mouse and keyboard only: each node
    from the Tab palette (linked from the node selected, Nuke's way, when that gives one of the
    file's links), each param that differs from its default through the inspector, each prompt
    box and point by the mouse on the viewer, every other link by a drag from pin to pin."""

    def __init__(self, session: Session, graph: dict, registry):
        self.s = session
        self.graph = graph
        self.registry = registry
        self.names: dict[str, str] = {}  # the file's node → the editor's node
        self.by_inspector: list[tuple[str, str]] = []  # (node, param) set through the inspector
        self._tabbed: tuple[str, str] | None = None  # (node, param) whose field Tab gave the keyboard
        self.shots: dict = {}

    def build(self, shots: dict | None = None) -> None:
        """``shots``: where to save screenshots of the states "palette" (searching) and "box"
        (a prompt box drawn on the plate)."""
        self.shots = dict(shots or {})
        params = _canonical_params(self.graph, self.registry)
        links = _links(self.graph)
        for name in _order(self.graph):
            spec = self.graph["nodes"][name]
            after, best = None, 0
            wanted = {(f"{src}.{out}", port) for src, out, dst, port in links if dst == name}
            for src, out, dst, port in links:  # the node added after which makes the most of its links
                if dst == name and src in self.names:
                    auto = _auto_link(self.registry, self.graph["nodes"][src]["type"], spec["type"])
                    if auto == (out, port):
                        made = {(f"{src}.{out}", port)} | _stream_links(self.registry, self.graph, src, spec["type"],
                                                                        auto)
                        if made <= wanted and len(made) > best:
                            after, best = src, len(made)
            self.add_node(name, spec["type"], after)
            if "file" not in params[name] and self.s.settle(2)["picker"]["open"]:
                self.s.key("Escape")  # no file to choose
            todo = sorted(params[name].items(), key=lambda kv: kv[0] != "file")  # file: asked first
            for i, (pname, value) in enumerate(todo):
                if self.registry.get(spec["type"]).params[pname].type_name == "prompts":
                    self.set_prompts(name, value)
                else:
                    self.set_param(name, pname, value, then=todo[i + 1][0] if i + 1 < len(todo) else None)
        for src, out, dst, port in links:
            self.connect(f"{self.names[src]}.{out}", f"{self.names[dst]}.{port}")

    # -- the steps ------------------------------------------------------------------------
    def select(self, editor_name: str | None) -> None:
        s = self.s
        p = s.probe()
        if editor_name is None:
            if p["selection"]:
                s.key("Escape")
                s.wait(lambda p: not p["selection"], "no selection")
            return
        if p["selection"] == [editor_name]:
            return
        for attempt in range(3):  # the canvas may reframe itself (a node just added): look again
            r = self._node_rect(editor_name)
            s.click(r[0] + min(12, r[2] / 4), r[1] + 4)
            try:
                s.wait(lambda p: p["selection"] == [editor_name], f"{editor_name} selected", timeout=5)
                return
            except EditorError:
                if attempt == 2:
                    raise
                s.settle(3)

    def _node_rect(self, editor_name: str):
        try:
            p = self.s.wait(lambda p: editor_name in p["canvas"]["nodes"], f"{editor_name} on the canvas", timeout=1)
        except EditorError:  # out of view
            self.frame_all()
            p = self.s.wait(lambda p: editor_name in p["canvas"]["nodes"], f"{editor_name} on the canvas")
        return p["canvas"]["nodes"][editor_name]

    def frame_all(self) -> None:
        s = self.s
        c = s.probe()["canvas"]["rect"]
        s.move(c[0] + c[2] - 30, c[1] + 20)
        s.key("f")
        s.settle()

    def add_node(self, name: str, type_id: str, after: str | None) -> str:
        s = self.s
        self.select(self.names.get(after) if after else None)
        before = set(s.probe()["graph"]["nodes"])
        insp = s.probe()["params"]
        v = s.probe()["viewer"]["rect"]
        s.move(v[0] + 40, v[1] + 40)  # off the canvas: the node goes right of the selected one
        key = HOTKEYS.get(type_id)
        if key:  # Nuke's R and W
            s.key(key)
            p = s.wait(lambda p: len(p["graph"]["nodes"]) == len(before) + 1, f"{type_id} added")
            new = (set(p["graph"]["nodes"]) - before).pop()
            self.names[name] = new
            return new
        s.key("Tab")
        s.wait(lambda p: p["palette"]["open"] and p["palette"]["filter_active"], "the palette")
        short = type_id.rsplit(".", 1)[-1]
        s.type(short.lower())
        s.wait(lambda p: p["palette"]["filter"] == short.lower() and p["palette"]["items"][0].split()[0] == short,
               f"{short} listed first")
        if "palette" in self.shots:
            s.screenshot(self.shots.pop("palette"))
        s.key("Return")
        p = s.wait(lambda p: len(p["graph"]["nodes"]) == len(before) + 1, f"{short} added")
        new = (set(p["graph"]["nodes"]) - before).pop()
        assert p["selection"] == [new], p["selection"]
        self.names[name] = new
        del insp
        return new

    TYPED = ("mvSliderFloat", "mvSliderDouble", "mvInputFloat", "mvInputDouble")  # Tab goes on to the next

    def _next_field(self, node: str, pname: str, then: str | None) -> bool:
        """Whether ``then`` is the field right after ``pname``'s in the inspector and both take
        typed floats: Tab then moves from one to the other, as in any form."""
        if then is None:
            return False
        order = list(self.registry.get(self.s.probe()["graph"]["nodes"][node]["type"]).params)
        widgets = self.s.probe()["params"]
        return (order.index(then) == order.index(pname) + 1
                and all(widgets.get(f"{node}.{n}", {}).get("widget") in self.TYPED for n in (pname, then)))

    def set_param(self, name: str, pname: str, value, then: str | None = None) -> None:
        """Set ``pname`` through the inspector (or the picker a new Read opened). ``then``: the
        param set next, which Tab reaches when it is the next field."""
        s = self.s
        node = self.names[name]
        tabbed = self._tabbed == (node, pname)  # the field has the keyboard already
        self._tabbed = None
        if s.probe()["graph"]["nodes"][node]["params"][pname] == value:
            if tabbed:
                s.key("Escape")
            return  # the editor chose it already (a new writer's default path)
        if tabbed:
            s.type(_text(value))
            if self._next_field(node, pname, then):
                s.key("Tab")
                self._tabbed = (node, then)
            else:
                s.key("Return")
            s.wait(lambda p: p["graph"]["nodes"][node]["params"][pname] == value, f"{node}.{pname} = {value!r}")
            self.by_inspector.append((name, pname))
            return
        if s.probe()["picker"]["open"]:  # a new Read asks for its file at once
            s.type(_text(value))
            s.key("Return")
            s.wait(lambda p: p["graph"]["nodes"][node]["params"][pname] == value, f"{node}.{pname} = {value!r}")
            self.by_inspector.append((name, pname))
            return
        self.select(node)
        key = f"{node}.{pname}"
        p = s.wait(lambda p: p["params"][key]["rect"] is not None, f"the {key} widget")
        w = p["params"][key]
        r = w["rect"]
        kind = w.get("widget")
        if kind in ("mvSliderFloat", "mvSliderDouble", "mvSliderInt"):
            s.click(*s.centre(r, 0.3), modifier="ctrl")  # Ctrl+click: type a value into a slider
            s.type(_text(value))
            if self._next_field(node, pname, then):
                s.key("Tab")
                self._tabbed = (node, then)
            else:
                s.key("Return")
        elif kind in ("mvInputText", "mvInputFloat", "mvInputDouble", "mvInputInt"):
            s.click(r[0] + 30, r[1] + r[3] / 2)
            s.type(_text(value))
            s.key("Return")
        elif kind == "mvCombo":
            i = w["items"].index(str(value))
            line = p["font_size"] + 4  # a Selectable's height plus the item spacing
            if i >= 8:
                raise EditorError(f"{key}: {value!r} is below the 8 items a combo shows without scrolling")
            height = min(len(w["items"]), 8) * line + 16  # ImGui's regular combo height, with its padding
            top = r[1] + r[3] if r[1] + r[3] + height <= p["viewport"][3] else r[1] - height  # below, else above
            for attempt in range(3):  # a redraw of the inspector (a new value elsewhere) closes an open menu
                r = s.wait(lambda p: p["params"][key]["rect"], f"the {key} widget")["params"][key]["rect"]
                s.click(*s.centre(r, 0.3))
                s.settle(5)  # the menu opens, hidden for its first frame(s)
                if os.environ.get("ROTOGRAPH_DEBUG_SHOTS"):
                    s.screenshot(s.tmp / f"combo-open-{attempt}.png")
                s.click(r[0] + 30, top + 8 + (i + 0.5) * line - 2)
                try:
                    s.wait(lambda p: p["graph"]["nodes"][node]["params"][pname] == value, f"{key} = {value!r}",
                           timeout=5)
                    break
                except EditorError:
                    if attempt == 2:
                        s.screenshot(s.tmp / "combo-failed.png")
                        raise
        elif kind == "mvRadioButton":
            s.click(r[0] + w["option_x"][w["items"].index(str(value))], r[1] + r[3] / 2)
        elif kind == "mvCheckbox":
            s.click(r[0] + r[3] / 2, r[1] + r[3] / 2)
        else:
            raise EditorError(f"no way to set {key} ({w})")
        s.wait(lambda p: p["graph"]["nodes"][node]["params"][pname] == value, f"{key} = {value!r}")
        self.by_inspector.append((name, pname))

    def go_to_frame(self, frame: int) -> None:
        s = self.s
        if s.probe()["frame"] == frame:
            return
        r = s.probe()["items"]["frame_no"]
        s.click(r[0] + 20, r[1] + r[3] / 2)
        s.type(str(frame))
        s.key("Return")
        s.wait(lambda p: p["frame"] == frame, f"frame {frame}")

    def exact_zoom(self, kf: dict) -> dict:
        """Wheel the viewer, about the keyframe's prompts, to the largest zoom step at which they
        fit and every coordinate is a whole number of screen pixels; returns the viewer's state."""
        from rotograph.editor.viewer import ZOOMS

        s = self.s
        v = s.probe()["viewer"]
        xs = [c for c in (kf["box"] or [])[0::2]] + [pt[0] for pt in kf["points"]]
        ys = [c for c in (kf["box"] or [])[1::2]] + [pt[1] for pt in kf["points"]]
        span = (max(xs) - min(xs) + 20, max(ys) - min(ys) + 20)
        good = [z for z in ZOOMS if (1 / z).is_integer() and all(float(c * z).is_integer() for c in xs + ys)
                and span[0] * z < v["rect"][2] and span[1] * z < v["rect"][3]]
        target = max(good)
        centre = ((max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2)
        while abs(v["zoom"] - target) > 1e-9:
            x = v["origin"][0] + centre[0] * v["zoom"]
            y = v["origin"][1] + centre[1] * v["zoom"]
            r = v["rect"]
            x, y = min(max(x, r[0] + 5), r[0] + r[2] - 5), min(max(y, r[1] + 5), r[1] + r[3] - 5)
            zoom = v["zoom"]
            s.wheel(x, y, 1 if zoom < target else -1)
            v = s.wait(lambda p: p["viewer"]["zoom"] != zoom, "the viewer zoom")["viewer"]
        r = v["rect"]
        lo = (v["origin"][0] + (min(xs) - 10) * v["zoom"], v["origin"][1] + (min(ys) - 10) * v["zoom"])
        hi = (v["origin"][0] + (max(xs) + 10) * v["zoom"], v["origin"][1] + (max(ys) + 10) * v["zoom"])
        if lo[0] < r[0] or lo[1] < r[1] or hi[0] > r[0] + r[2] or hi[1] > r[1] + r[3]:  # pan it into view
            middle = (r[0] + r[2] / 2, r[1] + r[3] / 2)
            shift = (middle[0] - (lo[0] + hi[0]) / 2, middle[1] - (lo[1] + hi[1]) / 2)
            s.drag(middle, (middle[0] + shift[0], middle[1] + shift[1]), button=2)
            v = s.settle()["viewer"]
        return v

    def set_prompts(self, name: str, keyframes: list) -> None:
        """Each keyframe's box dragged and points clicked on the viewer, at a zoom at which
        a screen pixel is a whole number of plate pixels (so the coordinates come out exact)."""
        s = self.s
        node = self.names[name]
        self.select(node)
        for kf in keyframes:
            self.go_to_frame(kf["frame"])
            v = s.wait(lambda p: p["viewer"]["image"] is not None, "the plate in the viewer", timeout=60)["viewer"]
            v = self.exact_zoom(kf)
            if kf.get("object", 1) != v["object"]:
                r = s.probe()["items"]["prompt_object"]
                s.click(r[0] + 20, r[1] + r[3] / 2)
                s.type(str(kf["object"]))
                s.key("Return")
            at = lambda x, y: (v["origin"][0] + x * v["zoom"], v["origin"][1] + y * v["zoom"])  # noqa: E731
            if kf["box"]:
                r = v["rect"]
                if v["prompt_mode"] != "box":
                    s.move(r[0] + r[2] / 2, r[1] + r[3] / 2)
                    s.key("b")
                    s.wait(lambda p: p["viewer"]["prompt_mode"] == "box", "box mode")
                x0, y0, x1, y1 = kf["box"]
                s.drag(at(x0, y0), at(x1, y1))
                s.wait(lambda p: any(k["box"] == kf["box"] for k in p["graph"]["nodes"][node]["params"]["prompts"]),
                       f"the box {kf['box']}")
                if "box" in self.shots:
                    s.wait(lambda p: not p["viewer"]["waiting"], "the tracked matte", timeout=60)
                    s.settle(3)  # drawn
                    s.screenshot(self.shots.pop("box"))
            for x, y, label in kf["points"]:
                if s.probe()["viewer"]["prompt_mode"] != "point":
                    s.key("b")
                s.click(*at(x, y), modifier=None if label else "shift")
            s.wait(lambda p: any(k == kf for k in p["graph"]["nodes"][node]["params"]["prompts"]),
                   f"the keyframe {kf}")

    def connect(self, src: str, dst: str) -> None:
        s = self.s
        if dst in [f"{n}.{i}" for n, spec in s.probe()["graph"]["nodes"].items()
                   for i, ref in spec.get("inputs", {}).items() if ref == src]:
            return  # linked when the node was added
        self._node_rect(src.split(".")[0])
        self._node_rect(dst.split(".")[0])
        p = s.probe()
        pins = p["canvas"]["pins"]
        if f"out:{src}" not in pins or f"in:{dst}" not in pins:
            self.frame_all()
            pins = s.probe()["canvas"]["pins"]
        s.drag(pins[f"out:{src}"], pins[f"in:{dst}"])
        node, port = dst.split(".")
        s.wait(lambda p: p["graph"]["nodes"][node].get("inputs", {}).get(port) == src, f"{src} → {dst}")


def _text(value) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def window_shot(tmp: Path, size, path: Path) -> Path:
    """The shipped quickstart open in a window of ``size``, the tracker selected on its
    keyframe (its matte over the plate), saved as ``path``."""
    shutil.copy(ROOT / "graphs" / "quickstart.json", tmp / "quickstart.json")
    with Session(tmp / "session", tmp / "quickstart.json", size=size) as s:
        s.resize_window(*size)
        s.wait(lambda p: p["viewport"][2:] == list(size) and "track" in p["canvas"]["nodes"], "the window at size")
        s.key("bracketright")
        s.wait(lambda p: p["frame"] == 1041, "the keyframe")
        r = s.probe()["canvas"]["nodes"]["track"]
        s.click(r[0] + 10, r[1] + 4)
        s.wait(lambda p: p["viewer"]["shown"] == ["track", 1041, None] and not p["viewer"]["waiting"], "the track",
               timeout=120)
        s.settle(3)
        return s.screenshot(path)


def main(argv=None) -> int:
    """``python tests/editor_session.py --docs``: build graphs/quickstart.json by hand in the
    editor and save the README's screenshots in docs/ (needs Xvfb, xdotool, ImageMagick)."""
    import argparse
    import tempfile

    import rotograph

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--docs", action="store_true", help="write docs/editor*.png")
    parser.add_argument("--sizes-only", action="store_true", help="only the shots at 1280x720 and 1920x1080")
    args = parser.parse_args(argv)
    out = ROOT / "docs" if args.docs else Path(tempfile.mkdtemp(prefix="rotograph-shots-"))
    for size in ((1280, 720), (1920, 1080)):
        with tempfile.TemporaryDirectory() as tmp:
            print("wrote", window_shot(Path(tmp), size, out / f"editor-{size[0]}x{size[1]}.png"))
    if args.sizes_only:
        return 0
    graph = json.loads((ROOT / "graphs" / "quickstart.json").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        shots = {"palette": out / "editor-palette.png", "box": out / "editor-box.png"}
        with Session(Path(tmp) / "session", Path(tmp) / "quickstart.json", size=(1600, 940)) as s:
            Builder(s, graph, rotograph.Registry.default()).build(shots)
            s.key("ctrl+s")
            s.wait(lambda p: not p["dirty"], "saved")
            s.wait(lambda p: not p["viewer"]["waiting"], "the viewer", timeout=60)
            r = s.probe()["canvas"]["rect"]
            s.move(r[0] + r[2] - 20, r[1] + r[3] - 20)  # no tooltip of the field last typed into
            s.settle(3)
            s.screenshot(out / "editor.png")
            print(f"built {len(graph['nodes'])} nodes with {s.gestures} gestures ({s.x_events} X key/button "
                  f"events); screenshots in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
