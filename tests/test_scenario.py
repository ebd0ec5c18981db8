"""Scenario files: loading, extends, overrides, and a clear error for each kind of bad input."""

from __future__ import annotations

import dataclasses

import pytest

from bt_sim.errors import ScenarioError
from bt_sim.scenario import Scenario, load_scenario
from bt_sim.scenario.reference import key_reference, to_toml
from tests.conftest import ROOT, SCENARIOS


def write(tmp_path, text, name="s.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda p: p.name)
def test_every_shipped_scenario_is_valid(path):
    scenario = load_scenario(path)
    assert scenario.name == path.stem


def test_defaults_without_a_file():
    assert load_scenario(None) == Scenario()


def test_extends_merges_tables_and_replaces_arrays():
    s = load_scenario(SCENARIOS / "bass.toml")
    assert s.social.rule == "bass"
    assert s.population.households == 5000
    assert [b.name for b in s.behaviours] == ["new_practice"]
    assert s.run.seed == load_scenario(SCENARIOS / "default.toml").run.seed  # inherited


def test_overrides_set_nested_keys_and_behaviours_by_name():
    s = load_scenario(
        SCENARIOS / "default.toml",
        [
            "network.mean_degree=6",
            "behaviours.insulation.cost=2000",
            "network.kind=erdos_renyi",
            "behaviours.0.reversible=false",
        ],
    )
    assert s.network.mean_degree == 6.0
    assert s.network.kind == "erdos_renyi"
    by_name = {b.name: b for b in s.behaviours}
    assert by_name["insulation"].cost == 2000.0
    assert s.behaviours[0].reversible is False


def test_show_round_trips(tmp_path):
    s = load_scenario(SCENARIOS / "threshold.toml", ["run.steps=7"])
    again = load_scenario(write(tmp_path, to_toml(s)))
    assert again == s


def test_key_reference_doc_is_in_sync():
    doc = (ROOT / "docs" / "scenario-reference.md").read_text()
    assert key_reference() in doc, "regenerate with: bt-sim scenario keys"


def test_every_key_has_unit_or_choices_and_doc():
    for line in key_reference().splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[4], f"{cells[0]} has no description"


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ("[network]\nmean_degre = 4\n", "network.mean_degre", "unknown key"),
        ("[population]\nhouseholds = 'many'\n", "population.households", "expected an integer"),
        ("[population]\nhouseholds = 2.5\n", "population.households", "expected an integer"),
        ("[run]\ndt = -1\n", "run.dt", "expected a value in [0.01, 12]"),
        ("[network]\nkind = 'smallworld'\n", "network.kind", "expected one of"),
        ("[hub]\nenabled = 1\n", "hub.enabled", "expected true or false"),
        ("[[behaviours]]\nname = 'a b'\n", "behaviours[0].name", "expected an identifier"),
        ("[[behaviours]]\nname='x'\n[[behaviours]]\nname='x'\n", "behaviours[1].name", "duplicate"),
        ("[[behaviours]]\nname = 'x'\ncolour = 1\n", "behaviours[0].colour", "unknown key"),
        ("behaviours = []\n", "behaviours", "non-empty array"),
        ("network = 3\n", "network", "expected a table"),
        ("[collectives]\ncount = 11\n", "collectives.count", "at most population.neighbourhoods"),
        (
            "[population]\nhouseholds = 5\nneighbourhoods = 6\n",
            "population.neighbourhoods",
            "at most population.households",
        ),
        ("[network]\nkind = 'edgelist'\n", "network.edgelist", "expected a file path"),
        ("extends = 3\n", "extends", "expected a file path"),
    ],
)
def test_bad_scenarios_name_file_key_and_expectation(tmp_path, text, key, expected):
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    message = str(err.value)
    assert str(path) in message
    assert f"{key}:" in message
    assert expected in message


def test_all_problems_are_reported_together(tmp_path):
    path = write(tmp_path, "[run]\nsteps = 0\n[network]\nweights = 'heavy'\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert len(err.value.problems) == 2


def test_invalid_toml_and_missing_file(tmp_path):
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(write(tmp_path, "[run\nsteps=3"))
    with pytest.raises(ScenarioError, match="file not found"):
        load_scenario(tmp_path / "nope.toml")


def test_cyclic_extends(tmp_path):
    write(tmp_path, 'extends = "b.toml"\n', "a.toml")
    write(tmp_path, 'extends = "a.toml"\n', "b.toml")
    with pytest.raises(ScenarioError, match="cyclic extends"):
        load_scenario(tmp_path / "a.toml")


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("run.steps", "expected KEY=VALUE"),
        ("behaviours.sauna.cost=3", "no behaviour 'sauna'"),
        ("run.steps=-4", "run.steps: expected a value"),
        ("nosuch.key=1", "nosuch: unknown key"),
        ("run.steps.x=1", "is a value, not a table"),
    ],
)
def test_bad_overrides(override, expected):
    with pytest.raises(ScenarioError, match=expected.replace("[", r"\[").replace(".", r"\.")):
        load_scenario(SCENARIOS / "default.toml", [override])


def test_scenario_is_frozen():
    s = Scenario()
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.run.steps = 3
