"""Comparing scaling strategies: statistics, a table and a trade-off picture.

A network organisation runs several named strategies (``"none"``, ``"out_ready"``, ``"deep"``,
...) on the same towns with **common random numbers**: replicate ``r`` of every strategy
shares its seed, so the runs pair by replicate and a difference between two strategies is
judged on the per-replicate differences, which cancels most of the noise the strategies share.

The input is a frame ``runs`` with one row per run: ``strategy``, ``replicate`` and numeric
metric columns. A metric may be NaN (or infinite) in a run where it is not defined, such as
the time to reach a target in a run that never reached it; such runs count as *never*.

* :func:`summarise` gives, per strategy and metric, the mean with its Student t interval,
  the paired difference against a reference strategy with its interval, a verdict (better,
  worse, indistinguishable) and a rank: 1 + the number of strategies that beat this one;
* :func:`markdown_table` and :func:`write_tables` turn the summary into a report;
* :func:`plot_tradeoff` draws two metrics against each other, one point per strategy;
* :func:`concentration_index` measures how an outcome is spread over rich and poor towns.

References
----------
Wagstaff, A., Paci, P. & van Doorslaer, E. (1991). On the measurement of inequalities in
health. Social Science & Medicine 33, 545-557.
Kakwani, N., Wagstaff, A. & van Doorslaer, E. (1997). Socioeconomic inequalities in health:
measurement, computation, and statistical inference. Journal of Econometrics 77, 87-103.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats

from bt_sim.experiments.store import write_atomic

BETTER = ("higher", "lower")
COLUMNS = [
    "strategy",
    "metric",
    "label",
    "unit",
    "better",
    "runs",
    "defined",
    "never",
    "mean",
    "lo",
    "hi",
    "diff",
    "diff_lo",
    "diff_hi",
    "pairs",
    "verdict",
    "rank",
    "level",
]


@dataclass(frozen=True)
class Metric:
    """A metric of the comparison: a column of ``runs`` and how to read it.

    Parameters
    ----------
    name : str
        The column of ``runs``.
    label : str
        What tables and axes call it.
    better : {"higher", "lower"}
        Which direction is an improvement.
    unit : str, optional
        Its unit, shown next to the label.

    Examples
    --------
    >>> Metric("time_to_target", "Time to target", "lower", "years").better
    'lower'
    """

    name: str
    label: str
    better: str
    unit: str = ""

    def __post_init__(self) -> None:
        if self.better not in BETTER:
            raise ValueError(
                f"metric {self.name!r}: better must be 'higher' or 'lower', not {self.better!r}"
            )


# ---- statistics ------------------------------------------------------------------------------
def concentration_index(values: np.ndarray, income: np.ndarray) -> float:
    """The concentration index of ``values`` by income rank (Wagstaff/Kakwani).

    ``C = 2 cov(values, r) / mean(values)`` with ``r_i = (rank_i - 0.5) / n`` the fractional
    rank by income (ranks ``1..n``; tied incomes share the mean of their ranks) and the
    population covariance. ``C`` lies in ``(-1, 1)``: positive when the values are
    concentrated among the richer, negative among the poorer, 0 when they are spread evenly.

    Parameters
    ----------
    values, income : array_like
        One entry per unit (town, household); pairs with a non-finite entry are left out.

    Returns
    -------
    float
        The index; NaN with fewer than 2 units or when the values average 0.

    Examples
    --------
    >>> concentration_index(np.array([2.0, 2.0, 2.0, 2.0]), np.array([1.0, 2.0, 3.0, 4.0]))
    0.0
    >>> concentration_index(np.array([0.0, 0.0, 0.0, 1.0]), np.array([1.0, 2.0, 3.0, 4.0]))
    0.75
    """
    values = np.asarray(values, dtype=np.float64)
    income = np.asarray(income, dtype=np.float64)
    if values.shape != income.shape or values.ndim != 1:
        raise ValueError(
            f"values and income must be 1-d and of one length, not {values.shape} and "
            f"{income.shape}"
        )
    keep = np.isfinite(values) & np.isfinite(income)
    values, income = values[keep], income[keep]
    n = values.size
    mean = values.mean() if n else 0.0
    if n < 2 or mean == 0:
        return float("nan")
    r = (stats.rankdata(income, method="average") - 0.5) / n
    cov = np.mean((values - mean) * (r - r.mean()))
    return float(2 * cov / mean)


def mean_interval(x: np.ndarray, level: float) -> dict[str, np.ndarray]:
    """The mean of the finite entries along axis 0, its standard error and t interval.

    Entries that are not finite are left out. With one finite entry the interval is NaN;
    when all finite entries are equal the standard error is 0 and the interval the mean.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must lie strictly between 0 and 1, not {level}")
    x = np.asarray(x, dtype=np.float64)
    ok = np.isfinite(x)
    n = ok.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(ok, x, 0.0).sum(axis=0) / n
        sd = np.sqrt((np.where(ok, x - mean, 0.0) ** 2).sum(axis=0) / (n - 1))
    constant = np.where(ok, x, np.inf).min(axis=0) == np.where(ok, x, -np.inf).max(axis=0)
    se = np.where(n < 2, np.nan, np.where(constant, 0.0, sd / np.sqrt(np.maximum(n, 1))))
    q = stats.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1))
    return {"mean": mean, "lo": mean - q * se, "hi": mean + q * se, "se": se, "n": n}


