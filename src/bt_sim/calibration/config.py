"""The calibration file: base scenario, hub data, matched outputs, priors, statistics, budget."""

from __future__ import annotations

import copy
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from bt_sim.errors import BtSimError, ScenarioError

#: Model outputs that can be matched to hub indicators: both read the model's own hub panel.
MODEL_OUTPUTS = {
    "hub_panel.saving_mean": "saving_mean",
    "hub_panel.n_households": "households",
}
PRIORS = {"uniform": ("low", "high"), "normal": ("mean", "sd"), "lognormal": ("median", "sigma")}
TOP_KEYS = {
    "name",
    "scenario",
    "data",
    "seed",
    "match",
    "parameters",
    "statistics",
    "budget",
    "predictive",
}
SECTION_KEYS = {
    "statistics": {"pool_months", "scale"},
    "budget": {"population_size", "generations", "min_epsilon", "max_simulations"},
    "predictive": {"draws"},
}


class CalibrationError(BtSimError):
    """A calibration file is invalid."""


@dataclass(frozen=True)
class Prior:
    key: str
    kind: str
    a: float
    b: float
    lo: float  # the scenario key's allowed range (the prior is truncated to it)
    hi: float
    integer: bool = False

    def rv(self):
        """The prior as a pyabc random variable."""
        import pyabc

        if self.kind == "uniform":
            return pyabc.RV("uniform", self.a, self.b - self.a)
        if self.kind == "normal":
            lo, hi = (self.lo - self.a) / self.b, (self.hi - self.a) / self.b
            return pyabc.RV("truncnorm", lo, hi, loc=self.a, scale=self.b)
        lo = (math.log(max(self.lo, 1e-300)) - math.log(self.a)) / self.b
        hi = (math.log(self.hi) - math.log(self.a)) / self.b if math.isfinite(self.hi) else math.inf
        return pyabc.RV("truncnorm", lo, hi, loc=math.log(self.a), scale=self.b)

    @property
    def log(self) -> bool:
        """Whether the sampled value is the log of the parameter (lognormal priors)."""
        return self.kind == "lognormal"

    def quantiles(self, qs) -> list[float]:
        """Quantiles of the prior on the parameter's own scale."""
        rv = self.rv()
        out = [float(rv.distribution.ppf(q)) for q in qs]
        return [math.exp(v) for v in out] if self.log else out

    def mass_in_range(self) -> float:
        """The share of the prior as written (before its truncation to the key's range) that
        lies in the key's allowed range: 1 for a uniform prior inside it."""
        from scipy.stats import norm

        if self.kind == "uniform":
            return 1.0
        if self.kind == "normal":
            return float(norm.cdf(self.hi, self.a, self.b) - norm.cdf(self.lo, self.a, self.b))
        lo = math.log(self.lo) if self.lo > 0 else -math.inf
        hi = math.log(self.hi) if math.isfinite(self.hi) else math.inf
        mu = math.log(self.a)
        return float(norm.cdf(hi, mu, self.b) - norm.cdf(lo, mu, self.b))

    def support(self) -> tuple[float, float]:
        """The values the prior can draw, on the parameter's scale (its 1e-9 and 1 - 1e-9
        quantiles for an unbounded one), rounded for an integer key."""
        lo, hi = self.quantiles([1e-9, 1 - 1e-9]) if self.kind != "uniform" else (self.a, self.b)
        return (float(round(lo)), float(round(hi))) if self.integer else (lo, hi)

    def describe(self) -> str:
        names = PRIORS[self.kind]
        return f"{self.kind}({names[0]} = {self.a:g}, {names[1]} = {self.b:g})"


@dataclass(frozen=True)
class Calibration:
    path: Path
    name: str
    scenario_path: Path
    data_path: Path
    seed: int
    match: dict[str, str]  # hub indicator -> model output
    priors: tuple[Prior, ...]
    pool_months: float = 12.0
    scale: dict[str, float] = field(default_factory=dict)
    population_size: int = 100
    generations: int = 5
    min_epsilon: float = 0.0
    max_simulations: int = 10_000
    draws: int = 40
    base_data: dict = field(default_factory=dict, repr=False)

    def scenario(self, values: dict[str, float] | None = None):
        """The base scenario with parameter values set (validated)."""
        from bt_sim.scenario.loader import scenario_from_data

        return scenario_from_data(
            copy.deepcopy(self.base_data), str(self.scenario_path), overrides(self, values or {})
        )


