"""The collective's data hub: trust, consent, release windows and safe aggregates.

The hub publishes in windows (every ``hub.report_months``). Between releases its roster is
frozen: joins, leaves, consents and revocations take effect at the next release, where the hub
takes the roster of consenting members afresh. For each peer group (collective x size class) it
publishes one number, the mean *saving* (never the KPI, so no release tells a household's use
or baseline, a proxy for its dwelling and wealth), and only when

* at least ``hub.k`` consenting households are in the group, and
* the group's roster differs from that of *every* earlier release of the group by no household
  at all or by at least ``hub.min_change`` households (entered plus left), so that no pair of
  releases isolates fewer than ``min_change`` households by differencing.

The published mean carries Laplace noise of scale ``(hi - lo) / (n * hub.epsilon)`` (saving
clipped to :data:`SAVING_RANGE`; ``epsilon`` is the per-release budget, 0 = exact) and the
count is rounded down to a multiple of ``hub.count_rounding`` but never below ``hub.k``. A
collective-level row (the
collective's progress, ``size_class = -1``) is computed from the published group rows only, so
it adds nothing to what they tell.

Members see their group's release (a peer comparison) and their collective's published
progress; that value builds their *trust* in the hub, and trust drives consent: non-consenting
members consent at ``hub.opt_in_rate * trust`` per month, consenting ones revoke at
``hub.revoke_rate * (1 - trust)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from bt_sim.draws import uniform
from bt_sim.rules.fused import below_hazard

if TYPE_CHECKING:
    from bt_sim.model import TransitionModel

#: Savings are clipped to this range before the noisy mean (the sensitivity of one household).
SAVING_RANGE = (-0.25, 0.75)

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


def peer_comparison(
    use: np.ndarray,
    group: np.ndarray,
    member: np.ndarray,
    agg: Aggregate,
    effect: float,
    slope: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Who gets a comparison with a release, and the curtailment it prompts.

    Members whose group is published see the group's mean (a household need not consent to
    *see* the published aggregate). ``use`` is what is compared: in the model the use relative
    to the household's own baseline, ``1 - saving``, against the published ``1 - saving_mean``
    (the hub publishes savings, not the KPI). A compared household with use ``x`` relative to
    its peers' mean (``use / mean - 1``) curtails its KPI by ``effect * max(0, 1 + slope * x)``,
    at most
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
    rel = np.where(compared, use / mean - 1.0, 0.0)
    target = np.where(compared, np.clip(effect * (1.0 + slope * rel), 0.0, 4.0 * effect), 0.0)
    return compared, target.astype(np.float32)


def release_due(interval: float, t0: float, t1: float) -> bool:
    """Whether the hub releases in the step from month ``t0`` to ``t1`` (every ``interval``).

    >>> release_due(3.0, 2.0, 3.0), release_due(3.0, 3.0, 4.0)
    (True, False)
    """
    return math.floor(t1 / interval + 1e-9) > math.floor(t0 / interval + 1e-9)


def laplace(u: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Laplace noise of ``scale`` from uniforms ``u`` in [0, 1) (inverse CDF).

    >>> laplace(np.array([0.25, 0.75]), np.array([1.0])).round(3).tolist()
    [-0.693, 0.693]
    """
    c = u - 0.5
    return -scale * np.sign(c) * np.log1p(-2.0 * np.abs(c) + 1e-300)


def roster_change(a: np.ndarray, b: np.ndarray) -> int:
    """Households in one sorted roster and not the other (entered plus left).

    >>> roster_change(np.array([1, 2, 3]), np.array([2, 3, 4, 5]))
    3
    """
    return int(_change(np.asarray(a, np.int64), np.asarray(b, np.int64)))


@njit(cache=True, nogil=True)
def _change(a, b):
    """Size of the symmetric difference of two sorted arrays of distinct ids (a merge)."""
    i = j = same = 0
    while i < a.shape[0] and j < b.shape[0]:
        if a[i] == b[j]:
            same += 1
            i += 1
            j += 1
        elif a[i] < b[j]:
            i += 1
        else:
            j += 1
    return a.shape[0] + b.shape[0] - 2 * same


