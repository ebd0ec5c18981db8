"""Citizen collectives: recruitment, leaving, dialogue, a shared goal and joint action.

A collective (one per host neighbourhood) works towards a *shared goal*: its members' mean KPI
saving (``collectives.shared_goal``). It tracks its progress at the collective level and
celebrates each new step of ``collectives.milestone`` it reaches, which raises its members'
self-efficacy (collective mastery: achievements made visible; Bandura 2000 on collective
efficacy). It runs *joint-action campaigns*: for ``collectives.campaign_months`` at a time it
picks the behaviour that would save its members most, buys it together
(``collectives.joint_discount`` off the cost) and pulls members towards it at a rate that grows
with how far the collective still is from its goal (``collectives.joint_rate``); a more
ambitious goal means more joint action. Members talk (dialogue lifts self-efficacy), see what
fellow members do (:func:`fellow_member_share`), and stay while they get value from the
collective (a successful check, a peer comparison, progress towards the goal), leaving at up to
``collectives.leave_rate`` when they get none.

Collectives recruit through outreach, which favours "the usual suspects" (better-off, literate
owners who speak the local language) unless that bias is low, and through ties to members,
where key figures weigh more and so reach households outreach misses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from bt_sim.rules.fused import member_ties

if TYPE_CHECKING:
    from bt_sim.model import TransitionModel
    from bt_sim.population import Population
    from bt_sim.scenario.schema import CollectivesConfig


def outreach_propensity(pop: Population, cfg: CollectivesConfig) -> np.ndarray:
    """Relative chance of being reached by outreach, mean 1 over the population.

    ``exp(bias * z)`` with ``z`` a standardised usual-suspect score: the weighted sum of
    standardised log income, owning, not having low literacy, speaking the local language and
    being 65+ (weights ``collectives.outreach_weight_*``).
    """
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
    """Collectives: progress and celebrations, campaigns, dialogue, joining and leaving."""
    if not model.n_collectives:
        return
    sc, s, cs = model.config, model.state, model.cstate
    cc, dt, k = sc.collectives, sc.run.dt, model.n_collectives
    # 1. Progress towards the shared goal; a new milestone is celebrated.
    cs.saving, cs.progress = progress(s.saving, s.member, model.collective_of, k, cc.shared_goal)
    reached = np.minimum(
        np.floor(cs.saving / cc.milestone + 1e-9), np.ceil(cc.shared_goal / cc.milestone - 1e-9)
    ).astype(np.int64)
    new = reached > cs.celebrated
    if new.any() and cc.celebration_gain > 0:
        lift = s.member & new[np.maximum(model.collective_of, 0)] & (model.collective_of >= 0)
        s.efficacy[lift] += np.float32(cc.celebration_gain) * (1.0 - s.efficacy[lift])
    cs.celebrated = np.maximum(cs.celebrated, reached)
    # 2. A new joint-action campaign at the start of each campaign period.
    t0 = model.month - dt
    if np.floor(model.month / cc.campaign_months + 1e-9) > np.floor(t0 / cc.campaign_months + 1e-9):
        rows = np.flatnonzero(s.member)
        ready = model.readiness(rows, discount=cc.joint_discount)
        cs.focus = campaign_choice(
            ready, ~s.adopted[rows], model.kpi_effect, model.collective_of[rows], k
        )
    # 3. Dialogue.
    if cc.dialogue_gain > 0:
        s.efficacy = dialogue(s.efficacy, s.member, cc.dialogue_gain, dt)
    # 4. Joining (outreach and ties) and leaving (members who get little value).
    own, other = member_tie_shares(
        model.adjacency, model.wdeg, s.member, model.reach, model.collective_of
    )
    cand = np.flatnonzero(model.hosted & ~s.member)  # only they can join
    hazard = join_hazard(model.propensity[cand], own[cand], other[cand], cc, dt)
    step = model.steps_done
    joins = cand[model.draws.uniform("recruit", step, cand) < hazard]
    members = np.flatnonzero(s.member)
    value = member_value(
        s.success[members], s.compared[members], cs.progress[model.collective_of[members]]
    )
    leave_p = -np.expm1(-cc.leave_rate * (1.0 - value) * dt)
    leaves = members[model.draws.uniform("leave", step, members) < leave_p]
    s.member[leaves] = False
    s.member[joins] = True
    if model.hub_active:
        s.consent[leaves] = False
        shares = model.draws.uniform("consent", step, joins) < sc.hub.consent_rate
        s.consent[joins[shares]] = True
        s.trust[joins] = np.float32(sc.hub.trust_initial)
    s.compared &= s.member
