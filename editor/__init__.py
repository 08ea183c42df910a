"""The DearPyGui node editor (import name ``rotograph.editor``); see the editor issue."""
