"""Citizen collectives: recruitment, leaving, dialogue and shared adoption.

Collectives recruit through outreach, which favours "the usual suspects" (better-off, literate
owners) unless that bias is low, and through ties to members, where key figures (gatekeepers)
weigh more and so reach households outreach misses.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


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
    out = np.zeros(member.shape[0], np.float32)
    np.divide(adjacency @ x, weighted_degree, out=out, where=weighted_degree > 0)
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


def collective_share(
    collective: np.ndarray, member: np.ndarray, x: np.ndarray, n_collectives: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per collective: member count and mean of ``x`` (shape (n, b)) over members.

    Returns
    -------
    counts : ndarray, shape (c,)
    means : ndarray, shape (c, b)
        0 for collectives without members.
    """
    idx = np.where(member, collective, n_collectives)
    counts = np.bincount(idx, minlength=n_collectives + 1)[:n_collectives]
    sums = np.stack(
        [
            np.bincount(idx, weights=x[:, b], minlength=n_collectives + 1)[:n_collectives]
            for b in range(x.shape[1])
        ],
        axis=1,
    )
    means = np.zeros_like(sums)
    np.divide(sums, counts[:, None], out=means, where=counts[:, None] > 0)
    return counts, means
