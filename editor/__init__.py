"""The rotograph node editor (import name ``rotograph.editor``; ``rotograph edit [graph.json]``).

``model`` holds the editor's state, undo history and events in plain Python; ``app`` is the
DearPyGui window, made of panels that each change the model and redraw on its events:
``canvas`` (with the ``palette``), ``inspector`` (its widgets by kind in ``widgets``, which
plugins extend), ``viewer``, ``timeline`` and ``render_panel``. ``worker`` evaluates off the UI
thread, ``display`` turns values into viewer pixels, ``layout`` places new nodes and ``probe``
reports what the window shows to tools that drive it with real input. Only the window's modules
import DearPyGui.
"""
