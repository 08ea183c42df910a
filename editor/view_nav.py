"""The viewer's view: zoom steps, fit, pan and wheel zoom about the cursor, and the mapping
between screen and image pixels (x right, y down)."""

from __future__ import annotations

from .items import rect

ZOOMS = (1 / 32, 1 / 16, 1 / 8, 1 / 6, 1 / 4, 1 / 3, 1 / 2, 2 / 3, 1, 3 / 2, 2, 3, 4, 6, 8, 12, 16, 32)
HANDLE = 7.0  # px: how near a click must be to a point or a box corner


def fit_zoom(image_size, area) -> float:
    """The largest step of :data:`ZOOMS` at which ``image_size`` fits in ``area``."""
    scale = min(area[0] / max(image_size[0], 1), area[1] / max(image_size[1], 1))
    return max([z for z in ZOOMS if z <= scale + 1e-9], default=ZOOMS[0])


def next_zoom(zoom: float, steps: int) -> float:
    """``steps`` steps of :data:`ZOOMS` up (positive) or down from ``zoom``."""
    if steps > 0:
        higher = [z for z in ZOOMS if z > zoom + 1e-9]
        return higher[min(steps, len(higher)) - 1] if higher else zoom
    lower = [z for z in ZOOMS if z < zoom - 1e-9]
    return lower[max(len(lower) + steps, 0)] if lower else zoom



class Navigation:
    """The viewer's zoom and pan (a mixin of :class:`~rotograph.editor.viewer.Viewer`: it uses
    its ``zoom``, ``origin``, ``size``, ``image_size`` and ``TAG``)."""

    def _rect(self):
        r = rect(self.TAG)
        return (r[0], r[1], self.size[0], self.size[1]) if r else (0.0, 0.0, *self.size)

    def to_image(self, mouse) -> tuple[float, float]:
        """Screen pixels → image pixels."""
        x, y, _, _ = self._rect()
        return (mouse[0] - x - self.origin[0]) / self.zoom, (mouse[1] - y - self.origin[1]) / self.zoom

    def to_screen(self, pt) -> tuple[float, float]:
        """Image pixels → screen pixels."""
        x, y, _, _ = self._rect()
        return x + self.origin[0] + pt[0] * self.zoom, y + self.origin[1] + pt[1] * self.zoom

    def fit(self) -> None:
        """F: the largest zoom step at which the image fits, centred."""
        if self.image_size is None:
            return
        w, h = self.image_size
        self.zoom = fit_zoom((w, h), (self.size[0] - 8, self.size[1] - 8))
        self.origin = [float(round((self.size[0] - w * self.zoom) / 2)), float(round((self.size[1] - h * self.zoom) / 2))]
        self._fit_pending = False
        self._scene = None
        self._match_resolution()

    def _match_resolution(self) -> None:
        """Ask for the pixels again when the zoom wants another resolution of them."""
        if self.shown is not None and not self.waiting and self.shown.downscale != self.downscale():
            self.request()

    def wheel(self, steps: int, mouse) -> None:
        """Zoom ``steps`` steps about the mouse."""
        z = next_zoom(self.zoom, steps)
        if z == self.zoom:
            return
        x, y, _, _ = self._rect()
        p = self.to_image(mouse)
        self.origin = [float(round(mouse[0] - x - p[0] * z)), float(round(mouse[1] - y - p[1] * z))]
        self.zoom = z
        self._scene = None
        self._match_resolution()
