"""docs/ODD.md describes the code: its schedule table is the model's default plan."""

from __future__ import annotations

import re

from bt_sim.phases import default_phases, plan_table
from bt_sim.scenario.reference import key_reference
from tests.conftest import ROOT


def odd() -> str:
    return (ROOT / "docs" / "ODD.md").read_text()


def test_schedule_table_matches_the_plan():
    rows = re.findall(r"^\| (\d+) \| `(\w+)` \| `([\w.]+)` \|", odd(), flags=re.M)
    plan = plan_table(default_phases())
    expected = [
        (str(o), p, f)
        for o, p, f in zip(plan["order"], plan["phase"], plan["function"], strict=True)
    ]
    assert rows == expected, "update the schedule table in docs/ODD.md section 1.3"


def test_every_scenario_key_named_in_the_odd_exists():
    keys = {line.split("`")[1] for line in key_reference().splitlines()[2:]}
    named = set(
        re.findall(r"`((?:run|population|network|social|mastery|collectives|hub)\.\w+)`", odd())
    )
    unknown = sorted(named - keys)
    assert not unknown, f"docs/ODD.md names keys that do not exist: {unknown}"
