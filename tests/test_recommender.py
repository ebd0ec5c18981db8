"""The recommender: scikit-learn's ridge estimator written out (checked against it), first
years read from records, and intervals that cover held-out collectives at their rate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bt_sim.recommender import ALPHAS, Recommender, first_years, ridge_loo
from bt_sim.records import CONTEXT
from tests.conftest import ROOT

PILOT = ROOT / "scenarios" / "strategies" / "pilot_records.parquet"


def test_ridge_loo_is_scikit_learns_ridgecv():
    import sklearn.linear_model as sklearn

    rng = np.random.default_rng(4)
    for n, p, noise in ((60, 5, 0.5), (400, 30, 2.0), (200, 12, 0.05)):
        x = rng.normal(size=(n, p))
        y = x @ rng.normal(size=p) + rng.normal(0, noise, n) + 3.0
        z = x - x.mean(axis=0)
        coef, alpha, loo = ridge_loo(z, y - y.mean(), ALPHAS)
        ref = sklearn.RidgeCV(alphas=ALPHAS).fit(z, y)
        assert alpha == pytest.approx(ref.alpha_)
        np.testing.assert_allclose(coef, ref.coef_, rtol=1e-6, atol=1e-9)
        # the leave-one-out residuals are those of refitting without each row
        for i in (0, n // 2):
            keep = np.arange(n) != i
            m = sklearn.Ridge(alpha=alpha).fit(x[keep], y[keep])
            assert loo[i] == pytest.approx(y[i] - m.predict(x[i : i + 1])[0], rel=1e-6)


def _years(rng, n, effect=0.02):
    years = pd.DataFrame({c: rng.uniform(0, 1, n) for c in CONTEXT})
    coach = rng.uniform(size=n) < 0.5
    event = rng.uniform(size=n) < 0.5
    years["mix"] = [
        "+".join(k for k, on in (("energy_coach", a), ("neighbourhood_event", b)) if on)
        for a, b in zip(coach, event, strict=True)
    ]
    # the event helps only where many households are disadvantaged
    years["outcome"] = (
        effect * coach
        + effect * event * (years["share_disadvantaged"] > 0.5)
        + rng.normal(0, 0.01, n)
    )
    return years


def test_it_learns_a_mix_that_depends_on_context_and_covers_new_cases():
    rng = np.random.default_rng(1)
    kinds = ["energy_coach", "neighbourhood_event"]
    rec = Recommender(kinds, interval=0.9).fit_years(_years(rng, 600))
    cands = np.array([[0, 0], [1, 0], [0, 1], [1, 1]], bool)
    poor = pd.Series({c: 0.5 for c in CONTEXT} | {"share_disadvantaged": 0.9})
    rich = pd.Series({c: 0.5 for c in CONTEXT} | {"share_disadvantaged": 0.1})
    assert rec.recommend(poor, cands)[0].tolist() == [True, True]
    assert rec.recommend(rich, cands)[0][0]  # the coach, wherever
    test = _years(np.random.default_rng(2), 2000)
    _, lo, hi = rec.predict(test)
    covered = np.mean((test["outcome"] >= lo) & (test["outcome"] <= hi))
    # nominal 0.9; 2,000 new cases: binomial SE 0.007, so 0.87..0.93 is within 4 SE
    assert 0.87 <= covered <= 0.93


def test_too_few_records_and_it_does_not_pretend():
    rec = Recommender(["energy_coach"], min_records=30).fit_years(
        _years(np.random.default_rng(3), 29)
    )
    assert not rec.ready
    with pytest.raises(RuntimeError, match="29 first years, needs 30"):
        rec.recommend(pd.Series({c: 0.5 for c in CONTEXT}), np.array([[True]]))


def test_first_years_from_records():
    base = {c: 0.1 for c in CONTEXT} | {
        "households": 200, "run": "r", "collective": 3, "founded_month": 12.0,
        "members_before": np.nan, "month_before": np.nan, "impact_before": 0.0,
        "impact_after": 0.0,
    }  # fmt: skip
    rows = [
        base | {"kind": "energy_coach", "start_month": 14.0, "month_after": 21.0,
                "members_after": 10.0},
        base | {"kind": "collective_purchase", "start_month": 18.0, "month_after": 27.0,
                "members_after": 20.0},
        base | {"kind": "neighbourhood_event", "start_month": 26.0, "month_before": 21.0,
                "members_before": 10.0, "month_after": 30.0, "members_after": 30.0},
    ]  # fmt: skip
    fy = first_years(pd.DataFrame(rows))
    assert len(fy) == 1
    # the event started after the first year; releases at 21 and 27 are as near to month
    # 24: the later one counts
    assert fy["mix"].item() == "collective_purchase+energy_coach"
    assert fy["outcome"].item() == pytest.approx(20 / 200)
    late = pd.DataFrame([rows[0] | {"month_after": 40.0}])
    # no release within 6 months of month 24, but at month 14 nothing was published yet;
    # that is 10 months away: no outcome
    assert np.isnan(first_years(late)["outcome"].item())


@pytest.mark.slow
def test_the_archive_intervals_cover_held_out_towns():
    from bt_sim import TransitionModel, load_scenario
    from bt_sim.record_file import read_records
    from bt_sim.records import from_model

    archive = read_records(PILOT)
    kinds = sorted(set(archive["kind"]))
    rec = Recommender(kinds, interval=0.9).fit(archive)
    assert rec.ready and rec.n >= 300
    sc = load_scenario(str(ROOT / "scenarios" / "strategies" / "town.toml"),
                       ["organisation.strategy=out"])  # fmt: skip
    held = []
    for seed in range(20):  # other towns than the archive's (seed 7001)
        m = TransitionModel(sc, seed=seed)
        m.run()
        held.append(first_years(from_model(m)))
    test = pd.concat(held, ignore_index=True).dropna(subset=["outcome"])
    _, lo, hi = rec.predict(test)
    covered = float(np.mean((test["outcome"] >= lo) & (test["outcome"] <= hi)))
    # nominal 0.9 over ~180 held-out first years: binomial SE 0.022, and the years of one
    # town share it; 0.8..0.97 allows for that (the measured rate is in docs)
    assert 0.8 <= covered <= 0.97, covered
