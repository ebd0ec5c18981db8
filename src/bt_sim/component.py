"""Components: a mechanism in one place, and the model composes them.

A component owns, in one module, what one mechanism adds to the model: the scenario section
it reads (its keys, declared in :mod:`bt_sim.scenario.schema`), the state it adds (allocated at
construction), its phases and where they go in the plan, its named random streams, the
outputs it adds to the time series and the summary, and the contrasts that show its effect
(its rows in ``docs/mechanisms.md``). The model builds each component, lets it set up its
state in list order, and walks the plan their phases make (Starsim's modules and LASER's
components are the models for this).

A component of one's own::

    import numpy as np
    from bt_sim import Component, TransitionModel

    class Subsidy(Component):
        "Halve the cost of insulation from year 3 on."
        name = "subsidy"
        phases = (("subsidy", "step"),)  # a method, or a function of the model
        anchor = ("before", "adopt")
        results = {"subsidised": "households"}

        def init_state(self, keyed):
            self.paid = 0

        def step(self):
            ...

    model = TransitionModel(scenario, components=[Subsidy])

or, from a scenario file, ``[model] components = ["my_package.my_module:Subsidy"]``.
``model.subsidy`` is then the component; ``model.plan()`` lists its phase.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from bt_sim.phases import Phase
from bt_sim.streams import register_stream

if TYPE_CHECKING:
    from bt_sim.keyed import Keyed
    from bt_sim.model import TransitionModel


class Component:
    """One mechanism of the model.

    Class attributes
    ----------------
    name : str
        Unique name: the model's attribute for it (``model.<name>``).
    section : str or None
        The scenario section whose keys it reads (documentation).
    streams : dict of str to str
        The named random streams it draws from and what each decides; registered when the
        class is defined (:func:`bt_sim.streams.register_stream`).
    phases : tuple of (phase name, method name or function[, anchor])
        Its phases, in order: a method of the component (no argument) or a function of the
        model (``run(model)``), each advancing the component one step. The phase's streams
        are the component's. A phase with an anchor of its own goes there; the others go
        at the component's ``anchor``.
    anchor : ("before" or "after", phase name) or None
        Where its phases go in a plan that already exists (a component added to the default
        ones); ``None`` appends them.
    results : dict of str to str
        Per-step series it records (name to unit), filled by :meth:`update_results` into
        ``self.result[name]`` (preallocated, one value per step, step 0 included) and added
        to the time series (scope ``overall``) as ``<name>``.
    summary_units : dict of str to str
        The unit of each end-of-run outcome of :meth:`summary` (name to unit; see
        :mod:`bt_sim.units`).
    dynamic : tuple of str
        Attributes that change during a run: copied by a continuation run
        (:meth:`bt_sim.model.TransitionModel.continue_from`).
    requires : tuple of str
        Components whose state its :meth:`init_state` reads: they set up theirs first.
    contrasts : tuple of :class:`bt_sim.contrast.Contrast`
        What switching the mechanism must do to an outcome, with its source: the default
        components' rows of ``docs/mechanisms.md`` (:mod:`bt_sim.mechanisms`), asserted by
        ``tests/test_mechanisms.py``.
    """

    name: ClassVar[str] = ""
    section: ClassVar[str | None] = None
    streams: ClassVar[dict[str, str]] = {}
    phases: ClassVar[tuple[tuple[str, Any], ...]] = ()
    anchor: ClassVar[tuple[str, str] | None] = ("before", "record")
    results: ClassVar[dict[str, str]] = {}
    collective_results: ClassVar[dict[str, str]] = {}
    summary_units: ClassVar[dict[str, str]] = {}
    dynamic: ClassVar[tuple[str, ...]] = ()
    requires: ClassVar[tuple[str, ...]] = ()
    contrasts: ClassVar[tuple[Any, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for stream, what in cls.streams.items():
            register_stream(stream, what)

    def __init__(self, model: TransitionModel):
        self.model = model
        steps = model.config.run.steps
        self.result = {name: np.full(steps + 1, np.nan) for name in self.results}
        self.per_collective: dict[str, np.ndarray] = {}

    def allocate_per_collective(self, collectives: int) -> None:
        """Preallocate the per-collective results (after every component's set-up)."""
        steps = self.model.config.run.steps
        self.per_collective = {
            name: np.full((steps + 1, collectives), np.nan) for name in self.collective_results
        }

    # ---- the lifecycle ------------------------------------------------------------------
    def init_state(self, keyed: Keyed) -> None:
        """Allocate the component's state and draw its initial values from ``keyed`` (the
        component's own sub-stream of the ``initial`` stream, keyed by entity)."""

    def update_results(self, step: int) -> None:
        """Fill ``self.result[...][step]`` after step ``step`` (0: the initial state)."""

    def make_room(self, step: int) -> None:
        """Grow the result arrays to hold ``step`` (a run taken past its planned steps)."""
        for store in (self.result, self.per_collective):
            for name, values in store.items():
                store[name] = room_for(values, step, np.nan)

    def collective_series(self) -> dict[str, np.ndarray]:
        """The per-collective results, each of shape (steps + 1, collectives), for the time
        series (``self.per_collective`` unless the component keeps them otherwise)."""
        return self.per_collective

    def summary(self) -> dict[str, float]:
        """End-of-run outcomes the component adds to the model's summary."""
        return {}

    @classmethod
    def summary_unit(cls, key: str) -> str | None:
        """The unit of summary outcome ``key`` (without the component's name); by default
        looked up in ``summary_units``."""
        return cls.summary_units.get(key)

    def founding_room(self) -> int:
        """Collectives the component may found during the run: the collectives' slots keep
        room for them (read from the scenario before any component's set-up)."""
        return 0

    def on_founding(self, c: int, founders: np.ndarray) -> None:
        """Set up the state of collective ``c``, founded now with the households ``founders``
        (:meth:`bt_sim.components.collectives.Collectives.found`); its slot was allocated at
        construction."""

    def continue_from(self, other: Component) -> None:
        """Take over the dynamic state of the same component of another model."""
        import copy

        for attr in self.dynamic:
            setattr(self, attr, copy.deepcopy(getattr(other, attr)))

    # ---- the plan -----------------------------------------------------------------------
    def plan(self) -> list[Phase]:
        """The component's phases, bound to it."""
        return plan_of(type(self), self)

    def placed(self) -> list[tuple[list[Phase], tuple[str, str] | None]]:
        """The component's phases with where each goes: runs of phases at the component's
        anchor, and each phase that has an anchor of its own."""
        return placed_of(type(self), self)


def room_for(values: np.ndarray, step: int, fill) -> np.ndarray:
    """``values`` (steps first) with room for ``step``: itself, or a copy grown to at least
    twice its length, the new rows ``fill``.

    >>> room_for(np.zeros((2, 3)), 4, np.nan).shape
    (5, 3)
    """
    if step < values.shape[0]:
        return values
    grown = np.full((max(2 * values.shape[0], step + 1), *values.shape[1:]), fill, values.dtype)
    grown[: values.shape[0]] = values
    return grown


def plan_of(cls: type[Component], component: Component | None = None) -> list[Phase]:
    """The phases of component class ``cls`` (methods bound to ``component``)."""
    return [phase for phases, _ in placed_of(cls, component) for phase in phases]


def placed_of(
    cls: type[Component], component: Component | None = None
) -> list[tuple[list[Phase], tuple[str, str] | None]]:
    """:meth:`Component.placed` of class ``cls`` (methods bound to ``component``)."""
    out: list[tuple[list[Phase], tuple[str, str] | None]] = []
    grouping = False  # whether the last group collects phases at the component's anchor
    for entry in cls.phases:
        phase, run = entry[0], entry[1]
        if isinstance(run, str):
            run = _Bound(cls, run, component)
        bound = Phase(phase, run, tuple(cls.streams))
        if len(entry) > 2:
            out.append(([bound], entry[2]))
            grouping = False
        elif grouping:
            out[-1][0].append(bound)
        else:
            out.append(([bound], cls.anchor))
            grouping = True
    return out


def insert_at(plan: list[Phase], phases: Sequence[Phase], anchor: tuple[str, str] | None) -> None:
    """Insert ``phases`` into ``plan`` in order, ``before`` or ``after`` the anchor phase
    (appended where there is no anchor)."""
    names = [p.name for p in plan]
    for phase in phases:
        if phase.name in names:
            raise ValueError(f"a phase named {phase.name!r} is already in the plan")
    if anchor is None:
        plan.extend(phases)
        return
    where, name = anchor
    if where not in ("before", "after"):
        raise ValueError(f"an anchor is ('before' or 'after', phase name), got {anchor!r}")
    if name not in names:
        raise ValueError(f"no phase named {name!r} in the plan ({', '.join(names)})")
    at = names.index(name) + (0 if where == "before" else 1)
    plan[at:at] = list(phases)


class _Bound:
    """A component's phase method as a phase function ``run(model)``, named
    ``Class.method`` with the method's docstring (without a component: for listing a plan)."""

    def __init__(self, cls: type[Component], method: str, component: Component | None):
        func = getattr(cls, method)
        self.method = None if component is None else getattr(component, method)
        self.__doc__ = func.__doc__
        self.__name__ = f"{cls.__name__}.{method}"
        self.__module__ = cls.__module__
        self.__qualname__ = self.__name__

    def __call__(self, model: TransitionModel) -> None:
        if self.method is None:
            raise RuntimeError(f"{self.__name__} is not bound to a model's component")
        self.method()


def load_component(spec: str) -> type[Component]:
    """The component class named ``"package.module:Class"`` (``ValueError`` if it is not
    one)."""
    module, sep, attr = spec.partition(":")
    if not sep or not module or not attr:
        raise ValueError(f"expected 'package.module:Class', got {spec!r}")
    try:
        obj = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"cannot load {spec!r}: {exc}") from None
    if not (isinstance(obj, type) and issubclass(obj, Component)):
        raise ValueError(f"{spec!r} is not a bt_sim Component class")
    return obj


