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
    visited = m.interventions.kinds[0].visited
    assert visited.sum() == 3 * 2 * 6  # months 6-12, two a month, three collectives
    assert m.population.disadvantaged[visited].all()
    assert (m.collectives.of[visited] >= 0).all()
    assert (m.state.efficacy[visited] > before[visited]).mean() > 0.9


def test_an_intervention_without_the_hours_is_not_carried_out():
    sc = load_scenario(EXAMPLE, ["collectives.volunteer_hours=0", "run.steps=24"])
    m = TransitionModel(sc, seed=3)
    m.run()
    s = m.summary()
    assert s["interventions:coach:visits"] == 0 and not m.interventions.kinds[0].visited.any()
    assert s["interventions:coach:refused_months"] == 3 * 18  # months 6-24
    assert s["interventions:dashboard:refused_months"] == 3 * 24
    assert s["interventions:dashboard:carried_months"] == 0
    ts = m.timeseries()
    assert ts[ts["variable"] == "interventions:refused"]["value"].max() == 3 * 5  # all five


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


def test_the_default_purchase_is_the_joint_action_campaign():
    """The default catalogue's purchase picks a behaviour at months 6, 12, ... and runs in
    every step after month 6 in every collective; none before."""
    m = TransitionModel(load_scenario(None, ["run.steps=14"]), seed=5)
    (buy,) = m.interventions.purchases
    assert buy.x.name == "purchase" and buy.x.kind == "collective_purchase"
    picks = []
    while m.running:
        before = buy.focus.copy()
        m.step()
        ran = buy.running.copy()
        assert ran.all() == (m.month > 6) and ran.any() == (m.month > 6)
        if not np.array_equal(before, buy.focus) or m.month in (6, 12):
            picks.append(m.month)
    assert picks[:1] == [6] and set(picks) <= {6, 12}
    assert (buy.focus >= 0).all()
    joint, focus, discount = m.interventions.joint_action()
    assert np.array_equal(focus, buy.focus) and (discount == 0.3).all()
    progress = m.collectives.state.progress
    np.testing.assert_array_equal(joint, 0.05 * (1.0 - progress))


def test_a_purchase_of_a_named_behaviour():
    m = TransitionModel(
        load_scenario(None, ["run.steps=8", "interventions.purchase.behaviour=insulation"]), 6
    )
    m.run()
    b = m.behaviour_names.index("insulation")
    assert (m.interventions.purchases[0].focus == b).all()


def test_a_gatekeeper_programme_reaches_hard_to_reach_households_while_it_runs():
    off = [f"interventions.{n}.enabled=false" for n in ("coach", "dashboard", "purchase", "event")]
    sc = load_scenario(EXAMPLE, ["run.steps=20", *off])
    m = TransitionModel(sc, seed=7)
    colls, gk = m.collectives, m.interventions
    base_p, base_r = gk.base_propensity.copy(), gk.base_reach.copy()
    m.run(4)  # months 3-15: the first round
    hosted = colls.of >= 0
    boost = hosted & gk.hard
    np.testing.assert_allclose(colls.propensity[boost], 3 * base_p[boost], rtol=1e-6)
    assert np.array_equal(colls.propensity[~boost], base_p[~boost])
    key = hosted & m.population.gatekeeper
    np.testing.assert_allclose(colls.reach[key], 3 * base_r[key], rtol=1e-6)
    m.run()  # the round is over at month 15
    assert np.array_equal(colls.propensity, base_p) and np.array_equal(colls.reach, base_r)
    assert m.summary()["interventions:gatekeepers:carried_months"] == 3 * 12


def test_the_cheapest_first_carries_out_more_when_hours_are_short():
    """A budget of 5 volunteers (the founders: none recruited or renewed) x 1.7 hours = 8.5 hours
    a month; in month 7 four entries run:
    the coach (2 visits, 6 hours), the dashboard (4), the programme (6) and the purchase (4).
    In catalogue order only the coach fits; the cheapest first fits the dashboard and the
    purchase."""
    refused = {}
    for rule in ("plan", "cheapest"):
        sc = load_scenario(EXAMPLE, ["run.steps=7", "collectives.volunteer_hours=1.7",
                                     "collectives.volunteer_share=0",
                                     "collectives.celebration_volunteers=0",
                                     f"collectives.choice={rule}"])  # fmt: skip
        m = TransitionModel(sc, seed=8)
        m.run()
        want = {"plan": [6.0] * 3, "cheapest": [8.0] * 3}[rule]
        assert m.interventions.spent.tolist() == want
        assert m.interventions.running.tolist() == ([1] * 3 if rule == "plan" else [2] * 3)
        refused[rule] = m.timeseries().query("variable == 'interventions:refused'")["value"]
    assert refused["plan"].iloc[-1] == 9 and refused["cheapest"].iloc[-1] == 6


def test_per_collective_outputs_are_researcher_only_and_match_the_state():
    m = TransitionModel(load_scenario(EXAMPLE, ["run.steps=10"]), seed=9)
    m.run()
    ts = m.timeseries()
    assert "collective_truth" in ts.attrs["researcher_only_scopes"]
    mine = ts[ts["scope"] == "collective_truth"]
    last = mine[mine["step"] == 10].set_index(["entity", "variable"])["value"]
    units = [str(int(nb)) for nb in m.collectives.nbhd]
    for c, unit in enumerate(units):
        assert last[(unit, "capacity:volunteers")] == m.capacity.volunteers[c]
        assert last[(unit, "capacity:state")] == m.capacity.status[c]
        assert last[(unit, "interventions:hours")] == m.interventions.spent[c]
        assert last[(unit, "interventions:running")] == 4  # all four entries in month 10
        inside = m.collectives.of == c
        members = inside & m.state.member
        for g, name, flag in (
            (0, "disadvantaged", m.population.disadvantaged),
            (1, "senior", m.population.age_group == 2),
            (2, "renter", ~m.population.owner),
        ):
            want = flag[members].mean() / flag[inside].mean()
            got = last[(unit, f"collectives:representation:{name}")]
            assert abs(got - want) < 1e-12, (g, name)
    # the hours of month 10: 2 visits x 3 hours + 4 + 6 + 4
    assert (m.interventions.spent == 20).all()


