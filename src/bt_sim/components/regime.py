"""The regime as a component: lock-in, increasing returns and cost learning (``[regime]``
and each behaviour's ``resistance``, ``learning_rate`` and ``price_floor``).

The multi-level perspective's regime (Geels 2002) holds the rules, prices, infrastructure and
habits that keep current practice in place. Here it does three things, each a loop that can
be switched off:

* **Lock-in** (``regime.lock_in``): behaviour ``b``'s resistance ``R_b`` (habits, missing
  infrastructure, incumbents' offers) lowers its adoption hazard: readiness is multiplied by
  ``1 - R_b(t)`` (``model.pull``; :func:`bt_sim.rules.social.household_readiness`), under the
  full adoption rule (the special cases read no regime).
* **Increasing returns** (``regime.increasing_returns``; Arthur 1989): lock-in weakens as the
  behaviour spreads, ``R_b(t) = R_b (1 - s_b)^returns`` with ``s_b`` the share of eligible
  households doing it (an installer base, a norm). A municipality's standard cuts it further
  by ``municipality.standard`` while the municipality supports.
* **Cost learning** (``regime.cost_learning``; Wright 1936): the price falls by
  ``learning_rate`` with each doubling of the most households that have done the behaviour so
  far (``N_b``, from those at the start): ``price_b = cost_b max(price_floor_b,
  (N_b / N_b(0))^-a)``, ``a = -log2(1 - learning_rate)``. The town stands for the market it
  buys in.

The regime composes the cost households weigh against their income (``model.cost``): its
price, times the landscape's price drivers, less the municipality's subsidy, over the
landscape's energy price (:mod:`bt_sim.components.landscape`,
:mod:`bt_sim.components.municipality`). Phase ``regime`` before ``adopt``, after the landscape,
the municipality and the collectives' interventions; no random numbers. While nothing acts
(no resistance, no learning, no landscape price and no municipality) it does nothing.

Results per step: ``transition`` (the transition's share of eligible households; a
continuation run carries the series of the run it continues), ``resistance:<b>`` for each
behaviour with a resistance, ``price:<b>`` (the
price after learning and the landscape) and ``cost:<b>`` (what households weigh) for each
costly behaviour. The summary describes the transition (the spread of ``regime.transition``
among eligible households) with :func:`bt_sim.pathways.pathway_report`: its pathway class,
whether and when it tipped, the months to 10, 50 and 90 %, and the mean share over the run.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from bt_sim.component import Component
from bt_sim.contrast import Contrast
from bt_sim.pathways import pathway_report

if TYPE_CHECKING:
    from bt_sim.keyed import Keyed

#: The town the regime's, landscape's and municipality's effects are measured in (a bundled
#: scenario: a heat pump locked in by the regime, collectives that can document impact).
TOWN = "pathways/town.toml"


def adopters(model) -> np.ndarray:
    """Households doing each behaviour as last recorded (the state now, between steps), from
    the recorder's neighbourhood sums (no pass over households)."""
    rec = model.recorder
    nb = len(model.behaviour_names)
    return rec.nb_sum[rec.steps_done, :, :nb].sum(axis=0).astype(np.float64)


def transition_index(model) -> int:
    """The behaviour whose spread is the transition: ``regime.transition``, or the costliest
    (the first of equal ones)."""
    name = model.config.regime.transition
    if name:
        return model.behaviour_names.index(name)
    return int(np.argmax([b.cost for b in model.config.behaviours]))


def transition_curve(model) -> np.ndarray:
    """The share of eligible households doing the transition's behaviour, one value per step
    recorded (step 0 first; a continuation run's include the steps of the run it continues)."""
    return model.regime.result["transition"][: model.recorder.steps_done + 1].copy()


def transition_share(model) -> float:
    """The share of eligible households doing the transition's behaviour at the end."""
    return float(transition_curve(model)[-1])


