"""The Mesa model: composes the rules into the step schedule and owns the random generator.

Step schedule (one step = ``run.dt`` months):

1. **Expose** - each household's exposure to every behaviour among its contacts (and, for
   members, in its collective).
2. **Do** - adoption draws from the rule family in :mod:`bt_sim.rules.social`.
3. **Check** - every household's KPI is measured.
4. **Hub** - revocations; the hub aggregates consenting members' KPIs per peer group and
   publishes groups of at least ``k``; members of published groups get a peer comparison.
5. **Act** - households reflect on their perceived saving: self-efficacy and goals move,
   reversible behaviours may be dropped after failure.
6. **Collectives** - dialogue raises members' self-efficacy; outreach and ties recruit; some
   members leave.
7. **Record** - per-step aggregates.
"""

from __future__ import annotations

import time

import mesa
import numpy as np
import pandas as pd
from mesa.agent import AgentSet

from bt_sim.agents import Household
from bt_sim.network import Network, ball, build_network
from bt_sim.population import Population, draw_population
from bt_sim.recorder import Recorder
from bt_sim.rules import collective as coll
from bt_sim.rules import fused, hub, mastery, social
from bt_sim.scenario.schema import Scenario
from bt_sim.state import HouseholdState

SeedLike = int | np.random.SeedSequence | None


def seed_sequence(seed: SeedLike) -> np.random.SeedSequence:
    """A fresh SeedSequence for ``seed`` (copies a given sequence, so it is never mutated)."""
    if isinstance(seed, np.random.SeedSequence):
        return np.random.SeedSequence(
            seed.entropy, spawn_key=seed.spawn_key, pool_size=seed.pool_size
        )
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer | type(None)):
        raise TypeError(f"seed must be an int or a numpy SeedSequence, got {seed!r}")
    return np.random.SeedSequence(seed)