@pytest.mark.parametrize(
    ("change", "key", "expect"),
    [
        ("collectives.joint_rate=0.1", r"collectives\.joint_rate", "pull_rate"),
        ("collectives.campaign_months=3", r"collectives\.campaign_months", "every_months"),
        ("interventions.purchase.behaviour=solar", r"interventions\[3\]\.behaviour",
         "a behaviour of the scenario"),
        ("interventions.gatekeepers.join_gain=-1", r"interventions\[2\]\.join_gain",
         "expected a value in"),
        ("collectives.choice=loudest", r"collectives\.choice", "expected one of"),
        ("interventions.nosuch.kind=energy_coach", r"interventions\.nosuch",
         "no intervention 'nosuch'"),
    ],
)  # fmt: skip
def test_moved_keys_and_bad_purchases_are_refused(tmp_path, capsys, change, key, expect):
    with pytest.raises(ScenarioError, match=key):
        load_scenario(EXAMPLE, [change])
    code = main(["run", EXAMPLE, "--set", change, "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and expect in err and "Traceback" not in err, err
    assert not (tmp_path / "out").exists()


def test_outreach_takes_the_hours_the_interventions_leave():
    """With 10 volunteers' worth of hours short, outreach slows in proportion: the outreach
    propensity of a collective's households is the share of collectives.outreach_hours that
    the hours left after its interventions cover."""
    sc = load_scenario(EXAMPLE, ["run.steps=10", "collectives.outreach_hours=50"])
    m = TransitionModel(sc, seed=10)
    m.run(9)
    budget = m.capacity.volunteers * m.config.collectives.volunteer_hours  # as the step sees it
    m.step()
    iv, colls = m.interventions, m.collectives
    left = budget - iv.spent
    np.testing.assert_allclose(iv.outreach, np.minimum(left, 50))
    share = np.clip(left / 50, 0, 1)
    hosted = colls.of >= 0
    gain = np.where(iv.hard & hosted, iv.gain[np.maximum(colls.of, 0)], 1.0)
    want = iv.base_propensity * gain * np.where(hosted, share[np.maximum(colls.of, 0)], 1.0)
    np.testing.assert_allclose(colls.propensity, want, rtol=1e-6)
    assert (share < 1).any()  # the test is about hours falling short


@pytest.mark.parametrize("rule", ["random", "disadvantaged", "degree"])
def test_the_outreach_rule_weights_whom_outreach_reaches(rule):
    m = TransitionModel(load_scenario(None, [f"collectives.outreach_rule={rule}"]), seed=11)
    p = m.collectives.propensity
    assert abs(p.mean() - 1) < 1e-5
    if rule == "random":
        assert (p == 1).all()
    elif rule == "disadvantaged":
        dis = m.population.disadvantaged
        assert p[dis].min() > p[~dis].max()
    else:
        deg = m.network.degree()
        assert (np.diff(p[np.argsort(deg, kind="stable")]) >= -1e-6).all()  # more ties, more
        assert p[deg == deg.max()].min() > p[deg == deg.min()].max()
    # the usual_suspects founder rule keeps the usual suspects' weights
    base = TransitionModel(load_scenario(None), seed=11)
    assert np.array_equal(base.state.member, m.state.member)


def test_money_spent_is_recorded_per_entry_and_step():
    """The example's event costs 150 EUR a month while a round runs (one month a year from
    month 2) in each of three collectives: 3 x 150 in months 2-3 and 14-15 of a 20-month run."""
    m = TransitionModel(load_scenario(EXAMPLE, ["run.steps=20"]), seed=12)
    m.run()
    s = m.summary()
    assert s["interventions:event:euros"] == 2 * 3 * 150
    assert s["interventions:coach:euros"] == 0
    ts = m.timeseries()
    euros = ts[ts["variable"] == "interventions:euros"]["value"].to_numpy()
    assert euros.sum() == 2 * 3 * 150 and (euros[[3, 15]] == 450).all()


@pytest.mark.parametrize("rule", ["plan", "cheapest"])
def test_the_compiled_payment_equals_the_reference(rule):
    """:func:`pay` against :func:`decide` on random costs, budgets and stalls."""
    from bt_sim.components.interventions import decide, pay

    rng = np.random.default_rng(13)
    for _ in range(200):
        e, k = rng.integers(0, 6), rng.integers(1, 8)
        costs = rng.choice([0.0, 2.0, 3.0, 4.0, 6.0, 12.0], size=(e, k))
        budget = rng.uniform(0, 20, k)
        active = rng.random(k) < 0.8
        b1, b2 = budget.copy(), budget.copy()
        want = decide(list(costs), b1, active, rule)
        ok = np.zeros((e, k), bool)
        spent, running, done = np.zeros(k), np.zeros(k, np.int64), np.zeros(e, np.int64)
        pay(costs, b2, active, rule == "cheapest", ok, spent, running, done)
        assert np.array_equal(ok, np.array(want).reshape(e, k))
        np.testing.assert_allclose(b1, b2, rtol=0, atol=1e-12)
        np.testing.assert_allclose(spent, (costs * ok).sum(axis=0))
        assert np.array_equal(running, ok.sum(axis=0)) and np.array_equal(done, ok.sum(axis=1))
