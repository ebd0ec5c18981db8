"""Propensity-score estimates recover a planted effect that the plain difference misses,
the score model is scikit-learn's logistic regression, balance and overlap are reported, and
bad records are refused with the column named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bt_sim.propensity import BALANCED, estimate, logistic_fit, scores, smd

EFFECT = 1.0


def confounded(n: int = 800, seed: int = 3) -> pd.DataFrame:
    """Cases whose context ``x1`` raises both the chance of treatment and the outcome: the
    true effect on the treated is EFFECT, the plain difference of means far more."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    t = rng.random(n) < 1.0 / (1.0 + np.exp(-(1.2 * x1 - 0.5 * x2)))
    y = 2.0 + EFFECT * t + 2.0 * x1 + 0.5 * x2 + rng.normal(size=n)
    return pd.DataFrame({"x1": x1, "x2": x2, "t": t.astype(int), "y": y})


def test_the_score_model_is_scikit_learn_s_logistic_regression():
    from sklearn.linear_model import LogisticRegression

    df = confounded()
    x = df[["x1", "x2"]].to_numpy()
    ours = logistic_fit(x, df["t"].to_numpy())
    ref = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(x, df["t"])
    assert np.allclose(ours, [ref.intercept_[0], *ref.coef_[0]], atol=1e-5)


@pytest.mark.parametrize("method", ["matching", "ipw"])
def test_adjusted_estimates_recover_the_planted_effect_and_the_naive_one_does_not(method):
    df = confounded()
    naive = estimate(df, "t", "y", ["x1", "x2"], method="naive", boot=200)
    adjusted = estimate(df, "t", "y", ["x1", "x2"], method=method, boot=200)
    # The test can fail: without adjustment the difference is biased far beyond its interval.
    assert not naive.covers(EFFECT) and naive.lo > EFFECT + 0.5
    assert adjusted.covers(EFFECT), adjusted
    assert adjusted.hi - adjusted.lo < 0.8  # an interval that says something
    assert (adjusted.balance["smd_before"].abs() > BALANCED).any()
    assert (adjusted.balance["smd_after"].abs() < BALANCED).all(), adjusted.balance


def test_cases_outside_common_support_are_named_not_dropped_silently():
    df = confounded(400)
    # three treated cases far beyond every untreated one
    extra = pd.DataFrame({"x1": [6.0, 6.5, 7.0], "x2": 0.0, "t": 1, "y": 20.0})
    df = pd.concat([df, extra], ignore_index=True)
    df["case"] = [f"c{i}" for i in range(len(df))]
    est = estimate(df, "t", "y", ["x1", "x2"], boot=0, ids="case")
    assert {"c400", "c401", "c402"} <= set(est.outside)
    assert est.used < est.treated


def test_smd_and_scores():
    t = np.array([0, 0, 1, 1], bool)
    assert smd(np.array([0.0, 1.0, 2.0, 3.0]), t)[0] == pytest.approx(2 / np.sqrt(0.5))
    logit = scores(np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 1, 0, 1]))
    assert np.all(np.diff(logit) > 0)


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda d: d.drop(columns="x2"), "no column 'x2'"),
        (lambda d: d.assign(t=d["t"] * 2), "expected a binary treatment"),
        (lambda d: d.assign(t=1), "no untreated case"),
        (lambda d: d.assign(y=d["y"].where(d.index != 5)), "column 'y': missing value in row 5"),
        (lambda d: d.assign(x1="a"), "column 'x1': expected numbers"),
        (lambda d: d.assign(t=(d["x1"] > 0).astype(int)), "no overlap"),
    ],
)
def test_bad_records_are_refused_with_the_column_named(change, words):
    with pytest.raises(ValueError, match=words):
        estimate(change(confounded(200)), "t", "y", ["x1", "x2"], boot=0)
