"""Components of one's own, as a user would write them (used by tests/test_components.py and
shown in the README)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from bt_sim import Component


class Subsidy(Component):
    """Halve the price of insulation from month 24 on."""

    name = "subsidy"
    phases = (("subsidy", "step"),)
    anchor = ("before", "adopt")
    results: ClassVar[dict[str, str]] = {"price": "EUR"}
    behaviour = "insulation"
    start_month = 24.0
    share = 0.5

    def init_state(self, keyed):
        self.j = self.model.behaviour_names.index(self.behaviour)
        self.full_price = float(self.model.cost[self.j])

    def step(self):
        """Halve the price of insulation from month 24 on."""
        on = self.model.month >= self.start_month
        self.model.cost[self.j] = self.full_price * (1.0 - self.share if on else 1.0)

    def update_results(self, step):
        self.result["price"][step] = self.model.cost[self.j]

    def summary(self):
        return {"months_subsidised": max(self.model.month - self.start_month + 1.0, 0.0)}


class Lottery(Component):
    """Once a year, a random 1 % of households win a visit that raises their self-efficacy."""

    name = "lottery"
    streams: ClassVar[dict[str, str]] = {"lottery": "who wins the yearly visit (one per household)"}
    phases = (("lottery", "draw"),)
    anchor = ("after", "reflect")
    results: ClassVar[dict[str, str]] = {"winners": "households"}
    dynamic = ("won",)

    def init_state(self, keyed):
        self.won = np.zeros(self.model.population.n, bool)
        self.last = 0

    def draw(self):
        """A yearly draw of winners, whose self-efficacy rises by 0.1."""
        model = self.model
        if model.month % 12 != 0:
            self.last = 0
            return
        n = model.population.n
        u = model.draws.uniform("lottery", model.steps_done, np.arange(n))
        model.draws.used(n)
        win = u < 0.01
        self.won |= win
        self.last = int(win.sum())
        e = model.state.efficacy
        e[win] = np.minimum(e[win] + np.float32(0.1), np.float32(1.0))

    def update_results(self, step):
        self.result["winners"][step] = self.last
