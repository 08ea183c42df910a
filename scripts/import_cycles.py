"""Print the import cycles among rotograph's own modules (python scripts/import_cycles.py [root]).

Every ``import``/``from … import`` of a ``rotograph`` module counts, at module level or inside
a function (a lazy import that dodges a cycle at import time is still a cycle in the design);
each edge is marked ``lazy`` when it is only made inside functions. Cycles are networkx's
simple cycles of the module graph, shortest first."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import networkx as nx

PACKAGES = {"rotograph": "rotograph", "rotograph.nodes": "nodes", "rotograph.editor": "editor"}


def module_files(root: Path) -> dict[str, Path]:
    """Module name → file, for the three packages of the source tree at ``root``."""
    out = {}
    for package, folder in PACKAGES.items():
        for path in sorted((root / folder).rglob("*.py")):
            parts = path.relative_to(root / folder).with_suffix("").parts
            parts = parts[:-1] if parts[-1] == "__init__" else parts
            out[".".join((package, *parts))] = path
    return out


def package_of(module: str, path: Path) -> str:
    """The package a module's relative imports start from: itself for an ``__init__.py``."""
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def imports(tree: ast.AST, package: str | None):
    """Each import statement of ``tree`` with the absolute names it imports: ``(node, base,
    names)`` — ``base`` the ``from`` module (``None`` for a plain ``import``), ``names`` every
    ``import a.b`` name or ``base.x`` of ``from base import x``. Relative imports resolve from
    ``package``; with ``package`` ``None`` they are skipped."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield node, None, [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                if package is None:
                    continue
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            yield node, base, [f"{base}.{a.name}" for a in node.names]


def import_graph(root: Path) -> nx.DiGraph:
    """Edges module → imported module (``lazy`` True when only imported inside functions)."""
    files = module_files(root)
    graph = nx.DiGraph()
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top = set(id(n) for n in tree.body)
        for node, base, names in imports(tree, package_of(name, path)):
            targets = names if base is None else [n if n in files else base for n in names]
            for t in targets:
                while t and t not in files:
                    t = t.rsplit(".", 1)[0] if "." in t else ""
                if not t or t == name:
                    continue
                lazy = id(node) not in top and not _in_top_level_block(tree, node)
                old = graph.get_edge_data(name, t)
                graph.add_edge(name, t, lazy=lazy and (old is None or old["lazy"]))
    return graph


def _in_top_level_block(tree, node) -> bool:
    """Whether ``node`` sits in a module-level ``if``/``try`` (still imported at import time)."""
    for stmt in tree.body:
        if isinstance(stmt, (ast.If, ast.Try)) and any(n is node for n in ast.walk(stmt)):
            return True
    return False


def cycles(root: Path) -> list[list[str]]:
    """The simple cycles of the import graph, shortest first."""
    graph = import_graph(root)
    return sorted(nx.simple_cycles(graph), key=lambda c: (len(c), c))


if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent
    graph = import_graph(root)
    found = cycles(root)
    for cycle in found:
        hops = [f"{a} -> {b}{' (lazy)' if graph[a][b]['lazy'] else ''}" for a, b in zip(cycle, cycle[1:] + cycle[:1])]
        print("; ".join(hops))
    print(f"{len(found)} cycles")