def _check_runs(runs: pd.DataFrame, names: Sequence[str]) -> None:
    missing = [c for c in ("strategy", "replicate", *names) if c not in runs.columns]
    if missing:
        raise ValueError(f"runs lack the column(s) {missing}; they have {list(runs.columns)}")
    if runs.empty:
        raise ValueError("runs is empty")
    twice = runs.duplicated(["strategy", "replicate"])
    if twice.any():
        first = runs.loc[twice, ["strategy", "replicate"]].iloc[0]
        raise ValueError(
            "each strategy must have one run per replicate; strategy "
            f"{first['strategy']!r} has replicate {first['replicate']!r} more than once"
        )


def _check_strategies(order: Sequence[str], *names: str) -> None:
    for name in names:
        if name not in order:
            raise ValueError(f"no runs of strategy {name!r}; the strategies are {list(order)}")


def _wide(runs: pd.DataFrame, metric: str, order: Sequence[str]) -> pd.DataFrame:
    """``metric`` with one row per replicate and one column per strategy (NaN: not defined)."""
    wide = runs.pivot(index="replicate", columns="strategy", values=metric)
    wide = wide.reindex(columns=list(order)).astype(np.float64)
    return wide.where(np.isfinite(wide))


def paired_difference(
    runs: pd.DataFrame, metric: str, strategy: str, reference: str, level: float = 0.95
) -> dict:
    """The mean paired difference ``strategy - reference`` of a metric over replicates.

    Only replicates where both strategies ran and the metric is finite in both count.

    Parameters
    ----------
    runs : DataFrame
        One row per run: ``strategy``, ``replicate`` and the metric column.
    metric : str
        The metric column.
    strategy, reference : str
        The strategies compared.
    level : float, optional
        Confidence level of the Student t interval.

    Returns
    -------
    dict
        ``diff`` (mean difference), ``lo`` and ``hi`` (its t interval), ``se`` (its standard
        error) and ``pairs`` (the replicates used). With no pair all are NaN; with one the
        interval is NaN; when every difference is the same, ``lo == hi == diff``.

    Examples
    --------
    >>> runs = pd.DataFrame({"strategy": ["a", "a", "b", "b"], "replicate": [0, 1, 0, 1],
    ...                      "x": [1.0, 2.0, 1.5, 2.5]})
    >>> paired_difference(runs, "x", "b", "a")
    {'diff': 0.5, 'lo': 0.5, 'hi': 0.5, 'se': 0.0, 'pairs': 2}
    """
    _check_runs(runs, [metric])
    order = list(pd.unique(runs["strategy"]))
    _check_strategies(order, strategy, reference)
    wide = _wide(runs, metric, order)
    d = mean_interval((wide[strategy] - wide[reference]).to_numpy(), level)
    return {
        "diff": float(d["mean"]),
        "lo": float(d["lo"]),
        "hi": float(d["hi"]),
        "se": float(d["se"]),
        "pairs": int(d["n"]),
    }


def _verdict(lo: np.ndarray, hi: np.ndarray, pairs: np.ndarray, better: str) -> np.ndarray:
    """The verdict on paired intervals of differences "strategy minus other".

    ``"better"`` or ``"worse"`` when the interval excludes 0 on the side of an improvement or
    the other, ``"indistinguishable"`` when it holds 0, ``"undefined"`` with fewer than 2 pairs.
    """
    up, down = (lo > 0, hi < 0) if better == "higher" else (hi < 0, lo > 0)
    return np.select(
        [pairs < 2, up, down], ["undefined", "better", "worse"], default="indistinguishable"
    )


