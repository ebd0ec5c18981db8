"""Citizen collectives: recruitment, leaving, dialogue, a shared goal and joint action.

A collective (one per host neighbourhood) works towards a *shared goal*: its members' mean KPI
saving (``collectives.shared_goal``). It tracks its progress at the collective level and
celebrates each new step of ``collectives.milestone`` it reaches, which raises its members'
self-efficacy (collective mastery: achievements made visible; Bandura 2000 on collective
efficacy). Its joint action is a building block (a collective purchase,
:mod:`bt_sim.components.interventions.purchase`): :func:`campaign_choice` picks the behaviour
it buys, and the further the collective is from its goal the harder it pulls. Members talk
(dialogue lifts self-efficacy), see what fellow members do (:func:`fellow_member_share`), and
stay while they get value from the collective (a successful check, a peer comparison, progress
towards the goal), leaving at up to ``collectives.leave_rate`` when they get none.

Collectives recruit through outreach, which favours "the usual suspects" (better-off, literate
owners who speak the local language) unless that bias is low, and through ties to members,
where key figures weigh more and so reach households outreach misses.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from bt_sim.draws import uniform
from bt_sim.rules.fused import below_hazard, member_ties

if TYPE_CHECKING:
    from bt_sim.model import TransitionModel
    from bt_sim.population import Population
    from bt_sim.scenario.schema import CollectivesConfig


def outreach_propensity(
    pop: Population, cfg: CollectivesConfig, score: np.ndarray | None = None
) -> np.ndarray:
    """Relative chance of being reached by outreach, mean 1 over the population.

    ``exp(bias * z)`` with ``z`` a standardised usual-suspect score: the weighted sum of
    standardised log income, owning, not having low literacy, speaking the local language and
    being 65+ (weights ``collectives.outreach_weight_*``); or, given a targeting rule's
    ``score`` (:func:`bt_sim.targeting.scores`), that score standardised.
    """
    if score is not None:
        z = (score - score.mean()) / (score.std() + 1e-9)
        prop = np.exp(cfg.usual_suspects_bias * z)
        return (prop / prop.mean()).astype(np.float32)
    log_inc = np.log(pop.income)
    z_inc = (log_inc - log_inc.mean()) / (log_inc.std() + 1e-9)
    z = (
        cfg.outreach_weight_income * z_inc
        + cfg.outreach_weight_owner * pop.owner
        - cfg.outreach_weight_literacy * pop.low_literacy
        - cfg.outreach_weight_language * pop.non_native
        + cfg.outreach_weight_senior * (pop.age_group == 2)
    )
    z = (z - z.mean()) / (z.std() + 1e-9)
    prop = np.exp(cfg.usual_suspects_bias * z)
    return (prop / prop.mean()).astype(np.float32)


def member_tie_shares(
    adjacency,
    weighted_degree: np.ndarray,
    member: np.ndarray,
    reach: np.ndarray,
    collective_of: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Tie-weighted shares of contacts who are members of one's own and of other collectives.

    Key figures count ``reach`` times. ``adjacency`` None is the complete graph.
    """
    x = member.astype(np.float32) * reach
    n = member.shape[0]
    if adjacency is None:
        k = int(collective_of.max()) + 1 if collective_of.size else 0
        per = np.bincount(np.maximum(collective_of, 0), x * (collective_of >= 0), max(k, 1))
        own = np.where(collective_of >= 0, per[np.maximum(collective_of, 0)], 0.0) - x
        other = x.sum() - x - own
        return (own / weighted_degree).astype(np.float32), (other / weighted_degree).astype(
            np.float32
        )
    rows = np.flatnonzero(member)
    own = np.zeros(n, np.float64)
    other = np.zeros(n, np.float64)
    member_ties(
        adjacency.indptr,
        adjacency.indices,
        adjacency.data,
        rows,
        x[rows],
        collective_of,
        own,
        other,
    )
    out_own = np.zeros(n, np.float32)
    out_other = np.zeros(n, np.float32)
    np.divide(own, weighted_degree, out=out_own, where=weighted_degree > 0)
    np.divide(other, weighted_degree, out=out_other, where=weighted_degree > 0)
    return out_own, out_other


