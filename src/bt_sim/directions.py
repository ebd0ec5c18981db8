"""Every declared direction, checked across its whole span with paired seeds.

A scenario key may declare what raising it does to an outcome (``direction`` in
:mod:`bt_sim.scenario.schema`). :func:`check` runs the key at five levels across its span on
the same seeds (the same population, network and initial state at every level: common random
numbers, :mod:`bt_sim.keyed`), through the experiments layer on any executor, and measures the
paired effect between consecutive levels and from the first level to the last. The direction

* **holds** when no step goes against it beyond 3 standard errors and the whole span moves
  the outcome its way beyond 3 standard errors;
* is **not detected** when no step goes against it but the whole span does not move the
  outcome beyond 3 standard errors;
* **turns** when some step goes against it beyond 3 standard errors.

A key declared with no effect (``=outcome``) holds when no step and not the whole span moves
the outcome beyond 3 standard errors. ``docs/directions.md`` is the table, regenerated with::

    python -m bt_sim.mechanisms --directions docs/directions.md
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bt_sim.contrast import paired
from bt_sim.scenario.schema import Behaviour, Intervention, Scenario

#: The behaviour whose keys are swept for a behaviour's declared directions (in the default
#: scenario: cheap, open to every household, and not dropped once done).
BEHAVIOUR = "draught_proofing"
#: The intervention whose keys are swept for an intervention's declared directions (the
#: default catalogue's collective purchase).
INTERVENTION = "purchase"
LEVELS = 5
SEED = 20240612


#: Keys whose direction turns somewhere in their span on purpose: the reason, as the ODD gives
#: it with its source (``docs/ODD.md``, section 2.1, "Directions the model reverses").
EXPLAINED: dict[str, str] = {
    "mastery.goal_initial": "an easy first goal that ratchets up builds self-efficacy "
    "(Bandura & Schunk 1981)",
    "mastery.learning_none": "learning from mostly failed checks lowers self-efficacy "
    "(Bandura 1977a; Carver & Scheier 1998)",
    "mastery.learning_meter": "learning from mostly failed checks lowers self-efficacy "
    "(Bandura 1977a; Carver & Scheier 1998)",
}


@dataclass(frozen=True)
class Declared:
    """One key's declared direction: raising ``key`` over ``levels`` moves ``outcome`` by
    ``sign`` (+1, -1, or 0 for no effect expected)."""

    key: str
    outcome: str
    sign: int
    levels: tuple
    source: str

    @property
    def expected(self) -> str:
        return {1: "raises", -1: "lowers", 0: "no effect"}[self.sign]


def _levels(lo: float, hi: float, integer: bool, count: int = LEVELS) -> tuple:
    values = np.linspace(lo, hi, count)
    if integer:
        return tuple(sorted({round(float(v)) for v in values}))
    return tuple(float(f"{v:.6g}") for v in values)


def _section_fields(cls) -> list[tuple[str, dataclasses.Field]]:
    return [(f.name, f) for f in dataclasses.fields(cls) if f.metadata.get("direction")]


def declared(behaviour: str = BEHAVIOUR) -> list[Declared]:
    """Every key of the schema that declares a direction, in schema order (a behaviour's keys
    for ``behaviour``, an intervention's for the default catalogue's :data:`INTERVENTION`)."""
    out = []
    for section in dataclasses.fields(Scenario):
        factory = section.default_factory
        if section.name == "behaviours":
            cls, prefix = Behaviour, f"behaviours.{behaviour}."
        elif section.name == "interventions":
            cls, prefix = Intervention, f"interventions.{INTERVENTION}."
        elif factory is not dataclasses.MISSING and dataclasses.is_dataclass(factory):
            cls, prefix = factory, f"{section.name}."
        else:
            continue
        for name, f in _section_fields(cls):
            m = f.metadata
            lo, hi = m["span"] if m["span"] else (m["lo"], m["hi"])
            integer = f.type in ("int", int)
            outcome = m["direction"][1:].replace("{behaviour}", behaviour)
            sign = {"+": 1, "-": -1, "=": 0}[m["direction"][0]]
            out.append(
                Declared(prefix + name, outcome, sign, _levels(lo, hi, integer), m["source"])
            )
    return out


@dataclass(frozen=True)
class Step:
    """The paired effect of going from level ``a`` to level ``b``."""

    a: float
    b: float
    diff: float
    se: float
    pairs: int

    @property
    def z(self) -> float:
        if self.se > 0:
            return self.diff / self.se
        return 0.0 if self.diff == 0 else math.copysign(math.inf, self.diff)


@dataclass(frozen=True)
class Checked:
    """A declared direction with its measured means, steps and verdict."""

    declared: Declared
    means: tuple[float, ...]
    steps: tuple[Step, ...]
    whole: Step
    verdict: str  # "holds", "not detected", "turns" (or "moves" for no effect expected)

    @property
    def holds(self) -> bool:
        """Whether the direction holds, or turns where the ODD explains why."""
        return self.verdict in ("holds", "not detected") or self.declared.key in EXPLAINED


def paired_step(values: np.ndarray, i: int, j: int, levels: Sequence) -> Step:
    """The paired difference of level ``j`` less level ``i`` over the seeds (rows)."""
    _, _, diff, se, n = paired(values[:, i], values[:, j])
    return Step(levels[i], levels[j], diff, se, n)


def verdict(sign: int, steps: Sequence[Step], whole: Step, z: float = 3.0) -> str:
    """The verdict on a direction from its steps and its whole span (see the module)."""
    if sign == 0:
        moved = any(abs(s.z) > z for s in (*steps, whole))
        return "moves" if moved else "holds"
    if any(sign * s.z < -z for s in steps):
        return "turns"
    return "holds" if sign * whole.z > z else "not detected"


def check(
    items: Sequence[Declared],
    base: str | None = None,
    seeds: int = 20,
    overrides: Sequence[str] = (),
    executor=None,
    progress: bool = False,
) -> list[Checked]:
    """Measure every direction of ``items`` on scenario ``base`` (default: the default
    scenario) with ``overrides``, ``seeds`` paired seeds per level, on ``executor``."""
    from bt_sim.experiments.core import run_sweep
    from bt_sim.experiments.executors import InProcessExecutor
    from bt_sim.experiments.scenario_run import ScenarioRun
    from bt_sim.scenario import load_scenario, scenario_to_dict

    data = scenario_to_dict(load_scenario(base, list(overrides)))
    executor = executor or InProcessExecutor()
    out = []
    for d in items:
        func = ScenarioRun(data, outputs=[d.outcome], source=f"direction of {d.key}")
        results = run_sweep(
            func,
            {d.key: list(d.levels)},
            replicates=seeds,
            seed=SEED,
            executor=executor,
            seeds="common",  # replicate r of every level shares its seed: paired
            progress=progress,
            desc=d.key,
        )
        failed = results[results["error"] != ""]
        if len(failed):
            raise RuntimeError(f"{d.key}: {failed['error'].iloc[0]}")
        values = (
            results.pivot(index="replicate", columns="point", values=d.outcome)
            .sort_index(axis=1)
            .to_numpy(dtype=np.float64)
        )
        k = len(d.levels)
        steps = tuple(paired_step(values, i, i + 1, d.levels) for i in range(k - 1))
        whole = paired_step(values, 0, k - 1, d.levels)
        means = tuple(float(np.nanmean(values[:, i])) for i in range(k))
        out.append(Checked(d, means, steps, whole, verdict(d.sign, steps, whole)))
    return out


HEADER = """# Directions: what each key does to its outcome, across its whole span

