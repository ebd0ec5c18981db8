"""The simulation's own truth behind a success-factor estimate (bt_sim.truth)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bt_sim import TransitionModel, load_scenario
from bt_sim.factors import cases
from bt_sim.truth import (
    archive_truth,
    confound,
    published_at,
    score,
    summarise,
    town_truth,
    true_att,
)

ROOT = Path(__file__).resolve().parents[1]
GATEKEEPERS = str(ROOT / "scenarios" / "factors" / "gatekeepers.toml")
KIND = "gatekeeper_programme"
# One collective from the start, no network organisation: leaving the gatekeeper programme
# out of that collective's mix is the same as switching it off in the scenario.
ONE = ["organisation.strategy=none", "collectives.count=1", "collectives.placement=first",
       "run.steps=24", "population.households=3000", "population.segregation=0"]  # fmt: skip
# Small towns where the organisation founds collectives (each picks its own mix).
SMALL = ["population.households=1500", "run.steps=40", "run.replicates=3"]


def test_the_truth_equals_a_direct_paired_run():
    sc = load_scenario(GATEKEEPERS, ONE)
    off = load_scenario(GATEKEEPERS, [*ONE, "interventions.gatekeepers.enabled=false"])
    effects = []
    for seed in range(6):
        _, truth = town_truth(sc, KIND, "members", seed=seed)
        assert len(truth) == 1 and truth["treated"].iloc[0] == 1
        row = truth.iloc[0]
        direct = TransitionModel(off, seed=seed)
        direct.run()
        assert row["without"] == published_at(direct, 0, row["outcome_month"])
        effects.append(row["true_effect"])
    # the programme does something in some of these towns (so the equality is not 0 == 0)
    assert max(effects) > 0


def test_the_outcome_with_it_is_what_the_records_read():
    sc = load_scenario(GATEKEEPERS, SMALL)
    model = TransitionModel(sc, seed=5)
    model.run()
    from bt_sim.records import from_model

    table = cases(from_model(model), KIND)
    slot = {int(nb): c for c, nb in enumerate(model.collectives.nbhd)}
    read = [
        published_at(model, slot[int(r.collective)], r.outcome_month) for r in table.itertuples()
    ]
    assert len(table) > 3
    np.testing.assert_array_equal(read, table["outcome"].to_numpy())


def test_the_truth_does_not_depend_on_the_workers():
    sc = load_scenario(GATEKEEPERS, SMALL)
    rec1, one = archive_truth(sc, KIND, seed=11, replicates=range(3), workers=1)
    rec2, two = archive_truth(sc, KIND, seed=11, replicates=range(3), workers=2)
    pd.testing.assert_frame_equal(one, two)
    pd.testing.assert_frame_equal(rec1, rec2)
    treated = one[one["treated"] == 1]
    assert len(treated) and treated["true_effect"].notna().all()
    assert one.loc[one["treated"] == 0, "true_effect"].isna().all()


def test_a_kind_the_scenario_lacks_is_named():
    sc = load_scenario(GATEKEEPERS, SMALL)
    with pytest.raises(ValueError, match=r"no building block of kind 'solar'.*energy_coach"):
        town_truth(sc, "solar")


def test_true_att_is_the_mean_over_the_treated_with_a_counterfactual():
    t = pd.DataFrame({"treated": [1, 1, 1, 0], "true_effect": [0.1, 0.3, np.nan, np.nan]})
    att, se, n = true_att(t)
    assert att == pytest.approx(0.2) and n == 2
    assert se == pytest.approx(np.std([0.1, 0.3], ddof=1) / np.sqrt(2))


def test_summarise_scores_bias_rmse_and_coverage():
    per = pd.DataFrame(
        {
            "archive": [0, 1, 0, 1],
            "method": ["naive", "naive", "ipw", "ipw"],
            "effect": [0.3, 0.5, 0.1, 0.3],
            "lo": [0.25, 0.45, 0.0, 0.25],
            "hi": [0.35, 0.55, 0.2, 0.35],
            "truth": [0.1, 0.2, 0.1, 0.2],
            "covered": [False, False, True, False],
            "error": ["", "", "", ""],
        }
    )
    s = summarise(per).set_index("method")
    assert s.loc["naive", "bias"] == pytest.approx(0.25)
    assert s.loc["naive", "rmse"] == pytest.approx(np.sqrt((0.2**2 + 0.3**2) / 2))
    assert s.loc["ipw", "bias"] == pytest.approx(0.05)
    assert s.loc["ipw", "coverage"] == 0.5 and s.loc["naive", "coverage"] == 0.0
    assert s.loc["ipw", "width"] == pytest.approx(0.15)


def test_score_puts_every_method_beside_the_same_truth():
    sc = load_scenario(GATEKEEPERS, SMALL)
    # two context columns: with all eight, three small towns' cases separate perfectly
    cov = ["share_non_native", "median_income"]
    per, scores = score(sc, KIND, archives=2, towns=3, seed=11, covariates=cov, boot=50)
    assert (per["error"] == "").all()
    assert set(scores["method"]) == {"naive", "ipw", "matching"}
    ok = per[per["error"] == ""]
    assert ok.groupby("archive")["truth"].nunique().eq(1).all()
    # archive 0 is the three towns archive_truth ran above: the same truth
    _, truth = archive_truth(sc, KIND, seed=11, replicates=range(3))
    assert ok.loc[ok["archive"] == 0, "truth"].iloc[0] == pytest.approx(true_att(truth)[0])
    assert ((scores["coverage"] >= 0) & (scores["coverage"] <= 1)).all()


def test_confounding_puts_the_treated_where_the_column_is_high():
    rng = np.random.default_rng(3)
    t = pd.DataFrame({"x": rng.normal(size=2000), "treated": rng.integers(0, 2, 2000)})
    kept = confound(t, "x", 2.0, seed=4)
    gap = kept.loc[kept.treated == 1, "x"].mean() - kept.loc[kept.treated == 0, "x"].mean()
    # logistic(2z) against logistic(-2z): the kept treated lie about one sd above the kept
    # untreated; 0.5 is far beyond the sampling noise of ~1,000 cases (se about 0.06)
    assert gap > 0.5
    assert len(confound(t, "x", 0.0, seed=4)) == pytest.approx(1000, abs=100)
