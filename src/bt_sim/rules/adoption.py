"""The adoption phase: who starts performing which behaviour this step.

Under ``social.rule = "full"`` the rate of :func:`bt_sim.rules.social.full_rate` plus joint
action in collectives, run as one fused pass (:func:`bt_sim.rules.fused.full_adoption`); under
the special cases (``bass``, ``threshold``, ``complex``) the classic hazards of
:mod:`bt_sim.rules.social`, which read nothing else of the model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from bt_sim.rules import collective as coll
from bt_sim.rules import fused, social
from bt_sim.rules.social import RESPONSES

if TYPE_CHECKING:
    from bt_sim.model import TransitionModel


def adopt_phase(model: TransitionModel) -> None:
    """Adopt: exposure to contacts (and fellow members), then one draw per open pair."""
    s = model.state
    if model.config.social.rule == "full":
        x = full_inputs(model)
        model.exposure = (x["exposure"], x["denom"])
        s.adopted |= full_adoption_from(model, x)
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
        a = s.adopted.astype(np.float32)
        if soc.rule == "threshold":
            sums, denom, level = model.adjacency @ a, model.wdeg, model.theta
        else:
            sums, denom = model.pattern @ a, np.ones(a.shape[0], np.float32)
            level = np.full(a.shape[0], soc.contacts_needed, np.float32)
        fused.reach_threshold(sums, denom, level, s.adopted, model.eligible, new)
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

    Used by the fused kernel and by the tests, which check it against the reference rules.
    """
    sc, s = model.config, model.state
    soc = sc.social
    w = soc.success_weight if sc.mastery.enabled else 0.0  # nobody checks: no success shown
    n, nb = s.adopted.shape
    key = model.population.gatekeeper
    if model.adjacency is None:
        visible, weight = social.role_weights(
            s.success, s.proven, s.adopted, key, w, soc.key_figure_weight
        )
        exposure, denom = social.role_shares(None, visible, weight)
    else:
        shown = np.empty((n, nb + 1), np.float32)
        fused.role_matrix(s.adopted, s.proven, s.success, key, w, soc.key_figure_weight, shown)
        sums = model.adjacency @ shown
        exposure, denom = sums[:, :nb], sums[:, nb]
    member_pos = np.full(n, -1, np.int64)
    fellow = np.zeros((1, nb), np.float32)
    joint = np.zeros(n, np.float32)
    focus = np.full(n, -1, np.int64)
    if model.n_collectives:
        rows = np.flatnonzero(s.member)
        member_pos[rows] = np.arange(rows.size)
        c = model.collective_of[rows]
        if soc.collective_weight > 0:
            fellow = coll.fellow_member_share(
                c, s.adopted[rows].astype(np.float32), model.n_collectives
            )
        cs = model.cstate
        joint[rows] = sc.collectives.joint_rate * (1.0 - cs.progress[c])
        focus[rows] = cs.focus[c]
    unmet = s.unmet if sc.mastery.enabled else np.zeros(n, bool)
    return {
        "exposure": exposure,
        "denom": denom,
        "member_pos": member_pos,
        "fellow": fellow,
        "joint": joint,
        "focus": focus,
        "unmet": unmet.astype(np.float32),
    }


def full_adoption_from(model: TransitionModel, x: dict) -> np.ndarray:
    """New adoptions under the full rule given the inputs ``x``; the draws are the adoption
    stream's at this step (:mod:`bt_sim.draws`)."""
    sc, s = model.config, model.state
    soc = sc.social
    new = np.empty(s.adopted.shape, bool)
    key, base, sequential = model.draws.take("adopt", model.steps_done)
    _, used = fused.full_adoption(
        x["exposure"],
        x["denom"],
        s.adopted,
        model.eligible,
        model.income_rel,
        model.population.time_budget,
        model.cost,
        model.difficulty,
        s.efficacy,
        x["unmet"],
        x["member_pos"],
        x["fellow"],
        soc.collective_weight,
        x["joint"],
        x["focus"],
        sc.collectives.joint_discount,
        soc.p,
        soc.q,
        sc.mastery.action_rate if sc.mastery.enabled else 0.0,
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
