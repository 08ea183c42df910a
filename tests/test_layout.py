"""The package layout: rotograph/ by layer, nodes/ by family, old import paths kept working.

``rotograph._aliases.MOVED`` maps each module's old dotted name (before the layout move) to its
new one. Plugins and user scripts that import an old name get the very module object the new
name gives; the repository's own code imports only new names.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys

import pytest

import rotograph
from rotograph._aliases import MOVED
from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
try:
    import import_cycles  # the module files and import parsing, shared with scripts/import_cycles.py
finally:
    sys.path.remove(str(ROOT / "scripts"))

CODE = ("rotograph", "nodes", "editor", "tests", "bench", "scripts", "docs")


def _old_names_imported(path, module: str | None, root=ROOT) -> list[str]:
    """The old dotted names (keys of MOVED) that the file at ``path`` imports, absolute or relative."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node, base, names in import_cycles.imports(tree, import_cycles.package_of(module, path) if module else None):
        names = ([base] if base is not None else []) + names
        found += [f"{path.relative_to(root)}:{node.lineno} imports {n} (now {MOVED[n]})" for n in names if n in MOVED]
    return found


@pytest.mark.parametrize("old", sorted(MOVED))
def test_an_old_import_path_is_the_new_module(old):
    new = MOVED[old]
    assert importlib.import_module(old) is importlib.import_module(new)
    assert sys.modules[old] is sys.modules[new] and sys.modules[new].__name__ == new
    assert sys.modules[new].__spec__.name == new  # the module keeps its own spec (pickling, reload, -m)


def test_old_names_as_attributes_and_exports_unshadowed():
    import rotograph.nodes

    assert rotograph.media is rotograph.io.media and rotograph.params is rotograph.core.params
    assert rotograph.nodes.keying is rotograph.nodes.comp.keying
    assert importlib.import_module("rotograph.params").Param is rotograph.Param
    assert importlib.import_module("rotograph.nodes.keying").Keyer is rotograph.nodes.Keyer
    importlib.import_module("rotograph.render")  # the old module name is also a function rotograph exports
    assert callable(rotograph.render) and rotograph.render is rotograph.engine.render.render
    with pytest.raises(AttributeError, match="no attribute 'nosuch'"):
        rotograph.nosuch  # noqa: B018


def test_the_table_names_real_modules_and_no_package_shadows_an_old_name():
    files = import_cycles.module_files(ROOT)
    assert set(MOVED.values()) <= set(files), sorted(set(MOVED.values()) - set(files))
    assert not set(MOVED) & set(files), "an old name is a module again: " + str(sorted(set(MOVED) & set(files)))
    for name, path in files.items():
        if path.name == "__init__.py":
            leaf = name.rpartition(".")[2]
            assert not (path.parent / f"{leaf}.py").exists(), f"{name} holds a module named like itself"
            assert ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))), f"{name} has no docstring"


def test_no_repo_module_imports_an_old_path():
    modules = {path: name for name, path in import_cycles.module_files(ROOT).items()}
    found = []
    for folder in CODE:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path.name != "_aliases.py":
                found += _old_names_imported(path, modules.get(path))
    assert not found, "import the new names:\n" + "\n".join(found)


def test_the_checker_sees_old_imports(tmp_path):
    (tmp_path / "plugin.py").write_text("import rotograph.media as m\nfrom rotograph.nodes import keying\n"
                                        "from rotograph.core import params\n")
    found = _old_names_imported(tmp_path / "plugin.py", None, tmp_path)
    assert found == ["plugin.py:1 imports rotograph.media (now rotograph.io.media)",
                     "plugin.py:2 imports rotograph.nodes.keying (now rotograph.nodes.comp.keying)"]


def test_python_dash_m_of_an_old_name_runs_the_new_module():
    out = subprocess.run([sys.executable, "-m", "rotograph.cli", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith(f"rotograph {rotograph.__version__}"), out.stderr


def test_the_docs_list_every_moved_module():
    text = (ROOT / "docs" / "layout.md").read_text(encoding="utf-8")
    missing = [f"| `{old}` | `{new}` |" for old, new in MOVED.items() if f"| `{old}` | `{new}` |" not in text]
    assert not missing, "docs/layout.md lacks rows:\n" + "\n".join(missing)


def test_modules_live_in_a_layer_or_a_family():
    """New modules go into a layer package of rotograph/ or a family of nodes/, not the top level."""
    top = sorted(p.name for p in (ROOT / "rotograph").glob("*.py"))
    assert top == ["__init__.py", "_aliases.py", "errors.py"], f"rotograph/ top level: {top} (use core/engine/io/interop)"
    top = sorted(p.name for p in (ROOT / "nodes").glob("*.py"))
    assert top == ["__init__.py"], f"nodes/ top level: {top} (use a family folder, helpers shared by several in common/)"


def test_no_import_cycles():
    """No module imports another that imports it back, even lazily inside a function (a lazy import
    dodging a cycle is still a cycle in the design): scripts/import_cycles.py finds none."""
    assert import_cycles.cycles(ROOT) == []


def test_a_pickle_naming_an_old_module_loads_the_new_class():
    """Pickles (worker results, user data) written before the move name classes by their old
    module: they load as the classes of the new one."""
    import pickle

    assert pickle.loads(b"crotograph.types\nMaskSet\n.") is rotograph.MaskSet
    assert pickle.loads(b"crotograph.nodes.keying\nKeyer\n.") is rotograph.nodes.Keyer
    assert rotograph.MaskSet.__module__ == "rotograph.core.types"  # new pickles name the new module
