"""The municipality as a component: a policy that follows the collectives' evidence
(``[municipality]``): scaling up, the loop that can make a transition tip.

Niches scale up when the regime's rules change, and the rules change when the niches' impact
is measured well enough and reaches enough people (the background paper's level 4; Geels
2002). The municipality reviews the evidence every ``review_months`` (with a ``dialogue``
channel to the collectives: at every hub release) and decides to support the transition when

* the **documented impact** passes ``threshold``: what the hubs published at their latest
  release, each collective's published members times their published mean saving, summed and
  divided by the town's households (impact no hub published does not count);
* it is **precise** enough: ``precision`` standard errors of the hubs' Laplace noise above 0.
  From the published rows alone, the noise of that sum has standard error
  ``sqrt(2 G) (hi - lo) / (epsilon N)`` (``G`` published groups, ``hi - lo`` the saving range of
  :data:`bt_sim.rules.hub.SAVING_RANGE`, ``epsilon = hub.epsilon``, ``N`` households);
* collectives are **representative** enough: disadvantaged households' share among members
  over their share in the host neighbourhoods at least ``representation_floor``.
* members **trust** their hubs: their mean trust at least ``trust_floor``.

A decision takes effect ``delay_months`` later. With ``retrench`` it ends support when, at a
review, the evidence has fallen below ``retrench_share`` of the threshold or the members' mean
trust in their hub below ``trust_floor`` (also after the delay).

While it supports, its instruments act, paid from ``budget`` a year (what is left of a year is
not carried over): a **subsidy** of ``subsidy`` of the price of ``subsidised`` (every
behaviour with a cost if empty) plus ``subsidy_euros`` (never more than the price), paid for
each adoption while money is left; **funded hours**
for each active collective (``funded_hours`` a month at ``hour_euros``), on top of its
volunteers' hours for its building blocks and outreach; a **standard** (a rule) that cuts the
regime's resistance of ``standard_behaviour`` by ``standard``. The subsidy reaches the cost
households weigh through the regime (:mod:`bt_sim.components.regime`).

Phase ``municipality`` before ``interventions`` (after the landscape; the regime comes after
the interventions, before ``adopt``); no random numbers. Results per step: ``policy`` (1
while it supports), ``spent`` (EUR this step), ``impact`` (the documented impact at its
latest review) and ``impact_se``. Summary: ``support_months``, ``first_support_month``,
``spent``, ``subsidised`` (adoptions), ``funded_hours``, ``reviews`` and the latest
``impact``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from bt_sim.component import Component
from bt_sim.components.capacity import ACTIVE
from bt_sim.components.regime import TOWN, adopters, mean_transition, transition_share
from bt_sim.contrast import Contrast
from bt_sim.rules.hub import SAVING_RANGE

if TYPE_CHECKING:
    from bt_sim.keyed import Keyed


def documented_impact(
    counts: np.ndarray, means: np.ndarray, groups: int, households: int, epsilon: float
) -> tuple[float, float]:
    """The documented impact of a release and its standard error (from the hubs' noise).

    ``counts`` and ``means`` are the collectives' published members and mean saving (NaN
    where unpublished), ``groups`` the number of published peer groups.

    >>> documented_impact(np.array([100, 50]), np.array([0.1, np.nan]), 4, 1000, 0.0)
    (0.01, 0.0)
    """
    ok = np.isfinite(means)
    impact = float((counts[ok] * means[ok]).sum() / households)
    if epsilon <= 0:
        return impact, 0.0
    width = SAVING_RANGE[1] - SAVING_RANGE[0]
    return impact, math.sqrt(2.0 * groups) * width / (epsilon * households)


def evidence_holds(impact: float, se: float, threshold: float, precision: float) -> bool:
    """Whether documented impact passes the threshold, ``precision`` standard errors above 0.

    >>> evidence_holds(0.01, 0.002, 0.005, 2.0), evidence_holds(0.01, 0.006, 0.005, 2.0)
    (True, False)
    """
    return impact >= threshold and impact >= precision * se


class Municipality(Component):
    """Policy feedback: support when documented impact is large, precise and representative."""

    name = "municipality"
    section = "municipality"
    phases = (("municipality", "step"),)
    anchor = ("before", "interventions")
    requires = ("collectives", "capacity", "interventions", "hub")
    results: ClassVar[dict[str, str]] = {
        "policy": "0/1",
        "spent": "EUR",
        "impact": "fraction",
        "impact_se": "fraction",
    }
    summary_units: ClassVar[dict[str, str]] = {
        "support_months": "months",
        "first_support_month": "months",
        "spent": "EUR",
        "subsidised": "adoptions",
        "funded_hours": "hours",
        "reviews": "reviews",
        "impact": "fraction",
    }
    dynamic = (
        "supporting", "pending", "year_left", "year", "adopted_before", "totals", "impact",
        "impact_se", "first_support", "last_review", "last_release", "result",
    )  # fmt: skip
    contrasts: ClassVar[tuple[Contrast, ...]] = (
        Contrast(
            "policy feedback: none -> a municipality that follows the evidence",
            ("municipality.enabled=false",),
            ("municipality.enabled=true",),
            mean_transition,
            "raises",
            "policy that follows niches' documented success scales them up (Geels 2002; "
            "Seyfang & Haxeltine 2012)",
            base=TOWN,
        ),
        Contrast(
            "policy feedback: collectives representative enough -> a floor they miss",
            ("municipality.representation_floor=0",),
            ("municipality.representation_floor=5",),
            mean_transition,
            "lowers",
            "policy backs initiatives that speak for the whole neighbourhood (Hoppe et al. "
            "2015; Middlemiss 2011)",
            base=TOWN,
        ),
        Contrast(
            "policy feedback: noisy hub releases -> precise ones (epsilon 0.05 -> 2)",
            ("hub.epsilon=0.05",),
            ("hub.epsilon=2",),
            "municipality:support_months",
            "raises",
            "evidence counts when it is precise enough to act on (Hoppe et al. 2015)",
            base=TOWN,
        ),
        Contrast(
            "policy feedback switched off: threshold 0.001 -> 0.05 makes no difference",
            ("municipality.enabled=false", "municipality.threshold=0.001"),
            ("municipality.enabled=false", "municipality.threshold=0.05"),
            transition_share,
            "same",
            "a loop switched off acts on nothing",
            base=TOWN,
            seeds=range(5),
        ),
    )

    def init_state(self, keyed: Keyed) -> None:
        model = self.model
        mu = model.config.municipality
        b = len(model.behaviour_names)
        self.enabled = mu.enabled
        self.supporting = False
        self.pending: list[tuple[float, bool]] = []  # (month it takes effect, support)
        self.year = 0
        self.year_left = mu.budget
        self.subsidy_share = np.zeros(b)
        self.subsidy_euros = np.zeros(b)
        self.standard_cut = np.zeros(b)
        costly = np.array([x.cost > 0 for x in model.config.behaviours])
        names = model.behaviour_names
        self.subsidised = np.array([n == mu.subsidised for n in names]) if mu.subsidised else costly
        self.standard_on = (
            np.array([n == mu.standard_behaviour for n in names])
            if mu.standard_behaviour
            else np.ones(b, bool)
        )
        self.adopted_before = model.state.adopted.sum(axis=0).astype(np.float64)
        self.totals = {"spent": 0.0, "subsidised": 0.0, "funded_hours": 0.0, "reviews": 0.0}
        self.impact = math.nan
        self.impact_se = math.nan
        self.first_support = math.nan
        self.last_review = 0.0
        self.last_release = -1  # the step of the latest release reviewed
        self.spent_now = 0.0
        if not mu.enabled:
            self.result["policy"][:] = 0.0
            self.result["spent"][:] = 0.0

    # ---- the step -----------------------------------------------------------------------
    def step(self) -> None:
        """Municipality: pays for last step's subsidised adoptions, reviews the evidence when
        due, and its decisions take effect after the delay."""
        if not self.enabled:
            return
        model = self.model
        mu, dt = model.config.municipality, model.config.run.dt
        month = model.month
        if int(month // 12 + 1e-9) > self.year:  # a new year's budget
            self.year = int(month // 12 + 1e-9)
            self.year_left = mu.budget
        self.spent_now = 0.0
        self._pay_subsidies()
        if self._review_due(month):
            self._review(month)
        while self.pending and self.pending[0][0] <= month + 1e-9:
            _, support = self.pending.pop(0)
            if support and not self.supporting and math.isnan(self.first_support):
                self.first_support = month
            self.supporting = support
        self._instruments(dt)
        self.totals["spent"] += self.spent_now

    def _pay_subsidies(self) -> None:
        """Pay the subsidy for the adoptions of the step before (at the price then)."""
        model = self.model
        now = adopters(model)
        new = np.maximum(now - self.adopted_before, 0)
        self.adopted_before = now
        paid = (self.subsidy_share > 0) | (self.subsidy_euros > 0)
        if not paid.any():
            return
        price = model.regime.price * model.landscape.price
        cost = float((new[paid] * self.paid_per_adoption(price)[paid]).sum())
        self.year_left -= cost
        self.spent_now += cost
        self.totals["subsidised"] += float(new[paid].sum())

    def paid_per_adoption(self, price: np.ndarray) -> np.ndarray:
        """What it pays for one adoption of each behaviour at ``price``: the subsidy's share
        of the price plus its fixed sum, never more than the price (0 while it does not
        subsidise)."""
        return price * self.subsidy_share + self.fixed_part(price)

    def fixed_part(self, price: np.ndarray) -> np.ndarray:
        """The fixed sum paid for one adoption at ``price``, never more than what the share
        leaves of the price."""
        return np.minimum(self.subsidy_euros, price * (1.0 - self.subsidy_share))

    def _review_due(self, month: float) -> bool:
        mu = self.model.config.municipality
        if mu.dialogue:
            return self.model.hub.last_step > self.last_release
        return month - self.last_review >= mu.review_months - 1e-9

    def _review(self, month: float) -> None:
        """Weigh the latest release's evidence; a decision takes effect after the delay."""
        model = self.model
        mu = model.config.municipality
        self.last_review = month
        self.totals["reviews"] += 1
        rel = model.hub.last_release
        self.last_release = model.hub.last_step
        if rel is None:
            return
        self.impact, self.impact_se = documented_impact(
            rel.collective_count.astype(np.float64),
            np.where(rel.collective_published, rel.collective_mean, np.nan),
            int(np.count_nonzero(rel.published)),
            model.population.n,
            model.config.hub.epsilon,
        )
        holds = evidence_holds(self.impact, self.impact_se, mu.threshold, mu.precision)
        representative = self._representation() >= mu.representation_floor
        trusted = self._members_trust() >= mu.trust_floor
        planned = self.pending[-1][1] if self.pending else self.supporting
        if not planned and holds and representative and trusted:
            self.pending.append((month + mu.delay_months, True))
        elif planned and mu.retrench:
            weak = self.impact < mu.retrench_share * mu.threshold
            if weak or not trusted:
                self.pending.append((month + mu.delay_months, False))

    def _representation(self) -> float:
        """Disadvantaged households' share among members over their share in the host
        neighbourhoods (0 without members)."""
        model = self.model
        s, hosted = model.state, model.collectives.hosted
        dis = model.population.disadvantaged
        members = s.member & hosted
        if not members.any() or not hosted.any():
            return 0.0
        ref = dis[hosted].mean()
        return float(dis[members].mean() / ref) if ref > 0 else math.inf

    def _members_trust(self) -> float:
        s = self.model.state
        return float(s.trust[s.member].mean()) if s.member.any() else 0.0

    def _instruments(self, dt: float) -> None:
        """Set the subsidy, the standard and the funded hours while it supports (the
        subsidy and the hours only while the year's budget lasts)."""
        model = self.model
        mu = model.config.municipality
        on = self.supporting
        money = on and self.year_left > 0
        self.subsidy_share[:] = np.where(self.subsidised & money, mu.subsidy, 0.0)
        self.subsidy_euros[:] = np.where(self.subsidised & money, mu.subsidy_euros, 0.0)
        self.standard_cut[:] = np.where(self.standard_on & on, mu.standard, 0.0)
        funded = model.interventions.funded
        funded[:] = 0.0
        if money and mu.funded_hours > 0 and model.collectives.count:
            active = model.capacity.status == ACTIVE
            hours = mu.funded_hours * dt
            n = int(np.count_nonzero(active))
            if mu.hour_euros > 0:
                hours = min(hours, self.year_left / (mu.hour_euros * max(n, 1)))
            funded[active] = hours
            cost = hours * n * mu.hour_euros
            self.year_left -= cost
            self.spent_now += cost
            self.totals["funded_hours"] += hours * n

    def update_results(self, step: int) -> None:
        if not self.enabled:
            return
        self.result["policy"][step] = float(self.supporting)
        self.result["spent"][step] = self.spent_now
        self.result["impact"][step] = self.impact
        self.result["impact_se"][step] = self.impact_se

    def summary(self) -> dict[str, float]:
        dt = self.model.config.run.dt
        policy = self.result["policy"][: self.model.steps_done + 1]
        return {
            "support_months": float(np.count_nonzero(policy > 0) * dt),
            "first_support_month": self.first_support,
            "spent": self.totals["spent"],
            "subsidised": self.totals["subsidised"],
            "funded_hours": self.totals["funded_hours"],
            "reviews": self.totals["reviews"],
            "impact": self.impact,
        }