def overrides(cal: Calibration, values: dict[str, float]) -> list[str]:
    out = []
    for p in cal.priors:
        if p.key in values:
            v = values[p.key]
            out.append(f"{p.key}={round(v)}" if p.integer else f"{p.key}={float(v)!r}")
    return out


def _bad(path, key, msg):
    raise CalibrationError(f"{path}: {key}: {msg}" if key else f"{path}: {msg}")


def _num(path, key, value, lo=-math.inf, hi=math.inf, integer=False):
    if isinstance(value, bool) or not isinstance(value, int | float):
        _bad(path, key, f"expected a number, got {value!r}")
    if integer and not isinstance(value, int):
        _bad(path, key, f"expected a whole number, got {value!r}")
    if not (lo <= value <= hi) or not math.isfinite(value):
        _bad(path, key, f"expected a value in [{lo:g}, {hi:g}], got {value!r}")
    return value


def load_calibration(path: str | Path) -> Calibration:
    """Read and check a calibration file; paths in it are relative to the file.

    Raises
    ------
    CalibrationError
        Naming the file and the key, for unknown keys, bad priors, parameters that are not
        numeric scenario keys, and missing files.
    """
    from bt_sim.scenario.loader import find_scenario, read_resolved
    from bt_sim.scenario.validate import scenario_to_dict

    path = Path(path)
    raw = b""
    try:
        raw = path.read_bytes()
        data = tomllib.loads(raw.decode("utf-8"))
    except FileNotFoundError:
        _bad(path, None, "file not found")
    except UnicodeDecodeError as exc:
        from bt_sim.errors import utf8_problem

        line, msg = utf8_problem(raw, exc)
        _bad(path, f"line {line}", msg)
    except tomllib.TOMLDecodeError as exc:
        _bad(path, None, f"not valid TOML ({exc})")
    except OSError as exc:
        _bad(path, None, f"cannot be read: {exc.strerror}")
    for key in data:
        if key not in TOP_KEYS:
            _bad(path, key, f"unknown key; expected one of {', '.join(sorted(TOP_KEYS))}")
    for sec, keys in SECTION_KEYS.items():
        table = data.get(sec, {})
        if not isinstance(table, dict):
            _bad(path, sec, "expected a table")
        for key in table:
            if key not in keys:
                _bad(
                    path, f"{sec}.{key}", f"unknown key; expected one of {', '.join(sorted(keys))}"
                )
    for key in ("scenario", "data"):
        if not isinstance(data.get(key), str):
            _bad(path, key, "required: a file path (relative to this file)")
    here = path.resolve().parent
    name = data.get("name", path.stem)
    if (
        not isinstance(name, str)
        or not name
        or name.startswith(".")
        or any(not (c.isalnum() or c in "-_.") for c in name)
    ):
        _bad(path, "name", "expected a plain name: letters, digits, '-', '_' or '.'")
    scen = data["scenario"]
    scen_path = here / scen if (here / scen).exists() else None
    if scen_path is None:
        try:
            scen_path = Path(find_scenario(scen)) if not scen.endswith(".toml") else None
        except ScenarioError:
            scen_path = None
    if scen_path is None or not Path(scen_path).exists():
        _bad(path, "scenario", f"scenario file {scen!r} not found (relative to {here})")
    data_path = here / data["data"]
    if not data_path.is_file():
        _bad(path, "data", f"hub data file {data['data']!r} not found (relative to {here})")
    base_data = read_resolved(scen_path)
    base = _validated(path, scen_path, base_data)
    defaults = scenario_to_dict(base)

    match = data.get("match", {"saving_mean": "hub_panel.saving_mean"})
    if not isinstance(match, dict) or not match:
        _bad(path, "match", "expected a table of hub indicator = model output")
    from bt_sim.calibration.hubdata import INDICATORS

    for ind, out in match.items():
        if ind not in INDICATORS:
            _bad(
                path,
                f"match.{ind}",
                f"unknown hub indicator; expected one of {', '.join(INDICATORS)}",
            )
        if out not in MODEL_OUTPUTS:
            _bad(
                path,
                f"match.{ind}",
                f"unknown model output {out!r}; expected one of {', '.join(MODEL_OUTPUTS)}",
            )
        if MODEL_OUTPUTS[out] != ind:
            _bad(
                path,
                f"match.{ind}",
                f"model output {out!r} measures {MODEL_OUTPUTS[out]!r}, not {ind!r}",
            )

    params = data.get("parameters")
    if not isinstance(params, dict) or not params:
        _bad(path, "parameters", 'expected at least one [parameters."KEY"] table with a prior')
    from bt_sim.scenario.schema import Scenario

    priors = []
    for key, spec in params.items():
        where = f"parameters.{key}"
        default = _lookup(defaults, key)
        if default is None:
            _bad(path, where, "not a scenario key (see bt-sim scenario keys)")
        if isinstance(default, bool) or not isinstance(default, int | float):
            _bad(path, where, f"not a numeric scenario key (its value is {default!r})")
        if not isinstance(spec, dict):
            _bad(path, where, 'expected a table, e.g. {prior = "uniform", low = 0, high = 1}')
        kind = spec.get("prior")
        if kind not in PRIORS:
            _bad(path, f"{where}.prior", f"expected one of {', '.join(PRIORS)}, got {kind!r}")
        need = PRIORS[kind]
        extra = set(spec) - {"prior", *need}
        if extra:
            _bad(
                path,
                f"{where}.{sorted(extra)[0]}",
                f"unknown key for a {kind} prior; expected {', '.join(need)}",
            )
        for n in need:
            if n not in spec:
                _bad(path, f"{where}.{n}", f"required for a {kind} prior")
            _num(path, f"{where}.{n}", spec[n])
        a, b = float(spec[need[0]]), float(spec[need[1]])
        lo, hi = _range(Scenario, key)
        if kind == "uniform":
            if not a < b:
                _bad(path, where, f"a uniform prior needs low < high, got {a:g} and {b:g}")
            if a < lo or b > hi:
                _bad(
                    path,
                    where,
                    f"prior [{a:g}, {b:g}] leaves the key's allowed range [{lo:g}, {hi:g}]",
                )
        elif b <= 0:
            _bad(path, f"{where}.{need[1]}", f"expected a value > 0, got {b:g}")
        elif kind == "lognormal" and a <= 0:
            _bad(path, f"{where}.median", f"expected a value > 0, got {a:g}")
        priors.append(Prior(key, kind, a, b, lo, hi, integer=isinstance(default, int)))

    stats = data.get("statistics", {})
    budget = data.get("budget", {})
    pred = data.get("predictive", {})
    scale = stats.get("scale", {})
    if not isinstance(scale, dict):
        _bad(path, "statistics.scale", "expected a table of indicator = scale")
    for ind, v in scale.items():
        if ind not in INDICATORS:
            _bad(path, f"statistics.scale.{ind}", "unknown hub indicator")
        _num(path, f"statistics.scale.{ind}", v, 1e-12)
    cal = Calibration(
        path=path,
        name=name,
        scenario_path=Path(scen_path),
        data_path=data_path,
        seed=int(_num(path, "seed", data.get("seed", 1), 0, 2**63 - 1, integer=True)),
        match=dict(match),
        priors=tuple(priors),
        pool_months=float(
            _num(path, "statistics.pool_months", stats.get("pool_months", 12.0), 0.01)
        ),
        scale={"saving_mean": 0.02, "households": 5.0, **scale},
        population_size=int(
            _num(path, "budget.population_size", budget.get("population_size", 100), 2, 10**6, True)
        ),
        generations=int(
            _num(path, "budget.generations", budget.get("generations", 5), 1, 1000, True)
        ),
        min_epsilon=float(_num(path, "budget.min_epsilon", budget.get("min_epsilon", 0.0), 0.0)),
        max_simulations=int(
            _num(
                path,
                "budget.max_simulations",
                budget.get("max_simulations", 10_000),
                1,
                10**9,
                True,
            )
        ),
        draws=int(_num(path, "predictive.draws", pred.get("draws", 40), 2, 10**5, True)),
        base_data=base_data,
    )
    _check_priors_whole(path, cal)
    return cal