@njit(cache=True, nogil=True)
def release_checks(roster, starts, k, min_change, past, past_starts, entries, first_entry):
    """Which groups may be published, and which of those with a roster not published before.

    ``roster[starts[g]:starts[g + 1]]`` is group ``g``'s sorted roster; the group's earlier
    distinct rosters are ``past[past_starts[e]:past_starts[e + 1]]`` for the entries
    ``e = entries[first_entry[g]:first_entry[g + 1]]``. A group is published with at least
    ``k`` households when its roster equals an earlier one or differs from every earlier one by
    at least ``min_change`` households (as :func:`may_release`).
    """
    n_groups = starts.shape[0] - 1
    published = np.zeros(n_groups, np.bool_)
    new = np.zeros(n_groups, np.bool_)
    for g in range(n_groups):
        rows = roster[starts[g] : starts[g + 1]]
        if rows.shape[0] < k:
            continue
        ok = True
        seen = False
        for x in range(first_entry[g], first_entry[g + 1]):
            e = entries[x]
            d = _change(rows, past[past_starts[e] : past_starts[e + 1]])
            if d == 0:
                seen = True  # published before: every difference was checked then
                break
            if d < min_change:
                ok = False
                break
        published[g] = ok
        new[g] = ok and not seen
    return published, new


def may_release(roster: np.ndarray, history: list[np.ndarray], k: int, min_change: int) -> bool:
    """Whether a group with this roster may be published: at least ``k`` households, and a
    change of 0 or at least ``min_change`` households from every earlier published roster.

    >>> may_release(np.arange(10), [np.arange(11)], 10, 3)
    False
    >>> may_release(np.arange(10), [np.arange(10), np.arange(13)], 10, 3)
    True
    """
    if roster.size < k:
        return False
    for past in history:
        d = roster_change(roster, past)
        if 0 < d < min_change:
            return False
    return True


@njit(cache=True, nogil=True)
def group_rosters(consent, member, collective_of, group, n_groups):
    """The consenting members of host neighbourhoods, sorted by peer group then id (a counting
    sort), and the start of each group's segment (length ``n_groups + 1``)."""
    n = consent.shape[0]
    starts = np.zeros(n_groups + 1, np.int64)
    for i in range(n):
        if consent[i] and member[i] and collective_of[i] >= 0:
            starts[group[i] + 1] += 1
    for g in range(n_groups):
        starts[g + 1] += starts[g]
    roster = np.empty(starts[n_groups], np.int32)
    fill = starts[:n_groups].copy()
    for i in range(n):
        if consent[i] and member[i] and collective_of[i] >= 0:
            roster[fill[group[i]]] = i
            fill[group[i]] += 1
    return roster, starts


