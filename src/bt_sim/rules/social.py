"""Social learning: neighbour exposure and one adoption-rule family with classic special cases.

The family gives each household ``i`` and behaviour ``b`` a hazard over a time step ``dt``:

* ``bass``: ``1 - exp(-(p + q * s_ib) dt)``, ``s_ib`` the (tie-weighted) share of ``i``'s
  contacts who adopted ``b`` (Bass 1969; on the complete graph ``s`` is the adopted fraction of
  everyone else, the mean-field Bass model).
* ``threshold``: certain adoption once ``s_ib >= theta_i`` (Granovetter 1978; Watts 2002),
  otherwise the external hazard ``1 - exp(-p dt)``.
* ``complex``: certain adoption once at least ``m`` contacts adopted (Centola & Macy 2007),
  otherwise the external hazard.
* ``full``: the Bass form with a linear or sigmoid exposure response (:func:`response`),
  exposure weighted by tie strength, role models and visible success per behaviour
  (:func:`role_weights`), a member's exposure mixed with its collective's adoption, a stronger
  pull while a goal is unmet, joint action in collectives, and the whole rate scaled by
  readiness (self-efficacy, cost, effort, eligibility).

The functions here are the reference form of each rule. The model runs the special cases with
them directly, and the full rule through the fused kernel
:func:`bt_sim.rules.fused.full_adoption`, which the tests check against these functions.

References
----------
Bass, F. M. (1969). A new product growth for model consumer durables. Management Science 15(5).
Granovetter, M. (1978). Threshold models of collective behavior. AJS 83(6).
Watts, D. J. (2002). A simple model of global cascades on random networks. PNAS 99(9).
Centola, D. & Macy, M. (2007). Complex contagions and the weakness of long ties. AJS 113(3).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def neighbour_share(
    adjacency: sp.csr_array | None, weighted_degree: np.ndarray, x: np.ndarray
) -> np.ndarray:
    """Tie-weighted mean of ``x`` over each household's contacts.

    Parameters
    ----------
    adjacency : csr_array or None
        Weighted adjacency; ``None`` stands for the complete graph with unit weights.
    weighted_degree : ndarray, shape (n,)
        Row sums of the adjacency (``n - 1`` on the complete graph).
    x : ndarray, shape (n, b)
        Values per household and behaviour (e.g. 0/1 adoption).

    Returns
    -------
    ndarray, shape (n, b)
        ``sum_j w_ij x_jb / sum_j w_ij``; 0 for isolated households.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> a = sp.csr_array(np.array([[0, 1, 1], [1, 0, 0], [1, 0, 0]], dtype=np.float32))
    >>> neighbour_share(a, np.array([2., 1., 1.]), np.array([[0.], [1.], [0.]])).ravel().tolist()
    [0.5, 0.0, 0.0]
    """
    if adjacency is None:
        return (x.sum(axis=0, keepdims=True) - x) / weighted_degree[:, None]
    total = adjacency @ x
    out = np.zeros_like(total)
    np.divide(total, weighted_degree[:, None], out=out, where=weighted_degree[:, None] > 0)
    return out


def neighbour_count(pattern: sp.csr_array | None, x: np.ndarray) -> np.ndarray:
    """Number of contacts with ``x`` set (``pattern`` unweighted; ``None`` for complete)."""
    if pattern is None:
        return x.sum(axis=0, keepdims=True) - x
    return pattern @ x


def bass_hazard(share: np.ndarray, p: float, q: float, dt: float) -> np.ndarray:
    """Adoption probability in one step of the Bass hazard ``p + q * share``.

    >>> float(bass_hazard(np.array(0.0), 0.0, 1.0, 1.0))
    0.0
    """
    return -np.expm1(-(p + q * share) * dt)


def threshold_hazard(share: np.ndarray, theta: np.ndarray, p: float, dt: float) -> np.ndarray:
    """1 where the adopted share reaches the household's threshold, else the external hazard.

    >>> threshold_hazard(np.array([[0.1], [0.2]]), np.array([0.18, 0.18]), 0.0, 1.0).ravel()
    array([0., 1.])
    """
    external = -np.expm1(-p * dt)
    return np.where(share >= theta[:, None], 1.0, external)


def count_hazard(count: np.ndarray, needed: int, p: float, dt: float) -> np.ndarray:
    """1 where at least ``needed`` contacts adopted, else the external hazard."""
    external = -np.expm1(-p * dt)
    return np.where(count >= needed, 1.0, external)


RESPONSES = {"linear": 0, "sigmoid": 1}  # codes of the exposure responses in the kernels


def response(share: np.ndarray, kind: str, midpoint: float, steepness: float) -> np.ndarray:
    """The exposure response ``f(s)`` of the full rule, with ``f(0) = 0`` and ``f(1) = 1``.

    ``linear``: ``f(s) = s`` (each adopting contact adds the same pull: simple contagion).
    ``sigmoid``: ``f(s) = s^h (1 + c^h) / (s^h + c^h)`` with midpoint ``c`` and Hill exponent
    ``h``: social reinforcement, where a few adopting contacts pull little and the pull rises
    steeply once a share near ``c`` adopts (complex contagion as a smooth response; Centola &
    Macy 2007; Centola 2010). It gives the full model a critical mass.

    Examples
    --------
    >>> response(np.array([0.0, 0.25, 1.0]), "sigmoid", 0.25, 3.0).round(3).tolist()
    [0.0, 0.508, 1.0]
    """
    if kind == "linear":
        return np.asarray(share, dtype=np.float64)
    s = np.asarray(share, dtype=np.float64)
    ch = midpoint**steepness
    sh = s**steepness
    return sh * (1.0 + ch) / (sh + ch)


def role_weights(
    success: np.ndarray,
    proven: np.ndarray,
    adopted: np.ndarray,
    key_figure: np.ndarray,
    success_weight: float,
    key_figure_weight: float,
) -> tuple[np.ndarray, np.ndarray]:
    """How much each contact weighs as a role model, and what it visibly shows.

    A contact ``j`` weighs ``rho_j = (1 - w + w * success_j) * k_j`` (``w`` the success weight,
    ``k_j`` the key-figure weight for key figures, 1 for others): successful households and key
    figures are listened to more (Bandura 1977; role models and positive deviants). It shows
    behaviour ``b`` with weight ``v_jb = a_jb * (1 - w + w * proven_jb) * k_j``: a behaviour it
    held through a successful check (one that visibly works) counts fully, others by ``1 - w``.
    Since ``v_jb <= rho_j``, the share ``sum_j w_ij v_jb / sum_j w_ij rho_j`` stays in [0, 1]:
    success steers imitation towards what works rather than lowering exposure. (The model only
    marks a behaviour proven at a successful check; a proven flag on a household whose last
    check failed, as state set from outside could leave, counts as not proven, so the bound
    holds for any state.)

    Returns
    -------
    visible : float32 ndarray, shape (n, b)
    weight : float32 ndarray, shape (n,)

    Examples
    --------
    >>> v, r = role_weights(np.array([True, False]), np.array([[True], [False]]),
    ...                     np.array([[True], [True]]), np.array([False, False]), 1.0, 2.0)
    >>> v.ravel().tolist(), r.tolist()
    ([1.0, 0.0], [1.0, 0.0])
    """
    k = np.where(key_figure, np.float32(key_figure_weight), np.float32(1.0))
    w = np.float32(success_weight)
    weight = ((1 - w) + w * success.astype(np.float32)) * k
    shown_proven = proven & success[:, None]  # proven at a successful check: never more
    visible = adopted * ((1 - w) + w * shown_proven.astype(np.float32)) * k[:, None]
    return visible.astype(np.float32), weight.astype(np.float32)


def role_shares(
    adjacency: sp.csr_array | None, visible: np.ndarray, weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Tie sums of what contacts show, and of their role weights (``A @ v`` and ``A @ rho``).

    ``None`` stands for the complete graph with unit ties (everyone else).
    """
    if adjacency is None:
        return (
            (visible.sum(axis=0, keepdims=True) - visible).astype(np.float32),
            (weight.sum() - weight).astype(np.float32),
        )
    return (adjacency @ visible).astype(np.float32), (adjacency @ weight).astype(np.float32)


