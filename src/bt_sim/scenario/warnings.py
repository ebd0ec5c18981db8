"""Settings that are valid but do nothing, or surprise: named warnings, not errors.

``bt-sim scenario validate`` and ``bt-sim run`` print them (to standard error) before any work.
"""

from __future__ import annotations

import dataclasses

from bt_sim.scenario.schema import DEFAULT_INTERVENTIONS, Scenario

# Keys that only the full rule reads.
FULL_ONLY = {
    "social": (
        "response",
        "response_midpoint",
        "response_steepness",
        "norm_support",
        "success_weight",
        "key_figure_weight",
        "collective_weight",
    ),
    "mastery": ("action_rate", "drop_chance"),
}
THRESHOLD_ONLY = ("threshold_mean", "threshold_sd")


def _changed(section: object, name: str) -> bool:
    default = {f.name: f.default for f in dataclasses.fields(section)}[name]
    return getattr(section, name) != default


def inert_settings(s: Scenario) -> list[str]:
    """Warnings for keys set away from their default that the scenario never reads, and for
    other settings that silently do nothing.

    Examples
    --------
    >>> from bt_sim.scenario import load_scenario
    >>> inert_settings(load_scenario(None, ["social.rule=bass", "social.threshold_sd=0.1",
    ...                                     "collectives.count=0", "mastery.enabled=false"]))[0]
    "social.threshold_sd: read only by social.rule = 'threshold'; ignored under 'bass'"
    """
    out: list[str] = []
    soc = s.social
    rule = soc.rule
    if rule != "full":
        for sec, names in FULL_ONLY.items():
            section = getattr(s, sec)
            out += [
                f"{sec}.{n}: read only by social.rule = 'full'; ignored under {rule!r}"
                for n in names
                if _changed(section, n)
            ]
        if s.interventions != DEFAULT_INTERVENTIONS:
            out += [
                f"interventions[{i}] ({x.name}): a collective purchase acts only under "
                f"social.rule = 'full'; ignored under {rule!r}"
                for i, x in enumerate(s.interventions)
                if x.enabled and x.kind == "collective_purchase"
            ]
        if s.mastery.enabled:
            out.append(
                f"mastery.enabled: under social.rule = {rule!r} goals, self-efficacy and "
                "feedback do not change adoption (they still shape the KPI)"
            )
        if s.collectives.count > 0:
            out.append(
                f"collectives.count: under social.rule = {rule!r} collectives recruit but do "
                "not change adoption"
            )
    if rule != "threshold":
        out += [
            f"social.{n}: read only by social.rule = 'threshold'; ignored under {rule!r}"
            for n in THRESHOLD_ONLY
            if _changed(soc, n)
        ]
    if rule != "complex" and _changed(soc, "contacts_needed"):
        out.append(
            f"social.contacts_needed: read only by social.rule = 'complex'; ignored under {rule!r}"
        )
    if rule not in ("bass", "full") and _changed(soc, "q"):
        out.append(f"social.q: read only by the 'bass' and 'full' rules; ignored under {rule!r}")
    if soc.response == "linear" and rule == "full":
        out += [
            f"social.{n}: read only by social.response = 'sigmoid'"
            for n in ("response_midpoint", "response_steepness")
            if _changed(soc, n)
        ]
    if s.collectives.count == 0 and not s.foundings:
        sec = s.collectives
        out += [
            f"collectives.{f.name}: there are no collectives (collectives.count = 0, no "
            "[[foundings]])"
            for f in dataclasses.fields(sec)
            if f.name != "count" and _changed(sec, f.name)
        ]
    if not s.mastery.enabled:
        out += [
            f"mastery.{n}: mastery learning is off (mastery.enabled = false)"
            for n in (
                "goal_initial",
                "goal_step_up",
                "goal_step_down",
                "efficacy_gain",
                "efficacy_loss",
                "effort_max",
                "effort_gain",
                "meter_share",
                "drop_chance",
                "cycle_months",
            )
            if _changed(s.mastery, n)
        ]
    out += hub_warnings(s)
    if s.run.dt > s.mastery.cycle_months and s.mastery.enabled:
        out.append(
            f"run.dt ({s.run.dt:g} months) is longer than mastery.cycle_months "
            f"({s.mastery.cycle_months:g}): households check once per step, less often than "
            "their cycle"
        )
    return out


def hub_warnings(s: Scenario) -> list[str]:
    """Hub settings that are valid but weaken the privacy of what the hub publishes.

    >>> from bt_sim.scenario import load_scenario
    >>> hub_warnings(load_scenario(None, ["hub.k=6"]))[0][:40]
    'hub.k: 6 is below 10; groups this small '
    """
    from bt_sim.scenario.validate import HUB_K_WARN

    h = s.hub
    if not h.enabled or (s.collectives.count == 0 and not s.foundings):
        return []
    out = []
    if h.k < HUB_K_WARN:
        out.append(
            f"hub.k: {h.k} is below {HUB_K_WARN}; groups this small let a few colluding members "
            "narrow down the others' values"
        )
    if h.min_change < 2:
        out.append(
            "hub.min_change: 1 publishes a group whose roster changed by a single household; "
            "differencing two releases then reveals that household's saving"
        )
    if h.epsilon == 0:
        out.append(
            "hub.epsilon: 0 publishes exact means; anyone who knows the other members' values "
            "of a group learns the last one's"
        )
    return out


def empty_seeding(s: Scenario, initial_adopters: dict[str, int]) -> list[str]:
    """Warnings for behaviours whose initial share rounds to no household at all."""
    out = []
    for b in s.behaviours:
        share = b.initial_adoption + b.committed_share
        if share > 0 and initial_adopters.get(b.name, 0) == 0:
            out.append(
                f"behaviours.{b.name}.initial_adoption: {share:g} of the eligible households "
                "rounds to no initial adopter; raise it or population.households"
            )
    return out


def expected_initial_adopters(s: Scenario) -> dict[str, int]:
    """A lower bound of initial adopters per behaviour without building the model: the share
    times all households (eligibility can only lower it, so a 0 here is a 0 in the model)."""
    n = s.population.households
    return {b.name: round((b.initial_adoption + b.committed_share) * n) for b in s.behaviours}
