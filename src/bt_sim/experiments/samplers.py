"""Designs of a sweep: which parameter values each point takes.

``grid`` is the full factorial of each parameter's levels; ``latin``, ``sobol`` (Saltelli's
scheme, for Sobol indices) and ``morris`` (elementary-effect trajectories) sample the ranges
through SALib (Herman & Usher 2017), seeded with the sweep's seed. Parameters whose scenario key
is an integer are rounded after sampling.

References
----------
Saltelli, A. (2002). Making best use of model evaluations to compute sensitivity indices.
Computer Physics Communications 145, 280-297.
Morris, M. D. (1991). Factorial sampling plans for preliminary computational experiments.
Technometrics 33, 161-174.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd

from bt_sim.experiments.spec import Parameter, SweepSpec


def salib_problem(parameters: Sequence[Parameter]) -> dict:
    """The SALib problem dictionary of the parameters (names and bounds)."""
    return {
        "num_vars": len(parameters),
        "names": [p.key for p in parameters],
        "bounds": [list(p.bounds()) for p in parameters],
    }


def make_design(spec: SweepSpec) -> pd.DataFrame:
    """The sweep's points, one row each (row ``i`` is point ``i``), one column per parameter.

    Examples
    --------
    >>> from bt_sim.experiments.spec import sweep_from_dict
    >>> spec = sweep_from_dict({"scenario": "default", "parameters": {
    ...     "hub.k": {"levels": [2, 5]}, "network.mean_degree": {"range": [4, 8], "num": 3}}})
    >>> make_design(spec).shape
    (6, 2)
    """
    params = spec.parameters
    keys = [p.key for p in params]
    if spec.sampler == "grid":
        rows = list(itertools.product(*(p.grid_levels() for p in params)))
        return pd.DataFrame(rows, columns=keys)
    problem = salib_problem(params)
    seed = int(spec.seed % 2**32)
    if spec.sampler == "latin":
        from SALib.sample import latin

        x = latin.sample(problem, spec.samples, seed=seed)
    elif spec.sampler == "sobol":
        from SALib.sample import sobol

        x = sobol.sample(problem, spec.samples, calc_second_order=spec.second_order, seed=seed)
    elif spec.sampler == "morris":
        from SALib.sample import morris

        x = morris.sample(problem, spec.samples, num_levels=spec.num_levels, seed=seed)
    else:  # pragma: no cover - the spec rejects other samplers
        raise ValueError(spec.sampler)
    df = pd.DataFrame(np.asarray(x, dtype=np.float64), columns=keys)
    for p in params:
        if p.integer:
            df[p.key] = np.rint(df[p.key]).astype(np.int64)
    return df


def corner_points(spec: SweepSpec) -> list[dict]:
    """Points that reach every extreme of the design: all lows, all highs, and each parameter
    at each of its levels (or both ends of its range) with the others at their lows."""
    params = spec.parameters
    lows = {p.key: _values(p)[0] for p in params}
    highs = {p.key: _values(p)[-1] for p in params}
    points = [lows, highs]
    for p in params:
        for v in _values(p):
            points.append({**lows, p.key: v})
    unique, seen = [], set()
    for pt in points:
        sig = repr(sorted(pt.items()))
        if sig not in seen:
            seen.add(sig)
            unique.append(pt)
    return unique


def _values(p: Parameter) -> list:
    if p.levels is not None or p.num is not None:
        return list(p.grid_levels())
    lo, hi = p.bounds()
    return [round(lo), round(hi)] if p.integer else [lo, hi]
