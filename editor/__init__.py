"""The rotograph node editor (import name ``rotograph.editor``; ``rotograph edit [graph.json]``).

``model`` holds the editor's state and undo history in plain Python; ``app`` is the DearPyGui
window that draws it; ``worker`` evaluates off the UI thread; ``display`` turns values into
viewer pixels. Only ``app`` imports DearPyGui.
"""
