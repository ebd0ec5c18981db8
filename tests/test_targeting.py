"""Targeting rules pick the households they say, checked against direct computations on a
small network (networkx for degrees and ties across neighbourhoods)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from bt_sim import TransitionModel, load_scenario
from bt_sim.errors import ScenarioError
from bt_sim.keyed import Keyed
from bt_sim.network import from_edges
from bt_sim.population import draw_population
from bt_sim.scenario import PopulationConfig
from bt_sim.targeting import RULES, bridge_ties, choose, order


@pytest.fixture(scope="module")
def world():
    """60 households in 3 neighbourhoods on a random graph, and the same graph in networkx."""
    pop = draw_population(PopulationConfig(households=60, neighbourhoods=3), Keyed(5))
    g = nx.gnm_random_graph(60, 150, seed=3)
    src, dst = np.array(list(g.edges())).T
    return pop, from_edges(60, src, dst), g


def test_degree_puts_the_most_connected_first(world):
    pop, net, g = world
    ranked = order("degree", np.arange(60), Keyed(1), pop, net)
    degree = np.array([g.degree(int(i)) for i in ranked])
    assert (np.diff(degree) <= 0).all()
    top = choose("degree", np.arange(60), 5, Keyed(1), pop, net)
    assert sorted(degree[:5]) == sorted(g.degree(int(i)) for i in top)
    assert min(g.degree(int(i)) for i in top) >= sorted(dict(g.degree()).values())[-5]


def test_bridges_puts_the_ties_across_neighbourhoods_first(world):
    pop, net, g = world
    nb = pop.neighbourhood
    across = np.array([sum(nb[j] != nb[i] for j in g.neighbors(i)) for i in range(60)])
    assert np.array_equal(bridge_ties(net, nb), across)
    ranked = order("bridges", np.arange(60), Keyed(1), pop, net)
    assert (np.diff(across[ranked]) <= 0).all()


def test_disadvantaged_first_then_the_others(world):
    pop, net, _ = world
    ranked = order("disadvantaged", np.arange(60), Keyed(2), pop, net)
    k = int(pop.disadvantaged.sum())
    assert 0 < k < 60
    assert pop.disadvantaged[ranked[:k]].all() and not pop.disadvantaged[ranked[k:]].any()


def test_positive_deviants_save_most_for_their_income(world):
    pop, net, _ = world
    saving = np.random.default_rng(4).normal(0.05, 0.03, 60)
    ranked = order("positive_deviants", np.arange(60), Keyed(2), pop, net, saving=saving)
    li = np.log(pop.income.astype(float))
    score = (saving - saving.mean()) / saving.std() - (li - li.mean()) / li.std()
    assert (np.diff(score[ranked]) <= 1e-12).all()
    with pytest.raises(ValueError, match="needs the households' saving"):
        order("positive_deviants", np.arange(60), Keyed(2), pop, net)


def test_usual_suspects_follow_the_propensity(world):
    """A weighted random order: over many keys, the first pick is household i with chance
    proportional to its weight (two weights, 1 and 3: a share of 0.75 for the heavier, whose
    standard error over 4,000 draws is 0.007)."""
    pop, net, _ = world
    w = np.zeros(60)
    w[[7, 9]] = [1.0, 3.0]
    firsts = [
        order("usual_suspects", np.array([7, 9, 11]), Keyed(s), pop, net, propensity=w)[0]
        for s in range(4000)
    ]
    share = np.mean(np.array(firsts) == 9)
    assert abs(share - 0.75) < 0.03
    picked = choose("usual_suspects", np.array([7, 9, 11]), 3, Keyed(1), pop, net, propensity=w)
    assert 11 not in picked.tolist()  # weight 0: never chosen


@pytest.mark.parametrize("rule", RULES)
def test_every_rule_is_nested_and_keyed_by_household(world, rule):
    pop, net, _ = world
    kw = {"saving": np.linspace(0, 0.1, 60), "propensity": np.linspace(0.5, 2, 60)}
    five = choose(rule, np.arange(60), 5, Keyed(9), pop, net, **kw)
    eight = choose(rule, np.arange(60), 8, Keyed(9), pop, net, **kw)
    assert np.array_equal(eight[:5], five)
    # A household's place does not depend on which other candidates there are.
    sub = np.arange(0, 60, 2)
    full = order(rule, np.arange(60), Keyed(9), pop, net, **kw)
    assert np.array_equal(order(rule, sub, Keyed(9), pop, net, **kw), full[np.isin(full, sub)])


def test_the_founder_rule_chooses_the_founders():
    sets = ["population.households=1200", "collectives.placement=first", "run.steps=1"]
    m = TransitionModel(load_scenario(None, [*sets, "collectives.founder_rule=degree"]), seed=1)
    deg = m.network.degree()
    for c, nb in enumerate(m.collectives.nbhd):
        homes = np.flatnonzero(m.population.neighbourhood == nb)
        founders = np.flatnonzero(m.state.member & (m.collectives.of == c))
        assert founders.size == 5
        assert deg[founders].min() >= np.sort(deg[homes])[-5]
    with pytest.raises(ScenarioError, match=r"collectives\.founder_rule"):
        load_scenario(None, ["collectives.founder_rule=loudest"])
