"""Mastery learning: a household's KPI and its plan-do-check-act cycle.

Households set a goal (a relative KPI reduction), act, measure their KPI, and reflect. Meeting
the goal raises self-efficacy (Bandura 1977) and the next goal; missing it lowers self-efficacy,
adapts the goal downward (Locke & Latham 2002) and may lead to dropping reversible behaviours.
The quality of feedback sets how well the saving is perceived and how fast the household learns:
without feedback the perceived saving is noisy, a meter or the hub cut that error to a quarter
(Abrahamse et al. 2007 found goals plus feedback saved about 5%; Becker 1978 found 13-15% with
a hard goal and frequent feedback).

:func:`reflect` and :func:`drop` (with the perceived saving ``saving + sd * z``) are the
reference form of the check-act half; the model runs them fused
(:func:`bt_sim.rules.fused.reflect` and :func:`bt_sim.rules.fused.drop`), and the tests check
that both agree.
"""

from __future__ import annotations

import numpy as np

FEEDBACK_LEVELS = ("none", "meter", "hub")


def kpi(
    baseline: np.ndarray,
    adopted: np.ndarray,
    log_keep: np.ndarray,
    curtail: np.ndarray,
    noise_sd: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """The measured KPI this step.

    ``baseline * prod_b (1 - effect_b)^adopted_b * (1 - curtail) * exp(noise)``, computed as one
    matrix-vector product with ``log_keep = log(1 - effect)``.
    """
    factor = np.exp(adopted @ log_keep)
    noise = rng.standard_normal(baseline.shape[0], dtype=np.float32) * noise_sd
    return baseline * factor * (1.0 - curtail) * np.exp(noise)


def reflect(
    efficacy: np.ndarray,
    goal: np.ndarray,
    perceived: np.ndarray,
    learning: np.ndarray,
    gain: float,
    loss: float,
    step_up: float,
    step_down: float,
    goal_max: float,
    dt: float = 1.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The check-act half of the cycle, for a step of ``dt`` months.

    The parameters are monthly: over ``dt`` months a success closes a share
    ``1 - (1 - l*gain)^dt`` of the efficacy gap, and goals move by ``step * dt``, so a
    finer time step is a finer version of the same monthly model.

    Returns
    -------
    success : bool ndarray
        Whether the perceived saving met the goal.
    efficacy : ndarray
        ``e + l*gain*(1-e)`` after success, ``e - l*loss*e`` after failure (``l`` the learning
        speed of the household's feedback quality); stays in [0, 1].
    goal : ndarray
        Raised by ``step_up`` (capped at ``goal_max``) after success, cut by ``step_down``
        (floored at 0) after failure.

    Examples
    --------
    >>> s, e, g = reflect(np.array([0.5]), np.array([0.1]), np.array([0.2]), np.array([1.0]),
    ...                   0.2, 0.1, 0.02, 0.02, 0.5)
    >>> bool(s[0]), round(float(e[0]), 3), round(float(g[0]), 3)
    (True, 0.6, 0.12)
    """
    success = perceived >= goal
    up = efficacy + (1.0 - (1.0 - learning * gain) ** dt) * (1.0 - efficacy)
    down = efficacy - (1.0 - (1.0 - learning * loss) ** dt) * efficacy
    new_eff = np.where(success, up, down)
    new_goal = np.where(
        success,
        np.minimum(goal + step_up * dt, goal_max),
        np.maximum(goal - step_down * dt, 0.0),
    )
    return success, new_eff.astype(np.float32), new_goal.astype(np.float32)


def drop(
    adopted: np.ndarray,
    reversible: np.ndarray,
    failed: np.ndarray,
    efficacy: np.ndarray,
    rate: float,
    dt: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Reversible behaviours dropped after a failure; hazard ``rate * (1 - efficacy)``.

    Only the candidates (adopted, reversible, after a failure) draw a random number.
    """
    rows, cols = np.nonzero(adopted & reversible[None, :] & failed[:, None])
    hazard = -np.expm1(-rate * dt * (1.0 - efficacy[rows]))
    hit = rng.random(rows.shape[0], dtype=np.float32) < hazard
    out = np.zeros(adopted.shape, bool)
    out[rows[hit], cols[hit]] = True
    return out


def affordability(
    income: np.ndarray, median_income: float, cost: np.ndarray, cost_scale: float
) -> np.ndarray:
    """Share of uptake left after the cost barrier: ``1 / (1 + cost / (scale * income/median))``."""
    return 1.0 / (1.0 + cost[None, :] / (cost_scale * (income / median_income))[:, None])


def effort(time_budget: np.ndarray, difficulty: np.ndarray) -> np.ndarray:
    """Share of uptake left after the effort barrier: ``1 - difficulty * (1 - time budget)``."""
    return 1.0 - difficulty[None, :] * (1.0 - time_budget)[:, None]
