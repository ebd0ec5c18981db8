"""bt_sim: an agent-based simulation of how neighbourhood citizen collectives speed up
societal transitions.

>>> from bt_sim import TransitionModel, load_scenario
>>> model = TransitionModel(load_scenario(None, ["population.households=200", "run.steps=6"]))
>>> model.run()
>>> sorted(model.summary())[:2]
['adoption_disadvantaged', 'adoption_other']
"""

from importlib.metadata import PackageNotFoundError, version

from bt_sim.errors import BtSimError, ScenarioError
from bt_sim.model import TransitionModel
from bt_sim.scenario import Scenario, load_scenario

try:
    __version__ = version("bt-sim")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"

__all__ = [
    "BtSimError",
    "Scenario",
    "ScenarioError",
    "TransitionModel",
    "__version__",
    "load_scenario",
]
