"""Old import paths of modules that moved when the package was grouped by layer and family.

``rotograph/`` was flat and ``nodes/`` one folder until the layout move: plugins, user scripts
and pickles still name ``rotograph.params`` or ``rotograph.nodes.keying``. :data:`MOVED` maps each
old dotted name to its module's home now, and a finder on :data:`sys.meta_path` (installed when
``rotograph`` is imported) answers an import of an old name with the module already imported
under its new one, so ``rotograph.params is rotograph.core.params`` and a class keeps a single
identity. ``python -m`` of an old name runs the new module. New code imports the new names
(tests/test_layout.py checks the repository does). Graph files name node types, not modules:
they are unaffected.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

# old dotted name -> new dotted name
MOVED: dict[str, str] = {
    "rotograph.contract": "rotograph.core.contract",
    "rotograph.graph": "rotograph.core.graph",
    "rotograph.graphio": "rotograph.core.graphio",
    "rotograph.groups": "rotograph.core.groups",
    "rotograph.node": "rotograph.core.node",
    "rotograph.params": "rotograph.core.params",
    "rotograph.registry": "rotograph.core.registry",
    "rotograph.shapes": "rotograph.core.shapes",
    "rotograph.types": "rotograph.core.types",
    "rotograph.writer": "rotograph.core.writer",
    "rotograph.backends": "rotograph.engine.backends",
    "rotograph.cache": "rotograph.engine.cache",
    "rotograph.cache.disk": "rotograph.engine.cache.disk",
    "rotograph.cache.memory": "rotograph.engine.cache.memory",
    "rotograph.evaluate": "rotograph.engine.evaluate",
    "rotograph.hashing": "rotograph.engine.hashing",
    "rotograph.plan": "rotograph.engine.plan",
    "rotograph.proxy": "rotograph.engine.proxy",
    "rotograph.render": "rotograph.engine.render",
    "rotograph.shots": "rotograph.engine.shots",
    "rotograph.cli": "rotograph.interop.cli",
    "rotograph.models": "rotograph.interop.models",
    "rotograph.nuke": "rotograph.interop.nuke",
    "rotograph.shape_formats": "rotograph.interop.shape_formats",
    "rotograph.colour": "rotograph.io.colour",
    "rotograph.exr": "rotograph.io.exr",
    "rotograph.media": "rotograph.io.media",
    "rotograph.samples": "rotograph.io.samples",
    "rotograph.timing": "rotograph.io.timing",
    "rotograph.nodes._sam3_compat": "rotograph.nodes.ai._sam3_compat",
    "rotograph.nodes._sam3_embeddings": "rotograph.nodes.ai._sam3_embeddings",
    "rotograph.nodes._sam3_video": "rotograph.nodes.ai._sam3_video",
    "rotograph.nodes.da3": "rotograph.nodes.ai.da3",
    "rotograph.nodes.matanyone": "rotograph.nodes.ai.matanyone",
    "rotograph.nodes.sam3": "rotograph.nodes.ai.sam3",
    "rotograph.nodes._colour": "rotograph.nodes.common._colour",
    "rotograph.nodes._imaging": "rotograph.nodes.common._imaging",
    "rotograph.nodes._kernels": "rotograph.nodes.common._kernels",
    "rotograph.nodes.alpha": "rotograph.nodes.comp.alpha",
    "rotograph.nodes.colorspace": "rotograph.nodes.comp.colorspace",
    "rotograph.nodes.edge_extend": "rotograph.nodes.comp.edge_extend",
    "rotograph.nodes.keying": "rotograph.nodes.comp.keying",
    "rotograph.nodes.read": "rotograph.nodes.io.read",
    "rotograph.nodes.masks": "rotograph.nodes.matte.masks",
    "rotograph.nodes.matte_cleanup": "rotograph.nodes.matte.matte_cleanup",
    "rotograph.nodes.matte_ops": "rotograph.nodes.matte.matte_ops",
    "rotograph.nodes.matterefine": "rotograph.nodes.matte.matterefine",
    "rotograph.nodes.temporal": "rotograph.nodes.matte.temporal",
    "rotograph.nodes._shape_fit": "rotograph.nodes.roto._shape_fit",
    "rotograph.nodes._shape_raster": "rotograph.nodes.roto._shape_raster",
    "rotograph.nodes.shapes": "rotograph.nodes.roto.shapes",
    "rotograph.nodes.shapes_roto": "rotograph.nodes.roto.shapes_roto",
    "rotograph.nodes.shapes_write": "rotograph.nodes.roto.shapes_write",
    "rotograph.nodes.depth_ops": "rotograph.nodes.spatial.depth_ops",
    "rotograph.nodes.geometry": "rotograph.nodes.spatial.geometry",
    "rotograph.nodes.transform": "rotograph.nodes.spatial.transform",
    "rotograph.nodes._appearance": "rotograph.nodes.tracking._appearance",
    "rotograph.nodes._cuts": "rotograph.nodes.tracking._cuts",
    "rotograph.nodes._motion": "rotograph.nodes.tracking._motion",
    "rotograph.nodes._reacquire": "rotograph.nodes.tracking._reacquire",
    "rotograph.nodes._tracking": "rotograph.nodes.tracking._tracking",
    "rotograph.nodes.flowtrack": "rotograph.nodes.tracking.flowtrack",
    "rotograph.nodes.cryptomatte": "rotograph.nodes.writers.cryptomatte",
    "rotograph.nodes.matte_stats": "rotograph.nodes.writers.matte_stats",
    "rotograph.nodes.write": "rotograph.nodes.writers.write",
    "rotograph.nodes.write_blender": "rotograph.nodes.writers.write_blender",
    "rotograph.nodes.write_geometry": "rotograph.nodes.writers.write_geometry",
    "rotograph.nodes.write_image": "rotograph.nodes.writers.write_image",
    "rotograph.nodes.write_movie": "rotograph.nodes.writers.write_movie",
    "rotograph.nodes.write_objects": "rotograph.nodes.writers.write_objects",
}


class _AliasLoader(importlib.abc.Loader):
    """Loads an old name as the module imported under its new name (one module object)."""

    def __init__(self, new: str):
        self.new = new

    def create_module(self, spec):
        module = importlib.import_module(self.new)
        self._spec = module.__spec__
        return module

    def exec_module(self, module) -> None:
        module.__spec__ = self._spec  # the import system set it to the alias's spec: the module keeps its own

    def get_code(self, fullname):
        """``python -m <old name>``: run the new module as ``__main__``."""
        return compile(f"import runpy\nrunpy.run_module({self.new!r}, run_name='__main__', alter_sys=True)\n",
                       f"<{fullname} moved to {self.new}>", "exec")

    def is_package(self, fullname) -> bool:
        return False


class _AliasFinder(importlib.abc.MetaPathFinder):
    """Finds the old dotted names of :data:`MOVED`."""

    def find_spec(self, fullname, path=None, target=None):
        new = MOVED.get(fullname)
        if new is None:
            return None
        return importlib.util.spec_from_loader(fullname, _AliasLoader(new))


def install() -> None:
    """Put the finder first on :data:`sys.meta_path` (once)."""
    if not any(isinstance(f, _AliasFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _AliasFinder())


def package_getattr(package: str):
    """A module ``__getattr__`` for ``package`` that resolves its old submodule names as attributes
    (``rotograph.media`` after a bare ``import rotograph``)."""

    def __getattr__(name: str):
        old = f"{package}.{name}"
        if old in MOVED:
            return importlib.import_module(old)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__


def shadowed(package) -> None:
    """Register old names whose leaf is also a name the package exports (``rotograph.render`` the
    module vs :func:`rotograph.render`): importing the old module must not replace the export."""
    for old, new in MOVED.items():
        parent, _, leaf = old.rpartition(".")
        value = vars(package).get(leaf)
        if parent == package.__name__ and value is not None and not isinstance(value, type(sys)):
            sys.modules.setdefault(old, importlib.import_module(new))


install()
