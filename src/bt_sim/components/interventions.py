"""Interventions (building blocks) as a component: what collectives do, when, and at what cost.

The scenario's ``[[interventions]]`` catalogue lists the building blocks every active
collective carries out, each on a dated schedule (a first round from ``start_month`` for
``months``, again every ``every_months``; a step counts the months of it inside a round, so
visits and hours do not depend on the step length) and each paid
for in volunteer hours from the collective's budget (its volunteers times
``collectives.volunteer_hours`` a month, :mod:`bt_sim.components.capacity`). A collective
pays for its interventions in catalogue order; one whose budget does not cover an
intervention's hours in a step does not carry it out that step, and the outputs count it.
Stalled and dissolved collectives carry out nothing.

Kinds:

* ``energy_coach``: volunteers visit ``visits_per_month`` households a month in the
  collective's neighbourhood, in the order of the ``target`` rule (:mod:`bt_sim.targeting`),
  each household once per round; a visit closes ``efficacy_gain`` of the household's
  self-efficacy gap (``hours_per_visit`` each).
* ``feedback_dashboard``: while a round runs, the collective's members see their own use as
  a smart meter shows it (meter-quality feedback: the meter's perception error and learning
  speed, section 3.4.6 of the ODD); ``hours_per_month`` to run.

State: per intervention, the households visited in the current round and the visits owed
(coach), and which members a dashboard reaches now; the households' own meters are kept apart
(``base_meter``). Phase ``interventions`` before ``adopt``; no random numbers (the coach's
order breaks ties by the ``interventions`` sub-stream of ``initial``, keyed by household).
Results per step: ``visits``, ``dashboards`` (collectives with one running) and ``refused``
(collective-interventions not carried out for want of hours); the summary adds, per
intervention, ``<name>:carried_months`` and ``<name>:refused_months`` (collective-months),
and for a coach ``<name>:visits``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from bt_sim import targeting
from bt_sim.component import Component
from bt_sim.components.capacity import ACTIVE
from bt_sim.components.hub import member_saving
from bt_sim.contrast import Contrast

if TYPE_CHECKING:
    from bt_sim.keyed import Keyed

EXAMPLE = "interventions.toml"  # the bundled scenario with a coach and a dashboard


def overlap(t0: float, t1: float, start: float, months: float, every: float) -> float:
    """Months of the step ``(t0, t1]`` that fall inside a round: rounds start at ``start``
    and last ``months``, one only (``every = 0``) or one every ``every`` months. Dated, so
    the visits and hours of a round do not depend on the step length.

    >>> [overlap(m - 1, m, 6.0, 3.0, 12.0) for m in (6, 7, 9, 10, 19, 22)]
    [0.0, 1.0, 1.0, 0.0, 1.0, 0.0]
    >>> overlap(5.5, 6.5, 6.0, 3.0, 0.0)
    0.5
    """
    if t1 <= start:
        return 0.0
    if every <= 0:
        return max(0.0, min(t1, start + months) - max(t0, start))
    total = 0.0
    first = max(math.floor((t0 - start) / every), 0)
    last = math.floor((t1 - start) / every)
    for k in range(first, last + 1):
        a = start + k * every
        total += max(0.0, min(t1, a + months) - max(t0, a))
    return total


def round_of(month: float, start: float, every: float) -> int:
    """The number of the round that ``month`` falls in (0 for the first).

    >>> round_of(20.0, 6.0, 12.0), round_of(20.0, 6.0, 0.0)
    (1, 0)
    """
    if every <= 0:
        return 0
    return max(math.floor((month - start) / every + 1e-9), 0)


class Interventions(Component):
    """The collectives' building blocks (``[[interventions]]``)."""

    name = "interventions"
    section = "interventions"
    phases = (("interventions", "step"),)
    anchor = ("before", "adopt")
    requires = ("collectives", "capacity", "mastery")
    results: ClassVar[dict[str, str]] = {
        "visits": "households",
        "dashboards": "collectives",
        "refused": "collective-interventions",
    }
    dynamic = ("visited", "owed", "rounds", "orders", "totals", "dashboard")
    contrasts: ClassVar[tuple[Contrast, ...]] = (
        Contrast(
            "energy coach: off -> on (2 visits a month, disadvantaged first)",
            ("interventions.coach.enabled=false",),
            ("interventions.coach.enabled=true",),
            "mean_efficacy",
            "raises",
            "home visits and coaching build self-efficacy by verbal persuasion and modelling "
            "(Bandura 1997; Abrahamse et al. 2005)",
            common=("interventions.dashboard.enabled=false",),
            base=EXAMPLE,
        ),
        Contrast(
            "feedback dashboard: off -> on for members",
            ("interventions.dashboard.enabled=false",),
            ("interventions.dashboard.enabled=true",),
            member_saving,
            "raises",
            "feedback on energy use saves a few % (Fischer 2008; Abrahamse et al. 2005)",
            common=("interventions.coach.enabled=false",),
            base=EXAMPLE,
            seeds=range(40),  # a small effect (members only, 30 % have meters already)
        ),
    )

    def init_state(self, keyed: Keyed) -> None:
        model = self.model
        n, k = model.population.n, model.collectives.count
        self.catalogue = model.config.interventions
        self.keyed = keyed.sub("interventions")
        self.base_meter = model.mastery.meter.copy()
        self.visited = [np.zeros(n, bool) for _ in self.catalogue]
        self.owed = [np.zeros(k) for _ in self.catalogue]
        self.rounds = [np.full(k, -1, np.int64) for _ in self.catalogue]
        self.orders: list[dict[int, np.ndarray]] = [{} for _ in self.catalogue]
        self.totals = {x.name: [0.0, 0.0, 0.0] for x in self.catalogue}  # visits, carried, refused
        self.dashboard = np.zeros(n, bool)
        self.step_counts = [0, 0, 0]
        self.bounds = model.population.neighbourhood_bounds()
        self._scores: dict[str, np.ndarray | None] = {}  # each rule's scores, once a step

    def step(self) -> None:
        """Interventions: each active collective carries out the building blocks that run now,
        in catalogue order, as far as its volunteers' hours go."""
        model = self.model
        self.step_counts = [0, 0, 0]
        if not self.catalogue or model.collectives.count == 0:
            return
        colls, cap = model.collectives, model.capacity
        dt, month = model.config.run.dt, model.month
        active = cap.status == ACTIVE
        budget = np.where(active, cap.volunteers * model.config.collectives.volunteer_hours * dt, 0)
        on = np.zeros(colls.count, bool)  # collectives whose dashboard runs this step
        self._scores.clear()
        for i, x in enumerate(self.catalogue):
            inside = overlap(month - dt, month, x.start_month, x.months, x.every_months)
            if not x.enabled or inside <= 1e-12:
                continue
            if x.kind == "energy_coach":
                r = round_of(month - dt + inside, x.start_month, x.every_months)
                for c in np.flatnonzero(active & (self.rounds[i] != r)):  # a new round
                    self.rounds[i][c] = r
                    self.visited[i][self.homes(int(c))] = False
                    self.orders[i].pop(int(c), None)
                owed = self.owed[i]
                owed[active] += x.visits_per_month * inside
                visits = np.where(active, np.floor(owed + 1e-9), 0.0)
                cost = visits * x.hours_per_visit
                owed -= visits  # visits due are made, or lapse for want of hours
            else:
                visits = np.zeros(colls.count)
                cost = np.full(colls.count, x.hours_per_month * inside)
            ok = active & (cost <= budget + 1e-9)
            refused = active & ~ok
            budget[ok] -= cost[ok]
            self.totals[x.name][1] += inside * np.count_nonzero(ok)
            self.totals[x.name][2] += inside * np.count_nonzero(refused)
            self.step_counts[2] += int(np.count_nonzero(refused))
            if x.kind == "energy_coach":
                for c in np.flatnonzero(ok & (visits > 0)):
                    done = self.visit(i, x, int(c), int(visits[c]))
                    self.totals[x.name][0] += done
                    self.step_counts[0] += done
            else:
                on |= ok
                self.step_counts[1] += int(np.count_nonzero(ok))
        if not on.any() and not self.dashboard.any():
            return  # no dashboard now or before: the meters are the households' own
        of = colls.of
        self.dashboard = model.state.member & (of >= 0) & on[np.maximum(of, 0)]
        model.mastery.meter[:] = self.base_meter | self.dashboard

    def homes(self, c: int) -> slice:
        """The households of collective ``c``'s neighbourhood (a contiguous range)."""
        nb = self.model.collectives.nbhd[c]
        return slice(int(self.bounds[nb]), int(self.bounds[nb + 1]))

    def visit(self, i: int, x, c: int, visits: int) -> int:
        """Visit the next ``visits`` households of collective ``c``'s order under
        intervention ``i``; returns how many were visited."""
        model = self.model
        order = self.orders[i].get(c)
        if order is None:
            span = self.homes(c)
            homes = np.arange(span.start, span.stop)
            pop, net, colls = model.population, model.network, model.collectives
            if x.target not in self._scores:
                self._scores[x.target] = targeting.scores(
                    x.target, pop, net, model.state.saving, colls.propensity
                )
            order = self.orders[i][c] = targeting.order(
                x.target,
                homes,
                self.keyed,
                pop,
                net,
                saving=model.state.saving,
                propensity=colls.propensity,
                score=self._scores[x.target],
            )
        todo = order[~self.visited[i][order]][:visits]
        if todo.size:
            self.visited[i][todo] = True
            e = model.state.efficacy
            e[todo] += np.float32(x.efficacy_gain) * (np.float32(1.0) - e[todo])
        return int(todo.size)

    def update_results(self, step: int) -> None:
        for name, value in zip(self.results, self.step_counts, strict=True):
            self.result[name][step] = value

    def summary(self) -> dict[str, float]:
        out = {}
        for x in self.catalogue:
            visits, carried, refused = self.totals[x.name]
            name = x.name
            if x.kind == "energy_coach":
                out[f"{name}:visits"] = visits
            out[f"{name}:carried_months"] = carried
            out[f"{name}:refused_months"] = refused
        return out
