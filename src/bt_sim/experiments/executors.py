"""Where a sweep's runs execute: in this process, in local processes, or on a Dask cluster.

Every executor has the same interface: :meth:`Executor.run` takes a picklable function and an
iterable of tasks and yields ``fn(task)`` results as they finish (in any order). Results never
depend on the executor: each task carries its own seed.

Worker processes are limited to one BLAS/OpenMP thread: the engine's sparse and dense
products would otherwise start a thread per core in every worker, and n workers would fight
over n cores (see FIELD-NOTES: 0.22 efficiency at 4 processes with the default threading).
Local workers are started with ``spawn`` and an initializer that sets ``OPENBLAS_NUM_THREADS``,
``OMP_NUM_THREADS``, ``MKL_NUM_THREADS`` (and the like) to 1 before numpy is imported, and
applies threadpoolctl's limit where it is installed. Dask's nanny sets the same variables in
its workers before they start (``distributed.nanny.pre-spawn-environ``).
"""

from __future__ import annotations

import os
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

#: Environment variables that bound the threads of BLAS and OpenMP libraries.
THREAD_VARS = (
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "NUMBA_NUM_THREADS",
)


def limit_threads() -> None:
    """Limit this process to one BLAS/OpenMP thread (call before numpy is imported).

    If numpy is already loaded, threadpoolctl (when installed) limits the loaded libraries.
    """
    for var in THREAD_VARS:
        os.environ[var] = "1"
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(1)


def worker_init(warm: Callable[[], Any] | None = None) -> None:
    """A local worker's start: one BLAS thread (:func:`limit_threads`), a watchdog that
    ends the worker when the process that started it is gone (a sweep killed with SIGKILL
    leaves no workers running), then ``warm()`` if given (imports, compiled kernels: paid
    once per worker, while the parent still sets up)."""
    import threading

    limit_threads()
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="bt-sim-watchdog", daemon=True).start()
    if warm is not None:
        warm()


