"""Run a sweep: every (point, replicate) through a function, on any executor, resumably.

Run ``i`` is replicate ``r`` of point ``p`` with ``i = p * replicates + r``. Its seed is
``SeedSequence(sweep_seed, spawn_key=(p, r))`` (``seeds = "independent"``), or
``SeedSequence(sweep_seed, spawn_key=(r,))`` (``seeds = "common"``: replicate ``r`` of every
point shares its seed, exactly replicate ``r`` of ``bt-sim run --seed sweep_seed``, so points
differ only by their parameters: common random numbers). A seed depends on nothing else: not
on the executor, the number of workers, the order runs finish in, or a resume.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import math
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bt_sim.experiments.executors import Executor, InProcessExecutor
from bt_sim.experiments.store import SweepStore, now

#: Columns every results table has, besides the parameters and the outputs.
RUN_COLUMNS = ("run", "point", "replicate")
META_COLUMNS = ("error", "seconds")


@dataclass(frozen=True)
class Task:
    """One run: its index, point, replicate, parameter values and seed."""

    run: int
    point: int
    replicate: int
    params: dict
    seed: np.random.SeedSequence


def run_seed(seed: int, point: int, replicate: int, scheme: str = "independent"):
    """The seed sequence of a run (see the module docstring).

    >>> run_seed(7, 3, 1).spawn_key
    (3, 1)
    >>> run_seed(7, 3, 1, "common").spawn_key
    (1,)
    """
    key = (int(replicate),) if scheme == "common" else (int(point), int(replicate))
    return np.random.SeedSequence(int(seed), spawn_key=key)


def execute(func: Callable[[dict, np.random.SeedSequence], Mapping], task: Task):
    """Run one task; never raises. Returns ``(row, timeseries or None)``.

    A run that raises is recorded with ``error`` set to the exception's type and message (and
    no outputs); a run that succeeds has ``error == ""``.
    """
    t0 = time.perf_counter()
    series = None
    try:
        out = dict(func(dict(task.params), task.seed))
        series = out.pop("timeseries", None)
        error = ""
        for k, v in out.items():
            if not isinstance(v, int | float | str | bool | np.generic):
                raise TypeError(f"output {k!r} is not a scalar: {type(v).__name__}")
    except Exception as exc:  # recorded, and the sweep goes on
        out = {}
        series = None
        last = traceback.extract_tb(exc.__traceback__)[-1:]
        where = f" ({Path(last[0].filename).name}:{last[0].lineno})" if last else ""
        error = f"{type(exc).__name__}: {exc}{where}"
    row = {"run": task.run, "point": task.point, "replicate": task.replicate}
    row.update({k: _plain(v) for k, v in task.params.items()})
    row.update({k: _plain(v) for k, v in out.items()})
    row["error"] = error
    row["seconds"] = time.perf_counter() - t0
    if series is not None:
        series = pd.DataFrame(series)
        series.insert(0, "run", task.run)
    return row, series


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def tasks_of(
    design: pd.DataFrame, replicates: int, seed: int, scheme: str, skip: set[int] = frozenset()
) -> Iterable[Task]:
    """The tasks of a design, in run order, leaving out the runs in ``skip``."""
    # a design with no parameters (replicates of one point) has rows but no columns
    records = design.to_dict("records") if len(design.columns) else [{}] * len(design)
    for p, params in enumerate(records):
        params = {k: _plain(v) for k, v in params.items()}
        for r in range(replicates):
            i = p * replicates + r
            if i not in skip:
                yield Task(i, p, r, params, run_seed(seed, p, r, scheme))


class _Bar:
    """The sweep's progress bar. Its time left is estimated from the runs finished after the
    first ``warm`` (one per worker): those pay for starting the worker and loading the compiled
    kernels, and timing from them would make the first estimates far too long."""

    _FORMAT = "{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}, {rate_fmt}{postfix}]"

    def __init__(self, total: int, desc: str, enabled: bool, warm: int = 1):
        self.bar = None
        self.failed = 0
        self.warm = max(1, min(warm, total))
        self.since: tuple[float, int] | None = None  # (time, runs) when warm
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="run", desc=desc, file=sys.stderr,
                            dynamic_ncols=True, bar_format=self._FORMAT,
                            postfix="time left: estimating")  # fmt: skip

    def left(self, done: int, total: int, now: float) -> str:
        """The time left, or ``estimating`` until the first runs after warm-up are timed."""
        if self.since is None:
            if done >= self.warm:
                self.since = (now, done)
            return "estimating"
        t0, n0 = self.since
        if done <= n0 or now <= t0:
            return "estimating"
        from tqdm import tqdm

        return tqdm.format_interval((total - done) * (now - t0) / (done - n0))

    def update(self, failed: bool) -> None:
        if failed:
            self.failed += 1
        if self.bar is not None:
            left = self.left(self.bar.n + 1, self.bar.total, time.monotonic())
            post = f"time left: {left}"
            if self.failed:
                post += f", failed={self.failed}"
            self.bar.set_postfix_str(post, refresh=False)
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run_sweep(
    func: Callable[[dict, np.random.SeedSequence], Mapping],
    design: pd.DataFrame | Mapping[str, Iterable],
    replicates: int = 1,
    seed: int = 0,
    executor: Executor | None = None,
    store: SweepStore | None = None,
    seeds: str = "independent",
    batch: int = 50,
    flush_s: float = 30.0,
    progress: bool = False,
    desc: str = "sweep",
) -> pd.DataFrame:
    """Run every (point, replicate) of a design through ``func``.

    Parameters
    ----------
    func : callable
        ``func(params: dict, seed: SeedSequence) -> dict`` of scalar outputs (optionally a
        ``"timeseries"`` table). Must be picklable for process and Dask executors (a
        module-level function or an instance of a module-level class).
    design : DataFrame or mapping
        One row per point, one column per parameter; a mapping of lists is taken as columns.
    replicates, seed, seeds
        Runs per point, the sweep's seed and its scheme (see the module docstring).
    executor : Executor, optional
        Default: in this process.
    store : SweepStore, optional
        Where finished runs are written, in batches of ``batch`` runs (or every ``flush_s``
        seconds); runs already there are skipped (resume).
    progress : bool
        Show a progress bar (runs done, failures, time left) on stderr.

    Returns
    -------
    DataFrame
        One row per run, sorted by run: ``run``, ``point``, ``replicate``, the parameters,
        the outputs, ``error`` and ``seconds`` (the only column that varies between
        executions).

    Examples
    --------
    >>> def f(params, seed):
    ...     return {"y": params["x"] ** 2}
    >>> run_sweep(f, {"x": [1, 2, 3]})["y"].tolist()
    [1, 4, 9]
    """
    if not isinstance(design, pd.DataFrame):
        design = pd.DataFrame(dict(design))
    executor = executor or InProcessExecutor()
    skip = store.done_runs() if store is not None else set()
    total = len(design) * replicates
    todo = total - len(skip & set(range(total)))
    rows: list[dict] = []
    buffer: list[dict] = []
    series: list[pd.DataFrame] = []
    bar = _Bar(todo, desc, progress, executor.workers)
    last = time.monotonic()
    fn = functools.partial(execute, func)
    try:
        for row, ts in executor.run(fn, tasks_of(design, replicates, seed, seeds, skip)):
            if store is None:  # with a store, the rows are read back from it at the end
                rows.append(row)
            buffer.append(row)
            if ts is not None:
                series.append(ts)
            bar.update(bool(row["error"]))
            if store is not None and (len(buffer) >= batch or time.monotonic() - last >= flush_s):
                store.write_batch(buffer, series)
                buffer, series, last = [], [], time.monotonic()
    finally:
        bar.close()
        if store is not None and buffer:
            store.write_batch(buffer, series)
    if store is not None:
        return store.results()
    df = pd.DataFrame(rows)
    return df.sort_values("run").reset_index(drop=True) if len(df) else df


# ---- sweep files --------------------------------------------------------------------------


def fingerprint(base: dict, design: pd.DataFrame, spec) -> str:
    """A hash of everything that decides a sweep's runs (checked by ``--resume``)."""
    what = {
        "base": base,
        "design": design.to_dict("list"),
        "replicates": spec.replicates,
        "seed": spec.seed,
        "seeds": spec.seeds,
        "outputs": spec.outputs,
        "timeseries": spec.timeseries,
    }
    text = json.dumps(what, sort_keys=True, default=_plain)
    return hashlib.sha256(text.encode()).hexdigest()


