"""Read scenario files: TOML, ``extends`` chains and ``--set`` overrides."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

from bt_sim.errors import ScenarioError
from bt_sim.scenario.schema import Scenario
from bt_sim.scenario.validate import scenario_from_dict

MAX_EXTENDS_DEPTH = 16


def _read_toml(path: Path) -> dict:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ScenarioError([(str(path), "", "file not found")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([(str(path), "", f"not valid TOML: {exc}")]) from None
    except OSError as exc:
        raise ScenarioError([(str(path), "", f"cannot be read: {exc.strerror}")]) from None


def merge(base: dict, override: dict) -> dict:
    """Deep-merge ``override`` into a copy of ``base``; arrays are replaced whole."""
    out = copy.deepcopy(base)
    for k, v in override.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def read_resolved(path: str | Path, _chain: tuple[Path, ...] = ()) -> dict:
    """Read a scenario file and everything it ``extends``, merged into one dictionary.

    Relative paths inside the file (``extends``, ``network.edgelist``) are resolved against the
    file's own folder.
    """
    path = Path(path).resolve()
    if path in _chain:
        cycle = " -> ".join(str(p) for p in (*_chain, path))
        raise ScenarioError([(str(path), "extends", f"cyclic extends chain: {cycle}")])
    if len(_chain) > MAX_EXTENDS_DEPTH:
        raise ScenarioError([(str(path), "extends", "extends chain deeper than 16 files")])
    data = _read_toml(path)
    edgelist = (
        data.get("network", {}).get("edgelist") if isinstance(data.get("network"), dict) else None
    )
    if isinstance(edgelist, str) and edgelist and not Path(edgelist).is_absolute():
        data["network"]["edgelist"] = str((path.parent / edgelist).resolve())
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ScenarioError([(str(path), "extends", f"expected a file path, got {parent!r}")])
    base = read_resolved(path.parent / parent, (*_chain, path))
    return merge(base, data)


def parse_override(text: str) -> tuple[list[str], Any]:
    """Parse ``KEY=VALUE`` from the command line; VALUE is read as TOML, else as a string.

    >>> parse_override("network.mean_degree=6")
    (['network', 'mean_degree'], 6)
    >>> parse_override("network.kind=erdos_renyi")
    (['network', 'kind'], 'erdos_renyi')
    """
    if "=" not in text:
        raise ScenarioError([("--set", text, "expected KEY=VALUE, e.g. network.mean_degree=6")])
    key, raw = text.split("=", 1)
    parts = [p for p in key.strip().split(".")]
    if not key.strip() or any(not p for p in parts):
        raise ScenarioError([("--set", text, "expected a dotted key such as run.steps")])
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return parts, value


def apply_override(data: dict, parts: list[str], value: Any) -> None:
    """Set a dotted key in resolved scenario data; behaviours are addressed by name or index."""
    node: Any = data
    for depth, part in enumerate(parts[:-1]):
        where = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            node = _list_item(node, part, where)
            continue
        if part not in node:
            if part == "behaviours":
                raise ScenarioError([("--set", where, "no behaviours to override")])
            node[part] = {}
        node = node[part]
        if not isinstance(node, dict | list):
            raise ScenarioError([("--set", where, "is a value, not a table")])
    last = parts[-1]
    if isinstance(node, list):
        raise ScenarioError([("--set", ".".join(parts), "expected a key after the behaviour")])
    node[last] = value


def _list_item(items: list, part: str, where: str) -> dict:
    if part.isdigit() and int(part) < len(items):
        return items[int(part)]
    for item in items:
        if isinstance(item, dict) and item.get("name") == part:
            return item
    names = ", ".join(str(i.get("name")) for i in items if isinstance(i, dict))
    raise ScenarioError([("--set", where, f"no behaviour {part!r} (have: {names})")])


def load_scenario(
    path: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()
) -> Scenario:
    """Load, merge and validate a scenario.

    Parameters
    ----------
    path : str or Path, optional
        A TOML scenario file; ``None`` gives the built-in defaults.
    overrides : list of str
        ``KEY=VALUE`` strings applied after the file, e.g. ``"network.mean_degree=6"``.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        Naming the file, the key path and what was expected.

    Examples
    --------
    >>> s = load_scenario(None, ["population.households=500", "run.steps=12"])
    >>> s.population.households, s.run.steps
    (500, 12)
    """
    data = read_resolved(path) if path is not None else {}
    return scenario_from_data(data, str(path) if path is not None else "defaults", overrides)


def scenario_from_data(
    data: dict, source: str, overrides: list[str] | tuple[str, ...] = ()
) -> Scenario:
    """Apply ``KEY=VALUE`` overrides to resolved scenario data, then validate it.

    Used for files (:func:`load_scenario`) and for the scenario stored in a manifest.
    """
    for text in overrides:
        parts, value = parse_override(text)
        if parts[0] == "behaviours" and "behaviours" not in data:
            from bt_sim.scenario.validate import scenario_to_dict

            data["behaviours"] = scenario_to_dict(Scenario())["behaviours"]
        apply_override(data, parts, value)
    if overrides:
        source += " (with --set)"
    return scenario_from_dict(data, source)
