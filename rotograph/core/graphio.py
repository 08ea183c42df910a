"""Graph files: JSON format v2 (schema in ``rotograph/core/schema/graph.v1.schema.json``).

Reading a graph never executes code: the file is JSON, checked against the JSON Schema, then
every node type, param, value and link is checked against the registry. Errors carry the JSON
path at fault (``nodes.grow.params.size``) and, for typos, the closest valid name. Saving writes
sorted keys with every param, so load → save of a saved file is byte-identical. Templates (a
group saved on its own, see :mod:`rotograph.core.groups`) are read and written here too.

File paths in params (:class:`~rotograph.core.params.FileIn` and its kinds) are relative to the
graph file's folder (format v2), so a graph and its plates move together and render the same
from any working directory; :func:`save` stores each path relative to the file it writes where
the two share a folder below the root, and rewrites them when a graph is saved elsewhere. A v1
file's relative paths meant the current directory: reading one from a file rewrites them
relative to the file's folder (same files, new spelling), so old graphs keep their meaning.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from importlib import resources

import jsonschema
import networkx as nx

from ..errors import GraphError, LinkError, ParamError, did_you_mean
from .graph import Graph, split_ref
from .groups import TEMPLATE_FORMAT, Group, unique_name
from .registry import Registry
from .upgrade import upgrade_document

FORMAT = "rotograph.graph"
SCHEMA_VERSION = 2  # 2: relative file paths are relative to the graph file's folder (1: to the cwd)
MAX_DEPTH = 64  # JSON nesting a graph file may use (prompts need 6 levels; ui has room to spare)


@lru_cache(maxsize=1)
def schema() -> dict:
    """The published JSON Schema of graph files (format v1)."""
    return json.loads(resources.files("rotograph.core").joinpath("schema/graph.v1.schema.json").read_text())


def _path(parts) -> str:
    return ".".join(str(p) for p in parts)


def _schema_error(doc: dict, source: str | None) -> None:
    validator = jsonschema.Draft202012Validator(schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(doc))
    if error is None:
        return
    path = _path(error.absolute_path)
    if error.validator == "additionalProperties":
        container = error.instance
        allowed = list(error.schema.get("properties", {}))
        extra = [k for k in container if k not in allowed]
        if extra:
            raise GraphError(f"unknown field '{extra[0]}'" + did_you_mean(extra[0], allowed),
                             path=_path([*error.absolute_path, extra[0]]), source=source)
    if error.validator == "required":
        raise GraphError(error.message.replace("'", '"', 0), path=path, source=source)
    if error.validator == "const":
        raise GraphError(f"expected {json.dumps(error.validator_value)}, got {json.dumps(error.instance)[:40]}",
                         path=path, source=source)
    if error.validator == "propertyNames":
        raise GraphError(f"node id {json.dumps(error.instance)[:40]} must be letters, digits and _ "
                         f"(not starting with a digit)", path=path, source=source)
    raise GraphError(error.message[:200], path=path, source=source)


def loads(text: str, registry: Registry | None = None, source: str | None = None,
          folder: str | None = None) -> Graph:
    """Build a :class:`Graph` from JSON text; raises :class:`GraphError` with the path at fault.
    ``folder``: the folder the text's relative file paths are relative to (the graph file's; see
    :func:`from_dict`)."""
    duplicates: dict[int, str] = {}

    def pairs(items: list) -> dict:  # JSON keeps the last of two equal keys: note the first repeat
        obj = dict(items)
        if len(obj) < len(items):
            seen: set = set()
            duplicates[id(obj)] = next(k for k, _ in items if k in seen or seen.add(k))
        return obj

    try:
        doc = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as e:
        raise GraphError(f"malformed JSON: {e.msg} at line {e.lineno} column {e.colno}", source=source) from None
    except (TypeError, ValueError) as e:
        raise GraphError(f"malformed JSON: {e}", source=source) from None
    except RecursionError:
        raise GraphError(f"malformed JSON: nested deeper than Python can parse (a graph needs "
                         f"{MAX_DEPTH} levels at most)", source=source) from None
    if duplicates:
        _check_json(doc, source, duplicates)
    return from_dict(doc, registry, source, folder)


def load(path: str | os.PathLike, registry: Registry | None = None) -> Graph:
    """Read a graph file. Relative file paths in params are relative to the file's folder
    (:attr:`Graph.folder <rotograph.Graph.folder>`), whatever the current directory."""
    source = os.fspath(path)
    try:
        with open(source, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise GraphError(f"cannot read graph file: {e.strerror}", source=source) from None
    except UnicodeDecodeError:
        raise GraphError("graph file is not UTF-8 text", source=source) from None
    return loads(text, registry, source, os.path.dirname(os.path.abspath(source)))


def _check_json(doc, source: str | None, duplicates: dict[int, str] | None = None) -> None:
    """Refuse nesting deeper than :data:`MAX_DEPTH`, text that cannot be saved (lone
    surrogates, which JSON's ``\\ud800`` escapes allow) and a key given twice in one object
    (``duplicates``: ``id`` of the parsed object → the key), naming the path at fault.
    Iterative: a deep document cannot exhaust the stack here."""

    def where(link, limit=None) -> str:  # link: (parent link, key) … back to the root's None
        keys = []
        while link is not None:
            link, key = link
            keys.append(key)
        keys.reverse()
        text = _path(keys[:limit]) + ("…" if limit is not None and len(keys) > limit else "")
        return text.encode("utf-8", "backslashreplace").decode()  # the path may hold a surrogate too

    stack = [(doc, 0, None)]
    while stack:
        value, depth, link = stack.pop()
        if depth > MAX_DEPTH:
            raise GraphError(f"nested deeper than {MAX_DEPTH} levels", path=where(link, 8), source=source)
        if isinstance(value, dict):
            if duplicates and id(value) in duplicates:
                key = duplicates[id(value)]
                what = "node id" if link is not None and link == (None, "nodes") else "key"
                raise GraphError(f"{what} {json.dumps(key)[:80]} appears twice: JSON would keep only the last "
                                 f"one; rename or remove one of them",
                                 path=f"{where(link)}.{key}" if link else key, source=source)
            for k, v in value.items():
                stack.append((v, depth + 1, (link, k)))
                stack.append((k, depth + 1, (link, k)))  # keys are text too
        elif isinstance(value, list):
            stack.extend((v, depth + 1, (link, i)) for i, v in enumerate(value))
        elif isinstance(value, str) and not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise GraphError("not valid Unicode text (it holds a lone surrogate)", path=where(link),
                                 source=source) from None


def from_dict(doc, registry: Registry | None = None, source: str | None = None,
              folder: str | None = None) -> Graph:
    """The graph a parsed graph file ``doc`` describes, its nodes from ``registry`` (default: the
    plugins' registry); older node versions are upgraded. Raises :class:`GraphError` naming
    ``source`` and the JSON path at fault (``nodes.grow.params.size``). ``folder``: the graph
    file's folder, which relative file paths are relative to (``None``: the current
    directory's); a format v1 document's relative paths meant the current directory: with
    ``folder`` they are rewritten relative to it (:func:`relocate`).
    """
    if not isinstance(doc, dict):
        raise GraphError("a graph file must hold a JSON object", source=source)
    _check_json(doc, source)
    _schema_error(doc, source)
    graph = Graph(registry)
    reg = graph.registry
    doc = upgrade_document(doc, reg, source)
    for name, spec in doc["nodes"].items():
        where = f"nodes.{name}"
        if spec["type"] not in reg:
            raise GraphError(f"unknown node type '{spec['type']}'" + did_you_mean(spec["type"], reg.node_types),
                             path=f"{where}.type", source=source)
        cls = reg.get(spec["type"])
        params = dict(spec.get("params", {}))
        for pname in params:
            if pname not in cls.params:
                raise GraphError(f"{cls.type_id} has no param '{pname}'" + did_you_mean(pname, cls.params),
                                 path=f"{where}.params.{pname}", source=source)
        try:
            node = graph.add(cls, name)
        except GraphError as e:
            raise GraphError(e.message, path=where, source=source) from None
        for pname, value in params.items():
            try:
                node.set(pname, value)
            except ParamError as e:
                msg = str(e).split(f"param '{pname}': ", 1)[-1]
                raise GraphError(msg, path=f"{where}.params.{pname}", source=source) from None
    # links, after every node exists
    for name, spec in doc["nodes"].items():
        node = graph.nodes[name]
        for iname, ref in spec.get("inputs", {}).items():
            where = f"nodes.{name}.inputs.{iname}"
            if iname not in node.inputs:
                raise GraphError(f"{node.type_id} has no input '{iname}'" + did_you_mean(iname, node.inputs),
                                 path=where, source=source)
            src, port = split_ref(ref)
            if src not in graph.nodes:
                raise GraphError(f"dangling link: no node named '{src}'" + did_you_mean(src, graph.nodes),
                                 path=where, source=source)
            graph.dag.add_edge(src, name, key=iname, output=port)
    try:
        cycle = nx.find_cycle(graph.dag)
    except nx.NetworkXNoCycle:
        cycle = None
    if cycle:
        names = [u for u, *_ in cycle] + [cycle[0][0]]
        u, v, k = cycle[-1][:3]
        raise GraphError(f"the graph has a cycle: {' → '.join(names)}", path=f"nodes.{v}.inputs.{k}", source=source)
    for u, v, k, port in list(graph.dag.edges(keys=True, data="output")):
        graph.dag.remove_edge(u, v, key=k)
        try:
            graph.connect(f"{u}.{port}", f"{v}.{k}")
        except (LinkError, GraphError) as e:
            raise GraphError(str(e), path=f"nodes.{v}.inputs.{k}", source=source) from None
    graph.ui = doc.get("ui", {})
    for gname, spec in doc.get("groups", {}).items():
        group = Group.from_dict(gname, spec)
        try:
            group.check(graph)
        except GraphError as e:
            raise GraphError(e.message, path=e.path, source=source) from None
        graph.groups[gname] = group
    if folder:
        if doc["schema_version"] < 2:  # relative to the cwd: the same files, spelt from the file's folder
            relocate(graph, folder, os.getcwd())
        graph.folder = folder
    graph.revision = 0
    return graph


def file_params(graph: Graph):
    """``(node, param name)`` of every file path param of ``graph`` that is set."""
    from .params import FileIn

    for node in graph.nodes.values():
        for pname, param in node.params.items():
            if isinstance(param.type, type) and issubclass(param.type, FileIn) and getattr(node, pname):
                yield node, pname


def portable(path: str, folder: str) -> str:
    """``path`` (absolute, or relative to the current directory) as a graph file in ``folder``
    stores it: relative to ``folder`` when the two share a folder below the root
    (``/shows/x/comp`` and ``/shows/x/plates`` → ``../plates/…``), else absolute; ``sample:``
    names as they are."""
    if path.startswith("sample:"):
        return path
    path, folder = os.path.abspath(os.path.expanduser(path)), os.path.abspath(folder)
    try:
        common = os.path.commonpath([path, folder])
    except ValueError:  # another drive
        return path
    if os.path.dirname(common) == common:  # only the root in common
        return path
    return os.path.relpath(path, folder).replace(os.sep, "/")


def cwd_path(graph: Graph, ref: str, value):
    """``value`` for the param ``ref`` (``"node.param"``) as given on a command line or in a
    shots table: a relative file path there means the current directory, not the graph file's
    folder, so it is made absolute; other values are returned as they are."""
    from .params import FileIn

    node, _, pname = ref.partition(".")
    param = graph.nodes[node].params.get(pname) if node in graph.nodes else None
    if (param is not None and isinstance(param.type, type) and issubclass(param.type, FileIn)
            and isinstance(value, str) and value and not value.startswith("sample:")):
        return os.path.abspath(os.path.expanduser(value))
    return value


def relocate(graph: Graph, folder: str, base: str | None = None) -> list[str]:
    """Rewrite every file path param of ``graph`` as a graph file in ``folder`` stores it
    (:func:`portable`): the same files, spelt from ``folder``. ``base``: the folder the current
    relative paths are relative to (default: the graph's :attr:`~rotograph.Graph.folder`, else
    the current directory). Returns the ``node.param`` refs that changed."""
    changed = []
    for node, pname in list(file_params(graph)):
        value = getattr(node, pname)
        if value.startswith("sample:"):
            continue
        path = os.path.expanduser(value)
        where = base or graph.folder or os.getcwd()
        new = portable(path if os.path.isabs(path) else os.path.join(where, path), folder)
        if new != value:
            node.set(pname, new)
            changed.append(f"{node.name}.{pname}")
    return changed


def to_dict(graph: Graph) -> dict:
    """The graph as a graph file's JSON document (format v2): every node with all its params and
    its links (input side), the groups and the ``ui`` layout."""
    nodes = {}
    for name, node in graph.nodes.items():
        entry = {"type": node.type_id, "version": node.version, "params": node.get_params()}
        links = graph.inputs_of(name)
        if links:
            entry["inputs"] = {i: f"{s}.{o}" for i, (s, o) in sorted(links.items())}
        nodes[name] = entry
    doc = {"format": FORMAT, "schema_version": SCHEMA_VERSION, "nodes": nodes}
    if graph.groups:
        doc["groups"] = {name: g.to_dict() for name, g in graph.groups.items()}
    if graph.ui:
        doc["ui"] = graph.ui
    return doc


def dumps(graph: Graph) -> str:
    """Canonical JSON text: sorted keys, two-space indent, trailing newline."""
    return json.dumps(to_dict(graph), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def save(graph: Graph, path: str | os.PathLike) -> None:
    """Write the graph atomically (temporary file, then rename). Its file paths are first
    rewritten relative to the new file's folder where they can be (:func:`relocate`; the graph's
    :attr:`~rotograph.Graph.folder` becomes that folder), so Save As elsewhere keeps them right."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    relocate(graph, folder)
    graph.folder = folder
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(dumps(graph))
    os.replace(tmp, path)


def save_template(graph, name: str, path: str) -> None:
    """Write group ``name`` as a template file (its nodes, inner links and interface); file
    paths in its params are spelt from the template's folder (:func:`portable`)."""
    group = graph.groups[name]
    doc = to_dict(graph)
    nodes = {n: doc["nodes"][n] for n in group.nodes}
    folder = os.path.dirname(os.path.abspath(path))
    for node, pname in file_params(graph):
        if node.name in nodes:
            nodes[node.name]["params"][pname] = portable(node.resolve(getattr(node, pname)), folder)
    for spec in nodes.values():  # only inner links: outer ones become the interface
        spec["inputs"] = {k: v for k, v in spec.get("inputs", {}).items() if v.split(".")[0] in group.nodes}
        if not spec["inputs"]:
            spec.pop("inputs")
    interface = {k: v for k, v in group.to_dict().items() if k != "nodes"}
    out = {"format": TEMPLATE_FORMAT, "schema_version": SCHEMA_VERSION, "name": name, "nodes": nodes, **interface,
           "ui": {n: graph.ui[n] for n in group.nodes if n in graph.ui}}
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(out, indent=2, sort_keys=True) + "\n")


