"""Read scenario files: TOML, ``extends`` chains and ``--set`` overrides."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

from bt_sim.errors import ScenarioError
from bt_sim.scenario.schema import Scenario
from bt_sim.scenario.validate import ENTRY, NAMED_TABLES, scenario_from_dict

MAX_EXTENDS_DEPTH = 16


_BOM = b"\xef\xbb\xbf"


def _read_toml(path: Path, shown: str | None = None) -> dict:
    shown = str(path) if shown is None else shown
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError([(shown, "", "file not found")]) from None
    except IsADirectoryError:
        raise ScenarioError([(shown, "", "is a folder, expected a TOML file")]) from None
    except OSError as exc:
        raise ScenarioError([(shown, "", f"cannot be read: {exc.strerror}")]) from None
    if raw.startswith(_BOM):
        raise ScenarioError(
            [(shown, "", "starts with a UTF-8 byte-order mark (BOM); save it as UTF-8 without BOM")]
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            [
                (
                    shown,
                    "",
                    f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
                    "save it as UTF-8",
                )
            ]
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([(shown, "", f"not valid TOML: {exc}")]) from None


def merge(base: dict, override: dict) -> dict:
    """Deep-merge ``override`` into a copy of ``base``; arrays are replaced whole."""
    out = copy.deepcopy(base)
    for k, v in override.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _origins(data: dict, shown: str) -> dict[str, str]:
    """Which file set each key: top-level keys, and the keys of each table."""
    out = {}
    for k, v in data.items():
        out[k] = shown
        if isinstance(v, dict):
            out.update({f"{k}.{kk}": shown for kk in v})
    return out


def _read_chain(path: Path, shown: str, chain: tuple[Path, ...]) -> tuple[dict, dict[str, str]]:
    path = path.resolve()
    if path in chain:
        cycle = " -> ".join(str(p) for p in (*chain, path))
        raise ScenarioError([(shown, "extends", f"cyclic extends chain: {cycle}")])
    if len(chain) > MAX_EXTENDS_DEPTH:
        raise ScenarioError([(shown, "extends", "extends chain deeper than 16 files")])
    data = _read_toml(path, shown)
    if not data:
        raise ScenarioError(
            [(shown, "", "empty: a scenario file needs at least one key (extends = \"default\" "
              "starts from a bundled scenario; bt-sim scenario keys lists them all)")]
        )  # fmt: skip
    edgelist = (
        data.get("network", {}).get("edgelist") if isinstance(data.get("network"), dict) else None
    )
    if isinstance(edgelist, str) and edgelist and not Path(edgelist).is_absolute():
        data["network"]["edgelist"] = str((path.parent / edgelist).resolve())
    records = (
        data.get("organisation", {}).get("records")
        if isinstance(data.get("organisation"), dict)
        else None
    )
    if isinstance(records, str) and records and not Path(records).is_absolute():
        data["organisation"]["records"] = str((path.parent / records).resolve())
    drivers = data.get("landscape")
    for d in drivers if isinstance(drivers, list) else ():
        named = isinstance(d, dict) and isinstance(d.get("file"), str) and d["file"]
        if named and not Path(d["file"]).is_absolute():
            d["file"] = str((path.parent / d["file"]).resolve())
    parent = data.pop("extends", None)
    if parent is None:
        return data, _origins(data, shown)
    if not isinstance(parent, str) or not parent:
        raise ScenarioError([(shown, "extends", f"expected a file path, got {parent!r}")])
    parent_path = path.parent / parent
    parent_shown = str(Path(shown).parent / parent)
    if not parent_path.is_file() and not parent.endswith(".toml"):
        bundled = bundled_scenarios().get(parent)  # extends = "default": the bundled one
        if bundled is not None:
            parent_path, parent_shown = bundled, str(bundled)
    if not parent_path.is_file():
        what = "is not a file" if parent_path.exists() else "file not found"
        raise ScenarioError([(shown, "extends", f"{parent_shown}: {what}")])
    base, origins = _read_chain(parent_path, parent_shown, (*chain, path))
    return merge(base, data), origins | _origins(data, shown)


def read_resolved(path: str | Path, _chain: tuple[Path, ...] = ()) -> dict:
    """Read a scenario file and everything it ``extends``, merged into one dictionary.

    Relative paths inside the file (``extends``, ``network.edgelist``) are resolved against the
    file's own folder.
    """
    return _read_chain(Path(path), str(path), _chain)[0]


def _bundled_folder() -> Path | None:
    here = Path(__file__).resolve().parent
    for folder in (here.parent / "scenario_files", here.parents[2] / "scenarios"):
        if folder.is_dir():
            return folder
    return None


def bundled_scenarios() -> dict[str, Path]:
    """The scenarios that come with bt-sim, by name (file name without ``.toml``).

    An installed package holds them in ``bt_sim/scenario_files``; a source checkout (or an
    editable install) reads the repository's ``scenarios/`` folder.
    """
    folder = _bundled_folder()
    return {p.stem: p for p in sorted(folder.glob("*.toml"))} if folder else {}


def bundled_files(kind: str) -> dict[str, Path]:
    """The sweep files (``kind = "sweeps"``) or comparison files (``"strategies"``: those
    with ``[[strategies]]``) that come with bt-sim, by name.

    >>> "hub_k" in bundled_files("sweeps"), "half_the_town" in bundled_files("strategies")
    (True, True)
    """
    folder = _bundled_folder()
    if folder is None or not (folder / kind).is_dir():
        return {}
    files = sorted((folder / kind).glob("*.toml"))
    if kind == "strategies":
        files = [p for p in files if "[[strategies]]" in p.read_text(encoding="utf-8")]
    return {p.stem: p for p in files}


def find_file(text: str, kind: str) -> str | Path:
    """A sweep or comparison file argument as a path: an existing file, else a bundled one's
    name (``bt-sim sweep hub_k``)."""
    if Path(text).exists() or text.endswith(".toml"):
        return text
    found = bundled_files(kind)
    return found.get(text, text)


def find_scenario(text: str) -> str | Path:
    """A scenario argument as a path: an existing file, else a bundled scenario's name.

    >>> find_scenario("default").name
    'default.toml'
    """
    if Path(text).exists() or text.endswith(".toml"):
        return text
    found = bundled_scenarios()
    if text in found:
        return found[text]
    names = ", ".join(found) or "none"
    raise ScenarioError([(text, "", f"no such file, nor a bundled scenario (bundled: {names})")])


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
    if isinstance(value, dict):
        raise ScenarioError(
            [
                (
                    "--set",
                    key.strip(),
                    "expected a value, not a table (a table would reset the whole section); "
                    f"set its keys one by one, e.g. {key.strip()}.KEY=VALUE",
                )
            ]
        )
    return parts, value


def apply_override(data: dict, parts: list[str], value: Any) -> None:
    """Set a dotted key in resolved scenario data; the entries of an array of named tables
    (:data:`ARRAYS`) are addressed by name or index."""
    node: Any = data
    for depth, part in enumerate(parts[:-1]):
        where = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            node = _list_item(node, part, where)
            continue
        if part not in node:
            if part in ARRAYS:
                raise ScenarioError([("--set", where, f"no {part} to override")])
            node[part] = {}
        node = node[part]
        if not isinstance(node, dict | list):
            raise ScenarioError([("--set", where, "is a value, not a table")])
    last = parts[-1]
    if isinstance(node, list):
        raise ScenarioError(
            [("--set", ".".join(parts), f"expected a key after the {ENTRY[parts[0]]}")]
        )
    node[last] = value


#: The scenario's arrays of named tables, addressed by name or index with ``--set``.
ARRAYS = tuple(NAMED_TABLES)


def _list_item(items: list, part: str, where: str) -> dict:
    what = ENTRY[where.split(".", 1)[0]]  # behaviour, intervention, founding, landscape driver
    if part.isdigit() and int(part) < len(items):
        return items[int(part)]
    for item in items:
        if isinstance(item, dict) and item.get("name") == part:
            return item
    names = ", ".join(str(i.get("name")) for i in items if isinstance(i, dict))
    have = f"have: {names}" if names else "there are none"
    raise ScenarioError([("--set", where, f"no {what} {part!r} ({have})")])


def load_scenario(
    path: str | Path | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    set_by: str = "--set",
) -> Scenario:
    """Load, merge and validate a scenario.

    Parameters
    ----------
    path : str or Path, optional
        A TOML scenario file, or the name of a bundled scenario (``"tipping"``, as the command
        line takes it); ``None`` gives the built-in defaults.
    overrides : list of str
        ``KEY=VALUE`` strings applied after the file, e.g. ``"network.mean_degree=6"``.
    set_by : str
        Where the overrides come from, named in messages (``"hub_k.toml: set"`` for a sweep
        file's ``set``).

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
    >>> load_scenario("tipping").name
    'tipping'
    """
    if path is None:
        return scenario_from_data({}, "defaults", overrides, set_by=set_by)
    if isinstance(path, str):
        path = find_scenario(path)
    data, origins = _read_chain(Path(path), str(path), ())
    return scenario_from_data(data, str(path), overrides, origins, set_by)


def _origin(key: str, origins: dict[str, str]) -> str | None:
    key = key.split("[", 1)[0]
    while key:
        if key in origins:
            return origins[key]
        key = key.rpartition(".")[0]
    return None


def scenario_from_data(
    data: dict,
    source: str,
    overrides: list[str] | tuple[str, ...] = (),
    origins: dict[str, str] | None = None,
    set_by: str = "--set",
) -> Scenario:
    """Apply ``KEY=VALUE`` overrides to resolved scenario data, then validate it.

    Used for files (:func:`load_scenario`) and for the scenario stored in a manifest.
    ``origins`` maps keys to the file that set them (in an ``extends`` chain), so that each
    problem names the file where the key was set; a problem of an override names ``set_by``.
    """
    origins = dict(origins or {})
    try:
        for text in overrides:
            parts, value = parse_override(text)
            origins[".".join(parts)] = set_by
            if parts[0] in ARRAYS and parts[0] not in data:
                from bt_sim.scenario.validate import scenario_to_dict

                data[parts[0]] = scenario_to_dict(Scenario())[parts[0]]  # the default array
            apply_override(data, parts, value)
    except ScenarioError as exc:
        if set_by == "--set":
            raise
        raise ScenarioError(
            [(set_by if src == "--set" else src, key, msg) for src, key, msg in exc.problems]
        ) from None
    try:
        return scenario_from_dict(data, source)
    except ScenarioError as exc:
        if not overrides and not origins:
            raise
        tail = f" (with {set_by})" if overrides else ""
        problems = [
            (_origin(key, origins) or f"{src}{tail}", key, msg) for src, key, msg in exc.problems
        ]
        raise ScenarioError(problems) from None
