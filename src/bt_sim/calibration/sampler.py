"""A pyabc sampler on bt-sim's executors: warm workers kept across generations, and a sample
that does not depend on the number of workers, their speed, or a resume.

Candidate ``k`` of generation ``t`` draws its parameters and runs its simulation from its own
seed, ``SeedSequence([seed, t + 10, k])`` (pyabc draws from numpy's global stream, so the
worker seeds that stream before each candidate). Candidates go out in batches to the
executor's workers (:mod:`bt_sim.experiments.executors`: this process, local processes that
stay alive for the whole calibration and die with it, or a Dask cluster); the generation keeps
candidates ``0, 1, 2, ...`` in order up to its ``n``-th accepted one, whatever finished first.
So one process, two, or a Dask cluster give the same posterior, and a calibration resumed from
its history gives the one it would have given uninterrupted: a generation's candidates depend
on the seed, the generation and what the history holds, nothing else.

A worker loads the model's compiled kernels once: forked from a warm process
(:func:`local_executor`), or at its start (a spawned or Dask worker).
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import pickle
import signal
import threading
import time
import warnings
from typing import Any

import numpy as np
import pyabc

#: Seconds of simulations a batch aims at (one candidate at first).
TARGET_S = 0.5
MAX_BATCH = 64

_FUNCTIONS: dict[str, Any] = {}  # a worker's unpickled simulate functions, by hash
_WARM = False


def candidate_seed(seed: int, t: int, k: int) -> np.ndarray:
    """The seed of candidate ``k`` of generation ``t`` (``t`` is -1 for pyabc's calibration
    sample): 4 words for numpy's legacy global stream."""
    return np.random.SeedSequence([seed, t + 10, k]).generate_state(4)


def _warm() -> None:
    """Load the model's compiled kernels in this process (a tiny run), once."""
    global _WARM
    if not _WARM:
        from bt_sim.model import TransitionModel
        from bt_sim.scenario.loader import load_scenario

        TransitionModel(load_scenario(None, ["population.households=60", "run.steps=2"])).run()
        _WARM = True


def warm_worker() -> None:
    """A calibration worker's start: pyabc imported, the compiled kernels loaded."""
    import pyabc  # noqa: F401 - the candidates' particles are pyabc's

    _warm()


def local_executor(n_procs: int):
    """The calibration's own executor: this process for one, else ``n_procs`` local worker
    processes kept for the whole calibration. This process warms first (pyabc imported, the
    kernels loaded: 4-5 s); workers forked from it then start warm, where this process has no
    other thread to fork (else they are spawned and warm themselves)."""
    import multiprocessing

    from bt_sim.experiments.executors import InProcessExecutor, ProcessExecutor

    if n_procs <= 1:
        return InProcessExecutor()
    warm_worker()
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        ex = ProcessExecutor(n_procs, context="fork")
        with warnings.catch_warnings():
            # No Python thread but this one (checked above); the BLAS library's own idle
            # threads, which Python also counts, are made fork-safe by the library
            # (pthread_atfork). The workers are forked now, all at once, by a first task.
            warnings.filterwarnings("ignore", r"This process .* is multi-threaded")
            ex.start(int, 0)
            ex.finished()
        return ex
    return ProcessExecutor(n_procs, warm=warm_worker)


def evaluate(task: tuple) -> tuple[list, float]:
    """A worker's batch: candidates ``ks`` of generation ``t``; returns ``(k, particle)``
    pairs and the seconds they took."""
    key, blob, seed, t, ks = task
    fn = _FUNCTIONS.get(key)
    if fn is None:
        _FUNCTIONS.clear()  # one generation's function at a time
        fn = _FUNCTIONS[key] = pickle.loads(blob)
    _warm()
    t0 = time.perf_counter()
    out = []
    for k in ks:
        np.random.seed(candidate_seed(seed, t, k))  # noqa: NPY002 - pyabc's stream
        out.append((k, fn()))
    return out, time.perf_counter() - t0


@contextlib.contextmanager
def stops_between_simulations():
    """Ctrl-C and SIGTERM wait for a safe point while pyabc runs: they are noted when they
    come and raised between simulations (the sampler calls the function this yields), or when
    the block ends, never inside one of pyabc's SQLite writes (an interrupted commit can leave
    the history locked against the clean-up's own commit, and the process hung)."""
    if threading.current_thread() is not threading.main_thread():
        yield lambda: None
        return
    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {s: signal.getsignal(s) for s in signals}
    noted: list[int] = []

    def note(signum, frame) -> None:
        noted.append(signum)

    def restore() -> None:
        for s, handler in previous.items():
            signal.signal(s, handler)

    def stop_if_asked() -> None:
        if noted:
            restore()
            handler = previous[noted[0]]
            if callable(handler):  # Python's KeyboardInterrupt, bt-sim's Terminated
                handler(noted[0], None)
            elif handler == signal.SIG_DFL:
                os.kill(os.getpid(), noted[0])
            raise KeyboardInterrupt

    for s in signals:
        signal.signal(s, note)
    try:
        yield stop_if_asked
        stop_if_asked()  # a signal that came during the last writes
    finally:
        restore()


class ExecutorSampler(pyabc.sampler.Sampler):
    """pyabc's sampler interface on an executor (see the module docstring).

    Parameters
    ----------
    executor : bt_sim.experiments.executors.Executor
        Where candidates run; the caller opens and closes it (it outlives generations).
    seed : int
        The calibration's seed.
    safe_point : callable, optional
        Called between batches: where a noted Ctrl-C or SIGTERM is raised
        (:func:`stops_between_simulations`).
    """

    def __init__(self, executor, seed: int, safe_point=None):
        super().__init__()
        self.executor = executor
        self.seed = int(seed)
        self.safe_point = safe_point or (lambda: None)
        self.wasted = 0  # candidates run beyond a generation's n-th acceptance

    def sample_until_n_accepted(
        self, n, simulate_one, t, *, max_eval=np.inf, all_accepted=False, ana_vars=None
    ):
        from bt_sim.experiments.executors import batch_size

        blob = pickle.dumps(simulate_one)
        key = hashlib.sha1(blob).hexdigest()
        ex = self.executor
        workers = ex.workers
        done: dict[int, Any] = {}
        launched = accepted = 0
        seconds, size = 0.0, 1

        def needed() -> float:
            """Candidates still worth launching: those the acceptance rate so far says the
            missing acceptances need, less those in flight."""
            if accepted >= n:
                return 0
            flying = launched - len(done)
            if not accepted:  # no rate yet: keep every worker busy
                return 2 * workers * size - flying
            return (n - accepted) * len(done) / accepted - flying

        while True:
            self.safe_point()
            while ex.flying() < 2 * workers and launched < max_eval and (want := needed()) > 0:
                k = int(min(max(1, min(size, math.ceil(want / workers))), max_eval - launched))
                ex.start(evaluate, (key, blob, self.seed, t, list(range(launched, launched + k))))
                launched += k
            if not ex.flying():
                break
            pairs, secs = ex.finished()
            for k, particle in pairs:
                done[k] = particle
                accepted += bool(particle.accepted)
            seconds += secs
            size = batch_size(len(done), seconds, TARGET_S, MAX_BATCH)
        sample = self._create_empty_sample()
        accepted = used = 0
        for k in range(len(done)):
            if accepted >= n or k not in done:
                break
            sample.append(done[k])
            used += 1
            accepted += bool(done[k].accepted)
        self.nr_evaluations_ = used
        self.wasted += len(done) - used
        if accepted < n:
            sample.ok = False
        return sample