def insert_template(graph, path: str, name: str | None = None, pos=(0, 0)) -> Group:
    """Copy a template's nodes into ``graph`` (as ``<group>_<node>``) and record its group."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise GraphError(f"cannot read template: {e}", source=path) from None
    if doc.get("format") != TEMPLATE_FORMAT:
        raise GraphError("not a rotograph template", source=path)
    name = name or unique_name(doc.get("name", "group"), set(graph.nodes) | set(graph.groups))
    version = doc.get("schema_version", 1) if doc.get("schema_version") in (1, 2) else 1
    inner = from_dict({"format": "rotograph.graph", "schema_version": version, "nodes": doc["nodes"]},
                      graph.registry, source=path, folder=os.path.dirname(os.path.abspath(path)))
    relocate(inner, graph.folder or os.getcwd())  # its file paths, spelt from the graph's folder
    rename = {n: f"{name}_{n}" for n in inner.nodes}
    for n, node in inner.nodes.items():
        graph.add(node.type_id, rename[n], **node.get_params())
        x, y = doc.get("ui", {}).get(n, {}).get("pos", [0, 0])
        graph.ui[rename[n]] = {"pos": [x + pos[0], y + pos[1]]}
    for n in inner.nodes:
        for inp, (src, out) in inner.inputs_of(n).items():
            graph.connect(f"{rename[src]}.{out}", f"{rename[n]}.{inp}")
    ref = lambda r: f"{rename[r.split('.')[0]]}.{r.split('.')[1]}"  # noqa: E731
    group = Group(name, list(rename.values()), {p: [ref(r) for r in refs] for p, refs in doc.get("inputs", {}).items()},
                  {p: ref(r) for p, r in doc.get("outputs", {}).items()},
                  {p: ref(r) for p, r in doc.get("params", {}).items()})
    graph.groups[name] = group
    graph._changed()
    return group
