"""Tipping points: where an outcome jumps as a control parameter grows.

Given replicate outcomes at each level of a control parameter:

* the **critical value** is located from the jump of the mean outcome: the largest jump
  between neighbouring levels brackets it, and it is refined to where the mean crosses the
  middle of its two plateaus (linear interpolation inside the bracket); near a tipping point
  that is where half the replicates tip. It is reported only when the jump is a tipping
  point: beyond the noise (the 95 % Welch interval of the change between the replicates of
  the levels on either side of the jump excludes 0) and at least ``min_jump`` (0.1 by
  default); otherwise the verdict is that nothing tips in the range, with the largest change
  and its interval;
* **bimodality** across replicates at each level is measured by Sarle's coefficient
  ``b = (g^2 + 1) / (k + 3 (n-1)^2 / ((n-2)(n-3)))`` (g skewness, k excess kurtosis): above 5/9
  (a uniform distribution) it suggests two modes, as where some replicates tip and others
  do not;
* the **bifurcation-style diagram** shows the outcome against the control, each replicate a
  point, with the mean and the critical value;
* **early-warning indicators** of a time series (Dakos et al. 2012): after removing a
  Gaussian-kernel trend, lag-1 autocorrelation and variance in a rolling window, and the
  Kendall tau of their trend; compare against null runs, since tau alone misleads.

References
----------
Scheffer, M. et al. (2009). Early-warning signals for critical transitions. Nature 461, 53-59.
Dakos, V. et al. (2012). Methods for detecting early warnings of critical transitions in time
series illustrated using simulated ecological data. PLoS ONE 7, e41010.
Pfister, R. et al. (2013). Good things peak in pairs: a note on the bimodality coefficient.
Frontiers in Psychology 4, 700.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

UNIFORM_BIMODALITY = 5 / 9
#: The smallest jump of the mean outcome between neighbouring levels called a tipping point
#: (outcomes are shares by default: a tenth of the households).
MIN_JUMP = 0.1


def sarle(x) -> float:
    """Sarle's bimodality coefficient of a sample (NaN for fewer than 4 values or no spread).

    >>> round(sarle(np.r_[np.zeros(10), np.ones(10)]), 2)
    0.65
    >>> sarle(np.ones(5)) != sarle(np.ones(5))  # NaN: no spread
    True
    """
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    n = x.size
    if n < 4:
        return float("nan")
    d = x - x.mean()
    m2 = (d**2).mean()
    if m2 <= 1e-300:
        return float("nan")
    g = (d**3).mean() / m2**1.5
    k = (d**4).mean() / m2**2 - 3
    return float((g**2 + 1) / (k + 3 * (n - 1) ** 2 / ((n - 2) * (n - 3))))


@dataclass
class Tipping:
    """A located tipping point.

    Attributes
    ----------
    critical : float
        The control value where the mean outcome crosses ``midline``.
    bracket : (float, float)
        The neighbouring levels with the largest jump of the mean.
    jump : float
        That jump (signed).
    midline : float
        Halfway between the lowest and highest mean (or the ``tipped`` level given).
    levels : DataFrame
        Per level: control, n, mean, sd, min, max, tipped (share of replicates past the
        midline), bimodality.
    """

    control: str
    outcome: str
    critical: float
    bracket: tuple[float, float]
    jump: float
    midline: float
    levels: pd.DataFrame
    jump_interval: tuple[float, float] = (float("nan"), float("nan"))
    min_jump: float = MIN_JUMP

    @property
    def tips(self) -> bool:
        """Whether the largest jump is a tipping point: beyond the noise (the 95 % Welch
        interval of the change across it, replicates on either side, excludes 0) and at least
        ``min_jump``."""
        lo, hi = self.jump_interval
        beyond_noise = np.isfinite(lo) and (lo > 0 or hi < 0)
        return bool(beyond_noise and abs(self.jump) >= self.min_jump)

    @property
    def most_bimodal(self) -> tuple[float, float]:
        """(control, coefficient) of the most bimodal level (NaN if none has spread).

        Only levels whose replicates spread over at least a tenth of the jump count: Sarle's
        coefficient of a few values that all sit on one plateau says nothing.
        """
        spread = self.levels["sd"] >= 0.1 * abs(self.jump)
        b = self.levels["bimodality"].where(spread)
        if not b.notna().any():
            return float("nan"), float("nan")
        i = b.idxmax()
        return float(self.levels.loc[i, "control"]), float(b[i])

    def summary(self) -> str:
        c, b = self.most_bimodal
        lo, hi = self.bracket
        word = "rises" if self.jump > 0 else "falls"
        jl, jh = self.jump_interval
        lines = [
            f"{self.outcome} {word} most steeply between {self.control} = {lo:.6g} and "
            f"{hi:.6g} (jump {self.jump:+.3f} in the mean; the levels either side differ by "
            f"[{jl:+.3f}, {jh:+.3f}], 95 %)",
        ]
        if self.tips:
            lines.append(
                f"critical value: {self.control} = {self.critical:.6g} (mean crosses "
                f"{self.midline:.3f})"
            )
        else:
            why = (
                "within the noise of the replicates"
                if not (np.isfinite(jl) and (jl > 0 or jh < 0))
                else f"smaller than {self.min_jump:g} (min_jump)"
            )
            lines.append(
                f"critical value: none: nothing tips in this range (the largest change is {why})"
            )
        if np.isfinite(b):
            verdict = "two modes" if b > UNIFORM_BIMODALITY else "one mode"
            lines.append(
                f"most bimodal replicates at {self.control} = {c:.6g}: Sarle's coefficient "
                f"{b:.2f} ({verdict}; 5/9 = {UNIFORM_BIMODALITY:.3f} for a uniform)"
            )
        return "\n".join(lines)


def level_table(control, outcome, midline: float | None = None) -> pd.DataFrame:
    """Per-level statistics of replicate outcomes (levels sorted by control)."""
    df = pd.DataFrame({"control": np.asarray(control, float), "y": np.asarray(outcome, float)})
    df = df[np.isfinite(df["y"])]
    g = df.groupby("control")["y"]
    t = pd.DataFrame(
        {
            "n": g.size(),
            "mean": g.mean(),
            "sd": g.std(ddof=1),
            "min": g.min(),
            "max": g.max(),
            "bimodality": g.apply(sarle),
        }
    ).reset_index()
    if midline is not None:
        t["tipped"] = g.apply(lambda v: float((v > midline).mean())).to_numpy()
    return t


def jump_interval(control, outcome, a: float, b: float) -> tuple[float, float]:
    """95 % Welch interval of the change of the mean ``outcome`` across the jump between
    control levels ``a`` and ``b``: the replicates at every level from ``b`` up against those
    at every level up to ``a`` (the two sides of the jump; NaN with fewer than two replicates
    on a side).

    >>> c = np.repeat([0.0, 1.0], 4)
    >>> lo, hi = jump_interval(c, np.r_[0.1, 0.2, 0.1, 0.2, 0.8, 0.9, 0.8, 0.9], 0.0, 1.0)
    >>> bool(lo > 0.5 and hi < 0.9)
    True
    """
    from scipy import stats

    c, y = np.asarray(control, float), np.asarray(outcome, float)
    ya = y[(c <= a) & np.isfinite(y)]
    yb = y[(c >= b) & np.isfinite(y)]
    if ya.size < 2 or yb.size < 2:
        return float("nan"), float("nan")
    va, vb = ya.var(ddof=1) / ya.size, yb.var(ddof=1) / yb.size
    d = float(yb.mean() - ya.mean())
    se = float(np.sqrt(va + vb))
    if se == 0:
        return d, d
    df = (va + vb) ** 2 / (va**2 / (ya.size - 1) + vb**2 / (yb.size - 1))
    q = float(stats.t.ppf(0.975, df))
    return d - q * se, d + q * se


def find_critical(
    control,
    outcome,
    tipped: float | None = None,
    names: tuple[str, str] = ("control", "outcome"),
    min_jump: float = MIN_JUMP,
) -> Tipping:
    """Locate the critical value of ``control`` where the mean ``outcome`` jumps.

    Parameters
    ----------
    control, outcome : array-like
        One value each per run (replicates share a control level).
    tipped : float, optional
        The outcome level that counts as tipped; default halfway between the lowest and the
        highest level mean.
    min_jump : float
        The smallest jump called a tipping point (:attr:`Tipping.tips`).

    Examples
    --------
    >>> c = np.repeat(np.linspace(0, 1, 11), 5)
    >>> y = (c > 0.62).astype(float)
    >>> round(find_critical(c, y).critical, 2)
    0.65
    """
    t = level_table(control, outcome)
    if len(t) < 2:
        raise ValueError("need at least two levels of the control parameter")
    x, m = t["control"].to_numpy(), t["mean"].to_numpy()
    d = np.diff(m)
    j = int(np.argmax(np.abs(d)))
    mid = float((m.min() + m.max()) / 2) if tipped is None else float(tipped)
    # Crossings of the midline; the one nearest the largest jump is the critical value.
    s = np.sign(m - mid)
    cross = [i for i in range(len(m) - 1) if s[i] != s[i + 1] or s[i] == 0]
    i = min(cross, key=lambda i: abs(i - j)) if cross else j
    step = m[i + 1] - m[i]
    frac = float(np.clip((mid - m[i]) / step, 0, 1)) if step != 0 else 0.5
    critical = float(x[i] + frac * (x[i + 1] - x[i]))
    t = level_table(control, outcome, mid)
    return Tipping(
        names[0], names[1], critical, (float(x[j]), float(x[j + 1])), float(d[j]), mid, t,
        jump_interval(control, outcome, float(x[j]), float(x[j + 1])), float(min_jump),
    )  # fmt: skip


def refine_levels(tip: Tipping, n: int) -> list[float]:
    """``n`` control values evenly spaced strictly inside the bracket of the largest jump."""
    lo, hi = tip.bracket
    return [float(v) for v in np.linspace(lo, hi, n + 2)[1:-1]]


def diagram(control, outcome, tip: Tipping, path: Path, title: str = "") -> None:
    """Outcome against control, each replicate a point, with the mean and critical value."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    c = np.asarray(control, float)
    y = np.asarray(outcome, float)
    levels = np.unique(c)
    span = np.ptp(levels) if levels.size > 1 else 1.0
    gaps = np.diff(levels)
    width = (gaps.min() if gaps.size else span) * 0.15
    jitter = np.random.default_rng(0).uniform(-width, width, c.size)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.scatter(c + jitter, y, s=12, alpha=0.55, color="tab:blue", label="replicate")
    ax.plot(tip.levels["control"], tip.levels["mean"], "-", color="black", lw=1.5, label="mean")
    if tip.tips:
        ax.axvline(tip.critical, color="tab:red", ls="--", lw=1.2,
                   label=f"critical {tip.critical:.4g}")  # fmt: skip
    ax.axvspan(*tip.bracket, color="tab:red", alpha=0.07)
    ax.set_xlabel(tip.control)
    ax.set_ylabel(tip.outcome)
    import textwrap

    ax.set_title(
        "\n".join(textwrap.wrap(title or f"{tip.outcome} against {tip.control}", 60)),
        fontsize=10,
    )
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ---- early-warning indicators -------------------------------------------------------------


