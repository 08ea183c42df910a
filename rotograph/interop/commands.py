"""The ``rotograph`` sub-commands that inspect and look after things — validate, export-nuke,
edit, doctor, nodes, info, cache — and loading a graph with ``--set`` overrides
(:mod:`rotograph.interop.cli` parses the command line and renders)."""

from __future__ import annotations

import json

from ..errors import RotographError, UsageError


def parse_value(text: str):
    """``--set`` values: JSON when it parses (numbers, true, lists), else the plain string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def load_graph(path: str, sets: list[str] | None):
    """The graph file at ``path`` with ``--set node.param=value`` items applied (values as JSON when
    they parse; a relative file path means the current directory, see
    :func:`~rotograph.core.graphio.cwd_path`); a bad item is a :class:`UsageError`, a bad value an
    error naming ``--set``."""
    from ..core.graphio import cwd_path, load

    graph = load(path)
    for item in sets or []:
        if "=" not in item:
            raise UsageError(f"--set {item!r}: expected node.param=value")
        ref, value = item.split("=", 1)
        try:
            graph.set(ref, cwd_path(graph, ref, parse_value(value)))
        except RotographError as e:
            err = RotographError(f"--set {ref}: {e}")
            err.exit_code = e.exit_code
            raise err from None
    return graph


def cmd_validate(args) -> int:
    """``rotograph validate``: check a graph and list what its writers deliver."""
    from ..core.writer import Writer

    graph = load_graph(args.graph, args.set)
    graph.validate()
    for name, node in graph.nodes.items():
        for warning in node.warnings():
            print(f"warning: {name}: {warning}")
    for name in graph.writers():
        node = graph.nodes[name]
        if isinstance(node, Writer):
            for d in node.deliveries(set(graph.inputs_of(name))):
                print(f"{name}: writes {d.kind} {d.path}")
    print(f"{args.graph}: ok ({len(graph.nodes)} nodes)")
    return 0


def cmd_export_nuke(args) -> int:
    """``rotograph export-nuke``: a Nuke script of the graph's deliveries."""
    from .nuke import export_nuke

    graph = load_graph(args.graph, args.set)
    export_nuke(graph, args.output, args.frames)
    print(f"wrote {args.output}")
    return 0


def cmd_edit(args) -> int:
    """``rotograph edit``: open the graph in the editor."""
    try:
        from ..editor.app import main as editor_main
    except ImportError as e:
        raise RotographError(f"the editor needs DearPyGui: pip install 'rotograph[editor]' ({e})") from None
    from ..engine.cache import open_cache

    return editor_main(args.graph, open_cache(args.cache, max_bytes=args.cache_size, memory_bytes=args.memory))


def cmd_doctor(args) -> int:
    """``rotograph doctor``: torch, GPUs, and each registered model's package and weights."""
    from .models import doctor

    for item, state in doctor():
        print(f"{item:>18}: {state}")
    return 0


def cmd_nodes(args) -> int:
    """``rotograph nodes``: every registered node type, its ports and params (``--json``: machine-readable)."""
    from ..core.registry import Registry

    reg = Registry.default()
    info = {tid: {**cls.describe(), "source": reg.source_of(tid)} for tid, cls in reg.node_types.items()}
    if args.json:
        print(json.dumps(info, indent=2, sort_keys=True))
        return 0
    from rich.console import Console

    out = Console(highlight=False)
    for tid, d in info.items():
        out.print(f"[bold]{tid}[/bold] v{d['version']} ({d['kind']}, {d['category']}) — {d['source']}")
        first = " ".join(d["doc"].split("\n\n")[0].split())
        out.print(f"  {first}", soft_wrap=True)
        for k, i in d["inputs"].items():
            out.print(f"  in   {k}: {i['type']}{' (optional)' if i['optional'] else ''}")
        for k, o in d["outputs"].items():
            out.print(f"  out  {k}: {o['type']}")
        for k, p in d["params"].items():
            extra = f" range {p['range']}" if "range" in p else (f" choices {p['choices']}" if "choices" in p else "")
            out.print(f"  param {k}: {p['type']} = {json.dumps(p['default'])}{extra}")
    return 0


def cmd_info(args) -> int:
    """``rotograph info``: what a media file or sequence holds (size, frames, rate, timecode, channels)."""
    from ..io.media import probe
    from ..io.timing import format_rate

    info = probe(args.media, args.first_frame, verify=True)
    rows = {
        "file": info.path, "resolution": f"{info.width}x{info.height}",
        "frames": f"{info.first}-{info.last} ({info.frames} frames)",
        "fps": format_rate(info.fps) if info.fps else "-", "codec": info.codec,
        "channels": ",".join(info.channels), "bit depth": str(info.bit_depth),
    }
    if info.timecode:
        rows["timecode"] = info.timecode
    if info.missing:
        rows["missing"] = ",".join(map(str, info.missing[:20])) + (" ..." if len(info.missing) > 20 else "")
    if info.truncated:
        rows["truncated"] = (f"the file ends early: its index lists {info.truncated} frames, "
                             f"only the first {info.frames} can be decoded")
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for k, v in rows.items():
            print(f"{k:>10}: {v}")
    return 0


def cmd_cache(args) -> int:
    """``rotograph cache``: show, prune or clear a disk cache (never creating one to look at it)."""
    from ..engine.cache import DiskCache, default_cache_url

    url = args.cache or default_cache_url()
    if not DiskCache.exists(url):  # never create a cache just to look at it
        verb = {"stats": "show", "info": "show"}.get(args.action, args.action)
        print(f"cache: {url}\nno cache at this path: nothing to {verb}")
        return 0
    disk = DiskCache(url)
    if args.action in ("stats", "info"):
        s = disk.stats()
        print(f"cache: {s.root}\nentries: {s.entries}\nsize: {s.bytes / 2**20:.1f} MiB on disk")
    elif args.action == "prune":
        left = disk.prune(args.max_size)
        print(f"pruned {disk.url} to {left / 2**20:.1f} MiB")
    elif args.action == "clear":
        disk.clear()
        print(f"cleared {disk.url}")
    return 0
