"""Targeting: whom a collective (or an intervention) reaches first.

Each rule orders a set of candidate households, first to last; choosing ``count`` of them
takes the first ``count``, so a larger count keeps a smaller one's choice. Every rule breaks
ties by a uniform per household from the caller's keyed stream (:mod:`bt_sim.keyed`), so the
order is a function of (seed, stream, household) and of the rule's score alone.

========================  ==========================================================================
rule                      order
========================  ==========================================================================
``usual_suspects``        a weighted random order, in proportion to the outreach propensity
                          (Efraimidis and Spirakis 2006): better-off, owning, literate households
                          who speak the local language first (``collectives.outreach_weight_*``)
``random``                a uniform random order
``degree``                most ties first
``bridges``               most ties to households of other neighbourhoods first
``positive_deviants``     those who save most for their income first: the standardised KPI
                          saving less the standardised log income (Pascale et al. 2010)
``disadvantaged``         disadvantaged households first (low income, or low literacy and renting),
                          in random order, then the others in random order
========================  ==========================================================================
"""

from __future__ import annotations

import numpy as np

from bt_sim.keyed import Keyed
from bt_sim.network import Network
from bt_sim.population import Population
from bt_sim.scenario.schema import TARGETING_RULES as RULES


def bridge_ties(net: Network, neighbourhood: np.ndarray) -> np.ndarray:
    """Each household's number of ties to households of another neighbourhood.

    >>> from bt_sim.network import from_edges
    >>> net = from_edges(4, np.array([0, 1, 2]), np.array([1, 2, 3]))
    >>> bridge_ties(net, np.array([0, 0, 1, 1])).tolist()
    [0, 1, 1, 0]
    """
    if net.complete:
        size = np.bincount(neighbourhood)
        return (net.n - size[neighbourhood]).astype(np.int64)
    rows = np.repeat(np.arange(net.n), np.diff(net.indptr))
    across = neighbourhood[rows] != neighbourhood[net.indices]
    return np.bincount(rows[across], minlength=net.n).astype(np.int64)


def _z(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float64)
    return (x - x.mean()) / (x.std() + 1e-12)


def scores(
    rule: str,
    pop: Population,
    net: Network,
    saving: np.ndarray | None = None,
    propensity: np.ndarray | None = None,
) -> np.ndarray | None:
    """Each household's priority under ``rule`` (higher first), or ``None`` for the rules
    whose order is random (``random``, ``usual_suspects``)."""
    if rule in ("random", "usual_suspects"):
        return None
    if rule == "degree":
        return net.degree().astype(np.float64)
    if rule == "bridges":
        return bridge_ties(net, pop.neighbourhood).astype(np.float64)
    if rule == "positive_deviants":
        if saving is None:
            raise ValueError("the positive_deviants rule needs the households' saving")
        return _z(saving) - _z(np.log(pop.income))
    if rule == "disadvantaged":
        return pop.disadvantaged.astype(np.float64)
    raise ValueError(f"unknown targeting rule {rule!r}; expected one of {', '.join(RULES)}")


def order(
    rule: str,
    candidates: np.ndarray,
    keyed: Keyed,
    pop: Population,
    net: Network,
    saving: np.ndarray | None = None,
    propensity: np.ndarray | None = None,
    score: np.ndarray | None = None,
) -> np.ndarray:
    """``candidates`` (household ids) ordered by ``rule``, first to last.

    Ties, and the random rules, are broken by the uniform of each household in ``keyed``
    (keyed by household id, so a household's place does not depend on the other candidates).
    ``usual_suspects`` needs ``propensity``; ``positive_deviants`` needs ``saving``. A caller
    that orders many sets of candidates passes the whole population's ``score`` (from
    :func:`scores`) once, instead of having it computed again for each.

    >>> from bt_sim.network import from_edges
    >>> from bt_sim.population import draw_population
    >>> from bt_sim.scenario import PopulationConfig
    >>> pop = draw_population(PopulationConfig(households=5, neighbourhoods=1), Keyed(1))
    >>> net = from_edges(5, np.array([0, 0, 0, 1]), np.array([1, 2, 3, 2]))
    >>> order("degree", np.arange(5), Keyed(2), pop, net)[:2].tolist()
    [0, 1]
    """
    candidates = np.asarray(candidates, np.int64)
    if candidates.size == 0:
        return candidates
    u = keyed.uniform_at(candidates)
    if rule == "usual_suspects":
        if propensity is None:
            raise ValueError("the usual_suspects rule needs the outreach propensity")
        w = np.asarray(propensity)[candidates].astype(np.float64)
        with np.errstate(divide="ignore"):
            race = np.where(w > 0, -np.log1p(-u) / np.where(w > 0, w, 1.0), np.inf)
        return candidates[np.lexsort((candidates, race))]
    if score is None:
        score = scores(rule, pop, net, saving, propensity)
    if score is None:  # random
        return candidates[np.lexsort((candidates, u))]
    return candidates[np.lexsort((candidates, u, -score[candidates]))]


def choose(
    rule: str,
    candidates: np.ndarray,
    count: int,
    keyed: Keyed,
    pop: Population,
    net: Network,
    saving: np.ndarray | None = None,
    propensity: np.ndarray | None = None,
    score: np.ndarray | None = None,
) -> np.ndarray:
    """The first ``count`` of :func:`order` (all of them if there are fewer); households of
    weight 0 are never chosen under ``usual_suspects``."""
    ranked = order(rule, candidates, keyed, pop, net, saving, propensity, score)
    if rule == "usual_suspects" and propensity is not None:
        ranked = ranked[np.asarray(propensity)[ranked] > 0]
    return ranked[: max(int(count), 0)]
