"""Experiment records: what each collective tried, in what neighbourhood, and what came of it.

Every round of a building block a collective carries out becomes a record (one row): the
collective, its neighbourhood's context (public neighbourhood statistics: households, median
income, the shares of disadvantaged, owner-occupied, senior and non-native households, the
density of its ties, the share already doing a behaviour), the entry's kind and settings,
when the round started, the months and volunteer hours it took and what it cost, and the
outcome as a real collective could measure it: from its hub's published panel only (so the
hub's ``k``, release windows, noise and rounding apply), at the last release before the round
and the first release at or after its end. A record never carries a household's data.

The columns, units and constraints are the Table Schema ``bt_sim/data/records.schema.json``
(:mod:`bt_sim.record_file` writes and reads record files against it; docs/records.md).

The true effect of an entry, which no collective can see, is researcher-only:
:func:`true_effects` runs the same world and seed again with the entry left out of one
collective's mix (common random numbers), and compares the collective's true outcomes.

Examples
--------
>>> from bt_sim import TransitionModel, load_scenario
>>> from bt_sim.scenario.loader import find_scenario
>>> sc = load_scenario(find_scenario("interventions"), ["population.households=400",
...                                                     "run.steps=24"])
>>> model = TransitionModel(sc, seed=1)
>>> model.run()
>>> recs = from_model(model)
>>> sorted(set(recs["kind"]))[:2]
['collective_purchase', 'energy_coach']
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from bt_sim.model import TransitionModel

#: The context columns of a record: what the recommender sees of a neighbourhood.
CONTEXT = (
    "households",
    "median_income",
    "share_disadvantaged",
    "share_owners",
    "share_seniors",
    "share_non_native",
    "network_density",
    "prior_adoption",
)


def neighbourhood_context(model: TransitionModel, step: int | None = None) -> pd.DataFrame:
    """Each neighbourhood's context (the :data:`CONTEXT` columns), with ``prior_adoption`` as
    of ``step`` (default: the last recorded), indexed by neighbourhood id."""
    pop = model.population
    nb = pop.neighbourhood
    m = pop.n_neighbourhoods
    count = np.bincount(nb, minlength=m).astype(np.float64)
    share = lambda flag: np.bincount(nb, flag, m) / np.maximum(count, 1)  # noqa: E731
    median = median_income(pop)
    rec = model.recorder
    t = rec.steps_done if step is None else min(step, rec.steps_done)
    adopting = rec.nb_sum[t, :, rec.variables.index("any_adoption")] / np.maximum(count, 1)
    return pd.DataFrame(
        {
            "households": count.astype(np.int64),
            "median_income": median,
            "share_disadvantaged": share(pop.disadvantaged),
            "share_owners": share(pop.owner),
            "share_seniors": share(pop.age_group == 2),
            "share_non_native": share(pop.non_native),
            "network_density": network_density(model),
            "prior_adoption": adopting.astype(np.float64),
        }
    )


def median_income(pop) -> np.ndarray:
    """Each neighbourhood's median household income (0 for an empty one)."""
    order = np.lexsort((pop.income, pop.neighbourhood))
    bounds = pop.neighbourhood_bounds()
    return np.array(
        [
            float(np.median(pop.income[order[bounds[i] : bounds[i + 1]]]))
            if bounds[i + 1] > bounds[i]
            else 0.0
            for i in range(pop.n_neighbourhoods)
        ]
    )


def network_density(model: TransitionModel) -> np.ndarray:
    """Per neighbourhood: ties between its households over the pairs of them (1 on the
    complete graph)."""
    pop = model.population
    m = pop.n_neighbourhoods
    count = np.bincount(pop.neighbourhood, minlength=m).astype(np.float64)
    pairs = np.maximum(count * (count - 1), 1)
    adj = model.adjacency
    if adj is None:
        return np.ones(m)
    coo = adj.tocoo()
    nb = pop.neighbourhood
    inside = (nb[coo.row] == nb[coo.col]) & (coo.row != coo.col) & (coo.data > 0)
    return np.bincount(nb[coo.row[inside]], minlength=m) / pairs


