"""The changing state of all households and collectives, as structs of arrays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class HouseholdState:
    """Everything about households that changes during a run (one row per household).

    Attributes
    ----------
    adopted : bool ndarray, shape (n, b)
        Which behaviours each household currently performs.
    proven : bool ndarray, shape (n, b)
        Behaviours the household performed through its last check and that check succeeded:
        what contacts see working (visible success per behaviour).
    efficacy : float32 ndarray
        Self-efficacy, 0..1.
    goal : float32 ndarray
        The goal held for the current plan-do-check-act cycle (a relative KPI saving).
    effort : float32 ndarray
        Everyday curtailment effort, 0..1 (saves ``mastery.effort_max`` at 1).
    kpi, saving : float32 ndarray
        Last measured KPI and its saving against the household's baseline.
    noise : float32 ndarray
        The KPI's month-to-month noise (log scale; an Ornstein-Uhlenbeck process).
    cycle_sum, cycle_time : float32 ndarray
        Saving integrated over the current cycle and the months it has run.
    perceived : float32 ndarray
        Perceived mean saving at the last check.
    success : bool ndarray
        Whether the last check met the goal.
    unmet : bool ndarray
        Whether the last check missed the goal (False before the first check).
    fails : int16 ndarray
        Failed checks in a row.
    member, consent : bool ndarray
        Member of the collective in its neighbourhood; member whose data the hub holds.
    compared : bool ndarray
        Got a peer comparison with the hub's latest release.
    peer : float32 ndarray
        Curtailment prompted by peer comparisons (fades at ``hub.peer_decay``).
    trust : float32 ndarray
        Trust in the collective's data hub, 0..1 (``hub.trust_initial`` at joining; moves
        towards the value each release gives).
    """

    adopted: np.ndarray
    proven: np.ndarray
    efficacy: np.ndarray
    goal: np.ndarray
    effort: np.ndarray
    kpi: np.ndarray
    saving: np.ndarray
    noise: np.ndarray
    cycle_sum: np.ndarray
    cycle_time: np.ndarray
    perceived: np.ndarray
    success: np.ndarray
    unmet: np.ndarray
    fails: np.ndarray
    member: np.ndarray
    consent: np.ndarray
    compared: np.ndarray
    peer: np.ndarray
    trust: np.ndarray


@dataclass
class CollectiveState:
    """The collectives' own state (one entry per collective).

    Attributes
    ----------
    saving : float64 ndarray
        Members' mean KPI saving (last step).
    progress : float64 ndarray
        ``saving / shared_goal``, clipped to [0, 1].
    celebrated : int64 ndarray
        Milestones (steps of ``collectives.milestone``) celebrated so far.
    """

    saving: np.ndarray
    progress: np.ndarray
    celebrated: np.ndarray
