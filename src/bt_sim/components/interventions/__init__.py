"""Interventions (building blocks) as a component: what collectives do, when, and at what cost.

The scenario's ``[[interventions]]`` catalogue lists the building blocks every active
collective carries out, each of a kind (one module each), on a dated schedule
(:mod:`~bt_sim.components.interventions.schedule`: a first round from ``start_month`` for
``months``, again every ``every_months``; a step counts the months of it inside a round, so
what a round does does not depend on the step length), and each paid for in volunteer hours
from the collective's budget (its volunteers times ``collectives.volunteer_hours`` a month,
:mod:`bt_sim.components.capacity`). Which interventions a collective carries out when its
hours do not cover them all is ``collectives.choice``: ``plan`` pays for them in catalogue
order, ``cheapest`` the cheapest first (so as many as possible). One it has no hours for is
not carried out that step, and the outputs count it. Stalled and dissolved collectives carry
out nothing. The hours left go to outreach (:meth:`Interventions.reach_out`): with
``collectives.outreach_hours`` above 0, a collective short of them recruits by outreach in
proportion.

Kinds:

* ``collective_purchase`` (:mod:`.purchase`): members buy one behaviour together at a
  discount, pulled towards it while the collective is short of its goal; the default
  catalogue's ``purchase`` is the model's joint-action campaign.
* ``energy_coach`` (:mod:`.coach`): home visits, in the order of a targeting rule, that
  build the visited households' self-efficacy.
* ``feedback_dashboard`` (:mod:`.dashboard`): members get meter-quality feedback.
* ``gatekeeper_programme`` (:mod:`.gatekeeper`): key figures bring hard-to-reach households
  in.
* ``neighbourhood_event`` (:mod:`.event`): members and neighbours meet; ties among them are
  made and strengthened (the network changes during the run).

Phases: ``interventions`` before ``adopt`` (costs, hours and what runs this step) and
``purchase`` before ``collectives`` (a collective purchase whose round starts picks its
behaviour). Stream ``event`` (who attends an event and whom they meet); the coach's order
breaks ties by the ``interventions`` sub-stream of ``initial``, keyed by household. Results
per step: ``visits``, ``dashboards``, ``purchases`` and ``gatekeepers`` (collectives carrying
one out), ``event_ties`` (ties made at events), ``refused`` (collective-interventions not
carried out for want of hours), ``hours`` (volunteer hours spent) and ``euros`` (money spent:
the ``euros_per_month`` of each entry carried out); per collective (researcher-only) the
``hours`` it spent, the interventions it has ``running`` and its ``outreach_hours``. The
summary adds, per entry, ``<name>:carried_months`` and ``<name>:refused_months``
(collective-months) and ``<name>:euros`` (a coach also ``<name>:visits``, an event its
``new_ties``, ``strengthened`` tie ends and ``attendances``) and, per kind,
``carried:<kind>``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from bt_sim import targeting
from bt_sim.component import Component, room_for
from bt_sim.components.capacity import ACTIVE
from bt_sim.components.collectives import behaviours_in_host_neighbourhoods
from bt_sim.components.hub import member_saving
from bt_sim.components.interventions.coach import EnergyCoach
from bt_sim.components.interventions.dashboard import FeedbackDashboard
from bt_sim.components.interventions.event import NeighbourhoodEvent
from bt_sim.components.interventions.gatekeeper import GatekeeperProgramme, hard_to_reach
from bt_sim.components.interventions.kind import Kind
from bt_sim.components.interventions.pay import decide, pay
from bt_sim.components.interventions.purchase import CollectivePurchase
from bt_sim.components.interventions.schedule import overlap, round_of, started
from bt_sim.contrast import Contrast

if TYPE_CHECKING:
    from bt_sim.keyed import Keyed

__all__ = ["KINDS", "Interventions", "Kind", "decide", "overlap", "pay", "round_of", "started"]

EXAMPLE = "interventions.toml"  # the bundled town with the whole catalogue
CITY = "interventions_city.toml"  # a second world with the same catalogue

#: The kinds, by their ``kind`` value.
KINDS: dict[str, type[Kind]] = {
    cls.kind: cls
    for cls in (
        CollectivePurchase,
        EnergyCoach,
        FeedbackDashboard,
        GatekeeperProgramme,
        NeighbourhoodEvent,
    )
}
_ONLY = tuple(
    f"interventions.{n}.enabled=false" for n in ("coach", "dashboard", "gatekeepers", "event")
)


def _only(name: str) -> tuple[str, ...]:
    """Settings that switch off the example's other entries."""
    return tuple(s for s in _ONLY if not s.startswith(f"interventions.{name}."))


