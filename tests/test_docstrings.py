"""Every public class, function and method of rotograph/, nodes/ and editor/ has a docstring.

Counted from the source (``ast``, nothing imported): module-level functions and classes whose
names do not start with ``_``, in modules whose names do not (private helper modules such as
``nodes/tracking/_tracking.py`` are left out), and the public methods and properties of those classes.
A method that overrides a documented method of a base class defined in the project (``compute``
of a node, ``segments`` of a range node) inherits that docstring, as :func:`inspect.getdoc` does.

The count may only go down: ``BASELINE`` is what is left (the target is zero). Run
``python tests/test_docstrings.py`` for the list, file by file.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("rotograph", "nodes", "editor")

# Public callables without a docstring, per folder: 84 / 12 / 88 (184 of 628) before issue 22, 32 / 9 / 85
# (126 of 753) after its first round, 0 / 0 / 85 (85 of 766) after its second (the editor is left),
# 0 / 0 / 35 after issue 21's editor split, 0 / 0 / 0 (0 of 882) when the editor's last four were written;
# lower these as files are documented (the target is 0 everywhere).
BASELINE = {"rotograph": 0, "nodes": 0, "editor": 0}


def _public(name: str) -> bool:
    return not name.startswith("_")


def _base_names(cls: ast.ClassDef) -> list[str]:
    names = []
    for b in cls.bases:
        while isinstance(b, ast.Subscript):
            b = b.value
        if isinstance(b, ast.Attribute):
            names.append(b.attr)
        elif isinstance(b, ast.Name):
            names.append(b.id)
    return names


def _methods(cls: ast.ClassDef) -> dict[str, bool]:
    """Method name → whether it has a docstring (property setters folded into the getter)."""
    out: dict[str, bool] = {}
    for node in cls.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out[node.name] = out.get(node.name, False) or ast.get_docstring(node) is not None
    return out


def _modules(root: Path):
    for folder in FOLDERS:
        for path in sorted((root / folder).rglob("*.py")):
            if path.name != "__init__.py" and path.name.startswith("_"):
                continue
            yield folder, path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def missing_docstrings(root: Path = ROOT, totals: dict | None = None) -> dict[str, list[str]]:
    """``{folder: ["path:line name", …]}`` for every public callable without a docstring;
    ``totals`` (a dict, filled in) gets the number of public callables per folder."""
    modules = list(_modules(root))
    classes: dict[str, list[ast.ClassDef]] = {}
    for _, _, tree in modules:
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                classes.setdefault(node.name, []).append(node)

    def inherited(cls: ast.ClassDef, method: str, seen: set) -> bool:
        for base in _base_names(cls):
            for parent in classes.get(base, []):
                if id(parent) in seen:
                    continue
                seen.add(id(parent))
                if _methods(parent).get(method) or inherited(parent, method, seen):
                    return True
        return False

    found: dict[str, list[str]] = {f: [] for f in FOLDERS}
    totals = {} if totals is None else totals
    for folder, path, tree in modules:
        rel = path.relative_to(root)
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and _public(node.name):
                totals[folder] = totals.get(folder, 0) + 1 + (
                    sum(_public(m) for m in _methods(node)) if isinstance(node, ast.ClassDef) else 0)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _public(node.name):
                if ast.get_docstring(node) is None:
                    found[folder].append(f"{rel}:{node.lineno} {node.name}")
            elif isinstance(node, ast.ClassDef) and _public(node.name):
                if ast.get_docstring(node) is None:
                    found[folder].append(f"{rel}:{node.lineno} {node.name}")
                for name, documented in _methods(node).items():
                    if _public(name) and not documented and not inherited(node, name, set()):
                        line = next(n.lineno for n in node.body if getattr(n, "name", None) == name)
                        found[folder].append(f"{rel}:{line} {node.name}.{name}")
    return found


def test_no_new_public_callable_without_a_docstring():
    found = missing_docstrings()
    over = {f: found[f] for f in FOLDERS if len(found[f]) > BASELINE[f]}
    assert not over, "public callables without a docstring (more than the baseline):\n" + "\n".join(
        f"{f}: {len(v)} > {BASELINE[f]}:\n  " + "\n  ".join(v) for f, v in over.items())


def test_the_counter_sees_what_it_should(tmp_path):
    for folder in FOLDERS:
        (tmp_path / folder).mkdir()
    (tmp_path / "rotograph" / "a.py").write_text(
        'class Base:\n    """B."""\n    def hook(self):\n        """Documented."""\n'
        "class Node(Base):\n    '''N.'''\n    def hook(self):\n        pass\n    def bare(self):\n        pass\n"
        "    def _private(self):\n        pass\n    @property\n    def size(self):\n        return 1\n"
        "def f():\n    pass\ndef _g():\n    pass\n")
    (tmp_path / "nodes" / "_helpers.py").write_text("def hidden():\n    pass\n")
    found = missing_docstrings(tmp_path)
    assert found == {"rotograph": ["rotograph/a.py:9 Node.bare", "rotograph/a.py:14 Node.size", "rotograph/a.py:16 f"],
                     "nodes": [], "editor": []}


if __name__ == "__main__":
    counts: dict[str, int] = {}
    result = missing_docstrings(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else ROOT, counts)
    for folder, items in result.items():
        print(f"{folder}: {len(items)} of {counts.get(folder, 0)} public callables lack a docstring")
        for item in items:
            print("  " + item)
    print(f"total: {sum(len(v) for v in result.values())} of {sum(counts.values())}")
