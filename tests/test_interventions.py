"""Interventions: dated rounds paid in volunteer hours; a coach visits whom its rule says; a
dashboard gives members meter-quality feedback while it runs; bad catalogues are refused."""

from __future__ import annotations

import numpy as np
import pytest

from bt_sim import TransitionModel, load_scenario
from bt_sim.cli import main
from bt_sim.components.interventions import overlap, round_of
from bt_sim.errors import ScenarioError
from tests.conftest import SCENARIOS

EXAMPLE = str(SCENARIOS / "interventions.toml")


def test_rounds_are_dated():
    assert [overlap(m - 1, m, 0.0, 12.0, 0.0) for m in (0, 1, 12, 13)] == [0, 1, 1, 0]
    assert overlap(0, 120, 6.0, 24.0, 36.0) == 24 + 24 + 24 + 6
    assert overlap(10.0, 10.25, 6.0, 24.0, 36.0) == 0.25
    assert round_of(50.0, 2.0, 12.0) == 4


def test_visits_do_not_depend_on_the_step_length():
    """Two visits a month in rounds of 24 months from month 6, every 36 months (6-30, 42-66,
    78-102 and 114-120 of a 120-month run): the same count whether a step is one month or a
    quarter of one."""
    counts = []
    for dt, steps in ((1.0, 120), (0.25, 480)):
        sc = load_scenario(EXAMPLE, [f"run.dt={dt}", f"run.steps={steps}"])
        m = TransitionModel(sc, seed=1)
        m.run()
        counts.append(m.summary()["interventions:coach:visits"])
    assert counts[0] == counts[1] == 3 * 2 * (24 + 24 + 24 + 6)


def test_the_coach_visits_disadvantaged_households_first():
    sc = load_scenario(EXAMPLE, ["run.steps=12", "interventions.dashboard.enabled=false"])
    m = TransitionModel(sc, seed=2)
    before = m.state.efficacy.copy()
    m.run()
    visited = m.interventions.visited[0]
    assert visited.sum() == 3 * 2 * 6  # months 6-12, two a month, three collectives
    assert m.population.disadvantaged[visited].all()
    assert (m.collectives.of[visited] >= 0).all()
    assert (m.state.efficacy[visited] > before[visited]).mean() > 0.9


def test_an_intervention_without_the_hours_is_not_carried_out():
    sc = load_scenario(EXAMPLE, ["collectives.volunteer_hours=0", "run.steps=24"])
    m = TransitionModel(sc, seed=3)
    m.run()
    s = m.summary()
    assert s["interventions:coach:visits"] == 0 and not m.interventions.visited[0].any()
    assert s["interventions:coach:refused_months"] == 3 * 18  # months 6-24
    assert s["interventions:dashboard:refused_months"] == 3 * 24
    assert s["interventions:dashboard:carried_months"] == 0
    ts = m.timeseries()
    assert ts[ts["variable"] == "interventions:refused"]["value"].max() == 6


def test_a_dashboard_gives_members_a_meter_while_it_runs():
    sc = load_scenario(
        EXAMPLE,
        ["interventions.dashboard.months=12", "run.steps=24", "interventions.coach.enabled=false"],
    )
    m = TransitionModel(sc, seed=4)
    base = m.interventions.base_meter.copy()
    m.run(11)
    members = m.state.member & (m.collectives.of >= 0)  # as the next step's phase sees them
    m.step()
    assert m.mastery.meter[members].all()
    assert np.array_equal(m.mastery.meter[~members], base[~members])
    assert (~base[members]).any()  # some members had no meter of their own
    m.run()
    assert np.array_equal(m.mastery.meter, base)  # the round is over


@pytest.mark.parametrize(
    ("change", "key", "expect"),
    [
        ("interventions.coach.kind=painting", r"interventions\[0\]\.kind", "expected one of"),
        ("interventions.coach.start_month=500", r"interventions\[0\]\.start_month",
         "within the run"),
        ("interventions.coach.target=loudest", r"interventions\[0\]\.target", "expected one of"),
        ("interventions.coach.every_months=3", r"interventions\[0\]\.every_months",
         "at least months"),
        ("interventions.dashboard.name=coach", r"interventions\[1\]\.name", "duplicate"),
    ],
)  # fmt: skip
def test_a_bad_catalogue_is_refused_before_any_work(tmp_path, capsys, change, key, expect):
    with pytest.raises(ScenarioError, match=key):
        load_scenario(EXAMPLE, [change])
    code = main(["run", EXAMPLE, "--set", change, "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and expect in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()