def disadvantaged_members(model) -> float:
    """Disadvantaged households among the members of collectives at the end."""
    return float(np.count_nonzero(model.state.member & model.population.disadvantaged))


def member_tie_strength(model) -> float:
    """Mean weight of the ties a member of a collective has with fellow members, at the end."""
    s, of, adj = model.state, model.collectives.of, model.adjacency
    rows = np.flatnonzero(s.member & (of >= 0))
    if not rows.size or adj is None:
        return float("nan")
    sub = adj[rows][:, rows].tocoo()
    same = of[rows[sub.row]] == of[rows[sub.col]]
    return float(sub.data[same].sum() / rows.size)


def _mean_behaviours(model, mine: np.ndarray) -> float:
    """Mean behaviours per household of ``mine`` at the end (NaN for nobody)."""
    return float(model.state.adopted[mine].sum(axis=1).mean()) if mine.any() else float("nan")


def host_behaviours(model) -> float:
    """Mean behaviours per household of the neighbourhoods with a collective at the end."""
    return _mean_behaviours(model, model.collectives.of >= 0)


def disadvantaged_behaviours(model) -> float:
    """Mean behaviours per disadvantaged household of the host neighbourhoods at the end."""
    return _mean_behaviours(model, model.population.disadvantaged & (model.collectives.of >= 0))


def _switch(entry: str, what: str, outcome, source: str, world: str, seeds=range(20)) -> Contrast:
    """Entry ``entry`` of the bundled catalogue off -> on, the others off, on ``world``."""
    where = "" if world == EXAMPLE else " (second world)"
    return Contrast(
        f"{what}{where}",
        (f"interventions.{entry}.enabled=false",),
        (f"interventions.{entry}.enabled=true",),
        outcome,
        "raises",
        source,
        common=_only(entry),
        base=world,
        seeds=seeds,
    )


def _building_blocks(world: str) -> tuple[Contrast, ...]:
    """The building blocks' contrasts on one of the bundled worlds with the whole catalogue
    (the purchase's on the default town is the component's first row)."""
    where = "" if world == EXAMPLE else " (second world)"
    purchase = Contrast(
        f"collective purchase: no pull -> the default pull{where}",
        ("interventions.purchase.pull_rate=0",),
        ("interventions.purchase.pull_rate=0.05",),
        host_behaviours,
        "raises",
        "collective purchasing and joint action (Kraaij et al. 2024)",
        common=_only("purchase"),
        base=world,
    )
    targeting = Contrast(
        f"energy coach: random -> disadvantaged households first, equal hours{where}",
        ("interventions.coach.target=random",),
        ("interventions.coach.target=disadvantaged",),
        disadvantaged_behaviours,
        "raises",
        "outreach that seeks out low-income households first reaches those a general "
        "offer misses (Middlemiss 2011; Bamberg et al. 2015)",
        common=_only("coach"),
        base=world,
        seeds=range(40),  # a few dozen households a round: a small effect
    )
    return (
        *((purchase,) if where else ()),
        _switch(
            "coach",
            "energy coach: off -> on (2 visits a month, disadvantaged first)",
            "mean_efficacy",
            "home visits and coaching build self-efficacy by verbal persuasion and modelling "
            "(Bandura 1997; Abrahamse et al. 2005)",
            world,
        ),
        targeting,
        _switch(
            "dashboard",
            "feedback dashboard: off -> on for members",
            member_saving,
            "feedback on energy use saves a few % (Fischer 2008; Abrahamse et al. 2005)",
            world,
            seeds=range(40),  # a small effect (members only, 30 % have meters already)
        ),
        _switch(
            "event",
            "neighbourhood event: off -> on (ties among members)",
            member_tie_strength,
            "meeting in person makes and strengthens ties (Granovetter 1973; McAdam & Paulsen "
            "1993)",
            world,
        ),
        _switch(
            "event",
            "neighbourhood event: off -> on (adoption)",
            host_behaviours,
            "denser ties among members and neighbours carry recruitment and imitation (McAdam "
            "& Paulsen 1993; Centola 2010)",
            world,
        ),
        _switch(
            "gatekeepers",
            "gatekeeper programme: off -> on",
            disadvantaged_members,
            "trusted intermediaries reach groups formal outreach misses (Bamberg et al. 2015; "
            "Middlemiss 2011)",
            world,
        ),
    )


