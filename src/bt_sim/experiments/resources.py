"""What a sweep will need, estimated before any run: its memory, from the same model of a run
that ``bt-sim run`` uses (:func:`bt_sim.runner.estimate_memory`), and a refusal with the
estimate and what to lower when it does not fit."""

from __future__ import annotations

from typing import Any

from bt_sim.errors import ResourceError

#: A value of the results table the parent reads back from the parts at the end (a float64
#: column, times the copies concatenating the parts makes).
_VALUE_BYTES = 24.0
#: A kept time-series value (run, step, variable, value) in the parent until its batch is written.
_SERIES_BYTES = 40.0


def estimate_sweep_memory(spec, func: Any, runs: int, workers: int) -> dict[str, float]:
    """Peak memory of a sweep, in bytes: each worker runs one model at a time (the largest of
    the design's corner points, :func:`~bt_sim.experiments.samplers.corner_points`), and the
    parent keeps a row per run and a batch of time series.

    Parameters
    ----------
    spec : SweepSpec
    func : callable
        The sweep's function; a :class:`~bt_sim.experiments.scenario_run.ScenarioRun` is
        estimated from its scenarios, any other function as needing no memory of its own.
    runs : int
        Runs still to do.
    workers : int
        Processes running at once (1: in this process).

    Returns
    -------
    dict
        ``per_run``, ``workers`` (all of them together), ``results`` (the parent's rows) and
        ``total``.
    """
    from bt_sim.experiments.samplers import corner_points
    from bt_sim.experiments.scenario_run import ScenarioRun
    from bt_sim.runner import _BASE_BYTES, estimate_memory

    per_run = 0.0
    steps = 0
    if isinstance(func, ScenarioRun):
        for point in corner_points(spec):
            scenario = func.scenario(point)
            per_run = max(per_run, estimate_memory(scenario, 1)["total"])
            steps = max(steps, scenario.run.steps)
    outputs = len(spec.outputs) if spec.outputs else 60  # every outcome when none is named
    columns = len(spec.keys) + outputs + 5
    kept = min(runs, max(spec.batch, 1)) * (steps + 1) * len(spec.timeseries)
    parts = {
        "per_run": per_run,
        "workers": per_run * max(workers, 1),
        "results": _BASE_BYTES + runs * columns * _VALUE_BYTES + kept * _SERIES_BYTES,
    }
    parts["total"] = parts["workers"] + parts["results"]
    return parts


def check_sweep_memory(spec, func: Any, runs: int, workers: int) -> dict[str, float]:
    """Refuse a sweep whose estimated memory exceeds what is available.

    Raises
    ------
    ResourceError
        With the estimate, the memory available and what to lower.
    """
    from bt_sim.runner import _size, available_memory

    est = estimate_sweep_memory(spec, func, runs, workers)
    have = available_memory()
    if est["total"] <= have:
        return est
    if est["workers"] >= est["results"]:
        lower = (
            f"-j ({workers}) or the largest run (population.households, network.mean_degree, "
            "run.steps)"
        )
    else:
        lower = f"the runs ({runs:,}: points x replicates) or the outputs kept"
    raise ResourceError(
        f"this sweep needs about {_size(est['total'])} of memory ({workers} worker(s) x "
        f"{_size(est['per_run'])} for a run, {_size(est['results'])} for the results of "
        f"{runs:,} runs) but only {_size(have)} is available; lower {lower}"
    )
