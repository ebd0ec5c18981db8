"""Social learning: neighbour exposure and one adoption-rule family with classic special cases.

The family gives each household ``i`` and behaviour ``b`` a hazard over a time step ``dt``:

* ``bass``: ``1 - exp(-(p + q * s_ib) dt)``, ``s_ib`` the (tie-weighted) share of ``i``'s
  contacts who adopted ``b`` (Bass 1969; on the complete graph ``s`` is the adopted fraction of
  everyone else, the mean-field Bass model).
* ``threshold``: certain adoption once ``s_ib >= theta_i`` (Granovetter 1978; Watts 2002),
  otherwise the external hazard ``1 - exp(-p dt)``.
* ``complex``: certain adoption once at least ``m`` contacts adopted (Centola & Macy 2007),
  otherwise the external hazard.
* ``full``: the Bass form with exposure weighted by tie strength and visible success, a
  member's exposure mixed with its collective's adoption, a push from unmet goals, and the
  whole rate scaled by readiness (self-efficacy, cost, effort, eligibility).

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


def success_visibility(success: np.ndarray, weight: float) -> np.ndarray:
    """How visible a household's behaviour is: ``1 - w`` plus ``w`` if it met its last goal."""
    return (1.0 - weight) + weight * success.astype(np.float32)


def full_rate(
    share: np.ndarray,
    readiness: np.ndarray,
    unmet: np.ndarray,
    p: float,
    q: float,
    action_rate: float,
) -> np.ndarray:
    """Adoption rate of the full model (per month).

    ``readiness_ib * (p + q * share_ib + action_rate * unmet_i)``: social influence and the
    household's own unmet goal both act only as far as the household is ready to act.
    """
    return readiness * (p + q * share + action_rate * unmet[:, None])


def adopt(
    adopted: np.ndarray, hazard: np.ndarray, eligible: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """New adoptions: eligible non-adopters whose uniform draw falls below their hazard."""
    draw = rng.random(adopted.shape, dtype=np.float32)
    return (draw < hazard) & eligible & ~adopted
