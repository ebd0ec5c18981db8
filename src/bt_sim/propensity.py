"""Propensity-score estimates of an intervention's effect from observational records.

A network organisation's records say which collectives (or households) received an
intervention and what followed, but the intervention was not assigned at random: collectives
in richer or better-connected neighbourhoods may take it up more and would have done better
anyway. The propensity score ``e(x) = P(treated | x)`` summarises the context ``x``; among
cases with the same score the treated and untreated are comparable (Rosenbaum & Rubin 1983),
so the effect on the treated (ATT) can be estimated by

* **nearest-neighbour matching** on the logit of the score, with replacement, within a
  caliper of 0.2 standard deviations of the logit (Austin 2011): each treated case is
  compared with its nearest untreated case; treated cases with no untreated case within the
  caliper are reported, not silently dropped;
* **inverse-probability weighting** (the ATT weights: 1 for the treated, ``e / (1 - e)`` for
  the untreated, normalised), a second estimator resting on the same model.

The score is a logistic regression fitted by Newton's method (iteratively reweighted least
squares, with a tiny ridge so that separated data give a finite fit; the tests check it
against scikit-learn's unpenalised fit). Common support is the range of scores both groups
reach; cases outside it are named. Balance is the standardised mean difference of each
covariate (the difference of means over the pooled standard deviation of the two groups in
the whole sample; below 0.1 counts as balanced), before and after adjustment. Intervals are
percentile bootstrap intervals: cases are resampled with replacement and the whole estimate
(score model included) is redone.

References
----------
Rosenbaum, P. R., & Rubin, D. B. (1983). The central role of the propensity score in
observational studies for causal effects. Biometrika 70, 41-55.
Austin, P. C. (2011). Optimal caliper widths for propensity-score matching when estimating
differences in means and differences in proportions in observational studies. Pharmaceutical
Statistics 10, 150-161.
Austin, P. C., & Stuart, E. A. (2015). Moving towards best practice when using inverse
probability of treatment weighting (IPTW). Statistics in Medicine 34, 3661-3679.

Examples
--------
>>> rng = np.random.default_rng(3)
>>> x = rng.normal(size=600)
>>> t = rng.random(600) < 1 / (1 + np.exp(-x))
>>> y = 1.0 * t + 2.0 * x + rng.normal(size=600)
>>> df = pd.DataFrame({"x": x, "t": t, "y": y})
>>> est = estimate(df, "t", "y", ["x"], method="matching", boot=0)
>>> round(est.effect, 1)
1.0
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit

#: Austin (2011): a caliper of 0.2 standard deviations of the logit of the score.
CALIPER = 0.2
#: A standardised mean difference below this counts as balanced.
BALANCED = 0.1
METHODS = ("matching", "ipw", "naive")


@dataclass
class Estimate:
    """An estimated effect on the treated, with its interval and diagnostics."""

    method: str
    effect: float
    lo: float
    hi: float
    treated: int
    control: int
    used: int  # treated cases the estimate rests on (matched, or inside common support)
    outside: list = field(default_factory=list)  # ids of cases outside common support
    unmatched: list = field(default_factory=list)  # ids of treated cases with no match
    balance: pd.DataFrame | None = None

    def covers(self, value: float) -> bool:
        """Whether the interval holds ``value``."""
        return bool(self.lo <= value <= self.hi)


def logistic_fit(
    x: np.ndarray, t: np.ndarray, ridge: float = 1e-8, iterations: int = 100
) -> np.ndarray:
    """Coefficients (intercept first) of a logistic regression of ``t`` on ``x`` by Newton's
    method; ``ridge`` penalises the slopes a little so that separated data give a finite fit.

    >>> x = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> logistic_fit(x, np.array([0, 1, 0, 1])).round(3).tolist()
    [-1.362, 0.908]
    """
    x = np.asarray(x, dtype=np.float64)
    a = np.column_stack([np.ones(x.shape[0]), x])
    t = np.asarray(t, dtype=np.float64)
    beta = np.zeros(a.shape[1])
    penalty = np.full(a.shape[1], ridge)
    penalty[0] = 0.0
    for _ in range(iterations):
        p = expit(a @ beta)
        w = p * (1.0 - p)
        grad = a.T @ (t - p) - penalty * beta
        hess = (a * w[:, None]).T @ a + np.diag(penalty + 1e-12)
        step = np.linalg.solve(hess, grad)
        beta = beta + step
        if np.max(np.abs(step)) < 1e-10:
            break
    return beta


def scores(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The logit of each case's propensity score (standardised covariates, so the ridge does
    not depend on their units)."""
    x = np.asarray(x, dtype=np.float64)
    sd = x.std(axis=0)
    z = (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    beta = logistic_fit(z, t)
    return beta[0] + z @ beta[1:]


def smd(x: np.ndarray, t: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """Standardised mean differences of the columns of ``x``, treated minus untreated, the
    means weighted by ``w`` (default equal), over the pooled standard deviation of the
    unweighted groups (so that adjustment cannot shrink the yardstick).

    >>> smd(np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1])).round(3).tolist()
    [2.828]
    """
    x = np.asarray(x, dtype=np.float64).reshape(len(t), -1)
    t = np.asarray(t, bool)
    w = np.ones(len(t)) if w is None else np.asarray(w, dtype=np.float64)
    mt = np.average(x[t], axis=0, weights=w[t])
    mc = np.average(x[~t], axis=0, weights=w[~t])
    pooled = np.sqrt((x[t].var(axis=0, ddof=1) + x[~t].var(axis=0, ddof=1)) / 2.0)
    return (mt - mc) / np.where(pooled > 0, pooled, np.inf)


def common_support(logit: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Cases whose score lies in the range both groups reach."""
    t = np.asarray(t, bool)
    lo = max(logit[t].min(), logit[~t].min())
    hi = min(logit[t].max(), logit[~t].max())
    return (logit >= lo) & (logit <= hi)


def match(
    logit: np.ndarray, t: np.ndarray, caliper: float = CALIPER
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest-neighbour matches on the logit, with replacement: for each treated case (in
    order) its nearest untreated case, or -1 where none lies within ``caliper`` standard
    deviations of the logit. Returns (treated indices, matched control indices)."""
    t = np.asarray(t, bool)
    treated, control = np.flatnonzero(t), np.flatnonzero(~t)
    order = np.argsort(logit[control])
    sorted_logit = logit[control][order]
    at = np.searchsorted(sorted_logit, logit[treated])
    left = np.clip(at - 1, 0, control.size - 1)
    right = np.clip(at, 0, control.size - 1)
    dl = np.abs(logit[treated] - sorted_logit[left])
    dr = np.abs(logit[treated] - sorted_logit[right])
    nearest = np.where(dr < dl, right, left)
    distance = np.minimum(dl, dr)
    width = caliper * logit.std(ddof=1)
    matched = np.where(distance <= width, control[order][nearest], -1)
    return treated, matched


def _point(
    x: np.ndarray,
    t: np.ndarray,
    y: np.ndarray,
    method: str,
    caliper: float,
    logit: np.ndarray | None = None,
) -> tuple[float, dict]:
    """The estimate on one sample, and its diagnostics (``logit``: the scores, when they are
    already fitted on this sample)."""
    if method == "naive":
        return float(y[t].mean() - y[~t].mean()), {"used": int(t.sum()), "weights": None}
    logit = scores(x, t) if logit is None else logit
    inside = common_support(logit, t)
    if method == "ipw":
        keep = inside
        if not (t & keep).any() or not (~t & keep).any():
            raise ValueError("no overlap: no treated or no untreated case inside common support")
        # the odds e / (1 - e) = exp(logit), scaled by the largest among the untreated kept
        # (a weighted mean does not change, and no weight underflows to 0 or overflows)
        top = logit[~t & keep].max()
        w = np.where(t, 1.0, np.exp(np.minimum(logit - top, 0.0))) * keep
        eff = np.average(y[t & keep], weights=w[t & keep]) - np.average(
            y[~t & keep], weights=w[~t & keep]
        )
        return float(eff), {"used": int((t & keep).sum()), "weights": w, "inside": inside}
    treated, matched = match(logit, t, caliper)
    ok = (matched >= 0) & inside[treated]
    if not ok.any():
        raise ValueError("no treated case has an untreated case within the caliper")
    eff = float(np.mean(y[treated[ok]] - y[matched[ok]]))
    w = np.zeros(len(t))
    w[treated[ok]] = 1.0
    np.add.at(w, matched[ok], 1.0)
    return eff, {
        "used": int(ok.sum()),
        "weights": w,
        "inside": inside,
        "unmatched": treated[(matched < 0) & inside[treated]],  # inside, but no match
    }


def estimate(
    df: pd.DataFrame,
    treatment: str,
    outcome: str,
    covariates: Sequence[str],
    method: str = "matching",
    caliper: float = CALIPER,
    boot: int = 500,
    seed: int = 1,
    level: float = 0.95,
    ids: str | None = None,
) -> Estimate:
    """The effect of ``treatment`` on ``outcome`` among the treated, adjusting for
    ``covariates`` (``method``: matching, ipw, or naive: the plain difference of means).

    Parameters
    ----------
    df : DataFrame
        One row per case (a collective's round, or a household).
    treatment : str
        A column of 0/1 or true/false: whether the case received the intervention.
    outcome, covariates : str, sequence of str
        Numeric columns, no missing values.
    caliper : float
        Matching within this many standard deviations of the logit of the score.
    boot : int
        Bootstrap resamples for the percentile interval (0: no interval).
    seed : int
        Seed of the resampling.
    ids : str, optional
        A column naming the cases (default: the row index), for the cases reported outside
        common support or unmatched.

    Raises
    ------
    ValueError
        Naming the column: missing, not numeric, missing values, a treatment that is not
        binary, no treated or no untreated case, or no overlap.
    """
    if method not in METHODS:
        raise ValueError(f"method: expected one of {', '.join(METHODS)}, got {method!r}")
    x, t, y, names, logit = _checked(df, treatment, outcome, list(covariates), ids)
    eff, info = _point(x, t, y, method, caliper, logit)
    lo = hi = float("nan")
    if boot > 0:
        rng = np.random.default_rng(seed)
        draws = []
        for _ in range(boot):
            i = rng.integers(0, len(t), len(t))
            if t[i].all() or not t[i].any():
                continue
            try:
                draws.append(_point(x[i], t[i], y[i], method, caliper)[0])
            except (ValueError, np.linalg.LinAlgError, ZeroDivisionError):
                continue
        if draws:
            lo, hi = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2])
    balance = None
    if method != "naive":
        before = smd(x, t)
        after = smd(x, t, info["weights"])
        balance = pd.DataFrame(
            {"covariate": list(covariates), "smd_before": before, "smd_after": after}
        )
    outside = [] if method == "naive" else names[~info["inside"]].tolist()
    unmatched = names[info.get("unmatched", np.array([], int))].tolist()
    return Estimate(
        method, eff, float(lo), float(hi), int(t.sum()), int((~t).sum()), info["used"],
        outside, unmatched, balance,
    )  # fmt: skip


def _checked(
    df: pd.DataFrame, treatment: str, outcome: str, covariates: list[str], ids: str | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Checked arrays: covariates, treatment (bool), outcome, case names and the logit of
    the propensity score (fitted here to check overlap before any estimate)."""
    wanted = [treatment, outcome, *covariates] + ([ids] if ids else [])
    missing = [c for c in wanted if c not in df.columns]
    if missing:
        have = ", ".join(map(str, df.columns))
        raise ValueError(f"no column {', '.join(repr(c) for c in missing)} (have: {have})")
    if not covariates:
        raise ValueError("covariates: expected at least one column to adjust for")
    for c in [outcome, *covariates]:
        if not (pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c])):
            raise ValueError(f"column {c!r}: expected numbers, got {df[c].dtype}")
    for c in wanted:
        bad = df[c].isna()
        if bad.any():
            raise ValueError(f"column {c!r}: missing value in row {int(np.flatnonzero(bad)[0])}")
    values = set(pd.unique(df[treatment]).tolist())
    if not values <= {0, 1}:
        shown = ", ".join(sorted(map(repr, values))[:5])
        raise ValueError(f"column {treatment!r}: expected a binary treatment (0/1), got {shown}")
    t = df[treatment].astype(bool).to_numpy()
    if t.all() or not t.any():
        which = "untreated" if t.all() else "treated"
        raise ValueError(f"column {treatment!r}: no {which} case: nothing to compare")
    x = df[covariates].astype(np.float64).to_numpy()
    y = df[outcome].astype(np.float64).to_numpy()
    names = (df[ids] if ids else df.index.to_series()).to_numpy()
    logit = scores(x, t)
    lo = max(logit[t].min(), logit[~t].min())
    hi = min(logit[t].max(), logit[~t].max())
    if lo > hi:
        raise ValueError(
            f"no overlap: the treated and untreated cases' propensity scores do not overlap "
            f"(treatment {treatment!r} is decided by the covariates); no adjusted comparison "
            "is possible"
        )
    return x, t, y, names, logit
