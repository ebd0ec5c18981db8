"""ABC-SMC calibration against hub data, through pyabc.

The observed hub data and each simulated hub panel are reduced to the same summary statistics:
per matched indicator, collective and peer group, the household-weighted mean of each pooling
window (``statistics.pool_months``, a year by default). Pooling releases averages the Laplace
noise of single releases away. A group the simulation did not publish in a window counts as 0
(no households, no saving); the distance is the root mean square of the differences, each
divided by its indicator's scale (``statistics.scale``).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from bt_sim.calibration.config import MODEL_OUTPUTS, Calibration, CalibrationError
from bt_sim.calibration.hubdata import _release_months
from bt_sim.errors import ScenarioError


def _pname(key: str) -> str:
    return key.replace(".", "__")


class Statistics:
    """The summary statistics of hub data, computed the same way for data and simulations."""

    def __init__(self, cal: Calibration, observed: pd.DataFrame, scenario):
        self.cal = cal
        obs = observed[observed["indicator"].isin(list(cal.match))]
        last = float(obs["month"].max())
        months = np.array([m for m in _release_months(scenario) if m <= last + 1e-9])
        self.months = months
        self.window_of = {round(m, 6): int((m - 1e-9) // cal.pool_months) for m in months}
        windows = sorted(set(self.window_of.values()))
        groups = obs[["indicator", "collective", "size_class"]].drop_duplicates()
        groups = groups.sort_values(["indicator", "collective", "size_class"])
        self.keys = [
            (r.indicator, int(r.collective), int(r.size_class), w)
            for r in groups.itertuples()
            for w in windows
        ]
        self.index = {k: i for i, k in enumerate(self.keys)}
        self.releases_per_window = {
            w: sum(1 for v in self.window_of.values() if v == w) for w in windows
        }
        self.scales = np.array([cal.scale[k[0]] for k in self.keys])
        self.observed = self.of(obs)

    def of(self, tidy: pd.DataFrame) -> np.ndarray:
        """Statistics of tidy hub data (observed, or a simulated panel made tidy)."""
        sums = np.zeros(len(self.keys))
        weights = np.zeros(len(self.keys))
        for ind, col, sc, month, value, n in zip(
            tidy["indicator"],
            tidy["collective"],
            tidy["size_class"],
            tidy["month"],
            tidy["value"],
            tidy["n_households"],
            strict=True,
        ):
            w = self.window_of.get(round(float(month), 6))
            i = self.index.get((ind, int(col), int(sc), w)) if w is not None else None
            if i is None:
                continue
            if ind == "households":
                sums[i] += value
                weights[i] += 0  # averaged over all releases of the window below
            else:
                sums[i] += value * n
                weights[i] += n
        out = np.zeros(len(self.keys))
        for i, (ind, _c, _s, w) in enumerate(self.keys):
            if ind == "households":
                out[i] = sums[i] / self.releases_per_window[w]
            elif weights[i] > 0:
                out[i] = sums[i] / weights[i]
        return out

    def distance(self, x: dict, x0: dict) -> float:
        d = (x["s"] - x0["s"]) / self.scales
        return float(np.sqrt(np.mean(d * d)))

    def table(self, values: np.ndarray | None = None) -> pd.DataFrame:
        """The statistics as a table (indicator, collective, size_class, window, months)."""
        p = self.cal.pool_months
        df = pd.DataFrame(self.keys, columns=["indicator", "collective", "size_class", "window"])
        df["month_from"] = df["window"] * p
        df["month_to"] = (df["window"] + 1) * p
        if values is not None:
            df["value"] = values
        return df


def simulate_panel(cal: Calibration, values: dict[str, float], seed: int) -> pd.DataFrame:
    """One simulated hub panel, as tidy hub data, at the given parameter values."""
    from bt_sim.calibration.hubdata import panel_to_tidy
    from bt_sim.model import TransitionModel

    model = TransitionModel(cal.scenario(values), seed=seed)
    model.run()
    return panel_to_tidy(model.hub_panel())


def _values(cal: Calibration, par) -> dict[str, float]:
    out = {}
    for p in cal.priors:
        v = float(par[_pname(p.key)])
        out[p.key] = float(np.exp(v)) if p.log else v
    return out


class _Model:
    """The simulator pyabc calls: parameters -> summary statistics (picklable)."""

    def __init__(self, cal: Calibration, stats: Statistics):
        self.cal, self.stats = cal, stats

    def __call__(self, par) -> dict:
        # The sampler seeds numpy's global stream per candidate; pyabc and this draw from it.
        seed = int(np.random.randint(0, 2**62))  # noqa: NPY002
        values = _values(self.cal, par)
        try:
            tidy = simulate_panel(self.cal, values, seed)
        except ScenarioError as exc:  # the checks up front should have made this impossible
            shown = ", ".join(f"{k} = {v:.6g}" for k, v in values.items())
            raise CalibrationError(
                f"{self.cal.path}: parameters: at {shown} the scenario is not valid ({exc}); "
                "narrow the priors"
            ) from None
        return {"s": self.stats.of(tidy)}


def run_abc(
    cal: Calibration,
    observed: pd.DataFrame,
    db_path,
    resume: bool = False,
    n_procs: int = 1,
    executor=None,
    progress: Callable[[str], None] | None = None,
):
    """Run (or continue) the ABC-SMC calibration; its history is the SQLite file ``db_path``.

    Simulations run on ``executor`` (any of :mod:`bt_sim.experiments.executors`, e.g. a
    :class:`~bt_sim.experiments.executors.DaskExecutor` on a cluster; the caller closes it), or
    else on ``n_procs`` local processes kept for the whole calibration (1: this process).
    The posterior does not depend on which (:mod:`bt_sim.calibration.sampler`).

    Returns
    -------
    (pyabc.History, Statistics, dict)
        The history, the statistics and timing figures (simulations, seconds).
    """
    from bt_sim.calibration.sampler import local_executor

    own = executor is None
    executor = local_executor(n_procs) if own else executor
    try:
        return _run_abc(cal, observed, db_path, resume, executor, progress)
    finally:
        if own:
            executor.close()


def _run_abc(cal, observed, db_path, resume, executor, progress):
    import pyabc

    from bt_sim.calibration.sampler import ExecutorSampler, stops_between_simulations

    scenario = cal.scenario()
    stats = Statistics(cal, observed, scenario)
    prior = pyabc.Distribution(**{_pname(p.key): p.rv() for p in cal.priors})
    np.random.seed(cal.seed % 2**32)  # noqa: NPY002 (pyabc samples from the global stream)
    logging.getLogger("ABC").setLevel(logging.WARNING)
    logging.getLogger("Sampler").setLevel(logging.WARNING)
    logging.getLogger("Epsilon").setLevel(logging.WARNING)
    sampler = ExecutorSampler(executor, cal.seed)
    abc = pyabc.ABCSMC(
        _Model(cal, stats),
        prior,
        stats.distance,
        population_size=cal.population_size,
        sampler=sampler,
    )
    db = f"sqlite:///{os.path.abspath(db_path)}"
    with stops_between_simulations() as safe_point:  # never inside a write of the history
        sampler.safe_point = safe_point
        if resume:
            history = abc.load(db, 1)
            done = history.max_t + 1
        else:
            history = abc.new(db, {"s": stats.observed})
            done = 0
        sims_before = history.total_nr_simulations if done else 0
        todo = cal.generations - done
        t0 = time.perf_counter()
        if todo > 0 and sims_before < cal.max_simulations:
            history = _run_generations(abc, cal, todo, progress)
        seconds = time.perf_counter() - t0
    sims = history.total_nr_simulations - sims_before
    return history, stats, {"simulations": int(sims), "seconds": seconds, "resumed_at": done}


class _Progress(logging.Handler):
    """Turns pyabc's per-generation log lines into progress messages."""

    def __init__(self, cal: Calibration, progress: Callable[[str], None]):
        super().__init__(logging.INFO)
        self.cal, self.progress = cal, progress

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if msg.startswith("t: "):
            t = int(msg.split(",")[0][3:])
            eps = msg.split("eps:")[1].strip().rstrip(".")
            self.progress(
                f"generation {t + 1}/{self.cal.generations} running (epsilon {float(eps):.4g}); "
                f"{t} stored in the history"
            )