def readiness(
    income_rel: np.ndarray,
    time_budget: np.ndarray,
    cost: np.ndarray,
    difficulty: np.ndarray,
    eligible: np.ndarray,
) -> np.ndarray:
    """Share of uptake left after the cost and effort barriers, 0 where not eligible.

    ``1 / (1 + cost_b / income_rel_i) * (1 - difficulty_b * (1 - time_i))`` with
    ``income_rel = mastery.cost_scale * income / mastery.reference_income``: a cost of
    ``cost_scale`` halves uptake at the reference income.
    """
    afford = 1.0 / (1.0 + cost[None, :] / income_rel[:, None])
    effort = 1.0 - difficulty[None, :] * (1.0 - time_budget)[:, None]
    return (eligible * afford * effort).astype(np.float32)


def household_readiness(model, rows: np.ndarray | None = None, discount: float = 0.0) -> np.ndarray:
    """:func:`readiness` of the model's households ``rows`` (all by default), shape
    (len(rows), b), times what the regime's lock-in leaves of it (``model.pull``);
    ``discount`` lowers every cost by that share (a joint purchase)."""
    pop = model.population
    idx = slice(None) if rows is None else rows
    ready = readiness(
        model.income_rel[idx],
        pop.time_budget[idx],
        model.cost * (1.0 - discount),
        model.difficulty,
        model.eligible[idx],
    )
    # what the regime's lock-in leaves of uptake (bt_sim.components.regime); 1 without it
    return ready if (model.pull == 1.0).all() else (ready * model.pull).astype(np.float32)


def full_rate(
    share: np.ndarray,
    ready: np.ndarray,
    efficacy: np.ndarray,
    unmet: np.ndarray,
    p: float,
    q: float,
    action_rate: float,
    kind: str = "linear",
    midpoint: float = 0.25,
    steepness: float = 3.0,
) -> np.ndarray:
    """Adoption rate of the full model (per month), without joint action.

    ``ready_ib * e_i * (p + (q + action_rate * unmet_i) * f(share_ib))``: a household acts as
    far as it is ready and confident; an unmet goal makes it look harder at what its contacts
    do (a search for what works), so the push of mastery learning runs through social learning.
    """
    pull = q + action_rate * unmet[:, None]
    return ready * efficacy[:, None] * (p + pull * response(share, kind, midpoint, steepness))


def adopt(
    adopted: np.ndarray, hazard: np.ndarray, eligible: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """New adoptions: eligible non-adopters whose uniform ``u`` (shape (n, b)) falls below
    their hazard."""
    return (u < hazard) & eligible & ~adopted
