"""The ``rotograph`` command line: the parser, ``main`` and ``render`` (one graph or a shots table);
the other sub-commands are in :mod:`rotograph.interop.commands`."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from ..errors import EXIT_INTERRUPTED, OutputError, RotographError, UsageError
from .commands import (cmd_cache, cmd_doctor, cmd_edit, cmd_export_nuke, cmd_info, cmd_nodes, cmd_validate,
                       load_graph, parse_value)


def _console():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def _size(option: str):
    """An argparse type: ``"512M"``, ``"20G"`` or bytes → bytes, refusing anything else with
    a one-line error naming ``option``."""

    def parse(text: str) -> int:
        from ..engine.cache import parse_size

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


def cmd_render(args) -> int:
    """``rotograph render``: one graph over its frames, or every shot of a shots table, with a progress bar."""
    import time

    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from ..engine.cache import open_cache
    from ..engine.memory import reuse_frame_buffers
    from ..engine.render import render

    reuse_frame_buffers()  # a render process: frame-sized buffers reused, not faulted in again each frame

    cache = open_cache(args.cache, max_bytes=args.cache_size, memory_bytes=args.memory)
    console = _console()
    if args.shots:
        return _render_shots(args, cache, console)
    graph = load_graph(args.graph, args.set)
    if args.proxy:
        from ..engine.proxy import apply_proxy

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
    from ..io.media import expand_frame
    from ..core.writer import Writer

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

    from ..engine.shots import load_shots, render_shots

    shots = load_shots(args.shots)
    if args.set:
        for shot in shots:  # --set applies to every shot, under the table's own columns
            for item in args.set:
                ref, _, value = item.partition("=")
                shot.overrides.setdefault(ref, parse_value(value))

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


def build_parser() -> argparse.ArgumentParser:
    """The ``rotograph`` argument parser with every sub-command and its options."""
    from .. import __version__
    from ..engine.render import parse_frames  # an argparse type: --frames is read before anything opens

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
    """Run the command line (``argv``: default ``sys.argv[1:]``); returns the exit status: errors
    are printed as one line and mapped to their exit codes."""
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