def sweep_manifest(spec, func, design: pd.DataFrame) -> dict:
    """The manifest of a new sweep folder."""
    from bt_sim.experiments.samplers import salib_problem
    from bt_sim.runner import _versions, python_command

    data, name = getattr(func, "data", None), _function_name(func)
    return {
        "bt_sim_manifest": 1,
        "kind": "sweep",
        "created": now(),
        "name": spec.name,
        "sweep_file": spec.source,
        "sweep": asdict(spec),
        "base_scenario": data,  # None: a design of any function
        "function": name,
        "sampler": spec.sampler,
        "parameters": spec.keys,
        "problem": salib_problem(spec.parameters),
        "points": len(design),
        "replicates": spec.replicates,
        "runs": len(design) * spec.replicates,
        "seed": spec.seed,
        "seed_scheme": (
            "run of point p, replicate r: SeedSequence(seed, spawn_key=(p, r))"
            if spec.seeds == "independent"
            else "replicate r of every point: SeedSequence(seed, spawn_key=(r,))"
        ),
        "fingerprint": fingerprint(getattr(func, "fingerprint_data", data or name), design, spec),
        "status": "running",
        "command": python_command(),
        "versions": _versions(),
    }


def _function_name(func) -> str:
    """``module.qualified_name`` of a sweep's function (of its class for a callable object)."""
    f = func if hasattr(func, "__qualname__") else type(func)
    return f"{getattr(f, '__module__', '?')}.{getattr(f, '__qualname__', repr(f))}"


