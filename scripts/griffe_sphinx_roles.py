"""A Griffe extension for `make docs`: the docstrings' Sphinx roles (:class:`~rotograph.Node`,
:meth:`Writer.publish`, :func:`…`) shown as code (`Node`, `Writer.publish`) in the API reference,
instead of the raw role text. A leading ``~`` keeps the last dotted part, as in Sphinx."""

from __future__ import annotations

import re

import griffe

ROLE = re.compile(r":(?:py:)?(?:class|meth|func|mod|attr|data|exc|obj|const):`(~?)([^`]+)`")


def plain(text: str) -> str:
    """``text`` with every Sphinx role replaced by a Markdown code span of its target."""
    return ROLE.sub(lambda m: f"`{m.group(2).rsplit('.', 1)[-1] if m.group(1) else m.group(2)}`", text)


class SphinxRoles(griffe.Extension):
    """Rewrite the roles in each object's docstring as it is loaded."""

    def on_instance(self, *, node, obj, agent, **kwargs) -> None:
        """Called by Griffe for every module, class, function and attribute it loads."""
        if obj.docstring is not None:
            obj.docstring.value = plain(obj.docstring.value)
