"""Citizen collectives: recruitment, leaving, dialogue and shared adoption.

Collectives recruit through outreach, which favours "the usual suspects" (better-off, literate
owners) unless that bias is low, and through ties to members, where key figures (gatekeepers)
weigh more and so reach households outreach misses.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from bt_sim.rules.fused import scatter_ties


def outreach_propensity(
    income: np.ndarray,
    owner: np.ndarray,
    low_literacy: np.ndarray,
    non_native: np.ndarray,
    bias: float,
) -> np.ndarray:
    """Relative chance of being reached by outreach, mean 1 over the population.

    ``exp(bias * z)`` with ``z`` a standardised usual-suspect score (income, tenure, literacy,
    language).
    """
    log_inc = np.log(income)
    z = (log_inc - log_inc.mean()) / (log_inc.std() + 1e-9)
    z = z + owner - low_literacy - 0.5 * non_native
    z = (z - z.mean()) / (z.std() + 1e-9)
    prop = np.exp(bias * z)
    return (prop / prop.mean()).astype(np.float32)


def member_tie_share(
    adjacency: sp.csr_array | None,
    weighted_degree: np.ndarray,
    member: np.ndarray,
    reach: np.ndarray,
) -> np.ndarray:
    """Tie-weighted share of contacts who are members, key figures counting ``reach`` times."""
    x = member.astype(np.float32) * reach
    if adjacency is None:
        return (x.sum() - x) / weighted_degree
    rows = np.flatnonzero(member)
    total = np.zeros(member.shape[0], np.float64)
    # Only members' ties contribute: scatter from them (A is symmetric) instead of A @ x.
    scatter_ties(adjacency.indptr, adjacency.indices, adjacency.data, rows, x[rows], total)
    out = np.zeros(member.shape[0], np.float32)
    np.divide(total, weighted_degree, out=out, where=weighted_degree > 0)
    return out


def recruit(
    member: np.ndarray,
    hosted: np.ndarray,
    propensity: np.ndarray,
    tie_share: np.ndarray,
    outreach_rate: float,
    tie_rate: float,
    dt: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Households who join this step: non-members in a neighbourhood hosting a collective."""
    rate = outreach_rate * propensity + tie_rate * tie_share
    hazard = -np.expm1(-rate * dt)
    return ~member & hosted & (rng.random(member.shape[0], dtype=np.float32) < hazard)


def leave(member: np.ndarray, rate: float, dt: float, rng: np.random.Generator) -> np.ndarray:
    """Members who leave this step."""
    return member & (rng.random(member.shape[0], dtype=np.float32) < -np.expm1(-rate * dt))


def dialogue(efficacy: np.ndarray, member: np.ndarray, gain: float, dt: float) -> np.ndarray:
    """Members' self-efficacy after a step of dialogue and joint action."""
    g = -np.expm1(-gain * dt)
    return np.where(member, efficacy + g * (1.0 - efficacy), efficacy).astype(np.float32)


def fellow_member_share(collective: np.ndarray, x: np.ndarray, n_collectives: int) -> np.ndarray:
    """For each member, the mean of ``x`` over the *other* members of its collective.

    Parameters
    ----------
    collective : int ndarray, shape (m,)
        Collective of each member.
    x : ndarray, shape (m, b)
        Values of each member (e.g. 0/1 adoption).
    n_collectives : int

    Returns
    -------
    ndarray, shape (m, b)
        0 for a member alone in its collective.

    Examples
    --------
    >>> fellow_member_share(np.array([0, 0, 0, 1]), np.array([[1.], [0.], [0.], [1.]]), 2).ravel()
    array([0. , 0.5, 0.5, 0. ])
    """
    counts = np.bincount(collective, minlength=n_collectives)
    sums = np.zeros((n_collectives, x.shape[1]))
    np.add.at(sums, collective, x)
    others = (counts[collective] - 1)[:, None]
    out = np.zeros(x.shape)
    np.divide(sums[collective] - x, others, out=out, where=others > 0)
    return out.astype(np.float32)
