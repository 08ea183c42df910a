"""The node registry and plugin loading.

A :class:`Registry` is a plain instance (no module-level mutable state): the CLI and
:func:`rotograph.load` build one with :meth:`Registry.default`, which holds the plugins of the
``rotograph.plugins`` entry-point group and the modules in the folders of
``$ROTOGRAPH_PLUGIN_PATH``. Each plugin is a ``register(registry)`` callable. A plugin module is
imported once per process (like any import; again only when its file changed): every
:meth:`Registry.default` — one per graph loaded, so one per shot of a multi-shot render — calls
its ``register`` on the new registry without executing the module again. The built-in node
library is one such plugin: the ``rotograph`` distribution declares ``rotograph.nodes:register``
in that group, so the engine never imports it by name. Two sources that claim one ``type_id``
is a hard error naming both, and so is a node class that breaks the node author's contract
(:func:`rotograph.core.contract.check_node_class`: e.g. a writer without a ``file`` path param).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.util
import os
import sys
from pathlib import Path

from .contract import check_node_class
from ..errors import RegistryError, UnknownNodeTypeError, did_you_mean
from .node import Node
from .types import BUILTIN_TYPES, PortType

ENTRY_POINT_GROUP = "rotograph.plugins"
PLUGIN_PATH_ENV = "ROTOGRAPH_PLUGIN_PATH"


class Registry:
    """Node classes, port types and AI model families by id, each with the source that registered it.

    ``Registry()`` holds only the built-in port types; :meth:`builtin` adds rotograph's nodes,
    :meth:`default` the plugins too. Registries are independent: adding to one never changes
    another."""

    def __init__(self):
        self._nodes: dict[str, type[Node]] = {}
        self._types: dict[str, PortType] = {}
        self._models: dict[str, object] = {}
        self._sources: dict[str, str] = {}
        self._current = "<api>"
        for t in BUILTIN_TYPES:
            self.add_type(t)

    @contextlib.contextmanager
    def source(self, label: str):
        """Attribute registrations made inside the block to ``label`` (a plugin's name)."""
        previous, self._current = self._current, label
        try:
            yield self
        finally:
            self._current = previous

    def add(self, cls: type[Node]) -> type[Node]:
        """Register a node class (usable as a decorator) and return it.

        Raises :class:`RegistryError` naming the source (plugin file or entry point) when
        ``cls`` is not a :class:`Node` subclass with a ``type_id``, its ``version`` is not an
        int ≥ 1, it breaks the node contract (:func:`rotograph.core.contract.check_node_class`), or
        another source already registered its ``type_id``."""
        if not (isinstance(cls, type) and issubclass(cls, Node)) or not cls.type_id:
            raise RegistryError(f"{self._current}: {cls!r} is not a Node class with a type_id")
        if not isinstance(cls.version, int) or cls.version < 1:
            raise RegistryError(f"{self._current}: {cls.type_id}.version must be an integer ≥ 1")
        problem = check_node_class(cls)
        if problem:
            raise RegistryError(f"{self._current}: {cls.type_id} ({cls.__module__}.{cls.__qualname__}): {problem}")
        return self._claim(self._nodes, "node", cls.type_id, cls)

    def add_type(self, ptype: PortType) -> PortType:
        """Register a port type (plugins may add value types)."""
        return self._claim(self._types, "type", ptype.name, ptype)

    def add_model(self, key: str, spec):
        """Register an AI model family (a :class:`~rotograph.interop.models.ModelSpec`) under
        ``key`` (e.g. ``"sam3"``), as a plugin registers its nodes: ``rotograph doctor`` reports
        every registered family (package installed, weights downloaded). Returns ``spec``.
        Raises :class:`RegistryError` when another source registered ``key``."""
        if not isinstance(key, str) or not key:
            raise RegistryError(f"{self._current}: a model key must be a non-empty string, not {key!r}")
        return self._claim(self._models, "model", key, spec)

    def model(self, key: str):
        """The model family registered as ``key``; raises :class:`RegistryError` naming close keys."""
        try:
            return self._models[key]
        except KeyError:
            raise RegistryError(f"unknown model '{key}'" + did_you_mean(key, self._models, n=3)) from None

    @property
    def models(self) -> dict:
        """Model key → :class:`~rotograph.interop.models.ModelSpec`, in registration order (a copy)."""
        return dict(self._models)

    def _claim(self, table: dict, kind: str, name: str, obj):
        key = f"{kind}:{name}"
        if key in self._sources and table[name] is not obj:
            what = {"node": "node type", "type": "port type", "model": "model"}[kind]
            raise RegistryError(f"{what} '{name}' is claimed by both {self._sources[key]} and {self._current}")
        table[name] = obj
        self._sources[key] = self._current
        return obj

    def get(self, type_id: str) -> type[Node]:
        """The node class registered as ``type_id`` (e.g. ``"rotograph.Grow"``).

        Raises :class:`~rotograph.errors.UnknownNodeTypeError` (a :class:`GraphError`) naming
        ``type_id`` and up to three close registered ids."""
        try:
            return self._nodes[type_id]
        except KeyError:
            raise UnknownNodeTypeError(f"unknown node type '{type_id}'"
                                       + did_you_mean(type_id, self._nodes, n=3)) from None

    def __contains__(self, type_id: str) -> bool:
        return type_id in self._nodes

    def source_of(self, type_id: str) -> str:
        """Who registered node type ``type_id``: ``"rotograph.nodes:register (built-in)"``, an
        entry point or a plugin file. Raises :class:`UnknownNodeTypeError` for an unknown id."""
        if type_id not in self._nodes:
            self.get(type_id)
        return self._sources["node:" + type_id]

    @property
    def node_types(self) -> dict[str, type[Node]]:
        """Every registered node class by ``type_id``, sorted by id (a copy)."""
        return dict(sorted(self._nodes.items()))

    @property
    def port_types(self) -> dict[str, PortType]:
        """Every registered port type by name (``"Image"``, ``"Matte"``, …; a copy)."""
        return dict(self._types)

    # -- plugin loading -------------------------------------------------------------------
    def load_entry_points(self, builtin: bool | None = None) -> None:
        """Call every ``register`` of the ``rotograph.plugins`` entry-point group; with
        ``builtin`` True only those the rotograph distribution itself ships, with False only
        the others."""
        for ep in sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            ours = _is_builtin(ep)
            if builtin is not None and ours != builtin:
                continue
            label = f"{ep.value} (built-in)" if ours else f"entry point '{ep.name}' ({ep.value})"
            with self.source(label):
                try:
                    register = ep.load()
                except Exception as e:
                    raise RegistryError(f"{label} failed to import: {type(e).__name__}: {e}") from e
                register(self)

    def load_plugin_path(self, path: str | None = None) -> None:
        """Import every ``*.py`` module (or package folder) in the folders of ``path``
        (default ``$ROTOGRAPH_PLUGIN_PATH``) and call its ``register(registry)``."""
        path = os.environ.get(PLUGIN_PATH_ENV, "") if path is None else path
        for folder in filter(None, path.split(os.pathsep)):
            folder_path = Path(folder).expanduser()
            if not folder_path.is_dir():
                raise RegistryError(f"{PLUGIN_PATH_ENV}: '{folder}' is not a folder")
            for entry in sorted(folder_path.iterdir()):
                if entry.name.startswith(("_", ".")):
                    continue
                if entry.suffix == ".py":
                    file = entry
                elif entry.is_dir() and (entry / "__init__.py").exists():
                    file = entry / "__init__.py"
                else:
                    continue
                self._load_module_file(file, entry.stem)

    def _load_module_file(self, file: Path, stem: str) -> None:
        label = f"plugin file '{file}'"
        with self.source(label):
            module = import_plugin_file(file, stem, label)
            if not callable(getattr(module, "register", None)):
                raise RegistryError(f"{label} has no register(registry) function")
            module.register(self)

    @classmethod
    def builtin(cls) -> "Registry":
        """Only the nodes that ship with rotograph (its own entry points)."""
        reg = cls()
        reg.load_entry_points(builtin=True)
        if not reg._nodes:
            raise RegistryError("rotograph's built-in nodes are not registered: its entry points are missing "
                                "(install rotograph: pip install -e .)")
        return reg

    @classmethod
    def default(cls) -> "Registry":
        """Built-in nodes plus entry-point plugins plus ``$ROTOGRAPH_PLUGIN_PATH`` modules."""
        reg = cls.builtin()
        reg.load_entry_points(builtin=False)
        reg.load_plugin_path()
        return reg


def import_plugin_file(file: Path, stem: str, label: str):
    """Import a plugin folder's module once per process: the module is kept in ``sys.modules``
    under a name unique to its resolved path (``rotograph_plugin_<stem>_<sha1[:8]>``) and
    executed again only when the file's size or modification time changed. Raises
    :class:`RegistryError` naming ``label`` when it fails to import."""
    resolved = file.resolve()
    name = f"rotograph_plugin_{stem}_{hashlib.sha1(str(resolved).encode()).hexdigest()[:8]}"
    st = resolved.stat()
    stamp = (st.st_size, st.st_mtime_ns)
    module = sys.modules.get(name)
    if module is not None and getattr(module, "__rotograph_stamp__", None) == stamp:
        return module
    try:
        spec = importlib.util.spec_from_file_location(name, resolved)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    except Exception as e:
        sys.modules.pop(name, None)
        raise RegistryError(f"{label} failed to import: {type(e).__name__}: {e}") from e
    module.__rotograph_stamp__ = stamp
    return module


def _is_builtin(ep) -> bool:
    """Whether an entry point is declared by the rotograph distribution itself."""
    dist = getattr(ep, "dist", None)
    return dist is not None and (dist.name or "").lower() == "rotograph"
