"""An idiomatic, per-agent Mesa implementation of the engine's model, for side-by-side benchmarks.

:class:`BaselineModel` implements the same rules as :class:`bt_sim.model.TransitionModel` with
``social.rule = "full"`` (mastery learning, collectives and the data hub all on), the way a Mesa
user would write it: every household is a :class:`BaselineHousehold` (a ``mesa.Agent``) with
plain Python attributes, neighbours are looked up one by one from a per-agent list of
``(agent, weight)`` pairs, and the model schedules staged passes with ``model.agents.do`` /
``shuffle_do``.

To compare like with like, the baseline does not draw its own world: it builds a
``TransitionModel`` from the same scenario and seed and copies that model's population, network,
eligibility, readiness, collectives and initial state into its agents. The two then differ only
in *how* a step is computed (per-agent Python loops here, vectorised arrays in the engine), not
in the rules. Random draws come from the model's own ``self.random`` (Python's generator), so
the random streams differ from the engine's and the agreement is statistical, not bitwise
(``tests/test_baseline_agreement.py`` checks it).

Within-step semantics follow the engine exactly: every household decides on the adoption state
at the *start* of the step (a synchronous update, done here by staging the decision and applying
it in the next pass), then all KPIs are measured, the hub aggregates, everyone reflects, and
finally the collectives recruit (again staged, so recruitment sees the membership at the start
of that phase).

Examples
--------
>>> from bt_sim import load_scenario
>>> sc = load_scenario(None, ["population.households=200", "run.steps=3"])
>>> model = BaselineModel(sc, seed=1)
>>> model.run()
>>> model.steps
3
"""

from __future__ import annotations

import math
import time

import mesa

from bt_sim.model import TransitionModel
from bt_sim.scenario.schema import Scenario

__all__ = ["BaselineHousehold", "BaselineModel"]


