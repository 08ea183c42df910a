"""The ``rotograph`` command line: render, validate, nodes, info, cache."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

from .errors import EXIT_INTERRUPTED, OutputError, RotographError, UsageError


def _console():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def _parse_value(text: str):
    """``--set`` values: JSON when it parses (numbers, true, lists), else the plain string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _size(option: str):
    """An argparse type: ``"512M"``, ``"20G"`` or bytes → bytes, refusing anything else with
    a one-line error naming ``option``."""

    def parse(text: str) -> int:
        from .cache import parse_size

        try:
            size = parse_size(text)
        except (ValueError, OverflowError):
            size = -1
        if size < 0:
            raise UsageError(f"{option} {text!r}: cannot read a size (use e.g. 512M, 20G, or bytes)")
        return size

    return parse


def _count(option: str, minimum: int, hint: str = ""):
    """An argparse type: a whole number ≥ ``minimum``, refusing anything else naming ``option``."""

    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            n = None
        if n is None or n < minimum:
            raise UsageError(f"{option} {text!r}: expected a whole number ≥ {minimum}{hint}")
        return n

    return parse


def _load(path: str, sets: list[str]):
    from .graphio import cwd_path, load

    graph = load(path)
    for item in sets or []:
        if "=" not in item:
            raise UsageError(f"--set {item!r}: expected node.param=value")
        ref, value = item.split("=", 1)
        try:
            graph.set(ref, cwd_path(graph, ref, _parse_value(value)))
        except RotographError as e:
            err = RotographError(f"--set {ref}: {e}")
            err.exit_code = e.exit_code
            raise err from None
    return graph


def cmd_render(args) -> int:
    import time

    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from .cache import open_cache
    from .render import render

    cache = open_cache(args.cache, max_bytes=args.cache_size, memory_bytes=args.memory)
    console = _console()
    if args.shots:
        return _render_shots(args, cache, console)
    graph = _load(args.graph, args.set)
    if args.proxy:
        from .proxy import apply_proxy

        apply_proxy(graph, args.proxy)
    columns = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[fps]:.1f} fps"), TimeRemainingColumn(),
               TextColumn("cache hits {task.fields[hits]}{task.fields[failed]}")]
    with Progress(*columns, console=console, disable=args.quiet) as bar:
        task = bar.add_task(os.path.basename(args.graph), total=None, fps=0.0, hits=0, failed="")
        t0 = time.perf_counter()

        def progress(report):
            dt = time.perf_counter() - t0
            failed = (f", [red]{len(report.failed)} failed[/red]" if report.failed else "") + \
                (f", {report.retried} retries" if report.retried else "")
            bar.update(task, completed=len(report.done), total=len(report.frames),
                       fps=len(report.done) / dt if dt else 0.0, hits=report.hits, failed=failed)

        report = render(graph, args.frames, cache=cache, workers=args.workers, scheduler=args.scheduler,
                        retries=args.retries, on_error=args.on_error, targets=args.node or None,
                        worker_resources=_resources(args.resources), progress=progress)
    if report.failed and not report.error:
        for f, err in sorted(report.failed.items())[:10]:
            console.print(f"[red]failed:[/red] {escape(err)}", soft_wrap=True)
        what = "held (filled with the nearest good frame)" if report.held else "skipped"
        console.print(f"{len(report.failed)} of {len(report.frames)} frames failed and were {what}.")
    if report.error:
        console.print(f"[red]error:[/red] {escape(report.error)}", soft_wrap=True)
        console.print(f"{len(report.done)} of {len(report.frames)} frames were rendered before the error "
                      f"and are kept; run again to resume.")
        return report.exit_code or 1
    computes = sum(report.stats.computes.values())
    console.print(f"rendered {len(report.done)} frames in {report.seconds:.1f}s ({report.fps:.1f} fps), "
                  f"{computes} node computes, {report.hits} cache hits"
                  + (f", {report.retried} retries" if report.retried else ""))
    from .media import expand_frame
    from .writer import Writer

    for name in graph.writers() if not args.node else args.node:
        node = graph.nodes[name]
        if isinstance(node, Writer):
            for d in node.deliveries(set(graph.inputs_of(name))):
                first, last = (expand_frame(d.path, f) for f in (report.frames[0], report.frames[-1]))
                print(f"{name}: {first}" + (f" .. {os.path.basename(last)}" if last != first else ""))
    return 1 if report.failed else 0


