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
