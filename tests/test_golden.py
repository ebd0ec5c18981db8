"""Refactoring keeps results bit for bit: bundled scenarios against stored summaries.

``tests/data/golden.json`` holds, for a few bundled scenarios and seeds, every summary value
(as ``repr`` of the float) and a SHA-256 of the time series and of the hub panel, written by
the engine of commit 75528ca (construction keyed by entity). A change that is meant to keep
results (a move of code into components, a faster kernel) must leave every one of them as it
is; a change of a rule regenerates the file in the same commit, with the reason in its message.
A component added since (its outputs named ``<component>:...``) only adds outputs: those are
left out of the comparison, and everything that was there must be as it was.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import pytest

from bt_sim import TransitionModel, load_scenario

ROOT = Path(__file__).resolve().parents[1]
CASES = json.loads((ROOT / "tests" / "data" / "golden.json").read_text(encoding="utf-8"))
#: The components whose outputs the stored file holds (none of them adds outputs); any other
#: component's outputs are new, and so are the collectives' representation series (added with
#: the per-collective outputs) and the count of collectives founded during a run.
STORED = ("hub", "mastery", "collectives")
ADDED = ("collectives:representation:", "collectives:founded", "collectives:refused_foundings")


def new_output(name: str, model) -> bool:
    return name.startswith(ADDED) or any(
        name.startswith(f"{c}:") for c in model.components if c not in STORED
    )


def digest(df) -> str:
    return hashlib.sha256(df.to_csv(index=False, float_format="%.17g").encode()).hexdigest()


@pytest.mark.parametrize(
    "case", CASES, ids=lambda c: f"{c['scenario']}-{c['seed']}-{len(c['set'])}"
)
def test_results_are_the_stored_ones_bit_for_bit(case):
    sc = load_scenario(str(ROOT / "scenarios" / f"{case['scenario']}.toml"), case["set"])
    m = TransitionModel(sc, seed=case["seed"])
    m.run()
    summary = {k: v for k, v in m.summary().items() if not new_output(k, m)}
    assert set(summary) == set(case["summary"])
    for k, v in case["summary"].items():
        got = summary[k]
        if isinstance(got, str):
            assert got == v, k
        else:
            want = float(v)
            assert (math.isnan(want) and math.isnan(got)) or float(got) == want, k
    ts = m.timeseries()
    old = ~ts["variable"].map(lambda v: new_output(v, m)).astype(bool)
    # the stored digests predate the rename of the time series' ``unit`` column to ``entity``
    # (a unit of measure is something else): the same values under the old header
    stored = ts[old].reset_index(drop=True).rename(columns={"entity": "unit"})
    assert digest(stored) == case["timeseries"]
    assert digest(m.hub_panel()) == case["hub_panel"]