def join_hazard(
    propensity: np.ndarray,
    own_ties: np.ndarray,
    other_ties: np.ndarray,
    cfg: CollectivesConfig,
    dt: float,
) -> np.ndarray:
    """Chance of joining within a step: ``1 - exp(-(outreach + tie recruitment) dt)``."""
    rate = cfg.outreach_rate * propensity + cfg.tie_rate * (
        own_ties + cfg.other_member_weight * other_ties
    )
    return -np.expm1(-rate * dt)


def member_value(success: np.ndarray, compared: np.ndarray, progress: np.ndarray) -> np.ndarray:
    """What a member gets from its collective, 0..1: the mean of a successful last check, a peer
    comparison with the latest release, and the collective's progress towards its goal."""
    return (success.astype(np.float32) + compared + progress) / 3.0


def dialogue(efficacy: np.ndarray, member: np.ndarray, gain: float, dt: float) -> np.ndarray:
    """Members' self-efficacy after a step of dialogue."""
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
    array([0. , 0.5, 0.5, 0. ], dtype=float32)
    """
    counts = np.bincount(collective, minlength=n_collectives)
    sums = np.stack(
        [np.bincount(collective, x[:, b], n_collectives) for b in range(x.shape[1])], axis=1
    )
    others = (counts[collective] - 1)[:, None]
    out = np.zeros(x.shape)
    np.divide(sums[collective] - x, others, out=out, where=others > 0)
    return out.astype(np.float32)


def progress(
    saving: np.ndarray, member: np.ndarray, collective_of: np.ndarray, k: int, goal: float
) -> tuple[np.ndarray, np.ndarray]:
    """Members' mean saving per collective and the progress ``saving / goal`` in [0, 1].

    >>> progress(np.array([0.05, 0.15, 0.5]), np.array([True, True, False]),
    ...          np.array([0, 0, 0]), 1, 0.2)
    (array([0.1]), array([0.5]))
    """
    rows = np.flatnonzero(member & (collective_of >= 0))
    c = collective_of[rows]
    n = np.bincount(c, minlength=k)
    tot = np.bincount(c, saving[rows].astype(np.float64), minlength=k)
    mean = np.divide(tot, n, out=np.zeros(k), where=n > 0)
    return mean, np.clip(mean / goal, 0.0, 1.0)


def campaign_choice(
    ready: np.ndarray, open_pairs: np.ndarray, effect: np.ndarray, collective: np.ndarray, k: int
) -> np.ndarray:
    """Each collective's campaign behaviour: the one with the largest expected saving if its
    members took it, ``sum over members of ready * open * kpi_effect`` (-1 without members).

    Arrays are over members: ``ready`` and ``open_pairs`` of shape (m, b).
    """
    score = (ready * open_pairs) * effect[None, :]
    per = np.stack([np.bincount(collective, score[:, b], k) for b in range(score.shape[1])], 1)
    focus = np.argmax(per, axis=1).astype(np.int64)
    focus[per.max(axis=1) <= 0] = -1
    return focus


def collective_phase(model: TransitionModel) -> None:
    """Collectives: progress and celebrations, dialogue, joining and leaving."""
    if not model.collectives.count:
        return
    sc, s, cs = model.config, model.state, model.collectives.state
    cc, dt = sc.collectives, sc.run.dt
    # 1. Progress towards the shared goal; a new milestone is celebrated.
    top = math.ceil(cc.shared_goal / cc.milestone - 1e-9)  # the last milestone
    spans = model.collectives.spans()
    celebrate = progress_step(
        s.member, model.collectives.of, spans, s.saving, cc.shared_goal, cc.milestone, top,
        cc.celebration_gain > 0, cs.saving, cs.progress, cs.celebrated,
    )  # fmt: skip
    # 2.-3. Celebration and dialogue; joining (outreach and ties) and leaving (members who get
    # little value), in one pass (see :func:`membership_step`).
    step = model.steps_done
    adj = model.adjacency
    if adj is None:  # the complete graph: tie shares from collective totals
        own, other = member_tie_shares(
            None, model.wdeg, s.member, model.collectives.reach, model.collectives.of
        )
        own, other = own.astype(np.float64), other.astype(np.float64)
        summed = np.zeros(0, np.float32)
        indptr, indices, weights = np.zeros(1, np.int64), np.zeros(0, np.int64), np.zeros(0)
    else:
        own, other, summed = model.ties.member_sums(model.collectives.spans_key())
        indptr, indices, weights = adj.indptr, adj.indices, adj.data
    keys = [model.draws.take(name, step) for name in ("recruit", "leave", "consent")]
    h = sc.hub
    used = membership_step(
        s.member,
        s.consent,
        s.trust,
        s.compared,
        s.success,
        s.efficacy,
        model.collectives.of,
        spans,
        model.collectives.hosted,
        model.collectives.propensity,
        model.collectives.reach,
        model.wdeg,
        indptr,
        indices,
        weights,
        own,
        other,
        summed,
        adj is not None,
        celebrate,
        cs.progress,
        cc.celebration_gain,
        -math.expm1(-cc.dialogue_gain * dt),
        cc.outreach_rate,
        cc.tie_rate,
        cc.other_member_weight,
        cc.leave_rate,
        dt,
        model.hub.active,
        h.consent_rate,
        h.trust_initial,
        keys[0][0],
        keys[1][0],
        keys[2][0],
        step,
        keys[0][1],
        keys[0][2],
    )
    model.draws.used(used)


@njit(cache=True, nogil=True, error_model="numpy")
def progress_step(
    member,
    collective_of,
    spans,
    saving,
    goal,
    milestone,
    top,
    celebrating,
    mean,
    progress,
    celebrated,
):
    """Members' mean saving per collective (``mean``), the progress ``mean / goal`` in [0, 1]
    and the milestones reached (``celebrated``), in place, as :func:`progress`; returns which
    collectives reached a new milestone (when ``celebrating``); members are looked for in the
    host neighbourhoods' ranges ``spans`` (see :func:`membership_step`)."""
    k = mean.shape[0]
    count = np.zeros(k, np.int64)
    total = np.zeros(k, np.float64)
    for sp in range(spans.shape[0]):
        for i in range(spans[sp, 0], spans[sp, 1]):
            c = collective_of[i]
            if member[i] and c >= 0:
                count[c] += 1
                total[c] += saving[i]
    new = np.zeros(k, np.bool_)
    for c in range(k):
        m = total[c] / count[c] if count[c] > 0 else 0.0
        mean[c] = m
        progress[c] = min(max(m / goal, 0.0), 1.0)
        reached = min(np.floor(m / milestone + 1e-9), top)
        if reached > celebrated[c]:
            new[c] = celebrating
            celebrated[c] = reached
    return new