@njit(cache=True, nogil=True)
def published_count(n, rounding, k):
    """The count published for a group of ``n >= k`` households: ``n`` rounded down to a
    multiple of ``rounding``, but never below ``k``. A published count ``c`` thus says
    ``c <= n < `` the next multiple of ``rounding`` above ``c``: the same bands as plain
    rounding, with the lowest band labelled by ``k`` so no published count is below ``k``.

    >>> [int(published_count(n, 5, 7)) for n in (7, 9, 10, 14, 15)]
    [7, 7, 10, 10, 15]
    """
    return max((n // rounding) * rounding, k)


@njit(cache=True, nogil=True, error_model="numpy")
def release_values(
    roster, starts, published, saving, lo, hi, epsilon, rounding, classes, k, host, key, step,
    base, sequential,
):  # fmt: skip
    """The rows of a release: per published group the mean saving (clipped to ``[lo, hi]``),
    with Laplace noise of scale ``(hi - lo) / (n epsilon)`` when ``epsilon > 0`` (the uniform of
    :func:`bt_sim.draws.uniform` at counter ``host[c] * classes + s`` for size class ``s`` of
    collective ``c`` in neighbourhood ``host[c]``, so a group's noise does not depend on how
    many other collectives there are; or ``base + j`` for the ``j``-th published group with
    ``sequential``), and the count rounded down to ``rounding`` but never below ``k`` (see
    :func:`published_count`); per collective the
    count-weighted mean of its published group rows, published when they count ``k`` or more.
    NaN and 0 where not published. Returns (count, mean, collective count, collective mean,
    collective published, draws used)."""
    n_groups = starts.shape[0] - 1
    count = np.zeros(n_groups, np.int64)
    mean = np.full(n_groups, np.nan)
    used = 0
    for g in range(n_groups):
        if not published[g]:
            continue
        total = 0.0
        for x in range(starts[g], starts[g + 1]):
            total += min(max(np.float64(saving[roster[x]]), lo), hi)
        n = starts[g + 1] - starts[g]
        m = total / n
        if epsilon > 0:
            ctr = base + used if sequential else host[g // classes] * classes + g % classes
            c = uniform(key, step, ctr) - 0.5
            noise = -(hi - lo) / (n * epsilon) * np.log1p(-2.0 * abs(c) + 1e-300)
            m = min(max(m + (noise if c > 0 else -noise), lo), hi)
            used += 1
        mean[g] = m
        count[g] = published_count(n, rounding, k)
    k_collectives = n_groups // classes
    c_count = np.zeros(k_collectives, np.int64)
    c_mean = np.full(k_collectives, np.nan)
    c_pub = np.zeros(k_collectives, np.bool_)
    for c in range(k_collectives):
        weight = 0
        total = 0.0
        for g in range(c * classes, (c + 1) * classes):
            if published[g]:
                weight += count[g]
                total += mean[g] * count[g]
        c_count[c] = weight
        if weight >= k and weight > 0:
            c_pub[c] = True
            c_mean[c] = total / weight
    return count, mean, c_count, c_mean, c_pub, used


class PastRosters:
    """Every distinct roster each group has been published with, flat for :func:`release_checks`.

    ``ids[starts[e]:starts[e + 1]]`` is entry ``e``; ``entries[first[g]:first[g + 1]]`` are the
    entries of group ``g``.
    """

    def __init__(self, n_groups: int):
        self.n_groups = n_groups
        self.ids = np.zeros(0, np.int32)
        self.starts = np.zeros(1, np.int64)
        self.group = np.zeros(0, np.int64)
        self.entries = np.zeros(0, np.int64)
        self.first = np.zeros(n_groups + 1, np.int64)

    def add(self, groups: np.ndarray, rosters: list[np.ndarray]) -> None:
        """Add one new roster for each of ``groups``."""
        if not len(rosters):
            return
        sizes = np.array([r.size for r in rosters], np.int64)
        self.ids = np.concatenate([self.ids, *rosters]).astype(np.int32)
        self.starts = np.concatenate([self.starts, self.starts[-1] + np.cumsum(sizes)])
        self.group = np.concatenate([self.group, groups.astype(np.int64)])
        self.entries = np.argsort(self.group, kind="stable")
        self.first = np.searchsorted(self.group[self.entries], np.arange(self.n_groups + 1))

    def by_group(self) -> dict[int, list[np.ndarray]]:
        """The distinct rosters per group that has been published, in the order published."""
        out: dict[int, list[np.ndarray]] = {}
        for e, g in enumerate(self.group):
            out.setdefault(int(g), []).append(self.ids[self.starts[e] : self.starts[e + 1]])
        return out


@dataclass(frozen=True)
class Release:
    """One release of the hub: per group the published (noisy) mean saving and rounded count,
    and per collective its progress (computed from the published group rows only)."""

    count: np.ndarray
    mean: np.ndarray
    published: np.ndarray
    collective_count: np.ndarray
    collective_mean: np.ndarray
    collective_published: np.ndarray


def make_release(model: TransitionModel) -> Release:
    """Take the roster of consenting members and build this release's rows (see the module)."""
    sc, s = model.config, model.state
    h = sc.hub
    n_groups = model.hub.n_groups
    roster, starts = group_rosters(
        s.consent, s.member, model.collectives.of, model.hub.group, n_groups
    )
    past = model.hub.past
    published, new = release_checks(
        roster, starts, h.k, h.min_change, past.ids, past.starts, past.entries, past.first
    )
    step = model.steps_done
    if published.any():
        for g in np.flatnonzero(published):
            model.hub.releases.append((step, int(g), roster[starts[g] : starts[g + 1]]))
        fresh = np.flatnonzero(new)
        past.add(fresh, [roster[starts[g] : starts[g + 1]] for g in fresh])
    key, base, sequential = model.draws.take("hub_noise", step)
    lo, hi = SAVING_RANGE
    count, mean, c_count, c_mean, c_pub, used = release_values(
        roster, starts, published, s.saving, lo, hi, h.epsilon, h.count_rounding,
        sc.hub.size_classes, h.k, model.collectives.nbhd, key, step, base, sequential,
    )  # fmt: skip
    model.draws.used(used)
    return Release(count, mean, published, c_count.astype(np.int64), c_mean, c_pub)


def trust_update(trust: np.ndarray, value: np.ndarray, rate: float) -> np.ndarray:
    """Trust after a release: it moves ``rate`` of the way towards the value the release gave.

    >>> trust_update(np.array([0.5, 0.5], np.float32), np.array([1.0, 0.0]), 0.5).tolist()
    [0.75, 0.25]
    """
    return (trust + rate * (value - trust)).astype(np.float32)


def hub_phase(model: TransitionModel) -> None:
    """Hub: consent follows trust; at each release, safe aggregates, comparisons and trust."""
    sc, s = model.config, model.state
    h, dt = sc.hub, sc.run.dt
    if not model.hub.active:  # with the hub, the consent kernel lets peer curtailment fade
        if h.peer_decay > 0:
            s.peer *= np.float32(math.exp(-h.peer_decay * dt))
        return
    step = model.steps_done
    key_revoke, base, sequential = model.draws.take("revoke", step)
    key_opt_in, _, _ = model.draws.take("opt_in", step)
    used = consent_step(
        s.member,
        s.consent,
        s.trust,
        s.peer,
        math.exp(-h.peer_decay * dt),
        -h.revoke_rate * dt,
        -h.opt_in_rate * dt,
        key_revoke,
        key_opt_in,
        step,
        base,
        sequential,
        model.collectives.spans(),
    )
    model.draws.used(used)
    if not release_due(h.report_months, model.month - dt, model.month):
        return
    rel = make_release(model)
    model.hub.last_release, model.hub.last_step = rel, step  # what the municipality reviews
    progress = np.where(  # NaN where unpublished, and there not taken
        rel.collective_published,
        np.clip(rel.collective_mean / sc.collectives.shared_goal, 0.0, 1.0),
        0.0,
    )
    compare_step(
        s.member,
        model.collectives.of,
        model.hub.group,
        s.saving,
        rel.published,
        rel.mean,
        progress,
        h.peer_effect,
        h.peer_slope,
        -math.expm1(-h.trust_rate * h.report_months),  # a monthly rate over the window
        s.compared,
        s.peer,
        s.trust,
    )
    if sc.output.hub_panel:
        model.recorder.record_hub(step, rel)


@njit(cache=True, nogil=True, error_model="numpy")
def consent_step(
    member, consent, trust, peer, peer_keep, revoke_exponent, opt_in_exponent, key_revoke,
    key_opt_in, step, base, sequential, spans,
):  # fmt: skip
    """One step of consent: peer curtailment fades (``peer_keep``) for everyone; in the host
    neighbourhoods' ranges ``spans`` (where every member lives:
    :meth:`bt_sim.components.collectives.Collectives.spans`), consent ends with membership,
    consenting members revoke with ``1 - exp(revoke_exponent (1 - trust))`` and then members
    who do not share opt in with ``1 - exp(opt_in_exponent trust)`` (exponents ``-rate dt``; 0
    turns the decision off). Uniforms are :func:`bt_sim.draws.uniform` at counter ``i``, or
    with ``sequential`` at ``base + k`` for the revocation draws in household order, then the
    opt-in draws. Returns the number of draws."""
    for i in range(peer.shape[0]):
        peer[i] *= peer_keep
    revoking = revoke_exponent < 0.0
    opting = opt_in_exponent < 0.0
    holders = 0
    if sequential and revoking:
        for sp in range(spans.shape[0]):
            for i in range(spans[sp, 0], spans[sp, 1]):
                if consent[i] and member[i]:
                    holders += 1
    k_revoke = 0
    k_opt = 0
    for sp in range(spans.shape[0]):
        for i in range(spans[sp, 0], spans[sp, 1]):
            if not member[i]:
                consent[i] = False
                continue
            if consent[i] and revoking:
                ctr = base + k_revoke if sequential else i
                k_revoke += 1
                u = uniform(key_revoke, step, ctr)
                if below_hazard(u, -revoke_exponent * (1.0 - trust[i])):
                    consent[i] = False
            if not consent[i] and opting:
                ctr = base + holders + k_opt if sequential else i
                k_opt += 1
                if below_hazard(uniform(key_opt_in, step, ctr), -opt_in_exponent * trust[i]):
                    consent[i] = True
    return k_revoke + k_opt


@njit(cache=True, nogil=True, error_model="numpy")
def compare_step(
    member, collective_of, group, saving, published, mean, progress, effect, slope, trust_share,
    compared, peer, trust,
):  # fmt: skip
    """A release's effect on members, in one pass (as :func:`peer_comparison` and
    :func:`trust_update`): members whose group is published are compared with its mean saving
    and curtail by ``effect * (1 + slope * x)`` in ``[0, 4 effect]`` (``x`` their use relative
    to the group's, ``(1 - saving) / (1 - mean) - 1``) if that is more than they do already;
    every member's trust moves ``trust_share`` of the way to the release's value, the mean of
    being compared and the collective's published ``progress``."""
    for i in range(member.shape[0]):
        c = collective_of[i]
        if not member[i] or c < 0:
            compared[i] = False
            continue
        g = group[i]
        seen = published[g]
        compared[i] = seen
        if seen:
            rel = (1.0 - saving[i]) / (1.0 - mean[g]) - 1.0
            target = min(max(effect * (1.0 + slope * rel), 0.0), 4.0 * effect)
            if target > peer[i]:
                peer[i] = target
        value = 0.5 * ((1.0 if seen else 0.0) + progress[c])
        trust[i] = trust[i] + trust_share * (value - trust[i])