class BaselineHousehold(mesa.Agent):
    """One household with its own attributes and a list of ``(neighbour, weight)`` pairs.

    Fixed attributes (copied from the engine's population and set-up): ``eligible`` and
    ``readiness`` per behaviour, ``baseline_kpi``, ``meter``, ``collective`` (index of the
    collective hosted in its neighbourhood, -1 if none), ``hub_group``, ``propensity`` (outreach)
    and ``reach`` (weight as a key figure). State: ``adopted`` (list of bools per behaviour),
    ``efficacy``, ``goal``, ``kpi``, ``saving``, ``success``, ``member``, ``consent``,
    ``curtail`` and ``compared``.
    """

    def __init__(self, model: BaselineModel, index: int):
        super().__init__(model)
        self.index = index
        self.neighbours: list[tuple[BaselineHousehold, float]] = []
        self.weighted_degree = 0.0
        # fixed attributes, set by the model from its source
        self.eligible: list[bool] = []
        self.readiness: list[float] = []
        self.baseline_kpi = 0.0
        self.meter = False
        self.disadvantaged = False
        self.collective = -1
        self.hub_group = 0
        self.propensity = 1.0
        self.reach = 1.0
        # state
        self.adopted: list[bool] = []
        self.efficacy = 0.0
        self.goal = 0.0
        self.kpi = 0.0
        self.saving = 0.0
        self.success = False
        self.member = False
        self.consent = False
        self.curtail = 0.0
        self.compared = False
        # staged decisions (applied in a later pass so that everyone sees the same state)
        self._next_adopted: list[bool] = []
        self._joins = False
        self._leaves = False
        self._shares = False

    # ---- 1-2. expose and do ---------------------------------------------------------------
    def decide(self) -> None:
        """Compute exposure from the neighbours' current state and draw this step's adoptions."""
        m = self.model
        n_beh = m.n_behaviours
        exposure = [0.0] * n_beh
        for other, weight in self.neighbours:
            visibility = m.visibility_success if other.success else m.visibility_base
            w = weight * visibility
            for b, done in enumerate(other.adopted):
                if done:
                    exposure[b] += w
        if self.weighted_degree > 0:
            share = [x / self.weighted_degree for x in exposure]
        else:
            share = [0.0] * n_beh
        if self.member and m.collective_weight > 0:
            # the adoption share among the *other* members of its collective
            sums = m.collective_adopted[self.collective]
            others = m.collective_members[self.collective] - 1
            mix = m.collective_weight
            for b in range(n_beh):
                fellow = (sums[b] - self.adopted[b]) / others if others > 0 else 0.0
                share[b] = (1.0 - mix) * share[b] + mix * fellow
        unmet = 1.0 if (m.mastery_enabled and not self.success) else 0.0
        nxt = list(self.adopted)
        for b in range(n_beh):
            if nxt[b] or not self.eligible[b]:
                continue
            readiness = self.readiness[b] * self.efficacy
            rate = readiness * (m.p + m.q * share[b] + m.action_rate * unmet)
            hazard = -math.expm1(-rate * m.dt)
            if self.random.random() < hazard:
                nxt[b] = True
        self._next_adopted = nxt

    # ---- 3. check -------------------------------------------------------------------------
    def measure(self) -> None:
        """Apply the staged adoptions and measure this step's KPI."""
        m = self.model
        self.adopted = self._next_adopted
        log_factor = 0.0
        for b, done in enumerate(self.adopted):
            if done:
                log_factor += m.log_keep[b]
        noise = self.random.gauss(0.0, 1.0) * m.kpi_noise
        self.kpi = self.baseline_kpi * math.exp(log_factor) * (1.0 - self.curtail) * math.exp(noise)
        self.saving = 1.0 - self.kpi / self.baseline_kpi

    # ---- 4. hub ---------------------------------------------------------------------------
    def revoke_consent(self) -> None:
        """Consent may be revoked; only members share data."""
        m = self.model
        if self.consent and m.revoke_hazard > 0 and self.random.random() < m.revoke_hazard:
            self.consent = False
        self.consent = self.consent and self.member

    def compare(self) -> None:
        """Members of a published peer group see its mean; above-average users curtail."""
        m = self.model
        published = (
            m.hub_means.get(self.hub_group) if self.member and self.collective >= 0 else None
        )
        self.compared = published is not None
        if self.compared and self.kpi > published:
            self.curtail = m.peer_effect
        else:
            self.curtail = 0.0

    # ---- 5. act ---------------------------------------------------------------------------
    def reflect(self) -> None:
        """Plan-do-check-act: success moves self-efficacy and the goal; failures may drop.

        Feedback quality: the hub (a consenting household whose peer group was published this
        step), else a meter (a smart meter, or its own data at the hub), else none.
        """
        m = self.model
        if self.consent and self.compared:
            learning, noise_sd = m.learning_hub, m.perception_noise / 4
        elif self.consent or self.meter:
            learning, noise_sd = m.learning_meter, m.perception_noise / 4
        else:
            learning, noise_sd = m.learning_none, m.perception_noise
        perceived = self.saving + self.random.gauss(0.0, 1.0) * noise_sd
        self.success = perceived >= self.goal
        if self.success:  # monthly parameters, compounded over a step of dt months
            closed = 1.0 - (1.0 - learning * m.efficacy_gain) ** m.dt
            self.efficacy += closed * (1.0 - self.efficacy)
            self.goal = min(self.goal + m.goal_step_up * m.dt, m.goal_max)
        else:
            lost = 1.0 - (1.0 - learning * m.efficacy_loss) ** m.dt
            self.efficacy -= lost * self.efficacy
            self.goal = max(self.goal - m.goal_step_down * m.dt, 0.0)
            hazard = -math.expm1(-m.drop_rate * m.dt * (1.0 - self.efficacy))
            for b, done in enumerate(self.adopted):
                if done and m.reversible[b] and self.random.random() < hazard:
                    self.adopted[b] = False

    # ---- 6. collectives -------------------------------------------------------------------
    def recruit(self) -> None:
        """Dialogue for members; non-members in a hosting neighbourhood may be recruited."""
        m = self.model
        if self.member:
            self.efficacy += m.dialogue_step * (1.0 - self.efficacy)
            self._joins = False
            self._leaves = self.random.random() < m.leave_hazard
        else:
            self._leaves = False
            self._joins = False
            if self.collective >= 0:
                tie = 0.0
                for other, weight in self.neighbours:
                    if other.member:
                        tie += weight * other.reach
                tie_share = tie / self.weighted_degree if self.weighted_degree > 0 else 0.0
                rate = m.outreach_rate * self.propensity + m.tie_rate * tie_share
                self._joins = self.random.random() < -math.expm1(-rate * m.dt)
        self._shares = self._joins and m.hub_active and self.random.random() < m.consent_rate

    def update_membership(self) -> None:
        """Apply the staged joins and leaves."""
        m = self.model
        if self._joins:
            self.member = True
            self.consent = self.consent or self._shares
            self.goal = max(self.goal, m.shared_goal)
        if self._leaves:
            self.member = False
        self.consent = self.consent and self.member


