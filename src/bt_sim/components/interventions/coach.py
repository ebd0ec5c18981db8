"""The energy coach: volunteers visit households at home, whom the target rule says first.

While a round runs, a collective owes ``visits_per_month`` visits a month; each step it makes
the whole visits owed (``hours_per_visit`` each) to the next households of its neighbourhood
in the order of the entry's ``target`` rule (:mod:`bt_sim.targeting`), each household once a
round. Visits the collective has no hours for lapse. A visit closes ``efficacy_gain`` of the
household's self-efficacy gap (verbal persuasion and modelling, Bandura 1997).
"""

from __future__ import annotations

import numpy as np

from bt_sim import targeting
from bt_sim.components.interventions.kind import Kind
from bt_sim.components.interventions.schedule import round_of


class EnergyCoach(Kind):
    """Home visits that build self-efficacy (``kind = "energy_coach"``)."""

    kind = "energy_coach"
    counts = "visits"
    dynamic = ("visited", "owed", "rounds", "orders", "visits")

    def __init__(self, comp, index, entry):
        super().__init__(comp, index, entry)
        n, k = self.model.population.n, self.model.collectives.count
        self.visited = np.zeros(n, bool)  # visited in the current round
        self.owed = np.zeros(k)
        self.rounds = np.full(k, -1, np.int64)
        self.orders: dict[int, np.ndarray] = {}
        self.visits = 0.0
        self._due = np.zeros(k)

    def cost(self, active: np.ndarray, inside: float) -> np.ndarray:
        x, model = self.x, self.model
        r = round_of(model.month - model.config.run.dt + inside, x.start_month, x.every_months)
        for c in np.flatnonzero(active & (self.rounds != r)):  # a new round
            self.rounds[c] = r
            self.visited[self.model.collectives.homes(int(c))] = False
            self.orders.pop(int(c), None)
        self.owed[active] += x.visits_per_month * inside
        self._due = np.where(active, np.floor(self.owed + 1e-9), 0.0)
        self.owed -= self._due  # visits due are made, or lapse for want of hours
        return self._due * x.hours_per_visit

    def carry_out(self, ok: np.ndarray, inside: float) -> float:
        done = 0
        for c in np.flatnonzero(ok & (self._due > 0)):
            done += self.visit(int(c), int(self._due[c]))
        self.visits += done
        return float(done)

    def visit(self, c: int, visits: int) -> int:
        """Visit the next ``visits`` households of collective ``c``'s order; returns how many
        were visited."""
        model, x = self.model, self.x
        order = self.orders.get(c)
        if order is None:
            colls = model.collectives
            order = self.orders[c] = targeting.order(
                x.target,
                colls.homes(c),
                self.comp.keyed,
                model.population,
                model.network,
                saving=model.state.saving,
                propensity=colls.usual,
                score=self.comp.scores(x.target),
            )
        todo = order[~self.visited[order]][:visits]
        if todo.size:
            self.visited[todo] = True
            e = model.state.efficacy
            e[todo] += np.float32(x.efficacy_gain) * (np.float32(1.0) - e[todo])
        return int(todo.size)

    def summary(self) -> dict[str, float]:
        return {"visits": self.visits}
