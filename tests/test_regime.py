"""The regime and the municipality: their rules on controlled runs, the effects the
literature gives them measured with paired seeds, the policy threshold located by the
tipping tools, and one scenario per transition pathway that reproduces its class.

The single-mechanism effects are rows of docs/mechanisms.md (tests/test_mechanisms.py); here
are the interactions (policy feedback does more where the collectives are representative and
where the hubs' evidence is precise), which need four arms each."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bt_sim import TransitionModel, load_scenario
from bt_sim.components.municipality import documented_impact
from bt_sim.components.regime import mean_transition
from bt_sim.contrast import paired, run_outcomes
from bt_sim.experiments.continuation import continuation, hysteresis
from bt_sim.experiments.tipping import UNIFORM_BIMODALITY, find_critical
from tests.conftest import SCENARIOS

TOWN = str(SCENARIOS / "pathways" / "town.toml")
SEEDS = range(20)


def town(*sets: str, seed: int = 1) -> TransitionModel:
    m = TransitionModel(load_scenario(TOWN, list(sets)), seed=seed)
    m.run()
    return m


def test_lock_in_weakens_as_the_behaviour_spreads_and_prices_follow_wright_s_law():
    m = town("municipality.enabled=false")
    hp = m.behaviour_names.index("heat_pump")
    rg = m.regime
    rec = m.recorder
    share = rec.nb_sum[rec.steps_done - 1, :, hp].sum() / m.eligible[:, hp].sum()
    # the resistance of the last step: from the share recorded at the end of the step before
    assert rg.resistance[hp] == pytest.approx(0.9 * (1 - share) ** 2.0)
    assert m.pull[hp] == pytest.approx(1 - rg.resistance[hp])
    a = -math.log2(1 - 0.2)
    expect = 9000 * max(0.4, (rg.most[hp] / rg.start_count[hp]) ** -a)
    assert rg.price[hp] == pytest.approx(expect) and m.cost[hp] == pytest.approx(expect)
    ts = m.timeseries()
    price = ts[ts["variable"] == "regime:price:heat_pump"]["value"].to_numpy()
    assert price[0] == 9000 and (np.diff(price) <= 1e-9).all() and price[-1] < 9000
    assert m.regime.summary()["pathway"] == "reproduction"


def test_the_municipality_supports_after_its_review_and_delay_and_keeps_to_its_budget():
    m = town("municipality.budget=50000")
    mu = m.municipality
    policy = mu.result["policy"]
    first = mu.first_support
    assert not math.isnan(first) and policy[: int(first)].sum() == 0 and policy[int(first)] == 1
    # a decision is taken at a yearly review and takes effect 6 months later
    assert first % 12 == 6
    spent = mu.result["spent"][1:]
    years = spent[: (spent.size // 12) * 12].reshape(-1, 12).sum(axis=1)
    # a year's subsidies are paid for the adoptions of the step before, so the year's last
    # payment may overshoot what was left by one step's subsidies (a few heat pumps)
    assert years.max() <= 50000 + 10 * 0.5 * 9000
    assert m.summary()["municipality:funded_hours"] > 0


def test_documented_impact_counts_only_what_the_hubs_published():
    impact, se = documented_impact(np.array([100.0, 40.0]), np.array([0.1, np.nan]), 8, 2000, 1.0)
    assert impact == pytest.approx(100 * 0.1 / 2000)
    assert se == pytest.approx(math.sqrt(16) * 1.0 / 2000)


def test_retrenchment_ends_support_when_trust_falls():
    shock = [
        "municipality.retrench=true",
        "municipality.trust_floor=0.3",
        "municipality.threshold=0.004",
        "hub.trust_rate=0",  # trust moves only by the landscape's scandal
    ]
    kept = town(*shock).municipality.result["policy"]
    assert kept[:150].max() == 1 and kept[-1] == 1
    # a scandal at month 150 that cuts trust in the hubs to a tenth, for good
    m = TransitionModel(
        load_scenario(
            TOWN,
            [
                *shock,
                "landscape.energy.acts_on=trust",
                "landscape.energy.month=150",
                "landscape.energy.size=-0.9",
            ],
        ),
        seed=1,
    )
    m.run()
    policy = m.municipality.result["policy"]
    assert np.array_equal(policy[:150], kept[:150]) and policy[-1] == 0


def _did(common: list[str], arm_a: list[str], arm_b: list[str]) -> tuple[float, float]:
    """The effect of policy feedback (off -> on) in arm b minus that in arm a, paired by
    seed: its mean and standard error."""
    out = []
    for arm in (arm_a, arm_b):
        off = run_outcomes(TOWN, [*common, *arm, "municipality.enabled=false"], SEEDS,
                           [mean_transition])[:, 0]  # fmt: skip
        on = run_outcomes(TOWN, [*common, *arm, "municipality.enabled=true"], SEEDS,
                          [mean_transition])[:, 0]  # fmt: skip
        out.append(on - off)
    _, _, diff, se, _ = paired(out[0], out[1])
    return diff, se


@pytest.mark.slow
def test_policy_feedback_does_more_where_collectives_are_representative():
    # With a representation floor of 0.8, collectives that reach out to everyone alike (the
    # usual suspects join first: a ratio near 0.7) miss it; those that reach disadvantaged
    # households first (a ratio near 1.4) meet it, and policy follows their evidence.
    diff, se = _did(
        ["municipality.representation_floor=0.8"],
        [],
        ["collectives.outreach_rule=disadvantaged", "collectives.founder_rule=disadvantaged"],
    )
    assert diff > 3 * se and diff > 0.03, (diff, se)


@pytest.mark.slow
def test_policy_feedback_does_more_where_the_hubs_evidence_is_precise():
    # Noisy releases against precise ones (epsilon 0.1 against 2). With 16 published peer
    # groups in a town of 2,000 the standard error of the documented impact is
    # sqrt(32) / (epsilon 2000): 0.028 at epsilon 0.1, so 2 SE (0.057) lie above any impact
    # the collectives document in 15 years (0.02-0.04) and policy never comes; at epsilon 2 it
    # is 0.0014 and the threshold (0.008) decides. (At epsilon 0.2 the difference is smaller,
    # 0.056 +- 0.018: precise enough only late in some towns.)
    diff, se = _did([], ["hub.epsilon=0.1"], ["hub.epsilon=2"])
    assert diff > 3 * se and diff > 0.03, (diff, se)


@pytest.mark.slow
def test_the_town_tips_below_a_critical_evidence_threshold_and_is_bimodal_near_it():
    levels = [0.004, 0.008, 0.012, 0.02, 0.036]
    seeds = range(16)
    control, outcome = [], []
    for level in levels:
        y = run_outcomes(TOWN, [f"municipality.threshold={level}"], seeds, ["regime:share"])
        control += [level] * len(seeds)
        outcome += list(y[:, 0])
    tip = find_critical(np.array(control), np.array(outcome), names=("threshold", "share"))
    assert tip.tips and tip.jump < 0
    assert 0.004 < tip.critical < 0.036
    t = tip.levels.set_index("control")
    assert t.loc[0.004, "mean"] > 0.7 and t.loc[0.036, "mean"] < 0.2
    assert tip.most_bimodal[1] > UNIFORM_BIMODALITY  # near it some replicates tip, some not


@pytest.mark.slow
def test_the_policy_loop_shows_hysteresis_in_the_evidence_s_precision():
    out = "final_adoption:heat_pump"  # of all households: 57 % are owners, who may install one
    df = continuation(TOWN, "hub.epsilon", [0.05, 2.0], out, steps=150, replicates=3)
    table = hysteresis(df, "hub.epsilon", out).set_index("hub.epsilon")
    # Rising precision: at epsilon 0.05 the documented impact is never precise enough and the
    # town stays; at 2 the municipality supports and the town tips. Falling again, support
    # (never withdrawn without retrenchment) and the heat pumps installed keep it tipped.
    assert table.loc[0.05, "forward"] < 0.12 and table.loc[0.05, "backward"] > 0.35
    assert table.loc[0.05, "differs"]


@pytest.mark.parametrize("pathway", ["reproduction", "transformation", "substitution"])
def test_each_pathway_scenario_reproduces_its_class(pathway):
    sc = load_scenario(SCENARIOS / "pathways" / f"{pathway}.toml")
    classes = []
    for seed in range(10):
        m = TransitionModel(sc, seed=seed)
        m.run()
        classes.append(m.summary()["regime:pathway"])
    # 20 of 20 seeds gave the class when the scenarios were made; 9 of 10 leaves room for a
    # changed rule elsewhere to move one seed, not the class
    assert classes.count(pathway) >= 9, classes


def test_bt_sim_run_prints_the_transition_where_it_acts_and_not_elsewhere(tmp_path, capsys):
    from bt_sim.cli import main

    sub = str(SCENARIOS / "pathways" / "substitution.toml")
    assert main(["run", sub, "--out", str(tmp_path / "a"), "--set", "run.replicates=1"]) == 0
    out = capsys.readouterr().out
    assert "regime:tip_month" in out and "substitution 1 of 1" in out
    args = ["run", "default", "--out", str(tmp_path / "b"), "--set", "run.replicates=1"]
    assert main(args) == 0
    assert "regime:" not in capsys.readouterr().out


def test_a_fixed_subsidy_lowers_the_cost_households_weigh_and_is_paid_from_the_budget():
    m = TransitionModel(
        load_scenario(
            TOWN,
            [
                "municipality.threshold=0",
                "municipality.precision=0",
                "municipality.delay_months=0",
                "municipality.subsidy=0",
                "municipality.subsidy_euros=1500",
                "municipality.subsidised=heat_pump",
                "municipality.funded_hours=0",
                "regime.cost_learning=false",
                "run.steps=40",
            ],
        ),
        seed=2,
    )
    hp = m.behaviour_names.index("heat_pump")
    ins = m.behaviour_names.index("insulation")
    m.run(13)  # the first review at month 12 decides to support at once
    assert m.municipality.supporting
    assert m.cost[hp] == pytest.approx(9000 - 1500) and m.cost[ins] == pytest.approx(4000)
    paid = []
    for _ in range(15):
        before = m.municipality.adopted_before[hp]
        spent = m.municipality.totals["spent"]
        m.step()
        new = m.municipality.adopted_before[hp] - before
        assert m.municipality.totals["spent"] - spent == pytest.approx(1500 * new)
        paid.append(new)
    assert sum(paid) > 0  # some were paid for
