"""The Mesa model: schedule, agents as views, switches for each mechanism."""

from __future__ import annotations

import mesa
import numpy as np
import pytest

from bt_sim import TransitionModel, load_scenario
from tests.conftest import SCENARIOS


def model(*extra, seed=1):
    return TransitionModel(
        load_scenario(
            SCENARIOS / "default.toml", ["population.households=600", "run.steps=24", *extra]
        ),
        seed=seed,
    )


def test_is_a_mesa_model_that_counts_steps_and_stops():
    m = model()
    assert isinstance(m, mesa.Model)
    m.run_model()
    assert m.steps == 24 and not m.running
    assert m.recorder.steps_done == 24


def test_households_are_agent_views_onto_the_arrays():
    m = model()
    m.run(5)
    h = m.household(10)
    assert isinstance(h, mesa.Agent)
    assert h is m.household(10), "one view per household"
    assert h.efficacy == pytest.approx(float(m.state.efficacy[10]))
    assert list(h.adopted) == list(m.behaviour_names)
    assert set(h.contacts()) == set(m.network.neighbours(10).tolist())
    agents = m.household_agents([1, 2, 3])
    assert len(agents) == 3
    assert sorted(agents.get("index")) == [1, 2, 3]
    with pytest.raises(IndexError):
        m.household(600)


def test_initial_adoption_is_exact_and_eligibility_holds():
    m = model("behaviours.insulation.initial_adoption=0.1")
    j = m.behaviour_names.index("insulation")
    owners = m.population.owner
    assert m.state.adopted[:, j].sum() == round(0.1 * owners.sum())
    m.run()
    assert not np.any(m.state.adopted[~owners, j]), "only owners insulate"


def test_irreversible_behaviours_are_never_dropped():
    m = model("mastery.drop_chance=1", "mastery.perception_noise=2")
    j = m.behaviour_names.index("draught_proofing")
    before = m.state.adopted[:, j].copy()
    m.run()
    assert np.all(m.state.adopted[before, j])


def test_reversible_behaviours_are_dropped_after_failure():
    m = model(
        "mastery.drop_chance=1",
        "mastery.perception_noise=2",
        "social.norm_support=0",
        "mastery.goal_initial=0.5",
        "mastery.goal_step_down=0",
        "social.p=0",
        "social.q=0",
        "mastery.action_rate=0",
        "collectives.count=0",
    )
    j = m.behaviour_names.index("lower_thermostat")
    start = m.state.adopted[:, j].sum()
    m.run()
    assert start > 0 and m.state.adopted[:, j].sum() < 0.5 * start


def test_without_collectives_nobody_is_a_member():
    m = model("collectives.count=0")
    m.run()
    assert not m.state.member.any() and not m.state.consent.any()
    assert m.summary()["members"] == 0


def test_collectives_grow_and_members_stay_in_their_neighbourhoods():
    m = model("collectives.count=2", "collectives.tie_rate=0.5")
    start = m.state.member.sum()
    m.run()
    assert m.state.member.sum() > start
    assert np.all(m.collectives.of[m.state.member] >= 0)
    assert set(np.unique(m.population.neighbourhood[m.state.member])) <= set(m.collectives.nbhd)


def test_mastery_off_freezes_efficacy_outside_collectives():
    m = model("mastery.enabled=false", "collectives.count=0")
    e0 = m.state.efficacy.copy()
    m.run()
    assert np.array_equal(m.state.efficacy, e0)


def mean_efficacy_move(m):
    """Mean absolute change of self-efficacy at a check among households with hub feedback."""
    moves = []
    for _ in range(24):
        before = m.state.efficacy.copy()
        m.step()
        checked = m.state.cycle_time == 0  # the cycle restarts at a check
        hub_fed = (m.mastery.feedback_level() == 2) & checked
        if hub_fed.any():
            moves.append(np.abs(m.state.efficacy - before)[hub_fed].mean())
    assert len(moves) > 12, "most steps publish a peer group"
    return float(np.mean(moves))


def test_hub_feedback_speeds_up_learning():
    # Dialogue and celebrations also move members' efficacy; switch them off to isolate
    # reflection.
    common = (
        "hub.consent_rate=1.0",
        "hub.k=5",
        "collectives.dialogue_gain=0",
        "collectives.celebration_gain=0",
        "collectives.tie_rate=0.5",
    )
    fast = mean_efficacy_move(model("mastery.learning_hub=1.0", *common, seed=3))
    slow = mean_efficacy_move(model("mastery.learning_hub=0.1", *common, seed=3))
    # Reflection moves efficacy in proportion to the learning speed (1.0 vs 0.1).
    assert fast > 5 * slow


def test_summary_outcomes_are_consistent():
    m = model()
    m.run()
    s = m.summary()
    assert s["any_adoption"] >= max(v for k, v in s.items() if k.startswith("final_adoption:"))
    assert s["inclusivity_gap"] == pytest.approx(s["adoption_other"] - s["adoption_disadvantaged"])
    assert 0 <= s["member_share"] <= 1
    assert s["kpi_change"] < 0, "adoption lowers the KPI"


def test_running_past_the_planned_steps_keeps_recording():
    m = model("run.steps=3")
    m.run()
    m.step()
    m.step()
    assert m.timeseries()["step"].max() == 5


def test_time_step_sets_months():
    m = TransitionModel(
        load_scenario(
            SCENARIOS / "default.toml", ["population.households=300", "run.steps=6", "run.dt=0.5"]
        )
    )
    m.run()
    assert m.timeseries()["month"].max() == 3.0


def test_the_step_is_a_plan_of_phases_that_a_new_mechanism_extends():
    from bt_sim.phases import Phase

    m = model("run.steps=6")
    assert [p.name for p in m.phases] == [
        "found",
        "organisation",
        "landscape",
        "municipality",
        "interventions",
        "regime",
        "adopt",
        "measure",
        "hub",
        "reflect",
        "purchase",
        "collectives",
        "capacity",
        "record",
    ]
    calls = []

    def subsidy(mod):
        """Subsidy: note the month."""
        calls.append(mod.month)

    m.insert_phase(Phase("subsidy", subsidy), before="adopt")
    m.insert_phase(Phase("audit", lambda mod: None), after="record")
    names = m.plan()["phase"].tolist()
    assert names.index("subsidy") == names.index("adopt") - 1 and m.phases[-1].name == "audit"
    with pytest.raises(ValueError, match="already in the plan"):
        m.insert_phase(Phase("adopt", subsidy))
    with pytest.raises(ValueError, match="no phase named"):
        m.insert_phase(Phase("x", subsidy), before="nothing")
    m.run(profile=True)
    assert calls == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert set(m.phase_seconds) >= {"subsidy", "adopt", "record"}
    m.remove_phase("audit")
    assert "audit" not in m.plan()["phase"].tolist()


def test_a_seed_and_replicate_mean_the_same_as_on_the_command_line():
    from bt_sim.runner import run_scenario

    sc = load_scenario(None, ["population.households=300", "run.steps=10"])
    result = run_scenario(sc, replicates=3, seed=11)
    direct = TransitionModel(sc, seed=11, replicate=2)
    direct.run()
    row = result.summary.iloc[2]
    assert row["spawn_key"] == direct.summary()["spawn_key"] == "11:2"
    assert row["kpi_saving"] == direct.summary()["kpi_saving"]
    first = TransitionModel(sc, seed=11)
    first.run()
    assert first.summary()["kpi_saving"] == result.summary.iloc[0]["kpi_saving"]
