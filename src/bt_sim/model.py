"""The Mesa model: owns the state, the named random streams and the plan of phases.

The step walks ``model.phases`` (see :mod:`bt_sim.phases`); by default:

1. **adopt** - exposure to contacts and fellow members, adoption draws
   (:mod:`bt_sim.rules.adoption`).
2. **measure** - effort relapses, every KPI is measured (:mod:`bt_sim.rules.kpi`).
3. **hub** - revocations; at each release, k-anonymous aggregates and peer comparisons
   (:mod:`bt_sim.rules.hub`).
4. **reflect** - households at the end of their plan-do-check-act cycle check their saving
   against their goal: self-efficacy, effort, goals, dropping (:mod:`bt_sim.rules.mastery`).
5. **collectives** - progress and celebrations, joint-action campaigns, dialogue, joining and
   leaving (:mod:`bt_sim.rules.collective`).
6. **record** - per-step aggregates (:mod:`bt_sim.recorder`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import mesa
import numpy as np
import pandas as pd
from mesa.agent import AgentSet
from scipy.special import ndtr, ndtri

from bt_sim.agents import Household
from bt_sim.component import (
    Component,
    check_components,
    insert_at,
    load_component,
    setup_order,
)
from bt_sim.components import DEFAULT_COMPONENTS
from bt_sim.draws import Draws
from bt_sim.keyed import Keyed, smallest
from bt_sim.network import Network, ball, build_network
from bt_sim.phases import Phase, core_phases, plan_table
from bt_sim.population import Population, draw_population
from bt_sim.recorder import Recorder
from bt_sim.rules.kpi import noise_coefficients
from bt_sim.rules.ties import Ties
from bt_sim.scenario.schema import Scenario
from bt_sim.state import HouseholdState
from bt_sim.streams import Streams, replicate_root

SeedLike = int | np.random.SeedSequence | None


class TransitionModel(mesa.Model):
    """Households on a social network learning through mastery and social learning.

    Parameters
    ----------
    scenario : Scenario, optional
        The world to simulate; defaults to :class:`~bt_sim.scenario.Scenario()`. It is kept as
        ``model.config`` (``model.scenario`` is Mesa's own experiment object).
    seed : int or numpy.random.SeedSequence, optional
        The run's seed (default ``scenario.run.seed``). An int and ``replicate`` give the root
        ``SeedSequence(seed, spawn_key=(replicate,))``, so ``TransitionModel(sc, seed=s,
        replicate=i)`` is exactly replicate ``i`` of ``bt-sim run --seed s``. A SeedSequence is
        used as the root itself. Every random decision draws from its own named stream spawned
        from the root (:mod:`bt_sim.streams`).
    replicate : int
        Which replicate of the run this is (default 0).

    Examples
    --------
    >>> from bt_sim import load_scenario
    >>> model = TransitionModel(load_scenario(None, ["population.households=300",
    ...                                              "run.steps=12"]), seed=1)
    >>> model.run()
    >>> int(model.steps)
    12
    """

    def __init__(
        self,
        scenario: Scenario | None = None,
        seed: SeedLike = None,
        replicate: int = 0,
        components: Sequence[type[Component]] = (),
    ):
        t0 = time.perf_counter()
        scenario = scenario if scenario is not None else Scenario()
        if isinstance(seed, np.random.SeedSequence):
            root = seed
        else:
            root = replicate_root(scenario.run.seed if seed is None else seed, replicate)
        classes = [
            *DEFAULT_COMPONENTS,
            *(load_component(spec) for spec in scenario.model.components),
            *components,
        ]
        check_components(classes)
        self.streams = Streams(root)
        self.draws = Draws(self.streams, crn=scenario.run.crn)
        super().__init__(rng=np.random.default_rng(self.streams.sequence("mesa")))
        self.config = scenario
        self.seed_entropy = root.entropy
        self.seed_spawn_key = tuple(int(k) for k in root.spawn_key)
        self.behaviour_names = tuple(b.name for b in scenario.behaviours)
        self.population: Population = draw_population(
            scenario.population, self.streams.sequence("population")
        )
        self.network: Network = build_network(
            self.population, scenario.network, self.streams["network"]
        )
        self.phase_seconds: dict[str, float] = {}
        self.steps_done = 0
        self._setup_arrays()
        n, b = self.population.n, len(self.behaviour_names)
        # The tie sums the adoption rules keep over the network (bt_sim.rules.ties.Ties).
        self.ties = Ties(self.adjacency, self.pattern, n, b)
        keyed = Keyed.of(self.streams.sequence("initial"))
        self.state = self._initial_state(keyed)
        # The components, by name (``model.hub``, ``model.collectives``, ...), set up in an
        # order that puts each after those whose state it reads; the plan takes their phases
        # in the order given, each at its anchor.
        self.components: dict[str, Component] = {cls.name: cls(self) for cls in classes}
        taken = sorted(set(self.components) & set(vars(self)))
        if taken:  # an attribute of the model would hide the component
            raise ValueError(f"component name {taken[0]!r} is taken by the model")
        self.__dict__.update(self.components)  # model.<name>: a plain attribute, read fast
        for cls in setup_order(classes):
            self.components[cls.name].init_state(keyed)
        self.phases: list[Phase] = core_phases()
        for comp in self.components.values():
            for phases, anchor in comp.placed():
                insert_at(self.phases, phases, anchor)
            comp.allocate_per_collective(self.collectives.count)
        self._reporting = [c for c in self.components.values() if c.results or c.collective_results]
        self.recorder = Recorder(
            scenario.run.steps,
            self.behaviour_names,
            self.population.neighbourhood_bounds(),
            self.population.disadvantaged,
            self.collectives.nbhd,
            scenario.hub.size_classes,
        )
        self.record()
        self._households: dict[int, Household] = {}
        self.setup_seconds = time.perf_counter() - t0
        hidden = [n for n, c in self.components.items() if self.__dict__.get(n) is not c]
        if hidden:  # set again by the model's own set-up
            raise ValueError(f"component name {hidden[0]!r} is taken by the model")

    # ---- set-up -------------------------------------------------------------------------
    def _setup_arrays(self) -> None:
        sc, pop, net = self.config, self.population, self.network
        beh = sc.behaviours
        self.adjacency = None if net.complete else net.adjacency()
        self.pattern = None if net.complete or sc.social.rule != "complex" else net.pattern()
        self.wdeg = (
            np.full(pop.n, pop.n - 1, np.float32)
            if net.complete
            else np.asarray(self.adjacency.sum(axis=1), dtype=np.float32)
        )
        owner = pop.owner[:, None]
        elig = np.array([b.eligibility for b in beh])
        self.eligible = (
            (elig == "all") | ((elig == "owners") & owner) | ((elig == "renters") & ~owner)
        )
        self.cost = np.array([b.cost for b in beh], np.float32)
        self.difficulty = np.array([b.difficulty for b in beh], np.float32)
        # What the regime's lock-in leaves of each behaviour's hazard, and the scale of the
        # pull of outside sources (social.p): set each step by the regime and the landscape
        # (bt_sim.components.regime, bt_sim.components.landscape); 1 without them.
        self.pull = np.ones(len(beh), np.float64)
        self.p_scale = 1.0
        self.kpi_effect = np.array([b.kpi_effect for b in beh], np.float32)
        self.income_rel = (sc.mastery.cost_scale * pop.income / sc.mastery.reference_income).astype(
            np.float32
        )
        self.log_keep = np.log1p(-np.minimum(self.kpi_effect, 1 - 1e-7)).astype(np.float32)

    def _initial_state(self, keyed: Keyed) -> HouseholdState:
        """The initial state. Every draw is keyed by household (or neighbourhood) in its own
        sub-stream of ``initial`` (:mod:`bt_sim.keyed`), and every selection is the prefix of
        a random order drawn once: a change that touches a few households (one more
        collective, one more founder, another share of initial adopters) leaves everyone
        else's initial state as it was."""
        sc, pop = self.config, self.population
        n, b = pop.n, len(sc.behaviours)
        adopted = np.zeros((n, b), bool)
        committed = np.zeros((n, b), bool)
        self.initial_adopters = {}
        for j, beh in enumerate(sc.behaviours):
            elig = np.flatnonzero(self.eligible[:, j])
            share = min(beh.initial_adoption + beh.committed_share, 1.0)
            count = round(share * elig.size)
            n_committed = round(beh.committed_share * elig.size)
            self.initial_adopters[beh.name] = count
            if count == 0:
                continue
            order = keyed.sub(f"adopters:{beh.name}").uniform(n)
            if sc.social.seeding == "cluster":
                start = int(smallest(order, elig, 1)[0])
                members = ball(self.network, start, pop.n)
                members = members[self.eligible[members, j]][:count]
            else:
                members = smallest(order, elig, count)
            adopted[members, j] = True
            committed[members[:n_committed], j] = True
        self.committed = committed  # never drop their behaviour (a continuation applies them)
        self.droppable = ~committed & np.array([beh.reversible for beh in sc.behaviours])[None, :]
        m = sc.mastery
        a = np.full(n, 4.0 * m.initial_efficacy)
        efficacy = keyed.sub("efficacy").beta(a, 4.0 - a).astype(np.float32)
        efficacy[pop.low_literacy] *= np.float32(m.low_literacy_efficacy)
        self.theta = draw_thresholds(
            sc.social.threshold_mean, sc.social.threshold_sd, keyed.sub("threshold").uniform(n)
        )
        _, _, shift = noise_coefficients(m.kpi_noise, sc.run.dt)
        noise = (keyed.sub("kpi_noise").normal(n) * m.kpi_noise).astype(np.float32)
        zeros = np.zeros(n, np.float32)
        factor = np.exp((adopted * self.log_keep).sum(axis=1)) * np.exp(noise - shift)  # no BLAS
        kpi = (pop.baseline_kpi * factor).astype(np.float32)
        return HouseholdState(
            adopted=adopted,
            proven=np.zeros((n, b), bool),
            efficacy=efficacy,
            goal=np.full(n, m.goal_initial, np.float32),
            effort=zeros.copy(),
            kpi=kpi,
            saving=(1.0 - factor).astype(np.float32),
            noise=noise,
            cycle_sum=zeros.copy(),
            cycle_time=zeros.copy(),
            perceived=zeros.copy(),
            success=np.zeros(n, bool),
            unmet=np.zeros(n, bool),
            fails=np.zeros(n, np.int16),
            member=np.zeros(n, bool),  # founders: the collectives component
            consent=np.zeros(n, bool),  # founders' consent: the hub component
            compared=np.zeros(n, bool),
            peer=zeros.copy(),
            trust=np.full(n, sc.hub.trust_initial, np.float32),
        )

    # ---- the plan -------------------------------------------------------------------------
    @property
    def month(self) -> float:
        """Months simulated so far (``steps_done * run.dt``)."""
        return self.steps_done * self.config.run.dt

    def step(self) -> None:
        """Advance the model by one time step (``run.dt`` months): walk ``self.phases``."""
        self.steps_done += 1
        if self._profile:
            for phase in self.phases:
                t0 = time.process_time()
                phase.run(self)
                self.phase_seconds[phase.name] = (
                    self.phase_seconds.get(phase.name, 0.0) + time.process_time() - t0
                )
        else:
            for phase in self.phases:
                phase.run(self)
        if self.steps_done >= self.config.run.steps:
            self.running = False

    _profile = False

    def plan(self) -> pd.DataFrame:
        """The step's plan as a table (order, phase, function, streams, what it does)."""
        return plan_table(self.phases)

    def insert_phase(
        self, phase: Phase, before: str | None = None, after: str | None = None
    ) -> None:
        """Insert ``phase`` into the plan before or after the phase of that name (or last)."""
        if before is not None and after is not None:
            raise ValueError("give before or after, not both")
        if before is not None:
            insert_at(self.phases, [phase], ("before", before))
        else:
            insert_at(self.phases, [phase], None if after is None else ("after", after))

    def remove_phase(self, name: str) -> Phase:
        """Take the phase ``name`` out of the plan and return it."""
        for i, p in enumerate(self.phases):
            if p.name == name:
                return self.phases.pop(i)
        raise ValueError(f"no phase named {name!r} in the plan")

    def continue_from(self, other: TransitionModel) -> None:
        """Take over the dynamic state of ``other`` (a continuation run).

        The households' state, every component's dynamic state (the collectives' progress, the
        check schedule, the hub's release history, ...) and the step count are copied, so
        this model carries on where ``other`` stopped under its own scenario (for example with
        one parameter changed: forward and backward continuation shows hysteresis); this
        scenario's committed households are adopters from now on. Both must
        describe the same world: the same households, behaviours, host neighbourhoods and
        components (build both from one seed and the same population and network keys).
        """
        import copy

        if not same_world(self, other):
            raise ValueError(
                "continue_from needs the same world: households, behaviours, host "
                "neighbourhoods and components differ"
            )
        self.state = copy.deepcopy(other.state)
        # This scenario's committed households perform their behaviour from now on (the
        # others, committed before, carry on as ordinary adopters who may drop it).
        self.state.adopted |= self.committed
        for name, comp in self.components.items():
            comp.continue_from(other.components[name])
        self.ties.copy_from(other.ties)
        self.steps_done = other.steps_done

    def record(self) -> None:
        """Record the current state as step ``steps_done`` (0 is the initial state)."""
        s = self.state
        self.recorder.record(
            self.steps_done, s.adopted, s.saving, s.efficacy, s.member, s.consent, s.compared
        )
        past = self.steps_done > self.config.run.steps  # beyond the preallocated results
        for comp in self._reporting:
            if past:
                comp.make_room(self.steps_done)
            comp.update_results(self.steps_done)

    def eligible_share(self) -> np.ndarray:
        """Share of households eligible for each behaviour."""
        return self.eligible.mean(axis=0)

    # ---- running and results ------------------------------------------------------------
    def run(self, steps: int | None = None, progress=None, profile: bool = False) -> None:
        """Run ``steps`` steps (default: the scenario's ``run.steps`` less those done).

        ``profile=True`` adds each phase's CPU time to ``model.phase_seconds``.
        """
        left = self.config.run.steps - self.steps_done
        todo = left if steps is None else min(steps, left)
        self._profile = profile
        try:
            for _ in range(max(todo, 0)):
                self.step()
                if progress is not None:
                    progress(1)
        finally:
            self._profile = False

    def timeseries(self) -> pd.DataFrame:
        """Tidy per-step table (step, month, scope, entity, variable, value); a component's
        results are overall series named ``<component>:<result>``."""
        extra = {
            f"{c.name}:{name}": values for c in self._reporting for name, values in c.result.items()
        }
        per_collective = {
            f"{c.name}:{name}": values
            for c in self._reporting
            for name, values in c.collective_series().items()
        }
        return self.recorder.timeseries(self.config.run.dt, extra, per_collective)

    def hub_panel(self) -> pd.DataFrame:
        """The hub's published aggregates per release, collective and size class."""
        return self.recorder.hub_panel(self.config.run.dt)

    def summary(self) -> dict[str, float | str]:
        """One row of end-of-run outcomes (see :func:`bt_sim.outcomes.summarise`), then each
        component's own, named ``<component>:<outcome>``."""
        from bt_sim.outcomes import summarise

        out = summarise(self)
        for comp in self.components.values():
            out.update({f"{comp.name}:{k}": v for k, v in comp.summary().items()})
        return out

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


def draw_thresholds(mean: float, sd: float, u: np.ndarray) -> np.ndarray:
    """Adoption thresholds on (0, 1]: normal(mean, sd) truncated to that interval, by the
    inverse distribution function at the uniforms ``u`` (so a household keeps its rank
    whatever the mean and spread).

    A threshold is never 0, so no household adopts without an adopting contact; ``sd = 0``
    gives ``max(mean, 1e-6)`` for everyone.

    >>> t = draw_thresholds(0.05, 0.1, np.random.default_rng(1).random(1000))
    >>> bool((t > 0).all() and (t <= 1).all())
    True
    """
    if sd <= 0:
        return np.full(u.shape[0], max(mean, 1e-6), np.float32)
    lo, hi = ndtr(-mean / sd), ndtr((1.0 - mean) / sd)
    if hi - lo < 1e-12:  # the interval lies far in a tail: its nearer edge
        theta = np.full(u.shape[0], 1.0 if mean > 1 else 1e-6)
    else:
        theta = mean + sd * ndtri(lo + u * (hi - lo))
    return np.clip(theta, 1e-6, 1.0).astype(np.float32)


def same_world(a: TransitionModel, b: TransitionModel) -> bool:
    """Whether two models describe the same world (households, behaviours, host
    neighbourhoods, components): what :meth:`TransitionModel.continue_from` needs."""
    return (
        a.population.n == b.population.n
        and a.behaviour_names == b.behaviour_names
        and np.array_equal(a.collectives.order, b.collectives.order)
        and a.collectives.count == b.collectives.count
        and np.array_equal(a.population.income, b.population.income)
        and set(a.components) == set(b.components)
    )
