"""The collective's data hub: consent, revocation and k-anonymous aggregation.

A household's KPI reaches the hub only while it consents; a revoked consent removes the
household from every later aggregate; the hub publishes a group's aggregate only when at least
``k`` consenting households are in it. Peer comparison ("your use vs similar households")
is only possible for groups the hub publishes, so a small collective gets none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from bt_sim.model import TransitionModel

SIZE_BOUNDS = {1: [], 2: [2], 3: [2, 3], 4: [2, 3, 5]}  # household size where a class starts


def size_class(size: np.ndarray, classes: int = 4) -> np.ndarray:
    """Peer group of a household by size ("similar households").

    With 4 classes: 0 (1 person), 1 (2), 2 (3-4), 3 (5+); 3: 1, 2, 3+; 2: 1, 2+; 1: everyone.

    >>> size_class(np.array([1, 2, 3, 5]), 3).tolist()
    [0, 1, 2, 2]
    """
    return np.digitize(size, SIZE_BOUNDS[classes]).astype(np.int64)


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


def aggregate_rows(
    values: np.ndarray, group: np.ndarray, rows: np.ndarray, k: int, n_groups: int
) -> Aggregate:
    """:func:`aggregate` over the households ``rows`` (the consenting ones), at a cost
    proportional to their number."""
    g = group[rows]
    count = np.bincount(g, minlength=n_groups)
    total = np.bincount(g, weights=values[rows], minlength=n_groups)
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
    kpi: np.ndarray,
    group: np.ndarray,
    member: np.ndarray,
    agg: Aggregate,
    effect: float,
    slope: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Who gets a comparison with a release, and the curtailment it prompts.

    Members whose group is published see the group's mean (a household need not consent to
    *see* the published aggregate). A compared household with use ``x`` relative to its peers'
    mean (``kpi / mean - 1``) curtails its KPI by ``effect * max(0, 1 + slope * x)``, at most
    ``4 * effect``: about ``effect`` on average, more the further above the mean it is
    (home energy reports: about 2 % on average, 0.3 % to 6.3 % from the lowest to the highest
    decile of prior use; Allcott 2011).

    Returns
    -------
    compared : bool ndarray
    target : float32 ndarray
        The curtailment the comparison prompts (0 where not compared).

    Examples
    --------
    >>> agg = Aggregate(np.array([10]), np.array([100.0]), np.array([True]))
    >>> c, t = peer_comparison(np.array([150.0, 100.0]), np.array([0, 0]),
    ...                        np.array([True, True]), agg, 0.02, 1.0)
    >>> [round(float(v), 3) for v in t]
    [0.03, 0.02]
    """
    compared = member & agg.published[group]
    mean = np.where(compared, agg.mean[group], 1.0)
    rel = np.where(compared, kpi / mean - 1.0, 0.0)
    target = np.where(compared, np.clip(effect * (1.0 + slope * rel), 0.0, 4.0 * effect), 0.0)
    return compared, target.astype(np.float32)


def release_due(interval: float, t0: float, t1: float) -> bool:
    """Whether the hub releases in the step from month ``t0`` to ``t1`` (every ``interval``).

    >>> release_due(3.0, 2.0, 3.0), release_due(3.0, 3.0, 4.0)
    (True, False)
    """
    return bool(np.floor(t1 / interval + 1e-9) > np.floor(t0 / interval + 1e-9))


def hub_phase(model: TransitionModel) -> None:
    """Hub: revocations; at each release, k-anonymous aggregates and peer comparisons."""
    sc, s = model.config, model.state
    h, dt = sc.hub, sc.run.dt
    if h.peer_decay > 0:
        s.peer *= np.float32(np.exp(-h.peer_decay * dt))
    if not model.hub_active:
        return
    s.consent &= s.member
    if h.revoke_rate > 0:
        holders = np.flatnonzero(s.consent)  # only those consenting can revoke
        u = model.draws.uniform("revoke", model.steps_done, holders)
        s.consent[holders[u < -np.expm1(-h.revoke_rate * dt)]] = False
    if not release_due(h.report_months, model.month - dt, model.month):
        return
    held = np.flatnonzero(s.consent)  # the hub holds only these households' data
    agg = aggregate_rows(s.kpi, model.hub_group, held, h.k, model.n_hub_groups)
    s.compared, target = peer_comparison(
        s.kpi,
        model.hub_group,
        s.member & (model.collective_of >= 0),
        agg,
        h.peer_effect,
        h.peer_slope,
    )
    np.maximum(s.peer, target, out=s.peer)
    if sc.output.hub_panel:
        sav = aggregate_rows(s.saving, model.hub_group, held, h.k, model.n_hub_groups)
        model.recorder.record_hub(model.steps_done, agg.count, agg.mean, agg.published, sav.mean)
