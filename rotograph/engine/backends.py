"""Where a render's tasks run: in this process, in a local process pool, or on Dask.

Every backend takes a list of independent :class:`~rotograph.engine.plan.Task` and calls
``on_result`` with each :class:`~rotograph.engine.plan.TaskResult` as it arrives; when ``on_result``
returns False the backend cancels what has not started and returns.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import shlex
import shutil
import sys
import tempfile
import threading
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Callable

from ..errors import RotographError, UsageError
from ..interop.models import visible_gpus, worker_gpu
from .plan import Session, Task, TaskResult, execute, run_task

OnResult = Callable[[TaskResult], bool]


class SerialBackend:
    """Runs tasks one after the other with the caller's evaluator (and its memory tier)."""

    def __init__(self, evaluator):
        self.evaluator = evaluator

    def run(self, session: Session, tasks: list[Task], on_result: OnResult) -> None:
        """Run ``tasks`` in order in this process, passing each result to ``on_result``; stop
        when it returns False. A task's failure is in its :class:`TaskResult`, not raised."""
        for task in tasks:
            if not on_result(execute(self.evaluator, session, task)):
                return

    def close(self) -> None:
        """Nothing to release (the evaluator is the caller's)."""
        pass


def _exit_with_parent(parent: int, interval: float = 0.5) -> None:
    """Worker initializer: a daemon thread ends this worker once ``parent`` is gone (the
    render was killed, even with ``kill -9``: the worker is then re-parented, so its parent
    pid changes). A polled watchdog rather than Linux's ``PR_SET_PDEATHSIG``, which fires
    when the *thread* that started the worker ends (the editor renders from a thread)."""
    import threading
    import time

    from .memory import reuse_frame_buffers

    reuse_frame_buffers()  # a worker renders frames only: frame buffers reused (rotograph/engine/memory.py)

    def watch():
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="rotograph-parent-watchdog").start()


class PoolBackend:
    """``workers`` spawned processes sharing the disk cache; each exits when this process dies.
    They ignore SIGINT (:func:`_workers_ignore_sigint`): on Ctrl+C this process stops them."""

    def __init__(self, workers: int):
        self._quiet = _workers_ignore_sigint()  # workers are spawned as tasks are submitted
        self._quiet.__enter__()
        self.pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_exit_with_parent, initargs=(os.getpid(),))

    def run(self, session: Session, tasks: list[Task], on_result: OnResult) -> None:
        """Submit every task to the pool and pass each result to ``on_result`` as it completes
        (in completion order); when it returns False, cancel the tasks not yet started and return."""
        pending = {self.pool.submit(run_task, session, t) for t in tasks}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                if not on_result(fut.result()):
                    for p in pending:
                        p.cancel()
                    return

    def close(self) -> None:
        """Wait for the running tasks — or, when closing on Ctrl+C, stop the workers now
        (outputs are written atomically: a stopped frame leaves no half file)."""
        try:
            if isinstance(sys.exc_info()[1], KeyboardInterrupt):
                for proc in list((self.pool._processes or {}).values()):
                    proc.terminate()
                self.pool.shutdown(wait=False, cancel_futures=True)
            else:
                self.pool.shutdown(cancel_futures=True)
        finally:
            self._quiet.__exit__(None, None, None)


_QUIET = {"users": 0, "folder": None, "python": None}
_QUIET_LOCK = threading.Lock()


@contextlib.contextmanager
def _workers_ignore_sigint():
    """While in this block, worker processes are spawned through a ``/bin/sh`` wrapper that
    ignores SIGINT before it runs Python (an ignored signal stays ignored through ``exec``, and
    Python keeps it so). A Ctrl+C then reaches only this process — one ``interrupted`` line
    instead of a traceback from every worker still importing — which stops the workers
    (the backends' ``close``, or the workers' parent watch when this process exits).
    Blocks may overlap (two renders in one process): the first sets the wrapper up, the last
    puts Python back. Without ``/bin/sh`` or on a ``noexec`` temporary folder, workers start
    as usual."""
    from multiprocessing import spawn

    with _QUIET_LOCK:
        if _QUIET["users"] == 0:
            folder = tempfile.mkdtemp(prefix="rotograph-workers-")
            python = spawn.get_executable()
            if os.name == "posix" and os.path.exists("/bin/sh") and not os.statvfs(folder).f_flag & os.ST_NOEXEC:
                wrapper = os.path.join(folder, "python")
                with open(wrapper, "w") as f:
                    f.write(f"#!/bin/sh\ntrap '' INT\nexec {shlex.quote(os.fsdecode(python))} \"$@\"\n")
                os.chmod(wrapper, 0o755)
                spawn.set_executable(wrapper)
            _QUIET.update(folder=folder, python=python)
        _QUIET["users"] += 1
    try:
        yield
    finally:
        with _QUIET_LOCK:
            _QUIET["users"] -= 1
            if _QUIET["users"] == 0:
                spawn.set_executable(_QUIET["python"])
                shutil.rmtree(_QUIET["folder"], ignore_errors=True)