def _smooth(x: np.ndarray, bandwidth: float) -> np.ndarray:
    """Gaussian-kernel trend of ``x`` (bandwidth in samples), normalised at the edges."""
    n = x.size
    t = np.arange(n)
    w = np.exp(-0.5 * ((t[:, None] - t[None, :]) / bandwidth) ** 2)
    return (w @ x) / w.sum(axis=1)


def early_warning(series, window: float = 0.5, bandwidth: float = 0.1) -> dict[str, float]:
    """Kendall tau of lag-1 autocorrelation and of variance in a rolling window.

    Parameters
    ----------
    series : array-like
        A time series approaching the transition (cut it before the jump).
    window : float
        Rolling window as a share of the series length (about half, Dakos et al. 2012).
    bandwidth : float
        Gaussian detrending bandwidth as a share of the length.

    Returns
    -------
    dict
        ``tau_ac1``, ``tau_var`` (Kendall tau of each indicator against time; positive: rising,
        a warning sign) and ``n`` (the windows used).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> x = np.zeros(400)
    >>> for t in range(1, 400):  # AR(1) whose memory grows towards 1: critical slowing down
    ...     x[t] = (0.1 + 0.85 * t / 400) * x[t - 1] + rng.normal()
    >>> early_warning(x)["tau_ac1"] > 0.5
    True
    """
    from scipy.stats import kendalltau

    x = np.asarray(series, dtype=np.float64)
    x = x[np.isfinite(x)]
    n = x.size
    w = max(4, round(window * n))
    if n < w + 3:
        return {"tau_ac1": float("nan"), "tau_var": float("nan"), "n": 0}
    resid = x - _smooth(x, max(1.0, bandwidth * n))
    ac, var = [], []
    for s in range(0, n - w + 1):
        seg = resid[s : s + w]
        a, b = seg[:-1] - seg[:-1].mean(), seg[1:] - seg[1:].mean()
        den = np.sqrt((a * a).sum() * (b * b).sum())
        ac.append((a * b).sum() / den if den > 0 else np.nan)
        var.append(seg.var())
    ac_a, var_a = np.asarray(ac), np.asarray(var)
    t = np.arange(ac_a.size)
    ok = np.isfinite(ac_a)
    tau_ac = kendalltau(t[ok], ac_a[ok]).statistic if ok.sum() > 2 else float("nan")
    tau_var = kendalltau(t, var_a).statistic if np.ptp(var_a) > 0 else float("nan")
    return {"tau_ac1": float(tau_ac), "tau_var": float(tau_var), "n": int(ac_a.size)}


