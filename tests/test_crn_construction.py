"""Common random numbers from the first draw: construction draws are keyed by entity.

A change that touches a few households (one more collective, one more founder, another
outreach weighting) leaves every other household's initial state as it was, and on islands
(no ties between neighbourhoods) their whole trajectory and the hub rows of untouched
collectives too. A change that reaches everyone (the initial self-efficacy) changes only what
it sets.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from bt_sim import TransitionModel, load_scenario
from bt_sim.keyed import Keyed, smallest
from bt_sim.population import draw_population
from bt_sim.scenario import PopulationConfig

# Ten neighbourhoods with no ties between them; two collectives in neighbourhoods 0 and 1.
ISLANDS = [
    "population.households=2000",
    "network.kind=stochastic_block",
    "network.within_share=1",
    "collectives.placement=first",
    "collectives.count=2",
    "collectives.outreach_rate=0.02",
    "run.steps=36",
]
SEED = 1


def initial(m: TransitionModel) -> dict[str, np.ndarray]:
    s = m.state
    return {
        "adopted": s.adopted,
        "efficacy": s.efficacy,
        "kpi": s.kpi,
        "noise": s.noise,
        "member": s.member,
        "consent": s.consent,
        "meter": m.mastery.meter,
        "theta": m.theta,
        "check_offset": m.mastery.check_offset,
    }


def trajectory(m: TransitionModel, rows: np.ndarray) -> list[np.ndarray]:
    out = []
    for _ in range(m.config.run.steps):
        m.step()
        s = m.state
        out.append(
            np.concatenate([s.adopted[rows].ravel(), s.kpi[rows], s.efficacy[rows], s.member[rows]])
        )
    return out


def pair(change_a: str, change_b: str) -> tuple[TransitionModel, TransitionModel]:
    a = TransitionModel(load_scenario(None, [*ISLANDS, change_a]), seed=SEED)
    b = TransitionModel(load_scenario(None, [*ISLANDS, change_b]), seed=SEED)
    return a, b


# (change a, change b, the neighbourhoods the change touches)
LOCAL_CHANGES = [
    ("collectives.count=2", "collectives.count=3", {2}),
    ("collectives.founders=5", "collectives.founders=6", {0, 1}),
    ("collectives.outreach_weight_income=1", "collectives.outreach_weight_income=0", {0, 1}),
]


@pytest.mark.parametrize(("change_a", "change_b", "touched"), LOCAL_CHANGES)
def test_a_local_change_leaves_every_other_household_untouched(change_a, change_b, touched):
    a, b = pair(change_a, change_b)
    rest = ~np.isin(a.population.neighbourhood, sorted(touched))
    ia, ib = initial(a), initial(b)
    for name in ia:
        assert np.array_equal(ia[name][rest], ib[name][rest]), name
    # The change does reach the touched neighbourhoods' initial state.
    assert not np.array_equal(ia["member"][~rest], ib["member"][~rest])
    rows = np.flatnonzero(rest)
    ta, tb = trajectory(a, rows), trajectory(b, rows)
    assert all(np.array_equal(x, y) for x, y in zip(ta, tb, strict=True))
    # The hub rows of collectives the change does not touch are the same, row for row.
    pa, pb = a.hub_panel(), b.hub_panel()
    keep_a = pa[~pa["collective"].isin(touched)].reset_index(drop=True)
    keep_b = pb[~pb["collective"].isin(touched)].reset_index(drop=True)
    assert keep_a.equals(keep_b)
    if change_a.startswith("collectives.count"):
        assert len(keep_a) > 10  # collectives 0 and 1 published


def test_more_founders_keep_the_founders_of_fewer():
    five, six = pair("collectives.founders=5", "collectives.founders=6")
    assert five.state.member.sum() == 10 and six.state.member.sum() == 12
    assert not (five.state.member & ~six.state.member).any()


@pytest.mark.parametrize("placement", ["first", "random", "richest", "poorest"])
def test_placement_is_nested_in_the_number_of_collectives(placement):
    hosts = []
    for count in range(1, 8):
        sc = load_scenario(
            None,
            [
                "population.households=1000",
                f"collectives.placement={placement}",
                f"collectives.count={count}",
                "run.steps=1",
            ],
        )
        hosts.append(set(TransitionModel(sc, seed=4).collectives.nbhd.tolist()))
    for fewer, more in itertools.pairwise(hosts):
        assert fewer < more and len(more - fewer) == 1


def test_initial_efficacy_changes_efficacy_and_nothing_else():
    a, b = pair("mastery.initial_efficacy=0.5", "mastery.initial_efficacy=0.6")
    ia, ib = initial(a), initial(b)
    for name in ia:
        if name != "efficacy":
            assert np.array_equal(ia[name], ib[name]), name
    assert ib["efficacy"].mean() > ia["efficacy"].mean() + 0.05


def test_a_population_share_changes_only_what_it_sets():
    """Another senior share leaves incomes, tenure's draws and baselines as they were."""
    base = PopulationConfig(households=3000, neighbourhoods=6)
    more = PopulationConfig(households=3000, neighbourhoods=6, senior_share=0.4)
    a = draw_population(base, Keyed(11))
    b = draw_population(more, Keyed(11))
    for name in ("income", "owner", "size", "baseline_kpi", "gatekeeper", "non_native"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert (b.age_group == 2).sum() > (a.age_group == 2).sum() + 300
    # An entity's numbers are its own: a larger town keeps the draws of a smaller one.
    k = Keyed(11).sub("income")
    assert np.array_equal(k.normal(2000)[:500], k.normal(500))


def test_the_keyed_distributions():
    """Keyed draws have the distributions they claim (fixed key; 200,000 draws, so a mean is
    known to 0.003 of a standard deviation: tolerances are about 3 of its standard errors)."""
    k = Keyed(3)
    n = 200_000
    u = k.sub("u").uniform(n)
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.002
    z = k.sub("z").normal(n)
    assert abs(z.mean()) < 0.007 and abs(z.std() - 1) < 0.005
    p = k.sub("p").poisson(1.15, n, 7)
    assert abs(p.mean() - 1.15) < 0.008 and p.max() <= 7
    assert (k.sub("p").poisson(2.0, n, 7) >= p).all(), "monotone in the mean"
    for a in (0.4, 2.0, 3.6):
        x = k.sub(f"b{a}").beta(np.full(n, a), np.full(n, 4.0 - a))
        sd = np.sqrt(a * (4 - a) / 16 / 5) / np.sqrt(n)  # the mean's standard error
        assert abs(x.mean() - a / 4) < 4 * sd and x.min() >= 0 and x.max() <= 1
    assert smallest(np.array([0.3, 0.2, 0.1]), np.array([0, 2]), 5).tolist() == [2, 0]
