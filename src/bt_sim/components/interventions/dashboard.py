"""The feedback dashboard: members see their own use as a smart meter shows it.

While a round runs in a collective, its members get meter-quality feedback (the meter's
perception error and learning speed, section 3.4.6 of the ODD); the households' own meters
are kept apart (``base_meter``) and come back when no dashboard runs for them.
"""

from __future__ import annotations

import numpy as np

from bt_sim.components.interventions.kind import Kind


class FeedbackDashboard(Kind):
    """Members see their own use (``kind = "feedback_dashboard"``)."""

    kind = "feedback_dashboard"
    counts = "dashboards"

    @classmethod
    def apply(cls, comp, on: np.ndarray) -> None:
        if not on.any() and not comp.dashboard.any():
            return  # no dashboard now or before: the meters are the households' own
        model = comp.model
        of = model.collectives.of
        comp.dashboard = model.state.member & (of >= 0) & on[np.maximum(of, 0)]
        model.mastery.meter[:] = comp.base_meter | comp.dashboard
