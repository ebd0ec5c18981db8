"""bt-sim's model as a sweep function: scenario + overrides + seed -> one summary row."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from bt_sim.errors import ScenarioError, SweepError
from bt_sim.experiments.spec import SweepSpec


def apply_params(data: dict, params: Mapping[str, Any]) -> dict:
    """A copy of resolved scenario data with dotted keys set (behaviours by name or index)."""
    from bt_sim.scenario.loader import apply_override

    out = copy.deepcopy(data)
    for key, value in params.items():
        if hasattr(value, "item"):  # numpy scalars -> plain Python values
            value = value.item()
        apply_override(out, key.split("."), value)
    return out


class ScenarioRun:
    """A picklable function ``(params, seed) -> dict`` that runs bt-sim's model once.

    Parameters
    ----------
    data : dict
        The fully resolved base scenario (``scenario_to_dict``), fixed overrides applied.
    outputs : sequence of str, optional
        Summary outcomes to return (default: every numeric one).
    timeseries : sequence of str
        Time-series variables (overall scope) to return under the key ``"timeseries"`` as a
        table of ``step``, ``variable``, ``value``.
    source : str
        Where the scenario came from (for error messages).

    Examples
    --------
    >>> from bt_sim.scenario import load_scenario, scenario_to_dict
    >>> import numpy as np
    >>> base = scenario_to_dict(load_scenario(None, ["population.households=200",
    ...                                              "run.steps=6"]))
    >>> f = ScenarioRun(base, outputs=["any_adoption"])
    >>> row = f({"network.mean_degree": 4}, np.random.SeedSequence(1, spawn_key=(0, 0)))
    >>> sorted(row)
    ['any_adoption']
    """

    def __init__(
        self,
        data: dict,
        outputs: Sequence[str] | None = None,
        timeseries: Sequence[str] = (),
        source: str = "sweep",
    ):
        self.data = data
        self.outputs = tuple(outputs) if outputs else None
        self.timeseries = tuple(timeseries)
        self.source = source
        self._last: tuple[str, Any] | None = None  # the last point's scenario

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_last": None}  # a worker builds its own

    def scenario(self, params: Mapping[str, Any]):
        """The scenario of one point (raises ScenarioError naming the keys); the last one is
        kept, so the replicates of a point that follow each other build it once."""
        from bt_sim.scenario.validate import scenario_from_dict

        key = repr(sorted(params.items()))
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        scenario = scenario_from_dict(apply_params(self.data, params), self.source)
        self._last = (key, scenario)
        return scenario

    def __call__(self, params: Mapping[str, Any], seed) -> dict:
        from bt_sim.model import TransitionModel

        model = TransitionModel(self.scenario(params), seed=seed)
        model.run()
        summary = model.summary()
        if self.outputs is None:
            row: dict[str, Any] = {
                k: float(v)
                for k, v in summary.items()
                if isinstance(v, int | float) and k not in ("steps", "households")
            }
        else:
            row = {}
            for k in self.outputs:
                if k not in summary:
                    raise KeyError(f"no outcome {k!r} in the summary")
                row[k] = float(summary[k])
        if self.timeseries:
            ts = model.timeseries()
            ts = ts[(ts["scope"] == "overall") & ts["variable"].isin(self.timeseries)]
            row["timeseries"] = ts[["step", "variable", "value"]].reset_index(drop=True)
        return row


def build_function(spec: SweepSpec) -> ScenarioRun:
    """The sweep function of a sweep file, after checking every parameter against the schema.

    The base scenario is loaded with the fixed overrides, then the scenarios of the design's
    corner points (:func:`~bt_sim.experiments.samplers.corner_points`) are built; any key that
    is not a scenario key, or any value out of its range, is reported as a problem of the sweep
    file's ``parameters.<key>`` before any run starts. Requested outputs and time-series
    variables are checked against a one-step run of the base scenario.

    Raises
    ------
    SweepError, ScenarioError
    """
    from bt_sim.experiments.samplers import corner_points
    from bt_sim.scenario.loader import load_scenario
    from bt_sim.scenario.validate import scenario_to_dict

    base = load_scenario(spec.scenario, list(spec.fixed), set_by=f"{spec.source}: set")
    data = scenario_to_dict(base)
    func = ScenarioRun(data, spec.outputs, spec.timeseries, source=spec.source)
    problems: dict[str, str] = {}
    for point in corner_points(spec):
        for key in point:
            if key in problems:
                continue
            try:
                func.scenario({key: point[key]})
            except ScenarioError as exc:
                msgs = "; ".join(f"{k}: {m}" if k else m for _, k, m in exc.problems)
                problems[key] = f"not a valid scenario key or value ({msgs})"
    if not problems:
        for point in corner_points(spec)[:2]:
            try:
                func.scenario(point)
            except ScenarioError as exc:
                msgs = "; ".join(f"{k}: {m}" for _, k, m in exc.problems)
                raise SweepError([(spec.source, "parameters", f"at {point}: {msgs}")]) from None
    if problems:
        raise SweepError([(spec.source, f"parameters.{k}", m) for k, m in problems.items()])
    _check_outputs(spec, data)
    return func


def _check_outputs(spec: SweepSpec, data: dict) -> None:
    if not spec.outputs and not spec.timeseries and not spec.tipping:
        return
    from bt_sim.model import TransitionModel
    from bt_sim.scenario.validate import scenario_from_dict

    probe = apply_params(data, {"run.replicates": 1})  # the run's own length: its schedules hold
    model = TransitionModel(scenario_from_dict(probe, spec.source), seed=0)
    model.run(1)
    summary = model.summary()
    have = [k for k, v in summary.items() if isinstance(v, int | float)]
    problems = []
    for k in spec.outputs or ():
        if k in summary and k not in have:
            problems.append((spec.source, "outputs", f"{k!r} is text, not a number; a sweep's "
                             "outputs are numbers (the pathway's class: count regime:tipped, or "
                             "read each run's summary)"))  # fmt: skip
        elif k not in have:
            problems.append((spec.source, "outputs", f"no outcome {k!r} (have: {', '.join(have)})"))
    if spec.tipping and not spec.outputs and spec.tipping.outcome not in have:
        problems.append(
            (spec.source, "tipping.outcome", f"no outcome {spec.tipping.outcome!r} "
             f"(have: {', '.join(have)})")
        )  # fmt: skip
    variables = set(model.timeseries()["variable"].astype(str))
    for k in spec.timeseries:
        if k not in variables:
            problems.append(
                (spec.source, "timeseries", f"no variable {k!r} (have: "
                 f"{', '.join(sorted(variables))})")
            )  # fmt: skip
    if problems:
        raise SweepError(problems)