def _summarise_metric(
    runs: pd.DataFrame, metric: Metric, order: list[str], reference: str, level: float
) -> pd.DataFrame:
    wide = _wide(runs, metric.name, order)
    x = wide.to_numpy()
    own = mean_interval(x, level)
    n_runs = runs.groupby("strategy", sort=False).size().reindex(order).to_numpy()
    # pair[i, j]: the paired difference "strategy j minus strategy i" over shared replicates
    pair = mean_interval(x[:, None, :] - x[:, :, None], level)
    verdicts = _verdict(pair["lo"], pair["hi"], pair["n"], metric.better)
    ref = order.index(reference)
    verdict = verdicts[ref].astype(object)
    verdict[ref] = "reference"
    is_ref = np.arange(len(order)) == ref
    return pd.DataFrame(
        {
            "strategy": order,
            "metric": metric.name,
            "label": metric.label,
            "unit": metric.unit,
            "better": metric.better,
            "runs": n_runs,
            "defined": own["n"],
            "never": 1 - own["n"] / n_runs,
            "mean": own["mean"],
            "lo": own["lo"],
            "hi": own["hi"],
            "diff": np.where(is_ref, np.nan, pair["mean"][ref]),
            "diff_lo": np.where(is_ref, np.nan, pair["lo"][ref]),
            "diff_hi": np.where(is_ref, np.nan, pair["hi"][ref]),
            "pairs": np.where(is_ref, 0, pair["n"][ref]),
            "verdict": verdict,
            # strategy i is beaten by j when "j minus i" is better; the diagonal never is
            "rank": 1 + (verdicts == "better").sum(axis=1),
            "level": level,
        },
        columns=COLUMNS,
    )


def summarise(
    runs: pd.DataFrame, metrics: Sequence[Metric], reference: str, level: float = 0.95
) -> pd.DataFrame:
    """Each strategy's means, paired differences against ``reference``, verdicts and ranks.

    Parameters
    ----------
    runs : DataFrame
        One row per run: ``strategy``, ``replicate`` (at most one run of a strategy per
        replicate) and one numeric column per metric; NaN or infinite where not defined.
    metrics : sequence of Metric
        The metrics to summarise.
    reference : str
        The strategy the others are compared with (usually ``"none"``).
    level : float, optional
        Confidence level of every interval.

    Returns
    -------
    DataFrame
        One row per strategy and metric (strategies in the order they first appear in
        ``runs``, metrics in the order given), with the columns

        ``strategy, metric, label, unit, better``
            The metric's description.
        ``runs``, ``defined``, ``never``
            The strategy's runs, those where the metric is finite, and the share where it
            is not (for a time to target: the share that never reached it).
        ``mean``, ``lo``, ``hi``
            The mean over the defined runs and its t interval.
        ``diff``, ``diff_lo``, ``diff_hi``, ``pairs``
            The mean paired difference ``strategy - reference`` over the replicates defined
            in both, its t interval and the number of such replicates (NaN and 0 for the
            reference itself).
        ``verdict``
            ``"reference"``; else ``"better"`` or ``"worse"`` when the paired interval
            excludes 0 on the side of an improvement or the other, ``"indistinguishable"``
            when it holds 0, ``"undefined"`` with fewer than 2 pairs.
        ``rank``
            1 + the number of strategies that beat this one on the metric (their paired
            interval against it excludes 0 on the side of an improvement); strategies that
            no one tells apart share a rank.
        ``level``
            The confidence level.

    Examples
    --------
    >>> runs = pd.DataFrame({"strategy": ["none"] * 3 + ["deep"] * 3,
    ...                      "replicate": [0, 1, 2] * 2,
    ...                      "adopters": [10.0, 12.0, 11.0, 13.0, 14.5, 14.0]})
    >>> s = summarise(runs, [Metric("adopters", "Adopters", "higher")], reference="none")
    >>> s[["strategy", "mean", "diff", "verdict", "rank"]]
      strategy       mean      diff    verdict  rank
    0     none  11.000000       NaN  reference     2
    1     deep  13.833333  2.833333     better     1
    """
    names = [m.name for m in metrics]
    if len(set(names)) != len(names):
        raise ValueError(f"each metric may be given once, not {names}")
    _check_runs(runs, names)
    order = list(pd.unique(runs["strategy"]))
    _check_strategies(order, reference)
    parts = [_summarise_metric(runs, m, order, reference, level) for m in metrics]
    if not parts:
        return pd.DataFrame(columns=COLUMNS)
    return pd.concat(parts, ignore_index=True)