def _run_generations(abc, cal, todo, progress):
    """All remaining generations in one pyabc run (progress from its log)."""
    log = logging.getLogger("ABC")
    handler = _Progress(cal, progress) if progress is not None else None
    level, propagate, handlers = log.level, log.propagate, list(log.handlers)
    if handler is not None:
        log.handlers = [handler]  # pyabc's own console handler would print every line
        log.setLevel(logging.INFO)
        log.propagate = False
    try:
        return abc.run(
            minimum_epsilon=cal.min_epsilon,
            max_nr_populations=todo,
            max_total_nr_simulations=cal.max_simulations,
        )
    finally:
        if handler is not None:
            log.handlers = handlers
            log.setLevel(level)
            log.propagate = propagate


def posterior(cal: Calibration, history) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The last generation's samples with weights, and their summary per parameter."""
    df, w = history.get_distribution(m=0, t=history.max_t)
    samples = pd.DataFrame({p.key: df[_pname(p.key)].to_numpy() for p in cal.priors})
    for p in cal.priors:
        if p.log:
            samples[p.key] = np.exp(samples[p.key])
        if p.integer:  # the value the simulation used (it rounds)
            samples[p.key] = np.rint(samples[p.key]).astype(np.int64)
    samples["weight"] = np.asarray(w) / np.sum(w)
    rows = []
    for p in cal.priors:
        x = samples[p.key].to_numpy()
        q = weighted_quantiles(x, samples["weight"].to_numpy(), [0.05, 0.5, 0.95], p.integer)
        plo, phi = p.quantiles([0.05, 0.95])
        rows.append(
            {
                "parameter": p.key,
                "mean": float(np.sum(x * samples["weight"])),
                "median": q[1],
                "q05": q[0],
                "q95": q[2],
                "prior_q05": plo,
                "prior_q95": phi,
                "width_ratio": (q[2] - q[0]) / (phi - plo),
            }
        )
    return samples, pd.DataFrame(rows)