@dataclass
class SweepOutcome:
    """What :func:`run_sweep_file` did."""

    folder: Path
    results: pd.DataFrame
    ran: int
    failed: int
    seconds: float


def prepare(spec):
    """Check everything and build the function and the design (no folder touched yet)."""
    from bt_sim.experiments.samplers import make_design
    from bt_sim.experiments.scenario_run import build_function

    func = build_function(spec)
    return func, make_design(spec)


def run_sweep_file(
    spec,
    out: Path | None = None,
    executor: Executor | None = None,
    force: bool = False,
    resume: bool = False,
    progress: bool = False,
    prepared=None,
    on_folder: Callable[[Path], object] | None = None,
) -> SweepOutcome:
    """Run a sweep file into its results folder (see :mod:`bt_sim.experiments.store`).

    The folder is claimed (locked) before any run; ``resume`` continues an existing folder of
    the same sweep, running only the runs it lacks.

    Raises
    ------
    SweepError
        If ``resume`` finds a folder of another sweep (or of a changed sweep file).
    OutputError
        If the folder is taken, exists (without ``force`` or ``resume``), or cannot be written.
    """
    from bt_sim.experiments.scenario_run import ScenarioRun
    from bt_sim.outdir import FolderLock, claim_output
    from bt_sim.units import sweep_units

    func, design = prepared if prepared is not None else prepare(spec)
    manifest = sweep_manifest(spec, func, design)
    folder = check_folder(spec, manifest, out, force, resume)
    if resume:
        lock = FolderLock(folder)
        try:
            store = SweepStore(folder)
            _same_sweep(folder, store.manifest, manifest)  # again, under the lock
            store.clean_temporary()
            for path in store.set_aside_damaged():
                print(f"bt-sim: {path.name[: -len('.damaged')]} was damaged: kept as "
                      f"{path.name}, its runs run again", file=sys.stderr)  # fmt: skip
            store.sync_files()
        except BaseException:
            lock.release()
            raise
    else:
        with _resume_hint():  # another sweep may have taken it since the check
            claim = claim_output(folder, spec.name, force)
        try:
            SweepStore(claim.staging).create(manifest, design)
            folder = claim.commit(release=False)
        except BaseException:
            claim.release()
            raise
        lock = claim
        store = SweepStore(folder)
    if on_folder is not None:
        on_folder(folder)
    t0 = time.perf_counter()
    try:
        before = len(store.done_runs())
        store.update(status="running", executor=executor.describe() if executor else "in-process")
        results = run_sweep(
            func, design, spec.replicates, spec.seed, executor, store, spec.seeds,
            spec.batch, progress=progress, desc=spec.name,
        )  # fmt: skip
        ran = len(results) - before
        failed = int((results["error"] != "").sum()) if len(results) else 0
        complete = len(results) == manifest["runs"]
        store.update(
            status="complete" if complete else "incomplete",
            finished=now(),
            recorded=len(results),
            failed=failed,
            units=sweep_units(results.columns, spec.keys, isinstance(func, ScenarioRun)),
        )
        results.attrs["units"] = store.manifest["units"]
    except BaseException:  # Ctrl-C, SIGTERM: what is saved is an incomplete sweep
        with contextlib.suppress(Exception):
            store.update(status="incomplete", recorded=len(store.done_runs()))
        raise
    finally:
        lock.release()
    return SweepOutcome(folder, results, ran, failed, time.perf_counter() - t0)


