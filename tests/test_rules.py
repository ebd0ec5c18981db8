"""Unit tests of each pure rule against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from bt_sim.rules import collective as coll
from bt_sim.rules import mastery, social


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


def test_full_rate_scales_social_and_goal_push_by_readiness():
    share = np.array([[0.5], [0.5]])
    readiness = np.array([[1.0], [0.0]])
    unmet = np.array([1.0, 1.0])
    rate = social.full_rate(share, readiness, unmet, p=0.01, q=0.2, action_rate=0.05)
    assert rate.ravel().tolist() == pytest.approx([0.01 + 0.1 + 0.05, 0.0])


def test_adopt_respects_eligibility_and_current_adoption():
    rng = np.random.default_rng(0)
    adopted = np.array([[True, False], [False, False]])
    eligible = np.array([[True, False], [True, True]])
    new = social.adopt(adopted, np.ones((2, 2)), eligible, rng)
    assert new.tolist() == [[False, False], [True, True]]


def test_success_visibility():
    v = social.success_visibility(np.array([True, False]), 0.5)
    assert v.tolist() == [1.0, 0.5]


def test_kpi_combines_effects_multiplicatively():
    rng = np.random.default_rng(0)
    log_keep = np.log1p(-np.array([0.1, 0.2], np.float32))
    adopted = np.array([[1, 1], [0, 0]], np.float32)
    k = mastery.kpi(
        np.array([100.0, 100.0], np.float32),
        adopted,
        log_keep,
        np.array([0.0, 0.5], np.float32),
        0.0,
        rng,
    )
    assert k.tolist() == pytest.approx([72.0, 50.0], rel=1e-6)


def test_reflect_failure_lowers_efficacy_and_goal():
    s, e, g = mastery.reflect(
        np.array([0.5]),
        np.array([0.01]),
        np.array([0.0]),
        np.array([0.5]),
        0.2,
        0.1,
        0.02,
        0.02,
        0.5,
    )
    assert not s[0]
    assert e[0] == pytest.approx(0.5 - 0.5 * 0.1 * 0.5)
    assert g[0] == 0.0, "goals never go below zero"


def test_reflect_caps_goal():
    _, _, g = mastery.reflect(
        np.array([0.5]),
        np.array([0.49]),
        np.array([0.6]),
        np.array([1.0]),
        0.2,
        0.1,
        0.02,
        0.02,
        0.5,
    )
    assert g[0] == pytest.approx(0.5)


def test_drop_only_reversible_after_failure():
    rng = np.random.default_rng(0)
    adopted = np.ones((3, 2), bool)
    dropped = mastery.drop(
        adopted,
        np.array([True, False]),
        np.array([True, True, False]),
        np.zeros(3, np.float32),
        rate=1e6,
        dt=1.0,
        rng=rng,
    )
    assert dropped.tolist() == [[True, False], [True, False], [False, False]]


def test_barriers():
    aff = mastery.affordability(np.array([1000.0, 4000.0]), 2000.0, np.array([0.0, 3000.0]), 3000.0)
    assert aff[:, 0].tolist() == [1.0, 1.0]
    assert aff[:, 1].tolist() == pytest.approx([1 / 3, 2 / 3])
    eff = mastery.effort(np.array([0.0, 1.0]), np.array([0.4]))
    assert eff.ravel().tolist() == pytest.approx([0.6, 1.0])


def test_outreach_favours_usual_suspects():
    rng = np.random.default_rng(1)
    income = np.exp(rng.normal(8, 0.5, 5000))
    owner = income > np.median(income)
    prop = coll.outreach_propensity(
        income, owner, np.zeros(5000, bool), np.zeros(5000, bool), bias=1.0
    )
    assert prop.mean() == pytest.approx(1.0, rel=1e-5)
    assert prop[owner].mean() > 2 * prop[~owner].mean()
    flat = coll.outreach_propensity(
        income, owner, np.zeros(5000, bool), np.zeros(5000, bool), bias=0.0
    )
    assert np.allclose(flat, 1.0)


def test_member_tie_share_counts_gatekeepers_more(star):
    a, wdeg = star
    member = np.array([False, True, True, False])
    reach = np.array([1.0, 3.0, 1.0, 1.0], np.float32)
    share = coll.member_tie_share(a, wdeg, member, reach)
    assert share[0] == pytest.approx((3.0 * 1.0 + 1.0 * 0.5) / 1.5)


def test_recruit_only_where_a_collective_is_hosted():
    rng = np.random.default_rng(0)
    joins = coll.recruit(
        np.array([False, False, True]),
        np.array([True, False, True]),
        np.ones(3, np.float32),
        np.zeros(3, np.float32),
        1e6,
        0.0,
        1.0,
        rng,
    )
    assert joins.tolist() == [True, False, False]


def test_dialogue_and_fellow_member_share():
    e = coll.dialogue(np.array([0.5, 0.5], np.float32), np.array([True, False]), 1e6, 1.0)
    assert e.tolist() == pytest.approx([1.0, 0.5])
    share = coll.fellow_member_share(
        np.array([0, 0, 0, 1]), np.array([[1.0], [0.0], [1.0], [1.0]]), 2
    )
    # Each member sees the others only: 0 sees (0 + 1) / 2, 1 sees (1 + 1) / 2.
    assert share.ravel().tolist() == [0.5, 1.0, 0.5, 0.0]