def cap_workers(asked: int, runs: int | None = None) -> tuple[int, str | None]:
    """``asked`` worker processes capped at this machine's cores (and at ``runs``, the work
    there is), with why when capped (else None).

    >>> cap_workers(1)
    (1, None)
    """
    cores = default_workers()
    limit = max(min(cores, runs) if runs else cores, 1)
    if asked <= limit:
        return asked, None
    why = f"this machine has {cores} cores" + (f", the sweep {runs} runs" if runs else "")
    return limit, why


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class Executor(ABC):
    """Base class: runs tasks and yields results as they finish."""

    name = "base"
    workers = 1

    @abstractmethod
    def run(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        """Apply ``fn`` to every task, yielding the results in the order they finish."""

    def close(self) -> None:  # noqa: B027 - an optional hook: in-process has nothing to free
        """Free the workers (idempotent)."""

    # ---- one task at a time: for callers that decide what to run next from what finished
    @abstractmethod
    def start(self, fn: Callable[[Any], Any], task: Any) -> None:
        """Start ``fn(task)``; its result comes from :meth:`finished`."""

    @abstractmethod
    def flying(self) -> int:
        """Tasks started whose results :meth:`finished` has not returned yet."""

    @abstractmethod
    def finished(self) -> Any:
        """The result of a task started, in the order they finish (blocks until one does)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def describe(self) -> str:
        return f"{self.name} ({self.workers} worker{'s' if self.workers != 1 else ''})"


class InProcessExecutor(Executor):
    """Runs each task in this process, one after the other."""

    name = "in-process"

    def __init__(self) -> None:
        self._results: deque = deque()

    def run(self, fn, tasks):
        for task in tasks:
            yield fn(task)

    def start(self, fn, task) -> None:
        self._results.append(fn(task))  # runs at once

    def flying(self) -> int:
        return len(self._results)

    def finished(self):
        return self._results.popleft()


class ProcessExecutor(Executor):
    """Local worker processes (``concurrent.futures``), started with ``spawn``.

    At most ``2 * workers`` tasks are queued at a time, so a sweep of millions of runs does not
    hold millions of futures.
    """

    name = "processes"

    def __init__(
        self,
        workers: int | None = None,
        context: str = "spawn",
        warm: Callable[[], Any] | None = None,
    ):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.workers = workers or default_workers()
        self._pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context(context),
            initializer=worker_init,
            initargs=(warm,),
        )
        self._pending: set = set()  # futures started
        self._ready: deque = deque()  # futures done, not yet returned
        if warm is not None:  # start every worker now: they warm while the caller sets up
            for _ in range(self.workers):
                self._pool.submit(int)

    def run(self, fn, tasks):
        it = iter(tasks)
        while True:
            while self.flying() < 2 * self.workers and (task := next(it, None)) is not None:
                self.start(fn, task)
            if not self.flying():
                return
            yield self.finished()

    def start(self, fn, task) -> None:
        self._pending.add(self._pool.submit(fn, task))

    def flying(self) -> int:
        return len(self._pending) + len(self._ready)

    def finished(self):
        from concurrent.futures import FIRST_COMPLETED, wait

        if not self._ready:
            done, self._pending = wait(self._pending, return_when=FIRST_COMPLETED)
            self._ready.extend(done)
        return self._ready.popleft().result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor(Executor):
    """A Dask cluster: an existing scheduler (``address``) or a new LocalCluster.

    Parameters
    ----------
    address : str, optional
        ``tcp://HOST:PORT`` of a running scheduler (e.g. one started by dask-jobqueue).
    workers : int, optional
        Workers of the LocalCluster started when no address is given (one thread each).
    """

    name = "dask"

    def __init__(
        self,
        address: str | None = None,
        workers: int | None = None,
        warm: Callable[[], Any] | None = None,
    ):
        import dask
        from distributed import Client, LocalCluster, as_completed

        self._cluster = None
        if address:
            from bt_sim.extras import BadAddress

            try:
                self._client = Client(address, timeout="10s")
            except (OSError, TimeoutError) as exc:
                raise BadAddress(
                    f"--scheduler: no Dask scheduler answered at {address} within 10 s ({exc})"
                ) from None
            self.workers = max(1, len(self._client.scheduler_info().get("workers", {})))
        else:
            self.workers = workers or default_workers()
            environ = {var: "1" for var in THREAD_VARS}
            with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
                self._cluster = LocalCluster(
                    n_workers=self.workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=40,
                )
            self._client = Client(self._cluster)
        self._client.run(limit_threads)
        if warm is not None:
            self._client.run(warm)
        self._queue = as_completed()  # tasks started one at a time (start, finished)
        self._count = 0

    def _window(self) -> int:
        """Tasks to keep queued: twice the workers connected now (a cluster grows as jobs
        start)."""
        try:
            n = len(self._client.scheduler_info().get("workers", {}))
        except Exception:  # pragma: no cover - scheduler unreachable: keep going with little
            n = self.workers
        self.workers = max(self.workers, n)
        return max(4, 2 * n)

    #: Seconds of work a task aims at: a batch of runs that long makes the scheduler's
    #: per-task cost (a round trip, the function pickled) a few per cent at most.
    target_s = 0.5
    max_batch = 64

    def run(self, fn, tasks):
        """Tasks go in batches, sized so that a batch takes about ``target_s`` (one run at
        first, then as many as the runs timed so far say fit, at most ``max_batch``)."""
        from distributed import as_completed

        it = iter(tasks)
        queue = as_completed()
        size = 1
        while True:
            for _ in range(max(0, self._window() - queue.count())):
                chunk = _take(it, size)
                if not chunk:
                    break
                queue.add(self._client.submit(run_batch, fn, chunk, pure=False))
            if queue.is_empty():
                return
            fut = next(queue)
            results, seconds = fut.result()
            fut.release()
            size = batch_size(len(results), seconds, self.target_s, self.max_batch)
            yield from results

    def start(self, fn, task) -> None:
        self._queue.add(self._client.submit(fn, task, pure=False))
        self._count += 1

    def flying(self) -> int:
        return self._count

    def finished(self):
        fut = next(self._queue)
        self._count -= 1
        result = fut.result()
        fut.release()
        return result

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


def run_batch(fn: Callable[[Any], Any], tasks: list) -> tuple[list, float]:
    """Apply ``fn`` to each task of a batch, in a worker; returns the results and the seconds
    the batch took."""
    t0 = time.perf_counter()
    results = [fn(t) for t in tasks]
    return results, time.perf_counter() - t0


def batch_size(done: int, seconds: float, target_s: float, most: int) -> int:
    """Runs per batch so that one takes about ``target_s``, from ``done`` runs timed at
    ``seconds``; between 1 and ``most``.

    >>> batch_size(1, 0.05, 0.5, 64), batch_size(4, 8.0, 0.5, 64), batch_size(1, 1e-5, 0.5, 64)
    (10, 1, 64)
    """
    if done <= 0 or seconds <= 0:
        return most
    return int(max(1, min(most, round(target_s * done / seconds))))


def _take(it: Iterator, n: int) -> list:
    out = []
    for _ in range(n):
        try:
            out.append(next(it))
        except StopIteration:
            break
    return out


def check_executor(kind: str = "processes", scheduler: str | None = None) -> None:
    """What can be checked of an executor before any work: the Dask extra when Dask is asked
    for, and the form of a scheduler's address (``--check`` runs this too)."""
    from bt_sim.extras import check_scheduler, require

    if scheduler:
        require("distributed", "dask", "--scheduler")
        check_scheduler(scheduler)
    elif kind == "dask":
        require("distributed", "dask", "--executor dask")


def make_executor(
    kind: str = "processes",
    workers: int | None = None,
    scheduler: str | None = None,
    warm: Callable[[], Any] | None = None,
) -> Executor:
    """An executor by name: ``inprocess``, ``processes`` (default) or ``dask``.

    A ``scheduler`` address implies Dask. ``warm`` (a picklable function) runs once in each
    worker as it starts.
    """
    check_executor(kind, scheduler)
    if scheduler:
        return DaskExecutor(address=scheduler, warm=warm)
    if kind == "inprocess":
        return InProcessExecutor()
    if kind == "processes":
        if workers == 1:  # one worker: this process, with no worker to start and feed
            return InProcessExecutor()
        return ProcessExecutor(workers, warm=warm)
    if kind == "dask":
        return DaskExecutor(workers=workers, warm=warm)
    raise ValueError(f"unknown executor {kind!r} (inprocess, processes, dask)")