#: Units of each entry's end-of-run outcomes (``interventions:<entry>:<outcome>``).
_SUMMARY_UNITS = {
    "carried_months": "collective-months",
    "refused_months": "collective-months",
    "euros": "EUR",
    "visits": "visits",
    "new_ties": "ties",
    "strengthened": "ties",
    "attendances": "attendances",
}


class Interventions(Component):
    """The collectives' building blocks (``[[interventions]]``)."""

    name = "interventions"
    section = "interventions"
    phases = (
        ("interventions", "step"),
        ("purchase", "choose", ("before", "collectives")),
    )
    anchor = ("before", "adopt")
    requires = ("collectives", "capacity", "mastery")
    streams: ClassVar[dict[str, str]] = {
        "event": "who attends a neighbourhood event, and the order in which attendees meet",
    }
    results: ClassVar[dict[str, str]] = {
        "visits": "households",
        "dashboards": "collectives",
        "purchases": "collectives",
        "gatekeepers": "collectives",
        "event_ties": "ties",
        "refused": "collective-interventions",
        "hours": "volunteer hours",
        "euros": "EUR",
    }
    collective_results: ClassVar[dict[str, str]] = {
        "hours": "volunteer hours",
        "running": "interventions",
        "outreach_hours": "volunteer hours",
    }
    dynamic = (
        "totals", "dashboard", "gatekeeping", "allowed", "mixed", "log_months", "log_hours",
    )  # fmt: skip
    contrasts: ClassVar[tuple[Contrast, ...]] = (
        Contrast(
            "collective purchase: no pull -> the default pull",
            ("interventions.purchase.pull_rate=0",),
            ("interventions.purchase.pull_rate=0.05",),
            behaviours_in_host_neighbourhoods,
            "raises",
            "collective purchasing and joint action (Kraaij et al. 2024)",
            common=("collectives.placement=first",),
        ),
        Contrast(
            "outreach hours: 200 a month (more than the volunteers have) -> none needed",
            ("collectives.outreach_hours=200",),
            ("collectives.outreach_hours=0",),
            "members",
            "raises",
            "volunteers' hours are finite: what the interventions take is not there for "
            "recruiting (Omoto & Snyder 1995)",
            base=EXAMPLE,
        ),
        *(c for world in (EXAMPLE, CITY) for c in _building_blocks(world)),
    )

    def init_state(self, keyed: Keyed) -> None:
        model = self.model
        colls = model.collectives
        k = colls.count
        self.catalogue = model.config.interventions
        self.keyed = keyed.sub("interventions")
        self.room = None  # the network's room for ties made at events (made by an event)
        self.kinds: list[Kind] = [KINDS[x.kind](self, i, x) for i, x in enumerate(self.catalogue)]
        self.purchases = [x for x in self.kinds if isinstance(x, CollectivePurchase)]
        self.present = [
            cls for cls in dict.fromkeys(type(x) for x in self.kinds) if cls.apply is not Kind.apply
        ]  # the kind classes used that have a lasting effect to set
        self.gatekeepers = any(isinstance(x, GatekeeperProgramme) for x in self.kinds)
        self.reaching = self.gatekeepers or model.config.collectives.outreach_hours > 0
        self.totals = {x.name: [0.0, 0.0, 0.0] for x in self.catalogue}  # carried, refused, EUR
        # What the lasting effects change is kept apart only where a kind changes it: the
        # households' own meters (a dashboard), outreach propensity and reach (a gatekeeper
        # programme, or outreach paid in hours).
        dashboards = any(isinstance(x, FeedbackDashboard) for x in self.kinds)
        n = model.population.n
        self.base_meter = model.mastery.meter.copy() if dashboards else None
        self.dashboard = np.zeros(n if dashboards else 0, bool)
        self.base_propensity = colls.propensity.copy() if self.reaching else None
        self.base_reach = colls.reach.copy() if self.reaching else None
        self.hard = hard_to_reach(model.population) if self.reaching else None
        self.gain = np.ones(k, np.float32)
        self.gatekeeping = False
        self.extra = np.zeros(k)  # hours given this step besides the volunteers' (staff's)
        self.funded = np.zeros(k)  # hours the municipality funds this step
        self.spent = np.zeros(k)  # hours spent this step, per collective
        self.outreach = np.zeros(k)  # hours spent on outreach this step, per collective
        self.running = np.zeros(k, np.int64)  # interventions carried out this step
        e = len(self.kinds)
        # Which entries each collective's mix holds (all, unless the network organisation
        # set it when founding the collective) and, per step, the months of each entry each
        # collective carried out and the hours it took (the experiment records).
        self.allowed = np.ones((e, k), bool)
        self.mixed = False  # whether some collective's mix leaves an entry out
        self.removed = np.zeros((e, k), bool)  # entries taken out for a counterfactual
        steps = model.config.run.steps
        self.log_months = np.zeros((steps + 1, e, k), np.float32)
        self.log_hours = np.zeros((steps + 1, e, k), np.float32)
        self._costs = np.zeros((e, k))  # work arrays of the step's payment (pay)
        self._ok = np.zeros((e, k), bool)
        self._done = np.zeros(e, np.int64)
        self.step_counts = dict.fromkeys(self.results, 0.0)
        self._scores: dict[str, np.ndarray | None] = {}  # each rule's scores, once a step
        for p in self.purchases:  # a round that starts with the run picks its behaviour now
            if p.x.enabled and k and started(0.0, p.x.start_month, p.x.every_months):
                p.choose()

    def step(self) -> None:
        """Interventions: each active collective carries out the building blocks that run now,
        as far as its volunteers' hours go (``collectives.choice``)."""
        model = self.model
        counts = self.step_counts = dict.fromkeys(self.results, 0.0)
        colls, cap = model.collectives, model.capacity
        if colls.count == 0:
            return
        dt, month = model.config.run.dt, model.month
        active = cap.status == ACTIVE
        staff = self.extra + self.funded if self.funded.any() else self.extra
        budget = cap.volunteers * (model.config.collectives.volunteer_hours * dt) + staff
        budget[~active] = 0.0
        self._scores.clear()
        if self.gatekeepers:
            self.gain[:] = 1.0
        n_active = int(np.count_nonzero(active))
        some_idle = n_active < colls.count
        due: list[tuple[Kind, float]] = []
        costs = self._costs
        for kind in self.kinds:
            x = kind.x
            if some_idle:
                kind.prepare(active)
            inside = overlap(month - dt, month, x.start_month, x.months, x.every_months)
            if not x.enabled or inside <= 1e-12:
                kind.idle()
                continue
            costs[len(due)] = kind.cost(active, inside)
            if self.mixed:
                costs[len(due)][~self.allowed[kind.index]] = np.inf
            due.append((kind, inside))
        n = len(due)
        ok, done = self._ok[:n], self._done[:n]
        cheapest = model.config.collectives.choice == "cheapest"
        pay(costs[:n], budget, active, cheapest, ok, self.spent, self.running, done)
        on = {cls: None for cls in self.present}
        step = model.steps_done
        if step >= self.log_months.shape[0]:  # a run taken past its planned steps
            self.make_room(step)
        for (kind, inside), ok_e, cost_e, d in zip(due, ok, costs[:n], done.tolist(), strict=True):
            x = kind.x
            totals = self.totals[x.name]
            # what is carried out is within the active collectives whose mix holds it
            wanted = (
                int(np.count_nonzero(active & self.allowed[kind.index])) if self.mixed else n_active
            )
            totals[0] += inside * d
            totals[1] += inside * (wanted - d)
            totals[2] += x.euros_per_month * inside * d
            counts["euros"] += x.euros_per_month * inside * d
            counts["refused"] += wanted - d
            self.log_months[step, kind.index][ok_e] = inside
            self.log_hours[step, kind.index][ok_e] = cost_e[ok_e]
            counts[kind.counts] += kind.carry_out(ok_e, inside)
            if type(kind) in on:
                mask = on[type(kind)]
                on[type(kind)] = ok_e.copy() if mask is None else mask | ok_e
        counts["hours"] = float(self.spent.sum())
        for cls, mask in on.items():
            cls.apply(self, np.zeros(colls.count, bool) if mask is None else mask)
        if self.reaching:
            self.reach_out(budget, staff)

    def reach_out(self, left: np.ndarray, staff: np.ndarray | None = None) -> None:
        """Outreach with the hours the interventions ``left`` over: the outreach propensity of
        each collective's households is its share of ``collectives.outreach_hours`` covered
        (all of it when that is 0), times a gatekeeper programme's gain for hard-to-reach
        households; key figures' reach takes the gain too. ``staff``: the hours given besides
        the volunteers' (staff's and funded ones; default ``self.extra``)."""
        model = self.model
        need = model.config.collectives.outreach_hours * model.config.run.dt
        gk = bool((self.gain != 1.0).any())
        if need <= 0 and not gk and not self.gatekeeping:
            return  # the propensities are the households' own
        colls, pop = model.collectives, model.population
        of = colls.of
        inside = of >= 0
        at = np.maximum(of, 0)
        g = np.where(inside, self.gain[at], np.float32(1.0)).astype(np.float32)
        prop = self.base_propensity * np.where(self.hard, g, np.float32(1.0))
        if need > 0:
            # the volunteers' outreach up to its full rate; staff hours (scaling deep) beyond
            share = np.clip(left / need, 0.0, 1.0)
            staff = self.extra if staff is None else staff
            if staff.any():  # staff hours given (scaling deep) or funded (a municipality)
                beyond = np.minimum(np.maximum(left - need, 0.0), staff)
                share = share + beyond / need
            self.outreach[:] = np.minimum(left, need + staff)
            prop = prop * np.where(inside, share[at], 1.0).astype(np.float32)
        colls.propensity[:] = prop
        colls.reach[:] = self.base_reach * np.where(pop.gatekeeper, g, np.float32(1.0))
        self.gatekeeping = gk or need > 0

    def choose(self) -> None:
        """Purchase: a collective purchase whose round starts this step picks, in each
        collective, the behaviour it buys."""
        model = self.model
        if not model.collectives.count:
            return
        dt = model.config.run.dt
        for p in self.purchases:
            if p.x.enabled and p.starts(model.month - dt, model.month):
                p.choose()

    def joint_action(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per collective, for the adoption rule: the pull towards the behaviour bought, the
        behaviour (-1: none) and its discount, from the first collective purchase carried out
        there now."""
        colls = self.model.collectives
        k = max(colls.count, 1)
        joint, focus, discount = np.zeros(k), np.full(k, -1, np.int64), np.zeros(k)
        if not colls.count:
            return joint, focus, discount
        gap = 1.0 - colls.state.progress
        for p in reversed(self.purchases):  # the first in the catalogue wins
            run = p.running & (p.focus >= 0)
            np.multiply(p.x.pull_rate, gap, out=joint, where=run)
            np.copyto(focus, p.focus, where=run)
            discount[run] = p.x.discount
        return joint, focus, discount

    def make_room(self, step: int) -> None:
        super().make_room(step)
        self.log_months = room_for(self.log_months, step, 0.0)
        self.log_hours = room_for(self.log_hours, step, 0.0)

    def set_mix(self, c: int, entries: np.ndarray) -> None:
        """Collective ``c`` carries out only the catalogue entries ``entries`` (a mask over
        the catalogue): its mix of building blocks (less any :meth:`remove` took out)."""
        self.allowed[:, c] = entries & ~self.removed[:, c]
        self.mixed = not self.allowed.all()

    def remove(self, entry: int, c: int) -> None:
        """Collective ``c`` never carries out catalogue entry ``entry`` (slot ``c``, whether
        founded yet or not): the counterfactual of a true effect
        (:func:`bt_sim.records.true_effects`)."""
        self.removed[entry, c] = True
        self.set_mix(c, self.allowed[:, c])

    def scores(self, rule: str) -> np.ndarray | None:
        """A targeting rule's scores for the population, computed once a step."""
        if rule not in self._scores:
            model = self.model
            self._scores[rule] = targeting.scores(
                rule,
                model.population,
                model.network,
                model.state.saving,
                model.collectives.usual,
            )
        return self._scores[rule]

    def update_results(self, step: int) -> None:
        for name in self.results:
            self.result[name][step] = self.step_counts[name]
        self.per_collective["hours"][step] = self.spent
        self.per_collective["running"][step] = self.running
        self.per_collective["outreach_hours"][step] = self.outreach

    def summary(self) -> dict[str, float]:
        out: dict[str, float] = {}
        by_kind = dict.fromkeys(KINDS, 0.0)
        for kind in self.kinds:
            name = kind.x.name
            out.update({f"{name}:{key}": v for key, v in kind.summary().items()})
            carried, refused, euros = self.totals[name]
            out[f"{name}:carried_months"] = carried
            out[f"{name}:refused_months"] = refused
            out[f"{name}:euros"] = euros
            by_kind[kind.kind] += carried
        out.update({f"carried:{kind}": v for kind, v in by_kind.items()})
        return out

    @classmethod
    def summary_unit(cls, key: str) -> str | None:
        """``<entry>:<outcome>`` and ``carried:<kind>``: by the outcome's name."""
        if key.startswith("carried:"):
            return "collective-months"
        return _SUMMARY_UNITS.get(key.rsplit(":", 1)[-1])

    def continue_from(self, other: Component) -> None:
        super().continue_from(other)
        for mine, theirs in zip(self.kinds, other.kinds, strict=True):
            mine.continue_from(theirs)
