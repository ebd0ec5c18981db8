"""Mastery learning: goals held for a plan-do-check-act cycle, checks, effort and self-efficacy.

Each household runs its own cycle of ``mastery.cycle_months`` (its phase drawn at the start).
During a cycle it holds its goal (a relative KPI saving) and acts; at the end of the cycle it
*checks*: it compares the mean saving it perceived over the cycle with its goal.

* **Perception.** The perceived saving is the cycle's mean saving plus an error of spread
  ``mastery.perception_noise``, divided by ``mastery.feedback_noise_divisor`` for households
  with a meter or the hub. The reliability of what a household sees is
  ``R = sd^2 / (sd^2 + error^2)`` (``sd = mastery.signal_sd``, the size of a real goal gap):
  how far it can trust the measured gap and tell which of its behaviours deliver.
* **Self-efficacy** follows performance (Bandura 1977): a successful check closes a share
  ``l * efficacy_gain`` of the gap to 1, a failed one takes ``l * efficacy_loss`` of it away,
  ``l`` the learning speed of the household's feedback (none, meter, hub).
* **Effort** (everyday curtailment) is regulated by the perceived gap, as a feedback loop:
  ``effort += l * R * effort_gain * (goal - perceived)`` (Carver & Scheier 1982), and relapses
  into old habits at ``mastery.effort_relapse`` per month between checks. Better feedback
  (faster learning, a more reliable signal) holds more effort against relapse: feedback on
  energy use saves a few percent (Abrahamse et al. 2007; Fischer 2008), more with a goal
  (Becker 1978).
* **Goals** do not simply follow the result (Locke & Latham 2002): a success raises the goal by
  ``goal_step_up``; only ``goal_patience`` failures in a row lower it by ``goal_step_down``,
  never below ``goal_initial`` nor above ``goal_max``.
* **Dropping.** After a failed check a reversible behaviour is dropped with probability
  ``drop_chance * (1 - efficacy) * (1 - R) * (1 - social.norm_support * f(s))``: a household
  that sees its behaviours deliver keeps them, and so does one whose contacts visibly keep
  them (``f(s)`` the exposure response to them; maintenance needs social support, Kwasnicka
  et al. 2016). Committed early adopters never drop.

:func:`reflect` and :func:`drop` are the reference form; the model runs them fused
(:func:`bt_sim.rules.fused.reflect` and :func:`bt_sim.rules.fused.drop`), and the tests check
that both agree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from bt_sim.rules import fused
from bt_sim.rules.social import RESPONSES

if TYPE_CHECKING:
    from bt_sim.model import TransitionModel

FEEDBACK_LEVELS = ("none", "meter", "hub")


def checks_due(offset: np.ndarray, cycle: float, t0: float, t1: float) -> np.ndarray:
    """Households whose cycle ends in the step from month ``t0`` to ``t1``.

    A household with phase ``offset`` (months, in ``[0, cycle)``) checks at the months
    ``k * cycle - offset``; a step that covers several of them checks once.

    >>> checks_due(np.array([0.0, 1.5, 2.9]), 3.0, 0.0, 1.0).tolist()  # the third at 0.1
    [2]
    >>> checks_due(np.array([0.0, 1.5, 2.9]), 3.0, 1.0, 2.0).tolist()
    [1]
    """
    k0 = np.floor((t0 + offset) / cycle)
    k1 = np.floor((t1 + offset) / cycle)
    return np.flatnonzero(k1 > k0)


def feedback_terms(
    perception_noise: float,
    divisor: float,
    signal_sd: float,
    learning: tuple[float, float, float],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Perception error, learning speed and reliability for each feedback level.

    >>> sd, lr, rel = feedback_terms(0.08, 4.0, 0.04, (0.3, 0.7, 1.0))
    >>> sd.round(3).tolist(), rel.round(2).tolist()
    ([0.08, 0.02, 0.02], [0.2, 0.8, 0.8])
    """
    sd = np.array([perception_noise, perception_noise / divisor, perception_noise / divisor])
    rel = signal_sd**2 / (signal_sd**2 + sd**2)
    return sd, np.asarray(learning, dtype=np.float64), rel