# ---- the table ---------------------------------------------------------------------------
def _decimals(*values: float) -> int | None:
    """Decimals that show the largest of ``values`` to 3 significant digits (None: use g)."""
    top = max((abs(v) for v in values if np.isfinite(v)), default=0.0)
    if top == 0:
        return 0
    if top >= 1e6 or top < 1e-3:
        return None
    return max(0, 2 - int(np.floor(np.log10(top))))


def _num(value: float, decimals: int | None, sign: bool = False) -> str:
    if not np.isfinite(value):
        return "n/a"
    plus = "+" if sign else ""
    if decimals is None:
        return f"{value:{plus}.3g}"
    return f"{value:{plus}.{decimals}f}"


def _estimate(value: float, lo: float, hi: float, sign: bool = False) -> str:
    """``12.3 [11.8, 12.9]``: a value and its interval, to 3 significant digits."""
    d = _decimals(value, lo, hi)
    text = _num(value, d, sign)
    if np.isfinite(lo) and np.isfinite(hi):
        text += f" [{_num(lo, d)}, {_num(hi, d)}]"
    return text


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|")


def markdown_table(summary: pd.DataFrame, metrics: Sequence[Metric]) -> str:
    """A Markdown table of a :func:`summarise` frame: one row per strategy.

    For each metric three columns: the mean with its interval (and ``(never in k of n)``
    when the metric is undefined in some runs), the paired difference against the
    reference with its interval and verdict, and the rank. A line under the table states
    the confidence level, the replicates, the pairing and what the rank means.

    Examples
    --------
    >>> runs = pd.DataFrame({"strategy": ["none"] * 3 + ["deep"] * 3,
    ...                      "replicate": [0, 1, 2] * 2,
    ...                      "adopters": [10.0, 12.0, 11.0, 13.0, 14.5, 14.0]})
    >>> m = [Metric("adopters", "Adopters", "higher")]
    >>> print(markdown_table(summarise(runs, m, "none"), m))  # doctest: +ELLIPSIS
    | strategy | Adopters | Adopters vs none | rank |
    | --- | ---: | ---: | ---: |
    | none | 11.0 [8.5, 13.5] | reference | 2 |
    | deep | 13.8 [11.9, 15.7] | +2.83 [2.12, 3.55] better | 1 |
    <BLANKLINE>
    Means with 95% t intervals over 3 replicates per strategy. ...
    """
    rows = summary.set_index(["strategy", "metric"])
    order = list(pd.unique(summary["strategy"]))
    refs = summary.loc[summary["verdict"] == "reference", "strategy"].unique()
    reference = refs[0] if len(refs) else "the reference"
    header = ["strategy"]
    for m in metrics:
        label = f"{m.label} ({m.unit})" if m.unit else m.label
        header += [label, f"{m.label} vs {reference}", "rank"]
    lines = [
        "| " + " | ".join(_cell(h) for h in header) + " |",
        "| --- |" + " ---: |" * (len(header) - 1),
    ]
    for strategy in order:
        cells = [strategy]
        for m in metrics:
            r = rows.loc[(strategy, m.name)]
            own = _estimate(r["mean"], r["lo"], r["hi"])
            if r["defined"] < r["runs"]:
                own += f" (never in {int(r['runs'] - r['defined'])} of {int(r['runs'])})"
            if r["verdict"] == "reference":
                diff = "reference"
            elif np.isfinite(r["diff"]):
                diff = f"{_estimate(r['diff'], r['diff_lo'], r['diff_hi'], sign=True)} "
                diff += r["verdict"]
            else:
                diff = r["verdict"]
            cells += [own, diff, str(int(r["rank"]))]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")

    level = summary["level"].iloc[0] if len(summary) else 0.95
    counts = summary["runs"]
    replicates = (
        f"{counts.min()}" if counts.min() == counts.max() else f"{counts.min()} to {counts.max()}"
    )
    note = (
        f"Means with {level * 100:g}% t intervals over {replicates} replicates per strategy. "
        f"Differences are against {reference}, paired by replicate: replicate r of every "
        "strategy shares its seed (common random numbers), so each difference is the mean of "
        "per-replicate differences over the replicates where both are defined. Rank: 1 + the "
        "number of strategies that beat this one (their paired interval against it excludes 0 "
        "on the better side); strategies no one can tell apart share a rank."
    )
    return "\n".join([*lines, "", note]) + "\n"


