"""Unit tests of each pure rule against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from bt_sim.rules import collective as coll
from bt_sim.rules import kpi, mastery, social


@pytest.fixture
def star():
    """Household 0 tied to 1 (weight 1) and 2 (weight 0.5); 3 isolated."""
    rows, cols = np.array([0, 1, 0, 2]), np.array([1, 0, 2, 0])
    w = np.array([1.0, 1.0, 0.5, 0.5], np.float32)
    a = sp.csr_array((w, (rows, cols)), shape=(4, 4))
    return a, np.asarray(a.sum(axis=1), np.float32)


def test_neighbour_share_is_tie_weighted(star):
    a, wdeg = star
    x = np.array([[0, 1], [1, 1], [0, 1], [1, 1]], np.float32)
    share = social.neighbour_share(a, wdeg, x)
    assert share[0].tolist() == pytest.approx([1 / 1.5, 1.0])
    assert share[1].tolist() == [0.0, 1.0]
    assert share[3].tolist() == [0.0, 0.0], "isolated households see nothing"


def test_neighbour_share_complete_graph_excludes_self():
    x = np.array([[1.0], [0.0], [1.0], [0.0]], np.float32)
    share = social.neighbour_share(None, np.full(4, 3.0, np.float32), x)
    assert share.ravel().tolist() == pytest.approx([1 / 3, 2 / 3, 1 / 3, 2 / 3])


def test_neighbour_count(star):
    a, _ = star
    pattern = a.copy()
    pattern.data[:] = 1
    x = np.array([[0], [1], [1], [1]], np.float32)
    assert social.neighbour_count(pattern, x).ravel().tolist() == [2, 0, 0, 0]
    assert social.neighbour_count(None, x).ravel().tolist() == [3, 2, 2, 2]


def test_bass_hazard_is_the_discrete_time_hazard():
    h = social.bass_hazard(np.array([0.0, 0.5]), p=0.01, q=0.4, dt=2.0)
    assert h.tolist() == pytest.approx([1 - np.exp(-0.02), 1 - np.exp(-0.42)])


def test_threshold_and_count_rules():
    theta = np.array([0.2, 0.5])
    share = np.array([[0.2], [0.49]])
    assert social.threshold_hazard(share, theta, 0.0, 1.0).ravel().tolist() == [1.0, 0.0]
    count = np.array([[1.0], [2.0], [3.0]])
    assert social.count_hazard(count, 2, 0.0, 1.0).ravel().tolist() == [0.0, 1.0, 1.0]


def test_full_rate_scales_social_and_goal_pull_by_readiness_and_efficacy():
    share = np.array([[0.5], [0.5]])
    ready = np.array([[1.0], [0.0]])
    unmet = np.array([1.0, 1.0])
    rate = social.full_rate(share, ready, np.array([0.5, 0.5]), unmet, 0.01, 0.2, 0.05)
    assert rate.ravel().tolist() == pytest.approx([0.5 * (0.01 + 0.25 * 0.5), 0.0])


def test_sigmoid_response_has_a_critical_mass():
    s = np.array([0.0, 0.05, 0.25, 0.5, 1.0])
    f = social.response(s, "sigmoid", 0.25, 4.0)
    assert f[0] == 0.0 and f[-1] == pytest.approx(1.0)
    assert f[1] < 0.01 * 0.05 * 20, "a few adopting contacts pull far less than linearly"
    assert f[3] > s[3], "a majority pulls more than linearly"
    assert np.all(np.diff(f) > 0)
    assert social.response(s, "linear", 0.25, 4.0).tolist() == s.tolist()


def test_adopt_respects_eligibility_and_current_adoption():
    adopted = np.array([[True, False], [False, False]])
    eligible = np.array([[True, False], [True, True]])
    new = social.adopt(adopted, np.ones((2, 2)), eligible, np.full((2, 2), 0.5))
    assert new.tolist() == [[False, False], [True, True]]


def test_role_weights_steer_towards_proven_behaviours_and_key_figures():
    success = np.array([True, True, False])
    proven = np.array([[True, False], [False, False], [False, False]])
    adopted = np.array([[True, True], [True, False], [True, True]])
    key = np.array([False, True, False])
    v, r = social.role_weights(success, proven, adopted, key, 1.0, 3.0)
    assert r.tolist() == [1.0, 3.0, 0.0]
    assert v.tolist() == [[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]]
    v0, r0 = social.role_weights(success, proven, adopted, key, 0.0, 1.0)
    assert r0.tolist() == [1.0, 1.0, 1.0] and np.array_equal(v0, adopted)
    assert np.all(v <= r[:, None] + 1e-7), "a share never exceeds 1"


def test_kpi_combines_effects_multiplicatively():
    log_keep = np.log1p(-np.array([0.1, 0.2]))
    adopted = np.array([[1, 1], [0, 0]], np.float64)
    k = kpi.measure(
        np.array([100.0, 100.0]),
        adopted,
        log_keep,
        np.array([0.0, 0.5]),
        np.array([0.0, 0.0]),
        np.zeros(2),
        0.0,
    )
    assert k.tolist() == pytest.approx([72.0, 50.0], rel=1e-6)


def test_kpi_noise_keeps_its_spread_and_mean_whatever_the_step():
    rng = np.random.default_rng(0)
    for dt in (0.25, 1.0, 3.0):
        keep, scale, shift = kpi.noise_coefficients(0.1, dt)
        x = rng.standard_normal(200_000) * 0.1
        for _ in range(5):
            x = keep * x + scale * rng.standard_normal(x.size)
        # 200,000 draws: the sd's standard error is 0.1 / sqrt(400,000) = 0.00016.
        assert x.std() == pytest.approx(0.1, abs=0.001)
        assert np.exp(x - shift).mean() == pytest.approx(1.0, abs=0.002)


def _reflect(perceived, goal, efficacy=0.5, effort=0.2, fails=0, patience=2):
    return mastery.reflect(
        np.array([perceived]),
        np.array([goal]),
        np.array([efficacy]),
        np.array([effort]),
        np.array([fails]),
        np.array([1.0]),
        np.array([1.0]),
        0.2,
        0.1,
        4.0,
        0.01,
        0.02,
        patience,
        0.05,
        0.5,
    )


def test_reflect_success_raises_efficacy_and_goal_and_relaxes_effort():
    ok, e, effort, g, f = _reflect(0.12, 0.1)
    assert ok[0] and e[0] == pytest.approx(0.6) and g[0] == pytest.approx(0.11)
    assert effort[0] == pytest.approx(0.2 - 4.0 * 0.02) and f[0] == 0


def test_reflect_failure_lowers_efficacy_holds_the_goal_then_lowers_it():
    ok, e, effort, g, f = _reflect(0.0, 0.1)
    assert not ok[0] and e[0] == pytest.approx(0.45)
    assert g[0] == pytest.approx(0.1), "one failure does not move the goal"
    assert f[0] == 1 and effort[0] == pytest.approx(0.6), "a gap raises effort"
    ok, e, effort, g, f = _reflect(0.0, 0.06, fails=1)
    assert g[0] == pytest.approx(0.05), "the second failure lowers it, never below the floor"
    assert f[0] == 0


def test_reflect_caps_goal_and_effort():
    _, _, effort, g, _ = _reflect(0.6, 0.495)
    assert g[0] == pytest.approx(0.5)
    _, _, effort, _, _ = _reflect(-1.0, 0.5)
    assert effort[0] == 1.0


def test_checks_come_once_per_cycle_whatever_the_step():
    offsets = np.random.default_rng(1).random(1000) * 3.0
    for dt in (0.25, 0.5, 1.0, 3.0):
        counts = np.zeros(1000, int)
        for t in range(round(36 / dt)):
            counts[mastery.checks_due(offsets, 3.0, t * dt, (t + 1) * dt)] += 1
        assert (counts == 12).all()
        nxt = 3.0 - offsets
        for t in range(round(36 / dt)):
            assert np.array_equal(
                mastery.advance_checks(nxt, 3.0, (t + 1) * dt),
                mastery.checks_due(offsets, 3.0, t * dt, (t + 1) * dt),
            )


def test_drop_only_droppable_after_failure():
    adopted = np.ones((3, 2), bool)
    droppable = np.tile(np.array([True, False]), (3, 1))
    u = np.zeros(6)
    dropped = mastery.drop(
        adopted,
        droppable,
        np.array([True, True, False]),
        np.zeros(3),
        np.zeros(3),
        np.zeros((3, 2)),
        1.0,
        0.5,
        u,
    )
    assert dropped.tolist() == [[True, False], [True, False], [False, False]]
    kept = mastery.drop(
        adopted,
        droppable,
        np.array([True, True, False]),
        np.zeros(3),
        np.ones(3),
        np.zeros((3, 2)),
        1.0,
        0.5,
        u,
    )
    assert not kept.any(), "reliable feedback keeps behaviours that deliver"


def test_barriers():
    ready = social.readiness(
        np.array([1500.0, 6000.0]),
        np.array([0.0, 1.0]),
        np.array([0.0, 3000.0]),
        np.array([0.4, 0.0]),
        np.ones((2, 2), bool),
    )
    assert ready[:, 0].tolist() == pytest.approx([0.6, 1.0])
    assert ready[:, 1].tolist() == pytest.approx([1 / 3, 2 / 3])


def _population(n=5000, seed=1):
    from bt_sim.population import draw_population
    from bt_sim.scenario import PopulationConfig

    return draw_population(PopulationConfig(households=n), np.random.default_rng(seed))


def test_outreach_favours_usual_suspects():
    from bt_sim.scenario.schema import CollectivesConfig

    pop = _population()
    prop = coll.outreach_propensity(pop, CollectivesConfig(usual_suspects_bias=1.0))
    assert prop.mean() == pytest.approx(1.0, rel=1e-5)
    assert prop[pop.owner].mean() > 2 * prop[~pop.owner].mean()
    flat = coll.outreach_propensity(pop, CollectivesConfig(usual_suspects_bias=0.0))
    assert np.allclose(flat, 1.0)
    senior = pop.age_group == 2
    older = coll.outreach_propensity(pop, CollectivesConfig(outreach_weight_senior=2.0))
    assert older[senior].mean() > 1.5 * older[~senior].mean(), "outreach by age is a key"


def test_member_tie_shares_count_gatekeepers_more_and_split_by_collective(star):
    a, wdeg = star
    member = np.array([False, True, True, False])
    reach = np.array([1.0, 3.0, 1.0, 1.0], np.float32)
    own, other = coll.member_tie_shares(a, wdeg, member, reach, np.zeros(4, np.int64))
    assert own[0] == pytest.approx((3.0 * 1.0 + 1.0 * 0.5) / 1.5) and other[0] == 0
    own, other = coll.member_tie_shares(a, wdeg, member, reach, np.array([0, 1, 0, 0]))
    assert own[0] == pytest.approx(0.5 / 1.5) and other[0] == pytest.approx(3.0 / 1.5)


def test_members_who_get_value_stay():
    value = coll.member_value(np.array([True, False]), np.array([True, False]), np.array([1.0, 0]))
    assert value.tolist() == [1.0, 0.0]


def test_campaign_picks_the_behaviour_that_saves_most():
    ready = np.array([[1.0, 0.5], [1.0, 0.5], [1.0, 1.0]])
    open_pairs = np.array([[True, True], [False, True], [True, True]])
    focus = coll.campaign_choice(ready, open_pairs, np.array([0.05, 0.3]), np.array([0, 0, 1]), 3)
    assert focus.tolist() == [1, 1, -1]


def test_dialogue_and_fellow_member_share():
    e = coll.dialogue(np.array([0.5, 0.5], np.float32), np.array([True, False]), 1e6, 1.0)
    assert e.tolist() == pytest.approx([1.0, 0.5])
    share = coll.fellow_member_share(
        np.array([0, 0, 0, 1]), np.array([[1.0], [0.0], [1.0], [1.0]]), 2
    )
    # Each member sees the others only: 0 sees (0 + 1) / 2, 1 sees (1 + 1) / 2.
    assert share.ravel().tolist() == [0.5, 1.0, 0.5, 0.0]
