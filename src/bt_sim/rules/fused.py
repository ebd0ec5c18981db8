"""The hot path: the full model's per-step rules fused into single passes (numba).

Each kernel computes, in one loop over households, exactly what the reference rules in
:mod:`bt_sim.rules.social`, :mod:`bt_sim.rules.mastery` and :mod:`bt_sim.rules.collective`
compute with many whole-array numpy operations; the tests check that both give identical results
from the same random draws. Random numbers are drawn by the caller from the model's generator
and passed in, so the kernels hold no random state. Fusing pays because a step of numpy
operations makes a dozen temporary ``(n, b)`` arrays, and at small sizes because each numpy call
has a fixed overhead.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _below_hazard(u, x):
    """``u < 1 - exp(-x)``, exactly, with the exponential only where the bounds
    ``x - x^2 / 2 <= 1 - exp(-x) <= x`` leave the answer open."""
    if u >= x:
        return False
    if u < x - 0.5 * x * x:
        return True
    return u < -np.expm1(-x)


@njit(cache=True, nogil=True, error_model="numpy")
def full_adoption(
    exposure,
    wdeg,
    adopted,
    ready,
    efficacy,
    unmet,
    member_pos,
    fellow,
    collective_weight,
    p,
    q,
    action_rate,
    dt,
    u,
    new,
):
    """New adoptions of the full rule, written into ``new`` (bool, shape (n, b)).

    ``exposure`` holds the visibility-weighted tie sums ``sum_j w_ij v_j a_jb`` (a sparse
    product, computed by the caller). For household ``i`` and behaviour ``b``:
    ``s_ib = exposure_ib / W_i``, for a member ``s_ib <- (1 - cw) s_ib + cw * fellow_ib``,
    ``rate = ready_ib * efficacy_i * (p + q s_ib + action_rate * unmet_i)`` and
    ``new_ib = u < 1 - exp(-rate dt)`` for each *open pair*, one with ``ready_ib > 0`` and
    ``a_ib`` false (see :func:`bt_sim.rules.social.full_rate` and
    :func:`bt_sim.rules.social.adopt`). ``u`` holds one uniform draw per open pair
    (:func:`adoption_candidates` counts them), used in household then behaviour order. Returns
    the number of adoptions.
    """
    n, nb = adopted.shape
    count = 0
    k = 0
    for i in range(n):
        d = wdeg[i]
        pos = member_pos[i]
        push = p + action_rate * unmet[i]
        for b in range(nb):
            new[i, b] = False
            if adopted[i, b] or ready[i, b] <= 0:
                continue
            share = exposure[i, b] / d if d > 0 else 0.0
            if pos >= 0:
                share = (1.0 - collective_weight) * share + collective_weight * fellow[pos, b]
            x = ready[i, b] * efficacy[i] * (push + q * share) * dt
            hit = _below_hazard(u[k], x)
            k += 1
            new[i, b] = hit
            count += hit
    return count


@njit(cache=True, nogil=True)
def adoption_candidates(adopted, ready):
    """Number of (household, behaviour) pairs that may be adopted: ready and not yet adopted."""
    n, nb = adopted.shape
    k = 0
    for i in range(n):
        for b in range(nb):
            if ready[i, b] > 0 and not adopted[i, b]:
                k += 1
    return k


@njit(cache=True, nogil=True, error_model="numpy")
def reflect(
    saving,
    perception_sd,
    z,
    efficacy,
    goal,
    up_share,
    down_share,
    step_up,
    step_down,
    goal_max,
    dt,
    adopted,
    reversible,
    success,
):
    """Perceive and reflect in one pass; updates ``efficacy``, ``goal`` and ``success``.

    ``perceived = saving + sd * z``; ``success = perceived >= goal``; self-efficacy and goal as
    in :func:`bt_sim.rules.mastery.reflect`, with the per-household shares of the efficacy gap
    closed after a success (``up_share = 1 - (1 - l*gain)^dt``) and of efficacy lost after a
    failure (``down_share``) computed by the caller. Returns the number of (household,
    behaviour) pairs that may now be dropped (adopted, reversible, after a failure).
    """
    n, nb = adopted.shape
    candidates = 0
    for i in range(n):
        ok = saving[i] + perception_sd[i] * z[i] >= goal[i]
        success[i] = ok
        e = efficacy[i]
        if ok:
            efficacy[i] = e + up_share[i] * (1.0 - e)
            goal[i] = min(goal[i] + step_up * dt, goal_max)
        else:
            efficacy[i] = e - down_share[i] * e
            goal[i] = max(goal[i] - step_down * dt, 0.0)
            for b in range(nb):
                if adopted[i, b] and reversible[b]:
                    candidates += 1
    return candidates


@njit(cache=True, nogil=True, error_model="numpy")
def drop(adopted, reversible, success, efficacy, drop_rate, dt, u):
    """Drop behaviours after a failure, as :func:`bt_sim.rules.mastery.drop`.

    ``u`` holds one uniform draw per candidate counted by :func:`reflect`, used in household
    then behaviour order; a candidate is dropped when ``u < 1 - exp(-rate dt (1 - efficacy))``.
    Returns the number dropped.
    """
    n, nb = adopted.shape
    k = 0
    dropped = 0
    for i in range(n):
        if success[i]:
            continue
        hazard = -np.expm1(-drop_rate * dt * (1.0 - efficacy[i]))
        for b in range(nb):
            if adopted[i, b] and reversible[b]:
                if u[k] < hazard:
                    adopted[i, b] = False
                    dropped += 1
                k += 1
    return dropped


@njit(cache=True, nogil=True, error_model="numpy")
def scatter_ties(indptr, indices, weights, rows, values, out):
    """``out[i] += w_ij * values[k]`` for every tie of each ``j = rows[k]``.

    On an undirected network this is ``A @ x`` for an ``x`` that is zero outside ``rows``, at a
    cost proportional to the ties of ``rows`` only (e.g. members of collectives).
    """
    for k in range(rows.shape[0]):
        j = rows[k]
        v = values[k]
        for e in range(indptr[j], indptr[j + 1]):
            out[indices[e]] += weights[e] * v


@njit(cache=True, nogil=True, error_model="numpy")
def neighbourhood_sums(
    nbhd, adopted, saving, efficacy, member, consent, compared, dis, out_all, out_dis, out_member
):
    """Per-neighbourhood sums of the recorded variables, over all, disadvantaged and members.

    Columns: one per behaviour (adoption), then saving, efficacy, member, consent, compared and
    "adopted any". Replaces the three :func:`numpy.add.reduceat` passes of the recorder.
    """
    n, nb = adopted.shape
    out_all[:] = 0.0
    out_dis[:] = 0.0
    out_member[:] = 0.0
    vals = np.zeros(6, np.float64)
    for i in range(n):
        c = nbhd[i]
        anyb = False
        for b in range(nb):
            if adopted[i, b]:
                anyb = True
                out_all[c, b] += 1.0
                if dis[i]:
                    out_dis[c, b] += 1.0
                if member[i]:
                    out_member[c, b] += 1.0
        vals[0] = saving[i]
        vals[1] = efficacy[i]
        vals[2] = 1.0 if member[i] else 0.0
        vals[3] = 1.0 if consent[i] else 0.0
        vals[4] = 1.0 if compared[i] else 0.0
        vals[5] = 1.0 if anyb else 0.0
        for k in range(6):
            v = vals[k]
            out_all[c, nb + k] += v
            if dis[i]:
                out_dis[c, nb + k] += v
            if member[i]:
                out_member[c, nb + k] += v