def _render_shots(args, cache, console) -> int:
    from rich.markup import escape
    from rich.table import Table

    from .shots import load_shots, render_shots

    shots = load_shots(args.shots)
    if args.set:
        for shot in shots:  # --set applies to every shot, under the table's own columns
            for item in args.set:
                ref, _, value = item.partition("=")
                shot.overrides.setdefault(ref, _parse_value(value))

    def progress(shot, report):
        if not args.quiet:
            console.print(f"  {shot.name}: {len(report.done)}/{len(report.frames)} frames", end="\r")

    results = render_shots(args.graph, shots, progress=progress, cache=cache, workers=args.workers,
                           scheduler=args.scheduler, retries=args.retries, on_error=args.on_error,
                           worker_resources=_resources(args.resources))
    table = Table(title=f"{os.path.basename(args.graph)} over {len(shots)} shots")
    for col in ("shot", "frames", "time (s)", "fps", "computes", "cache hits", "failed", "status"):
        table.add_column(col, justify="left" if col in ("shot", "status") else "right")
    bad = 0
    for shot, rep in results:
        if isinstance(rep, str):
            bad += 1
            table.add_row(shot.name, "-", "-", "-", "-", "-", "-", f"[red]error: {escape(rep)}[/red]")
            continue
        status = "ok" if rep.ok else ("[red]stopped[/red]" if rep.error else "[yellow]failures[/yellow]")
        bad += not rep.ok
        table.add_row(shot.name, str(len(rep.done)), f"{rep.seconds:.1f}", f"{rep.fps:.1f}",
                      str(sum(rep.stats.computes.values())), str(rep.hits), str(len(rep.failed)), status)
    from rich.console import Console

    Console(highlight=False, width=max(100, console.width)).print(table)
    return 1 if bad else 0


def _resources(items: list[str] | None) -> dict[str, float] | None:
    """``["GPU=1", "MEM=8e9"]`` → ``{"GPU": 1.0, "MEM": 8e9}``."""
    out = {}
    for item in items or []:
        name, _, value = item.partition("=")
        try:
            out[name] = float(value)
        except ValueError:
            raise UsageError(f"--resources {item!r}: expected NAME=NUMBER, e.g. GPU=1") from None
    return out or None


def cmd_validate(args) -> int:
    from .writer import Writer

    graph = _load(args.graph, args.set)
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
    from .nuke import export_nuke

    graph = _load(args.graph, args.set)
    export_nuke(graph, args.output, args.frames)
    print(f"wrote {args.output}")
    return 0


def cmd_edit(args) -> int:
    try:
        from .editor.app import main as editor_main
    except ImportError as e:
        raise RotographError(f"the editor needs DearPyGui: pip install 'rotograph[editor]' ({e})") from None
    from .cache import open_cache

    return editor_main(args.graph, open_cache(args.cache, max_bytes=args.cache_size, memory_bytes=args.memory))


def cmd_doctor(args) -> int:
    from .models import doctor

    for item, state in doctor():
        print(f"{item:>18}: {state}")
    return 0