def write_tables(summary: pd.DataFrame, metrics: Sequence[Metric], folder: Path) -> list[Path]:
    """Write ``comparison.csv`` (the summary) and ``comparison.md`` (its table) into ``folder``.

    Each file is written to a temporary file in ``folder`` and moved into place, so a reader
    never sees half a file. Returns the two paths.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    csv, md = folder / "comparison.csv", folder / "comparison.md"
    write_atomic(csv, lambda p: summary.to_csv(p, index=False))
    text = markdown_table(summary, metrics)
    write_atomic(md, lambda p: p.write_text(text, encoding="utf-8"))
    return [csv, md]


# ---- the picture -------------------------------------------------------------------------
def _axis_label(label: str, unit: str, better: str) -> str:
    return f"{label} ({unit}), {better} is better" if unit else f"{label}, {better} is better"


def plot_tradeoff(summary: pd.DataFrame, x: str, y: str, path: Path | None = None) -> Figure:
    """Two metrics against each other: one point per strategy, with both intervals.

    Parameters
    ----------
    summary : DataFrame
        A :func:`summarise` frame holding metrics ``x`` and ``y``.
    x, y : str
        The metric names on the horizontal and vertical axis.
    path : Path, optional
        Where to save the figure as PNG (written atomically).

    Returns
    -------
    matplotlib.figure.Figure
        The figure; each strategy's point is labelled with its name, the reference drawn
        hollow.
    """
    known = list(pd.unique(summary["metric"]))
    for name in (x, y):
        if name not in known:
            raise ValueError(f"the summary has no metric {name!r}; it has {known}")
    both = summary[summary["metric"] == x].merge(
        summary[summary["metric"] == y], on="strategy", suffixes=("_x", "_y"), sort=False
    )

    def errors(axis: str) -> np.ndarray:
        mean = both[f"mean_{axis}"].to_numpy()
        spread = np.stack([mean - both[f"lo_{axis}"], both[f"hi_{axis}"] - mean])
        return np.nan_to_num(spread, nan=0.0)

    fig = Figure(figsize=(6.4, 4.8), layout="constrained")
    ax = fig.add_subplot()
    xerr, yerr = errors("x"), errors("y")
    colours = [f"C{i % 10}" for i in range(len(both))]
    for i, row in enumerate(both.itertuples(index=False)):
        hollow = row.verdict_x == "reference"
        ax.errorbar(
            row.mean_x,
            row.mean_y,
            xerr=xerr[:, i : i + 1],
            yerr=yerr[:, i : i + 1],
            fmt="o",
            color=colours[i],
            markerfacecolor="white" if hollow else colours[i],
            capsize=3,
            label=row.strategy,
        )
        if np.isfinite(row.mean_x) and np.isfinite(row.mean_y):
            ax.annotate(
                row.strategy,
                (row.mean_x, row.mean_y),
                xytext=(5, 5),
                textcoords="offset points",
                fontsize=9,
            )
    first = both.iloc[0]
    ax.set_xlabel(_axis_label(first["label_x"], first["unit_x"], first["better_x"]))
    ax.set_ylabel(_axis_label(first["label_y"], first["unit_y"], first["better_y"]))
    level = summary["level"].iloc[0]
    refs = both.loc[both["verdict_x"] == "reference", "strategy"].tolist()
    hollow_note = f" (hollow: {refs[0]}, the reference)" if refs else ""
    title = (
        f"{first['label_y']} against {first['label_x']}: means with {level * 100:g}% "
        f"intervals{hollow_note}"
    )
    ax.set_title("\n".join(textwrap.wrap(title, 70)), fontsize=10)
    ax.grid(alpha=0.3)
    if path is not None:
        path = Path(path)
        write_atomic(path, lambda p: fig.savefig(p, dpi=120, format="png"))
    return fig