def setup_order(classes: Sequence[type[Component]]) -> list[type[Component]]:
    """``classes`` in an order that sets each up after those it ``requires`` (otherwise in
    the given order); an unknown or circular requirement is refused."""
    names = {cls.name for cls in classes}
    for cls in classes:
        missing = set(cls.requires) - names
        if missing:
            raise ValueError(f"component {cls.name!r} requires {', '.join(sorted(missing))}")
    done: list[type[Component]] = []
    left = list(classes)
    while left:
        ready = [c for c in left if set(c.requires) <= {d.name for d in done}]
        if not ready:
            raise ValueError(f"circular requirements among {', '.join(c.name for c in left)}")
        done.append(ready[0])
        left.remove(ready[0])
    return done


def check_components(classes: Sequence[type[Component]]) -> None:
    """Refuse two components of one name, a nameless one, or one whose name is taken by the
    model."""
    from bt_sim.model import TransitionModel

    seen: set[str] = set()
    for cls in classes:
        if not cls.name or not cls.name.isidentifier():
            raise ValueError(f"component {cls.__name__} needs a name that is an identifier")
        if cls.name in seen:
            raise ValueError(f"two components are named {cls.name!r}")
        if hasattr(TransitionModel, cls.name):
            raise ValueError(f"component name {cls.name!r} is taken by the model")
        seen.add(cls.name)
