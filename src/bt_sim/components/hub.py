"""The collectives' data hub as a component: peer groups, consent, releases, trust.

State: whether the hub is ``active`` (``hub.enabled`` and at least one collective), each
household's peer ``group`` (collective x size class; ``n_groups`` in all), every distinct
roster it has published per group (``past``; ``history`` lists them per group) and
``(step, group, roster)`` of every published row (``releases``): ground truth for researchers
and the attacker tests, never part of the panel. Consent, trust, peer curtailment and whether
a member was compared are household columns (``model.state``). Phase: ``hub``
(:func:`bt_sim.rules.hub.hub_phase`). Streams: ``revoke``, ``opt_in`` and ``hub_noise``; at
construction the ``founder_consent`` sub-stream of ``initial``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from bt_sim.component import Component
from bt_sim.contrast import Contrast
from bt_sim.rules import hub

if TYPE_CHECKING:
    from bt_sim.keyed import Keyed


def member_saving(model) -> float:
    """Mean KPI saving of the members of collectives at the end (those who can be compared)."""
    member = model.state.member & model.collectives.hosted
    return float(model.state.saving[member].mean()) if member.any() else float("nan")


class Hub(Component):
    """The privacy-preserving data hub of each collective (``[hub]``)."""

    name = "hub"
    section = "hub"
    streams: ClassVar[dict[str, str]] = {
        "revoke": "revocation of consent (more likely the lower a member's trust in the hub)",
        "opt_in": "a non-consenting member's later consent (more likely the higher its trust)",
        "hub_noise": "the Laplace noise on each published group mean (one draw per group)",
    }
    phases = (("hub", hub.hub_phase),)
    anchor = ("before", "record")
    dynamic = ("past", "releases", "group", "last_release", "last_step")
    requires = ("collectives",)
    contrasts: ClassVar[tuple[Contrast, ...]] = (
        Contrast(
            "peer comparison: effect 0 -> 0.02",
            ("hub.peer_effect=0",),
            ("hub.peer_effect=0.02",),
            member_saving,
            "raises",
            "home energy reports with peer comparison save about 2 % (Allcott 2011)",
        ),
        Contrast(
            "peer comparison: step 1 -> 0.25 month (cut among the compared)",
            ("run.dt=1", "run.steps=120"),
            ("run.dt=0.25", "run.steps=480"),
            "peer_curtailment",
            "same",
            "a monthly decay, independent of the step (Allcott & Rogers 2014)",
            tolerance=0.002,
            seeds=range(60),
        ),
    )

    def init_state(self, keyed: Keyed) -> None:
        model = self.model
        sc, pop, colls = model.config, model.population, model.collectives
        classes = sc.hub.size_classes
        self.active = sc.hub.enabled and colls.count > 0
        self.group = (np.maximum(colls.of, 0) * classes + hub.size_class(pop.size, classes)).astype(
            np.int32
        )
        self.n_groups = colls.count * classes
        self.past = hub.PastRosters(self.n_groups)
        self.releases: list[tuple[int, int, np.ndarray]] = []
        self.last_release = None  # the latest Release (bt_sim.rules.hub) and its step
        self.last_step = -1
        s = model.state
        self.founder_consent = keyed.sub("founder_consent")  # keyed by household
        consents = self.founder_consent.uniform(pop.n) < sc.hub.consent_rate
        s.consent[:] = s.member & consents & self.active

    def on_founding(self, c: int, founders: np.ndarray) -> None:
        """A new collective's households join its peer groups; its founders consent as the
        founders at the start do (the ``founder_consent`` sub-stream of ``initial``, keyed by
        household)."""
        model = self.model
        sc, pop, colls = model.config, model.population, model.collectives
        homes = colls.homes(c)
        classes = sc.hub.size_classes
        self.group[homes] = c * classes + hub.size_class(pop.size[homes], classes)
        if self.active and founders.size:
            consents = self.founder_consent.uniform_at(founders) < sc.hub.consent_rate
            model.state.consent[founders] = consents

    @property
    def history(self) -> dict[int, list[np.ndarray]]:
        """Every distinct roster the hub has published per group (ground truth for
        researchers and the attacker tests, never part of the panel)."""
        return self.past.by_group()
