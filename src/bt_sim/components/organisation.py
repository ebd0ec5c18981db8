"""The network organisation as a component: a knowledge broker between collectives that
scales them with a budget of staff hours and money (``[organisation]``).

Each month its budget (``staff_hours``, ``euros``) goes to its scaling strategy
(``strategy``; with ``mix`` split by the ``*_share`` keys); what a strategy does not spend in
a month it keeps for the next (scaling out saves up for a founding):

* ``none``: collectives on their own; nothing is spent.
* ``out`` (scaling out; Moore, Riddell & Vocisano 2015): found a collective whenever the
  share has saved ``found_hours`` and ``found_euros``, up to ``max_foundings``, in the
  neighbourhood without one that is most ``ready`` (most households already doing a
  behaviour; ties: the higher median income) or ``least_served`` (the largest share of
  disadvantaged households; ties: the fewer doing a behaviour). Its founders are chosen as
  every collective's (``collectives.founder_rule``). A collective it founds carries out a mix
  of the catalogue: the founders' own choice (a cold start: each entry with probability
  ``cold_share``, the ``organisation`` sub-stream of ``initial`` keyed by collective) or,
  with ``warm_start``, the mix its recommender (:mod:`bt_sim.recommender`) predicts best for
  the neighbourhood among those its founders have the hours for, learnt from the experiment
  records (:mod:`bt_sim.records`) of ``records`` (a file of earlier runs or real
  collectives) and of the run so far (rounds that have ended; refitted whenever the run's
  own first years have grown by a tenth).
  With fewer than ``min_records`` records with an outcome it does not pretend: the founders
  choose.
* ``deep`` (scaling deep): the share's staff hours and money go to the active collectives,
  equally, on top of their volunteers' hours: they pay first for the interventions the
  volunteers had no hours for, and the rest goes to outreach (with
  ``collectives.outreach_hours`` above 0), where each staff hour recruits as an hour of the
  collective's own outreach does, beyond its full rate (the hours it leaves over are not
  saved).
* ``linking``: the share's staff hours make ties between members of different active
  collectives (``link_hours`` each; random pairs, the ``organisation`` stream), so that
  members' ties and what they learnt travel between collectives. The ties use the network's
  room for new ties (:mod:`bt_sim.components.interventions.event`).

Scaling up (changing the regime's rules) is not a strategy here.

Phase ``organisation`` before ``interventions``. Results per step: ``staff_hours`` and
``staff_euros`` spent, ``foundings`` and ``links`` made; summary ``organisation:<...>``:
``staff_hours``, ``euros``, ``founded``, ``warm_starts`` (foundings with a recommendation),
``links``, ``deep_hours`` and ``first_year_members``, ``first_year_saving`` and
``first_year_behaviours`` (:func:`first_year`: the mean gain over the first 12 months in the
neighbourhoods it founded a collective in; NaN when none had 12 months).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from bt_sim.component import Component
from bt_sim.components.capacity import ACTIVE
from bt_sim.components.interventions.event import add_ties, room_for_events
from bt_sim.contrast import Contrast

if TYPE_CHECKING:
    from bt_sim.keyed import Keyed
    from bt_sim.scenario.schema import Scenario

PARTS = ("out", "deep", "linking")
TOWN = "strategies/town.toml"  # the town a network organisation asks about
ISLANDS = "strategies/islands.toml"  # isolated neighbourhoods, a collective in each
#: TOWN with the records of 40 earlier towns (strategies/pilot.toml) as the archive.
ARCHIVE = "strategies/town_archive.toml"


def spread_beyond_origin(model) -> float:
    """Mean over behaviours of the share of households outside the neighbourhood where the
    behaviour's first adopters were (the one with most of them) doing it at the end."""
    rec, nb = model.recorder, model.population.neighbourhood
    shares = []
    for j in range(len(model.behaviour_names)):
        origin = int(np.argmax(rec.nb_sum[0, :, j]))
        shares.append(float(model.state.adopted[nb != origin, j].mean()))
    return float(np.mean(shares))


def shares(scenario: Scenario) -> dict[str, float]:
    """The budget's share of each part of the strategy."""
    org = scenario.organisation
    if org.strategy == "mix":
        return {"out": org.out_share, "deep": org.deep_share, "linking": org.linking_share}
    return {p: float(p == org.strategy) for p in PARTS}


