"""Citizen collectives as a component: where they sit, who founds them, their shared goal.

State: ``count`` collectives in the neighbourhoods ``nbhd`` (sorted ids; collective ``c`` sits
in ``nbhd[c]``), each household's collective ``of`` (-1 outside a host neighbourhood) and
``hosted``, the outreach ``propensity`` and tie ``reach`` of each household, and the
collectives' own ``state`` (saving, progress, celebrated milestones). Members
are the household column ``model.state.member``. Per collective (researcher-only) the time
series gains ``representation:<group>``: the members' share of disadvantaged, 65+ and renting
households over the neighbourhood's (1 is representative). Phase: ``collectives``
(:func:`bt_sim.rules.collective.collective_phase`). Streams: ``recruit``, ``leave`` and
``consent``; at construction ``placement`` (the order in which neighbourhoods get one) and
the ``founders`` sub-stream of ``initial``.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from numba import njit

from bt_sim import targeting
from bt_sim.component import Component, room_for
from bt_sim.contrast import Contrast
from bt_sim.keyed import Keyed
from bt_sim.rules import collective as coll
from bt_sim.state import CollectiveState

#: The groups whose representation among members is recorded per collective.
REPRESENTED = ("disadvantaged", "senior", "renter")


def behaviours_in_host_neighbourhoods(model) -> float:
    """Mean behaviours per household in neighbourhoods 0-2 (the hosts with placement 'first')."""
    return float(model.state.adopted[model.population.neighbourhood < 3].sum(axis=1).mean())


class Collectives(Component):
    """Collectives: placement, founders, recruitment, shared goals (``[collectives]``)."""

    name = "collectives"
    section = "collectives"
    streams: ClassVar[dict[str, str]] = {
        "recruit": "joining a collective",
        "leave": "leaving a collective",
        "consent": "a new member's consent to share data with the hub",
    }
    phases = (
        ("found", "found_due", ("before", "adopt")),
        ("collectives", coll.collective_phase),
    )
    anchor = ("before", "record")
    dynamic = (
        "state", "hosted", "nbhd", "founded", "founded_month", "of", "due", "refused",
        "nbhd_share",
    )  # fmt: skip
    summary_units: ClassVar[dict[str, str]] = {
        "founded": "collectives",
        "refused_foundings": "collectives",
    }
    collective_results: ClassVar[dict[str, str]] = {
        f"representation:{g}": "ratio" for g in REPRESENTED
    }
    contrasts: ClassVar[tuple[Contrast, ...]] = (
        Contrast(
            "goals: shared goal 0.1 -> 0.3 (saving)",
            ("collectives.shared_goal=0.1",),
            ("collectives.shared_goal=0.3",),
            "kpi_saving",
            "does not lower",
            "harder specific goals do not lower performance (Locke & Latham 2002)",
        ),
        Contrast(
            "goals: shared goal 0.1 -> 0.3 (adoption)",
            ("collectives.shared_goal=0.1",),
            ("collectives.shared_goal=0.3",),
            "behaviours_per_household",
            "does not lower",
            "harder specific goals do not lower performance (Locke & Latham 2002)",
        ),
        Contrast(
            "collectives (dialogue off): none -> 3",
            ("collectives.count=0",),
            ("collectives.count=3",),
            behaviours_in_host_neighbourhoods,
            "raises",
            "community groups raise uptake beyond talk: joint action, shared goals, peers "
            "(Kraaij et al. 2024; Middlemiss 2011)",
            common=("collectives.placement=first", "collectives.dialogue_gain=0"),
        ),
        Contrast(
            "founders: usual suspects -> disadvantaged households first",
            ("collectives.founder_rule=usual_suspects",),
            ("collectives.founder_rule=disadvantaged",),
            "representativeness",
            "raises",
            "people join through ties to members, and ties link similar people (McAdam & "
            "Paulsen 1993; McPherson et al. 2001): founders from the margins bring in others "
            "like them",
        ),
        Contrast(
            "outreach: usual suspects -> disadvantaged households first",
            ("collectives.outreach_rule=usual_suspects",),
            ("collectives.outreach_rule=disadvantaged",),
            "representativeness",
            "raises",
            "outreach aimed at under-represented groups brings them in (Middlemiss 2011; "
            "Bamberg et al. 2015)",
        ),
        Contrast(
            "founders: usual suspects -> most connected households first",
            ("collectives.founder_rule=usual_suspects",),
            ("collectives.founder_rule=degree",),
            "members",
            "raises",
            "well-connected seeds reach more people (Kempe et al. 2003; Banerjee et al. 2013)",
        ),
    )

    def init_state(self, keyed: Keyed) -> None:
        model = self.model
        sc, pop = model.config, model.population
        cc = sc.collectives
        k0 = cc.count
        # room for those founded during the run: by [[foundings]] and by components
        later = len(sc.foundings) + sum(c.founding_room() for c in model.components.values())
        k = cc.max_count or k0 + later
        nb_income = np.bincount(pop.neighbourhood, np.log(pop.income), pop.n_neighbourhoods)
        nb_income /= np.maximum(np.bincount(pop.neighbourhood, minlength=pop.n_neighbourhoods), 1)
        self.order = placement_order(
            cc.placement, nb_income, Keyed.of(model.streams.sequence("placement"))
        )
        self.nbhd = np.full(k, -1, np.int64)  # -1: a collective not founded (yet)
        self.nbhd[:k0] = np.sort(self.order[:k0])
        self.count = k
        self.founded = np.zeros(k, bool)
        self.founded[:k0] = True
        self.founded_month = np.where(self.founded, 0.0, np.nan)
        self.keyed = keyed
        self.refused = 0  # foundings refused (no room, or a neighbourhood with a collective)
        of_nbhd = np.full(pop.n_neighbourhoods, -1, np.int64)
        of_nbhd[self.nbhd[:k0]] = np.arange(k0)
        self.of = of_nbhd[pop.neighbourhood].astype(np.int32)
        self.hosted = self.of >= 0
        # The usual suspects' propensity (the usual_suspects rule's weights) and the outreach
        # propensity (the same unless collectives.outreach_rule says otherwise).
        self.usual = coll.outreach_propensity(pop, cc)
        if cc.outreach_rule == "usual_suspects":
            self.propensity = self.usual.copy()
        elif cc.outreach_rule == "random":
            self.propensity = np.ones(pop.n, np.float32)
        else:
            score = targeting.scores(
                cc.outreach_rule, pop, model.network, model.state.saving, self.usual
            )
            self.propensity = coll.outreach_propensity(pop, cc, score)
        self.reach = np.where(pop.gatekeeper, cc.gatekeeper_reach, 1.0).astype(np.float32)
        self.state = CollectiveState(
            saving=np.zeros(k),
            progress=np.zeros(k),
            celebrated=np.zeros(k, np.int64),
        )
        self.bounds = pop.neighbourhood_bounds()
        self._spans_key: tuple[bytes, bytes] | None = None
        self._spans = np.zeros((0, 2), np.int64)
        member = model.state.member
        score = targeting.scores(
            cc.founder_rule, pop, model.network, model.state.saving, self.usual
        )
        for c in range(k0):
            member[self.founders_of(c, cc.founder_rule, cc.founders, score)] = True
        # Who counts in each group of the representativeness outputs, and each host
        # neighbourhood's share of them.
        self.flags = np.stack([pop.disadvantaged, pop.age_group == 2, ~pop.owner], axis=1).astype(
            np.uint8
        )
        hosts = np.flatnonzero(self.of >= 0)
        size = np.bincount(self.of[hosts], minlength=k)
        self.nbhd_share = (
            np.stack(
                [np.bincount(self.of[hosts], self.flags[hosts, g], k) for g in range(3)], axis=1
            )
            / np.maximum(size, 1)[:, None]
        )
        self.due = sorted(sc.foundings, key=lambda f: f.month)  # foundings still to come

    def spans_key(self) -> tuple[bytes, bytes]:
        """What the host neighbourhoods depend on (which collectives are founded, and where):
        it changes when a collective is founded."""
        return (self.nbhd.tobytes(), self.founded.tobytes())

    def spans(self) -> np.ndarray:
        """The host neighbourhoods' households as ranges, shape (m, 2) of ``[start, stop)`` in
        household order: where every member lives (the kernels look for members there only).
        Kept until a collective is founded or the neighbourhoods change."""
        key = self.spans_key()
        if self._spans_key != key:
            hosts = np.sort(self.nbhd[self.founded & (self.nbhd >= 0)])
            self._spans = (
                np.stack([self.bounds[hosts], self.bounds[hosts + 1]], axis=1)
                .astype(np.int64)
                .reshape(-1, 2)
            )
            self._spans_key = key
        return self._spans

    def homes(self, c: int) -> np.ndarray:
        """The households of collective ``c``'s neighbourhood (a contiguous range)."""
        nb = self.nbhd[c]
        return np.arange(self.bounds[nb], self.bounds[nb + 1])

    def founders_of(
        self, c: int, rule: str, count: int, score: np.ndarray | None = None
    ) -> np.ndarray:
        """The founding members of collective ``c``: the first ``count`` households of its
        neighbourhood in the order of ``rule`` (:mod:`bt_sim.targeting`; by default a
        weighted random order in proportion to the outreach propensity, Efraimidis and
        Spirakis 2006), keyed by household, so one more founder keeps the others and a
        collective founded later starts with those it would have had at the start. ``score``:
        the rule's scores for the population, when already computed."""
        model = self.model
        saving = model.state.saving
        if score is None:
            score = targeting.scores(rule, model.population, model.network, saving, self.usual)
        return targeting.choose(
            rule,
            self.homes(c),
            count,
            self.keyed.sub("founders"),
            model.population,
            model.network,
            saving=saving,
            propensity=self.usual,
            score=score,
        )

    def found_due(self) -> None:
        """Found: the collectives of ``[[foundings]]`` whose month falls in this step are
        founded at its start."""
        model = self.model
        month, cc = model.month, model.config.collectives
        while self.due and self.due[0].month < month - 1e-9:
            f = self.due.pop(0)
            self.found(
                f.neighbourhood,
                f.founder_rule or cc.founder_rule,
                cc.founders if f.founders < 0 else f.founders,
            )

    def found(self, neighbourhood: int, rule: str, founders: int) -> int:
        """Found a collective in ``neighbourhood`` (-1: the next one without a collective in
        the placement order) with ``founders`` founding members chosen by ``rule``; returns its
        index, or -1 when it is refused (no room left, or the neighbourhood has or had one).

        Every component sets up its state for it (:meth:`bt_sim.component.Component.on_founding`).
        """
        free = np.flatnonzero(~self.founded)
        taken = set(self.nbhd[self.founded].tolist())
        if neighbourhood < 0:
            left = [nb for nb in self.order.tolist() if nb not in taken]
            neighbourhood = left[0] if left else -1
        if not free.size or neighbourhood < 0 or neighbourhood in taken:
            self.refused += 1
            return -1
        model = self.model
        c = int(free[0])
        self.nbhd[c] = neighbourhood
        self.founded[c] = True
        self.founded_month[c] = model.month - model.config.run.dt
        homes = self.homes(c)
        self.of[homes] = c
        self.hosted[homes] = True
        g = self.flags[homes]
        self.nbhd_share[c] = g.mean(axis=0) if homes.size else 0.0
        picked = self.founders_of(c, rule, founders)
        model.state.member[picked] = True
        for comp in model.components.values():
            comp.on_founding(c, picked)
        return c

    def summary(self) -> dict[str, float]:
        return {
            "founded": float(np.count_nonzero(self.founded) - self.model.config.collectives.count),
            "refused_foundings": float(self.refused),
        }

    def representation(self, counts: np.ndarray | None = None) -> np.ndarray:
        """Per collective and group (disadvantaged, 65+, renters): the members' share of the
        group over the neighbourhood's (1: as in the neighbourhood; NaN without members),
        shape (collectives, 3), now or from the ``counts`` of :func:`member_groups` (any
        leading shape)."""
        if counts is None:
            counts = np.zeros((self.count, 4), np.int64)
            member_groups(self.model.state.member, self.of, self.flags, counts)
        members = counts[..., 0:1]
        share = counts[..., 1:] / np.maximum(members, 1)
        out = np.full(share.shape, np.nan)
        np.divide(share, self.nbhd_share, out=out, where=(members > 0) & (self.nbhd_share > 0))
        return out

    # The representation series are kept as member counts per step (one compiled pass) and
    # divided when the time series is asked for.
    def allocate_per_collective(self, collectives: int) -> None:
        steps = self.model.config.run.steps
        self._counts = np.zeros((steps + 1, collectives, 4), np.int64)

    def make_room(self, step: int) -> None:
        self._counts = room_for(self._counts, step, 0)

    def collective_series(self) -> dict[str, np.ndarray]:
        r = self.representation(self._counts)
        return {f"representation:{g}": r[:, :, j] for j, g in enumerate(REPRESENTED)}

    def update_results(self, step: int) -> None:
        if self.count:
            member_groups(self.model.state.member, self.of, self.flags, self._counts[step])