class BaselineModel(mesa.Model):
    """Per-agent Mesa implementation of ``TransitionModel`` (``social.rule = "full"``).

    Parameters
    ----------
    scenario : Scenario, optional
        The world; defaults to ``Scenario()``. Only the ``full`` rule on an explicit network is
        supported.
    seed : int, optional
        Seeds the engine model the world is copied from (so the baseline starts from exactly
        the engine's population, network and initial state) and this model's own generator.
    source : TransitionModel, optional
        An already built, not yet stepped engine model to copy from instead of building one.

    Attributes
    ----------
    setup_seconds : float
        Construction time: the source model (population, network, initial state) plus the
        agents and their neighbour lists.
    source_seconds, agents_seconds : float
        The two parts of ``setup_seconds``.
    """

    def __init__(
        self,
        scenario: Scenario | None = None,
        seed: int | None = None,
        source: TransitionModel | None = None,
    ):
        t0 = time.perf_counter()
        scenario = scenario if scenario is not None else Scenario()
        if scenario.social.rule != "full":
            raise ValueError("the baseline implements only social.rule = 'full'")
        if scenario.network.kind == "complete":
            raise ValueError("the baseline needs an explicit network (not 'complete')")
        seed = scenario.run.seed if seed is None else int(seed)
        if source is None:
            source = TransitionModel(scenario, seed=seed)
        elif int(source.steps) != 0:
            raise ValueError("the source model must not have been stepped")
        t1 = time.perf_counter()
        super().__init__(rng=seed)
        self.config = scenario
        self._set_parameters(scenario, source)
        self.households = self._build_agents(source)
        self.datacollector = mesa.DataCollector(
            model_reporters={
                **{
                    f"adoption:{name}": _adoption_reporter(b)
                    for b, name in enumerate(self.behaviour_names)
                },
                "kpi_saving": lambda mod: _mean(h.saving for h in mod.households),
                "members": lambda mod: sum(h.member for h in mod.households),
                "efficacy": lambda mod: _mean(h.efficacy for h in mod.households),
            }
        )
        self.datacollector.collect(self)
        t2 = time.perf_counter()
        self.source_seconds = t1 - t0
        self.agents_seconds = t2 - t1
        self.setup_seconds = t2 - t0

    # ---- set-up ---------------------------------------------------------------------------
    def _set_parameters(self, sc: Scenario, source: TransitionModel) -> None:
        m, soc, cc, hb = sc.mastery, sc.social, sc.collectives, sc.hub
        self.behaviour_names = tuple(b.name for b in sc.behaviours)
        self.n_behaviours = len(sc.behaviours)
        self.dt = sc.run.dt
        self.p, self.q = soc.p, soc.q
        # a neighbour's adoption weighs 1 - w, or 1 if it met its last goal; without mastery
        # learning nobody reflects, so no success is visible and every adoption weighs 1
        self.visibility_base = 1.0 - soc.success_weight if m.enabled else 1.0
        self.visibility_success = 1.0
        self.n_collectives = int(source.collective_nbhd.size)
        self.collective_weight = soc.collective_weight if self.n_collectives else 0.0
        self.mastery_enabled = m.enabled
        self.action_rate = m.action_rate
        self.log_keep = [math.log1p(-b.kpi_effect) for b in sc.behaviours]
        self.reversible = [b.reversible for b in sc.behaviours]
        self.kpi_noise = m.kpi_noise
        self.perception_noise = m.perception_noise
        self.learning_none, self.learning_meter = m.learning_none, m.learning_meter
        self.learning_hub = m.learning_hub
        self.efficacy_gain, self.efficacy_loss = m.efficacy_gain, m.efficacy_loss
        self.goal_step_up, self.goal_step_down, self.goal_max = (
            m.goal_step_up,
            m.goal_step_down,
            m.goal_max,
        )
        self.drop_rate = m.drop_rate
        self.hub_active = bool(source.hub_active)
        self.hub_k = hb.k
        self.revoke_hazard = -math.expm1(-hb.revoke_rate * self.dt)
        self.peer_effect = hb.peer_effect
        self.consent_rate = hb.consent_rate
        self.outreach_rate, self.tie_rate = cc.outreach_rate, cc.tie_rate
        self.leave_hazard = -math.expm1(-cc.leave_rate * self.dt)
        self.dialogue_step = -math.expm1(-cc.dialogue_gain * self.dt)
        self.shared_goal = min(cc.shared_goal, m.goal_max)
        self.collective_adopted: list[list[int]] = []
        self.collective_members: list[int] = []
        self.hub_means: dict[int, float] = {}

    def _build_agents(self, source: TransitionModel) -> list[BaselineHousehold]:
        pop, net, st = source.population, source.network, source.state
        n = pop.n
        households = [BaselineHousehold(self, i) for i in range(n)]
        eligible = source._eligible.tolist()
        readiness = source._readiness.astype(float).tolist()
        baseline = pop.baseline_kpi.astype(float).tolist()
        meter = source._meter.tolist()
        disadvantaged = pop.disadvantaged.tolist()
        collective = source.collective_of.tolist()
        hub_group = source._hub_group.tolist()
        propensity = source._propensity.astype(float).tolist()
        reach = source._reach.astype(float).tolist()
        adopted = st.adopted.tolist()
        efficacy = st.efficacy.astype(float).tolist()
        goal = st.goal.astype(float).tolist()
        kpi = st.kpi.astype(float).tolist()
        success = st.success.tolist()
        member = st.member.tolist()
        consent = st.consent.tolist()
        curtail = st.curtail.astype(float).tolist()
        compared = st.compared.tolist()
        indptr = net.indptr.tolist()
        indices = net.indices.tolist()
        weights = net.weights.astype(float).tolist()
        for i, h in enumerate(households):
            h.eligible = eligible[i]
            h.readiness = readiness[i]
            h.baseline_kpi = baseline[i]
            h.meter = meter[i]
            h.disadvantaged = disadvantaged[i]
            h.collective = collective[i]
            h.hub_group = hub_group[i]
            h.propensity = propensity[i]
            h.reach = reach[i]
            h.adopted = adopted[i]
            h.efficacy = efficacy[i]
            h.goal = goal[i]
            h.kpi = kpi[i]
            h.saving = 1.0 - kpi[i] / baseline[i]
            h.success = success[i]
            h.member = member[i]
            h.consent = consent[i]
            h.curtail = curtail[i]
            h.compared = compared[i]
            lo, hi = indptr[i], indptr[i + 1]
            h.neighbours = [
                (households[j], w) for j, w in zip(indices[lo:hi], weights[lo:hi], strict=True)
            ]
            h.weighted_degree = sum(w for _, w in h.neighbours)
        return households

    # ---- the schedule ---------------------------------------------------------------------
    def step(self) -> None:
        """One time step, in the engine's order of phases."""
        if self.collective_weight > 0:
            self._count_collective_adoption()
        self.agents.shuffle_do("decide")
        self.agents.do("measure")
        if self.hub_active:
            self.agents.do("revoke_consent")
            self._hub_aggregate()
            self.agents.do("compare")
        if self.mastery_enabled:
            self.agents.do("reflect")
        if self.n_collectives:
            self.agents.shuffle_do("recruit")
            self.agents.do("update_membership")
        self.datacollector.collect(self)

    def _count_collective_adoption(self) -> None:
        """Per collective, its members and how many of them perform each behaviour."""
        adopted = [[0] * self.n_behaviours for _ in range(self.n_collectives)]
        members = [0] * self.n_collectives
        for h in self.agents:
            if h.member:
                members[h.collective] += 1
                row = adopted[h.collective]
                for b, done in enumerate(h.adopted):
                    if done:
                        row[b] += 1
        self.collective_adopted = adopted
        self.collective_members = members

    def _hub_aggregate(self) -> None:
        """Mean KPI of consenting households per peer group, published from ``k`` households."""
        totals: dict[int, float] = {}
        counts: dict[int, int] = {}
        for h in self.agents:
            if h.consent:
                totals[h.hub_group] = totals.get(h.hub_group, 0.0) + h.kpi
                counts[h.hub_group] = counts.get(h.hub_group, 0) + 1
        self.hub_means = {g: totals[g] / c for g, c in counts.items() if c >= self.hub_k}

    def run(self, steps: int | None = None) -> None:
        """Run ``steps`` steps (default: the scenario's ``run.steps`` less those done)."""
        todo = self.config.run.steps - self.steps if steps is None else steps
        for _ in range(max(todo, 0)):
            self.step()

    # ---- results --------------------------------------------------------------------------
    def summary(self) -> dict[str, float]:
        """End-of-run outcomes under the same names as ``TransitionModel.summary()``."""
        hs = self.households
        n = len(hs)
        out: dict[str, float] = {"steps": float(self.steps), "households": float(n)}
        for b, name in enumerate(self.behaviour_names):
            out[f"final_adoption:{name}"] = sum(h.adopted[b] for h in hs) / n
        out["any_adoption"] = sum(any(h.adopted) for h in hs) / n
        out["kpi_saving"] = _mean(h.saving for h in hs)
        hosted = sum(h.collective >= 0 for h in hs)
        members = sum(h.member for h in hs)
        out["members"] = float(members)
        out["member_share"] = members / hosted if hosted else float("nan")
        out["consenting"] = float(sum(h.consent for h in hs))
        out["compared_share"] = sum(h.compared for h in hs) / n
        out["mean_efficacy"] = _mean(h.efficacy for h in hs)
        return out


def _adoption_reporter(b: int):
    return lambda mod: sum(h.adopted[b] for h in mod.households) / len(mod.households)


def _mean(values) -> float:
    total, count = 0.0, 0
    for v in values:
        total += v
        count += 1
    return total / count if count else float("nan")
