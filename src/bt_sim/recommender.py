"""The network organisation's recommender: which mix of building blocks suits a neighbourhood.

It learns from experiment records (:mod:`bt_sim.records`) what a collective reached in its
first year (:func:`first_years`: the records of each collective, taken together), from its
neighbourhood's context (:data:`bt_sim.records.CONTEXT`) and the kinds of building block it
carried out in that year (its mix), with the interactions of mix and context (all
standardised). What it reached is its objective, read from the hub's published panel as the
records hold it: ``members`` (the members sharing data per household of the neighbourhood:
published counts, rounded but not noised) or ``saving`` (those members' published mean
saving times their count per household: the hub's Laplace noise on a small collective's
mean is larger than what one mix does better than another, docs/network-organisation.md).
The model is a ridge regression whose penalty is
chosen by leave-one-out cross-validation among :data:`ALPHAS` (the estimator of
scikit-learn's ``RidgeCV``, written out in numpy so that a fit on thousands of records takes
a few milliseconds inside a run; ``tests/test_recommender.py`` checks it against
scikit-learn). Its prediction intervals are jackknife intervals (Barber et al. 2021): the
half-width is the ``interval`` quantile of the absolute leave-one-out residuals, so a new
record's outcome falls inside at about the nominal rate when it comes from the same kind of
world.

For a new collective it scores every candidate mix (the subsets of the catalogue its volunteers
have the hours for) and recommends the one with the highest predicted growth. With fewer
records than ``min_records`` it recommends nothing: it does not pretend to know.

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> n = 200
>>> years = pd.DataFrame({c: rng.uniform(0, 1, n) for c in CONTEXT})
>>> years["mix"] = np.where(rng.uniform(size=n) < 0.5, "energy_coach", "")
>>> years["outcome"] = 0.01 * (years["mix"] == "energy_coach") + rng.normal(0, 0.001, n)
>>> r = Recommender(["energy_coach"]).fit_years(years)
>>> best, mean, lo, hi = r.recommend(years.iloc[0], np.array([[False], [True]]))
>>> best.tolist(), bool(lo < mean < hi)
([True], True)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from bt_sim.records import CONTEXT

#: The penalties leave-one-out cross-validation chooses among.
ALPHAS = np.logspace(-3, 3, 13)


#: What the recommender maximises: a column of the records after the first year.
OBJECTIVES = ("members", "saving")
#: A collective's first year ends at the first release at least this many months after its
#: founding, and no later than :data:`LATE` months after that.
YEAR, LATE = 12.0, 6.0


def first_years(records: pd.DataFrame, objective: str = "members") -> pd.DataFrame:
    """One row per collective of ``records`` (per run): its context when its first record
    started, the kinds it carried out in its first :data:`YEAR` months (``mix``), and its
    ``outcome`` a year after its founding: the published sharing members per household
    (``members``) or published saving per household (``saving``) at the release the records
    know of nearest to that month, within :data:`LATE` months (0 where a record shows that
    nothing was published yet; NaN where the records know of no release that near), and the
    month it was read at (``outcome_month``: the collective's latest published row at or
    before it is the outcome, :func:`bt_sim.truth.published_at`).

    >>> from bt_sim.record_file import empty_records
    >>> first_years(empty_records()).shape[0]
    0
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
    cols = [*CONTEXT, "mix", "outcome", "outcome_month", "run", "collective"]
    if records.empty:
        return pd.DataFrame({c: [] for c in cols})
    df = records.sort_values(["run", "collective", "start_month"], kind="stable")
    df = df.reset_index(drop=True)
    key = df["run"].astype(str) + "/" + df["collective"].astype(str)
    end = (df["founded_month"] + YEAR).to_numpy()
    hh = df["households"].to_numpy(np.float64)
    if objective == "members":
        before = df["members_before"].to_numpy(np.float64) / hh
        after = df["members_after"].to_numpy(np.float64) / hh
    else:
        before = df["impact_before"].to_numpy(np.float64)
        after = df["impact_after"].to_numpy(np.float64)
    mb, ma = df["month_before"].to_numpy(np.float64), df["month_after"].to_numpy(np.float64)
    nothing = np.isnan(mb)  # nothing published by the record's start
    obs = pd.DataFrame(
        {
            "key": np.concatenate([key, key, key]),
            "month": np.concatenate([mb, ma, df["start_month"].to_numpy(np.float64)]),
            "value": np.concatenate([before, after, np.zeros(len(df))]),
            "end": np.concatenate([end, end, end]),
            "ok": np.concatenate([~nothing, ~np.isnan(ma), nothing]),
        }
    )
    obs["far"] = (obs["month"] - obs["end"]).abs()
    obs = obs[obs["ok"] & (obs["far"] <= LATE + 1e-9)]
    obs["value"] = obs["value"].fillna(0.0)  # a release with the collective unpublished
    best = obs.sort_values(["key", "far", "month"], ascending=[True, True, False])
    chosen = best.drop_duplicates("key").set_index("key")
    outcome, month = chosen["value"], chosen["month"]
    in_year = df["start_month"].to_numpy() < end - 1e-9
    mix = df.loc[in_year].groupby(key[in_year])["kind"].agg(lambda k: "+".join(sorted(set(k))))
    first = df.groupby(key, sort=False).head(1).copy()
    k = key.loc[first.index]
    first["mix"] = mix.reindex(k).fillna("").to_numpy()
    first["outcome"] = outcome.reindex(k).to_numpy(np.float64)
    first["outcome_month"] = month.reindex(k).to_numpy(np.float64)
    return first[cols].reset_index(drop=True)


