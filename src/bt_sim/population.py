"""Households as a struct of arrays, drawn from the scenario.

Neighbourhoods hold contiguous ranges of household ids, so per-neighbourhood work is a slice or
a ``bincount``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bt_sim.keyed import Keyed
from bt_sim.scenario.schema import PopulationConfig

AGE_GROUPS = ("young", "middle", "senior")


@dataclass
class Population:
    """Fixed household attributes, one array element per household.

    Attributes
    ----------
    neighbourhood : int32 array
        Neighbourhood id (``0 .. n_neighbourhoods - 1``), non-decreasing in household id.
    income : float32 array
        Net monthly income in EUR.
    owner : bool array
        Owner-occupier (else renter).
    size : int8 array
        Persons in the household.
    age_group : int8 array
        Index into :data:`AGE_GROUPS`.
    time_budget : float32 array
        Spare time on a 0..1 scale.
    low_literacy, non_native, gatekeeper : bool arrays
        Language and literacy barriers; key figures who reach others.
    disadvantaged : bool array
        Derived: income below the scenario's quantile, or low literacy together with renting.
    baseline_kpi : float32 array
        KPI (e.g. monthly energy use) before any behaviour is adopted.
    """

    neighbourhood: np.ndarray
    income: np.ndarray
    owner: np.ndarray
    size: np.ndarray
    age_group: np.ndarray
    time_budget: np.ndarray
    low_literacy: np.ndarray
    non_native: np.ndarray
    gatekeeper: np.ndarray
    disadvantaged: np.ndarray
    baseline_kpi: np.ndarray
    n_neighbourhoods: int

    @property
    def n(self) -> int:
        """Number of households."""
        return int(self.income.shape[0])

    def neighbourhood_bounds(self) -> np.ndarray:
        """Start offsets of each neighbourhood, length ``n_neighbourhoods + 1``."""
        return np.searchsorted(self.neighbourhood, np.arange(self.n_neighbourhoods + 1))

    def similarity_features(self) -> np.ndarray:
        """Standardised attributes used for homophily (income, tenure, age, language)."""
        log_inc = np.log(self.income)
        cols = [
            (log_inc - log_inc.mean()) / (log_inc.std() + 1e-9),
            self.owner.astype(np.float32) * 1.5,
            self.age_group.astype(np.float32) * 0.75,
            self.non_native.astype(np.float32) * 1.5,
        ]
        return np.stack(cols, axis=1).astype(np.float32)


def draw_population(
    cfg: PopulationConfig, source: np.random.SeedSequence | np.random.Generator | Keyed
) -> Population:
    """Draw a heterogeneous population.

    Every attribute draws from its own sub-stream, one number per household (or per
    neighbourhood) keyed by its index (:mod:`bt_sim.keyed`): a household's numbers do not
    depend on the number of households nor on any other attribute's settings, so changing the
    senior share, say, leaves every household's income, spare-time and KPI draws as they were.

    Parameters
    ----------
    cfg : PopulationConfig
        Sizes and distributions.
    source : numpy.random.SeedSequence, numpy.random.Generator or Keyed
        The only source of randomness (a generator gives its next 64 bits as the key).

    Examples
    --------
    >>> from bt_sim.scenario import PopulationConfig
    >>> pop = draw_population(PopulationConfig(households=100, neighbourhoods=4),
    ...                       np.random.default_rng(1))
    >>> pop.n, int(pop.neighbourhood.max())
    (100, 3)
    """
    keyed = Keyed.of(source)
    n, c = cfg.households, cfg.neighbourhoods
    nbhd = (np.arange(n, dtype=np.int64) * c // n).astype(np.int32)
    nbhd_level = cfg.segregation * keyed.sub("neighbourhood_income").normal(c)
    log_income = (
        np.log(cfg.income_median)
        + nbhd_level[nbhd]
        + cfg.income_sigma * keyed.sub("income").normal(n)
    )
    income = np.exp(log_income).astype(np.float32)
    z_income = (log_income - log_income.mean()) / (log_income.std() + 1e-9)
    # Owner-occupation rises with income; the intercept is solved so the share matches.
    owner = _logistic_share(cfg.owner_income_slope * z_income, cfg.owner_share, keyed.sub("owner"))
    extra = keyed.sub("size").poisson(max(cfg.household_size_mean - 1.0, 0.0), n, 7)
    size = (1 + extra).astype(np.int8)
    u = keyed.sub("age").uniform(n)
    age_group = np.where(u < cfg.young_share, 0, np.where(u < 1 - cfg.senior_share, 1, 2))
    # Spare time by age (neutral by default): a Beta of mean time_budget_mean + the age shift.
    shift = np.array([cfg.young_time_shift, 0.0, cfg.senior_time_shift])[age_group]
    a = 4.0 * np.clip(cfg.time_budget_mean + shift, 0.01, 0.99)
    time_budget = keyed.sub("time_budget").beta(a, 4.0 - a).astype(np.float32)
    senior = (age_group == 2).astype(np.float64)
    low_literacy = _logistic_share(
        -cfg.literacy_income_slope * z_income + cfg.senior_literacy_shift * senior,
        cfg.low_literacy_share,
        keyed.sub("literacy"),
    )
    non_native = _logistic_share(
        -cfg.language_income_slope * z_income, cfg.non_native_share, keyed.sub("language")
    )
    gatekeeper = keyed.sub("gatekeeper").uniform(n) < cfg.gatekeeper_share
    cut = np.quantile(income, cfg.disadvantaged_income_quantile) if n else 0.0
    disadvantaged = (income < cut) | (low_literacy & ~owner)
    scale = np.sqrt(size / 2.0)
    noise = cfg.baseline_kpi_sigma * keyed.sub("baseline_kpi").normal(n)
    baseline = cfg.baseline_kpi * scale * np.exp(noise)
    return Population(
        neighbourhood=nbhd,
        income=income,
        owner=owner,
        size=size,
        age_group=age_group.astype(np.int8),
        time_budget=time_budget,
        low_literacy=low_literacy,
        non_native=non_native,
        gatekeeper=gatekeeper,
        disadvantaged=disadvantaged,
        baseline_kpi=baseline.astype(np.float32),
        n_neighbourhoods=c,
    )


def _logistic_share(score: np.ndarray, share: float, keyed: Keyed) -> np.ndarray:
    """Bernoulli draws with log-odds ``score + b``, ``b`` chosen so the mean equals ``share``
    (one uniform per household from ``keyed``)."""
    if share <= 0:
        return np.zeros(score.shape, bool)
    if share >= 1:
        return np.ones(score.shape, bool)
    sample = score[:: max(1, score.shape[0] // 50_000)]  # the intercept from a thinned sample
    b = intercept(sample, share)
    prob = 1 / (1 + np.exp(-(score + b)))
    return keyed.uniform(score.shape[0]) < prob


def intercept(score: np.ndarray, share: float) -> float:
    """The ``b`` for which the mean of ``1 / (1 + exp(-(score + b)))`` is ``share``.

    Newton's method inside a bisection bracket (the mean rises with ``b``), to 1e-12.

    >>> b = intercept(np.array([-1.0, 0.0, 1.0]), 0.5)
    >>> round(b, 9)
    0.0
    """
    lo, hi = -30.0, 30.0
    b = float(np.log(share / (1.0 - share)) - score.mean())
    for _ in range(100):
        b = min(max(b, lo), hi)
        p = 1.0 / (1.0 + np.exp(-(score + b)))
        gap = float(p.mean()) - share
        if abs(gap) < 1e-12:
            break
        if gap < 0:
            lo = b
        else:
            hi = b
        slope = float((p * (1.0 - p)).mean())
        step = b - gap / slope if slope > 0 else 0.5 * (lo + hi)
        b = step if lo < step < hi else 0.5 * (lo + hi)
        if hi - lo < 1e-12:
            break
    return b
