"""Paired-seed contrasts: the effect of a change, measured with common populations and networks.

Both arms of a contrast run the same seeds, so each pair shares its population, network and
initial state (their streams do not depend on the dynamics), and the difference of a pair
carries less noise than two unrelated runs. The effect is the mean paired difference with its
standard error over the seeds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from bt_sim.scenario import load_scenario

if TYPE_CHECKING:
    from bt_sim.model import TransitionModel


@dataclass(frozen=True)
class Effect:
    """A measured paired difference ``b - a`` of one outcome."""

    outcome: str
    mean_a: float
    mean_b: float
    diff: float
    se: float
    seeds: int

    @property
    def z(self) -> float:
        """The difference in standard errors (inf when the pairs never differ)."""
        if self.se == 0:
            return 0.0 if self.diff == 0 else float("inf") * np.sign(self.diff)
        return self.diff / self.se


Outcome = str | Callable[["TransitionModel"], float]


@dataclass(frozen=True)
class Contrast:
    """One mechanism switched from arm ``a`` to arm ``b`` and what it must do to ``outcome``."""

    mechanism: str
    a: tuple[str, ...]
    b: tuple[str, ...]
    outcome: Outcome
    claim: str  # "raises", "lowers", "does not lower" or "same"
    source: str
    common: tuple[str, ...] = ()
    min_effect: float = 0.0
    tolerance: float = 0.0  # for "same": the largest |b - a| accepted
    relative: bool = False  # for "same": tolerance relative to arm a's mean
    seeds: Sequence[int] = field(default=range(20))
    base: str | None = None  # a bundled scenario's file name (default: the default scenario)


def outcome_name(outcome: Outcome) -> str:
    """A summary key as is; a function by its name."""
    return outcome if isinstance(outcome, str) else outcome.__name__


def run_outcomes(
    base: str | None, overrides: Sequence[str], seeds: Sequence[int], outcomes: Sequence[Outcome]
) -> np.ndarray:
    """Run the scenario with ``overrides`` once per seed; outcomes as an array (seeds, k).

    An outcome is a key of the summary (:func:`bt_sim.outcomes.summarise`) or a function of the
    finished model.
    """
    from bt_sim.model import TransitionModel

    scenario = load_scenario(base, list(overrides))
    rows = []
    for seed in seeds:
        model = TransitionModel(scenario, seed=int(seed))
        model.run()
        summary = model.summary()
        rows.append(
            [float(summary[o]) if isinstance(o, str) else float(o(model)) for o in outcomes]
        )
    return np.asarray(rows, dtype=np.float64)


def paired_effect(
    base: str | None,
    arm_a: Sequence[str],
    arm_b: Sequence[str],
    outcomes: Sequence[Outcome],
    seeds: Sequence[int] = range(20),
    common: Sequence[str] = (),
) -> list[Effect]:
    """Effects of going from arm ``a`` to arm ``b`` (overrides on top of ``common``).

    Examples
    --------
    >>> e = paired_effect(None, ["mastery.meter_share=0"], ["mastery.meter_share=1"],
    ...                   ["kpi_saving"], seeds=[1, 2],
    ...                   common=["population.households=200", "run.steps=12"])
    >>> e[0].seeds
    2
    """
    a = run_outcomes(base, [*common, *arm_a], seeds, outcomes)
    b = run_outcomes(base, [*common, *arm_b], seeds, outcomes)
    return [Effect(outcome_name(o), *paired(a[:, k], b[:, k])) for k, o in enumerate(outcomes)]


def paired(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float, float, int]:
    """``(mean of a, mean of b, mean of b - a, its standard error, pairs)`` over the pairs
    where both values are defined (e.g. a mean over compared households needs someone
    compared); NaN where there are too few pairs.

    >>> paired(np.array([1.0, 2.0, np.nan]), np.array([2.0, 4.0, 5.0]))[2:]
    (1.5, 0.5, 2)
    """
    ok = np.isfinite(a) & np.isfinite(b)
    d = b[ok] - a[ok]
    n = int(ok.sum())
    se = float(d.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
    if not n:
        return float("nan"), float("nan"), float("nan"), se, n
    return float(a[ok].mean()), float(b[ok].mean()), float(d.mean()), se, n
