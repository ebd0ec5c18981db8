"""The simulation's own truth behind a success-factor estimate (:mod:`bt_sim.factors`).

A records file says what collectives did and what their hubs published; an estimate from it
says what a building block did for the collectives that carried it out (the effect on the
treated). A simulation knows the answer: the same town, the same seed, with the building
block left out of one collective's mix, is the collective's counterfactual (common random
numbers: the same population, network and draws, so the two runs differ only by what the
building block changed). :func:`town_truth` measures, for every collective that carried out
``kind`` in its first year, its first-year outcome exactly as the estimate reads it (the
hub's published row at the month :func:`bt_sim.recommender.first_years` reads, with the
hub's ``k``, rounding and noise) in both runs; the true effect on the treated is the mean of
the differences. :func:`score` repeats it over independent archives of towns and reports
the bias, RMSE and interval coverage of each estimator.

One counterfactual run per treated collective, stopped at the month its outcome is read:
costly on purpose (the pilot's 40 towns take about a minute, docs/factors.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

from bt_sim.scenario import Scenario

#: The columns of :func:`town_truth`.
TRUTH_COLUMNS = (
    "case", "run", "collective", "treated", "outcome", "outcome_month", "without",
    "true_effect",
)  # fmt: skip


def published_at(model, slot: int, month: float, objective: str = "members") -> float:
    """Collective ``slot``'s first-year outcome as the records read it at ``month``: from
    its latest published progress row at or before ``month``, the sharing members per
    household of its neighbourhood (``members``) or their published saving per household
    (``saving``); 0 where its hub has published nothing of it by then."""
    from bt_sim.records import published_rows

    published = published_rows(model).get(int(slot))
    if published is None:
        return 0.0
    months, members, saving = published
    at = np.flatnonzero(months <= month + 1e-9)
    if not at.size:
        return 0.0
    i = at[-1]
    households = float(model.recorder.nb_count[int(model.collectives.nbhd[slot])])
    value = members[i] if objective == "members" else members[i] * saving[i]
    return float(value / households)


def entries_of(scenario: Scenario, kind: str) -> list[int]:
    """The catalogue entries of ``kind`` (the treatment is carrying out any of them)."""
    return [i for i, x in enumerate(scenario.interventions) if x.kind == kind]


def town_truth(
    scenario: Scenario,
    kind: str,
    objective: str = "members",
    seed: int | None = None,
    replicate: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One town's records and the truth behind them.

    Returns
    -------
    records : DataFrame
        :func:`bt_sim.records.from_model` of the run (replicate ``replicate`` of ``seed``).
    truth : DataFrame
        One row per collective with a first-year outcome (:data:`TRUTH_COLUMNS`):
        ``treated`` (it carried out ``kind`` in its first year), ``outcome`` (as
        :func:`bt_sim.factors.cases` has it), the month it was read at, and for the
        treated ``without`` (the same outcome in the run without ``kind`` in that
        collective's mix) and ``true_effect`` (``outcome - without``); NaN for the untreated
        and where, without ``kind``, the slot was founded in another neighbourhood.
    """
    from bt_sim.factors import cases
    from bt_sim.model import TransitionModel
    from bt_sim.records import from_model, run_without

    entries = entries_of(scenario, kind)
    if not entries:
        kinds = sorted({x.kind for x in scenario.interventions})
        raise ValueError(f"the scenario has no building block of kind {kind!r} "
                         f"(it has: {', '.join(kinds) or 'none'})")  # fmt: skip
    seed = scenario.run.seed if seed is None else seed
    model = TransitionModel(scenario, seed=seed, replicate=replicate)
    model.run()
    records = from_model(model)
    if records.empty or kind not in set(records["kind"]):
        return records, pd.DataFrame({c: [] for c in TRUTH_COLUMNS})
    table = cases(records, kind, objective)
    slot = {int(nb): c for c, nb in enumerate(model.collectives.nbhd) if nb >= 0}
    dt = model.config.run.dt
    without = np.full(len(table), np.nan)
    for i, row in table.iterrows():
        if not row["treated"]:
            continue
        c, nb = slot[int(row["collective"])], int(row["collective"])
        steps = int(np.ceil(row["outcome_month"] / dt - 1e-9))
        other = run_without(scenario, seed, replicate, entries, c, nb, steps)
        if other is not None:
            without[i] = published_at(other, c, row["outcome_month"], objective)
    out = table[["case", "run", "collective", "treated", "outcome", "outcome_month"]].copy()
    out["without"] = without
    out["true_effect"] = out["outcome"] - out["without"]
    return records, out.reset_index(drop=True)