def check_folder(spec, manifest: dict, out: Path | None, force: bool, resume: bool) -> Path:
    """The sweep's results folder, after checking (without touching it) that the sweep may
    write there: a new sweep's folder must be free (or, with ``force``, one bt-sim wrote);
    ``resume`` needs an existing folder of the same sweep. Used by ``--check`` and before any
    run.

    Raises
    ------
    SweepError, OutputError
    """
    from bt_sim.errors import SweepError
    from bt_sim.experiments.store import read_manifest
    from bt_sim.outdir import check_destination

    if resume and force:
        raise SweepError(
            [("--resume", "", "--resume finishes a folder and --force replaces one: give one")]
        )
    # a sweep's folder is its name: an existing one is refused, never numbered
    folder = Path(out) if out is not None else Path(spec.out or Path("results") / spec.name)
    if not resume:
        with _resume_hint():
            check_destination(folder, force)
        return folder
    if not folder.exists():
        raise SweepError(
            [("--resume", "", f"no results folder {folder} to finish; run without --resume to "
              "start the sweep")]
        )  # fmt: skip
    _same_sweep(folder, read_manifest(folder), manifest)
    return folder


@contextlib.contextmanager
def _resume_hint():
    """An existing folder's refusal also says that ``--resume`` finishes it."""
    from bt_sim.errors import OutputError

    try:
        yield
    except OutputError as exc:
        if "already exists" in str(exc):
            raise OutputError(f"{exc}; or --resume to finish that sweep") from None
        raise


def _same_sweep(folder: Path, old: dict, manifest: dict) -> None:
    from bt_sim.errors import SweepError

    if old.get("fingerprint") != manifest["fingerprint"]:
        raise SweepError(
            [(str(folder), "fingerprint", "these results come from another sweep (or the sweep "
              "file, its scenario or the bt-sim version changed); resume needs the same sweep: "
              "use a new --out")]
        )  # fmt: skip


def results_table(store: SweepStore) -> pd.DataFrame:
    """A folder's results (deduplicated)."""
    return store.results()


def describe_outcome(outcome: SweepOutcome, outputs: list[str]) -> str:
    """Mean and range of each output over the successful runs."""
    res = outcome.results
    ok = res[res["error"] == ""] if len(res) else res
    units = res.attrs.get("units", {})
    lines = [f"{'output':<34} {'unit':<11} {'mean':>10} {'min':>10} {'max':>10}"]
    for c in outputs:
        if c in ok and len(ok):
            v = pd.to_numeric(ok[c], errors="coerce")
            if v.notna().any():
                lines.append(f"{c:<34} {units.get(c, '?'):<11} {v.mean():>10.4g} "
                             f"{v.min():>10.4g} {v.max():>10.4g}")  # fmt: skip
    return "\n".join(lines)


def output_columns(results: pd.DataFrame, parameters: list[str]) -> list[str]:
    """The numeric output columns of a results table."""
    skip = set(RUN_COLUMNS) | set(META_COLUMNS) | set(parameters)
    return [
        c for c in results.columns
        if c not in skip and pd.api.types.is_numeric_dtype(results[c])
    ]  # fmt: skip


def isfinite(x: Any) -> bool:
    return isinstance(x, int | float) and math.isfinite(x)