def published_rows(
    model: TransitionModel,
) -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Each collective's published progress rows, by collective: (months, members, mean
    saving)."""
    rows = [r for r in model.recorder.hub_rows if r[2] == -1]
    if not rows:
        return {}
    a = np.array([(r[0], r[1], r[3], r[4]) for r in rows], np.float64)
    dt = model.config.run.dt
    out = {}
    for c in np.unique(a[:, 1]).astype(int):
        mine = a[a[:, 1] == c]
        out[int(c)] = (mine[:, 0] * dt, mine[:, 2], mine[:, 3])
    return out


def from_model(
    model: TransitionModel, complete_only: bool = False, source: str | None = None
) -> pd.DataFrame:
    """The experiment records of a run so far (the columns of the records schema).

    Parameters
    ----------
    model : TransitionModel
        A model run some steps.
    complete_only : bool
        Only rounds that have ended by now (what a network organisation knows during a run);
        otherwise also a round the run ended in (its ``months`` says how much was done, its
        outcome is the last release).
    source : str, optional
        The ``source`` column (default: "bt-sim <version> simulation").
    """
    from bt_sim import __version__
    from bt_sim.record_file import COLUMNS, empty_records

    comp, colls = model.interventions, model.collectives
    t_now = model.steps_done
    dt = model.config.run.dt
    if t_now == 0 or not comp.kinds or colls.count == 0:
        return empty_records()
    months = comp.log_months[1 : t_now + 1]  # (t, e, k): step t + 1
    hours = comp.log_hours[1 : t_now + 1]
    ends = np.arange(1, t_now + 1) * dt
    # steps with each entry carried out, counted up to each step (for a round's mix)
    done = np.concatenate([np.zeros((1, *months.shape[1:])), np.cumsum(months > 0, axis=0)])
    context = neighbourhood_context(model, step=0)
    ctx = {k: context[k].to_numpy() for k in CONTEXT}
    rec = model.recorder
    anyad = rec.nb_sum[:, :, rec.variables.index("any_adoption")]
    releases = published_rows(model)
    run = f"{model.config.name}@{model.seed_entropy}:{'.'.join(map(str, model.seed_spawn_key))}"
    source = source or f"bt-sim {__version__} simulation"
    kinds = [k.kind for k in comp.kinds]
    parts = []
    for kind in comp.kinds:
        x, e = kind.x, kind.index
        steps, cs = np.nonzero(months[:, e, :] > 0)
        if not steps.size:
            continue
        if x.every_months > 0:
            rounds = np.floor((ends[steps] - 1e-9 - x.start_month) / x.every_months + 1e-9)
            rounds = np.maximum(rounds, 0).astype(np.int64)
        else:
            rounds = np.zeros(steps.size, np.int64)
        key = cs.astype(np.int64) * (int(rounds.max()) + 1) + rounds
        groups, inverse = np.unique(key, return_inverse=True)
        c = cs[np.unique(inverse, return_index=True)[1]]
        r = rounds[np.unique(inverse, return_index=True)[1]]
        start = x.start_month + r * max(x.every_months, 0.0)
        end = start + x.months
        keep = end <= t_now * dt + 1e-9 if complete_only else np.ones(groups.size, bool)
        if not keep.any():
            continue
        m_sum = np.bincount(inverse, months[steps, e, cs], groups.size)
        h_sum = np.bincount(inverse, hours[steps, e, cs], groups.size)
        c, r, start, end, m_sum, h_sum = (a[keep] for a in (c, r, start, end, m_sum, h_sum))
        t0 = np.clip(np.round(start / dt).astype(np.int64), 0, t_now)
        t1 = np.clip(np.round(end / dt).astype(np.int64), 0, t_now)
        ran = (done[t1, :, c] - done[t0, :, c]) > 0  # (groups, entries)
        mix = ["+".join(sorted({kinds[j] for j in np.flatnonzero(row)})) for row in ran]
        nb = colls.nbhd[c]
        out = pd.DataFrame(
            {
                "record_id": [f"{run}/{n}/{x.name}/{q}" for n, q in zip(nb, r, strict=True)],
                "source": source,
                "run": run,
                "collective": nb,
                "founded_month": colls.founded_month[c],
                "intervention": x.name,
                "kind": x.kind,
                "target": x.target if x.kind == "energy_coach" else "",
                "hours_per_month": float(x.hours_per_month),
                "euros_per_month": float(x.euros_per_month),
                "round": r,
                "start_month": start,
                "months": m_sum,
                "volunteer_hours": h_sum,
                "euros": m_sum * x.euros_per_month,
                "mix": mix,
                **{k: ctx[k][nb] for k in CONTEXT},
            }
        )
        out["prior_adoption"] = anyad[t0, nb] / np.maximum(rec.nb_count[nb], 1)
        outcomes = [
            _outcomes(releases.get(int(ci)), a, b, int(h))
            for ci, a, b, h in zip(c, start, end, out["households"], strict=True)
        ]
        parts.append(pd.concat([out, pd.DataFrame(outcomes, index=out.index)], axis=1))
    if not parts:
        return empty_records()
    df = pd.concat(parts, ignore_index=True)
    df = df.sort_values(["collective", "intervention", "round"], kind="stable")
    return df[list(COLUMNS)].astype(empty_records().dtypes.to_dict()).reset_index(drop=True)


def _outcomes(published, start: float, end: float, households: int) -> dict[str, float]:
    """Before and after from a collective's published rows (NaN where none; the published
    saving per household 0 where the hub published nothing)."""
    nan = float("nan")
    out = dict.fromkeys(
        ("month_before", "members_before", "saving_before", "month_after", "members_after",
         "saving_after"),
        nan,
    )  # fmt: skip
    out["impact_before"] = out["impact_after"] = 0.0
    if published is None:
        return out
    m, members, saving = published
    before = np.flatnonzero(m <= start + 1e-9)
    if before.size:
        i = before[-1]
        out.update(month_before=m[i], members_before=members[i], saving_before=saving[i])
        out["impact_before"] = float(members[i] * saving[i] / households)
    after = np.flatnonzero(m >= end - 1e-9)
    later = np.flatnonzero(m > start + 1e-9)
    i = after[0] if after.size else (later[-1] if later.size else -1)
    if i >= 0:
        out.update(month_after=m[i], members_after=members[i], saving_after=saving[i])
        out["impact_after"] = float(members[i] * saving[i] / households)
    return {k: float(v) for k, v in out.items()}


def records_of_runs(
    scenario: str,
    overrides: list[str] | tuple[str, ...] = (),
    out: str | Path | None = None,
    replicates: int | None = None,
    seed: int | None = None,
    force: bool = False,
) -> Path | pd.DataFrame:
    """The experiment records of a scenario's replicates (replicate ``r`` is replicate ``r``
    of ``bt-sim run``), written to ``out`` (Parquet or CSV by its suffix, with its schema
    beside it) or returned when ``out`` is None.

    Every check that can fail does so before the first run: the scenario, the file's suffix,
    and a file that exists (refused unless ``force``).
    """
    from bt_sim.errors import OutputError
    from bt_sim.model import TransitionModel
    from bt_sim.record_file import write_records
    from bt_sim.scenario import load_scenario

    sc = load_scenario(scenario, list(overrides))
    if out is not None:
        out = Path(out)
        if out.suffix not in (".parquet", ".csv"):
            raise OutputError(f"{out}: expected a .parquet or .csv file")
        if out.exists() and not force:
            raise OutputError(f"{out}: exists (--force replaces it)")
        if not out.parent.is_dir():
            raise OutputError(f"{out.parent}: no such folder")
    seed = sc.run.seed if seed is None else seed
    parts = []
    for r in range(sc.run.replicates if replicates is None else replicates):
        model = TransitionModel(sc, seed=seed, replicate=r)
        model.run()
        parts.append(from_model(model))
    records = pd.concat(parts, ignore_index=True)
    if out is None:
        return records
    return write_records(records, out)


def _truth(model: TransitionModel, nbhd: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """True outcomes in neighbourhoods ``nbhd`` after steps ``steps``: the members' saving
    per household of the neighbourhood (every member, no consent, noise or rounding), and
    behaviours per household; shape (len, 2)."""
    rec = model.recorder
    kpi = rec.variables.index("kpi_saving")
    b = len(model.behaviour_names)
    count = np.maximum(rec.nb_count[nbhd], 1)
    t = np.minimum(steps, rec.steps_done)
    impact = rec.member_sums(t, nbhd)[:, kpi] / count
    behaviours = rec.nb_sum[t, nbhd, :b].sum(axis=-1) / count
    return np.stack([impact, behaviours], axis=1).astype(np.float64)


def run_without(
    scenario,
    seed: int,
    replicate: int,
    entries,
    slot: int,
    nbhd: int,
    steps: int | None = None,
) -> TransitionModel | None:
    """The same world and seed run (``steps`` steps, default all) with catalogue ``entries``
    left out of collective ``slot``'s mix for the whole run (common random numbers: the same
    population, network and draws): the counterfactual of a true effect. None where, without
    them, the slot was founded in another neighbourhood than ``nbhd`` (no like-for-like pair).
    """
    from bt_sim.model import TransitionModel

    other = TransitionModel(scenario, seed=seed, replicate=replicate)
    for e in entries:
        other.interventions.remove(e, slot)
    other.run(steps)
    return other if other.collectives.nbhd[slot] == nbhd else None


def true_effects(scenario, seed: int | None = None, replicate: int = 0) -> pd.DataFrame:
    """Researcher-only: the true effect behind each record of one run.

    For every (collective, entry) with records, the same world is run again with the same
    seed (common random numbers: the same population, network and draws) with the entry left
    out of that collective's mix for the whole run (NaN where, without it, the collective's
    slot was founded in another neighbourhood); the effect of a record is the difference
    of the collective's true outcomes at the round's end, with the entry against without
    (what carrying out the entry in all its rounds so far did): ``true_impact`` (the members'
    saving per household of the neighbourhood, every member, no hub rules) and
    ``true_behaviours`` (behaviours per household). One run per pair: costly on purpose.

    Returns
    -------
    DataFrame
        ``record_id``, ``true_impact``, ``true_behaviours`` (and the run's records are
        :func:`from_model` of the first run).
    """
    from bt_sim.model import TransitionModel

    seed = scenario.run.seed if seed is None else seed
    model = TransitionModel(scenario, seed=seed, replicate=replicate)
    model.run()
    recs = from_model(model)
    if recs.empty:
        return pd.DataFrame({"record_id": [], "true_impact": [], "true_behaviours": []})
    dt = model.config.run.dt
    slot = {int(nb): c for c, nb in enumerate(model.collectives.nbhd) if nb >= 0}
    index = {x.name: i for i, x in enumerate(model.config.interventions)}
    planned = np.array([model.config.interventions[index[n]].months for n in recs["intervention"]])
    end = recs["start_month"].to_numpy() + planned
    steps = np.round(end / dt).astype(np.int64)
    nbhd = recs["collective"].to_numpy()
    with_it = _truth(model, nbhd, steps)
    effect = np.full((len(recs), 2), np.nan)
    for (nb, name), rows in recs.groupby(["collective", "intervention"]).groups.items():
        other = run_without(scenario, seed, replicate, [index[name]], slot[int(nb)], int(nb))
        if other is None:
            continue  # founded elsewhere without the entry: no like-for-like pair (NaN)
        at = recs.index.get_indexer(rows)
        effect[at] = with_it[at] - _truth(other, nbhd[at], steps[at])
    return pd.DataFrame(
        {
            "record_id": recs["record_id"].to_numpy(),
            "true_impact": effect[:, 0],
            "true_behaviours": effect[:, 1],
        }
    )
