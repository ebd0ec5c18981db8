"""Scenarios: the typed, validated description of one world."""

from bt_sim.scenario.loader import load_scenario, merge, read_resolved
from bt_sim.scenario.schema import (
    Behaviour,
    CollectivesConfig,
    HubConfig,
    MasteryConfig,
    NetworkConfig,
    OutputConfig,
    PopulationConfig,
    RunConfig,
    Scenario,
    SocialConfig,
)
from bt_sim.scenario.validate import scenario_from_dict, scenario_to_dict

__all__ = [
    "Behaviour",
    "CollectivesConfig",
    "HubConfig",
    "MasteryConfig",
    "NetworkConfig",
    "OutputConfig",
    "PopulationConfig",
    "RunConfig",
    "Scenario",
    "SocialConfig",
    "load_scenario",
    "merge",
    "read_resolved",
    "scenario_from_dict",
    "scenario_to_dict",
]
