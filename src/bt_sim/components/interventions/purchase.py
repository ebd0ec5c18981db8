"""The collective purchase: members buy one behaviour together, at a discount.

When a round starts (the ``purchase`` phase, after the month's adoption, reflection and hub),
each collective picks the behaviour it buys: the entry's ``behaviour``, or, with none named,
the one that would save its members most if they took it (:func:`bt_sim.rules.collective.
campaign_choice`: the sum over members of readiness at the discounted cost, the open pairs
and the behaviour's saving). While the round runs and the collective carries it out, its
members adopt that behaviour at its cost less ``discount`` and are pulled towards it at
``pull_rate`` times the collective's remaining gap to its shared goal (a more ambitious goal,
more joint action; Kraaij et al. 2024). A stalled or dissolved collective drops its choice.
The default catalogue holds one (``purchase``: rounds of six months from month 6, back to
back), the model's joint-action campaign.
"""

from __future__ import annotations

import numpy as np

from bt_sim.components.interventions.kind import Kind
from bt_sim.components.interventions.schedule import started
from bt_sim.rules.collective import campaign_choice
from bt_sim.rules.social import household_readiness


class CollectivePurchase(Kind):
    """Members buy one behaviour together (``kind = "collective_purchase"``)."""

    kind = "collective_purchase"
    counts = "purchases"
    dynamic = ("focus", "running")

    def __init__(self, comp, index, entry):
        super().__init__(comp, index, entry)
        k = self.model.collectives.count
        self.focus = np.full(k, -1, np.int64)  # the behaviour bought (-1: none chosen)
        self.running = np.zeros(k, bool)  # carried out in this step
        names = self.model.behaviour_names
        self.fixed = names.index(entry.behaviour) if entry.behaviour else -1

    def prepare(self, active: np.ndarray) -> None:
        self.focus[~active] = -1  # no purchase while stalled

    def carry_out(self, ok: np.ndarray, inside: float) -> float:
        self.running = ok.copy()
        return float(np.count_nonzero(ok & (self.focus >= 0)))

    def idle(self) -> None:
        self.running[:] = False

    def starts(self, t0: float, t1: float) -> bool:
        """Whether a round starts in ``(t0, t1]``."""
        x = self.x
        return started(t1, x.start_month, x.every_months) > started(
            t0, x.start_month, x.every_months
        )

    def choose(self) -> None:
        """Each collective's behaviour for the round that starts."""
        model = self.model
        if self.fixed >= 0:
            self.focus[:] = self.fixed
            return
        s, colls = model.state, model.collectives
        rows = np.flatnonzero(s.member)
        ready = household_readiness(model, rows, discount=self.x.discount)
        self.focus = campaign_choice(
            ready, ~s.adopted[rows], model.kpi_effect, colls.of[rows], colls.count
        )