class TransitionModel(mesa.Model):
    """Households on a social network learning through mastery and social learning.

    Parameters
    ----------
    scenario : Scenario, optional
        The world to simulate; defaults to :class:`~bt_sim.scenario.Scenario()`. It is kept as
        ``model.config`` (``model.scenario`` is Mesa's own experiment object).
    seed : int or numpy.random.SeedSequence, optional
        Overrides ``scenario.run.seed``. Population, network, initial state and dynamics draw
        from four independent streams spawned from it, so e.g. changing a dynamic parameter
        leaves the population and network unchanged.

    Examples
    --------
    >>> from bt_sim import load_scenario
    >>> model = TransitionModel(load_scenario(None, ["population.households=300",
    ...                                              "run.steps=12"]), seed=1)
    >>> model.run()
    >>> int(model.steps)
    12
    """

    def __init__(self, scenario: Scenario | None = None, seed: SeedLike = None):
        t0 = time.perf_counter()
        scenario = scenario if scenario is not None else Scenario()
        ss = seed_sequence(scenario.run.seed if seed is None else seed)
        ss_pop, ss_net, ss_init, ss_dyn = ss.spawn(4)
        super().__init__(rng=np.random.default_rng(ss_dyn))
        self.config = scenario
        self.seed_entropy = ss.entropy
        self.seed_spawn_key = tuple(ss.spawn_key)
        self.behaviour_names = tuple(b.name for b in scenario.behaviours)
        self.population: Population = draw_population(
            scenario.population, np.random.default_rng(ss_pop)
        )
        self.network: Network = build_network(
            self.population, scenario.network, np.random.default_rng(ss_net)
        )
        self._setup_arrays()
        self._setup_collectives()
        self.state = self._initial_state(np.random.default_rng(ss_init))
        self.recorder = Recorder(
            scenario.run.steps,
            self.behaviour_names,
            self.population.neighbourhood_bounds(),
            self.population.disadvantaged,
            self.collective_nbhd,
        )
        self._record(0)
        self._households: dict[int, Household] = {}
        self.setup_seconds = time.perf_counter() - t0

    # ---- set-up -------------------------------------------------------------------------
    def _setup_arrays(self) -> None:
        sc, pop, net = self.config, self.population, self.network
        beh = sc.behaviours
        self._adj = None if net.complete else net.adjacency()
        self._pattern = None if net.complete or sc.social.rule != "complex" else net.pattern()
        wdeg = (
            np.full(pop.n, pop.n - 1, np.float32)
            if net.complete
            else (np.asarray(self._adj.sum(axis=1), dtype=np.float32))
        )
        self._wdeg = wdeg
        owner = pop.owner[:, None]
        elig = np.array([b.eligibility for b in beh])
        self._eligible = (
            (elig == "all") | ((elig == "owners") & owner) | ((elig == "renters") & ~owner)
        )
        cost = np.array([b.cost for b in beh], np.float32)
        difficulty = np.array([b.difficulty for b in beh], np.float32)
        m = sc.mastery
        self._readiness = (
            self._eligible
            * mastery.affordability(pop.income, sc.population.income_median, cost, m.cost_scale)
            * mastery.effort(pop.time_budget, difficulty)
        ).astype(np.float32)
        self._log_keep = np.log1p(-np.array([b.kpi_effect for b in beh], np.float32))
        self._reversible = np.array([b.reversible for b in beh])

    def _setup_collectives(self) -> None:
        sc, pop = self.config, self.population
        k = sc.collectives.count
        nb_income = np.bincount(pop.neighbourhood, np.log(pop.income), pop.n_neighbourhoods)
        nb_income /= np.maximum(np.bincount(pop.neighbourhood, minlength=pop.n_neighbourhoods), 1)
        placement = sc.collectives.placement
        if placement == "first":
            chosen = np.arange(k)
        elif placement == "richest":
            chosen = np.argsort(-nb_income, kind="stable")[:k]
        elif placement == "poorest":
            chosen = np.argsort(nb_income, kind="stable")[:k]
        else:
            chosen = np.sort(
                np.random.default_rng(
                    np.random.SeedSequence(self.seed_entropy, spawn_key=(*self.seed_spawn_key, 9))
                ).choice(pop.n_neighbourhoods, k, replace=False)
            )
        self.collective_nbhd = np.sort(chosen).astype(np.int64)
        of_nbhd = np.full(pop.n_neighbourhoods, -1, np.int64)
        of_nbhd[self.collective_nbhd] = np.arange(k)
        self.collective_of = of_nbhd[pop.neighbourhood]
        self.hub_active = sc.hub.enabled and k > 0
        self._hub_group = np.maximum(self.collective_of, 0) * hub.SIZE_CLASSES + hub.size_class(
            pop.size
        )
        self._n_hub_groups = k * hub.SIZE_CLASSES
        self._propensity = coll.outreach_propensity(
            pop.income,
            pop.owner,
            pop.low_literacy,
            pop.non_native,
            sc.collectives.usual_suspects_bias,
        )
        self._reach = np.where(pop.gatekeeper, sc.collectives.gatekeeper_reach, 1.0).astype(
            np.float32
        )

    def _initial_state(self, rng: np.random.Generator) -> HouseholdState:
        sc, pop = self.config, self.population
        n, b = pop.n, len(sc.behaviours)
        adopted = np.zeros((n, b), bool)
        for j, beh in enumerate(sc.behaviours):
            elig = np.flatnonzero(self._eligible[:, j])
            count = round(beh.initial_adoption * elig.size)
            if count == 0:
                continue
            if sc.social.seeding == "cluster":
                start = int(rng.choice(elig))
                members = ball(self.network, start, pop.n)
                members = members[self._eligible[members, j]][:count]
            else:
                members = rng.choice(elig, count, replace=False)
            adopted[members, j] = True
        m = sc.mastery
        a = 4.0 * m.initial_efficacy
        efficacy = rng.beta(a, 4.0 - a, n).astype(np.float32)
        efficacy[pop.low_literacy] *= 0.8
        self._meter = rng.random(n) < m.meter_share
        theta = np.clip(rng.normal(sc.social.threshold_mean, sc.social.threshold_sd, n), 0, 1)
        self._theta = theta.astype(np.float32)
        member = np.zeros(n, bool)
        consent = np.zeros(n, bool)
        cc = sc.collectives
        bounds = pop.neighbourhood_bounds()
        for nb in self.collective_nbhd:  # neighbourhoods are contiguous ranges of households
            homes = np.arange(bounds[nb], bounds[nb + 1])
            weights = self._propensity[homes] / self._propensity[homes].sum()
            founders = rng.choice(homes, min(cc.founders, homes.size), replace=False, p=weights)
            member[founders] = True
            consent[founders] = rng.random(founders.size) < sc.hub.consent_rate
        goal = np.full(n, m.goal_initial, np.float32)
        goal[member] = np.maximum(goal[member], min(cc.shared_goal, m.goal_max))
        zeros = np.zeros(n, np.float32)
        kpi = mastery.kpi(
            pop.baseline_kpi, adopted.astype(np.float32), self._log_keep, zeros, m.kpi_noise, rng
        )
        return HouseholdState(
            adopted=adopted,
            efficacy=efficacy,
            goal=goal,
            kpi=kpi.astype(np.float32),
            success=np.zeros(n, bool),
            member=member,
            consent=consent & self.hub_active,
            curtail=zeros.copy(),
            compared=np.zeros(n, bool),
        )

    # ---- the schedule ---------------------------------------------------------------------
    def step(self) -> None:
        """Advance the model by one time step (``run.dt`` months); see the module docstring."""
        sc, s, pop, rng = self.config, self.state, self.population, self.rng
        dt = sc.run.dt
        t = int(self.steps)  # Mesa counts the step before calling this method
        if sc.social.rule == "full":
            s.adopted |= self._full_adoption(rng)
        else:
            s.adopted |= social.adopt(s.adopted, self._adoption_hazard(), self._eligible, rng)
        adopted_f = s.adopted.astype(np.float32)
        s.kpi = mastery.kpi(
            pop.baseline_kpi, adopted_f, self._log_keep, s.curtail, sc.mastery.kpi_noise, rng
        ).astype(np.float32)
        saving = 1.0 - s.kpi / pop.baseline_kpi
        if self.hub_active:
            s.consent = hub.revoke(s.consent, sc.hub.revoke_rate, dt, rng) & s.member
            agg = hub.aggregate(s.kpi, self._hub_group, s.consent, sc.hub.k, self._n_hub_groups)
            s.compared, s.curtail = hub.peer_comparison(
                s.kpi,
                self._hub_group,
                s.member & (self.collective_of >= 0),
                agg,
                sc.hub.peer_effect,
            )
            if sc.output.hub_panel:
                sav = hub.aggregate(
                    saving, self._hub_group, s.consent, sc.hub.k, self._n_hub_groups
                )
                self.recorder.record_hub(t, agg.count, agg.mean, agg.published, sav.mean)
        if sc.mastery.enabled:
            self._reflect(saving, rng)
        if self.collective_nbhd.size:
            self._collectives_step(rng)
        self._record(t, saving)
        if t >= sc.run.steps:
            self.running = False

    def _adoption_hazard(self) -> np.ndarray:
        """Adoption probabilities of the special-case rules (bass, threshold, complex)."""
        sc, s = self.config, self.state
        soc, dt = sc.social, sc.run.dt
        adopted_f = s.adopted.astype(np.float32)
        if soc.rule == "complex":
            count = social.neighbour_count(self._pattern, adopted_f)
            return social.count_hazard(count, soc.contacts_needed, soc.p, dt)
        share = social.neighbour_share(self._adj, self._wdeg, adopted_f)
        if soc.rule == "bass":
            return social.bass_hazard(share, soc.p, soc.q, dt)
        return social.threshold_hazard(share, self._theta, soc.p, dt)

    def full_rule_inputs(self) -> dict[str, np.ndarray | float]:
        """Everything the full adoption rule reads this step, as plain arrays and numbers.

        Used by :meth:`_full_adoption` (the fused kernel) and by the tests, which check the
        kernel against the reference rules of :mod:`bt_sim.rules.social`.
        """
        sc, s = self.config, self.state
        soc = sc.social
        if sc.mastery.enabled:
            vis = social.success_visibility(s.success, soc.success_weight)
        else:  # nobody reflects, so no success is visible: plain tie-weighted shares
            vis = np.ones(s.success.shape[0], np.float32)
        member_pos = np.full(s.member.shape[0], -1, np.int64)
        fellow = np.zeros((1, s.adopted.shape[1]), np.float32)
        if self.collective_nbhd.size and soc.collective_weight > 0:
            rows = np.flatnonzero(s.member)
            member_pos[rows] = np.arange(rows.size)
            fellow = coll.fellow_member_share(
                self.collective_of[rows],
                s.adopted[rows].astype(np.float32),
                self.collective_nbhd.size,
            )
        unmet = (~s.success if sc.mastery.enabled else np.zeros_like(s.success)).astype(np.float32)
        return {
            "vis": vis.astype(np.float32),
            "member_pos": member_pos,
            "fellow": fellow,
            "unmet": unmet,
            "collective_weight": soc.collective_weight,
            "p": soc.p,
            "q": soc.q,
            "action_rate": sc.mastery.action_rate,
            "dt": sc.run.dt,
        }

    def _full_adoption(self, rng: np.random.Generator) -> np.ndarray:
        """New adoptions under the full rule (one fused pass; see :mod:`bt_sim.rules.fused`)."""
        s = self.state
        u = rng.random(fused.adoption_candidates(s.adopted, self._readiness), dtype=np.float32)
        return self.full_adoption_from(u)

    def full_adoption_from(self, u: np.ndarray) -> np.ndarray:
        """New adoptions under the full rule given one uniform draw per open pair.

        Open pairs are (household, behaviour) pairs that are ready and not yet adopted, in
        household then behaviour order; the tests use this to compare the kernel with the
        reference rules draw for draw.
        """
        s = self.state
        x = self.full_rule_inputs()
        visible = s.adopted * x["vis"][:, None]  # float32 (n, b)
        if self._adj is None:  # the complete graph: everyone else
            exposure = visible.sum(axis=0, keepdims=True) - visible
        else:
            exposure = self._adj @ visible
        new = np.empty(s.adopted.shape, bool)
        fused.full_adoption(
            exposure,
            self._wdeg,
            s.adopted,
            self._readiness,
            s.efficacy,
            x["unmet"],
            x["member_pos"],
            x["fellow"],
            x["collective_weight"],
            x["p"],
            x["q"],
            x["action_rate"],
            x["dt"],
            u,
            new,
        )
        return new

    def eligible_share(self) -> np.ndarray:
        """Share of households eligible for each behaviour."""
        return self._eligible.mean(axis=0)

    def feedback_level(self) -> np.ndarray:
        """Feedback quality per household: 0 none, 1 meter, 2 hub.

        A household sharing data with the hub sees its own KPI there (at least 'meter'), and
        gets 'hub' feedback when its peer group is published (a peer comparison).
        """
        level = self._meter.astype(np.int8)
        if self.hub_active:
            s = self.state
            level[s.consent] = 1
            level[s.consent & s.compared] = 2
        return level

    def _reflect(self, saving: np.ndarray, rng: np.random.Generator) -> None:
        sc, s = self.config, self.state
        m = sc.mastery
        level = self.feedback_level()
        learning = np.array([m.learning_none, m.learning_meter, m.learning_hub])
        dt = sc.run.dt
        up_share = (1.0 - (1.0 - learning * m.efficacy_gain) ** dt).astype(np.float32)[level]
        down_share = (1.0 - (1.0 - learning * m.efficacy_loss) ** dt).astype(np.float32)[level]
        noise = np.array(
            [m.perception_noise, m.perception_noise / 4, m.perception_noise / 4], np.float32
        )[level]
        z = rng.standard_normal(saving.shape[0], dtype=np.float32)
        candidates = fused.reflect(
            saving,
            noise,
            z,
            s.efficacy,
            s.goal,
            up_share,
            down_share,
            m.goal_step_up,
            m.goal_step_down,
            m.goal_max,
            dt,
            s.adopted,
            self._reversible,
            s.success,
        )
        if sc.social.rule == "full" and m.drop_rate > 0 and candidates:
            u = rng.random(candidates, dtype=np.float32)
            fused.drop(s.adopted, self._reversible, s.success, s.efficacy, m.drop_rate, dt, u)

    def _collectives_step(self, rng: np.random.Generator) -> None:
        sc, s = self.config, self.state
        cc, dt = sc.collectives, sc.run.dt
        s.efficacy = coll.dialogue(s.efficacy, s.member, cc.dialogue_gain, dt)
        ties = coll.member_tie_share(self._adj, self._wdeg, s.member, self._reach)
        joins = coll.recruit(
            s.member,
            self.collective_of >= 0,
            self._propensity,
            ties,
            cc.outreach_rate,
            cc.tie_rate,
            dt,
            rng,
        )
        leaves = coll.leave(s.member, cc.leave_rate, dt, rng)
        s.member = (s.member | joins) & ~leaves
        if self.hub_active:
            shares = rng.random(s.member.shape[0], dtype=np.float32) < sc.hub.consent_rate
            s.consent = (s.consent | (joins & shares)) & s.member
        s.goal = np.where(
            joins, np.maximum(s.goal, min(cc.shared_goal, sc.mastery.goal_max)), s.goal
        ).astype(np.float32)

    def _record(self, t: int, saving: np.ndarray | None = None) -> None:
        s, pop = self.state, self.population
        if saving is None:
            saving = 1.0 - s.kpi / pop.baseline_kpi
        self.recorder.record(
            t,
            s.adopted,
            saving,
            s.efficacy,
            s.member,
            s.consent,
            s.compared,
        )

    # ---- running and results ------------------------------------------------------------
    def run(self, steps: int | None = None, progress=None) -> None:
        """Run ``steps`` steps (default: the scenario's ``run.steps`` less those done)."""
        left = self.config.run.steps - int(self.steps)
        todo = left if steps is None else min(steps, left)
        for _ in range(max(todo, 0)):
            self.step()
            if progress is not None:
                progress(1)

    def timeseries(self) -> pd.DataFrame:
        """Tidy per-step table (step, month, scope, unit, variable, value)."""
        return self.recorder.timeseries(self.config.run.dt)

    def hub_panel(self) -> pd.DataFrame:
        """The hub's published aggregates per step, collective and size class."""
        return self.recorder.hub_panel(self.config.run.dt)

    def summary(self) -> dict[str, float]:
        """One row of end-of-run outcomes (see docs/outputs in the README)."""
        from bt_sim.outcomes import summarise

        return summarise(self)

    # ---- agents as views ------------------------------------------------------------------
    def household(self, index: int) -> Household:
        """The :class:`~bt_sim.agents.Household` view of household ``index`` (made on demand)."""
        if not 0 <= index < self.population.n:
            raise IndexError(f"household index must be in [0, {self.population.n - 1}]")
        if index not in self._households:
            self._households[index] = Household(self, index)
        return self._households[index]

    def household_agents(self, indices=None) -> AgentSet:
        """A Mesa :class:`~mesa.agent.AgentSet` of household views (all households by default)."""
        idx = range(self.population.n) if indices is None else indices
        return AgentSet([self.household(int(i)) for i in idx], random=self.random)
