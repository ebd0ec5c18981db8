"""The landscape as a component: exogenous drivers and how they act on the model
(``[[landscape]]`` entries).

The multi-level perspective's landscape (Geels 2002) is what no actor in the town steers:
energy prices, a crisis, incomes. Each ``[[landscape]]`` entry is a named driver whose level,
month by month, is a series (:mod:`bt_sim.landscape`: constant, one value per month, a CSV file,
a linear trend, a step that decays, or a random walk with its own stream), clipped to
``[lo, hi]``. The whole series is set at construction (a walk draws its moves from the
``landscape`` stream, keyed by the driver's name, so adding a driver leaves the others'
walks as they were); a run taken past its planned steps holds the last level.

Each driver acts through one documented coupling (``acts_on``); drivers on the same coupling
multiply:

* ``energy_price``: the money value of what a behaviour saves scales with the energy price, so
  a behaviour's cost weighs against it: the cost households face is divided by the level (a
  doubled energy price halves the weight of a heat pump's price; costless behaviours are not
  touched). The regime composes it with its own prices (:mod:`bt_sim.components.regime`).
* ``price``: a behaviour's price (``behaviour``; empty: every behaviour with a cost) is
  multiplied by the level.
* ``income``: every household's income is multiplied by the level (readiness weighs cost
  against income).
* ``trust``: members' trust in their hub is multiplied by the level's change since the last
  step (a shock that drops the level by a third cuts trust by a third; its recovery restores
  it in proportion), kept within [0, 1]; a household that joins a collective later starts
  afresh at ``hub.trust_initial``.
* ``attention``: the pull of outside sources (``social.p``, the media and campaigns) is
  multiplied by the level (a crisis raises attention).

The regime, not the landscape, holds financial conditions that the town's actors can change
(subsidies, prices that fall with adoption): see ``docs/ODD.md``.

Phase ``landscape`` before ``interventions`` (after the network organisation). Results per
step: each driver's level, named ``landscape:<driver>``. With no drivers nothing changes and
nothing is drawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from bt_sim import landscape as series
from bt_sim.component import Component
from bt_sim.components.regime import TOWN, late_transition, transition_share
from bt_sim.contrast import Contrast
from bt_sim.scenario.schema import COUPLINGS

if TYPE_CHECKING:
    from bt_sim.keyed import Keyed
    from bt_sim.scenario.schema import Driver


def levels_of(driver: Driver, months: np.ndarray, normals: np.ndarray | None) -> np.ndarray:
    """The levels of ``driver`` at ``months`` (``normals``: a walk's moves), clipped to
    ``[lo, hi]``; 1 everywhere for a driver switched off."""
    if not driver.enabled:
        return np.ones(months.size)
    kind = driver.kind
    if kind == "values":
        out = series.values_series(driver.values, months)
    elif kind == "file":
        at, values = series.read_series_csv(driver.file, driver.column or driver.name)
        out = series.table_series(at, values, months)
    elif kind == "trend":
        out = series.trend_series(driver.start, driver.slope, months)
    elif kind == "step":
        out = series.step_series(driver.start, driver.size, driver.month, driver.decay, months)
    elif kind == "walk":
        out = series.walk_series(driver.start, driver.sd, months, normals)
    else:
        out = series.constant_series(driver.start, months)
    return series.clip_series(out, driver.lo, driver.hi)


class Landscape(Component):
    """Exogenous drivers acting on prices, incomes, trust and attention (``[[landscape]]``)."""

    name = "landscape"
    section = "landscape"
    streams: ClassVar[dict[str, str]] = {
        "landscape": "the monthly moves of each random-walk driver (keyed by the driver)",
    }
    phases = (("landscape", "step"),)
    anchor = ("before", "interventions")
    dynamic = ()
    contrasts: ClassVar[tuple[Contrast, ...]] = (
        Contrast(
            "landscape: energy price stays -> doubles at month 24",
            ("landscape.energy.size=0",),
            ("landscape.energy.size=1",),
            transition_share,
            "raises",
            "dearer energy makes saving worth more: uptake of efficiency investments rises "
            "with energy prices (Gillingham, Newell & Palmer 2009)",
            base=TOWN,
        ),
        Contrast(
            "landscape: energy price stays -> falls by 40 % a decade",
            ("landscape.energy.kind=constant",),
            ("landscape.energy.kind=trend", "landscape.energy.slope=-0.04"),
            transition_share,
            "lowers",
            "cheaper energy makes saving worth less (Gillingham, Newell & Palmer 2009)",
            base=TOWN,
        ),
        Contrast(
            "landscape switched off: energy price shock 0 -> 1 makes no difference",
            ("landscape.energy.enabled=false", "landscape.energy.size=0"),
            ("landscape.energy.enabled=false", "landscape.energy.size=1"),
            late_transition,
            "same",
            "a driver switched off acts on nothing",
            base=TOWN,
            seeds=range(5),
        ),
    )

    def __init__(self, model):
        drivers = model.config.landscape
        # one series per driver (an instance's results: the drivers are the scenario's)
        self.results = {d.name: "relative" for d in drivers}
        super().__init__(model)

    def init_state(self, keyed: Keyed) -> None:
        model = self.model
        sc = model.config
        drivers = sc.landscape
        self.drivers = drivers
        steps = sc.run.steps
        months = series.step_months(steps, sc.run.dt)
        self.levels = np.ones((len(drivers), steps + 1))
        for i, d in enumerate(drivers):
            normals = None
            if d.kind == "walk" and d.enabled:
                normals = np.random.default_rng(_driver_seed(model, d.name)).standard_normal(steps)
            self.levels[i] = levels_of(d, months, normals)
        b = len(model.behaviour_names)
        costly = model.cost > 0
        self.targets = np.zeros((len(drivers), b), bool)  # price drivers' behaviours
        for i, d in enumerate(drivers):
            if d.acts_on == "price" and d.enabled:
                if d.behaviour:
                    self.targets[i, model.behaviour_names.index(d.behaviour)] = True
                else:
                    self.targets[i] = costly
        kinds = [d.acts_on if d.enabled else "" for d in drivers]
        #: the drivers acting on each coupling (indices)
        self.on = {k: [i for i, x in enumerate(kinds) if x == k] for k in COUPLINGS}
        self.active = any(d.enabled for d in drivers)
        #: what the regime composes into the cost households face
        self.energy = 1.0
        self.price = np.ones(b)
        self.acts_on_cost = bool(self.on["energy_price"] or self.on["price"])
        self.base_income = model.income_rel.copy()
        self._set(0)

    def _level(self, t: int) -> np.ndarray:
        return self.levels[:, min(t, self.levels.shape[1] - 1)]

    def _product(self, level: np.ndarray, kind: str) -> float:
        out = 1.0
        for i in self.on[kind]:
            out *= float(level[i])
        return out

    def _set(self, t: int) -> None:
        """Set the couplings to the levels of step ``t`` (prices, income, attention)."""
        if not self.active:
            return
        model = self.model
        level = self._level(t)
        self.energy = self._product(level, "energy_price")
        if self.on["price"]:
            price = np.ones(len(model.behaviour_names))
            for i in self.on["price"]:
                price[self.targets[i]] *= level[i]
            self.price = price
        if self.on["income"]:
            model.income_rel[:] = self.base_income * np.float32(self._product(level, "income"))
        model.p_scale = self._product(level, "attention")

    def step(self) -> None:
        """Landscape: each driver takes this month's level; prices, incomes, trust and
        attention follow their couplings."""
        if not self.active:
            return
        t = self.model.steps_done
        self._set(t)
        if self.on["trust"]:
            now = self._product(self._level(t), "trust")
            before = self._product(self._level(t - 1), "trust")
            if now != before and before > 0:  # (from a level of 0 there is no ratio)
                s = self.model.state
                s.trust[:] = np.clip(s.trust * (now / before), 0.0, 1.0).astype(np.float32)

    def update_results(self, step: int) -> None:
        level = self._level(step)
        for i, d in enumerate(self.drivers):
            self.result[d.name][step] = level[i]


def _driver_seed(model, name: str) -> np.random.SeedSequence:
    """The seed of a walk driver's moves: the run's ``landscape`` stream keyed by the driver's
    name (so one driver's walk does not depend on the others)."""
    import hashlib

    root = model.streams.sequence("landscape")
    word = int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "little")
    return np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, word))
