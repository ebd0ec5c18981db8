"""Every mechanism's measured effect: paired-seed contrasts on the default scenario.

Each :class:`~bt_sim.contrast.Contrast` switches one mechanism (arm ``a`` to arm ``b``) and
states what the literature says the switch must do to an outcome. A component's contrasts live
with it (``contrasts`` of :mod:`bt_sim.components`); the households' own are here.
:func:`measure` runs both arms on the same seeds (same population, network and initial state;
:mod:`bt_sim.contrast`) and checks the claim: *raises* means a difference beyond 3 standard
errors (and at least ``min_effect``), *does not lower* means no fall beyond 3 standard
errors, *same* means an agreement within the stated tolerance. ``tests/test_mechanisms.py``
asserts every claim and ``docs/mechanisms.md`` is this table, regenerated with::

    python -m bt_sim.mechanisms --write docs/mechanisms.md
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bt_sim.components import DEFAULT_COMPONENTS
from bt_sim.contrast import Contrast, Effect, outcome_name, paired_effect

DEFAULT = str(Path(__file__).resolve().parents[2] / "scenarios" / "default.toml")


def costly_behaviours(model) -> float:
    """Costly behaviours (above the median cost of the scenario's behaviours) per household at
    the end."""
    costly = model.cost > np.median(model.cost)
    return float(model.state.adopted[:, costly].sum(axis=1).mean())


CORE_CONTRASTS: tuple[Contrast, ...] = (
    Contrast(
        "imitation: visible-success weight 0 -> 1",
        ("social.success_weight=0",),
        ("social.success_weight=1",),
        "behaviours_per_household",
        "does not lower",
        "observers imitate models whose behaviour is rewarded (Bandura 1977)",
    ),
    Contrast(
        "step length: 1 -> 0.25 month (adoption)",
        ("run.dt=1", "run.steps=120"),
        ("run.dt=0.25", "run.steps=480"),
        "behaviours_per_household",
        "same",
        "every rate and noise is per month",
        tolerance=0.02,
        relative=True,
        seeds=range(60),  # different steps draw different numbers: more seeds for 2 %
    ),
    Contrast(
        "step length: 1 -> 0.25 month (saving)",
        ("run.dt=1", "run.steps=120"),
        ("run.dt=0.25", "run.steps=480"),
        "kpi_saving",
        "same",
        "every rate and noise is per month",
        tolerance=0.005,
        seeds=range(60),
    ),
    Contrast(
        "income: median 2,900 -> 5,800 EUR a month, costs fixed (costly behaviours)",
        ("population.income_median=2900",),
        ("population.income_median=5800",),
        costly_behaviours,
        "raises",
        "households with more income take up costly measures more (affordability; "
        "Abrahamse & Steg 2009)",
    ),
)

#: Every contrast: the households' own, then each default component's (in plan order).
CONTRASTS: tuple[Contrast, ...] = (
    *(c for cls in DEFAULT_COMPONENTS for c in cls.contrasts),
    *CORE_CONTRASTS,
)


@dataclass(frozen=True)
class Result:
    """A contrast with its measured effect and whether the claim holds."""

    contrast: Contrast
    effect: Effect
    holds: bool


def check(c: Contrast, e: Effect) -> bool:
    """Whether the measured effect ``e`` bears out the claim of ``c``."""
    if c.claim == "raises":
        return e.diff > 3 * e.se and e.diff >= c.min_effect
    if c.claim == "lowers":
        return e.diff < -3 * e.se and -e.diff >= c.min_effect
    if c.claim == "does not lower":
        return e.diff > -3 * e.se
    if c.claim == "same":
        scale = abs(e.mean_a) if c.relative else 1.0
        enough = e.seeds >= 0.75 * len(c.seeds)  # pairs where the outcome is defined
        return enough and abs(e.diff) <= c.tolerance * scale
    raise ValueError(f"unknown claim {c.claim!r}")


def measure(c: Contrast, base: str = DEFAULT) -> Result:
    """Run the contrast with paired seeds and check its claim."""
    if c.base is not None:
        base = str(Path(DEFAULT).parent / c.base)
    (effect,) = paired_effect(base, c.a, c.b, [c.outcome], c.seeds, c.common)
    return Result(c, effect, check(c, effect))


def owner(c: Contrast) -> str:
    """The component a contrast belongs to (``households``: the model's own rules)."""
    for cls in DEFAULT_COMPONENTS:
        if any(c is x for x in cls.contrasts):
            return cls.name
    return "households"


def table(results: Sequence[Result]) -> str:
    """The results as a Markdown table."""
    lines = [
        "| component | mechanism | switch (a -> b) | outcome | expected | a | b | b - a ± SE "
        "| seeds | holds | source |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        c, e = r.contrast, r.effect
        switch = f"`{' '.join(c.a) or 'default'}` -> `{' '.join(c.b)}`"
        if c.base:
            switch += f" on `scenarios/{c.base}`"
        if c.common:
            switch += f" with `{' '.join(c.common)}`"
        expected = c.claim
        if c.claim == "same":
            expected += f" (within {c.tolerance:g}{' of a' if c.relative else ''})"
        elif c.min_effect:
            expected += f" (by at least {c.min_effect:g})"
        lines.append(
            f"| {owner(c)} | {c.mechanism} | {switch} | {outcome_name(c.outcome)} | {expected} | "
            f"{e.mean_a:.4f} | {e.mean_b:.4f} | {e.diff:+.4f} ± {e.se:.4f} | {e.seeds} | "
            f"{'yes' if r.holds else '**no**'} | {c.source} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Measure every contrast and print (or write) the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", type=Path, help="write docs/mechanisms.md here")
    ap.add_argument(
        "--crn", type=Path, help="write the common-random-numbers table (docs/crn.md) here"
    )
    ap.add_argument(
        "--directions",
        type=Path,
        nargs="?",
        const=Path("-"),
        help="check every key's declared direction across its span and write the table "
        "(docs/directions.md) here ('-' or nothing: print it)",
    )
    ap.add_argument("--keys", nargs="+", default=(), help="with --directions: only these keys")
    ap.add_argument("--seeds", type=int, default=20, help="with --directions: paired seeds")
    ap.add_argument(
        "--executor",
        choices=("inprocess", "processes", "dask"),
        default="processes",
        help="with --directions: where the runs go (default: local processes)",
    )
    ap.add_argument("--workers", type=int, default=None, help="with --directions: workers")
    ap.add_argument("--scheduler", help="with --directions: a Dask scheduler's address")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    if args.directions is not None:
        from bt_sim.directions import write
        from bt_sim.experiments.executors import make_executor

        if args.seeds < 2:
            ap.error("--seeds must be at least 2 (a paired standard error needs two)")
        path = None if str(args.directions) == "-" else args.directions
        try:
            with make_executor(args.executor, args.workers, args.scheduler) as executor:
                results = write(path, seeds=args.seeds, executor=executor, keys=args.keys)
        except ValueError as exc:
            ap.error(str(exc))
        return 0 if all(r.holds for r in results) else 1
    if args.crn:
        body = crn_table()
        args.crn.write_text(CRN_HEADER.format(seconds=time.perf_counter() - t0) + body)
        print(body)
        return 0
    results = [measure(c) for c in CONTRASTS]
    body = table(results)
    seconds = time.perf_counter() - t0
    if args.write:
        header = (
            "# Mechanisms and their measured effects\n\n"
            "Each row switches one mechanism on the default scenario (`scenarios/default.toml`, "
            "2,000 households, 120 months) and runs both arms on the same seeds, so each pair "
            "shares its population, network and initial state. *raises*: the paired difference "
            "is beyond 3 standard errors; *does not lower*: no fall beyond 3 standard errors; "
            "*same*: agreement within the stated tolerance. The table is regenerated by "
            "`python -m bt_sim.mechanisms --write docs/mechanisms.md` "
            f"({seconds:.0f} s on one core); `tests/test_mechanisms.py` asserts every row. "
            "Each row belongs to the component that owns the mechanism "
            "(`bt_sim.components.<component>`, its `contrasts`); `households` rows are the "
            "model's own adoption and KPI rules (`bt_sim.mechanisms`).\n\n"
            "The tipping point of the full model is shown by `scenarios/tipping.toml` and "
            "tested in `tests/test_mechanisms.py::test_full_model_tips`.\n\n"
        )
        args.write.write_text(header + body)
    print(body)
    return 0 if all(r.holds for r in results) else 1


# ---- common random numbers: how much they cut the noise of a paired difference -------------

CRN_CONTRASTS: tuple[Contrast, ...] = (
    *(c for c in CONTRASTS if c.mechanism.startswith("feedback: smart meters")),
    *(c for c in CONTRASTS if c.mechanism.startswith("imitation: visible-success")),
    Contrast(
        "number of collectives 1 -> 3",
        ("collectives.count=1",),
        ("collectives.count=3",),
        "behaviours_per_household",
        "raises",
        "",
        common=("collectives.placement=first",),
    ),
    Contrast(
        "one more collective: 2 -> 3",
        ("collectives.count=2",),
        ("collectives.count=3",),
        "behaviours_per_household",
        "raises",
        "",
        common=("collectives.placement=first",),
    ),
    Contrast(
        "founders per collective 5 -> 10",
        ("collectives.founders=5",),
        ("collectives.founders=10",),
        "members",
        "raises",
        "",
        common=("collectives.placement=first",),
    ),
    Contrast(
        "placement of 3 collectives: richest -> poorest neighbourhoods",
        ("collectives.placement=richest",),
        ("collectives.placement=poorest",),
        "inclusivity_gap",
        "raises",
        "",
    ),
)


CRN_HEADER = """# Common random numbers: the noise they take out of comparisons

Each decision of the model draws from its own stream, and each number is a counter-based hash
of (stream, step, household[, behaviour]) (`bt_sim.draws`), so two scenarios that differ in one
mechanism give every household the same draws wherever that mechanism does not reach
(`run.crn = true`, the default). With `run.crn = false` all dynamics draw from one stream in
turn, as with a single sequential generator: one change shifts every later draw.

Construction is keyed the same way under both schemes (`bt_sim.keyed`): every attribute and
initial draw is a function of (seed, stream, household or neighbourhood), and host
neighbourhoods, founders and initial adopters are prefixes of random orders drawn once. So one
more collective or founder leaves every other household's initial state as it was, and with
`collectives.placement = "first"` on a network without ties between neighbourhoods, their whole
trajectory and the hub rows of the other collectives (`tests/test_crn_construction.py`). Where
that cannot hold: another number of households moves the neighbourhood boundaries, and any
change of a population or network key draws another network.

The table gives, for contrasts of [`mechanisms.md`](mechanisms.md) and four strategy choices,
the standard error of the paired difference over the same 20 seeds (the same population,
network and initial state in both arms) under each scheme. The number of runs needed for a
given standard error falls with the square of the ratio. Regenerated by
`python -m bt_sim.mechanisms --crn docs/crn.md` ({seconds:.0f} s on one core).

Each ratio rests on two standard errors estimated from 20 seeds, so it is known to about
±25 %. Common random numbers help where the two arms keep most households on the same course
(a change of feedback, of the number of collectives or of where they are placed); where a
change sends most households on another course (the visible-success weight changes which
behaviours spread), the arms share their numbers but not their paths, and the gain can vanish.

"""


def crn_table(base: str = DEFAULT) -> str:
    """Standard errors of paired differences with and without common random numbers."""
    lines = [
        "| contrast | outcome | b - a (CRN) | SE with CRN | SE with one stream | ratio | runs "
        "saved for the same SE |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for c in CRN_CONTRASTS:
        (on,) = paired_effect(base, c.a, c.b, [c.outcome], c.seeds, (*c.common, "run.crn=true"))
        (off,) = paired_effect(base, c.a, c.b, [c.outcome], c.seeds, (*c.common, "run.crn=false"))
        ratio = off.se / on.se if on.se > 0 else float("inf")
        lines.append(
            f"| {c.mechanism} | {outcome_name(c.outcome)} | {on.diff:+.4f} | {on.se:.4f} | "
            f"{off.se:.4f} | {ratio:.1f} | {ratio**2:.0f}x |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