def foundings_planned(scenario: Scenario) -> int:
    """Collectives scaling out may found (room the collectives keep for them)."""
    return scenario.organisation.max_foundings if shares(scenario)["out"] > 0 else 0


def first_year(model, founded: np.ndarray, months: float = 12.0, what: str = "members") -> float:
    """Mean gain, over the ``months`` after each founding, in the neighbourhoods of the
    collectives ``founded`` (slots): ``members`` per household (all members, consenting or
    not), ``saving``, the members' saving per household of the
    neighbourhood (every member, the truth behind what the hub publishes), or
    ``behaviours`` per household. Collectives founded too late to have the months are left
    out (NaN when none is left)."""
    colls, rec = model.collectives, model.recorder
    dt = model.config.run.dt
    b = len(model.behaviour_names)
    kpi = rec.variables.index("kpi_saving")
    mem = rec.variables.index("members")
    gains = []
    for c in founded:
        t0 = round(colls.founded_month[c] / dt)
        t1 = t0 + round(months / dt)
        if t1 <= rec.steps_done:
            n = colls.nbhd[c]
            if what == "saving":
                d = rec.member_sum[t1, c, kpi] - rec.member_sum[t0, c, kpi]
            elif what == "members":
                d = rec.nb_sum[t1, n, mem] - rec.nb_sum[t0, n, mem]
            else:
                d = rec.nb_sum[t1, n, :b].sum() - rec.nb_sum[t0, n, :b].sum()
            gains.append(d / max(rec.nb_count[n], 1))
    return float(np.mean(gains)) if gains else float("nan")


