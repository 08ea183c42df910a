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


def mouse() -> tuple[float, float]:
    """The mouse on the screen (viewport pixels)."""
    import dearpygui.dearpygui as dpg

    return tuple(dpg.get_mouse_pos(local=False))


def held(*keys) -> bool:
    """Whether one of ``keys`` (modifiers) was down during the last frame: down, or pressed or
    released in that frame (a fast chord can press Z and release Ctrl within one frame)."""
    import dearpygui.dearpygui as dpg

    return any(dpg.is_key_down(k) or dpg.is_key_pressed(k) or dpg.is_key_released(k) for k in keys)


def key_char(key: int, shift: bool = False) -> str | None:
    """The character a key types on a US layout (the key codes are physical keys), or None."""
    import dearpygui.dearpygui as dpg

    if dpg.mvKey_A <= key <= dpg.mvKey_Z:
        c = chr(ord("a") + key - dpg.mvKey_A)
        return c.upper() if shift else c
    if dpg.mvKey_0 <= key <= dpg.mvKey_9:
        return ")!@#$%^&*("[key - dpg.mvKey_0] if shift else chr(ord("0") + key - dpg.mvKey_0)
    if dpg.mvKey_NumPad0 <= key <= dpg.mvKey_NumPad9:
        return chr(ord("0") + key - dpg.mvKey_NumPad0)
    pairs = {dpg.mvKey_Spacebar: "  ", dpg.mvKey_Period: ".>", dpg.mvKey_Slash: "/?", dpg.mvKey_Minus: "-_",
             dpg.mvKey_Comma: ",<", dpg.mvKey_Colon: ";:", dpg.mvKey_Quote: "'\"", dpg.mvKey_Plus: "=+",
             dpg.mvKey_Backslash: "\\|", dpg.mvKey_Tilde: "`~", dpg.mvKey_Open_Brace: "[{",
             dpg.mvKey_Close_Brace: "]}", dpg.mvKey_Decimal: "..", dpg.mvKey_Subtract: "--"}
    pair = pairs.get(key)
    return None if pair is None else pair[1] if shift else pair[0]


class TypedText:
    """Types into a text field from the window's key handler, so that no keystroke typed right
    after the key that opened a window (Tab, Ctrl+O) is lost.

    A window shown in this frame takes keyboard focus a frame or two later, and the focus
    request selects the field's text, so a key pressed meanwhile is dropped or replaces what
    was typed before it. Instead, while a field is owned (:meth:`own`) and the user has not clicked
    into it, every character key and BackSpace the window routes to :meth:`key` edits the
    field's text here, one key press at a time, in order. Clicked into, the field edits itself.
    """

    def __init__(self):
        self.item = None
        self.on_change = None
        self._fresh = False

    def own(self, item, on_change=None) -> None:
        """Type into ``item`` (its current text is replaced by the first key, as a focused field's
        selected text is); ``on_change(text)`` after each key."""
        self.item, self.on_change, self._fresh = item, on_change, True

    def release(self, item) -> None:
        """``item`` was closed or hidden."""
        if self.item == item:
            self.item = None

    def key(self, key: int, shift: bool) -> bool:
        """A character key or BackSpace typed into the owned field (True: it was)."""
        import dearpygui.dearpygui as dpg

        if self.item is None or not dpg.does_item_exist(self.item) or dpg.get_item_state(self.item).get("active"):
            return False
        text = "" if self._fresh else dpg.get_value(self.item) or ""
        if key == dpg.mvKey_Back:
            text = text[:-1]
        else:
            c = key_char(key, shift)
            if c is None:
                return False
            text += c
        self._fresh = False
        dpg.set_value(self.item, text)
        if self.on_change is not None:
            self.on_change(text)
        return True
