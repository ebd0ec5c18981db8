"""The collective's data hub: consent, revocation and k-anonymous aggregation.

A household's KPI reaches the hub only while it consents; a revoked consent removes the
household from every later aggregate; the hub publishes a group's aggregate only when at least
``k`` consenting households are in it. Peer comparison ("your use vs similar households")
is only possible for groups the hub publishes, so a small collective gets none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SIZE_CLASSES = 4  # 1, 2, 3-4 and 5+ persons: "similar households"


def size_class(size: np.ndarray) -> np.ndarray:
    """Peer group of a household by size: 0 (1 person), 1 (2), 2 (3-4), 3 (5+)."""
    return np.digitize(size, [2, 3, 5]).astype(np.int64)


@dataclass(frozen=True)
class Aggregate:
    """What the hub publishes for one step.

    Arrays are per group; ``published`` is False where fewer than ``k`` households
    consented, and there ``mean`` is NaN and ``count`` reads 0: nothing about the group leaks.
    """

    count: np.ndarray
    mean: np.ndarray
    published: np.ndarray


def aggregate(
    values: np.ndarray, group: np.ndarray, include: np.ndarray, k: int, n_groups: int
) -> Aggregate:
    """Per-group count and mean of ``values`` over included households, suppressed below ``k``.

    Parameters
    ----------
    values : ndarray, shape (n,)
        Each household's KPI.
    group : int ndarray, shape (n,)
        Group id in ``[0, n_groups)``.
    include : bool ndarray, shape (n,)
        Whose data the hub holds now (members with consent).
    k : int
        Smallest group size that may be published.

    Examples
    --------
    >>> agg = aggregate(np.array([1., 2., 3.]), np.array([0, 0, 1]), np.array([True, True, True]),
    ...                 k=2, n_groups=2)
    >>> agg.published.tolist(), agg.mean[0]
    ([True, False], np.float64(1.5))
    """
    idx = np.where(include, group, n_groups)
    count = np.bincount(idx, minlength=n_groups + 1)[:n_groups]
    total = np.bincount(idx, weights=values, minlength=n_groups + 1)[:n_groups]
    published = count >= k
    mean = np.full(n_groups, np.nan)
    np.divide(total, count, out=mean, where=published)
    return Aggregate(np.where(published, count, 0), mean, published)


def revoke(consent: np.ndarray, rate: float, dt: float, rng: np.random.Generator) -> np.ndarray:
    """Consent after this step's revocations (hazard ``rate`` per month)."""
    if rate <= 0:
        return consent
    gone = rng.random(consent.shape[0], dtype=np.float32) < -np.expm1(-rate * dt)
    return consent & ~gone


def peer_comparison(
    kpi: np.ndarray, group: np.ndarray, member: np.ndarray, agg: Aggregate, effect: float
) -> tuple[np.ndarray, np.ndarray]:
    """Who gets a comparison, and the curtailment it prompts.

    Members whose group is published see the group's mean (a household need not consent to
    *see* the published aggregate). Those above the mean curtail their KPI by ``effect`` the
    next step (home energy reports: about 2%, Allcott 2011).

    Returns
    -------
    compared : bool ndarray
    curtail : float32 ndarray
    """
    compared = member & agg.published[group]
    mean = np.where(compared, agg.mean[group], np.inf)
    curtail = np.where(compared & (kpi > mean), effect, 0.0).astype(np.float32)
    return compared, curtail