@njit(cache=True, nogil=True, error_model="numpy")
def membership_step(
    member,
    consent,
    trust,
    compared,
    success,
    efficacy,
    collective_of,
    spans,
    hosted,
    propensity,
    reach,
    wdeg,
    indptr,
    indices,
    weights,
    own_share,
    other_share,
    summed,
    from_ties,
    celebrate,
    progress,
    celebration_gain,
    dialogue_share,
    outreach_rate,
    tie_rate,
    other_weight,
    leave_rate,
    dt,
    hub_active,
    consent_rate,
    trust_initial,
    key_recruit,
    key_leave,
    key_consent,
    step,
    base,
    sequential,
):
    """One step of membership, as the reference functions of this module.

    Members of a collective that reached a new milestone (``celebrate``) gain
    ``celebration_gain`` of their gap to full self-efficacy, then every member gains
    ``dialogue_share`` of it (:func:`dialogue`). Every hosted non-member joins with the hazard
    of :func:`join_hazard` (with ``from_ties``, its tie shares summed along the members' ties
    in ``own_share`` and ``other_share``, kept from step to step with ``summed``, what each
    household sent along its ties when last summed (its reach as a member, else 0), and
    brought up to date here: start them all at zero; otherwise the shares are read from
    them), every member leaves with
    ``1 - exp(-leave_rate (1 - value) dt)`` (:func:`member_value`); both are decided on the
    membership at the start of the step. A leaver's consent ends; a joiner consents with
    ``consent_rate`` and starts at ``trust_initial`` (when the hub is on). Only members keep a
    comparison. Uniforms are :func:`bt_sim.draws.uniform` at counter ``i`` of each stream, or,
    with ``sequential``, at ``base + k`` for the recruitment draws of the candidates in order,
    then the leaving draws of the members, then the consent draws of the joiners. Returns the
    number of draws. Only the households of ``spans`` (shape (m, 2): the host neighbourhoods'
    ranges, in household order, as :meth:`bt_sim.components.collectives.Collectives.spans`
    gives them; every member lives there) are visited; of them, those not ``hosted`` (a
    dissolved collective's) cannot join.
    """
    n_cand = 0
    n_members = 0
    for sp in range(spans.shape[0]):
        for i in range(spans[sp, 0], spans[sp, 1]):
            if member[i]:
                n_members += 1
            elif hosted[i]:
                n_cand += 1
    joins = np.empty(n_cand, np.int64)
    leaves = np.empty(n_members, np.int64)
    if from_ties:  # the members' tie sums brought up to date: each household whose share
        # moved since it was last summed (it joined or left, or its reach changed: a
        # gatekeeper programme) takes back what it sent along its ties and sends the new;
        # float32 products summed in float64 are exact, so the sums equal a fresh scatter
        for sp in range(spans.shape[0]):
            for j in range(spans[sp, 0], spans[sp, 1]):
                now = reach[j] if member[j] else np.float32(0.0)
                was = summed[j]
                if now == was:
                    continue
                summed[j] = now
                cj = collective_of[j]
                for x in range(indptr[j], indptr[j + 1]):
                    i = indices[x]
                    ci = collective_of[i]
                    if ci == cj:
                        own_share[i] += weights[x] * now
                        own_share[i] -= weights[x] * was
                    elif ci >= 0:
                        other_share[i] += weights[x] * now
                        other_share[i] -= weights[x] * was
    n_joins = 0
    n_leaves = 0
    k_cand = 0
    k_member = 0
    for sp in range(spans.shape[0]):  # decisions on the membership at the start of the step
        for i in range(spans[sp, 0], spans[sp, 1]):
            c = collective_of[i]
            own, other = own_share[i], other_share[i]
            if from_ties and (own != 0.0 or other != 0.0):
                d = wdeg[i]
                own = own / d if d > 0 else 0.0
                other = other / d if d > 0 else 0.0
            if member[i]:
                e = efficacy[i]
                if celebrate[c]:
                    e = e + celebration_gain * (1.0 - e)
                efficacy[i] = e + dialogue_share * (1.0 - e)
                value = (
                    (1.0 if success[i] else 0.0) + (1.0 if compared[i] else 0.0) + progress[c]
                ) / 3
                ctr = base + n_cand + k_member if sequential else i
                k_member += 1
                if below_hazard(uniform(key_leave, step, ctr), leave_rate * (1.0 - value) * dt):
                    leaves[n_leaves] = i
                    n_leaves += 1
            elif hosted[i]:
                rate = outreach_rate * propensity[i] + tie_rate * (own + other_weight * other)
                ctr = base + k_cand if sequential else i
                k_cand += 1
                if below_hazard(uniform(key_recruit, step, ctr), rate * dt):
                    joins[n_joins] = i
                    n_joins += 1
    for x in range(n_leaves):
        i = leaves[x]
        member[i] = False
        compared[i] = False
        if hub_active:
            consent[i] = False
    for x in range(n_joins):
        i = joins[x]
        member[i] = True
        if hub_active:
            ctr = base + n_cand + n_members + x if sequential else i
            if uniform(key_consent, step, ctr) < consent_rate:
                consent[i] = True
            trust[i] = trust_initial
    return n_cand + n_members + (n_joins if hub_active else 0)
