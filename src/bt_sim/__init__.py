"""bt_sim: an agent-based simulation of how neighbourhood citizen collectives speed up
societal transitions.

>>> from bt_sim import TransitionModel, load_scenario
>>> model = TransitionModel(load_scenario(None, ["population.households=200", "run.steps=6"]))
>>> model.run()
>>> sorted(model.summary())[:2]
['adoption_disadvantaged', 'adoption_other']
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from bt_sim.errors import BtSimError, ScenarioError

#: The modules with compiled kernels (a test checks the list against the sources).
KERNEL_MODULES = (
    "components/capacity.py",
    "components/collectives.py",
    "components/interventions/event.py",
    "components/interventions/pay.py",
    "draws.py",
    "keyed.py",
    "network.py",
    "rules/chunks.py",
    "rules/collective.py",
    "rules/fused.py",
    "rules/hub.py",
    "rules/mastery.py",
    "rules/ties.py",
)


def _kernel_fingerprint() -> str:
    """A short hash of the kernel modules' sizes and modification times. numba checks only a
    kernel's own file before it reuses a compiled kernel, not the modules whose functions it
    inlines (the random numbers of ``draws.py`` in every kernel), so the cache is kept per
    version of all of them."""
    import hashlib

    here = os.path.dirname(os.path.abspath(__file__))
    h = hashlib.sha256()
    for name in KERNEL_MODULES:
        try:
            st = os.stat(os.path.join(here, name))
        except OSError:
            continue
        h.update(f"{name}:{st.st_size}:{st.st_mtime_ns};".encode())
    return h.hexdigest()[:12]


def _numba_cache_dir() -> None:
    """Compile the kernels once per user, not once per process: point numba's cache at a
    per-user folder (``$XDG_CACHE_HOME/bt-sim/numba/<fingerprint>`` or
    ``~/.cache/bt-sim/numba/<fingerprint>``, :func:`_kernel_fingerprint`) unless
    ``NUMBA_CACHE_DIR`` is set already. A read-only install then still caches; if the folder
    cannot be written, numba's own default is left alone."""
    if "NUMBA_CACHE_DIR" in os.environ:
        return
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = os.path.join(base, "bt-sim", "numba", _kernel_fingerprint())
    try:
        os.makedirs(path, exist_ok=True)
    except OSError:
        return
    if os.access(path, os.W_OK):
        os.environ["NUMBA_CACHE_DIR"] = path


_numba_cache_dir()

if TYPE_CHECKING:
    from bt_sim.component import Component
    from bt_sim.model import TransitionModel
    from bt_sim.scenario import Scenario, load_scenario

# Loaded on first use (PEP 562), so that `bt-sim --help` and the scenario commands do not pay
# for importing Mesa, numba and the engine.
_LAZY = {
    "Component": "bt_sim.component",
    "TransitionModel": "bt_sim.model",
    "Scenario": "bt_sim.scenario",
    "load_scenario": "bt_sim.scenario",
}


def __getattr__(name: str):
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("bt-sim")
        except PackageNotFoundError:  # running from a source tree without installing
            return "0.0.0"
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'bt_sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY, "__version__"])


__all__ = [
    "BtSimError",
    "Component",
    "Scenario",
    "ScenarioError",
    "TransitionModel",
    "__version__",
    "load_scenario",
]
