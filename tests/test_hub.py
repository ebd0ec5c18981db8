"""The data hub's privacy rules, as properties over arbitrary inputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bt_sim import TransitionModel, load_scenario
from bt_sim.rules import hub

households = st.integers(min_value=1, max_value=60)


@st.composite
def panels(draw):
    n = draw(households)
    n_groups = draw(st.integers(1, 6))
    values = np.array(draw(st.lists(st.floats(0, 1e4), min_size=n, max_size=n)))
    group = np.array(draw(st.lists(st.integers(0, n_groups - 1), min_size=n, max_size=n)))
    include = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    k = draw(st.integers(1, 12))
    return values, group, include, k, n_groups


@settings(max_examples=300, deadline=None)
@given(panels())
def test_never_publishes_a_group_smaller_than_k(panel):
    values, group, include, k, n_groups = panel
    agg = hub.aggregate(values, group, include, k, n_groups)
    true_counts = np.bincount(group[include], minlength=n_groups)
    assert np.all(agg.published == (true_counts >= k))
    assert np.all(agg.count[~agg.published] == 0), "suppressed groups reveal no count"
    assert np.all(np.isnan(agg.mean[~agg.published]))
    for g in np.flatnonzero(agg.published):
        sel = include & (group == g)
        assert agg.count[g] == sel.sum() >= k
        assert np.isclose(agg.mean[g], values[sel].mean())


@settings(max_examples=300, deadline=None)
@given(panels(), st.data())
def test_households_without_consent_never_affect_aggregates(panel, data):
    values, group, include, k, n_groups = panel
    before = hub.aggregate(values, group, include, k, n_groups)
    changed = values.copy()
    outside = ~include
    changed[outside] = data.draw(st.floats(0, 1e6))
    after = hub.aggregate(changed, group, include, k, n_groups)
    assert np.array_equal(before.published, after.published)
    assert np.array_equal(before.count, after.count)
    assert np.allclose(before.mean, after.mean, equal_nan=True)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=200), st.floats(0, 5), st.integers(0, 99))
def test_revocation_only_removes_consent(consent, rate, seed):
    consent = np.array(consent)
    after = hub.revoke(consent, rate, 1.0, np.random.default_rng(seed))
    assert not np.any(after & ~consent), "revoking never grants consent"


def test_peer_comparison_only_in_published_groups_and_grows_with_use():
    agg = hub.Aggregate(np.array([12, 0]), np.array([100.0, np.nan]), np.array([True, False]))
    kpi = np.array([150.0, 50.0, 150.0, 150.0, 100.0])
    group = np.array([0, 0, 1, 0, 0])
    member = np.array([True, True, True, False, True])
    compared, target = hub.peer_comparison(kpi, group, member, agg, 0.02, 1.0)
    assert compared.tolist() == [True, True, False, False, True]
    assert target.tolist() == pytest.approx([0.03, 0.01, 0.0, 0.0, 0.02])


def test_releases_come_at_their_interval_whatever_the_step():
    for dt in (0.25, 0.5, 1.0):
        n = sum(hub.release_due(3.0, t * dt, (t + 1) * dt) for t in range(round(36 / dt)))
        assert n == 12


def test_size_classes():
    assert hub.size_class(np.array([1, 2, 3, 4, 5, 8])).tolist() == [0, 1, 2, 2, 3, 3]
    assert hub.size_class(np.array([1, 2, 3, 4, 5, 8]), 2).tolist() == [0, 1, 1, 1, 1, 1]
    assert hub.size_class(np.array([1, 8]), 1).tolist() == [0, 0]


def _model(*extra):
    sc = load_scenario(
        None,
        [
            "population.households=1500",
            "run.steps=36",
            "collectives.count=3",
            "collectives.tie_rate=0.2",
            *extra,
        ],
    )
    return TransitionModel(sc, seed=5)


def test_in_the_model_revoked_households_leave_every_later_aggregate(monkeypatch):
    """Spy on the hub: whoever revoked is out of every later aggregate until it re-joins."""
    calls = {"consent_before": [], "include": []}
    real_aggregate = hub.aggregate
    model = _model(
        "hub.revoke_rate=0.05", "hub.k=5", "hub.consent_rate=1.0", "collectives.leave_rate=0.0"
    )

    def spy_aggregate(values, group, include, k, n_groups):
        calls["include"].append(include.copy())
        return real_aggregate(values, group, include, k, n_groups)

    monkeypatch.setattr(hub, "aggregate", spy_aggregate)
    revoked = np.zeros(model.population.n, bool)
    for _ in range(36):
        before = model.state.consent.copy()
        seen = len(calls["include"])
        model.step()
        # Consent lost by a member who stayed is a revocation (nobody leaves here).
        revoked |= before & ~model.state.consent & model.state.member
        for include in calls["include"][seen:]:
            assert not np.any(include & revoked), "a revoked household is aggregated"
    assert revoked.sum() > 20, "the scenario revokes often enough to test something"
    assert model.recorder.hub_rows, "and publishes something"
    for row in model.recorder.hub_rows:
        assert row[3] >= 5, "no published group below k"


def test_in_the_model_k_above_every_group_means_no_comparison():
    model = _model("hub.k=100000")
    model.run()
    assert model.recorder.hub_rows == []
    assert model.recorder.overall["compared"].max() == 0.0