#: The least share of a prior that must lie in its key's range (else it is refused: truncated
#: to the range, what is left is a sliver at one edge, not the belief the file states).
MIN_MASS = 0.05


def _check_priors_whole(path: Path, cal: Calibration) -> None:
    """Every value a prior can draw must give a valid scenario (its key's range and the
    scenario's own rules, e.g. ``hub.k >= 5``), checked at each prior's ends with the others
    at their medians and at all lows and all highs together; and a prior must have most of
    its mass in its key's range."""
    for p in cal.priors:
        mass = p.mass_in_range()
        if mass < MIN_MASS:
            lo, hi = p.quantiles([0.001, 0.999])
            _bad(path, f"parameters.{p.key}",
                 f"only {100 * mass:.3g} % of the {p.describe()} prior lies in the key's range "
                 f"[{p.lo:g}, {p.hi:g}]: truncated to it, it would draw from [{lo:.4g}, "
                 f"{hi:.4g}] only; centre the prior inside the range")  # fmt: skip
    medians = {p.key: p.quantiles([0.5])[0] for p in cal.priors}
    # (what is checked, the file key a failure is blamed on, the parameter values)
    points = [("the priors' medians", "parameters", medians)]
    for p in cal.priors:
        for end, v in zip(("lowest", "highest"), p.support(), strict=True):
            points.append((f"{p.key}'s {end} value {v:g}", f"parameters.{p.key}",
                           {**medians, p.key: v}))  # fmt: skip
    if len(cal.priors) > 1:
        for i, end in enumerate(("lowest", "highest")):
            points.append((f"every prior's {end} value", "parameters",
                           {p.key: p.support()[i] for p in cal.priors}))  # fmt: skip
    for what, key, values in points:
        try:
            cal.scenario(values)
        except ScenarioError as exc:
            msgs = "; ".join(f"{k}: {m}" if k else m for _, k, m in exc.problems)
            _bad(path, key, f"at {what} the scenario is not valid ({msgs}); narrow the prior to "
                 "values the scenario accepts")  # fmt: skip


