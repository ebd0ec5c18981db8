"""Forward and backward continuation: the full model remembers that it tipped (hysteresis)."""

from __future__ import annotations

import numpy as np
import pytest

from bt_sim import TransitionModel, load_scenario
from bt_sim.cli import main
from bt_sim.experiments.continuation import continuation, hysteresis
from tests.conftest import SCENARIOS

OUT = "final_adoption:plant_based_meals"


def test_tipping_scenario_shows_hysteresis_in_q():
    df = continuation(
        str(SCENARIOS / "tipping.toml"),
        "social.q",
        [0.1, 0.6, 1.6, 2.5],
        OUT,
        steps=60,
        replicates=3,
        fixed=["behaviours.plant_based_meals.committed_share=0.03"],
    )
    table = hysteresis(df, "social.q", OUT).set_index("social.q")
    # Rising q, the behaviour stays a niche at 0.1 and 0.6; falling again after it tipped at
    # 1.6, it keeps the majority: the branches differ by far more than 3 standard errors.
    assert table.loc[0.1, "forward"] < 0.1 and table.loc[0.1, "backward"] > 0.9
    assert table.loc[0.1, "differs"] and table.loc[0.6, "differs"]
    # Each replicate's world is kept: the forward branch at 0.1 equals a plain run there.
    plain = TransitionModel(
        load_scenario(
            SCENARIOS / "tipping.toml",
            ["behaviours.plant_based_meals.committed_share=0.03", "social.q=0.1"],
        ),
        seed=1,
        replicate=0,
    )
    for _ in range(60):
        plain.step()
    first = df[(df["branch"] == "forward") & (df["replicate"] == 0)].iloc[0]
    assert first[OUT] == pytest.approx(plain.state.adopted[:, 0].mean())


def test_continue_from_needs_the_same_world():
    a = TransitionModel(load_scenario(None, ["population.households=300"]), seed=1)
    b = TransitionModel(load_scenario(None, ["population.households=400"]), seed=1)
    with pytest.raises(ValueError, match="same world"):
        b.continue_from(a)
    c = TransitionModel(load_scenario(None, ["population.households=300", "social.q=0.5"]), seed=1)
    a.run(5)
    c.continue_from(a)
    assert c.steps_done == 5 and np.array_equal(c.state.adopted, a.state.adopted)
    assert c.state.adopted is not a.state.adopted


def test_cli_continuation_needs_a_sweep_file(tmp_path, capsys):
    assert main(["tipping", str(tmp_path), "--continuation", "5"]) == 2
    assert "needs the sweep file" in capsys.readouterr().err


def test_continuation_over_the_committed_share_applies_the_new_level():
    """A rising branch over the committed share (levels 0.03 and 0.1 of the tipping scenario,
    60 steps each) ends where a fresh run at 0.1 does, near everyone, not at the 0.03 level's
    niche: the new level's committed households adopt when it starts."""
    from bt_sim.experiments.continuation import continuation
    from bt_sim.scenario.loader import find_scenario

    key = "behaviours.plant_based_meals.committed_share"
    df = continuation(find_scenario("tipping"), key, [0.03, 0.1],
                      "final_adoption:plant_based_meals", steps=60, replicates=2)  # fmt: skip
    up = df[(df["branch"] == "forward") & (df[key] == 0.1)]
    assert (up["final_adoption:plant_based_meals"] > 0.9).all()


@pytest.mark.parametrize(
    ("key", "levels", "refused"),
    [
        ("social.q", [0.1, 0.5], False),
        ("behaviours.plant_based_meals.cost", [0, 100], False),
        ("behaviours.plant_based_meals.committed_share", [0.03, 0.1], False),
        ("behaviours.plant_based_meals.initial_adoption", [0.01, 0.05], True),
        ("mastery.initial_efficacy", [0.3, 0.6], True),
        ("population.households", [1000, 2000], True),
        ("network.mean_degree", [6, 10], True),
        ("collectives.count", [1, 3], True),
    ],
)
def test_a_control_continuation_cannot_carry_is_refused_before_any_run(key, levels, refused):
    from bt_sim.experiments.continuation import check_control
    from bt_sim.scenario.loader import find_scenario

    if refused:
        with pytest.raises(ValueError, match=f"continuation cannot carry {key} over"):
            check_control(find_scenario("tipping"), key, levels, ["population.households=400"]
                          if key != "population.households" else [])  # fmt: skip
    else:
        check_control(find_scenario("tipping"), key, levels, ["population.households=400"])