@njit(cache=True, nogil=True)
def member_groups(member, collective_of, flags, out):
    """Per collective: its members, and of them those with each flag (columns of ``flags``),
    into ``out`` (shape (collectives, 1 + flags), overwritten); the numbers
    :meth:`Collectives.representation` divides.

    >>> out = np.zeros((1, 2), np.int64)
    >>> member_groups(np.array([True, True, False]), np.array([0, 0, 0], np.int32),
    ...               np.array([[1], [0], [1]], np.uint8), out)
    >>> out.tolist()
    [[2, 1]]
    """
    g = flags.shape[1]
    out[:] = 0
    for i in range(member.shape[0]):
        c = collective_of[i]
        if member[i] and c >= 0:
            out[c, 0] += 1
            for j in range(g):
                out[c, 1 + j] += flags[i, j]


def placement_order(placement: str, nb_income: np.ndarray, keyed: Keyed) -> np.ndarray:
    """The order in which neighbourhoods get a collective: ``count`` collectives sit in its
    first ``count``, so one more collective keeps the others where they are.

    ``first``: by id; ``richest`` and ``poorest``: by mean log income, ties broken by the
    ``placement`` stream; ``random``: an order drawn once from that stream.

    >>> placement_order("poorest", np.array([3.0, 1.0, 2.0]), Keyed(1)).tolist()
    [1, 2, 0]
    """
    c = nb_income.shape[0]
    u = keyed.uniform(c)
    if placement == "first":
        return np.arange(c)
    if placement == "richest":
        return np.lexsort((u, -nb_income))
    if placement == "poorest":
        return np.lexsort((u, nb_income))
    return np.argsort(u, kind="stable")