def _validated(path, scen_path, base_data):
    from bt_sim.scenario.loader import scenario_from_data

    try:
        return scenario_from_data(copy.deepcopy(base_data), str(scen_path))
    except ScenarioError as exc:
        raise CalibrationError(f"{path}: scenario: {exc}") from None


def _lookup(d: dict, key: str):
    """The value of a dotted key; an entry of a named array (``behaviours.<name>.<key>``,
    interventions, foundings) is found by its name."""
    cur = d
    for part in key.split("."):
        if isinstance(cur, list):
            cur = next((e for e in cur if isinstance(e, dict) and e.get("name") == part), None)
            if cur is None:
                return None
            continue
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def _range(cls, key: str) -> tuple[float, float]:
    import dataclasses

    from bt_sim.scenario.validate import NAMED_TABLES

    *sections, last = key.split(".")
    named = False
    for sec in sections:
        if named:  # the entry's name: its fields are the item class's
            named = False
            continue
        if sec in NAMED_TABLES:
            cls, named = NAMED_TABLES[sec][0], True
            continue
        cls = {f.name: f for f in dataclasses.fields(cls)}[sec].type
        if isinstance(cls, str):
            from bt_sim.scenario import schema

            cls = getattr(schema, cls)
    f = {f.name: f for f in dataclasses.fields(cls)}[last]
    lo, hi = f.metadata.get("lo"), f.metadata.get("hi")
    return (-math.inf if lo is None else lo, math.inf if hi is None else hi)
