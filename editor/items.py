"""Small helpers over DearPyGui items shared by the panels."""

from __future__ import annotations


def rect(item) -> tuple[float, float, float, float] | None:
    """``(x, y, w, h)`` of an item on the screen (viewport pixels), or None before it is drawn.

    Child windows report no ``rect_min``: their ``pos`` is where they start in their window,
    which for the panels (children of the primary window, at 0, 0) is on the screen."""
    import dearpygui.dearpygui as dpg

    if item is None or not dpg.does_item_exist(item):
        return None
    state = dpg.get_item_state(item)
    if not state.get("visible", True) or "rect_size" not in state:
        return None
    x, y = state["rect_min"] if "rect_min" in state else state["pos"]
    return (x, y, *state["rect_size"])


def held(*keys) -> bool:
    """Whether one of ``keys`` (modifiers) was down during the last frame: down, or pressed or
    released in that frame (a fast chord can press Z and release Ctrl within one frame)."""
    import dearpygui.dearpygui as dpg

    return any(dpg.is_key_down(k) or dpg.is_key_pressed(k) or dpg.is_key_released(k) for k in keys)
