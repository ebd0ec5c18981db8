"""Sweep files: what to vary, how to sample it, how often to run it, what to keep.

A sweep file is TOML::

    scenario = "../tipping.toml"      # relative to this file, or a bundled scenario's name
    set = ["run.steps=60"]            # fixed overrides of the base scenario (optional)
    sampler = "grid"                  # grid, latin, sobol or morris
    samples = 64                      # N of latin, sobol (a power of 2) and morris
    replicates = 10                   # runs per point
    seed = 1                          # the sweep's seed
    outputs = ["final_adoption:plant_based_meals"]   # summary outcomes kept (default: all)

    [parameters]
    "behaviours.plant_based_meals.committed_share" = { levels = [0.04, 0.06, 0.08] }
    "network.mean_degree" = { range = [2, 8] }         # samplers; for grid add num = 7

Every problem is reported together, each naming the file and the key, before any run starts.
"""

from __future__ import annotations

import dataclasses
import math
import re
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bt_sim.errors import ScenarioError, SweepError

SAMPLERS = ("grid", "latin", "sobol", "morris")
SEED_SCHEMES = ("independent", "common")
_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$")
MAX_RUNS = 10_000_000

_TOP = {
    "name": "name of the sweep and of its results folder",
    "description": "what the sweep is for",
    "scenario": "base scenario: a TOML file (relative to the sweep file) or a bundled name",
    "set": "fixed overrides of the base scenario, KEY=VALUE strings",
    "sampler": f"one of {', '.join(SAMPLERS)}",
    "samples": "N of the latin, sobol and morris samplers",
    "second_order": "sobol: also second-order indices (default true)",
    "num_levels": "morris: grid levels (default 4)",
    "replicates": "runs per point (default 1)",
    "seed": "the sweep's seed (default 0)",
    "seeds": "independent (each point its own seeds) or common (replicate r shares its seed)",
    "outputs": "summary outcomes to keep (default: every numeric one)",
    "timeseries": "time-series variables to keep per run (overall scope), default none",
    "batch": "runs per Parquet part (default 50)",
    "out": "results folder (default results/<name>)",
    "parameters": "table of the parameters varied",
    "tipping": "table: control, outcome, refine (bt-sim tipping)",
}


@dataclass(frozen=True)
class Parameter:
    """One varied parameter: fixed ``levels`` (grid) or a range ``[lo, hi]``."""

    key: str
    levels: tuple | None = None
    lo: float | None = None
    hi: float | None = None
    num: int | None = None
    integer: bool = False

    def grid_levels(self) -> tuple:
        """The values a grid takes: the levels, or ``num`` evenly spaced values of the range."""
        if self.levels is not None:
            return self.levels
        assert self.lo is not None and self.hi is not None and self.num is not None
        if self.num == 1:
            return (self.lo,)
        step = (self.hi - self.lo) / (self.num - 1)
        vals = [self.lo + i * step for i in range(self.num)]
        return tuple(round(v) for v in vals) if self.integer else tuple(vals)

    def bounds(self) -> tuple[float, float]:
        """The range, or the smallest and largest level; for levels that are not numbers
        (text, true/false) the range of their positions, 0 .. levels - 1."""
        if self.lo is not None and self.hi is not None:
            return self.lo, self.hi
        levels = self.grid_levels()
        if not all(_num(v) for v in levels):
            return 0.0, float(len(levels) - 1)
        vals = [float(v) for v in levels]
        return min(vals), max(vals)


