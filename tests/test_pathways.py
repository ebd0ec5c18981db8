"""Transition pathways read from synthetic adoption curves (bt_sim.pathways)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bt_sim.pathways import (
    JUMP_RATIO,
    MIN_GAIN,
    MIN_JUMP,
    PATHWAYS,
    WINDOW_MONTHS,
    Tipping,
    classify,
    locate_tipping,
    pathway_report,
    time_to,
    window_growth,
)

#: The same 120 months at two step lengths: (dt, steps).
RESOLUTIONS = [(1.0, 120), (0.25, 480)]
#: Logistic slope with a 10 % to 90 % rise in 15 months.
SLOPE = 2 * math.log(9) / 15


def months(dt: float, n: int) -> np.ndarray:
    return np.arange(n) * dt


def logistic(t: np.ndarray, centre: float, lo: float = 0.02, hi: float = 0.9) -> np.ndarray:
    return lo + (hi - lo) / (1 + np.exp(-SLOPE * (t - centre)))


def ramp(t: np.ndarray, start: float, end: float) -> np.ndarray:
    return start + (end - start) * t / t[-1]


def steps_at(t: np.ndarray, base: float, jumps: dict[float, float]) -> np.ndarray:
    """``base`` plus a one-step jump of ``size`` at each ``month``."""
    curve = np.full(t.size, base)
    for month, size in jumps.items():
        curve[t >= month] += size
    return curve


@pytest.mark.parametrize(("dt", "n"), RESOLUTIONS)
def test_flat_and_creeping_curves_are_reproduction(dt, n):
    t = months(dt, n)
    for curve in (np.full(n, 0.1), ramp(t, 0.05, 0.15)):
        assert classify(curve, dt) == "reproduction"
        assert not locate_tipping(curve, dt).tipped


@pytest.mark.parametrize(("dt", "n"), RESOLUTIONS)
def test_a_tip_that_gains_too_little_is_still_reproduction(dt, n):
    curve = steps_at(months(dt, n), 0.05, {60.0: MIN_GAIN - 0.01})
    assert locate_tipping(curve, dt).tipped
    assert classify(curve, dt) == "reproduction"


@pytest.mark.parametrize(("dt", "n"), RESOLUTIONS)
def test_linear_ramp_is_transformation(dt, n):
    curve = ramp(months(dt, n), 0.05, 0.75)
    tip = locate_tipping(curve, dt)
    assert not tip.tipped
    assert math.isnan(tip.month)
    assert tip.ratio == pytest.approx(1.0, abs=0.02)
    assert tip.jump == pytest.approx(0.7 * WINDOW_MONTHS / months(dt, n)[-1])
    assert classify(curve, dt) == "transformation"


@pytest.mark.parametrize(("dt", "n"), RESOLUTIONS)
def test_steep_logistic_is_substitution_tipping_near_its_centre(dt, n):
    curve = logistic(months(dt, n), 60.0)
    tip = locate_tipping(curve, dt)
    assert tip.tipped
    assert abs(tip.month - 60.0) <= 6.0
    assert tip.jump >= MIN_JUMP
    assert tip.ratio >= JUMP_RATIO
    assert classify(curve, dt) == "substitution"


@pytest.mark.parametrize(("dt", "n"), RESOLUTIONS)
def test_early_saturating_logistic_is_substitution(dt, n):
    curve = logistic(months(dt, n), 20.0)
    tip = locate_tipping(curve, dt)
    assert classify(curve, dt) == "substitution"
    assert abs(tip.month - 20.0) <= 6.0


@pytest.mark.parametrize("centre", [20.0, 60.0])
def test_step_length_does_not_change_the_verdict(centre):
    (dt1, n1), (dt2, n2) = RESOLUTIONS
    coarse = logistic(months(dt1, n1), centre)
    fine = logistic(months(dt2, n2), centre)
    assert classify(coarse, dt1) == classify(fine, dt2)
    a, b = locate_tipping(coarse, dt1), locate_tipping(fine, dt2)
    assert abs(a.month - b.month) <= WINDOW_MONTHS
    assert a.jump == pytest.approx(b.jump, abs=0.01)


@pytest.mark.parametrize(("dt", "n"), RESOLUTIONS)
@pytest.mark.parametrize(
    ("gain", "expected"),
    [(MIN_GAIN - 0.001, "reproduction"), (MIN_GAIN + 0.001, "transformation")],
)
def test_gain_boundary(dt, n, gain, expected):
    curve = ramp(months(dt, n), 0.1, 0.1 + gain)
    assert classify(curve, dt) == expected


@pytest.mark.parametrize(("dt", "n"), RESOLUTIONS)
@pytest.mark.parametrize(
    ("jump", "expected"),
    [(MIN_JUMP - 0.001, "transformation"), (MIN_JUMP + 0.001, "substitution")],
)
def test_jump_boundary(dt, n, jump, expected):
    # two one-step jumps more than a window apart: the larger is the largest window growth
    curve = steps_at(months(dt, n), 0.05, {40.0: jump, 80.0: 0.1})
    tip = locate_tipping(curve, dt)
    assert tip.jump == pytest.approx(jump)
    assert curve[-1] - curve[0] >= MIN_GAIN
    assert classify(curve, dt) == expected
    if tip.tipped:
        # the jump lies between the steps at 40 - dt and 40
        assert tip.month == pytest.approx(40.0 - dt / 2)


def test_fast_even_rise_over_a_short_run_is_no_tip():
    # 0.3 a window is above MIN_JUMP, but it is the run's mean growth per window
    curve = ramp(months(1.0, 37), 0.0, 0.9)
    tip = locate_tipping(curve, 1.0)
    assert tip.jump == pytest.approx(0.3)
    assert tip.ratio == pytest.approx(1.0)
    assert not tip.tipped
    assert classify(curve, 1.0) == "transformation"


def test_run_shorter_than_a_window_uses_the_whole_run():
    tip = locate_tipping(np.array([0.0, 0.1, 0.2, 0.3, 0.4]), 1.0)
    assert tip.jump == pytest.approx(0.4)
    assert tip.ratio == pytest.approx(1.0)
    assert not tip.tipped
    single = locate_tipping(np.array([0.3]), 1.0)
    assert single == Tipping(False, single.month, 0.0, 0.0)
    assert math.isnan(single.month)


def test_ratio_is_infinite_without_net_growth():
    curve = np.full(120, 0.1)
    curve[30:80] = 0.4  # up and back down: no net change
    tip = locate_tipping(curve, 1.0)
    assert tip.ratio == math.inf
    assert tip.tipped
    assert classify(curve, 1.0) == "reproduction"


def test_window_growth_values():
    curve = np.array([0.0, 0.1, 0.3, 0.6, 1.0])
    np.testing.assert_allclose(window_growth(curve, 1.0, 2.0), [0.0, 0.1, 0.3, 0.5, 0.7])
    # 1 month at dt 0.5 is two steps
    np.testing.assert_allclose(window_growth(curve, 0.5, 1.0), [0.0, 0.1, 0.3, 0.5, 0.7])
    # a window shorter than a step is one step
    np.testing.assert_allclose(window_growth(curve, 1.0, 0.1), [0.0, 0.1, 0.2, 0.3, 0.4])
    # a window longer than the run: growth since step 0
    np.testing.assert_allclose(window_growth(curve, 1.0, 50.0), curve)
    t = months(0.25, 480)
    growth = window_growth(ramp(t, 0.0, 1.0), 0.25)
    assert growth.shape == (480,)
    assert growth[-1] == pytest.approx(WINDOW_MONTHS / t[-1])


def test_time_to_known_curve():
    curve = np.arange(101) / 100
    assert time_to(curve, 0.5, 1.0) == 50.0
    assert time_to(curve, 0.1, 0.5) == 5.0
    assert time_to(curve, 0.9, 0.25) == 22.5
    assert time_to(curve, -1.0, 1.0) == 0.0
    assert math.isnan(time_to(curve, 1.01, 1.0))
    assert time_to(np.array([0.0, 0.6, 0.4, 0.7]), 0.5, 1.0) == 1.0


@pytest.mark.parametrize(
    ("curve", "dt", "message"),
    [
        (np.zeros((3, 4)), 1.0, "1-d"),
        (np.array([]), 1.0, "empty"),
        (np.r_[np.zeros(7), np.nan, np.nan], 1.0, "NaN at step 7"),
        (np.r_[0.0, np.inf], 1.0, "infinite value at step 1"),
        (np.zeros(5), 0.0, "dt"),
        (np.zeros(5), -1.0, "dt"),
        (np.zeros(5), math.nan, "dt"),
    ],
)
def test_bad_input(curve, dt, message):
    for call in (
        lambda: classify(curve, dt),
        lambda: locate_tipping(curve, dt),
        lambda: window_growth(curve, dt),
        lambda: time_to(curve, 0.5, dt),
        lambda: pathway_report(curve, dt),
    ):
        with pytest.raises(ValueError, match=message):
            call()


def test_bad_companions_and_window():
    curve = np.zeros(10)
    with pytest.raises(ValueError, match="resistance has 9 steps but the curve has 10"):
        classify(curve, 1.0, resistance=np.zeros(9))
    with pytest.raises(ValueError, match="policy must be 1-d"):
        pathway_report(curve, 1.0, policy=np.zeros((10, 1)))
    with pytest.raises(ValueError, match="window"):
        locate_tipping(curve, 1.0, window=0.0)
    with pytest.raises(ValueError, match="level"):
        time_to(curve, math.nan, 1.0)


@pytest.mark.parametrize(("dt", "n"), RESOLUTIONS)
def test_pathway_report(dt, n):
    t = months(dt, n)
    curve = logistic(t, 60.0, hi=0.98)
    resistance = ramp(t, 1.0, 0.4)
    policy = ((t >= 30.0) & (t < 90.0)).astype(float)
    r = pathway_report(curve, dt, resistance=resistance, policy=policy)
    assert set(r) == {
        "pathway",
        "tipped",
        "tip_month",
        "jump",
        "time_to_10",
        "time_to_50",
        "time_to_90",
        "gain",
        "resistance_change",
        "policy_months",
        "policy_first_month",
    }
    assert r["pathway"] == "substitution" == classify(curve, dt)
    assert r["pathway"] in PATHWAYS
    assert r["tipped"] == 1.0
    assert abs(r["tip_month"] - 60.0) <= 6.0
    assert r["jump"] == locate_tipping(curve, dt).jump
    assert r["time_to_10"] < r["time_to_50"] < r["time_to_90"]
    assert r["time_to_50"] == pytest.approx(60.0, abs=1.0)
    assert r["gain"] == pytest.approx(curve[-1] - curve[0])
    assert r["resistance_change"] == pytest.approx(-0.6)
    assert r["policy_months"] == pytest.approx(60.0)
    assert r["policy_first_month"] == 30.0
    assert all(isinstance(v, float) for k, v in r.items() if k != "pathway")


def test_pathway_report_without_companions():
    r = pathway_report(np.full(120, 0.05), 1.0)
    assert r["pathway"] == "reproduction"
    assert r["tipped"] == 0.0
    assert math.isnan(r["tip_month"])
    assert math.isnan(r["time_to_10"])
    for key in ("resistance_change", "policy_months", "policy_first_month"):
        assert math.isnan(r[key])
    # policy given but never on: no months, no first month
    off = pathway_report(np.full(120, 0.05), 1.0, policy=np.zeros(120))
    assert off["policy_months"] == 0.0
    assert math.isnan(off["policy_first_month"])
