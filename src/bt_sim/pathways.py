"""Which transition pathway a simulated town took, read from its trajectories.

The multi-level perspective (Geels 2002, "Technological transitions as evolutionary
reconfiguration processes", Research Policy 31, 1257-1274) sees a transition as niche
practices, a sociotechnical regime and a landscape interacting. Geels & Schot (2007,
"Typology of sociotechnical transition pathways", Research Policy 36, 399-417) sort the
resulting transitions into pathways. This module reduces that typology to three classes that
can be told apart from one adoption curve (the share of eligible households that has taken up
the new practice, one value per step, step 0 first) with simple, documented thresholds:

``reproduction``
    The net gain ``curve[-1] - curve[0]`` stays below :data:`MIN_GAIN`: the regime keeps
    reproducing itself and the niche stays small.
``substitution``
    The gain reaches :data:`MIN_GAIN` and the curve *tips* (:func:`locate_tipping`): growth
    over one window is both large in absolute terms (at least :data:`MIN_JUMP`) and large
    compared with the run's mean growth per window (at least :data:`JUMP_RATIO` times it).
    A niche breaks through and replaces the regime's practice.
``transformation``
    The gain reaches :data:`MIN_GAIN` without a tip: the change is gradual, made by regime
    actors adjusting their rules step by step.

The other pathways of Geels & Schot (de-alignment and re-alignment, technological
reconfiguration) need information on actors and landscape pressure that one curve does not
carry, so they are not distinguished here.

Constants
---------
:data:`WINDOW_MONTHS` (12)
    Growth is measured over a year, so that seasonal and step-to-step noise does not count as a
    breakthrough and the same run sampled at a different step length gives the same verdict.
:data:`MIN_GAIN` (0.25)
    A quarter of the eligible households must newly adopt over the run before any change is
    called a transition; below that the regime is read as reproducing itself.
:data:`MIN_JUMP` (0.2)
    A tip adds at least a fifth of the eligible households within one window. A steep
    logistic curve whose 10 % to 90 % rise takes about 15 months adds far more than this in its
    steepest year; a steady ramp over a ten-year run adds under a tenth a year.
:data:`JUMP_RATIO` (2.5)
    A tip's window also grows at least 2.5 times the run's mean growth per window, so that a
    fast but even rise over a short run is not read as a breakthrough.

These thresholds are modelling choices made for this simulation, not values given by the
papers; the papers give the qualitative distinction (sudden niche breakthrough against gradual
adjustment within the regime) that the thresholds make operational.

:func:`pathway_report` adds the per-run outputs a report needs: the tip, the times to reach
10 %, 50 % and 90 %, the change in regime resistance and when and how long policy support was
on. Resistance and policy never change the verdict of :func:`classify`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bt_sim.outcomes import time_to_reach

#: Months over which growth is measured.
WINDOW_MONTHS = 12.0
#: Least net gain (share of eligible households) over a run that counts as a transition.
MIN_GAIN = 0.25
#: Least growth over one window that counts as a tipping jump.
MIN_JUMP = 0.2
#: Least ratio of a tipping jump to the run's mean growth per window.
JUMP_RATIO = 2.5

#: The pathway classes :func:`classify` returns.
PATHWAYS = ("reproduction", "transformation", "substitution")

_TIE = 1e-12


def _series(values, name: str) -> np.ndarray:
    """``values`` as a 1-d float array of finite numbers, or a ValueError that says why."""
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-d (one value per step), got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty: it needs at least one step")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        i = int(bad[0])
        what = "NaN" if np.isnan(arr[i]) else "an infinite value"
        raise ValueError(f"{name} has {what} at step {i}")
    return arr


def _positive(value: float, name: str) -> float:
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number of months, got {value}")
    return value


def _companion(values, name: str, n: int) -> np.ndarray | None:
    """A per-step series that goes with a curve of ``n`` steps, or None."""
    if values is None:
        return None
    arr = _series(values, name)
    if arr.size != n:
        raise ValueError(f"{name} has {arr.size} steps but the curve has {n}")
    return arr


def _steps(window: float, dt: float, n: int) -> int:
    """The window in whole steps: at least 1 and at most the whole run."""
    return max(1, min(round(window / dt), n - 1))


def time_to(curve: np.ndarray, level: float, dt: float) -> float:
    """Months until ``curve`` first reaches ``level``.

    Parameters
    ----------
    curve : numpy.ndarray
        Shares, one value per step, step 0 first.
    level : float
        The share to reach (``curve >= level``).
    dt : float
        Months per step.

    Returns
    -------
    float
        ``step * dt`` of the first step at or above ``level``; NaN if none is.

    Examples
    --------
    >>> time_to(np.array([0.0, 0.2, 0.6, 0.9]), 0.5, 0.25)
    0.5
    >>> time_to(np.array([0.0, 0.2]), 0.5, 1.0)
    nan
    """
    arr = _series(curve, "curve")
    dt = _positive(dt, "dt")
    level = float(level)
    if not math.isfinite(level):
        raise ValueError(f"level must be finite, got {level}")
    return time_to_reach(arr, level, dt)


def window_growth(curve: np.ndarray, dt: float, window: float = WINDOW_MONTHS) -> np.ndarray:
    """Growth over the window that ends at each step.

    Parameters
    ----------
    curve : numpy.ndarray
        Shares, one value per step, step 0 first.
    dt : float
        Months per step.
    window : float
        Window length in months; it becomes ``w = round(window / dt)`` steps, at least 1.

    Returns
    -------
    numpy.ndarray
        ``curve[t] - curve[t - w]``, and ``curve[t] - curve[0]`` for ``t < w``; same length as
        ``curve``.

    Examples
    --------
    >>> window_growth(np.array([0.0, 0.1, 0.3, 0.6]), 1.0, window=2.0)
    array([0. , 0.1, 0.3, 0.5])
    """
    arr = _series(curve, "curve")
    dt = _positive(dt, "dt")
    w = max(1, round(_positive(window, "window") / dt))
    growth = arr - arr[0]
    if w < arr.size:
        growth[w:] = arr[w:] - arr[:-w]
    return growth


@dataclass(frozen=True)
class Tipping:
    """Where a curve tips, if it does (:func:`locate_tipping`).

    Attributes
    ----------
    tipped : bool
        Whether the largest window growth passes both thresholds.
    month : float
        The middle of the window of largest growth in months; NaN when not tipped.
    jump : float
        The largest growth over one window.
    ratio : float
        ``jump`` over the mean growth per window of the run; ``inf`` when the mean is 0 and
        ``jump > 0``, 0 when both are 0.

    Examples
    --------
    >>> Tipping(tipped=False, month=float("nan"), jump=0.0, ratio=0.0).tipped
    False
    """

    tipped: bool
    month: float
    jump: float
    ratio: float


def locate_tipping(
    curve: np.ndarray,
    dt: float,
    window: float = WINDOW_MONTHS,
    min_jump: float = MIN_JUMP,
    ratio: float = JUMP_RATIO,
) -> Tipping:
    """Find the window of largest growth and say whether it is a tipping jump.

    The curve tips when the largest window growth (:func:`window_growth`) is at least
    ``min_jump`` and at least ``ratio`` times the mean growth per window. The mean growth per
    window is the net change ``max(curve[-1] - curve[0], 0)`` divided by the number of windows
    in the run, ``(len(curve) - 1) * dt / (w * dt)``, with ``w`` the window in whole steps. A
    run shorter than one window uses the whole run as its window.

    Parameters
    ----------
    curve : numpy.ndarray
        Shares, one value per step, step 0 first.
    dt : float
        Months per step.
    window : float
        Window length in months.
    min_jump : float
        Least window growth of a tip.
    ratio : float
        Least ratio of the jump to the mean growth per window.

    Returns
    -------
    Tipping
        ``month`` is the middle of the window of largest growth (``step * dt`` less half the
        window). Where several consecutive windows tie for the largest growth (a jump in a
        single step lies in all of them) it is the mean of their middles, which puts a
        one-step jump at the jump.

    Examples
    --------
    >>> t = np.arange(121.0)
    >>> tip = locate_tipping(0.02 + 0.88 / (1 + np.exp(-0.3 * (t - 60))), 1.0)
    >>> tip.tipped, tip.month
    (True, 60.0)
    >>> locate_tipping(np.linspace(0.05, 0.75, 121), 1.0).tipped
    False
    """
    arr = _series(curve, "curve")
    dt = _positive(dt, "dt")
    _positive(window, "window")
    w = _steps(window, dt, arr.size)
    growth = window_growth(arr, dt, w * dt)
    first = int(np.argmax(growth))
    jump = float(growth[first])
    run_months = (arr.size - 1) * dt
    gain = max(float(arr[-1] - arr[0]), 0.0)
    mean = gain * w * dt / run_months if run_months > 0 else 0.0
    rel = jump / mean if mean > 0 else (math.inf if jump > 0 else 0.0)
    tipped = bool(jump >= min_jump and jump >= ratio * mean)
    if not tipped:
        return Tipping(False, float("nan"), jump, rel)
    last = first
    while last + 1 < arr.size and growth[last + 1] >= jump - _TIE:
        last += 1
    ends = np.arange(first, last + 1)
    middles = (ends + np.maximum(ends - w, 0)) / 2 * dt
    return Tipping(True, float(middles.mean()), jump, rel)


def classify(
    curve: np.ndarray,
    dt: float,
    resistance: np.ndarray | None = None,
    policy: np.ndarray | None = None,
) -> str:
    """The transition pathway of one run, one of :data:`PATHWAYS`.

    ``reproduction`` when the net gain ``curve[-1] - curve[0]`` is below :data:`MIN_GAIN`;
    otherwise ``substitution`` when the curve tips (:func:`locate_tipping` with the module's
    constants) and ``transformation`` when it does not.

    Parameters
    ----------
    curve : numpy.ndarray
        Adoption shares, one value per step, step 0 first.
    dt : float
        Months per step.
    resistance, policy : numpy.ndarray or None
        Per-step regime resistance and policy support. They do not enter the verdict; they are
        only checked (1-d, finite, as long as ``curve``) so that a call with bad companions
        fails here as it would in :func:`pathway_report`.

    Returns
    -------
    str

    Examples
    --------
    >>> classify(np.full(121, 0.1), 1.0)
    'reproduction'
    >>> classify(np.linspace(0.05, 0.75, 121), 1.0)
    'transformation'
    """
    arr = _series(curve, "curve")
    dt = _positive(dt, "dt")
    _companion(resistance, "resistance", arr.size)
    _companion(policy, "policy", arr.size)
    if arr[-1] - arr[0] < MIN_GAIN:
        return "reproduction"
    return "substitution" if locate_tipping(arr, dt).tipped else "transformation"


def pathway_report(
    curve: np.ndarray,
    dt: float,
    resistance: np.ndarray | None = None,
    policy: np.ndarray | None = None,
) -> dict[str, float | str]:
    """Per-run pathway outputs.

    Parameters
    ----------
    curve : numpy.ndarray
        Adoption shares, one value per step, step 0 first.
    dt : float
        Months per step.
    resistance : numpy.ndarray or None
        Per-step regime resistance.
    policy : numpy.ndarray or None
        Per-step policy support; support is on where it is above 0.

    Returns
    -------
    dict
        ``pathway`` (:func:`classify`), ``tipped`` (1.0 or 0.0), ``tip_month`` and ``jump``
        (:func:`locate_tipping`), ``time_to_10``, ``time_to_50``, ``time_to_90`` (months to
        reach those shares, NaN if never), ``gain`` (``curve[-1] - curve[0]``),
        ``resistance_change`` (``resistance[-1] - resistance[0]``), ``policy_months`` (months
        with support on) and ``policy_first_month`` (first month with support on, NaN if
        never). The resistance and policy values are NaN when the series is not given.

    Examples
    --------
    >>> policy = np.r_[np.zeros(24), np.ones(97)]
    >>> r = pathway_report(np.linspace(0.05, 0.75, 121), 1.0, policy=policy)
    >>> r["pathway"], r["time_to_50"], r["policy_months"], r["policy_first_month"]
    ('transformation', 78.0, 97.0, 24.0)
    """
    arr = _series(curve, "curve")
    dt = _positive(dt, "dt")
    res = _companion(resistance, "resistance", arr.size)
    pol = _companion(policy, "policy", arr.size)
    tip = locate_tipping(arr, dt)
    nan = float("nan")
    on = np.flatnonzero(pol > 0) if pol is not None else np.array([], dtype=int)
    return {
        "pathway": classify(arr, dt),
        "tipped": 1.0 if tip.tipped else 0.0,
        "tip_month": tip.month,
        "jump": tip.jump,
        "time_to_10": time_to(arr, 0.1, dt),
        "time_to_50": time_to(arr, 0.5, dt),
        "time_to_90": time_to(arr, 0.9, dt),
        "gain": float(arr[-1] - arr[0]),
        "resistance_change": float(res[-1] - res[0]) if res is not None else nan,
        "policy_months": float(on.size * dt) if pol is not None else nan,
        "policy_first_month": float(on[0] * dt) if on.size else nan,
    }
