"""Fit the Bass model to US VCR sales, 1980-1989, and compare with the published fit.

Two fits of the same Bass model:

1. the analytic curve: annual sales = m (F(t) - F(t - 1)), t = 1 for 1980, with
   F(t) = (1 - e^{-(p+q)t}) / (1 + (q/p) e^{-(p+q)t}), by nonlinear least squares (scipy);
2. the simulated Bass special case (scenarios/bass.toml: one behaviour on a complete graph):
   the mean adoption curve of the agent-based model, read in annual steps and scaled by m, with
   p and q (per month in the scenario) found by least squares on the same sales.

Run from any folder: ``python calibration/vcr/fit_vcr.py`` (about a minute; ``--analytic-only``
skips the simulated fit).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import least_squares

HERE = Path(__file__).resolve().parent
PUBLISHED = {"m_million": 68.0, "p": 0.0066, "q": 0.638}


def bass_F(t, p, q):
    e = np.exp(-(p + q) * t)
    return (1 - e) / (1 + (q / p) * e)


def annual(cum):
    return np.diff(np.concatenate([[0.0], cum]))


def _fit(predict, sales):
    """Least squares of annual sales ``predict(m, p, q)`` against ``sales`` (thousands)."""
    r = least_squares(
        lambda x: predict(*x) - sales,
        x0=[2 * sales.sum(), 0.01, 0.5],
        bounds=([sales.sum(), 1e-5, 1e-3], [1e6, 1, 3]),
    )
    m, p, q = r.x
    return {
        "m_million": m / 1000,
        "p": p,
        "q": q,
        "rmse_thousands": float(np.sqrt(np.mean(r.fun**2))),
    }


def fit_analytic(years, sales):
    t = np.arange(1, len(years) + 1, dtype=float)

    return _fit(lambda m, p, q: m * annual(bass_F(t, p, q)), sales)


def fit_discrete(years, sales):
    """Bass's own discrete form: sales_t = (p + q Y_{t-1} / m)(m - Y_{t-1}), Y cumulative sales."""
    prior_cum = np.concatenate([[0.0], np.cumsum(sales)[:-1]])

    return _fit(lambda m, p, q: (p + q * prior_cum / m) * (m - prior_cum), sales)


def fit_simulated(years, sales, households=5000, seeds=(0, 1, 2)):
    """Least squares over (p, q) of the simulated Bass special case; m in closed form."""
    from bt_sim import TransitionModel, load_scenario

    n_years = len(years)
    dt = 0.5  # months, as in scenarios/bass.toml
    steps = int(12 * n_years / dt)
    per_year = int(12 / dt)

    def curve(p_year, q_year):
        sc = load_scenario(
            "bass",  # the bundled scenario: found from any folder
            [
                f"population.households={households}",
                f"run.steps={steps}",
                f"social.p={float(p_year) / 12!r}",  # a plain float's repr, not numpy's
                f"social.q={float(q_year) / 12!r}",
            ],
        )
        cum = []
        for s in seeds:
            model = TransitionModel(sc, seed=s)
            model.run()
            ts = model.timeseries()
            share = ts[(ts["scope"] == "overall") & (ts["variable"] == "adoption:new_practice")]
            cum.append(share.sort_values("step")["value"].to_numpy())
        mean = np.mean(cum, axis=0)
        return annual(mean[per_year::per_year][:n_years])  # row 0 is step 0

    def resid(x):
        a = curve(*x)
        m = float(a @ sales / (a @ a))  # the best m for this curve
        return m * a - sales

    r = least_squares(resid, x0=[0.01, 0.6], bounds=([1e-4, 0.05], [0.2, 2.0]), diff_step=0.05)
    a = curve(*r.x)
    m = float(a @ sales / (a @ a))
    return {
        "m_million": m / 1000,
        "p": float(r.x[0]),
        "q": float(r.x[1]),
        "rmse_thousands": float(np.sqrt(np.mean(r.fun**2))),
    }


def main() -> int:
    data = np.genfromtxt(HERE / "vcr_sales.csv", delimiter=",", names=True)
    years, sales = data["year"], data["sales_thousands"].astype(float)
    out = {"published": PUBLISHED, "analytic": fit_analytic(years, sales)}
    out["discrete"] = fit_discrete(years, sales)
    if "--analytic-only" not in sys.argv:
        out["simulated"] = fit_simulated(years, sales)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
