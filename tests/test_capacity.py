"""Volunteer capacity: collectives stall below the floor, dissolve after a long stall, and by
default never do (tests/test_golden.py keeps the default results bit for bit)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bt_sim import TransitionModel, load_scenario
from bt_sim.components.capacity import ACTIVE, DISSOLVED, volunteer_update
from bt_sim.errors import ScenarioError

BURN = ["collectives.burnout_rate=0.05", "collectives.placement=first", "run.steps=120"]


def test_volunteer_update_is_the_stated_formula():
    v = np.array([5.0, 8.0, 1.0])
    members = np.array([100, 40, 0])
    failing = np.array([0.5, 0.0, 1.0])
    got = volunteer_update(v, members, failing, np.array([True, False, False]), 0.1, 0.2, 0.3,
                           1.0, 0.5)  # fmt: skip
    grown = v + (1 - math.exp(-0.2 * 0.5)) * np.maximum(0.1 * members - v, 0)
    want = grown * np.exp(-0.3 * failing * 0.5) + np.array([1.0, 0, 0])
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_the_kernel_equals_the_reference():
    """capacity_step against volunteer_update and the status rules written out in numpy, on
    random members, failures and celebrations."""
    from bt_sim.components.capacity import STALLED, capacity_step

    rng = np.random.default_rng(7)
    k, n = 6, 3000
    of = rng.integers(-1, k, n).astype(np.int32)
    member = rng.random(n) < 0.3
    unmet = rng.random(n) < 0.6
    vol = rng.uniform(0, 6, k)
    status = np.array([0, 1, 1, 2, 0, 1], np.int8)
    since = np.array([np.nan, 10.0, 2.0, np.nan, np.nan, 11.5])
    cel_now = np.array([1, 0, 2, 0, 3, 0])
    cel = np.array([0, 0, 2, 0, 2, 0])
    counts = np.zeros(3, np.int64)
    ref_v = vol.copy()
    ending = capacity_step(member, unmet, of, cel_now, cel.copy(), vol, status, since, counts,
                           0.1, 1 - math.exp(-0.2), 0.5, 1.0, 2.0, 6.0, 12.0)  # fmt: skip
    inside = member & (of >= 0)
    m = np.bincount(of[inside], minlength=k)
    f = np.bincount(of[inside & unmet], minlength=k) / np.maximum(m, 1)
    want = volunteer_update(ref_v, m, f, cel_now > cel, 0.1, 0.2, 0.5, 1.0, 1.0)
    standing = np.array([True, True, True, False, True, True])
    np.testing.assert_allclose(vol[standing], want[standing], rtol=1e-12)
    low = standing & (want < 2.0)
    assert np.array_equal(status[standing & ~low], np.zeros((standing & ~low).sum()))
    assert (status[low] == STALLED).all() and status[3] == DISSOLVED
    assert np.array_equal(ending, low & (12.0 - np.where(np.isnan(since), 12.0, since) >= 6.0))
    assert counts.sum() == k and counts[2] == 1


def test_by_default_no_collective_stalls():
    m = TransitionModel(load_scenario(None, ["run.steps=120"]), seed=3)
    m.run()
    assert (m.capacity.status == ACTIVE).all()
    s = m.summary()
    assert s["capacity:stalled_months"] == 0 and s["capacity:dissolved"] == 0
    assert s["capacity:active_months"] == 3 * 120


def test_without_a_floor_none_dissolves():
    for seed in range(5):
        m = TransitionModel(load_scenario(None, [*BURN, "collectives.capacity_floor=0"]), seed)
        m.run()
        assert m.summary()["capacity:dissolved"] == 0


def test_a_dissolved_collective_loses_its_members_and_publishes_nothing_new():
    m = TransitionModel(load_scenario(None, BURN), seed=1)
    when = {}
    while m.running:
        stalled = m.capacity.status != ACTIVE  # as the step's interventions see it
        m.step()
        for c in np.flatnonzero(m.capacity.status == DISSOLVED):
            when.setdefault(int(c), m.steps_done)
        assert not m.interventions.purchases[0].running[stalled].any()  # no joint purchase
        assert (m.interventions.joint_action()[1][stalled] == -1).all()
    assert when, "with this burn-out some collective dissolves"
    panel = m.hub_panel()
    for c, step in when.items():
        mine = m.collectives.of == c
        assert not m.state.member[mine].any() and not m.collectives.hosted[mine].any()
        rows = panel[panel["collective"] == m.collectives.nbhd[c]]
        assert (rows["step"] <= step).all()  # nothing published after it dissolved


@pytest.mark.parametrize(
    "bad",
    ["collectives.burnout_rate=-1", "collectives.stall_months=0", "collectives.capacity_floor=-2"],
)
def test_bad_capacity_keys_are_refused(bad):
    with pytest.raises(ScenarioError, match=bad.split("=")[0].replace(".", r"\.")):
        load_scenario(None, [bad])
