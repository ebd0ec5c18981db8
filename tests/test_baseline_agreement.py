"""The per-agent Mesa baseline and the vectorised engine simulate the same model.

Both start every replicate from the same world (the baseline copies the engine's population,
network and initial state for the same seed) and then draw their dynamics from different random
streams, so they agree in distribution, not bit for bit. For each outcome we compare the mean over
replicates and require

    |mean_baseline - mean_engine| <= 4 * SE + floor,   SE = sqrt(s_b^2 / R + s_e^2 / R)

with ``s`` the replicate standard deviations and ``R`` the number of replicates. Under the null
hypothesis (same model) the difference over its standard error is roughly t-distributed with
about 2R - 2 = 18 degrees of freedom, so a 4-SE bound is exceeded by chance with probability
below 0.001 per outcome (below 0.01 over all ten outcomes; the seeds are fixed, so the test is
deterministic anyway). The floor (0.002 for shares) only covers float32-vs-float64 rounding and
the case of a near-zero spread.

Power, measured by planting errors in the baseline: ten replicates of 1,000 households give a
standard error of the difference of about 0.009 for the adoption shares (replicate sd about
0.015-0.02, close to the binomial floor), so the test detects shifts of about 0.035 in an adoption
share or 0.007 in the mean KPI saving. Caught: imitation ``q`` 50% too high, no push from unmet
goals, no dropping of reversible behaviours, no dialogue gain. Not caught (effects below 0.03):
exposure without the visible-success weighting, a sequential instead of a synchronous update,
a missing collective term. A 100-replicate run of the same comparison (done when the baseline
was last checked) put every outcome within 1.6 standard errors.
"""

from __future__ import annotations

import numpy as np
import pytest
from benchmarks.mesa_baseline import BaselineModel

from bt_sim import TransitionModel, load_scenario

REPLICATES = 10
SEEDS = range(700, 700 + REPLICATES)
SCENARIO = [
    "population.households=1000",
    "population.neighbourhoods=5",  # 200 households each
    "collectives.count=2",  # 400 households can join, so hub groups reach k
    "network.mean_degree=10",
    "run.steps=60",
]
BEHAVIOURS = ("lower_thermostat", "shorter_showers", "draught_proofing", "insulation", "heat_pump")
# outcome -> absolute floor of the tolerance (in the outcome's unit)
OUTCOMES = {
    **{f"final_adoption:{b}": 0.002 for b in BEHAVIOURS},
    "any_adoption": 0.002,
    "kpi_saving": 0.001,
    "member_share": 0.002,
    "mean_efficacy": 0.002,
    "compared_share": 0.002,
}


@pytest.fixture(scope="module")
def runs() -> dict[str, np.ndarray]:
    """Each outcome per replicate: array of shape (2, R), row 0 engine, row 1 baseline."""
    scenario = load_scenario(None, SCENARIO)
    rows: dict[str, list[list[float]]] = {k: [[], []] for k in OUTCOMES}
    for seed in SEEDS:
        engine = TransitionModel(scenario, seed=seed)
        baseline = BaselineModel(scenario, seed=seed)
        engine.run()
        baseline.run()
        for which, summary in enumerate((engine.summary(), baseline.summary())):
            for k in OUTCOMES:
                rows[k][which].append(summary[k])
    return {k: np.array(v) for k, v in rows.items()}


def test_baseline_starts_from_the_engine_world():
    scenario = load_scenario(None, ["population.households=300", "run.steps=1"])
    engine = TransitionModel(scenario, seed=3)
    baseline = BaselineModel(scenario, seed=3)
    assert len(baseline.agents) == engine.population.n
    adopted = np.array([h.adopted for h in baseline.households])
    np.testing.assert_array_equal(adopted, engine.state.adopted)
    member = np.array([h.member for h in baseline.households])
    np.testing.assert_array_equal(member, engine.state.member)
    degree = np.array([len(h.neighbours) for h in baseline.households])
    np.testing.assert_array_equal(degree, engine.network.degree())
    assert baseline.summary()["members"] == engine.summary()["members"]


@pytest.mark.slow
@pytest.mark.parametrize("outcome", list(OUTCOMES))
def test_baseline_and_engine_agree(runs, outcome):
    engine, baseline = runs[outcome]
    diff = baseline.mean() - engine.mean()
    se = np.sqrt(engine.var(ddof=1) / REPLICATES + baseline.var(ddof=1) / REPLICATES)
    tolerance = 4.0 * se + OUTCOMES[outcome]
    assert abs(diff) <= tolerance, (
        f"{outcome}: engine {engine.mean():.4f}, baseline {baseline.mean():.4f}, "
        f"difference {diff:+.4f} exceeds {tolerance:.4f} (4 SE = {4 * se:.4f})"
    )
