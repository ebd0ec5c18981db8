"""Write scenarios back out: resolved TOML, and the key reference generated from the schema."""

from __future__ import annotations

import dataclasses
import functools
import json
import typing

from bt_sim.scenario.schema import Scenario
from bt_sim.scenario.validate import NAMED_TABLES, scenario_to_dict


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    return json.dumps(v, ensure_ascii=False)


def to_toml(scenario: Scenario) -> str:
    """The fully resolved scenario as TOML that :func:`load_scenario` reads back unchanged."""
    data = scenario_to_dict(scenario)
    lines = []
    for k, v in data.items():
        if not isinstance(v, dict | list):
            lines.append(f"{k} = {_toml_value(v)}")
    for k, v in data.items():
        if isinstance(v, dict):
            lines.append(f"\n[{k}]")
            lines += [f"{kk} = {_toml_value(vv)}" for kk, vv in v.items()]
    for table in NAMED_TABLES:
        for item in data.get(table, ()):
            lines.append(f"\n[[{table}]]")
            lines += [f"{kk} = {_toml_value(vv)}" for kk, vv in item.items()]
    return "\n".join(lines) + "\n"


def direction_text(direction: str | None) -> str:
    """A declared direction in words: ``"+kpi_saving"`` -> ``"raises kpi_saving"``.

    >>> direction_text("-members"), direction_text("=kpi_saving"), direction_text(None)
    ('lowers members', 'no effect on kpi_saving', '')
    """
    if not direction:
        return ""
    word = {"+": "raises", "-": "lowers", "=": "no effect on"}[direction[0]]
    return f"{word} {direction[1:]}"


def _rows(cls: type, prefix: str) -> list[tuple[str, str, str, str, str, str]]:
    rows = []
    hints = typing.get_type_hints(cls)
    defaults = cls()
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        path = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(tp):
            rows += _rows(tp, f"{path}.")
            continue
        if f.name in NAMED_TABLES:
            rows += _rows(NAMED_TABLES[f.name][0], f"{f.name}[].")
            continue
        meta = f.metadata
        if meta.get("choices"):
            # no "|": it would split the table cell
            allowed = ", ".join(c if c else '""' for c in meta["choices"])
        elif meta.get("lo") is not None:
            allowed = f"{meta['lo']:g} .. {meta['hi']:g}"
        else:
            allowed = tp.__name__ if isinstance(tp, type) else str(tp)
        default = getattr(defaults, f.name)
        rows.append(
            (
                path,
                _toml_value(default),
                meta.get("unit", ""),
                allowed,
                meta.get("doc", ""),
                direction_text(meta.get("direction")),
            )
        )
    return rows


def key_reference() -> str:
    """A Markdown table of every scenario key: default, unit, allowed values, meaning, and
    the direction its literature gives it (raising the key raises or lowers that outcome of
    the summary; checked in ``docs/directions.md``)."""
    out = [
        "| key | default | unit | allowed | meaning | raising it |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for path, default, unit, allowed, doc, direction in _rows(Scenario, ""):
        out.append(f"| `{path}` | `{default}` | {unit} | {allowed} | {doc} | {direction} |")
    return "\n".join(out) + "\n"


def key_unit(path: str) -> str | None:
    """The unit of scenario key ``path`` (``None`` if it is not a key).

    Keys of a named behaviour, intervention or founding (``behaviours.<name>.<key>``) have the
    unit of ``behaviours[].<key>``.

    >>> key_unit("run.dt"), key_unit("behaviours.insulation.cost")
    ('months', 'EUR')
    """
    parts = path.split(".")
    if len(parts) == 3 and parts[0] in NAMED_TABLES:
        path = f"{parts[0]}[].{parts[2]}"
    return _units().get(path)


@functools.cache
def _units() -> dict[str, str]:
    return {row[0]: row[2] for row in _rows(Scenario, "")}