@dataclass(frozen=True)
class TippingSpec:
    """The ``[tipping]`` table: which parameter is the control, which output the outcome."""

    control: str
    outcome: str
    refine: int = 0
    tipped: float | None = None
    min_jump: float = 0.1  # the smallest jump called a tipping point


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep file."""

    source: str
    name: str
    scenario: str
    parameters: tuple[Parameter, ...]
    description: str = ""
    fixed: tuple[str, ...] = ()
    sampler: str = "grid"
    samples: int | None = None
    second_order: bool = True
    num_levels: int = 4
    replicates: int = 1
    seed: int = 0
    seeds: str = "independent"
    outputs: tuple[str, ...] | None = None
    timeseries: tuple[str, ...] = ()
    batch: int = 50
    out: str | None = None
    tipping: TippingSpec | None = None

    @property
    def keys(self) -> list[str]:
        return [p.key for p in self.parameters]


def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def key_type(key: str) -> type | None:
    """The Python type of a scenario key (``int``, ``float``, ``bool``, ``str``), or None.

    The entries of an array of named tables (behaviours, interventions, foundings, landscape
    drivers) are addressed by name or index: ``behaviours.insulation.cost``.

    >>> key_type("hub.k"), key_type("network.mean_degree"), key_type("behaviours.x.cost")
    (<class 'int'>, <class 'float'>, <class 'float'>)
    >>> key_type("landscape.energy.size")
    <class 'float'>
    """
    from bt_sim.scenario.schema import Scenario
    from bt_sim.scenario.validate import NAMED_TABLES

    parts = key.split(".")
    cls: Any = Scenario
    i = 0
    while i < len(parts):
        if not dataclasses.is_dataclass(cls):
            return None
        hints = typing.get_type_hints(cls)
        if parts[i] not in hints:
            return None
        if cls is Scenario and parts[i] in NAMED_TABLES:
            cls, i = NAMED_TABLES[parts[i]][0], i + 2
            if i > len(parts):
                return None
            continue
        cls, i = hints[parts[i]], i + 1
    return cls if cls in (int, float, bool, str) else None


def _parameter(src: str, key: str, raw: Any, problems: list) -> Parameter | None:
    where = f"parameters.{key}"
    if not isinstance(raw, dict):
        problems.append(
            (
                src,
                where,
                f"expected a table such as {{ levels = [...] }} or {{ range = [lo, hi] "
                f"}}, got {raw!r}",
            )
        )
        return None
    unknown = set(raw) - {"levels", "range", "num", "integer"}
    for k in sorted(unknown):
        problems.append((src, f"{where}.{k}", "unknown key (known: integer, levels, num, range)"))
    tp = key_type(key)
    integer = raw.get("integer", tp is int)
    if not isinstance(integer, bool):
        problems.append((src, f"{where}.integer", f"expected true or false, got {integer!r}"))
        integer = False
    if ("levels" in raw) == ("range" in raw):
        problems.append((src, where, "expected exactly one of levels = [...] or range = [lo, hi]"))
        return None
    if "levels" in raw:
        levels = raw["levels"]
        if not isinstance(levels, list) or not levels:
            problems.append((src, f"{where}.levels", f"expected a non-empty list, got {levels!r}"))
            return None
        if any(isinstance(v, dict | list) for v in levels):
            problems.append((src, f"{where}.levels", "expected plain values (numbers, strings)"))
            return None
        if len(set(map(repr, levels))) != len(levels):
            problems.append((src, f"{where}.levels", f"levels repeat: {levels!r}"))
        if "num" in raw:
            problems.append((src, f"{where}.num", "num goes with range, not levels"))
        return Parameter(key, levels=tuple(levels), integer=integer)
    rng = raw["range"]
    if not (isinstance(rng, list) and len(rng) == 2 and all(_num(v) for v in rng)):
        problems.append((src, f"{where}.range", f"expected [lo, hi] (two numbers), got {rng!r}"))
        return None
    lo, hi = float(rng[0]), float(rng[1])
    if not lo < hi:
        problems.append((src, f"{where}.range", f"expected lo < hi, got [{rng[0]}, {rng[1]}]"))
        return None
    num = raw.get("num")
    if num is not None and not (_int(num) and 1 <= num <= MAX_RUNS):
        problems.append(
            (src, f"{where}.num", f"expected a positive integer of at most {MAX_RUNS:,}, got "
             f"{num!r}")
        )  # fmt: skip
        num = None
    return Parameter(key, lo=lo, hi=hi, num=num, integer=integer)


def read_sweep(path: str | Path) -> SweepSpec:
    """Read and check a sweep file, or a bundled one by name (not yet its parameters against
    the scenario schema).

    Raises
    ------
    SweepError
        Every problem found, each naming the file and the key.
    """
    from bt_sim.scenario.loader import _read_toml, find_file

    path = Path(find_file(str(path), "sweeps"))  # a bundled sweep by name: bt-sim sweep hub_k
    src = str(path)
    try:
        data = _read_toml(path, src)
    except ScenarioError as exc:
        raise SweepError(exc.problems) from None
    return sweep_from_dict(data, src, path.parent)


def top_level_reader(data: dict, known: dict, src: str, problems: list):
    """Report ``data``'s keys that are not in ``known`` into ``problems``, and return
    ``get(key, check, expected, default)``: the value of ``key`` when ``check`` accepts it,
    else ``default`` (and a problem saying what was expected); ``default`` when it is absent.
    Sweep files and comparison files read their top-level keys with it."""
    for k in sorted(set(data) - set(known)):
        problems.append((src, k, f"unknown key (known: {', '.join(sorted(known))})"))

    def get(key: str, check, expected: str, default: Any) -> Any:
        if key not in data:
            return default
        v = data[key]
        if not check(v):
            problems.append((src, key, f"expected {expected}, got {v!r}"))
            return default
        return v

    return get


def sweep_from_dict(
    data: dict, src: str = "<sweep>", folder: Path | None = None, model: bool = True
) -> SweepSpec:
    """Check sweep data (a parsed sweep file); relative scenario paths are read from ``folder``.

    ``model=False`` checks a design of any function (:mod:`bt_sim.experiments.design`): no
    base scenario, and parameters that are plain names."""
    problems: list[tuple[str, str, str]] = []
    get = top_level_reader(data, _TOP, src, problems)
    stem = Path(src).stem if src != "<sweep>" else "sweep"
    name = get(
        "name",
        lambda v: isinstance(v, str) and _NAME.match(v),
        "a plain name (1-64 letters, digits, -, _ or ., not starting with .)",
        stem,
    )
    if not _NAME.match(name):
        name = "sweep"
    description = get("description", lambda v: isinstance(v, str), "a string", "")
    scenario = data.get("scenario")
    if scenario is None:
        if model:
            problems.append(
                (src, "scenario", "missing: the base scenario (a file or bundled name)")
            )
    elif not isinstance(scenario, str) or not scenario:
        problems.append((src, "scenario", f"expected a file path or a name, got {scenario!r}"))
        scenario = None
    else:
        scenario = _find_base(scenario, folder, src, problems)
    fixed = get(
        "set",
        lambda v: isinstance(v, list) and all(isinstance(s, str) for s in v),
        "a list of KEY=VALUE strings",
        [],
    )
    sampler = get("sampler", lambda v: v in SAMPLERS, f"one of {', '.join(SAMPLERS)}", "grid")
    bad_sampler = "sampler" in data and data["sampler"] not in SAMPLERS
    samples = get("samples", lambda v: _int(v) and 1 <= v <= MAX_RUNS, "a positive integer", None)
    if sampler != "grid" and samples is None and "samples" not in data:
        problems.append((src, "samples", f"missing: the {sampler} sampler needs samples = N"))
    if sampler == "grid" and "samples" in data:
        problems.append((src, "samples", "a grid takes no samples; give levels or range + num"))
    if sampler == "sobol" and samples is not None and samples & (samples - 1):
        problems.append((src, "samples", f"sobol needs a power of 2 (e.g. 64, 128), got {samples}"))
    second_order = get("second_order", lambda v: isinstance(v, bool), "true or false", True)
    num_levels = get(
        "num_levels",
        lambda v: _int(v) and v >= 2 and v % 2 == 0,
        "an even integer of at least 2",
        4,
    )
    replicates = get(
        "replicates", lambda v: _int(v) and 1 <= v <= 100_000, "an integer in [1, 100000]", 1
    )
    seed = get("seed", lambda v: _int(v) and 0 <= v < 2**63, "an integer in [0, 2^63)", 0)
    seeds = get("seeds", lambda v: v in SEED_SCHEMES, "independent or common", "independent")
    outputs = get(
        "outputs",
        lambda v: isinstance(v, list) and v and all(isinstance(s, str) for s in v),
        "a non-empty list of outcome names",
        None,
    )
    timeseries = get(
        "timeseries",
        lambda v: isinstance(v, list) and all(isinstance(s, str) for s in v),
        "a list of time-series variable names",
        [],
    )
    batch = get("batch", lambda v: _int(v) and 1 <= v <= 100_000, "an integer in [1, 100000]", 50)
    out = get("out", lambda v: isinstance(v, str) and v, "a folder path", None)

    params: list[Parameter] = []
    raw_params = data.get("parameters")
    if raw_params is None:
        problems.append((src, "parameters", "missing: a [parameters] table of what to vary"))
    elif not isinstance(raw_params, dict) or not raw_params:
        problems.append((src, "parameters", "expected a table with at least one parameter"))
    else:
        for key, raw in raw_params.items():
            p = _parameter(src, key, raw, problems)
            if p is None:
                continue
            if bad_sampler:  # which checks apply depends on the sampler: none yet
                params.append(p)
                continue
            if sampler == "grid" and p.levels is None and p.num is None:
                if "num" not in raw:  # (a bad num is reported already)
                    problems.append(
                        (src, f"parameters.{key}", "a grid needs levels = [...] or range + num")
                    )
                continue
            if sampler != "grid" and p.num is not None:
                problems.append(
                    (src, f"parameters.{key}.num", f"num sets a grid's levels; the {sampler} "
                     "sampler draws `samples` points over the range")
                )  # fmt: skip
                continue
            if sampler != "grid" and p.levels is not None:
                problems.append(
                    (src, f"parameters.{key}", f"the {sampler} sampler needs range = [lo, hi]")
                )
                continue
            params.append(p)
        if sampler != "grid" and len(raw_params) < 2 and sampler in ("sobol", "morris"):
            problems.append((src, "parameters", f"{sampler} needs at least two parameters"))

    tipping = None
    if "tipping" in data:
        tipping = _tipping(data["tipping"], src, [p.key for p in params], outputs, problems)

    if not problems:
        total = _count_points(sampler, samples, params, second_order) * replicates
        if total > MAX_RUNS:
            problems.append((src, "replicates", f"{total:,} runs; at most {MAX_RUNS:,}"))
    if problems:
        raise SweepError(problems)
    return SweepSpec(
        source=src, name=name, description=description, scenario=scenario or "",
        parameters=tuple(params), fixed=tuple(fixed), sampler=sampler, samples=samples,
        second_order=second_order, num_levels=num_levels, replicates=replicates, seed=seed,
        seeds=seeds, outputs=tuple(outputs) if outputs else None, timeseries=tuple(timeseries),
        batch=batch, out=out, tipping=tipping,
    )  # fmt: skip


def _count_points(sampler: str, n: int | None, params: list[Parameter], second: bool) -> int:
    d = len(params)
    if sampler == "grid":  # counted, not listed: a grid of a billion levels is refused cheaply
        return math.prod(len(p.levels) if p.levels is not None else p.num or 0 for p in params)
    if sampler == "latin":
        return n or 0
    if sampler == "sobol":
        return (n or 0) * (2 * d + 2 if second else d + 2)
    return (n or 0) * (d + 1)


def _find_base(text: str, folder: Path | None, src: str, problems: list) -> str | None:
    from bt_sim.scenario.loader import bundled_scenarios

    cand = (folder / text) if folder is not None and not Path(text).is_absolute() else Path(text)
    if cand.is_file():
        return str(cand)
    if cand.exists():
        problems.append((src, "scenario", f"{text}: is not a file"))
        return None
    found = bundled_scenarios()
    if text in found and not text.endswith(".toml"):
        return str(found[text])
    names = ", ".join(found) or "none"
    problems.append(
        (
            src,
            "scenario",
            f"{text}: file not found (relative to {folder or '.'}), nor a bundled "
            f"scenario ({names})",
        )
    )
    return None


def _tipping(raw: Any, src: str, keys: list[str], outputs, problems: list) -> TippingSpec | None:
    if not isinstance(raw, dict):
        problems.append((src, "tipping", f"expected a table, got {raw!r}"))
        return None
    before = len(problems)
    for k in sorted(set(raw) - {"control", "outcome", "refine", "tipped", "min_jump"}):
        problems.append(
            (src, f"tipping.{k}", "unknown key (known: control, min_jump, outcome, refine, "
             "tipped)")
        )  # fmt: skip
    control = raw.get("control", keys[0] if len(keys) == 1 else None)
    if not isinstance(control, str) or control not in keys:
        problems.append(
            (
                src,
                "tipping.control",
                f"expected one of the parameters ({', '.join(keys)}), got {control!r}",
            )
        )
    outcome = raw.get("outcome", outputs[0] if outputs and len(outputs) == 1 else None)
    if not isinstance(outcome, str):
        problems.append((src, "tipping.outcome", f"expected an outcome name, got {outcome!r}"))
    elif outputs and outcome not in outputs:
        problems.append(
            (src, "tipping.outcome", f"{outcome!r} is not among outputs ({', '.join(outputs)})")
        )
    refine = raw.get("refine", 0)
    if not (_int(refine) and 0 <= refine <= 1000):
        problems.append(
            (src, "tipping.refine", f"expected an integer in [0, 1000], got {refine!r}")
        )
    tipped = raw.get("tipped")
    if tipped is not None and not _num(tipped):
        problems.append((src, "tipping.tipped", f"expected a number, got {tipped!r}"))
    min_jump = raw.get("min_jump", 0.1)
    if not (_num(min_jump) and min_jump >= 0):
        problems.append(
            (src, "tipping.min_jump", f"expected a non-negative number, got {min_jump!r}")
        )
    if len(keys) != 1:
        problems.append((src, "parameters", "a tipping sweep varies exactly one parameter"))
    if len(problems) > before:
        return None
    return TippingSpec(str(control), str(outcome), int(refine), tipped, float(min_jump))
