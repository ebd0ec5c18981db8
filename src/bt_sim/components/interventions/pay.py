"""Paying for the interventions due in a step: which collectives carry out which, as far as
their hours go."""

from __future__ import annotations

import numpy as np
from numba import njit


def decide(
    costs: list[np.ndarray], budget: np.ndarray, active: np.ndarray, rule: str
) -> list[np.ndarray]:
    """Which collectives carry out each due intervention (the reference of :func:`pay`):
    ``costs`` (one array of hours per collective for each entry), paid from ``budget`` (spent
    in place) in catalogue order (``plan``) or the cheapest first (``cheapest``, ties in
    catalogue order); an entry a collective has not the hours for is skipped and the next one
    tried.

    >>> decide([np.array([5.0]), np.array([2.0]), np.array([2.0])], np.array([4.0]),
    ...        np.array([True]), "plan")
    [array([False]), array([ True]), array([ True])]
    >>> decide([np.array([3.0]), np.array([2.0])], np.array([4.0]), np.array([True]),
    ...        "cheapest")
    [array([False]), array([ True])]
    """
    if rule != "cheapest" or len(costs) < 2:
        out = []
        for cost in costs:
            fits = active & (cost <= budget + 1e-9)
            budget -= np.where(fits, cost, 0.0)
            out.append(fits)
        return out
    matrix = np.array(costs)
    e, k = matrix.shape
    ok = np.zeros((e, k), bool)
    order = np.argsort(matrix, axis=0, kind="stable")
    cols = np.arange(k)
    for r in range(e):
        which = order[r]
        cost = matrix[which, cols]
        fits = active & (cost <= budget + 1e-9)
        budget[fits] -= cost[fits]
        ok[which[fits], cols[fits]] = True
    return list(ok)


@njit(cache=True, nogil=True)
def pay(costs, budget, active, cheapest, ok, spent, running, done):
    """:func:`decide` in one compiled pass, for the entries' ``costs`` (entries x collectives):
    fills ``ok`` (entries x collectives), each collective's hours ``spent`` and interventions
    ``running``, and each entry's collectives that carry it out (``done``); ``budget`` is
    spent in place."""
    e_count, k = costs.shape
    spent[:] = 0.0
    running[:] = 0
    done[:] = 0
    for c in range(k):
        order = np.argsort(costs[:, c], kind="mergesort") if cheapest else np.arange(e_count)
        b = budget[c]
        for r in range(e_count):
            e = order[r]
            x = costs[e, c]
            if active[c] and x <= b + 1e-9:
                ok[e, c] = True
                b -= x
                spent[c] += x
                running[c] += 1
                done[e] += 1
            else:
                ok[e, c] = False
        budget[c] = b
