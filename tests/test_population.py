"""Drawing households: shares and derived attributes match the scenario."""

from __future__ import annotations

import numpy as np
import pytest

from bt_sim.population import draw_population
from bt_sim.scenario import PopulationConfig

N = 50_000  # a share p is estimated with standard error sqrt(p(1-p)/N) <= 0.0023


@pytest.fixture(scope="module")
def pop():
    return draw_population(
        PopulationConfig(households=N, neighbourhoods=25), np.random.default_rng(11)
    )


def test_shares_match_the_scenario(pop):
    cfg = PopulationConfig()
    # The logistic intercept is solved on the same scores, so only sampling noise remains:
    # 0.01 is more than 4 standard errors.
    assert pop.owner.mean() == pytest.approx(cfg.owner_share, abs=0.01)
    assert pop.low_literacy.mean() == pytest.approx(cfg.low_literacy_share, abs=0.01)
    assert pop.non_native.mean() == pytest.approx(cfg.non_native_share, abs=0.01)
    assert pop.gatekeeper.mean() == pytest.approx(cfg.gatekeeper_share, abs=0.005)
    assert np.median(pop.income) == pytest.approx(cfg.income_median, rel=0.1)
    assert pop.size.mean() == pytest.approx(cfg.household_size_mean, abs=0.03)
    assert (pop.age_group == 2).mean() == pytest.approx(cfg.senior_share, abs=0.01)


def test_disadvantaged_is_derived(pop):
    cut = np.quantile(pop.income, PopulationConfig().disadvantaged_income_quantile)
    expected = (pop.income < cut) | (pop.low_literacy & ~pop.owner)
    assert np.array_equal(pop.disadvantaged, expected)
    assert pop.disadvantaged.mean() > PopulationConfig().disadvantaged_income_quantile


def test_owners_are_richer_and_neighbourhoods_contiguous(pop):
    assert np.median(pop.income[pop.owner]) > np.median(pop.income[~pop.owner])
    assert np.all(np.diff(pop.neighbourhood) >= 0)
    bounds = pop.neighbourhood_bounds()
    assert bounds[0] == 0 and bounds[-1] == N
    assert np.ptp(np.diff(bounds)) <= 1
