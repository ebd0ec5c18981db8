"""The gatekeeper programme: key figures bring in households that outreach misses.

While a round runs in a collective, outreach reaches the hard-to-reach households of its
neighbourhood (low literacy, not speaking the local language, or short of time: a time budget
below :data:`SHORT_OF_TIME`) ``join_gain`` times as strongly, and the ties of the
neighbourhood's key figures recruit ``join_gain`` times as much (trusted intermediaries reach
groups that formal outreach does not; Bamberg et al. 2015 on community-based initiatives,
Middlemiss 2011). With several programmes running in a collective the largest gain counts.
"""

from __future__ import annotations

import numpy as np

from bt_sim.components.interventions.kind import Kind

#: A household with less spare time than this (the population's ``time_budget``) is short
#: of time.
SHORT_OF_TIME = 0.25


def hard_to_reach(pop) -> np.ndarray:
    """Households with low literacy, not speaking the local language or short of time."""
    return pop.low_literacy | pop.non_native | (pop.time_budget < SHORT_OF_TIME)


class GatekeeperProgramme(Kind):
    """Key figures reach hard-to-reach households (``kind = "gatekeeper_programme"``)."""

    kind = "gatekeeper_programme"
    counts = "gatekeepers"

    def carry_out(self, ok: np.ndarray, inside: float) -> float:
        """Raise the collectives' outreach gain (applied by
        :meth:`bt_sim.components.interventions.Interventions.reach_out`)."""
        gain = self.comp.gain
        gain[ok] = np.maximum(gain[ok], self.x.join_gain)
        return float(np.count_nonzero(ok))
