"""Designs of experiments on any function, from parameter ranges alone: no bt-sim scenario.

:func:`design` draws a grid, Latin hypercube, Sobol (Saltelli) or Morris design over named
parameters; :func:`run_design` runs a function ``func(params, seed) -> dict`` over it into a
results folder that ``bt-sim sensitivity``, ``report`` and ``tipping`` read like a sweep's
(or in memory, without a folder); :func:`sensitivity` gives the Sobol or Morris indices of
the results.

Examples
--------
The Ishigami function, whose Sobol indices are known (S1 = 0.314, 0.442, 0):

>>> import numpy as np
>>> def ishigami(p, seed):
...     x1, x2, x3 = p["x1"], p["x2"], p["x3"]
...     return {"y": np.sin(x1) + 7 * np.sin(x2) ** 2 + 0.1 * x3**4 * np.sin(x1)}
>>> box = {k: {"range": [-np.pi, np.pi]} for k in ("x1", "x2", "x3")}
>>> d = design(box, sampler="sobol", samples=1024, seed=1)
>>> len(d.points)
8192
>>> s = sensitivity(d, run_design(ishigami, d)).table.set_index("parameter")
>>> [round(float(v), 1) for v in s["S1"]]
[0.3, 0.4, 0.0]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class Design:
    """A design: its checked specification, its points (row ``i`` is point ``i``) and the
    SALib problem (names and bounds)."""

    spec: Any
    points: pd.DataFrame
    problem: dict


def design(
    parameters: Mapping[str, Mapping[str, Any]],
    sampler: str = "grid",
    samples: int | None = None,
    seed: int = 0,
    name: str = "design",
    **options: Any,
) -> Design:
    """A design over named parameters, each ``{"levels": [...]}`` or ``{"range": [lo, hi]}``
    (with ``"num"`` for a grid), exactly as a sweep file's ``[parameters]``.

    Parameters
    ----------
    parameters : mapping
        Parameter name to its levels or range.
    sampler : {"grid", "latin", "sobol", "morris"}
    samples : int, optional
        The drawing samplers' base sample size (a power of two for Sobol).
    seed : int
        Seeds the sampler and, in :func:`run_design`, the runs.
    name : str
        Names the results folder.
    **options
        Any other key of a sweep file: ``replicates``, ``seeds``, ``second_order``,
        ``num_levels``, ``outputs``, ``batch``.

    Raises
    ------
    SweepError
        Naming the parameter or option and what was expected.
    """
    from bt_sim.experiments.samplers import make_design, salib_problem
    from bt_sim.experiments.spec import sweep_from_dict

    data = {"name": name, "sampler": sampler, "seed": seed, "parameters": dict(parameters)}
    if samples is not None:
        data["samples"] = samples
    spec = sweep_from_dict({**data, **options}, f"<design {name}>", model=False)
    return Design(spec, make_design(spec), salib_problem(spec.parameters))


def run_design(
    func: Callable[[dict, Any], Mapping],
    plan: Design,
    out: Path | str | None = None,
    executor=None,
    replicates: int | None = None,
    force: bool = False,
    resume: bool = False,
) -> pd.DataFrame:
    """Run ``func`` at every point of the design, ``replicates`` times (the design's by
    default), and return one row per run.

    With ``out``, the runs are written into a results folder as a sweep's are (resumable,
    never mixed with another design's); without, they are kept in memory only.
    """
    import dataclasses

    from bt_sim.experiments.core import run_sweep, run_sweep_file

    spec = plan.spec
    if replicates is not None:
        spec = dataclasses.replace(spec, replicates=replicates)
    if out is None:
        return run_sweep(func, plan.points, spec.replicates, spec.seed, executor, None, spec.seeds)
    outcome = run_sweep_file(
        spec, Path(out), executor, force=force, resume=resume, prepared=(func, plan.points)
    )
    return outcome.results


def sensitivity(plan: Design, results: pd.DataFrame, outputs=None, conf_level: float = 0.95):
    """Sobol or Morris indices of each output (every numeric one by default) of a design's
    results (:func:`bt_sim.experiments.sensitivity.analyse`)."""
    from bt_sim.errors import SweepError
    from bt_sim.experiments.core import output_columns
    from bt_sim.experiments.sensitivity import METHODS, analyse

    spec = plan.spec
    if spec.sampler not in METHODS:
        raise SweepError(
            [(spec.source, "sampler", f"a {spec.sampler} design has no sensitivity indices; "
              'draw it with sampler="sobol" or "morris"')]
        )  # fmt: skip
    have = output_columns(results, spec.keys)
    missing = [o for o in outputs or () if o not in have]
    if missing:
        raise SweepError([(spec.source, "outputs", f"no output {m!r} (have: {', '.join(have)})")
                          for m in missing])  # fmt: skip
    return analyse(
        spec.sampler, plan.problem, plan.points, results, list(outputs or have),
        second_order=spec.second_order, num_levels=spec.num_levels,
        seed=spec.seed % 2**32, conf_level=conf_level,
    )  # fmt: skip