def _town(args) -> tuple[pd.DataFrame, pd.DataFrame]:
    return town_truth(*args)


def towns_truth(
    scenario: Scenario,
    kind: str,
    objective: str,
    seed: int | None,
    replicates: Sequence[int],
    workers: int = 1,
) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    """:func:`town_truth` of each replicate in ``replicates``, in order; with ``workers > 1``
    in that many processes (spawned, one BLAS thread each). Each town is its own replicate
    of ``seed``, so the result does not depend on ``workers``."""
    seed = scenario.run.seed if seed is None else seed
    jobs = [(scenario, kind, objective, seed, r) for r in replicates]
    if workers <= 1 or len(jobs) <= 1:
        return [_town(j) for j in jobs]
    import multiprocessing

    from bt_sim.experiments.executors import worker_init

    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(min(workers, len(jobs)), ctx, initializer=worker_init) as pool:
        return list(pool.map(_town, jobs))


def _concat(parts: list[tuple[pd.DataFrame, pd.DataFrame]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    records = pd.concat([p[0] for p in parts], ignore_index=True)
    truths = [p[1] for p in parts if len(p[1])]
    truth = (
        pd.concat(truths, ignore_index=True)
        if truths
        else pd.DataFrame({c: [] for c in TRUTH_COLUMNS})
    )
    return records, truth


def archive_truth(
    scenario: Scenario,
    kind: str,
    objective: str = "members",
    seed: int | None = None,
    replicates: Sequence[int] | None = None,
    workers: int = 1,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`town_truth` of several towns (the scenario's replicates, or ``replicates``),
    records and truth each concatenated (:func:`towns_truth`)."""
    reps = list(range(scenario.run.replicates) if replicates is None else replicates)
    return _concat(towns_truth(scenario, kind, objective, seed, reps, workers))


def with_truth(
    records: pd.DataFrame, truth: pd.DataFrame, kind: str, objective: str = "members"
) -> pd.DataFrame:
    """The :func:`bt_sim.factors.cases` of ``records`` with each case's ``true_effect``
    (NaN for the untreated and where there is no counterfactual).

    Raises
    ------
    ValueError
        As :func:`bt_sim.factors.cases` (no records of ``kind``).
    """
    from bt_sim.factors import cases

    table = cases(records, kind, objective)
    return table.merge(truth[["case", "true_effect"]], on="case", how="left")


def true_att(truth: pd.DataFrame) -> tuple[float, float, int]:
    """The true effect on the treated (the mean of the treated collectives' true effects),
    its standard error over them, and how many treated collectives it is over (those with a
    counterfactual)."""
    eff = truth.loc[truth["treated"] == 1, "true_effect"].to_numpy(np.float64)
    eff = eff[np.isfinite(eff)]
    if not eff.size:
        return float("nan"), float("nan"), 0
    se = float(eff.std(ddof=1) / np.sqrt(eff.size)) if eff.size > 1 else float("nan")
    return float(eff.mean()), se, int(eff.size)


def confound(table: pd.DataFrame, column: str, strength: float, seed: int = 0) -> pd.DataFrame:
    """A confounded archive from a randomised one: each treated case is kept with probability
    ``logistic(strength * z)`` and each untreated one with ``logistic(-strength * z)``, where
    ``z`` is ``column`` standardised; the treated then lie where ``column`` is high (for a
    positive ``strength``), as when founders choose a building block where they expect it to
    work. The true effect on the treated is over the cases kept.

    >>> t = pd.DataFrame({"x": np.arange(400.0), "treated": np.arange(400) % 2})
    >>> kept = confound(t, "x", 3.0, seed=1)
    >>> bool(kept.loc[kept.treated == 1, "x"].mean() > kept.loc[kept.treated == 0, "x"].mean())
    True
    """
    x = table[column].to_numpy(np.float64)
    sd = x.std()
    z = (x - x.mean()) / sd if sd > 0 else np.zeros_like(x)
    sign = np.where(table["treated"].to_numpy() == 1, 1.0, -1.0)
    keep = np.random.default_rng(seed).uniform(size=len(x)) < 1.0 / (
        1.0 + np.exp(-strength * sign * z)
    )
    return table[keep].reset_index(drop=True)


def score(
    scenario: Scenario,
    kind: str,
    objective: str = "members",
    archives: int = 20,
    towns: int | None = None,
    seed: int | None = None,
    covariates: Sequence[str] | None = None,
    boot: int = 200,
    workers: int = 1,
    confounder: tuple[str, float] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Bias, RMSE and interval coverage of each estimator over ``archives`` independent
    archives of ``towns`` towns each (archive ``a`` holds replicates ``a * towns`` to
    ``(a + 1) * towns - 1`` of ``seed``); with ``confounder = (column, strength)`` each
    archive is first :func:`confound`-ed.

    Returns
    -------
    per_archive : DataFrame
        One row per archive and method: the estimate, its interval, the true effect on the
        treated and whether the interval covers it (an archive the methods refuse has one
        row with its ``error``).
    scores : DataFrame
        One row per method: ``bias`` (mean of estimate minus truth) with its Monte Carlo
        standard error, ``rmse``, ``coverage`` (share of intervals holding the truth) with
        its standard error, the mean interval ``width``, and the ``archives`` scored.
    """
    from bt_sim.factors import estimate_cases

    towns = scenario.run.replicates if towns is None else towns
    every = towns_truth(scenario, kind, objective, seed, range(archives * towns), workers)
    rows = []
    for a in range(archives):
        records, truth = _concat(every[a * towns : (a + 1) * towns])
        try:
            table = with_truth(records, truth, kind, objective)
            if confounder is not None:
                table = confound(table, confounder[0], confounder[1], seed=a)
            att, att_se, n = true_att(table)
            est, _ = estimate_cases(table, covariates, boot=boot, seed=a + 1)
        except ValueError as exc:  # an archive the methods cannot use: counted, not hidden
            rows.append({"archive": a, "method": "", "error": str(exc)})
            continue
        for _, r in est.iterrows():
            rows.append(
                {
                    "archive": a,
                    "method": r["method"],
                    "effect": r["effect"],
                    "lo": r["lo"],
                    "hi": r["hi"],
                    "truth": att,
                    "truth_se": att_se,
                    "treated_with_truth": n,
                    "covered": bool(r["lo"] <= att <= r["hi"]),
                    "error": "",
                }
            )
    per = pd.DataFrame(rows)
    return per, summarise(per)


def summarise(per_archive: pd.DataFrame) -> pd.DataFrame:
    """:func:`score`'s table per method from its rows per archive."""
    out = []
    ok = per_archive[per_archive["error"] == ""] if "error" in per_archive else per_archive
    for method, g in ok.groupby("method", sort=False):
        err = (g["effect"] - g["truth"]).to_numpy(np.float64)
        cov = g["covered"].to_numpy(bool)
        k = len(g)
        out.append(
            {
                "method": method,
                "archives": k,
                "bias": float(err.mean()),
                "bias_se": float(err.std(ddof=1) / np.sqrt(k)) if k > 1 else float("nan"),
                "rmse": float(np.sqrt(np.mean(err * err))),
                "coverage": float(cov.mean()),
                "coverage_se": float(np.sqrt(cov.mean() * (1 - cov.mean()) / k)),
                "width": float((g["hi"] - g["lo"]).mean()),
                "mean_truth": float(g["truth"].mean()),
            }
        )
    return pd.DataFrame(out)