def late_transition(model) -> float:
    """What the transition's share gained over the second half of the run."""
    curve = transition_curve(model)
    return float(curve[-1] - curve[(curve.size - 1) // 2])


def mean_transition(model) -> float:
    """The transition's mean share over the run (higher: a faster transition)."""
    return float(transition_curve(model).mean())


class Regime(Component):
    """Lock-in, increasing returns and cost learning; composes the cost households weigh."""

    name = "regime"
    section = "regime"
    phases = (("regime", "step"),)
    anchor = ("before", "adopt")
    requires = ("landscape", "municipality")
    dynamic = ("most", "result")
    summary_units: ClassVar[dict[str, str]] = {
        "pathway": "class",
        "tipped": "0/1",
        "tip_month": "months",
        "jump": "fraction",
        "time_to_10": "months",
        "time_to_50": "months",
        "time_to_90": "months",
        "gain": "fraction",
        "resistance_change": "0..1",
        "policy_months": "months",
        "policy_first_month": "months",
        "share": "fraction",
        "mean_share": "fraction",
        "price_change": "ratio",
    }
    contrasts: ClassVar[tuple[Contrast, ...]] = (
        Contrast(
            "regime lock-in: off -> on",
            ("regime.lock_in=false",),
            ("regime.lock_in=true",),
            transition_share,
            "lowers",
            "habits, missing infrastructure and incumbents' offers lock current practice in "
            "(Unruh 2000; Geels 2002)",
            base=TOWN,
        ),
        Contrast(
            "regime: lock-in fixed -> weakening as the behaviour spreads (increasing returns)",
            ("regime.increasing_returns=false",),
            ("regime.increasing_returns=true",),
            late_transition,
            "raises",
            "increasing returns to adoption: each adopter makes the next adoption easier "
            "(Arthur 1989)",
            base=TOWN,
        ),
        Contrast(
            "cost learning: off -> on (price)",
            ("regime.cost_learning=false",),
            ("regime.cost_learning=true",),
            "regime:price_change",
            "lowers",
            "prices fall by a learning rate with each doubling of cumulative deployment "
            "(Wright 1936; Rubin et al. 2015)",
            base=TOWN,
        ),
        Contrast(
            "cost learning: off -> on (late adoption)",
            ("regime.cost_learning=false",),
            ("regime.cost_learning=true",),
            late_transition,
            "raises",
            "cheaper technology is taken up more (Wright 1936; Frederiks et al. 2015)",
            base=TOWN,
        ),
        Contrast(
            "lock-in switched off: resistance 0.3 -> 0.8 makes no difference",
            ("regime.lock_in=false", "behaviours.heat_pump.resistance=0.3"),
            ("regime.lock_in=false", "behaviours.heat_pump.resistance=0.8"),
            transition_share,
            "same",
            "a loop switched off acts on nothing",
            base=TOWN,
            seeds=range(5),
        ),
        Contrast(
            "cost learning switched off: learning rate 0.1 -> 0.3 makes no difference",
            ("regime.cost_learning=false", "behaviours.heat_pump.learning_rate=0.1"),
            ("regime.cost_learning=false", "behaviours.heat_pump.learning_rate=0.3"),
            transition_share,
            "same",
            "a loop switched off acts on nothing",
            base=TOWN,
            seeds=range(5),
        ),
    )

    def __init__(self, model):
        beh = model.config.behaviours
        # the transition's share of eligible households, then the regime's own series
        results = {"transition": "fraction"}
        results |= {f"resistance:{b.name}": "0..1" for b in beh if b.resistance > 0}
        for b in beh:
            if b.cost > 0:
                results[f"price:{b.name}"] = "EUR"
                results[f"cost:{b.name}"] = "EUR"
        self.results = results
        super().__init__(model)

    def init_state(self, keyed: Keyed) -> None:
        model = self.model
        sc = model.config
        rg, beh = sc.regime, sc.behaviours
        self.base_cost = np.array([b.cost for b in beh], np.float64)
        self.resistance0 = np.array([b.resistance for b in beh]) * rg.lock_in
        rate = np.array([b.learning_rate for b in beh]) * rg.cost_learning
        self.exponent = -np.log2(1.0 - rate)
        self.floor = np.array([b.price_floor for b in beh])
        self.learning = bool((rate > 0).any())
        self.locking = bool((self.resistance0 > 0).any())
        self.eligible_count = np.maximum(model.eligible.sum(axis=0), 1).astype(np.float64)
        self.most = np.maximum(model.state.adopted.sum(axis=0), 1).astype(np.float64)
        self.start_count = self.most.copy()
        self.resistance = self.resistance0.copy()
        self.price = self.base_cost.copy()
        self.b = transition_index(model)
        self.active = (
            self.locking
            or self.learning
            or model.landscape.acts_on_cost
            or model.municipality.enabled
        )
        if not self.active:  # nothing moves: the series are constants
            for name in self.result:
                if name == "transition":
                    continue
                kind, _, what = name.partition(":")
                j = model.behaviour_names.index(what)
                value = {"resistance": self.resistance[j], "price": self.price[j]}
                self.result[name][:] = value.get(kind, model.cost[j])
        self.compose()

    def step(self) -> None:
        """Regime: lock-in weakens as behaviours spread, prices fall with adoption; the cost
        households weigh is composed with the landscape and the municipality."""
        if not self.active:
            return
        model = self.model
        counts = adopters(model)
        np.maximum(self.most, counts, out=self.most)
        if self.locking:
            r = self.resistance0.copy()
            if model.config.regime.increasing_returns:
                share = np.clip(counts / self.eligible_count, 0.0, 1.0)
                r *= (1.0 - share) ** model.config.regime.returns
            self.resistance = r * (1.0 - model.municipality.standard_cut)
        if self.learning:
            ratio = self.most / self.start_count
            self.price = self.base_cost * np.maximum(self.floor, ratio**-self.exponent)
        self.compose()

    def compose(self) -> None:
        """Set the cost households weigh (``model.cost``) and what lock-in leaves of their
        hazard (``model.pull``) from the regime, the landscape and the municipality."""
        if not self.active:
            return
        model = self.model
        land, muni = model.landscape, model.municipality
        price = self.price * land.price
        energy = max(land.energy, 1e-9)  # (an energy price of 0: saving is worth nothing)
        model.cost[:] = (price * (1.0 - muni.subsidy_share) - muni.fixed_part(price)) / energy
        model.pull[:] = 1.0 - self.resistance

    def update_results(self, step: int) -> None:
        model = self.model
        rec = model.recorder
        share = rec.nb_sum[step, :, self.b].sum() / self.eligible_count[self.b]
        self.result["transition"][step] = share
        if not self.active:
            return
        land = model.landscape
        for j, name in enumerate(model.behaviour_names):
            if self.resistance0[j] > 0 or f"resistance:{name}" in self.result:
                self.result[f"resistance:{name}"][step] = self.resistance[j]
            if self.base_cost[j] > 0:
                self.result[f"price:{name}"][step] = self.price[j] * land.price[j]
                self.result[f"cost:{name}"][step] = model.cost[j]

    def summary(self) -> dict[str, float | str]:
        model = self.model
        dt = model.config.run.dt
        curve = transition_curve(model)
        name = model.behaviour_names[self.b]
        resist = self.result.get(f"resistance:{name}")
        policy = model.municipality.result["policy"] if model.municipality.enabled else None
        t = curve.size
        out = pathway_report(
            curve,
            dt,
            resistance=None if resist is None else resist[:t],
            policy=None if policy is None else policy[:t],
        )
        out["share"] = float(curve[-1])
        out["mean_share"] = float(curve.mean())
        base = self.base_cost[self.b]
        out["price_change"] = (
            float(self.price[self.b] * model.landscape.price[self.b] / base)
            if base > 0
            else math.nan
        )
        return out