class Recommender:
    """A predictive model of a collective's first year from context and mix, with intervals.

    Parameters
    ----------
    kinds : sequence of str
        The kinds of building block a mix is made of (its columns, in order).
    interval : float
        Nominal coverage of the prediction intervals.
    min_records : int
        Collectives' first years with an outcome it needs before it predicts.
    objective : str
        ``members`` or ``saving`` (:func:`first_years`).
    """

    def __init__(
        self,
        kinds: Sequence[str],
        interval: float = 0.9,
        min_records: int = 30,
        objective: str = "members",
    ):
        self.kinds = tuple(kinds)
        self.interval = float(interval)
        self.min_records = int(min_records)
        self.objective = objective
        self.n = 0
        self.coef: np.ndarray | None = None
        self.alpha = float("nan")
        self.half_width = float("nan")

    @property
    def ready(self) -> bool:
        """Whether it has seen enough first years to recommend."""
        return self.coef is not None

    def mix_matrix(self, mix: pd.Series) -> np.ndarray:
        """``mix`` strings ('+'-joined kinds) as a boolean matrix over ``kinds``."""
        sets = [set(str(m).split("+")) if m else set() for m in mix]
        return np.array([[k in s for k in self.kinds] for s in sets], bool).reshape(
            len(sets), len(self.kinds)
        )

    def design(self, rows: pd.DataFrame, mix: np.ndarray | None = None) -> np.ndarray:
        """The raw features of ``rows``: context, mix, and mix times context."""
        m = self.mix_matrix(rows["mix"]) if mix is None else mix
        return features(rows[list(CONTEXT)].to_numpy(np.float64), m)

    def fit(self, records: pd.DataFrame) -> Recommender:
        """Learn from experiment records (their collectives' :func:`first_years`)."""
        return self.fit_years(first_years(records, self.objective))

    def fit_years(self, years: pd.DataFrame) -> Recommender:
        """Learn from first years (context, ``mix``, ``outcome``); rows without an outcome
        are left out. Fewer than ``min_records`` left: not ready."""
        y = years["outcome"].to_numpy(np.float64)
        ok = np.isfinite(y)
        self.n = int(ok.sum())
        self.coef = None
        if self.n < self.min_records:
            return self
        x = self.design(years.loc[ok])
        y = y[ok]
        self.x_mean, sd = x.mean(axis=0), x.std(axis=0)
        self.x_scale = np.where(sd > 0, sd, 1.0)
        z = (x - self.x_mean) / self.x_scale
        self.y_mean = float(y.mean())
        self.coef, self.alpha, loo = ridge_loo(z, y - self.y_mean, ALPHAS)
        level = min(np.ceil((self.n + 1) * self.interval) / self.n, 1.0)
        self.half_width = float(np.quantile(np.abs(loo), level, method="higher"))
        return self

    def predict(
        self, rows: pd.DataFrame, mix: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Predicted outcome with its interval (mean, lo, hi) for each row of ``rows``
        (its context and ``mix``, or the same row of ``mix``)."""
        if self.coef is None:
            raise RuntimeError(f"the recommender has {self.n} first years, needs "
                               f"{self.min_records}")  # fmt: skip
        return self._predict(self.design(rows, mix))

    def predict_arrays(
        self, context: np.ndarray, mix: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`predict` for a context matrix (rows by :data:`CONTEXT`) and a mix matrix."""
        if self.coef is None:
            raise RuntimeError(f"the recommender has {self.n} first years, needs "
                               f"{self.min_records}")  # fmt: skip
        return self._predict(features(context, mix))

    def _predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        mean = ((x - self.x_mean) / self.x_scale) @ self.coef + self.y_mean
        return mean, mean - self.half_width, mean + self.half_width

    def recommend(
        self, context: pd.Series, candidates: np.ndarray
    ) -> tuple[np.ndarray, float, float, float]:
        """The candidate mix (rows of ``candidates``, over ``kinds``) with the highest
        predicted outcome in the neighbourhood of ``context`` (its :data:`CONTEXT`), with
        its prediction and interval; ties go to the first."""
        cand = np.asarray(candidates, bool)
        ctx = np.broadcast_to(
            np.array([float(context[c]) for c in CONTEXT]), (len(cand), len(CONTEXT))
        )
        mean, lo, hi = self.predict_arrays(ctx, cand)
        best = int(np.argmax(mean))
        return cand[best], float(mean[best]), float(lo[best]), float(hi[best])


def features(context: np.ndarray, mix: np.ndarray) -> np.ndarray:
    """The raw features: context, mix (as 0/1), and each mix column times each context
    column."""
    m = np.asarray(mix, bool).astype(np.float64)
    inter = (context[:, :, None] * m[:, None, :]).reshape(len(context), -1)
    return np.hstack([context, m, inter])


def ridge_loo(
    z: np.ndarray, y: np.ndarray, alphas: np.ndarray
) -> tuple[np.ndarray, float, np.ndarray]:
    """Ridge regression of centred ``y`` on standardised ``z`` with the penalty among
    ``alphas`` of least mean squared leave-one-out residual (the intercept, fitted by
    centring, counts in the leverages); returns the coefficients, the penalty and the
    leave-one-out residuals. One eigendecomposition of ``z'z`` serves every penalty.

    >>> rng = np.random.default_rng(1)
    >>> z = rng.normal(size=(50, 3)); y = z @ [1.0, 0.0, -1.0] + rng.normal(0, 0.1, 50)
    >>> coef, alpha, loo = ridge_loo(z - z.mean(0), y - y.mean(), np.logspace(-3, 3, 13))
    >>> np.round(coef, 1).tolist()
    [1.0, 0.0, -1.0]
    """
    n = z.shape[0]
    lam, v = np.linalg.eigh(z.T @ z)
    lam = np.maximum(lam, 0.0)
    zv = z @ v
    zvy = zv.T @ y
    best = None
    for a in alphas:
        w = 1.0 / (lam + a)
        fitted = zv @ (w * zvy)
        h = (zv * zv) @ w + 1.0 / n
        loo = (y - fitted) / np.maximum(1.0 - h, 1e-12)
        err = float(np.mean(loo * loo))
        if best is None or err < best[0] - 1e-15:
            best = (err, float(a), v @ (w * zvy), loo)
    return best[2], best[1], best[3]