class Organisation(Component):
    """The network organisation and its scaling strategy (``[organisation]``)."""

    name = "organisation"
    section = "organisation"
    phases = (("organisation", "step"),)
    anchor = ("before", "interventions")
    requires = ("collectives", "capacity", "interventions")
    streams: ClassVar[dict[str, str]] = {
        "organisation": "which members of different collectives linking ties together",
    }
    summary_units: ClassVar[dict[str, str]] = {
        "staff_hours": "staff hours",
        "euros": "EUR",
        "founded": "collectives",
        "warm_starts": "collectives",
        "links": "ties",
        "deep_hours": "staff hours",
        "first_year_members": "fraction",
        "first_year_saving": "fraction",
        "first_year_behaviours": "behaviours",
    }
    results: ClassVar[dict[str, str]] = {
        "staff_hours": "staff hours",
        "staff_euros": "EUR",
        "foundings": "collectives",
        "links": "ties",
    }
    dynamic = ("bank_hours", "bank_euros", "totals", "founded", "recommendations")
    contrasts: ClassVar[tuple[Contrast, ...]] = (
        Contrast(
            "scaling out: most ready neighbourhoods first -> least served first, equal budget",
            ("organisation.found_order=ready",),
            ("organisation.found_order=least_served",),
            "inclusivity_gap",
            "lowers",
            "collectives started where disadvantaged households live reach them; the usual "
            "suspects' neighbourhoods are reached first otherwise (Middlemiss 2011; Moore, "
            "Riddell & Vocisano 2015 on scaling out)",
            common=("organisation.strategy=out",),
            base=TOWN,
        ),
        Contrast(
            "warm start: the founders' own mix -> the recommended mix, records of 40 towns",
            ("organisation.warm_start=false",),
            ("organisation.warm_start=true",),
            "organisation:first_year_members",
            "raises",
            "knowledge brokers pass on what worked in similar places (Hargreaves et al. 2013 "
            "on intermediaries; Seyfang & Longhurst 2013)",
            common=("organisation.strategy=out",),
            base=ARCHIVE,
        ),
        Contrast(
            "warm start without records: the founders' own mix -> the recommended mix",
            ("organisation.warm_start=false",),
            ("organisation.warm_start=true",),
            "organisation:first_year_members",
            "same",
            "a recommender with no records has nothing to go on: it must not pretend",
            common=("organisation.strategy=out",),
            base=TOWN,
        ),
        Contrast(
            "scaling deep: none -> staff hours into the existing collectives",
            ("organisation.strategy=none",),
            ("organisation.strategy=deep",),
            "members",
            "raises",
            "paid support for volunteers' groups keeps their outreach going (Moore, Riddell & "
            "Vocisano 2015 on scaling deep; Omoto & Snyder 1995)",
            base=TOWN,
        ),
        Contrast(
            "linking: isolated collectives -> members linked across collectives",
            ("organisation.strategy=none",),
            ("organisation.strategy=linking",),
            spread_beyond_origin,
            "raises",
            "ties between groups carry what one group proved to others (Granovetter 1973; "
            "Seyfang & Longhurst 2013 on networked niches)",
            base=ISLANDS,
        ),
    )

    def founding_room(self) -> int:
        return foundings_planned(self.model.config)

    def init_state(self, keyed: Keyed) -> None:
        model = self.model
        sc = model.config
        self.shares = shares(sc)
        self.acting = any(v > 0 for v in self.shares.values())
        self.keyed = keyed.sub("organisation")
        self.bank_hours = dict.fromkeys(PARTS, 0.0)
        self.bank_euros = dict.fromkeys(PARTS, 0.0)
        self.totals = {"staff_hours": 0.0, "euros": 0.0, "links": 0.0, "deep_hours": 0.0}
        self.founded: list[int] = []  # slots of the collectives it founded
        self.recommendations: list[dict] = []  # one per founding
        self.step_counts = dict.fromkeys(self.results, 0.0)
        self.recommender = None
        self.archive = None  # first years of earlier runs' records (organisation.records)
        self._fitted_on = -1
        if self.shares["linking"] > 0:
            room_for_events(model.interventions)
        if self.shares["out"] > 0 and sc.organisation.warm_start:
            self._load_archive()

    def _load_archive(self) -> None:
        from bt_sim.recommender import Recommender

        org = self.model.config.organisation
        kinds = sorted({x.kind for x in self.model.config.interventions})
        self.recommender = Recommender(kinds, org.interval, org.min_records, org.objective)
        if org.records:
            self.archive = archive_of(org.records, org.objective, tuple(kinds))

    # ---- the step ---------------------------------------------------------------------
    def step(self) -> None:
        """Organisation: the month's budget to the strategy: found, give hours, link."""
        if not self.acting:
            return
        model = self.model
        org, dt = model.config.organisation, model.config.run.dt
        counts = self.step_counts = dict.fromkeys(self.results, 0.0)
        for part, share in self.shares.items():
            self.bank_hours[part] += share * org.staff_hours * dt
            self.bank_euros[part] += share * org.euros * dt
        if self.shares["out"] > 0:
            self._scale_out(counts)
        if self.shares["deep"] > 0:
            self._scale_deep(counts)
        if self.shares["linking"] > 0:
            self._link(counts)
            # what linking could not spend is not saved (beyond what one link takes)
            self.bank_hours["linking"] = min(self.bank_hours["linking"], org.link_hours)
            self.bank_euros["linking"] = 0.0
        self.totals["staff_hours"] += counts["staff_hours"]
        self.totals["euros"] += counts["staff_euros"]

    def _spend(self, part: str, hours: float, euros: float, counts: dict) -> None:
        self.bank_hours[part] -= hours
        self.bank_euros[part] -= euros
        counts["staff_hours"] += hours
        counts["staff_euros"] += euros

    def _scale_out(self, counts: dict) -> None:
        model = self.model
        org, cc = model.config.organisation, model.config.collectives
        colls = model.collectives
        while (
            len(self.founded) < org.max_foundings
            and self.bank_hours["out"] >= org.found_hours - 1e-9
            and self.bank_euros["out"] >= org.found_euros - 1e-9
        ):
            nb = self.next_neighbourhood()
            if nb < 0:
                break
            c = colls.found(nb, cc.founder_rule, cc.founders)
            if c < 0:
                break
            self._spend("out", org.found_hours, org.found_euros, counts)
            self.founded.append(c)
            counts["foundings"] += 1
            model.interventions.set_mix(c, self.mix_for(c))
        if len(self.founded) >= org.max_foundings:  # nothing left to save up for
            self.bank_hours["out"] = self.bank_euros["out"] = 0.0

    def next_neighbourhood(self) -> int:
        """The neighbourhood scaling out founds in next (-1: none left)."""
        model = self.model
        colls, pop, rec = model.collectives, model.population, model.recorder
        m = pop.n_neighbourhoods
        free = np.ones(m, bool)
        free[colls.nbhd[colls.nbhd >= 0]] = False  # (a dissolved one's neighbourhood too)
        if not free.any():
            return -1
        count = np.maximum(rec.nb_count, 1)
        adopting = rec.nb_sum[rec.steps_done, :, rec.variables.index("any_adoption")] / count
        if model.config.organisation.found_order == "ready":
            income = np.bincount(pop.neighbourhood, np.log(pop.income), m) / count
            order = np.lexsort((-income, -adopting))
        else:
            dis = np.bincount(pop.neighbourhood, pop.disadvantaged, m) / count
            order = np.lexsort((adopting, -dis))
        return int(order[free[order]][0])

    def mix_for(self, c: int) -> np.ndarray:
        """The mix of collective ``c``, founded now: recommended (a warm start, when the
        recommender has enough records) or the founders' own choice."""
        model = self.model
        org = model.config.organisation
        catalogue = model.config.interventions
        e = len(catalogue)
        u = self.keyed.uniform_at(np.arange(e, dtype=np.int64) + c * max(e, 1))
        own = (u < org.cold_share) & np.array([x.enabled for x in catalogue], bool)
        entry = {"collective": int(model.collectives.nbhd[c]), "month": model.month}
        entry.update(recommended=False, predicted=np.nan, lo=np.nan, hi=np.nan)
        if self.recommender is not None:
            self._refit()
            if self.recommender.ready:
                mix, mean, lo, hi = self._recommend(c)
                entry.update(recommended=True, predicted=mean, lo=lo, hi=hi)
                own = mix
        entry["mix"] = "+".join(x.name for x, on in zip(catalogue, own, strict=True) if on)
        self.recommendations.append(entry)
        return own

    def _refit(self) -> None:
        """Fit the recommender on the archive's first years and the run's own (from the
        records of rounds that have ended), again whenever the run's own first years have
        grown by a tenth of those it was fitted on (at least one)."""
        import pandas as pd

        from bt_sim.recommender import first_years
        from bt_sim.records import from_model

        model = self.model
        dt = model.config.run.dt
        known = int(np.count_nonzero(model.collectives.founded_month + 12.0 <= model.month + dt))
        rec = self.recommender
        if self._fitted_on >= 0 and known - self._fitted_on < max(1, 0.1 * rec.n):
            return
        archive = self.archive.years if self.archive is not None else None
        if self._fitted_on < 0 and archive is not None and known < 0.1 * len(archive):
            self._fitted_on = 0  # the archive alone (fitted once per process)
            self.recommender = self.archive.fit(rec)
            return
        self._fitted_on = known
        own = first_years(from_model(model, complete_only=True), rec.objective)
        parts = [r for r in (archive, own) if r is not None and len(r)]
        if parts:
            rec.fit_years(pd.concat(parts, ignore_index=True))

    def _recommend(self, c: int) -> tuple[np.ndarray, float, float, float]:
        from bt_sim.records import neighbourhood_context

        model = self.model
        catalogue = model.config.interventions
        hours_cap = float(model.capacity.volunteers[c]) * model.config.collectives.volunteer_hours
        enabled = [i for i, x in enumerate(catalogue) if x.enabled]
        cands, kinds = [], self.recommender.kinds
        for size in range(len(enabled) + 1):
            for subset in itertools.combinations(enabled, size):
                if sum(planned_hours(catalogue[i]) for i in subset) <= hours_cap + 1e-9:
                    cands.append(subset)
        rows = np.array(
            [[any(catalogue[i].kind == k for i in s) for k in kinds] for s in cands], bool
        ).reshape(len(cands), len(kinds))
        ctx = neighbourhood_context(model).iloc[int(model.collectives.nbhd[c])]
        best, mean, lo, hi = self.recommender.recommend(ctx, rows)
        pick = next(i for i, r in enumerate(rows) if (r == best).all())
        mix = np.zeros(len(catalogue), bool)
        mix[list(cands[pick])] = True
        return mix, mean, lo, hi

    def _scale_deep(self, counts: dict) -> None:
        model = self.model
        active = model.capacity.status == ACTIVE
        extra = model.interventions.extra
        extra[:] = 0.0
        n = int(np.count_nonzero(active))
        hours, euros = self.bank_hours["deep"], self.bank_euros["deep"]
        if n == 0 or hours <= 0:
            return
        extra[active] = hours / n
        self.totals["deep_hours"] += hours
        self._spend("deep", hours, euros, counts)
        self.bank_hours["deep"] = self.bank_euros["deep"] = 0.0

    def _link(self, counts: dict) -> None:
        model = self.model
        org = model.config.organisation
        want = int(self.bank_hours["linking"] // org.link_hours + 1e-9)
        if want <= 0:
            return
        colls = model.collectives
        active = model.capacity.status == ACTIVE
        of = colls.of
        members = np.flatnonzero(model.state.member & (of >= 0))
        members = members[active[of[members]]]
        if members.size < 2 or np.unique(of[members]).size < 2:
            return
        rng = model.streams["organisation"]
        a = rng.choice(members, 4 * want)
        b = rng.choice(members, 4 * want)
        cross = of[a] != of[b]
        a, b = a[cross][:want], b[cross][:want]
        room = model.interventions.room
        if room is None or not a.size:
            return
        adj = model.adjacency
        made = add_ties(adj.indptr, adj.indices, adj.data, room.start, room.used, a, b, room.weight)
        if made:
            room.rewired(model)
        hours = made * org.link_hours
        euros = self.bank_euros["linking"] * min(hours / self.bank_hours["linking"], 1.0)
        self._spend("linking", hours, euros, counts)
        counts["links"] += made
        self.totals["links"] += made

    # ---- outputs ----------------------------------------------------------------------
    def update_results(self, step: int) -> None:
        for name in self.results:
            self.result[name][step] = self.step_counts[name]
        self.step_counts = dict.fromkeys(self.results, 0.0)

    def summary(self) -> dict[str, float]:
        warm = [r for r in self.recommendations if r["recommended"]]
        return {
            "staff_hours": self.totals["staff_hours"],
            "euros": self.totals["euros"],
            "founded": float(len(self.founded)),
            "warm_starts": float(len(warm)),
            "links": self.totals["links"],
            "deep_hours": self.totals["deep_hours"],
            **{
                f"first_year_{what}": first_year(self.model, np.array(self.founded, int), what=what)
                for what in ("members", "saving", "behaviours")
            },
        }


class Archive:
    """A records file's collectives' first years, and the recommenders fitted on them alone."""

    def __init__(self, years):
        self.years = years
        self._fits: dict[tuple, object] = {}

    def fit(self, recommender):
        """``recommender`` fitted on the first years alone: fitted once per setting (the same
        archive gives the same fit) and copied."""
        import copy

        key = (recommender.kinds, recommender.interval, recommender.min_records,
               recommender.objective)  # fmt: skip
        if key not in self._fits:
            self._fits[key] = copy.copy(recommender).fit_years(self.years)
        return copy.copy(self._fits[key])


_ARCHIVES: dict[tuple, Archive] = {}


def archive_of(path: str, objective: str, kinds: tuple[str, ...]) -> Archive:
    """The :class:`Archive` of a records file (:func:`bt_sim.recommender.first_years` of the
    records of ``kinds``): read and validated once per process and version of the file
    (every run of a comparison reads the same archive)."""
    import os

    from bt_sim.recommender import first_years
    from bt_sim.record_file import read_records

    st = os.stat(path)
    key = (os.path.abspath(path), st.st_mtime_ns, st.st_size, objective, kinds)
    if key not in _ARCHIVES:
        records = read_records(path)
        records = records[records["kind"].isin(kinds)].reset_index(drop=True)
        _ARCHIVES.clear()  # one archive at a time
        _ARCHIVES[key] = Archive(first_years(records, objective))
    return _ARCHIVES[key]


def planned_hours(x) -> float:
    """Volunteer hours a month an entry is planned to take (a coach: its visits)."""
    if x.kind == "energy_coach":
        return x.visits_per_month * x.hours_per_visit
    return x.hours_per_month