class DaskBackend:
    """A Dask distributed cluster: ``tcp://host:8786`` (an existing scheduler) or ``local:N``
    (a ``LocalCluster`` of N single-threaded worker processes). Tasks that need resources
    (``{"GPU": 1}``) only run on workers started with them (``dask worker --resources GPU=1``;
    for ``local:N`` pass ``worker_resources``). On a machine with GPUs, each ``local:N`` worker
    gets its own (``CUDA_VISIBLE_DEVICES``, round robin past the GPU count) and ``GPU=1``. A
    worker lost mid-task is replaced by the scheduler, which runs its tasks again elsewhere
    (outputs are written atomically)."""

    def __init__(self, scheduler: str, worker_resources: dict[str, float] | None = None):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise RotographError("--scheduler needs Dask distributed: pip install 'rotograph[dask]'") from None
        # distributed's loggers propagate to the application's handlers: keep their INFO chatter
        # (cluster start, connections, shutdown) out of a render's output
        logging.getLogger("distributed").setLevel(max(logging.WARNING, logging.getLogger("distributed").level))
        self.cluster = None
        if scheduler.startswith("local:"):
            try:
                n = int(scheduler.split(":", 1)[1])
            except ValueError:
                n = 0
            if n < 1:
                raise UsageError(f"--scheduler {scheduler!r}: expected local:N with N ≥ 1 workers")
            gpus = visible_gpus()
            if gpus:
                worker_resources = {"GPU": 1, **(worker_resources or {})}
            # no dashboard, and its HTTP server on a free port (8787 may be another cluster's)
            from distributed.deploy.spec import SpecCluster

            before = set(SpecCluster._instances)
            try:
                with _workers_ignore_sigint():
                    self.cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                                dashboard_address=None, scheduler_kwargs={"dashboard_address": ":0"},
                                                resources=worker_resources or None, silence_logs=logging.ERROR)
                self.client = Client(self.cluster)
                if gpus:
                    self.client.register_plugin(_one_gpu_per_worker(gpus), name="rotograph-gpus")
            except BaseException:  # Ctrl+C during start-up: stop the workers already started, quietly
                _close_quietly(set(SpecCluster._instances) - before)
                raise
        else:
            try:
                self.client = Client(scheduler, timeout=30)
            except OSError as e:
                raise RotographError(f"cannot reach the Dask scheduler at {scheduler}: {e}") from None

    def run(self, session: Session, tasks: list[Task], on_result: OnResult) -> None:
        """Submit every task to the cluster (with its resources, e.g. ``{"GPU": 1}``) and pass each
        result to ``on_result`` as it completes; when it returns False, cancel the rest and return."""
        from distributed import as_completed

        futures = [self.client.submit(run_task, session, t, pure=False, resources=dict(t.resources) or None,
                                      key=f"rotograph-{t.label.replace(' ', '-')}-{id(t)}")
                   for t in tasks]
        for fut in as_completed(futures):
            if not on_result(fut.result()):
                self.client.cancel(futures)
                return

    def close(self) -> None:
        """Close the client, and the ``local:N`` cluster when this backend started it."""
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _close_quietly(clusters) -> None:
    """Close clusters whose start-up was interrupted (their state may be half-built: errors and
    distributed's log lines are dropped) and take them off distributed's close-at-exit list,
    whose own attempt would print a traceback. Workers that remain exit with this process."""
    from contextlib import suppress

    from distributed.deploy.spec import SpecCluster

    log = logging.getLogger("distributed")
    level, log.level = log.level, logging.CRITICAL + 1
    try:
        for cluster in clusters:
            with suppress(BaseException):
                cluster.close(timeout=5)
            SpecCluster._instances.discard(cluster)
    finally:
        log.setLevel(level)


def _one_gpu_per_worker(gpus: list[str]):
    """A Dask worker plugin: worker ``i`` of a LocalCluster sees only GPU ``worker_gpu(gpus, i)``
    (set when it joins, before it first touches CUDA)."""
    from distributed import WorkerPlugin

    class OneGPUPerWorker(WorkerPlugin):
        def setup(self, worker):
            import os

            os.environ["CUDA_VISIBLE_DEVICES"] = worker_gpu(gpus, int(worker.name))

    return OneGPUPerWorker()
