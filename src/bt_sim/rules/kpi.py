"""Measuring: each household's KPI (e.g. monthly energy use) over a step.

The KPI is the household's baseline times what its behaviours keep (``1 - kpi_effect`` each),
times what its everyday curtailment effort and its response to peer comparison keep, times a
month-to-month noise. The noise is an Ornstein-Uhlenbeck process in log space with stationary
spread ``mastery.kpi_noise`` and a correlation time of one month, mean-corrected so that it
does not shift the mean KPI: the same noise whatever the step length.

:func:`measure` is the reference form; the model runs it fused
(:func:`bt_sim.rules.fused.measure`), and the tests check that both agree.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from bt_sim.rules import fused

if TYPE_CHECKING:
    from bt_sim.model import TransitionModel

NOISE_MONTHS = 1.0  # correlation time of the KPI noise


def noise_coefficients(sd: float, dt: float) -> tuple[float, float, float]:
    """``(keep, scale, shift)`` of one step of the KPI noise.

    ``noise <- keep * noise + scale * z`` with ``keep = exp(-dt / 1 month)`` and
    ``scale = sd * sqrt(1 - keep^2)`` keeps the spread at ``sd`` for any ``dt``;
    ``exp(noise - sd^2 / 2)`` has mean 1.

    >>> keep, scale, shift = noise_coefficients(0.1, 1.0)
    >>> round(keep, 4), round(scale, 4), shift
    (0.3679, 0.093, 0.005000000000000001)
    """
    keep = math.exp(-dt / NOISE_MONTHS)
    return keep, sd * math.sqrt(1.0 - keep * keep), 0.5 * sd * sd


def measure(
    baseline: np.ndarray,
    adopted: np.ndarray,
    log_keep: np.ndarray,
    effort_saving: np.ndarray,
    peer: np.ndarray,
    noise: np.ndarray,
    shift: float,
) -> np.ndarray:
    """The KPI: ``baseline * prod_b (1 - e_b)^a_b * (1 - effort_saving) * (1 - peer) *
    exp(noise - shift)``, with ``log_keep = log(1 - e)``.

    >>> measure(np.array([100.0]), np.array([[1.0]]), np.log([0.9]), np.array([0.0]),
    ...         np.array([0.0]), np.array([0.0]), 0.0).round(6).tolist()
    [90.0]
    """
    factor = np.exp(adopted @ log_keep) * (1.0 - effort_saving) * (1.0 - peer)
    return baseline * factor * np.exp(noise - shift)


def measure_phase(model: TransitionModel) -> None:
    """Measure: effort relapses, the KPI noise moves, every KPI and saving is measured."""
    sc, s, pop = model.config, model.state, model.population
    m, dt = sc.mastery, sc.run.dt
    keep, scale, shift = noise_coefficients(m.kpi_noise, dt)
    noisy = m.kpi_noise > 0
    key, base, _ = model.draws.take("kpi_noise", model.steps_done)
    fused.measure(
        s.adopted,
        model.log_keep,
        pop.baseline_kpi,
        s.effort,
        m.effort_max,
        math.exp(-m.effort_relapse * dt),
        s.peer,
        s.noise,
        keep,
        scale,
        shift,
        noisy,
        key,
        model.steps_done,
        base,
        s.kpi,
        s.saving,
        s.cycle_sum,
        s.cycle_time,
        dt,
    )
    if noisy:
        model.draws.used(pop.n)
