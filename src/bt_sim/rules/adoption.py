"""The adoption phase: who starts performing which behaviour this step.

Under ``social.rule = "full"`` the rate of :func:`bt_sim.rules.social.full_rate` plus joint
action in collectives, run as one fused pass (:func:`bt_sim.rules.fused.full_adoption`); under
the special cases (``bass``, ``threshold``, ``complex``) the classic hazards of
:mod:`bt_sim.rules.social`, which read nothing else of the model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from bt_sim.rules import fused, social
from bt_sim.rules.social import RESPONSES

if TYPE_CHECKING:
    from bt_sim.model import TransitionModel


def adopt_phase(model: TransitionModel) -> None:
    """Adopt: exposure to contacts (and fellow members), then one draw per open pair."""
    s = model.state
    if model.config.social.rule == "full":
        full_adoption_from(model, full_inputs(model), into=s.adopted)
    else:
        s.adopted |= special_adoption(model)


def special_adoption(model: TransitionModel) -> np.ndarray:
    """New adoptions under a special-case rule. Draws are made only for the open pairs
    (eligible, not adopted) whose hazard lies strictly between 0 and 1: under the threshold and
    complex rules without an external rate (``social.p = 0``) nothing is drawn at all."""
    s = model.state
    soc = model.config.social
    if soc.p == 0 and soc.rule in ("threshold", "complex") and model.adjacency is not None:
        new = np.empty(s.adopted.shape, bool)
        sums = adopted_sums(model)
        n = s.adopted.shape[0]
        if soc.rule == "threshold":
            level = model.theta
        else:
            level = np.full(n, soc.contacts_needed, np.float32)
        fused.reach_threshold(sums, soc.rule == "threshold", level, s.adopted, model.eligible, new)
        return new
    hazard = special_hazard(model)
    open_pairs = model.eligible & ~s.adopted
    new = open_pairs & (hazard >= 1.0)
    unsure = np.flatnonzero(open_pairs & (hazard > 0.0) & (hazard < 1.0))
    if unsure.size:
        u = model.draws.uniform("adopt", model.steps_done, unsure)
        flat = new.reshape(-1)
        flat[unsure[u < hazard.reshape(-1)[unsure]]] = True
    return new


def adopted_sums(model: TransitionModel) -> np.ndarray:
    """Tie sums of adoption for the threshold (weighted ties) and complex (contact counts)
    rules, kept up to date by :class:`~bt_sim.rules.ties.TieSums`: columns ``A @ adopted``,
    then ``A @ 1`` (the weighted degree, or the number of contacts)."""
    s = model.state
    ties = model.ties.tie_sums("count" if model.config.social.rule == "complex" else "adoption")
    # With success weight 0 and key-figure weight 1 every role weight is 1 whatever the flags,
    # so the row is [adopted | 1]; constant flags (the key figures) leave only adoption to move
    # a household's code.
    key = model.population.gatekeeper
    return ties.update(s.adopted, s.adopted, key, key, 0.0, 1.0)


def special_hazard(model: TransitionModel) -> np.ndarray:
    """Adoption probabilities of the special-case rules (bass, threshold, complex)."""
    soc, dt = model.config.social, model.config.run.dt
    adopted_f = model.state.adopted.astype(np.float32)
    if soc.rule == "complex":
        count = social.neighbour_count(model.pattern, adopted_f)
        return social.count_hazard(count, soc.contacts_needed, soc.p, dt)
    share = social.neighbour_share(model.adjacency, model.wdeg, adopted_f)
    if soc.rule == "bass":
        return social.bass_hazard(share, soc.p, soc.q, dt)
    return social.threshold_hazard(share, model.theta, soc.p, dt)


def full_inputs(model: TransitionModel) -> dict:
    """Everything the full rule reads this step, as plain arrays and numbers.

    The tie sums ``[A @ v | A @ rho]`` of what contacts show and their role weights
    (:mod:`bt_sim.rules.ties`) come as ``roles``: the role codes packed this step and the
    network they are read along, from which the kernels gather the few households' sums they
    need; or, on the complete graph (everyone else's) and with more behaviours than a code
    holds, as dense ``sums``. ``model.ties.exposure`` gives every household's sums as of this step
    (the reflect phase reads them for norm support). The fellow-member counts, joint-action
    rates and campaign behaviours are per collective. Used by the fused kernel and by the
    tests, which check it against the reference rules.
    """
    sc, s = model.config, model.state
    soc = sc.social
    w = soc.success_weight if sc.mastery.enabled else 0.0  # nobody checks: no success shown
    nb = s.adopted.shape[1]
    key = model.population.gatekeeper
    roles = model.ties.role_codes()
    if roles is not None:
        roles.pack(s.adopted, s.proven, s.success, key, w, soc.key_figure_weight)
        sums = model.ties.exposure_args()[0]
    elif model.adjacency is None:
        visible, weight = social.role_weights(
            s.success, s.proven, s.adopted, key, w, soc.key_figure_weight
        )
        exposure, denom = social.role_shares(None, visible, weight)
        sums = np.empty((s.adopted.shape[0], nb + 1), np.float64)
        sums[:, :nb], sums[:, nb] = exposure, denom
    else:
        ties = model.ties.tie_sums("roles")
        sums = ties.update(s.adopted, s.proven, s.success, key, w, soc.key_figure_weight)
    if roles is None:
        model.ties.set_exposure(sums)
    k = max(model.collectives.count, 1)
    count, total = fused.member_totals(
        s.member, model.collectives.of, model.collectives.spans(), s.adopted, k
    )
    joint, focus, discount = model.interventions.joint_action()
    return {
        "sums": sums,
        "roles": model.ties.role_args(),
        "fellow_count": count,
        "fellow_total": total,
        "joint": np.asarray(joint, np.float64),
        "focus": np.asarray(focus, np.int64),
        "discount": np.asarray(discount, np.float64),
        "unmet": s.unmet if sc.mastery.enabled else np.zeros(s.unmet.shape, bool),
    }


def full_adoption_from(
    model: TransitionModel, x: dict, into: np.ndarray | None = None
) -> np.ndarray:
    """New adoptions under the full rule given the inputs ``x``; the draws are the adoption
    stream's at this step (:mod:`bt_sim.draws`). Returns them as a new array, or sets them in
    ``into`` (the model's adoption matrix, by the adopt phase) and returns that."""
    sc, s = model.config, model.state
    soc = sc.social
    new = np.zeros(s.adopted.shape, bool) if into is None else into
    key, base, sequential = model.draws.take("adopt", model.steps_done)
    _, used = fused.full_adoption(
        x["sums"],
        *x["roles"],
        s.adopted,
        model.eligible,
        model.income_rel,
        model.population.time_budget,
        model.cost,
        model.difficulty,
        model.pull,
        s.efficacy,
        x["unmet"],
        sc.mastery.action_rate if sc.mastery.enabled else 0.0,
        s.member,
        model.collectives.of,
        x["fellow_count"],
        x["fellow_total"],
        soc.collective_weight,
        x["joint"],
        x["focus"],
        x["discount"],
        soc.p * model.p_scale,
        soc.q,
        RESPONSES[soc.response],
        soc.response_midpoint**soc.response_steepness,
        soc.response_steepness,
        sc.run.dt,
        key,
        model.steps_done,
        base,
        sequential,
        new,
    )
    model.draws.used(used)
    return new
