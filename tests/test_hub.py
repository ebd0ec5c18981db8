"""The data hub's privacy rules, as properties over arbitrary inputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bt_sim import TransitionModel, draws, load_scenario
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
@given(
    st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=200),
    st.floats(0, 5),
    st.integers(0, 99),
    st.booleans(),
)
def test_revocation_only_removes_consent_and_opting_in_only_adds_it(rows, rate, seed, revoking):
    member = np.array([m for m, _ in rows])
    consent = np.array([c for _, c in rows])
    trust = np.random.default_rng(seed).random(member.size).astype(np.float32)
    after = consent.copy()
    peer = np.zeros(member.size, np.float32)
    exponents = (-rate, 0.0) if revoking else (0.0, -rate)
    hub.consent_step(
        member, after, trust, peer, 1.0, *exponents, np.uint64(seed), np.uint64(seed + 1), 3, 0,
        False, np.array([[0, member.size]], np.int64),
    )  # fmt: skip
    assert not np.any(after & ~member), "only members consent"
    if revoking:
        assert not np.any(after & ~consent), "revoking never grants consent"
    else:
        assert not np.any(consent & member & ~after), "opting in never takes consent away"


def test_peer_comparison_only_in_published_groups_and_grows_with_use():
    agg = hub.Aggregate(np.array([12, 0]), np.array([100.0, np.nan]), np.array([True, False]))
    kpi = np.array([150.0, 50.0, 150.0, 150.0, 100.0])
    group = np.array([0, 0, 1, 0, 0])
    member = np.array([True, True, True, False, True])
    compared, target = hub.peer_comparison(kpi, group, member, agg, 0.02, 1.0)  # any "use"
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


def test_in_the_model_a_revoking_household_is_absent_from_every_later_release():
    """Whoever revoked is in no roster of a later release (until it consents again)."""
    model = _model(
        "hub.revoke_rate=0.1",
        "hub.k=5",
        "hub.consent_rate=1.0",
        "hub.opt_in_rate=0",
        "collectives.leave_rate=0.0",
    )
    revoked = np.zeros(model.population.n, bool)
    for _ in range(36):
        before = model.state.consent.copy()
        seen = len(model.hub.releases)
        model.step()
        # Consent lost by a member who stayed is a revocation (nobody leaves here, nobody
        # consents again with hub.opt_in_rate = 0).
        revoked |= before & ~model.state.consent & model.state.member
        for _, _, roster in model.hub.releases[seen:]:
            assert not np.any(revoked[roster]), "a revoked household is in a release"
    assert revoked.sum() > 20, "the scenario revokes often enough to test something"
    assert model.recorder.hub_rows, "and publishes something"
    for row in model.recorder.hub_rows:
        assert row[3] >= 5, "no published group below k"


def test_in_the_model_k_above_every_group_means_no_comparison():
    model = _model("hub.k=100000")
    model.run()
    assert model.recorder.hub_rows == []
    assert model.recorder.overall["compared"].max() == 0.0


def test_the_roster_is_frozen_between_releases():
    """Joins, leaves, consents and revocations between releases change no published row:
    releases come only every report_months, and each row's roster is the consenting members
    at that release."""
    model = _model("hub.k=5", "hub.report_months=6", "collectives.tie_rate=0.5")
    model.run()
    steps = {step for step, _, _ in model.hub.releases}
    assert steps and all(step % 6 == 0 for step in steps)
    assert {r[0] for r in model.recorder.hub_rows} <= steps


def test_trust_drives_consent():
    """Members who get value from releases trust the hub more; with trust, non-consenting
    members consent later, and the consent share rises with trust."""
    common = ("hub.k=5", "collectives.tie_rate=0.5", "hub.consent_rate=0.3")
    low = _model("hub.opt_in_rate=0", *common)
    high = _model("hub.opt_in_rate=0.5", *common)
    low.run()
    high.run()
    members = high.state.member
    assert high.state.consent[members].mean() > low.state.consent[low.state.member].mean() + 0.2
    trust = high.state.trust[members]
    assert trust.min() >= 0 and trust.max() <= 1 and trust.std() > 0, "trust moves, in 0..1"


@st.composite
def release_histories(draw):
    """A sequence of rosters of one group (random consent histories)."""
    pool = draw(st.integers(5, 40))
    steps = draw(st.integers(1, 12))
    rosters = []
    current = set(draw(st.sets(st.integers(0, pool - 1))))
    for _ in range(steps):
        flips = draw(st.sets(st.integers(0, pool - 1), max_size=6))
        current = current ^ flips
        rosters.append(np.array(sorted(current), dtype=np.int64))
    return rosters, draw(st.integers(1, 12)), draw(st.integers(1, 6))


@settings(max_examples=300, deadline=None)
@given(release_histories())
def test_no_release_below_k_or_with_a_change_below_the_minimum(history):
    """Whatever the consent history, no published roster is smaller than k, and any two
    published rosters of a group differ by no household or by at least min_change."""
    rosters, k, min_change = history
    published: list[np.ndarray] = []
    for roster in rosters:
        if hub.may_release(roster, published, k, min_change):
            published.append(roster)
    for i, a in enumerate(published):
        assert a.size >= k
        for b in published[:i]:
            d = hub.roster_change(a, b)
            assert d == 0 or d >= min_change


scenarios = st.fixed_dictionaries(
    {
        "k": st.integers(5, 15),
        "min_change": st.integers(1, 5),
        "report": st.sampled_from([1, 2, 3]),
        "epsilon": st.sampled_from([0.0, 1.0]),
        "rounding": st.sampled_from([1, 5]),
        "revoke": st.sampled_from([0.0, 0.05, 0.3]),
        "opt_in": st.sampled_from([0.0, 0.2]),
        "seed": st.integers(0, 10_000),
    }
)


@settings(max_examples=12, deadline=None)
@given(scenarios)
def test_in_random_scenarios_no_release_breaks_the_rules(p):
    sc = load_scenario(
        None,
        [
            "population.households=600",
            "population.neighbourhoods=3",
            "run.steps=30",
            "collectives.count=2",
            "collectives.tie_rate=0.5",
            "collectives.outreach_rate=0.02",
            f"hub.k={p['k']}",
            f"hub.min_change={p['min_change']}",
            f"hub.report_months={p['report']}",
            f"hub.epsilon={p['epsilon']}",
            f"hub.count_rounding={p['rounding']}",
            f"hub.revoke_rate={p['revoke']}",
            f"hub.opt_in_rate={p['opt_in']}",
        ],
    )
    model = TransitionModel(sc, seed=p["seed"])
    model.run()
    by_group: dict[int, list[np.ndarray]] = {}
    for step, g, roster in model.hub.releases:
        assert step % p["report"] == 0
        assert roster.size >= p["k"]
        assert np.all(model.hub.group[roster] == g)
        for past in by_group.get(g, []):
            d = hub.roster_change(roster, past)
            assert d == 0 or d >= p["min_change"]
        by_group.setdefault(g, []).append(roster)
    for row in model.recorder.hub_rows:  # rounded down to the rounding, never below k
        assert row[3] >= p["k"]
        if row[2] >= 0:  # a group row (a collective row sums its published group rows)
            assert row[3] % p["rounding"] == 0 or row[3] == p["k"]


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("hub.k=1", "expected at least 5 households"),
        ("hub.k=4", "publishes near-individual data"),
        ("hub.min_change=0", "hub.min_change: expected a value in [1"),
        ("hub.epsilon=-1", "hub.epsilon: expected a value in [0"),
        ("hub.trust_initial=1.5", "hub.trust_initial: expected a value in [0, 1]"),
        ("hub.count_rounding=0", "hub.count_rounding: expected a value in [1"),
    ],
)
def test_bad_hub_settings_are_scenario_errors(tmp_path, setting, message):
    from bt_sim.errors import ScenarioError

    key, value = setting.split("=")
    section, name = key.split(".")
    path = tmp_path / "bad.toml"
    path.write_text(f"[{section}]\n{name} = {value}\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path, [])
    text = str(err.value)
    assert "bad.toml" in text and key in text and message in text, text


def test_small_k_and_exact_releases_warn():
    from bt_sim.scenario.warnings import inert_settings

    warnings = inert_settings(load_scenario(None, ["hub.k=7", "hub.epsilon=0"]))
    assert any(w.startswith("hub.k: 7 is below 10") for w in warnings)
    assert any(w.startswith("hub.epsilon: 0") for w in warnings)
    assert not any(w.startswith("hub.") for w in inert_settings(load_scenario(None, [])))


def test_the_panel_publishes_the_saving_only():
    model = _model("hub.k=5", "collectives.tie_rate=0.5")
    model.run()
    panel = model.hub_panel()
    assert list(panel.columns) == [
        "step",
        "month",
        "collective",
        "size_class",
        "n_households",
        "saving_mean",
    ]
    assert len(panel) and (panel["n_households"] % 5 == 0).all()
    lo, hi = hub.SAVING_RANGE
    assert panel["saving_mean"].between(lo, hi).all()


def test_the_release_kernel_equals_the_reference_comparison_and_trust_update():
    rng = np.random.default_rng(8)
    n, groups = 5_000, 12
    member = rng.random(n) < 0.4
    collective = np.where(rng.random(n) < 0.8, rng.integers(0, 3, n), -1)
    group = np.maximum(collective, 0) * 4 + rng.integers(0, 4, n)
    saving = (rng.random(n) * 0.3 - 0.05).astype(np.float32)
    published = rng.random(groups) < 0.7
    mean = np.where(published, rng.random(groups) * 0.2, np.nan)
    progress = rng.random(3)
    peer = (rng.random(n) * 0.03).astype(np.float32)
    trust = rng.random(n).astype(np.float32)
    compared = np.zeros(n, bool)
    members = member & (collective >= 0)
    ref_compared, target = hub.peer_comparison(
        1.0 - saving, group, members, hub.Aggregate(np.ones(groups), 1.0 - mean, published),
        0.02, 1.0,
    )  # fmt: skip
    value = 0.5 * (ref_compared + progress[np.maximum(collective, 0)])
    ref_trust = np.where(members, hub.trust_update(trust, value, 0.3), trust)
    ref_peer = np.maximum(peer, target)
    hub.compare_step(
        member, collective, group, saving, published, mean, progress, 0.02, 1.0, 0.3,
        compared, peer, trust,
    )  # fmt: skip
    assert np.array_equal(compared, ref_compared) and compared.sum() > 500
    np.testing.assert_allclose(peer, ref_peer, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(trust, ref_trust, rtol=1e-5, atol=1e-7)


def test_release_values_equal_the_reference_noisy_means_and_collective_rows():
    """The release kernel: clipped group means with the Laplace noise of laplace() on the
    stream's uniforms, rounded counts, and collective rows from the published rows only."""
    rng = np.random.default_rng(12)
    n, classes, k_coll = 3_000, 4, 5
    group = rng.integers(0, classes * k_coll, n)
    consent = rng.random(n) < 0.3
    member = rng.random(n) < 0.8
    collective = np.where(rng.random(n) < 0.9, group // classes, -1).astype(np.int32)
    roster, starts = hub.group_rosters(consent, member, collective, group, classes * k_coll)
    expected_roster = np.flatnonzero(consent & member & (collective >= 0))
    assert np.array_equal(np.sort(roster), expected_roster)
    assert all(np.all(np.diff(roster[starts[g] : starts[g + 1]]) > 0) for g in range(20))
    saving = (rng.random(n) * 1.2 - 0.3).astype(np.float32)
    sizes = np.diff(starts)
    published = (sizes >= 31) & (rng.random(sizes.size) < 0.8)
    key = np.uint64(99)
    host = np.array([8, 3, 0, 6, 1])  # the collectives' neighbourhoods key their noise
    count, mean, c_count, c_mean, c_pub, used = hub.release_values(
        roster, starts, published, saving, -0.25, 0.75, 1.0, 5, classes, 31, host, key, 7, 0,
        False,
    )  # fmt: skip
    gs = np.flatnonzero(published)
    assert used == gs.size > 5
    lo, hi = hub.SAVING_RANGE
    exact = np.array(
        [
            np.clip(saving[roster[starts[g] : starts[g + 1]]].astype(float), lo, hi).mean()
            for g in gs
        ]
    )
    u = draws.uniforms(key, 7, host[gs // classes] * classes + gs % classes)
    ref = np.clip(exact + hub.laplace(u, (hi - lo) / (sizes[gs] * 1.0)), lo, hi)
    np.testing.assert_allclose(mean[gs], ref, rtol=1e-9, atol=1e-12)
    assert np.isnan(mean[~published]).all() and (count[~published] == 0).all()
    # rounded down to 5, but never below k = 31 (a group of 31-34 is published as 31)
    assert np.array_equal(count[gs], np.maximum(sizes[gs] // 5 * 5, 31))
    assert (count[gs] >= 31).all() and (count[gs] == 31).any()
    w = np.where(published, count, 0).reshape(k_coll, classes)
    total = np.where(published, np.nan_to_num(mean) * count, 0).reshape(k_coll, classes)
    assert np.array_equal(c_count, w.sum(axis=1))
    assert np.array_equal(c_pub, w.sum(axis=1) >= 31)
    np.testing.assert_allclose(c_mean[c_pub], total.sum(axis=1)[c_pub] / w.sum(axis=1)[c_pub])