def cmd_nodes(args) -> int:
    from .registry import Registry

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
    from .media import probe
    from .timing import format_rate

    info = probe(args.media, args.first_frame)
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
    from .cache import DiskCache, default_cache_url

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


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    from .render import parse_frames  # an argparse type: --frames is read before anything opens

    p = argparse.ArgumentParser(prog="rotograph", description="Node-graph rotoscoping and matting.")
    p.add_argument("--version", action="version", version=f"rotograph {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("render", help="render a graph's writers over a frame range")
    r.add_argument("graph")
    r.add_argument("--frames", type=parse_frames,
                   help="e.g. 1001-1100, 1001,1010-1020, 1001-1100x10 (default: the graph's range)")
    r.add_argument("--set", action="append", metavar="NODE.PARAM=VALUE", help="override a param (JSON values)")
    r.add_argument("--cache", metavar="URL", help="cache directory or fsspec URL (default: user cache dir)")
    r.add_argument("--cache-size", type=_size("--cache-size"), default="50G", help="disk cache bound (default 50G)")
    r.add_argument("--memory", type=_size("--memory"), default="512M",
                   help="memory cache bound per process (default 512M)")
    r.add_argument("--workers", type=_count("--workers", 1, " (1 renders in this process)"), default=1,
                   help="worker processes (default 1)")
    r.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask scheduler: tcp://host:8786, or local:N for a local cluster of N processes")
    r.add_argument("--resources", action="append", metavar="NAME=N",
                   help="resources of the workers of a local:N cluster, e.g. GPU=1")
    r.add_argument("--retries", type=_count("--retries", 0), default=1, help="retries of a failing frame (default 1)")
    r.add_argument("--on-error", choices=("stop", "skip", "hold"), default="stop",
                   help="after retries: stop the render, skip the frame, or hold the nearest good frame")
    r.add_argument("--shots", metavar="TABLE", help="CSV or JSON table of shots: one render per row, "
                   "columns shot, frames and node.param overrides")
    r.add_argument("--node", action="append", help="render these nodes instead of every writer")
    r.add_argument("--proxy", type=float, metavar="SCALE",
                   help="render at this fraction of full size (e.g. 0.5) into proxy<SCALE>/ folders")
    r.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    r.set_defaults(fn=cmd_render)

    v = sub.add_parser("validate", help="check a graph file without rendering")
    v.add_argument("graph")
    v.add_argument("--set", action="append", metavar="NODE.PARAM=VALUE")
    v.set_defaults(fn=cmd_validate)

    x = sub.add_parser("export-nuke", help="write a Nuke script that reads a graph's rendered outputs")
    x.add_argument("graph")
    x.add_argument("-o", "--output", required=True, help="the .nk file to write")
    x.add_argument("--frames", type=parse_frames, help="frame range (default: the writers' range)")
    x.add_argument("--set", action="append", metavar="NODE.PARAM=VALUE")
    x.set_defaults(fn=cmd_export_nuke)

    e = sub.add_parser("edit", help="open the node editor")
    e.add_argument("graph", nargs="?", help="graph file to open (a new one is created on save)")
    e.add_argument("--cache", metavar="URL", help="cache directory or fsspec URL, shared with render "
                                                  "(default: user cache dir)")
    e.add_argument("--cache-size", default="50G", type=_size("--cache-size"), help="disk cache bound (default 50G)")
    e.add_argument("--memory", default="1G", type=_size("--memory"), help="memory cache bound (default 1G)")
    e.set_defaults(fn=cmd_edit)

    d = sub.add_parser("doctor", help="report GPUs, AI packages and which model weights are present")
    d.set_defaults(fn=cmd_doctor)

    n = sub.add_parser("nodes", help="list every node type with its ports and params")
    n.add_argument("--json", action="store_true")
    n.set_defaults(fn=cmd_nodes)

    i = sub.add_parser("info", help="describe a movie or image sequence")
    i.add_argument("media")
    i.add_argument("--first-frame", type=int, default=1001)
    i.add_argument("--json", action="store_true")
    i.set_defaults(fn=cmd_info)

    c = sub.add_parser("cache", help="cache stats (or info) | prune | clear: sizes are what the disk holds")
    c.add_argument("action", choices=("stats", "info", "prune", "clear"))
    c.add_argument("--cache", metavar="URL")
    c.add_argument("--max-size", type=_size("--max-size"), default="50G", help="prune down to this size")
    c.set_defaults(fn=cmd_cache)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = None
    try:
        args = build_parser().parse_args(argv)  # argparse types refuse bad values (sizes, counts)
        from rich.logging import RichHandler

        logging.basicConfig(level=logging.WARNING, format="%(message)s",
                            handlers=[RichHandler(console=_console(), show_time=False, show_path=False)])
        return args.fn(args)
    except (RotographError, OSError) as e:
        if args.debug if args is not None else "--debug" in argv:
            raise
        if isinstance(e, OSError):  # a disk or folder failure no writer named (disk full, read-only)
            e = OutputError(f"{e.filename + ': ' if e.filename else ''}{e.strerror or e}")
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("interrupted: frames already rendered are kept; run again to resume", file=sys.stderr)
        logging.disable(logging.CRITICAL)  # what interrupted workers and tasks would log at exit
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
