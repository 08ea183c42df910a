"""The viewer's proxy toggle (**Ctrl+P**, View ▸ Proxy): view the graph at a fraction of its
formats' size, through the same rewrite as ``rotograph render --proxy``
(:func:`rotograph.engine.proxy.apply_proxy`), so proxy results have their own cache keys and the
full-resolution ones stay valid. The graph in the model (and the file saved) never changes."""

from __future__ import annotations

import rotograph
from rotograph.errors import RotographError
from rotograph.engine.proxy import proxy_copy


class ProxyView:
    """Whether the viewer shows ``model``'s graph at proxy ``scale`` (``on``), and the text of
    the graph it then evaluates (the proxied copy, made again only when the graph changes)."""

    def __init__(self, model, scale: float = 0.5):
        self.model = model
        self.scale = scale
        self.on = False
        self._memo: tuple[str, float, str] | None = None

    @property
    def factor(self) -> float:
        """The scale the viewer's image is at: ``scale`` when on, else 1."""
        return self.scale if self.on else 1.0

    def toggle(self) -> bool:
        """Switch proxy viewing on or off; returns whether it is on."""
        self.on = not self.on
        return self.on

    def label(self) -> str:
        """The status line's word for it: ``proxy 0.5`` or ``full resolution``."""
        return f"proxy {self.scale:g}" if self.on else "full resolution"

    def graph_text(self) -> str:
        """The JSON the viewer's worker evaluates: the model's graph, proxied when on. A graph
        the rewrite refuses (an error in it) is sent as it is, for the worker to report."""
        text = rotograph.dumps(self.model.graph)
        if not self.on:
            return text
        if self._memo is None or self._memo[:2] != (text, self.scale):
            try:
                proxied = rotograph.dumps(proxy_copy(self.model.graph, self.scale))
            except RotographError:
                proxied = text
            self._memo = (text, self.scale, proxied)
        return self._memo[2]
