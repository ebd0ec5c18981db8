"""An idiomatic, per-agent Mesa implementation of the engine's model, for side-by-side benchmarks.

:class:`BaselineModel` implements the same rules as :class:`bt_sim.model.TransitionModel` with
``social.rule = "full"`` (mastery learning, collectives and the data hub all on), the way a
careful Mesa user would write it: every household is a :class:`BaselineHousehold` (a
``mesa.Agent``) with plain Python attributes, neighbours are looked up one by one from a
per-agent list of ``(agent, weight)`` pairs, and the model runs staged passes over its
households. Each household keeps the tuple of behaviours it performs (and the weight with which
it shows each), so a contact who performs none costs one multiplication; parameters are read
into locals before the hot loops; passes are merged wherever the rules allow.

What a careful per-agent author does, and this baseline does (the factors are the CPU time
with the change over the time without it, measured by an outside audit of the earlier version;
with all of them together, and the whole hub below, ``benchmarks/side_by_side.py --steps
120`` measured here 0.52 at 10,000 households (58.0 against 110.7 ms a step) and 0.61 at
100,000 (808.8 against 1,332.9 ms), on 2026-12-04):

* the household's own attributes in ``__slots__``: with 46 in each instance's ``__dict__``,
  CPython 3.12 leaves its compact shared-key layout (0.70);
* work only where the rules put it: each household is filed under the step its next check
  falls in and only those households are visited to check (no ``floor`` test of everyone every
  step); peer comparisons and the collective purchase's scores go over the members (kept in an
  insertion-ordered dict, so runs repeat), the collectives pass over the households that have
  a collective in their neighbourhood, what contacts see is refreshed only for the households
  that adopted or checked (0.74 in the audit, with the running counts below);
* what does not change between a household's open behaviours computed once per household
  (``efficacy dt p``, ``efficacy dt pull``, ``1 / denominator`` with the member's weight on
  contacts folded in, ``cw / fellow members``) (0.93); the KPI
  noise's normal numbers by Box-Muller inline, two per pair of draws, instead of a
  ``random.gauss`` method call per household (0.94);
* the exposure list and the staged adoptions refilled in place instead of two new lists per
  household per step, which made the garbage collector sweep the whole world again and again
  (0.90 at 100,000 households);
* the record's aggregates kept as running counts where they change (adoptions, drops,
  efficacy updates, the measure pass's saving) and the record pass over the members only
  (``tests/test_baseline_agreement.py`` checks them against a recount every step).

The hub is the engine's whole hub, so that the two do the same work in the benchmark world
(default hub keys): consenting members revoke with a hazard that falls with their trust and
members who do not share opt in with one that rises with it; at a release (every
``hub.report_months``) a group is published with ``k`` or more consenting members whose roster
equals an earlier one or differs from every earlier one by ``min_change`` or more, its mean
saving clipped and noised (Laplace, ``epsilon``); members' trust moves towards the mean of being
compared and their collective's published progress. ``tests/test_baseline_agreement.py`` checks
agreement with this hub and with the exact monthly one.

To compare like with like, the baseline does not draw its own world: it builds a
``TransitionModel`` from the same scenario and seed and copies that model's population, network,
eligibility, collectives and initial state (including each household's cycle phase
``check_offset``, ``meter``, ``droppable`` and ``theta``) into its agents. The two then differ
only in *how* a step is computed (per-agent Python loops here, vectorised arrays and compiled
kernels in the engine), not in the rules. Random draws come from the model's own
``self.random`` (Python's generator), so the random streams differ from the engine's and the
agreement is statistical, not bitwise (``tests/test_baseline_agreement.py`` checks it).

One step follows the engine's plan of phases (:mod:`bt_sim.phases`), as four passes over the
households and a short list of membership changes:

1. **decide** (adopt): exposure from the contacts' role weights and visible behaviours, mixed
   with fellow members' adoption; one draw per open (eligible, not performed) behaviour. The
   new adoptions are staged, so everyone decides on the state at the start of the step.
2. **measure + hub** : staged adoptions applied, effort relapses, the KPI noise moves, the KPI
   is measured; the peer curtailment fades, consent may be revoked or given (by trust), each
   collective's member savings are summed and, at a release, the hub's per-group totals and
   rosters, from which it publishes (``k``, ``min_change``, Laplace noise).
3. **compare + reflect**: at a release, peer comparisons and trust; households at the end of
   their cycle check, learn and may drop behaviours (with norm support from pass 1's
   exposure); each household's role weight and visible behaviours for the next step;
   campaign scores.
4. **collectives**: celebrations, dialogue, value-driven leaving and joining (staged, so
   recruitment sees the membership at the start of the phase), then the changes are applied.
5. **record**: per-step aggregates (and fellow members' adoption counts for the next step).

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
import numpy as np

from bt_sim.model import TransitionModel
from bt_sim.rules.kpi import noise_coefficients
from bt_sim.rules.social import household_readiness
from bt_sim.scenario.schema import Scenario

__all__ = ["BaselineHousehold", "BaselineModel"]


class BaselineHousehold(mesa.Agent):
    """One household with its own attributes and a list of ``(neighbour, weight)`` pairs.

    Fixed attributes (copied from the engine's population and set-up): ``eligible``,
    ``ready`` and ``ready_joint`` (readiness at the full and the joint-purchase cost, 0 where
    not eligible), ``droppable`` per behaviour; ``key`` (role-model weight as a key figure),
    ``baseline_kpi``, ``meter``, ``check_offset``, ``theta``, ``collective`` (index of the
    collective hosted in its neighbourhood, -1 if none), ``hub_group``, ``propensity``
    (outreach) and ``reach`` (weight as a key figure in recruitment).

    State: ``adopted`` and ``proven`` (lists of bools per behaviour), ``doing`` (tuple of the
    behaviours performed), ``open`` (tuple of those it may still adopt), ``efficacy``,
    ``goal``, ``effort``, ``kpi``, ``saving``, ``noise``, ``cycle_sum``, ``cycle_time``,
    ``perceived``, ``success``, ``unmet``, ``fails``, ``member``, ``consent``, ``compared``,
    ``peer``; ``role`` and ``shows`` (its weight as a role model and the ``(behaviour,
    weight)`` pairs it visibly performs), ``exposure`` and ``denom`` (tie sums of what its
    contacts show and of their role weights, kept from the adopt pass for dropping).
    """

    # The household's own attributes in slots: with 46 of them in each instance's __dict__,
    # CPython 3.12 gives up its compact shared-key layout (measured: 0.70 of the CPU time).
    __slots__ = (
        "adopted",
        "baseline_kpi",
        "check_offset",
        "collective",
        "compared",
        "consent",
        "cycle_sum",
        "cycle_time",
        "denom",
        "disadvantaged",
        "doing",
        "droppable",
        "efficacy",
        "effort",
        "eligible",
        "exposure",
        "fails",
        "goal",
        "hosted",
        "hub_group",
        "index",
        "key",
        "kpi",
        "member",
        "meter",
        "neighbours",
        "new",
        "next_check",
        "noise",
        "open",
        "peer",
        "perceived",
        "propensity",
        "proven",
        "reach",
        "ready",
        "ready_joint",
        "role",
        "saving",
        "shows",
        "success",
        "theta",
        "trust",
        "unmet",
        "weighted_degree",
    )  # fmt: skip

    def __init__(self, model: BaselineModel, index: int):
        super().__init__(model)
        self.index = index
        self.next_check = 0  # the step at whose end its next check falls
        self.neighbours: list[tuple[BaselineHousehold, float]] = []
        self.weighted_degree = 0.0
        # fixed attributes, set by the model from its source
        self.eligible: list[bool] = []
        self.ready: list[float] = []
        self.ready_joint: list[float] = []
        self.droppable: list[bool] = []
        self.key = 1.0
        self.baseline_kpi = 0.0
        self.meter = False
        self.check_offset = 0.0
        self.theta = 0.0
        self.disadvantaged = False
        self.collective = -1
        self.hosted = False
        self.hub_group = 0
        self.propensity = 1.0
        self.reach = 1.0
        # state
        self.adopted: list[bool] = []
        self.proven: list[bool] = []
        self.doing: tuple[int, ...] = ()
        self.open: tuple[int, ...] = ()
        self.efficacy = 0.0
        self.goal = 0.0
        self.effort = 0.0
        self.kpi = 0.0
        self.saving = 0.0
        self.noise = 0.0
        self.cycle_sum = 0.0
        self.cycle_time = 0.0
        self.perceived = 0.0
        self.success = False
        self.unmet = False
        self.fails = 0
        self.member = False
        self.consent = False
        self.compared = False
        self.peer = 0.0
        self.trust = 0.0
        # what contacts see of it, and what it saw of them in the adopt pass
        self.role = 1.0
        self.shows: tuple[tuple[int, float], ...] = ()
        self.exposure: list[float] = [0.0] * model.n_behaviours
        self.denom = 0.0
        # staged adoptions (applied in the next pass so that everyone sees the same state)
        self.new: list[int] = []

    def show(self, w: float) -> None:
        """Its weight as a role model and the behaviours it visibly performs (success weight
        ``w``): ``rho = (1 - w + w success) k`` and ``v_b = (1 - w + w proven_b) k``."""
        k = self.key
        self.role = (1.0 - w + w * self.success) * k
        proven = self.proven
        self.shows = tuple((b, (1.0 - w + w * proven[b]) * k) for b in self.doing)

    def update_behaviours(self) -> None:
        """Refresh ``doing`` and ``open`` after adoptions or drops."""
        adopted, eligible = self.adopted, self.eligible
        rng = range(len(adopted))
        self.doing = tuple(b for b in rng if adopted[b])
        self.open = tuple(b for b in rng if eligible[b] and not adopted[b])


def _response(s: float, sigmoid: bool, mid_h: float, h: float) -> float:
    """Exposure response: ``s`` (linear) or ``s^h (1 + c^h) / (s^h + c^h)`` (sigmoid)."""
    if not sigmoid or s <= 0.0:
        return s
    sh = s**h
    return sh * (1.0 + mid_h) / (sh + mid_h)


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
        elif source.steps_done != 0:
            raise ValueError("the source model must not have been stepped")
        t1 = time.perf_counter()
        super().__init__(rng=seed)
        self.config = scenario
        self._set_parameters(scenario, source)
        self.households = self._build_agents(source)
        # households that can ever be members (a collective in their neighbourhood), the
        # members now (a dict: insertion-ordered, so runs repeat), and the households whose
        # check falls in each step (event-driven: only they are visited to check)
        self.hosted = [h for h in self.households if h.collective >= 0]
        self.members = {h: None for h in self.households if h.member}
        self.due: dict[int, list[BaselineHousehold]] = {}
        if self.mastery_enabled:
            for h in self.households:
                self._schedule(h, 0)
        # running counts for the record (kept up to date where they change, not re-counted)
        self.counts = [0] * self.n_behaviours
        for h in self.households:
            for b in h.doing:
                self.counts[b] += 1
        self.any_count = sum(1 for h in self.households if h.doing)
        self.saving_sum = sum(h.saving for h in self.households)
        self.efficacy_sum = sum(h.efficacy for h in self.households)
        self.row: dict[str, float] = {}
        self.datacollector = mesa.DataCollector(
            model_reporters={
                name: _row_reporter(name)
                for name in (
                    *(f"adoption:{b}" for b in self.behaviour_names),
                    "any_adoption",
                    "kpi_saving",
                    "efficacy",
                    "members",
                    "consenting",
                    "compared",
                )
            }
        )
        self._record()
        t2 = time.perf_counter()
        self.source_seconds = t1 - t0
        self.agents_seconds = t2 - t1
        self.setup_seconds = t2 - t0

    # ---- set-up ---------------------------------------------------------------------------
    def _set_parameters(self, sc: Scenario, source: TransitionModel) -> None:
        m, soc, cc, hb, dt = sc.mastery, sc.social, sc.collectives, sc.hub, sc.run.dt
        self.behaviour_names = tuple(b.name for b in sc.behaviours)
        self.n_behaviours = len(sc.behaviours)
        self.dt = dt
        # adopt
        self.p, self.q = soc.p, soc.q
        self.success_weight = soc.success_weight if m.enabled else 0.0  # nobody checks
        self.sigmoid = soc.response == "sigmoid"
        self.mid_h = soc.response_midpoint**soc.response_steepness
        self.steepness = soc.response_steepness
        self.n_collectives = int(source.collectives.count)
        self.collective_weight = soc.collective_weight if self.n_collectives else 0.0
        self.action_rate = m.action_rate if m.enabled else 0.0
        # The joint-action campaign: the default catalogue's collective purchase (rounds of
        # ``every_months`` back to back from that month, on the behaviour saving most); a
        # catalogue without one has no joint action.
        buy = next(
            (x for x in sc.interventions if x.enabled and x.kind == "collective_purchase"), None
        )
        self.joint_rate = buy.pull_rate if buy else 0.0
        self.joint_discount = buy.discount if buy else 0.0
        # measure
        self.log_keep = [float(x) for x in source.log_keep]
        self.kpi_effect = [float(x) for x in source.kpi_effect]
        self.effort_max = m.effort_max
        self.effort_keep = math.exp(-m.effort_relapse * dt)
        self.noise_keep, self.noise_scale, self.noise_shift = noise_coefficients(m.kpi_noise, dt)
        self.noisy = m.kpi_noise > 0
        # hub
        self.peer_keep = math.exp(-hb.peer_decay * dt) if hb.peer_decay > 0 else 1.0
        self.hub_active = bool(source.hub.active)
        self.hub_k = hb.k
        # The hub as the engine's: consenting members revoke with a hazard that falls with
        # their trust, members who do not share opt in with one that rises with it; at a
        # release a group is published with k or more consenting members whose roster equals
        # an earlier one or differs from every earlier one by min_change or more, its mean
        # saving clipped to SAVING_RANGE and noised (Laplace, epsilon); members' trust moves
        # towards the mean of being compared and their collective's published progress.
        self.revoke_dt, self.opt_in_dt = hb.revoke_rate * dt, hb.opt_in_rate * dt
        self.trust_share = -math.expm1(-hb.trust_rate * hb.report_months)
        self.min_change, self.epsilon, self.rounding = hb.min_change, hb.epsilon, hb.count_rounding
        self.classes = sc.hub.size_classes
        self.past_rosters: dict[int, list[frozenset[int]]] = {}
        self.release_now = False
        self.hub_progress = [0.0] * int(source.collectives.count)
        self.report_months = hb.report_months
        self.peer_effect, self.peer_slope = hb.peer_effect, hb.peer_slope
        self.consent_rate = hb.consent_rate
        self.hub_means: dict[int, float] = {}
        # reflect
        self.mastery_enabled = m.enabled
        self.cycle_months = m.cycle_months
        sd, learning, rel = source.mastery.feedback
        self.perception_sd = [float(x) for x in sd]
        self.learning = [float(x) for x in learning]
        self.reliability = [float(x) for x in rel]
        self.efficacy_gain, self.efficacy_loss = m.efficacy_gain, m.efficacy_loss
        self.effort_gain = m.effort_gain
        self.goal_step_up, self.goal_step_down = m.goal_step_up, m.goal_step_down
        self.goal_patience = m.goal_patience
        self.goal_floor, self.goal_max = m.goal_initial, m.goal_max
        self.drop_chance = m.drop_chance
        self.norm_support = soc.norm_support
        # collectives
        k = self.n_collectives
        self.shared_goal, self.milestone = cc.shared_goal, cc.milestone
        self.celebration_gain = cc.celebration_gain
        self.campaign_months = buy.every_months if buy else math.inf
        self.dialogue_step = -math.expm1(-cc.dialogue_gain * dt) if cc.dialogue_gain > 0 else 0.0
        self.outreach_rate, self.tie_rate = cc.outreach_rate, cc.tie_rate
        self.other_member_weight = cc.other_member_weight
        self.leave_rate = cc.leave_rate
        self.collective_saving = [0.0] * k
        self.progress = [0.0] * k
        self.celebrated = [0] * k
        self.focus = [-1] * k
        self.fellow_adopted: list[list[int]] = [[0] * self.n_behaviours for _ in range(k)]
        self.fellow_count = [0] * k

    def _build_agents(self, source: TransitionModel) -> list[BaselineHousehold]:
        pop, net, st, sc = source.population, source.network, source.state, self.config
        n = pop.n
        households = [BaselineHousehold(self, i) for i in range(n)]
        eligible = source.eligible.tolist()
        ready = household_readiness(source).astype(float).tolist()
        ready_joint = household_readiness(source, discount=self.joint_discount)
        ready_joint = ready_joint.astype(float).tolist()
        droppable = source.droppable.tolist()
        key = np.where(pop.gatekeeper, sc.social.key_figure_weight, 1.0).tolist()
        baseline = pop.baseline_kpi.astype(float).tolist()
        meter = source.mastery.meter.tolist()
        offset = source.mastery.check_offset.astype(float).tolist()
        theta = source.theta.astype(float).tolist()
        disadvantaged = pop.disadvantaged.tolist()
        collective = source.collectives.of.tolist()
        hub_group = source.hub.group.tolist()
        propensity = source.collectives.propensity.astype(float).tolist()
        reach = source.collectives.reach.astype(float).tolist()
        floats = {
            name: getattr(st, name).astype(float).tolist()
            for name in (
                "efficacy",
                "goal",
                "effort",
                "kpi",
                "saving",
                "noise",
                "cycle_sum",
                "cycle_time",
                "perceived",
                "peer",
                "trust",
            )
        }
        flags = {
            name: getattr(st, name).tolist()
            for name in ("success", "unmet", "member", "consent", "compared")
        }
        adopted = st.adopted.tolist()
        proven = st.proven.tolist()
        fails = st.fails.tolist()
        indptr = net.indptr.tolist()
        indices = net.indices.tolist()
        weights = net.weights.astype(float).tolist()
        w = self.success_weight
        for i, h in enumerate(households):
            h.eligible = eligible[i]
            h.ready = ready[i]
            h.ready_joint = ready_joint[i]
            h.droppable = droppable[i]
            h.key = key[i]
            h.baseline_kpi = baseline[i]
            h.meter = meter[i]
            h.check_offset = offset[i]
            h.theta = theta[i]
            h.disadvantaged = disadvantaged[i]
            h.collective = collective[i]
            h.hosted = collective[i] >= 0
            h.hub_group = hub_group[i]
            h.propensity = propensity[i]
            h.reach = reach[i]
            h.adopted = adopted[i]
            h.proven = proven[i]
            h.fails = fails[i]
            for name, values in floats.items():
                setattr(h, name, values[i])
            for name, values in flags.items():
                setattr(h, name, values[i])
            h.update_behaviours()
            h.show(w)
            lo, hi = indptr[i], indptr[i + 1]
            h.neighbours = [
                (households[j], wt) for j, wt in zip(indices[lo:hi], weights[lo:hi], strict=True)
            ]
            h.weighted_degree = sum(wt for _, wt in h.neighbours)
        return households

    # ---- the schedule ---------------------------------------------------------------------
    def _schedule(self, h: BaselineHousehold, after: int) -> None:
        """File ``h`` under the first step after ``after`` whose end completes one of its
        cycles: the step ``s`` where ``floor((s dt + offset) / cycle)`` moves on (the same
        test the engine makes of every household every step, made here once per check)."""
        dt, cycle, off = self.dt, self.cycle_months, h.check_offset
        floor = math.floor
        s = after + 1
        for _ in range(100_000):  # a cycle of up to 100,000 steps; longer never checks
            t1 = s * dt
            if floor((t1 + off) / cycle) > floor((t1 - dt + off) / cycle):
                h.next_check = s
                self.due.setdefault(s, []).append(h)
                return
            s += 1

    def step(self) -> None:
        """One time step (``run.dt`` months), in the engine's order of phases."""
        t1 = self.steps * self.dt
        t0 = t1 - self.dt
        interval = self.report_months
        self.release_now = self.hub_active and (
            math.floor(t1 / interval + 1e-9) > math.floor(t0 / interval + 1e-9)
        )
        self._decide()
        self._measure_and_hub()
        self._compare_and_reflect(t0, t1)
        if self.n_collectives:
            self._collectives(t0, t1)
        self._record()
        if self.steps >= self.config.run.steps:
            self.running = False

    def _decide(self) -> None:
        """Adopt: exposure to contacts (and fellow members), one draw per open behaviour."""
        nb = self.n_behaviours
        p, q, action_rate, dt = self.p, self.q, self.action_rate, self.dt
        sigmoid, mid_h, steep = self.sigmoid, self.mid_h, self.steepness
        cw = self.collective_weight
        mix = cw > 0
        own_w = 1.0 - cw
        fellow_adopted, fellow_count = self.fellow_adopted, self.fellow_count
        focus_of, progress, joint_rate = self.focus, self.progress, self.joint_rate
        can_drop = self.mastery_enabled and self.drop_chance > 0
        rand = self.random.random
        expm1 = math.expm1
        zeros = [0.0] * nb
        for h in self.households:
            open_ = h.open
            new = h.new  # refilled in place: no new lists for the collector to sweep
            if new:
                new.clear()
            if not open_ and not (can_drop and h.doing):
                continue
            exposure = h.exposure
            exposure[:] = zeros
            denom = 0.0
            for other, w in h.neighbours:
                denom += w * other.role
                for b, v in other.shows:
                    exposure[b] += w * v
            h.denom = denom
            if open_:
                # per household, not per behaviour: the hazard is ready_b (ep + epull share_b)
                e = h.efficacy * dt
                ep, epull = e * p, e * (q + action_rate * h.unmet)
                # a member weighs its contacts by 1 - cw and its fellow members by cw
                inv = 1.0 / denom if denom > 0 else 0.0
                ready = h.ready
                fellows = False
                focus = -1
                if h.member:
                    c = h.collective
                    focus = focus_of[c]
                    if mix:
                        inv *= own_w
                        sums, others = fellow_adopted[c], fellow_count[c] - 1
                        fellows, adopted = others > 0, h.adopted
                        per_other = cw / others if fellows else 0.0
                for b in open_:
                    share = exposure[b] * inv
                    if fellows:
                        share += per_other * (sums[b] - adopted[b])
                    if sigmoid and share > 0.0:
                        sh = share**steep
                        share = sh * (1.0 + mid_h) / (sh + mid_h)
                    if b == focus:
                        joint = joint_rate * (1.0 - progress[c])
                        rate = h.ready_joint[b] * (ep + epull * share + e * joint)
                    else:
                        rate = ready[b] * (ep + epull * share)
                    if rand() < -expm1(-rate):  # rate already times dt (e is efficacy dt)
                        new.append(b)

    def _measure_and_hub(self) -> None:
        """Staged adoptions applied; measure (effort, noise, KPI, saving, cycle integral);
        hub (peer curtailment fades, revocations, per-group totals); members' savings."""
        log_keep, effort_max, effort_keep = self.log_keep, self.effort_max, self.effort_keep
        noisy, nkeep, nscale, nshift = (
            self.noisy,
            self.noise_keep,
            self.noise_scale,
            self.noise_shift,
        )
        peer_keep, dt = self.peer_keep, self.dt
        hub_active, revoke_dt, opt_in_dt = self.hub_active, self.revoke_dt, self.opt_in_dt
        release = self.release_now
        rosters: dict[int, list[int]] = {}
        rand, exp, log, sqrt, cos, sin, expm1 = (
            self.random.random, math.exp, math.log, math.sqrt, math.cos, math.sin, math.expm1,
        )  # fmt: skip
        tau = 2.0 * math.pi
        spare = None  # Box-Muller gives normals in pairs: the second waits for the next household
        totals: dict[int, float] = {}
        counts: dict[int, int] = {}
        k = self.n_collectives
        msum, mcount = [0.0] * k, [0] * k
        changed = self.changed = []
        adopters = self.counts
        started = 0  # households that did nothing and now do something
        saving_sum = 0.0
        for h in self.households:
            if h.new:
                adopted = h.adopted
                started += not h.doing
                for b in h.new:
                    adopted[b] = True
                    adopters[b] += 1
                h.update_behaviours()
                changed.append(h)
            lk = 0.0
            for b in h.doing:
                lk += log_keep[b]
            ef = h.effort * effort_keep
            h.effort = ef
            factor = exp(lk) * (1.0 - effort_max * ef) * (1.0 - h.peer)
            if noisy:
                if spare is None:
                    r, a = sqrt(-2.0 * log(1.0 - rand())), tau * rand()
                    z, spare = r * cos(a), r * sin(a)
                else:
                    z, spare = spare, None
                x = h.noise * nkeep + nscale * z
                h.noise = x
                factor *= exp(x - nshift)
            kpi = h.baseline_kpi * factor
            h.kpi = kpi
            sv = 1.0 - factor
            h.saving = sv
            saving_sum += sv
            h.cycle_sum += sv * dt
            h.cycle_time += dt
            h.peer *= peer_keep
            if h.member:
                c = h.collective
                msum[c] += sv
                mcount[c] += 1
            if not hub_active:
                continue
            if not h.member:
                h.consent = False
                continue
            if h.consent and revoke_dt > 0 and rand() < -expm1(-revoke_dt * (1.0 - h.trust)):
                h.consent = False
            if not h.consent and opt_in_dt > 0 and rand() < -expm1(-opt_in_dt * h.trust):
                h.consent = True
            if h.consent and release:
                g = h.hub_group
                totals[g] = totals.get(g, 0.0) + min(max(sv, -0.25), 0.75)
                counts[g] = counts.get(g, 0) + 1
                rosters.setdefault(g, []).append(h.index)
        self.any_count += started
        self.saving_sum = saving_sum
        if release:
            self._release(totals, counts, rosters)
        self.collective_saving = [s / c if c else 0.0 for s, c in zip(msum, mcount, strict=True)]

    def _release(self, totals: dict, counts: dict, rosters: dict) -> None:
        """A release: the groups that may be published (k, and a roster equal to an earlier
        one or min_change away from every earlier one), their clipped mean saving with
        Laplace noise, and each collective's published progress (count-weighted)."""
        k, lo, hi = self.hub_k, -0.25, 0.75
        eps, rounding, classes = self.epsilon, self.rounding, self.classes
        rand, log1p = self.random.random, math.log1p
        means: dict[int, float] = {}
        weight = [0] * self.n_collectives
        total = [0.0] * self.n_collectives
        for g, n in counts.items():
            if n < k:
                continue
            roster = frozenset(rosters[g])
            past = self.past_rosters.setdefault(g, [])
            seen, ok = False, True
            for before in past:
                d = len(roster ^ before)
                if d == 0:
                    seen = True
                    break
                if d < self.min_change:
                    ok = False
                    break
            if not ok:
                continue
            if not seen:
                past.append(roster)
            m = totals[g] / n
            if eps > 0:
                c = rand() - 0.5
                noise = -(hi - lo) / (n * eps) * log1p(-2.0 * abs(c) + 1e-300)
                m = min(max(m + (noise if c > 0 else -noise), lo), hi)
            means[g] = m
            shown = max((n // rounding) * rounding, k)  # the published count
            weight[g // classes] += shown
            total[g // classes] += m * shown
        self.hub_means = means
        goal = self.shared_goal
        self.hub_progress = [
            min(max(t / w / goal, 0.0), 1.0) if w >= k and w > 0 else 0.0
            for t, w in zip(total, weight, strict=True)
        ]

    def _compare_and_reflect(self, t0: float, t1: float) -> None:
        """Peer comparisons at a release; checks at the end of a cycle (success, efficacy,
        effort, goal, proven, unmet) and dropping; role weights for the next step; campaign
        scores at a campaign boundary."""
        release = self.release_now
        means = self.hub_means
        effect, slope = self.peer_effect, self.peer_slope
        top = 4.0 * effect
        mastery = self.mastery_enabled
        hub_active = self.hub_active
        sds, learning, reliability = self.perception_sd, self.learning, self.reliability
        gain, loss, effort_gain = self.efficacy_gain, self.efficacy_loss, self.effort_gain
        up, down, patience = self.goal_step_up, self.goal_step_down, self.goal_patience
        floor_, gmax = self.goal_floor, self.goal_max
        chance, norm = self.drop_chance, self.norm_support
        sigmoid, mid_h, steep = self.sigmoid, self.mid_h, self.steepness
        w = self.success_weight
        nb = self.n_behaviours
        k = self.n_collectives
        campaign = k > 0 and (
            math.floor(t1 / self.campaign_months + 1e-9)
            > math.floor(t0 / self.campaign_months + 1e-9)
        )
        score = [[0.0] * nb for _ in range(k)]
        kpi_effect = self.kpi_effect
        rand, gauss = self.random.random, self.random.gauss
        members = self.members
        if release:  # peer comparison and trust: members only (the others never are)
            share, progress = self.trust_share, self.hub_progress
            for h in members:
                mean = means.get(h.hub_group)
                if mean is None:
                    h.compared = False
                else:
                    h.compared = True
                    rel = (1.0 - h.saving) / (1.0 - mean) - 1.0  # use vs peers, as savings
                    target = min(max(effect * (1.0 + slope * rel), 0.0), top)
                    if target > h.peer:
                        h.peer = target
                if share > 0:
                    value = 0.5 * (h.compared + progress[h.collective])
                    h.trust += share * (value - h.trust)
        step = self.steps
        due = self.due.pop(step, ()) if mastery else ()
        adopters, d_efficacy, stopped = self.counts, 0.0, 0
        for h in due:  # the households whose cycle ends in this step, and only they
            lv = 1 if h.meter else 0
            if hub_active and h.consent:
                lv = 2 if h.compared else 1
            lr = learning[lv]
            t = h.cycle_time
            seen = (h.cycle_sum / t if t > 0 else 0.0) + sds[lv] * gauss(0.0, 1.0)
            h.perceived = seen
            h.cycle_sum = h.cycle_time = 0.0
            g = h.goal
            ok = seen >= g
            h.success = ok
            h.unmet = not ok
            e = h.efficacy
            h.effort = min(max(h.effort + lr * reliability[lv] * effort_gain * (g - seen), 0), 1)
            if ok:
                h.efficacy = e + lr * gain * (1.0 - e)
                d_efficacy += h.efficacy - e
                h.goal = min(g + up, gmax)
                h.fails = 0
                h.proven = list(h.adopted)
            else:
                d_efficacy -= lr * loss * e
                e = e - lr * loss * e
                h.efficacy = e
                f = h.fails + 1
                if f >= patience:
                    h.goal = max(g - down, floor_)
                    f = 0
                h.fails = f
                h.proven = [False] * nb
                if chance > 0 and h.doing:
                    changed = False
                    prob = chance * (1.0 - e) * (1.0 - reliability[lv])
                    exposure, denom = h.exposure, h.denom
                    droppable, adopted = h.droppable, h.adopted
                    for b in h.doing:
                        if droppable[b]:
                            s = exposure[b] / denom if denom > 0 else 0.0
                            if sigmoid and s > 0.0:
                                sh = s**steep
                                s = sh * (1.0 + mid_h) / (sh + mid_h)
                            if rand() < prob * (1.0 - norm * s):
                                adopted[b] = False
                                adopters[b] -= 1
                                changed = True
                    if changed:
                        h.update_behaviours()
                        stopped += not h.doing
            h.show(w)
            self._schedule(h, step)
        self.efficacy_sum += d_efficacy
        self.any_count -= stopped
        checked = {h.index for h in due}
        for h in self.changed:  # new adoptions change what contacts see
            if h.index not in checked:
                h.show(w)
        if campaign:  # the members' scores for the collective purchase's behaviour
            for h in members:
                row, ready = score[h.collective], h.ready_joint
                for b in h.open:
                    row[b] += ready[b] * kpi_effect[b]
        if campaign:
            focus = []
            for row in score:
                best = max(row)
                focus.append(row.index(best) if best > 0 else -1)
            self.focus = focus

    def _collectives(self, t0: float, t1: float) -> None:
        """Progress and celebrations; dialogue; value-driven leaving and joining through
        outreach and member ties (staged); consent of new members."""
        goal, step = self.shared_goal, self.milestone
        top = math.ceil(goal / step - 1e-9)
        self.progress = [min(max(s / goal, 0.0), 1.0) for s in self.collective_saving]
        celebrate = []
        for c, s in enumerate(self.collective_saving):
            reached = min(math.floor(s / step + 1e-9), top)
            celebrate.append(reached > self.celebrated[c] and self.celebration_gain > 0)
            self.celebrated[c] = max(self.celebrated[c], reached)
        cg, talk = self.celebration_gain, self.dialogue_step
        progress = self.progress
        leave_rate, dt = self.leave_rate, self.dt
        outreach, tie_rate, omw = self.outreach_rate, self.tie_rate, self.other_member_weight
        share_p = self.consent_rate if self.hub_active else -1.0
        rand, expm1 = self.random.random, math.expm1
        joins: list[tuple[BaselineHousehold, bool]] = []
        leaves: list[BaselineHousehold] = []
        d_efficacy = 0.0
        for h in self.hosted:  # only they can be members, or join
            c = h.collective
            if h.member:
                e = old = h.efficacy
                if celebrate[c]:
                    e += cg * (1.0 - e)
                e += talk * (1.0 - e)
                h.efficacy = e
                d_efficacy += e - old
                value = (h.success + h.compared + progress[c]) / 3.0
                if rand() < -expm1(-leave_rate * (1.0 - value) * dt):
                    leaves.append(h)
            elif c >= 0:
                own = other = 0.0
                for nbr, w in h.neighbours:
                    if nbr.member:
                        if nbr.collective == c:
                            own += w * nbr.reach
                        else:
                            other += w * nbr.reach
                d = h.weighted_degree
                ties = (own + omw * other) / d if d > 0 else 0.0
                rate = outreach * h.propensity + tie_rate * ties
                if rand() < -expm1(-rate * dt):
                    joins.append((h, rand() < share_p))
        self.efficacy_sum += d_efficacy
        members = self.members
        for h, shares in joins:
            h.member = True
            h.consent = h.consent or shares
            members[h] = None
        for h in leaves:
            h.member = h.consent = h.compared = False
            del members[h]

    def _record(self) -> None:
        """Per-step aggregates (collected by the DataCollector) from the running counts and,
        for the next step, each collective's members and their adoption counts (a pass over
        the members only)."""
        nb, k = self.n_behaviours, self.n_collectives
        fellow = [[0] * nb for _ in range(k)]
        fcount = [0] * k
        consenting = compared = 0
        for h in self.members:
            consenting += h.consent
            compared += h.compared
            c = h.collective
            fcount[c] += 1
            row = fellow[c]
            for b in h.doing:
                row[b] += 1
        n = len(self.households)
        self.fellow_adopted, self.fellow_count = fellow, fcount
        counts = self.counts
        row = {f"adoption:{b}": counts[i] / n for i, b in enumerate(self.behaviour_names)}
        row.update(
            any_adoption=self.any_count / n,
            kpi_saving=self.saving_sum / n,
            efficacy=self.efficacy_sum / n,
            members=float(len(self.members)),
            consenting=float(consenting),
            compared=compared / n,
        )
        self.row = row
        self.datacollector.collect(self)

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
        out["any_adoption"] = sum(bool(h.doing) for h in hs) / n
        out["behaviours_per_household"] = sum(len(h.doing) for h in hs) / n
        out["kpi_saving"] = sum(h.saving for h in hs) / n
        hosted = sum(h.hosted for h in hs)
        members = sum(h.member and h.hosted for h in hs)
        out["members"] = float(members)
        out["member_share"] = members / hosted if hosted else float("nan")
        out["consenting"] = float(sum(h.consent for h in hs))
        compared = [h.peer for h in hs if h.compared]
        out["compared_share"] = len(compared) / n
        out["mean_efficacy"] = sum(h.efficacy for h in hs) / n
        out["peer_curtailment"] = sum(compared) / len(compared) if compared else float("nan")
        out["mean_effort"] = sum(h.effort for h in hs) / n
        out["mean_goal"] = sum(h.goal for h in hs) / n
        k = self.n_collectives
        out["collective_progress"] = sum(self.progress) / k if k else float("nan")
        return out


def _row_reporter(name: str):
    return lambda model: model.row[name]