Every scenario key whose literature says what raising it does declares that direction in the
schema (`direction` in `bt_sim/scenario/schema.py`; `bt-sim scenario keys` lists them). This
table runs each such key at {levels} levels across its span on the default scenario
(`scenarios/default.toml`, 2,000 households, 120 months) with the same {seeds} seeds at every
level, so each level shares its population, network and initial state (common random numbers
from the first draw), and gives the paired effect of each step (next level less this one, ±
its standard error) and of the whole span (last level less the first).

*holds*: no step goes against the direction beyond 3 standard errors, and the whole span moves
the outcome its way beyond 3 standard errors. *not detected*: no step goes against it, but the
whole span does not move the outcome beyond 3 standard errors at this number of seeds.
**turns**: some step goes against it beyond 3 standard errors. For a key with no effect
expected, *holds* means no step and not the whole span moves the outcome beyond 3 standard
errors. Where the model's direction differs from the literature's on purpose, the ODD says why
and the key's row names the section (`docs/ODD.md`, "Directions the model reverses").

A behaviour's keys are swept for `{behaviour}`. Regenerated by
`python -m bt_sim.mechanisms --directions docs/directions.md` ({seconds:.0f} s on {workers});
`tests/test_directions.py` checks the directions the ODD states.

"""


def _num(x: float) -> str:
    return f"{x:.4g}"


def table(results: Sequence[Checked]) -> str:
    """The checks as a Markdown table."""
    lines = [
        "| key | levels | outcome | expected | mean at each level | steps (b - a ± SE) "
        "| whole span ± SE | verdict | source |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        d = r.declared
        steps = "; ".join(f"{s.diff:+.4f} ± {s.se:.4f}" for s in r.steps)
        mark = r.verdict if r.verdict in ("holds", "not detected") else f"**{r.verdict}**"
        if r.verdict in ("turns", "moves") and d.key in EXPLAINED:
            mark += f" (explained in the ODD: {EXPLAINED[d.key]})"
        lines.append(
            f"| `{d.key}` | {', '.join(_num(v) for v in d.levels)} | {d.outcome} | "
            f"{d.expected} | {', '.join(f'{m:.4f}' for m in r.means)} | {steps} | "
            f"{r.whole.diff:+.4f} ± {r.whole.se:.4f} | {mark} | {d.source} |"
        )
    return "\n".join(lines) + "\n"


def write(
    path,
    base: str | None = None,
    seeds: int = 20,
    executor=None,
    keys: Sequence[str] = (),
    progress: bool = True,
) -> list[Checked]:
    """Check every declared direction (or those of ``keys``) and write the table to ``path``
    (``None``: print only)."""
    items = declared()
    if keys:
        unknown = set(keys) - {d.key for d in items}
        if unknown:
            raise ValueError(f"no declared direction for {', '.join(sorted(unknown))}")
        items = [d for d in items if d.key in keys]
    t0 = time.perf_counter()
    results = check(items, base, seeds, executor=executor, progress=progress)
    body = table(results)
    if path is not None:
        workers = executor.describe() if executor is not None else "one core"
        header = HEADER.format(
            levels=LEVELS,
            seeds=seeds,
            behaviour=BEHAVIOUR,
            seconds=time.perf_counter() - t0,
            workers=workers,
        )
        from pathlib import Path

        Path(path).write_text(header + body, encoding="utf-8")
    print(body)
    return results