def weighted_quantiles(x: np.ndarray, w: np.ndarray, qs, discrete: bool = False) -> list[float]:
    """Weighted quantiles of ``x``: interpolated between samples, or, ``discrete``, the
    smallest sample whose cumulative weight reaches ``q`` (a value ``x`` takes: whole numbers
    for an integer key).

    >>> weighted_quantiles(np.array([5, 10, 15]), np.array([0.2, 0.5, 0.3]), [0.5], True)
    [10.0]
    """
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    if discrete:
        cw = np.cumsum(w) / np.sum(w)
        return [float(x[min(np.searchsorted(cw, q - 1e-12), len(x) - 1)]) for q in qs]
    cw = np.cumsum(w) - 0.5 * w
    cw /= np.sum(w)
    return [float(np.interp(q, cw, x)) for q in qs]


def _draw(task: tuple) -> tuple[int, np.ndarray]:
    """One posterior predictive simulation (in a worker): its statistics."""
    j, cal, stats, values, seed = task
    return j, stats.of(simulate_panel(cal, values, seed))


def predictive(
    cal: Calibration, stats: Statistics, samples: pd.DataFrame, seed: int, executor=None
) -> pd.DataFrame:
    """Posterior predictive check: simulated 5-95 % bands of each statistic against the data
    (the draws run on ``executor``, in this process by default; the same bands either way)."""
    from bt_sim.experiments.executors import InProcessExecutor

    rng = np.random.default_rng(seed)
    idx = rng.choice(len(samples), size=cal.draws, p=samples["weight"].to_numpy())
    tasks = [
        (j, cal, stats, {p.key: float(samples[p.key].iloc[i]) for p in cal.priors},
         int(rng.integers(2**62)) + j)
        for j, i in enumerate(idx)
    ]  # fmt: skip
    got = dict((executor or InProcessExecutor()).run(_draw, tasks))
    sims = np.array([got[j] for j in range(len(tasks))])
    table = stats.table(stats.observed).rename(columns={"value": "observed"})
    table["sim_q05"] = np.quantile(sims, 0.05, axis=0)
    table["sim_median"] = np.quantile(sims, 0.5, axis=0)
    table["sim_q95"] = np.quantile(sims, 0.95, axis=0)
    table["covered"] = (table["observed"] >= table["sim_q05"]) & (
        table["observed"] <= table["sim_q95"]
    )
    return table


#: What each hub indicator's axis says.
_INDICATOR_LABELS = {
    "saving_mean": "mean saving of sharing members (fraction)",
    "households": "households sharing data (count)",
}


def plot_predictive(table: pd.DataFrame, path=None):
    """A PNG a network organisation can read: per collective (rows) and hub indicator
    (columns), what the hub published (dots) against the band of 90 % of simulations from
    the fitted model and their median, over months. Returns the figure (written to ``path``
    when given)."""
    from matplotlib.figure import Figure

    whole = table[table["size_class"] == table.groupby("collective")["size_class"].transform("min")]
    cols = sorted(whole["collective"].unique())
    inds = sorted(whole["indicator"].unique())
    fig = Figure(figsize=(4.8 * len(inds), 2.9 * len(cols) + 0.6), layout="constrained")
    axes = fig.subplots(len(cols), len(inds), squeeze=False)
    for r, c in enumerate(cols):
        for j, ind in enumerate(inds):
            ax = axes[r][j]
            d = whole[(whole["collective"] == c) & (whole["indicator"] == ind)]
            mid = (d["month_from"] + d["month_to"]) / 2
            ax.fill_between(mid, d["sim_q05"], d["sim_q95"], alpha=0.3,
                            label="fitted model: 90 % of simulations")  # fmt: skip
            ax.plot(mid, d["sim_median"], label="fitted model: median")
            ax.plot(mid, d["observed"], "o", color="black", label="published by the hub")
            g = int(d["size_class"].iloc[0]) if len(d) else -1
            part = "whole collective" if g < 0 else f"size class {g}"
            ax.set_title(f"collective {c} ({part})", fontsize=9)
            ax.set_xlabel("month (middle of the pooled year)")
            ax.set_ylabel(_INDICATOR_LABELS.get(ind, ind), fontsize=8)
            ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    fig.suptitle("Posterior predictive check: do the fitted model's simulations cover what each "
                 "hub published?", fontsize=10)  # fmt: skip
    if path is not None:
        fig.savefig(path, dpi=90)
    return fig


def output_names() -> list[str]:
    return list(MODEL_OUTPUTS)
