"""Components: the default ones keep results bit for bit (tests/test_golden.py); a user's own
component joins the plan from Python or from a scenario, records its results, draws from its
own stream without disturbing the others, and bad compositions are refused before any work."""

from __future__ import annotations

import numpy as np
import pytest

from bt_sim import Component, TransitionModel, load_scenario
from bt_sim.cli import main
from bt_sim.errors import ScenarioError
from bt_sim.phases import default_phases
from bt_sim.streams import STREAMS
from tests.example_component import Lottery, Subsidy

SMALL = ["population.households=1000", "run.steps=48"]


def test_the_default_plan_is_made_of_the_default_components():
    m = TransitionModel(load_scenario(None, SMALL), seed=1)
    assert list(m.components) == [
        "hub", "mastery", "collectives", "capacity", "interventions", "organisation",
        "landscape", "municipality", "regime",
    ]  # fmt: skip
    assert [p.name for p in m.phases] == [p.name for p in default_phases()]
    assert [p.name for p in m.phases] == [
        "found", "organisation", "landscape", "municipality", "interventions", "regime", "adopt",
        "measure", "hub", "reflect", "purchase", "collectives", "capacity", "record",
    ]  # fmt: skip
    assert m.hub is m.components["hub"] and m.collectives.count == 3
    for name in ("revoke", "opt_in", "hub_noise", "perception", "drop", "recruit"):
        assert name in STREAMS


def test_a_component_from_python_joins_the_plan_and_reports():
    m = TransitionModel(load_scenario(None, SMALL), seed=1, components=[Subsidy])
    names = [p.name for p in m.phases]
    assert names.index("subsidy") == names.index("adopt") - 1
    plan = m.plan()
    assert plan.loc[plan["phase"] == "subsidy", "does"].item().startswith("Halve the price")
    m.run()
    ts = m.timeseries()
    price = ts[ts["variable"] == "subsidy:price"].set_index("step")["value"]
    assert price.loc[0] == 4000.0 and price.loc[23] == 4000.0 and price.loc[24] == 2000.0
    assert m.summary()["subsidy:months_subsidised"] == 25.0


def test_a_users_component_moves_outcomes_with_paired_seeds():
    """Halving the price of insulation from month 24 raises its adoption: paired seeds, 10 of
    them (the paired difference is about 8 standard errors at this size)."""
    diffs = []
    sc = load_scenario(None, ["population.households=2000", "run.steps=60"])
    for seed in range(10):
        runs = []
        for extra in ((), (Subsidy,)):
            m = TransitionModel(sc, seed=seed, components=extra)
            m.run()
            runs.append(m.summary()["final_adoption:insulation"])
        diffs.append(runs[1] - runs[0])
    d = np.array(diffs)
    assert d.mean() > 3 * d.std(ddof=1) / np.sqrt(d.size)


def test_a_component_with_its_own_stream_leaves_the_others_draws_alone():
    sc = load_scenario(None, [*SMALL, "collectives.count=0", "mastery.enabled=false"])
    plain = TransitionModel(sc, seed=2)
    lucky = TransitionModel(sc, seed=2, components=[Lottery])
    names = [p.name for p in lucky.phases]
    assert names.index("lottery") == names.index("reflect") + 1
    assert lucky.plan().set_index("phase").loc["lottery", "streams"] == "lottery"
    assert STREAMS["lottery"].startswith("who wins")
    plain.run(12)
    lucky.run(12)
    # Without mastery and collectives, self-efficacy moves only through the lottery; the
    # adoption draws are the same in both (common random numbers), so before the first draw
    # (month 12) both towns adopted identically.
    assert lucky.lottery.won.sum() > 0
    ts = lucky.timeseries()
    assert ts[ts["variable"] == "lottery:winners"]["value"].max() == lucky.lottery.won.sum()
    assert np.array_equal(plain.state.kpi, lucky.state.kpi)


def test_a_component_from_the_scenario(tmp_path, capsys):
    path = tmp_path / "with.toml"
    path.write_text(
        '[population]\nhouseholds = 500\n[run]\nsteps = 30\n'
        '[model]\ncomponents = ["tests.example_component:Subsidy"]\n',
        encoding="utf-8",
    )  # fmt: skip
    m = TransitionModel(load_scenario(str(path)), seed=1)
    assert "subsidy" in m.components
    code = main(["run", str(path), "--no-plot", "--out", str(tmp_path / "out")])
    assert code == 0
    capsys.readouterr()


@pytest.mark.parametrize(
    ("spec", "expect"),
    [
        ("tests.example_component", "expected 'package.module:Class'"),
        ("no_such_module_x:Thing", "cannot load"),
        ("tests.example_component:np", "is not a bt_sim Component class"),
    ],
)
def test_a_bad_component_in_a_scenario_is_refused_before_any_work(tmp_path, capsys, spec, expect):
    path = tmp_path / "bad.toml"
    path.write_text(f'[model]\ncomponents = ["{spec}"]\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"model\.components\[0\]"):
        load_scenario(str(path))
    code = main(["run", str(path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and expect in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_bad_compositions_are_refused():
    sc = load_scenario(None, SMALL)
    with pytest.raises(ValueError, match="two components are named 'subsidy'"):
        TransitionModel(sc, components=[Subsidy, Subsidy])

    class Taken(Component):
        name = "state"

    with pytest.raises(ValueError, match="taken by the model"):
        TransitionModel(sc, components=[Taken])

    class Needy(Component):
        name = "needy"
        requires = ("nothing_here",)

    with pytest.raises(ValueError, match="requires nothing_here"):
        TransitionModel(sc, components=[Needy])
    with pytest.raises(ValueError, match="registered already"):

        class Clash(Component):
            name = "clash"
            streams = {"adopt": "something else"}  # noqa: RUF012
