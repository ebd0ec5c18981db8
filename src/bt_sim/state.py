"""The changing state of all households, as a struct of arrays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class HouseholdState:
    """Everything about households that changes during a run.

    Attributes
    ----------
    adopted : bool ndarray, shape (n, b)
        Which behaviours each household currently performs.
    efficacy : float32 ndarray
        Self-efficacy, 0..1.
    goal : float32 ndarray
        Current goal: the relative KPI reduction aimed for.
    kpi : float32 ndarray
        Last measured KPI.
    success : bool ndarray
        Whether the last reflection met the goal.
    member : bool ndarray
        Member of the collective in its neighbourhood.
    consent : bool ndarray
        Member whose data the hub holds (consent given and not revoked).
    curtail : float32 ndarray
        Curtailment prompted by the last peer comparison.
    compared : bool ndarray
        Got a peer comparison from the hub last step.
    """

    adopted: np.ndarray
    efficacy: np.ndarray
    goal: np.ndarray
    kpi: np.ndarray
    success: np.ndarray
    member: np.ndarray
    consent: np.ndarray
    curtail: np.ndarray
    compared: np.ndarray
