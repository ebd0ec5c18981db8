"""Mastery learning as a component: meters, the plan-do-check-act schedule and reflection.

State: ``meter`` (who has a smart meter), ``check_offset`` (each household's phase in its
cycle), ``next_check`` (the month of its next check) and ``feedback`` (the perception error,
learning speed and reliability of each feedback level). Phase: ``reflect``
(:func:`bt_sim.rules.mastery.reflect_phase`). Streams: ``perception`` and ``drop``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from bt_sim.component import Component
from bt_sim.contrast import Contrast
from bt_sim.rules import mastery

if TYPE_CHECKING:
    from bt_sim.keyed import Keyed


DOUBLE_EFFECTS = (
    "behaviours.lower_thermostat.kpi_effect=0.12",
    "behaviours.shorter_showers.kpi_effect=0.08",
    "behaviours.draught_proofing.kpi_effect=0.1",
    "behaviours.insulation.kpi_effect=0.3",
    "behaviours.heat_pump.kpi_effect=0.6",
)


class Mastery(Component):
    """Goals, checks and learning from them (``[mastery]``)."""

    name = "mastery"
    section = "mastery"
    streams: ClassVar[dict[str, str]] = {
        "perception": "error of a household's perceived saving at a check",
        "drop": "dropping a reversible behaviour after a failed check",
    }
    phases = (("reflect", mastery.reflect_phase),)
    anchor = ("before", "record")
    dynamic = ("next_check",)
    contrasts: ClassVar[tuple[Contrast, ...]] = (
        Contrast(
            "feedback: smart meters for none -> all",
            ("mastery.meter_share=0",),
            ("mastery.meter_share=1",),
            "kpi_saving",
            "raises",
            "feedback on energy use saves a few % (Abrahamse et al. 2007; Fischer 2008)",
            min_effect=0.005,
        ),
        Contrast(
            "feedback: learning speed without feedback 0.3 -> 1",
            ("mastery.learning_none=0.3",),
            ("mastery.learning_none=1",),
            "kpi_saving",
            "raises",
            "faster learning from results holds more effort (Carver & Scheier 1982)",
        ),
        Contrast(
            "feedback: perception error 0.3 -> 0",
            ("mastery.perception_noise=0.3",),
            ("mastery.perception_noise=0",),
            "kpi_saving",
            "raises",
            "a reliable signal lets households see what delivers (Fischer 2008)",
        ),
        Contrast(
            "goals: mastery learning off -> on",
            ("mastery.enabled=false",),
            ("mastery.enabled=true",),
            "kpi_saving",
            "raises",
            "goals with feedback save 5-15 % (Becker 1978; Abrahamse et al. 2007)",
        ),
        Contrast(
            "self-efficacy: every kpi_effect x2",
            (),
            DOUBLE_EFFECTS,
            "mean_efficacy",
            "raises",
            "mastery experiences build self-efficacy (Bandura 1977)",
        ),
    )

    def init_state(self, keyed: Keyed) -> None:
        m = self.model.config.mastery
        n = self.model.population.n
        self.feedback = mastery.feedback_terms(
            m.perception_noise,
            m.feedback_noise_divisor,
            m.signal_sd,
            (m.learning_none, m.learning_meter, m.learning_hub),
        )
        self.meter = keyed.sub("meter").uniform(n) < m.meter_share
        self.check_offset = keyed.sub("check_offset").uniform(n) * m.cycle_months
        self.next_check = m.cycle_months - self.check_offset  # first check, in months

    def feedback_level(self) -> np.ndarray:
        """Feedback quality per household: 0 none, 1 meter, 2 hub."""
        return mastery.feedback_level(self.model)