def early_warning_runs(
    timeseries: pd.DataFrame, variable: str, window: float = 0.5, tipped_rise: float = 0.2
) -> pd.DataFrame:
    """Early-warning indicators of each run's series of ``variable``.

    A run whose series rises (or falls) by more than ``tipped_rise`` is cut where it first
    passes halfway between its start and its end, so that only the approach to the transition
    is measured; other runs are used whole (they are the null runs).

    Parameters
    ----------
    timeseries : DataFrame
        ``run``, ``step``, ``variable``, ``value`` (a sweep folder's ``store.timeseries()``).

    Returns
    -------
    DataFrame
        ``run``, ``tau_ac1``, ``tau_var``, ``windows``, ``cut`` (the step cut at, or -1).
    """
    rows = []
    ts = timeseries[timeseries["variable"] == variable].sort_values(["run", "step"])
    for run, g in ts.groupby("run"):
        x = g["value"].to_numpy(dtype=np.float64)
        cut = -1
        if x.size and abs(x[-1] - x[0]) > tipped_rise:
            half = x[0] + (x[-1] - x[0]) / 2
            past = np.flatnonzero((x - half) * np.sign(x[-1] - x[0]) >= 0)
            cut = int(past[0]) if past.size else -1
            x = x[:cut] if cut > 0 else x
        ew = early_warning(x, window)
        rows.append(
            {"run": run, "tau_ac1": ew["tau_ac1"], "tau_var": ew["tau_var"],
             "windows": ew["n"], "cut": cut}
        )  # fmt: skip
    return pd.DataFrame(rows, columns=["run", "tau_ac1", "tau_var", "windows", "cut"])


def early_warning_levels(
    results: pd.DataFrame, indicators: pd.DataFrame, control: str
) -> pd.DataFrame:
    """Mean indicators per control level, and their difference from the lowest level's runs
    (the null: far from the transition, assuming it lies above)."""
    df = results[["run", control]].merge(indicators, on="run")
    t = df.groupby(control)[["tau_ac1", "tau_var"]].mean()
    t["runs"] = df.groupby(control).size()
    null = t.iloc[0]
    t["tau_ac1_vs_null"] = t["tau_ac1"] - null["tau_ac1"]
    t["tau_var_vs_null"] = t["tau_var"] - null["tau_var"]
    return t.reset_index()