def reflect(
    perceived: np.ndarray,
    goal: np.ndarray,
    efficacy: np.ndarray,
    effort: np.ndarray,
    fails: np.ndarray,
    learning: np.ndarray,
    reliability: np.ndarray,
    gain: float,
    loss: float,
    effort_gain: float,
    step_up: float,
    step_down: float,
    patience: int,
    goal_floor: float,
    goal_max: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The check-act half of the cycle for checking households (arrays over them).

    Returns
    -------
    success, efficacy, effort, goal, fails
        ``success = perceived >= goal``; the new self-efficacy, effort (in [0, 1]), goal and
        count of failures in a row (see the module docstring).

    Examples
    --------
    >>> out = reflect(np.array([0.06]), np.array([0.05]), np.array([0.5]), np.array([0.2]),
    ...               np.array([0]), np.array([1.0]), np.array([1.0]), 0.2, 0.1, 4.0,
    ...               0.01, 0.01, 2, 0.05, 0.5)
    >>> [round(float(a[0]), 3) for a in out]
    [1.0, 0.6, 0.16, 0.06, 0.0]
    """
    success = perceived >= goal
    new_eff = np.where(
        success, efficacy + learning * gain * (1 - efficacy), efficacy - learning * loss * efficacy
    )
    new_effort = np.clip(effort + learning * reliability * effort_gain * (goal - perceived), 0, 1)
    f = np.where(success, 0, fails + 1)
    lower = ~success & (f >= patience)
    new_goal = np.where(
        success,
        np.minimum(goal + step_up, goal_max),
        np.where(lower, np.maximum(goal - step_down, goal_floor), goal),
    )
    return success, new_eff, new_effort, new_goal, np.where(lower, 0, f)


def drop(
    adopted: np.ndarray,
    droppable: np.ndarray,
    failed: np.ndarray,
    efficacy: np.ndarray,
    reliability: np.ndarray,
    support: np.ndarray,
    chance: float,
    norm: float,
    u: np.ndarray,
) -> np.ndarray:
    """Behaviours dropped after a failed check (arrays over checking households).

    Candidates (adopted, droppable, failed) use the uniforms ``u`` in household then
    behaviour order; each is dropped with probability
    ``chance * (1 - efficacy) * (1 - reliability) * (1 - norm * support)``, ``support`` the
    exposure response to contacts visibly performing the behaviour (shape (m, b)).
    """
    rows, cols = np.nonzero(adopted & droppable & failed[:, None])
    prob = (
        chance
        * (1.0 - efficacy[rows])
        * (1.0 - reliability[rows])
        * (1.0 - norm * support[rows, cols])
    )
    hit = u[: rows.size] < prob
    out = np.zeros(adopted.shape, bool)
    out[rows[hit], cols[hit]] = True
    return out


def feedback_level(model: TransitionModel, rows: np.ndarray | None = None) -> np.ndarray:
    """Feedback quality of households ``rows`` (all by default): 0 none, 1 meter, 2 hub.

    A household sharing data with the hub sees its own KPI there (at least 'meter'), and gets
    'hub' feedback while its peer group is published (a peer comparison).
    """
    s = model.state
    idx = slice(None) if rows is None else rows
    level = model.mastery.meter[idx].astype(np.int8)
    if model.hub.active:
        consent = s.consent[idx]
        level[consent] = 1
        level[consent & s.compared[idx]] = 2
    return level


def advance_checks(next_check: np.ndarray, cycle: float, month: float) -> np.ndarray:
    """Households whose next check falls by ``month``; their next check moves one cycle on
    (several if a step is longer than a cycle). Same households as :func:`checks_due`.

    >>> nxt = np.array([3.0, 1.5, 0.1])
    >>> advance_checks(nxt, 3.0, 2.0).tolist(), nxt.tolist()
    ([1, 2], [3.0, 4.5, 3.1])
    """
    rows = np.flatnonzero(next_check <= month + 1e-9)
    if rows.size:
        behind = month - next_check[rows]
        next_check[rows] += cycle * (np.floor(behind / cycle + 1e-9) + 1.0)
    return rows


@njit(cache=True, nogil=True, error_model="numpy")
def due_checks(next_check, cycle, month, meter, consent, compared, hub_active):
    """Households whose check falls by ``month`` and their feedback level, in one pass: the
    rows of :func:`advance_checks` (whose next check moves on as there) and the levels of
    :func:`feedback_level`."""
    n = next_check.shape[0]
    due_by = month + 1e-9
    count = 0
    for i in range(n):  # the due households counted first: no buffer as long as everyone
        count += next_check[i] <= due_by
    rows = np.empty(count + 1, np.int64)  # the last slot takes the writes after the last due
    level = np.empty(count + 1, np.int8)
    k = 0
    for i in range(n):  # without a branch: a third of households may be due, at random
        nxt = next_check[i]
        due = nxt <= due_by
        behind = month - nxt
        moved = nxt + cycle * (np.floor(behind / cycle + 1e-9) + 1.0)
        next_check[i] = moved if due else nxt
        rows[k] = i
        lv = np.int8(1) if meter[i] else np.int8(0)
        lv = (np.int8(2) if compared[i] else np.int8(1)) if hub_active and consent[i] else lv
        level[k] = lv
        k += due
    return rows[:k], level[:k]


def reflect_phase(model: TransitionModel) -> None:
    """Reflect: households at the end of their cycle check their saving against their goal."""
    sc, s = model.config, model.state
    m = sc.mastery
    if not m.enabled:
        return
    rows, level = due_checks(
        model.mastery.next_check,
        m.cycle_months,
        model.month,
        model.mastery.meter,
        s.consent,
        s.compared,
        model.hub.active,
    )
    if rows.size == 0:
        return
    sd, learning, rel = model.mastery.feedback
    step = model.steps_done
    key, base, sequential = model.draws.take("perception", step)
    failed = np.empty(rows.size, np.int64)
    candidates, n_failed = fused.reflect(
        rows,
        key,
        step,
        base,
        sequential,
        level,
        sd,
        learning,
        rel,
        s.efficacy,
        s.goal,
        s.effort,
        s.cycle_sum,
        s.cycle_time,
        s.perceived,
        s.success,
        s.unmet,
        s.fails,
        s.adopted,
        s.proven,
        model.droppable,
        m.efficacy_gain,
        m.efficacy_loss,
        m.effort_gain,
        m.goal_step_up,
        m.goal_step_down,
        m.goal_patience,
        m.goal_initial,
        m.goal_max,
        failed,
    )
    model.draws.used(rows.size)
    if candidates and m.drop_chance > 0 and sc.social.rule == "full":
        soc = sc.social
        key, base, sequential = model.draws.take("drop", step)
        which = failed[:n_failed]  # the rows with something to drop, in order
        _, used = fused.drop(
            rows[which],
            s.success,
            level[which],
            rel,
            s.efficacy,
            s.adopted,
            model.droppable,
            m.drop_chance,
            *model.ties.exposure_args(),
            soc.norm_support,
            RESPONSES[soc.response],
            soc.response_midpoint**soc.response_steepness,
            soc.response_steepness,
            key,
            step,
            base,
            sequential,
        )
        model.draws.used(used)
