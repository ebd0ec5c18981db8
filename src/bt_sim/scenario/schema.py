"""The typed description of one simulated world.

Each section of a scenario file is a frozen dataclass below. Every field carries its default,
unit, allowed range and a one-line description in its metadata; validation
(:mod:`bt_sim.scenario.validate`) and the key reference (``bt-sim scenario keys``,
``docs/scenario-reference.md``) are both generated from these declarations, so they never drift
apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def key(
    default: Any,
    unit: str = "",
    doc: str = "",
    lo: float | None = None,
    hi: float | None = None,
    choices: tuple[str, ...] | None = None,
    direction: str | None = None,
    span: tuple[float, float] | None = None,
    source: str = "",
) -> Any:
    """Declare a scenario key with its default, unit, range and description.

    ``direction`` states what raising the key does to an outcome of the summary, as its
    literature says: ``"+outcome"`` (raises it), ``"-outcome"`` (lowers it) or ``"=outcome"``
    (no effect expected); ``{behaviour}`` in the outcome stands for the behaviour of a
    behaviour's key. ``span`` is the part of the allowed range over which the direction is
    checked, where that range reaches values no scenario uses (a rate of 100 a month);
    ``source`` names the literature. ``python -m bt_sim.mechanisms --directions`` checks every
    declared direction across its span (:mod:`bt_sim.directions`).
    """
    if direction is not None and (direction[:1] not in "+-=" or len(direction) < 2):
        raise ValueError(f"direction must be '+outcome', '-outcome' or '=outcome': {direction!r}")
    return field(
        default=default,
        metadata={
            "unit": unit,
            "doc": doc,
            "lo": lo,
            "hi": hi,
            "choices": choices,
            "direction": direction,
            "span": span,
            "source": source,
        },
    )


@dataclass(frozen=True)
class RunConfig:
    """Run length, time step, seed and replicates."""

    steps: int = key(120, "steps", "number of time steps to simulate", 1, 100_000)
    dt: float = key(1.0, "months", "length of one time step", 0.01, 12.0)
    seed: int = key(
        20240612, "", "root of the seed sequence; replicates get independent streams", 0, 2**63 - 1
    )
    replicates: int = key(1, "", "independent replicates of the run", 1, 100_000)
    crn: bool = key(
        True,
        "",
        "common random numbers: each decision draws from its own stream, by step and household "
        "(false: one sequential stream for all dynamics)",
    )


@dataclass(frozen=True)
class PopulationConfig:
    """Households and their heterogeneity."""

    households: int = key(2000, "households", "number of households", 2, 50_000_000)
    neighbourhoods: int = key(
        10, "", "number of neighbourhoods (equal sizes, contiguous ids)", 1, 100_000
    )
    income_median: float = key(
        2900.0,
        "EUR/month",
        "median net household income",
        100,
        1e6,
        direction="+behaviours_per_household",
        span=(1000, 8000),
        source="costs weigh less at higher incomes (Frederiks et al. 2015)",
    )
    income_sigma: float = key(0.45, "log EUR", "spread of log income within a neighbourhood", 0, 3)
    segregation: float = key(0.25, "log EUR", "spread of neighbourhood mean log income", 0, 3)
    owner_share: float = key(
        0.57,
        "fraction",
        "share of owner-occupiers",
        0,
        1,
        direction="+behaviours_per_household",
        source="owners can invest in their dwelling (split incentives: Gillingham et al. 2012)",
    )
    household_size_mean: float = key(2.15, "persons", "mean household size (1 + Poisson)", 1, 8)
    senior_share: float = key(0.25, "fraction", "share of households aged 65+", 0, 1)
    young_share: float = key(0.25, "fraction", "share of households under 35", 0, 1)
    time_budget_mean: float = key(
        0.5,
        "fraction",
        "mean spare time budget (Beta, 0..1)",
        0.01,
        0.99,
        direction="+behaviours_per_household",
        span=(0.1, 0.9),
        source="lack of time is a barrier to effortful measures (Frederiks et al. 2015)",
    )
    low_literacy_share: float = key(
        0.12,
        "fraction",
        "share with low (digital) literacy",
        0,
        1,
        direction="-mean_efficacy",
        span=(0, 0.5),
        source="low literacy lowers self-efficacy (Bandura 1997)",
    )
    non_native_share: float = key(
        0.15, "fraction", "share not speaking the local language at home", 0, 1
    )
    disadvantaged_income_quantile: float = key(
        0.2,
        "quantile",
        "income quantile below which a household is disadvantaged (as are low-literacy renters)",
        0,
        1,
    )
    baseline_kpi: float = key(
        250.0, "kWh/month", "median baseline KPI of a 2-person household", 0.001, 1e9
    )
    baseline_kpi_sigma: float = key(0.3, "log", "spread of log baseline KPI", 0, 3)
    gatekeeper_share: float = key(
        0.02,
        "fraction",
        "share of key figures who reach others",
        0,
        1,
        direction="+members",
        span=(0, 0.2),
        source="key figures bring in others (Kraft-Todd et al. 2018)",
    )
    owner_income_slope: float = key(
        1.2, "log-odds/sd", "how strongly owner-occupation rises with income", -10, 10
    )
    literacy_income_slope: float = key(
        0.8, "log-odds/sd", "how strongly low literacy falls with income", -10, 10
    )
    language_income_slope: float = key(
        0.5, "log-odds/sd", "how strongly a non-native home language falls with income", -10, 10
    )
    senior_literacy_shift: float = key(
        0.0, "log-odds", "extra log-odds of low (digital) literacy for households aged 65+", -10, 10
    )
    senior_time_shift: float = key(
        0.0, "fraction", "shift of the mean spare time budget for households aged 65+", -0.9, 0.9
    )
    young_time_shift: float = key(
        0.0, "fraction", "shift of the mean spare time budget for households under 35", -0.9, 0.9
    )


@dataclass(frozen=True)
class NetworkConfig:
    """The social network between households."""

    kind: str = key(
        "neighbourhood",
        "",
        "network generator",
        choices=(
            "neighbourhood",
            "erdos_renyi",
            "watts_strogatz",
            "barabasi_albert",
            "stochastic_block",
            "ring_lattice",
            "complete",
            "edgelist",
        ),
    )
    mean_degree: float = key(10.0, "ties", "mean number of ties per household", 0, 10_000)
    within_share: float = key(
        0.85,
        "fraction",
        "share of candidate ties drawn inside the neighbourhood (neighbourhood, stochastic_block)",
        0,
        1,
    )
    homophily: float = key(
        1.5, "", "strength of preference for similar households (neighbourhood)", 0, 20
    )
    locality: float = key(
        0.05,
        "fraction",
        "scale of street proximity within a neighbourhood (neighbourhood)",
        0.001,
        1,
    )
    rewire_p: float = key(0.1, "probability", "rewiring probability (watts_strogatz)", 0, 1)
    edgelist: str = key("", "path", "edge-list file, relative to the scenario file (edgelist)")
    weights: str = key(
        "random",
        "",
        "tie weights (an edge list's own weights and the complete graph's 1 win)",
        choices=("equal", "random"),
    )
    weight_min: float = key(0.2, "", "lowest tie weight when weights are random (upper is 1)", 0, 1)


@dataclass(frozen=True)
class Behaviour:
    """One behaviour households can adopt."""

    name: str = key("behaviour", "", "identifier (letters, digits, underscore)")
    kpi_effect: float = key(
        0.05,
        "fraction",
        "relative KPI reduction once adopted",
        0,
        1,
        direction="+kpi_saving",
        source="a measure saves what it saves",
    )
    cost: float = key(
        0.0,
        "EUR",
        "one-off cost of adopting",
        0,
        1e7,
        direction="-final_adoption:{behaviour}",
        span=(0, 20000),
        source="a higher price lowers uptake (Frederiks et al. 2015)",
    )
    difficulty: float = key(
        0.3,
        "0..1",
        "effort needed; hurts households short of time",
        0,
        1,
        direction="-final_adoption:{behaviour}",
        source="effortful behaviours are adopted less (Gardner & Stern 2008)",
    )
    reversible: bool = key(True, "", "whether the behaviour can be dropped again")
    eligibility: str = key("all", "", "who can adopt", choices=("all", "owners", "renters"))
    initial_adoption: float = key(
        0.02,
        "fraction",
        "share of eligible households adopting at start",
        0,
        1,
        direction="+final_adoption:{behaviour}",
        span=(0, 0.3),
        source="more early adopters, more models to imitate (Rogers 2003)",
    )
    committed_share: float = key(
        0.0,
        "fraction",
        "share of eligible households who adopt at start and never drop (committed early adopters)",
        0,
        1,
    )
    resistance: float = key(
        0.0,
        "0..1",
        "the regime's lock-in of current practice (habits, missing infrastructure, incumbent "
        "offers): the share by which it lowers the adoption hazard when nobody does the "
        "behaviour yet (regime.lock_in)",
        0,
        1,
        direction="-final_adoption:{behaviour}",
        span=(0, 0.8),
        source="a locked-in regime resists new practice (Unruh 2000; Geels 2002)",
    )
    learning_rate: float = key(
        0.0,
        "fraction",
        "cost learning: the share by which its price falls with each doubling of the households "
        "that have done it (Wright's law; regime.cost_learning)",
        0,
        0.9,
    )
    price_floor: float = key(
        0.3,
        "fraction",
        "the lowest price cost learning reaches, as a share of the scenario's cost",
        0,
        1,
    )


DEFAULT_BEHAVIOURS: tuple[Behaviour, ...] = (
    Behaviour("lower_thermostat", 0.06, 0.0, 0.2, True, "all", 0.05),
    Behaviour("shorter_showers", 0.04, 0.0, 0.35, True, "all", 0.03),
    Behaviour("draught_proofing", 0.05, 150.0, 0.3, False, "all", 0.02),
    Behaviour("insulation", 0.15, 4000.0, 0.6, False, "owners", 0.02),
    Behaviour("heat_pump", 0.30, 9000.0, 0.8, False, "owners", 0.005),
)


@dataclass(frozen=True)
class SocialConfig:
    """Social learning: one rule family; Bass, threshold and complex contagion are special cases."""

    rule: str = key("full", "", "adoption rule", choices=("full", "bass", "threshold", "complex"))
    p: float = key(
        0.001,
        "1/month",
        "external (innovation) adoption rate",
        0,
        100,
        direction="+behaviours_per_household",
        span=(0, 0.01),
        source="external influence (Bass 1969)",
    )
    q: float = key(
        0.03,
        "1/month",
        "imitation rate per unit adopted neighbour share",
        0,
        100,
        direction="+behaviours_per_household",
        span=(0, 0.2),
        source="imitation (Bass 1969)",
    )
    threshold_mean: float = key(0.18, "fraction", "mean adoption threshold (threshold rule)", 0, 1)
    threshold_sd: float = key(0.0, "fraction", "spread of thresholds (threshold rule)", 0, 1)
    contacts_needed: int = key(2, "contacts", "adopting contacts needed (complex rule)", 1, 1000)
    response: str = key(
        "linear",
        "",
        "exposure response of the full rule: linear, or sigmoid (social reinforcement)",
        choices=("linear", "sigmoid"),
    )
    response_midpoint: float = key(
        0.25,
        "fraction",
        "adopted share at which the sigmoid response is half-way (sigmoid)",
        0.001,
        1,
    )
    response_steepness: float = key(
        3.0, "", "steepness (Hill exponent) of the sigmoid response (sigmoid)", 1, 20
    )
    norm_support: float = key(
        0.5,
        "0..1",
        "how much contacts who visibly keep a behaviour protect it from being dropped",
        0,
        1,
        direction="+behaviours_per_household",
        source="descriptive norms sustain behaviour (Cialdini 2003)",
    )
    success_weight: float = key(
        0.5,
        "0..1",
        "how much a contact's visible success with a behaviour weighs",
        0,
        1,
        direction="+behaviours_per_household",
        source="observers imitate models whose behaviour is rewarded (Bandura 1977)",
    )
    key_figure_weight: float = key(
        2.0, "", "how much more a key figure weighs as a role model than others", 1, 100
    )
    collective_weight: float = key(
        0.3,
        "0..1",
        "weight of the collective's adoption in a member's exposure",
        0,
        1,
        direction="+behaviours_per_household",
        source="members learn from fellow members (Middlemiss 2011)",
    )
    seeding: str = key("random", "", "where initial adopters sit", choices=("random", "cluster"))


@dataclass(frozen=True)
class MasteryConfig:
    """Mastery learning: goals and plan-do-check-act."""

    enabled: bool = key(True, "", "households set goals and reflect on their KPI")
    initial_efficacy: float = key(
        0.5,
        "0..1",
        "mean initial self-efficacy (Beta)",
        0.01,
        0.99,
        direction="+behaviours_per_household",
        span=(0.05, 0.95),
        source="self-efficacy sustains action (Bandura 1977)",
    )
    low_literacy_efficacy: float = key(
        0.8,
        "factor",
        "initial self-efficacy of low-literacy households relative to others",
        0,
        1,
        direction="+mean_efficacy",
        source="the starting point of self-efficacy",
    )
    cycle_months: float = key(
        3.0,
        "months",
        "length of a plan-do-check-act cycle (a goal is held for one cycle)",
        0.25,
        24,
    )
    goal_initial: float = key(
        0.05,
        "fraction",
        "first goal and lowest goal: relative KPI reduction",
        0,
        1,
        direction="+kpi_saving",
        span=(0, 0.3),
        source="harder specific goals raise performance (Locke & Latham 2002)",
    )
    goal_step_up: float = key(0.01, "fraction/check", "goal raise after a successful check", 0, 1)
    goal_step_down: float = key(
        0.01, "fraction/check", "goal cut after `goal_patience` failed checks in a row", 0, 1
    )
    goal_patience: int = key(
        2, "checks", "failed checks in a row before a household lowers its goal", 1, 100
    )
    goal_max: float = key(0.5, "fraction", "highest goal a household sets", 0, 1)
    efficacy_gain: float = key(
        0.15,
        "1/check",
        "share of the efficacy gap closed by a successful check (x learning)",
        0,
        1,
        direction="+mean_efficacy",
        source="mastery experiences build self-efficacy (Bandura 1977)",
    )
    efficacy_loss: float = key(
        0.1,
        "1/check",
        "share of self-efficacy lost by a failed check (x learning)",
        0,
        1,
        direction="-mean_efficacy",
        source="failures lower self-efficacy (Bandura 1977)",
    )
    effort_max: float = key(
        0.08,
        "fraction",
        "KPI saving from full curtailment effort (everyday conservation)",
        0,
        1,
        direction="+kpi_saving",
        span=(0, 0.3),
        source="curtailment saves energy (Gardner & Stern 2008)",
    )
    effort_gain: float = key(
        4.0,
        "1/(fraction.check)",
        "effort added per unit of perceived goal gap (x learning)",
        0,
        100,
        direction="+kpi_saving",
        span=(0, 20),
        source="a goal gap prompts effort (Carver & Scheier 1982)",
    )
    effort_relapse: float = key(
        0.05,
        "1/month",
        "rate at which curtailment effort relapses into old habits",
        0,
        100,
        direction="-kpi_saving",
        span=(0, 0.5),
        source="habits pull effort back (Verplanken & Wood 2006)",
    )
    action_rate: float = key(
        0.03,
        "1/month",
        "extra imitation rate per unit exposure while a goal is unmet (a search for what works)",
        0,
        100,
        direction="+behaviours_per_household",
        span=(0, 0.2),
        source="an unmet goal prompts a search for measures (Carver & Scheier 1982)",
    )
    drop_chance: float = key(
        0.3,
        "probability/check",
        "chance of dropping a reversible behaviour after a failed check (x (1 - efficacy) x "
        "(1 - feedback reliability))",
        0,
        1,
        direction="-behaviours_per_household",
        source="a failed check can end a behaviour (Carver & Scheier 1982)",
    )
    cost_scale: float = key(
        3000.0,
        "EUR",
        "cost that halves uptake at the reference income",
        1,
        1e7,
        direction="+behaviours_per_household",
        span=(500, 20000),
        source="costs weigh less (Frederiks et al. 2015)",
    )
    reference_income: float = key(
        2900.0,
        "EUR/month",
        "net monthly income at which a cost of cost_scale halves uptake (a household's "
        "cost barrier scales with its income against this, so a richer town adopts costly "
        "measures more)",
        100,
        1e6,
    )
    meter_share: float = key(
        0.3,
        "fraction",
        "share with a smart meter (feedback quality 'meter')",
        0,
        1,
        direction="+kpi_saving",
        source="feedback on energy use saves a few % (Fischer 2008)",
    )
    learning_none: float = key(
        0.3,
        "0..1",
        "learning speed without feedback",
        0,
        1,
        direction="+kpi_saving",
        source="faster learning from results (Carver & Scheier 1982)",
    )
    learning_meter: float = key(
        0.7,
        "0..1",
        "learning speed with a meter",
        0,
        1,
        direction="+kpi_saving",
        source="faster learning from results (Carver & Scheier 1982)",
    )
    learning_hub: float = key(
        1.0,
        "0..1",
        "learning speed with hub feedback",
        0,
        1,
        direction="+kpi_saving",
        source="faster learning from results (Carver & Scheier 1982)",
    )
    kpi_noise: float = key(
        0.05, "log", "spread of the KPI's month-to-month noise (correlation time 1 month)", 0, 2
    )
    perception_noise: float = key(
        0.08,
        "fraction",
        "error of a cycle's perceived saving without feedback",
        0,
        2,
        direction="-kpi_saving",
        span=(0, 0.5),
        source="a reliable signal shows what delivers (Fischer 2008)",
    )
    feedback_noise_divisor: float = key(
        4.0,
        "",
        "a meter or the hub divides the perception error by this",
        1,
        1000,
        direction="+kpi_saving",
        span=(1, 20),
        source="better feedback, better learning (Fischer 2008)",
    )
    signal_sd: float = key(
        0.04,
        "fraction",
        "typical size of a real goal gap; feedback reliability is sd^2 / (sd^2 + error^2)",
        0.0001,
        1,
    )


#: Targeting rules: whom a collective or an intervention reaches first (:mod:`bt_sim.targeting`).
CHOICE_RULES = ("plan", "cheapest")
TARGETING_RULES = (
    "usual_suspects",
    "random",
    "degree",
    "bridges",
    "positive_deviants",
    "disadvantaged",
)


@dataclass(frozen=True)
class CollectivesConfig:
    """Citizen collectives: recruitment, shared goals, dialogue."""

    count: int = key(
        3,
        "collectives",
        "number of collectives at the start (one per neighbourhood)",
        0,
        100_000,
        direction="+behaviours_per_household",
        span=(0, 10),
        source="community groups raise uptake (Middlemiss 2011)",
    )
    max_count: int = key(
        0,
        "collectives",
        "room for collectives, those at the start and those founded during the run (the state "
        "is allocated for this many; 0: collectives.count plus the [[foundings]])",
        0,
        100_000,
    )
    placement: str = key(
        "random",
        "",
        "which neighbourhoods host them",
        choices=("random", "first", "richest", "poorest"),
    )
    founders: int = key(
        5,
        "households",
        "founding members of each collective",
        1,
        10_000,
        direction="+members",
        span=(1, 50),
        source="a larger core recruits more (Granovetter 1978)",
    )
    outreach_rule: str = key(
        "usual_suspects",
        "",
        "whom a collective's outreach reaches first: usual_suspects (the outreach weights "
        "below), random (everyone alike), or another targeting rule (degree, bridges, "
        "positive_deviants, disadvantaged), each household weighted exp(usual_suspects_bias "
        "* its standardised score)",
        choices=TARGETING_RULES,
    )
    outreach_hours: float = key(
        0.0,
        "hours/month",
        "volunteer hours a collective's outreach takes at its full rate: the hours its "
        "interventions leave over go to outreach, which slows in proportion when they fall "
        "short (0: outreach takes no hours)",
        0,
        1e4,
    )
    founder_rule: str = key(
        "usual_suspects",
        "",
        "whom the founders are drawn from first, in each host neighbourhood: usual_suspects "
        "(in proportion to the outreach propensity), random, degree (most ties), bridges (most "
        "ties to other neighbourhoods), positive_deviants (most saving for their income) or "
        "disadvantaged",
        choices=TARGETING_RULES,
    )
    outreach_rate: float = key(
        0.003,
        "1/month",
        "recruitment rate by outreach",
        0,
        100,
        direction="+members",
        span=(0, 0.05),
        source="outreach recruits",
    )
    tie_rate: float = key(
        0.02,
        "1/month",
        "recruitment rate per unit member-tie share",
        0,
        100,
        direction="+members",
        span=(0, 0.2),
        source="people join through ties (McAdam & Paulsen 1993)",
    )
    usual_suspects_bias: float = key(
        1.0,
        "",
        "how strongly outreach favours better-off households",
        0,
        10,
        direction="-representativeness",
        span=(0, 5),
        source="outreach favouring the better-off recruits the usual suspects (Middlemiss 2011)",
    )
    outreach_weight_income: float = key(
        1.0, "", "weight of (standardised log) income in the usual-suspect score", -10, 10
    )
    outreach_weight_owner: float = key(
        1.0, "", "weight of owning one's home in the usual-suspect score", -10, 10
    )
    outreach_weight_literacy: float = key(
        1.0, "", "weight of (not) having low literacy in the usual-suspect score", -10, 10
    )
    outreach_weight_language: float = key(
        0.5, "", "weight of speaking the local language in the usual-suspect score", -10, 10
    )
    outreach_weight_senior: float = key(
        0.0, "", "weight of being aged 65+ in the usual-suspect score", -10, 10
    )
    gatekeeper_reach: float = key(
        3.0,
        "",
        "weight of key figures in tie recruitment",
        0,
        100,
        direction="+members",
        span=(0, 20),
        source="key figures bring in others (Kraft-Todd et al. 2018)",
    )
    other_member_weight: float = key(
        0.0, "", "weight of ties to members of other collectives in tie recruitment", 0, 1
    )
    leave_rate: float = key(
        0.02,
        "1/month",
        "rate at which members who get nothing from the collective leave",
        0,
        100,
        direction="-members",
        span=(0, 0.2),
        source="members who get nothing leave",
    )
    dialogue_gain: float = key(
        0.02,
        "1/month",
        "rate at which dialogue closes a member's efficacy gap",
        0,
        1,
        direction="+mean_efficacy",
        span=(0, 0.2),
        source="dialogue builds efficacy (Bandura 1997: verbal persuasion)",
    )
    shared_goal: float = key(
        0.1,
        "fraction",
        "the collective's goal: its members' mean KPI saving",
        0.001,
        1,
        direction="+kpi_saving",
        span=(0.01, 0.5),
        source="harder specific goals raise performance (Locke & Latham 2002)",
    )
    milestone: float = key(
        0.02,
        "fraction",
        "step of collective saving celebrated as an achievement (members' efficacy rises)",
        0.001,
        1,
    )
    celebration_gain: float = key(
        0.1,
        "fraction",
        "share of members' efficacy gap closed by a celebrated achievement",
        0,
        1,
        direction="+mean_efficacy",
        source="celebrated achievements build efficacy (Bandura 1997)",
    )
    volunteer_share: float = key(
        0.1, "fraction", "share of members a collective's volunteers grow towards", 0, 1
    )
    volunteer_rate: float = key(
        0.1, "1/month", "rate at which members take up volunteering, up to that share", 0, 100
    )
    burnout_rate: float = key(
        0.0,
        "1/month",
        "rate at which volunteers burn out when every member's last check failed (times the "
        "share that failed); 0: no burn-out, no collective ever stalls",
        0,
        100,
        direction="-capacity:active_months",
        span=(0, 0.2),
        source="volunteers burn out without results (Omoto & Snyder 1995)",
    )
    celebration_volunteers: float = key(
        1.0, "volunteers", "new volunteers a celebrated milestone brings", 0, 1000
    )
    capacity_floor: float = key(
        2.0,
        "volunteers",
        "below this many volunteers a collective stalls (no new campaign)",
        0,
        1e6,
    )
    stall_months: float = key(
        12.0, "months", "a collective stalled this long dissolves (its members leave)", 0.25, 1200
    )
    volunteer_hours: float = key(
        8.0,
        "hours/month",
        "hours a volunteer gives a month: a collective's budget for its interventions",
        0,
        1000,
    )
    choice: str = key(
        "plan",
        "",
        "which interventions a collective carries out when its hours do not cover them all: "
        "plan (the catalogue's order) or cheapest (the cheapest first, so as many as possible)",
        choices=CHOICE_RULES,
    )


@dataclass(frozen=True)
class HubConfig:
    """The collective's privacy-preserving data hub."""

    enabled: bool = key(True, "", "collectives run a data hub")
    k: int = key(
        10,
        "households",
        "smallest group the hub publishes an aggregate for (below 5 is an error, below 10 a "
        "warning)",
        1,
        1_000_000,
        direction="-compared_share",
        span=(5, 50),
        source="a larger k suppresses more groups (Sweeney 2002)",
    )
    size_classes: int = key(
        4,
        "classes",
        "peer groups by household size: 4 = 1, 2, 3-4, 5+ persons; 3 = 1, 2, 3+; 2 = 1, 2+; "
        "1 = all",
        1,
        4,
    )
    report_months: float = key(
        3.0,
        "months",
        "release window: interval between the hub's releases (and its peer comparisons); "
        "joins, leaves, consents and revocations take effect at the next release",
        0.25,
        24,
    )
    min_change: int = key(
        3,
        "households",
        "smallest change of a group's roster (households in plus out, against every earlier "
        "release of the group) that may be published; smaller changes are held back",
        1,
        1_000_000,
        direction="-compared_share",
        span=(1, 20),
        source="a larger minimum change holds back more releases",
    )
    epsilon: float = key(
        1.0,
        "per release",
        "privacy budget of the Laplace noise on each published mean saving (scale = saving "
        "range / (households * epsilon)); 0 = exact means",
        0,
        1000,
    )
    count_rounding: int = key(
        5,
        "households",
        "published counts are rounded down to a multiple of this, but never below k (1 = exact)",
        1,
        1000,
        direction="=kpi_saving",
        span=(1, 50),
        source="rounding only what is published changes no behaviour",
    )
    consent_rate: float = key(
        0.7,
        "probability",
        "chance a new member shares data when joining",
        0,
        1,
        direction="+compared_share",
        source="more consenting members fill more peer groups",
    )
    revoke_rate: float = key(
        0.01,
        "1/month",
        "rate at which a consenting member with no trust in the hub revokes (times 1 - trust)",
        0,
        100,
        direction="-consenting",
        span=(0, 0.2),
        source="revocations take data out",
    )
    opt_in_rate: float = key(
        0.05,
        "1/month",
        "rate at which a non-consenting member with full trust consents (times trust)",
        0,
        100,
        direction="+consenting",
        span=(0, 0.3),
        source="later consent brings data in",
    )
    trust_initial: float = key(
        0.5,
        "",
        "a new member's trust in the hub, 0..1",
        0,
        1,
        direction="+consenting",
        source="trust drives data sharing (Acquisti et al. 2015)",
    )
    trust_rate: float = key(
        0.1,
        "1/month",
        "rate at which a member's trust moves towards the value the hub's releases give it (a "
        "peer comparison, the collective's published progress); at each release it closes "
        "1 - exp(-trust_rate * report_months) of the gap",
        0,
        100,
    )
    peer_effect: float = key(
        0.02,
        "fraction",
        "KPI cut prompted by a comparison for a household at the peer mean",
        0,
        1,
        direction="+kpi_saving",
        span=(0, 0.1),
        source="peer comparison saves about 2 % (Allcott 2011)",
    )
    peer_slope: float = key(
        1.0,
        "",
        "growth of that cut per unit relative use above the peer mean (less below it)",
        0,
        100,
    )
    peer_decay: float = key(
        0.1,
        "1/month",
        "rate at which the curtailment prompted by a comparison fades",
        0,
        100,
        direction="-peer_curtailment",
        span=(0, 1),
        source="the effect of a comparison fades (Allcott & Rogers 2014)",
    )


@dataclass(frozen=True)
class OutputConfig:
    """What a run writes."""

    format: str = key("parquet", "", "table format", choices=("parquet", "csv"))
    plot: bool = key(True, "", "write a PNG plot")
    hub_panel: bool = key(True, "", "export the hub's published panel")


INTERVENTION_KINDS = (
    "collective_purchase",
    "energy_coach",
    "feedback_dashboard",
    "gatekeeper_programme",
    "neighbourhood_event",
)


@dataclass(frozen=True)
class Intervention:
    """A building block a collective carries out (an ``[[interventions]]`` entry).

    Every kind has a name, a dated schedule and a cost in volunteer hours; the other keys
    belong to the kinds named in their description (the others ignore them).
    """

    name: str = key("intervention", "", "identifier (letters, digits, underscore)")
    enabled: bool = key(True, "", "whether collectives carry it out")
    kind: str = key(
        "energy_coach",
        "",
        "collective_purchase (members buy one behaviour together at a discount), energy_coach "
        "(home visits that build self-efficacy), feedback_dashboard (members see their own use, "
        "as with a smart meter), gatekeeper_programme (key figures bring hard-to-reach "
        "households in) or neighbourhood_event (members and neighbours meet: ties are made and "
        "strengthened)",
        choices=INTERVENTION_KINDS,
    )
    start_month: float = key(0.0, "months", "month the first round starts", 0, 1e6)
    months: float = key(12.0, "months", "length of a round", 0.25, 1e6)
    every_months: float = key(
        0.0, "months", "a new round starts this often (0: one round only)", 0, 1e6
    )
    target: str = key(
        "random",
        "",
        "whom an energy coach visits first in the collective's neighbourhood (a targeting rule: "
        "usual_suspects, random, degree, bridges, positive_deviants, disadvantaged)",
        choices=TARGETING_RULES,
    )
    visits_per_month: float = key(
        2.0, "visits/month", "home visits per collective while a round runs (energy_coach)", 0, 1e4
    )
    hours_per_visit: float = key(3.0, "hours", "volunteer hours a home visit takes", 0, 1e4)
    efficacy_gain: float = key(
        0.3,
        "fraction",
        "share of a visited household's self-efficacy gap a visit closes (energy_coach)",
        0,
        1,
    )
    hours_per_month: float = key(
        4.0,
        "hours/month",
        "volunteer hours a round takes per collective and month (every kind but energy_coach)",
        0,
        1e4,
    )
    euros_per_month: float = key(
        0.0,
        "EUR/month",
        "money a round costs per collective and month (materials, a hall, a dashboard "
        "licence): recorded in the outputs for comparing costs, not limited by a budget",
        0,
        1e7,
    )
    behaviour: str = key(
        "",
        "",
        "the behaviour bought together (collective_purchase); empty: each collective picks, "
        "when a round starts, the one that would save its members most",
    )
    discount: float = key(
        0.3,
        "fraction",
        "cost reduction of the purchased behaviour for members (collective_purchase)",
        0,
        1,
        direction="+kpi_saving",
        source="a collective purchase lowers the cost barrier of costly measures "
        "(Kraaij et al. 2024)",
    )
    pull_rate: float = key(
        0.05,
        "1/month",
        "members' adoption rate of the purchased behaviour at the full remaining goal gap "
        "(collective_purchase)",
        0,
        100,
        direction="+behaviours_per_household",
        span=(0, 0.3),
        source="joint action (Kraaij et al. 2024)",
    )
    join_gain: float = key(
        2.0,
        "ratio",
        "outreach to hard-to-reach households (low literacy, not speaking the local language or "
        "short of time) is this many times stronger while a round runs, and key figures' ties "
        "recruit this many times more (gatekeeper_programme)",
        0,
        100,
    )
    attendance: float = key(
        0.5,
        "fraction",
        "chance that a member attends (neighbourhood_event, held when a round starts)",
        0,
        1,
    )
    guest_share: float = key(
        0.05,
        "fraction",
        "chance that another household of the neighbourhood attends (neighbourhood_event)",
        0,
        1,
    )
    new_ties: int = key(
        1,
        "ties",
        "each attendee makes ties with this many attendees before and as many after it in a "
        "random order (neighbourhood_event)",
        0,
        3,
    )
    tie_gain: float = key(
        0.5,
        "fraction",
        "ties between attendees gain this share of their weight at the start (up to 3 times "
        "it; neighbourhood_event)",
        0,
        2,
    )


@dataclass(frozen=True)
class Founding:
    """A collective founded during the run (a ``[[foundings]]`` entry)."""

    name: str = key("founding", "", "identifier (letters, digits, underscore)")
    month: float = key(
        12.0, "months", "month it is founded (at the start of the step that holds it)", 0, 1e6
    )
    neighbourhood: int = key(
        -1,
        "",
        "the neighbourhood it is founded in (an id); -1: the next neighbourhood without a "
        "collective in the order of collectives.placement",
        -1,
        10_000_000,
    )
    founder_rule: str = key(
        "",
        "",
        "whom the founders are drawn from first (a targeting rule; empty: "
        "collectives.founder_rule)",
        choices=("", *TARGETING_RULES),
    )
    founders: int = key(
        -1, "households", "founding members (-1: collectives.founders)", -1, 10_000_000
    )


#: What a landscape driver acts on (:mod:`bt_sim.components.landscape`).
COUPLINGS = ("energy_price", "price", "income", "trust", "attention")
#: How a landscape driver's series is given (:mod:`bt_sim.landscape`).
SERIES_KINDS = ("constant", "values", "file", "trend", "step", "walk")


@dataclass(frozen=True)
class Driver:
    """An exogenous landscape driver: a series of levels by month (a ``[[landscape]]`` entry)."""

    name: str = key("driver", "", "identifier (letters, digits, underscore)")
    enabled: bool = key(True, "", "whether the driver acts (false: its level stays 1)")
    acts_on: str = key(
        "energy_price",
        "",
        "what its level scales: energy_price (the money value of saving: a behaviour's cost "
        "weighs against it), price (a behaviour's price), income (every household's income), "
        "trust (members' trust in the hub, by the level's change) or attention (the pull of "
        "outside sources, social.p)",
        choices=COUPLINGS,
    )
    behaviour: str = key(
        "", "", "with acts_on = price: the behaviour (empty: every behaviour with a cost)"
    )
    kind: str = key(
        "constant",
        "",
        "how the series is given: constant (start), values (one per month), file (a CSV "
        "file), trend (linear), step (a shock that decays) or walk (a random walk with its "
        "own stream)",
        choices=SERIES_KINDS,
    )
    start: float = key(
        1.0, "relative", "the level at month 0 (1: as the scenario's values)", 0, 1e6
    )
    values: tuple[float, ...] = key(
        (), "relative", "kind = values: the level in month 0, 1, 2, ... (the last one held)"
    )
    file: str = key(
        "",
        "",
        "kind = file: a CSV file with a month column and a column named as the driver (or "
        "column); relative to the scenario file",
    )
    column: str = key("", "", "kind = file: the column to read (empty: the driver's name)")
    slope: float = key(0.0, "relative/year", "kind = trend: change of the level a year", -1e6, 1e6)
    month: float = key(12.0, "months", "kind = step: the month the shock comes", 0, 1e6)
    size: float = key(0.0, "relative", "kind = step: the size of the shock", -1e6, 1e6)
    decay: float = key(
        0.0, "1/month", "kind = step: how fast the shock fades (0: a lasting step)", 0, 100
    )
    sd: float = key(
        0.0, "log/sqrt(month)", "kind = walk: the spread of the log level's monthly moves", 0, 10
    )
    lo: float = key(0.0, "relative", "the lowest level the series takes", 0, 1e6)
    hi: float = key(1e6, "relative", "the highest level the series takes", 0, 1e6)


#: The default catalogue: the collectives' joint-action campaign, a collective purchase of the
#: behaviour that would save the members most, in rounds of six months from month 6.
DEFAULT_INTERVENTIONS: tuple[Intervention, ...] = (
    Intervention(
        name="purchase",
        kind="collective_purchase",
        start_month=6.0,
        months=6.0,
        every_months=6.0,
        hours_per_month=4.0,
    ),
)


#: Scaling strategies of the network organisation (:mod:`bt_sim.components.organisation`).
STRATEGIES = ("none", "out", "deep", "linking", "mix")


@dataclass(frozen=True)
class OrganisationConfig:
    """The network organisation: a knowledge broker between collectives, with a budget."""

    strategy: str = key(
        "none",
        "",
        "its scaling strategy: none (collectives on their own), out (found new collectives), "
        "deep (staff hours into the existing collectives), linking (ties between members of "
        "different collectives), or mix (the budget split by the *_share keys)",
        choices=STRATEGIES,
    )
    out_share: float = key(0.0, "fraction", "with strategy mix: the budget's share for out", 0, 1)
    deep_share: float = key(0.0, "fraction", "with strategy mix: the share for deep", 0, 1)
    linking_share: float = key(0.0, "fraction", "with strategy mix: the share for linking", 0, 1)
    staff_hours: float = key(40.0, "hours/month", "the organisation's staff hours a month", 0, 1e6)
    euros: float = key(1000.0, "EUR/month", "the organisation's money a month", 0, 1e9)
    found_hours: float = key(
        80.0, "hours", "staff hours it takes to found a collective (scaling out)", 0.01, 1e6
    )
    found_euros: float = key(
        500.0, "EUR", "money it takes to found a collective (scaling out)", 0, 1e9
    )
    found_order: str = key(
        "ready",
        "",
        "where scaling out founds first: ready (the neighbourhoods with the most households "
        "already doing a behaviour) or least_served (the most disadvantaged households first)",
        choices=("ready", "least_served"),
    )
    max_foundings: int = key(
        10,
        "collectives",
        "collectives scaling out founds at most (room is kept for them)",
        0,
        100_000,
    )
    warm_start: bool = key(
        False,
        "",
        "a collective it founds takes the recommended mix of building blocks (a warm start) "
        "instead of the founders' own choice (each entry of the catalogue with probability "
        "cold_share)",
    )
    cold_share: float = key(
        0.5, "fraction", "the founders' own choice: each entry's chance to be in their mix", 0, 1
    )
    records: str = key(
        "",
        "",
        "a records file (Parquet or CSV, docs/records.md) from earlier runs or real collectives "
        "the recommender learns from besides the run's own records; relative to the scenario "
        "file",
    )
    objective: str = key(
        "members",
        "",
        "what the recommender maximises in a new collective's first year, as the hub "
        "publishes it: members (sharing members per household of the neighbourhood) or saving "
        "(their published saving per household)",
        choices=("members", "saving"),
    )
    min_records: int = key(
        30,
        "collectives",
        "collectives' first years with an outcome (in the records) the recommender needs "
        "before it recommends (fewer: the founders' own choice)",
        1,
        1_000_000,
    )
    interval: float = key(
        0.9, "fraction", "nominal coverage of the recommender's prediction intervals", 0.5, 0.99
    )
    link_hours: float = key(
        2.0,
        "hours",
        "staff hours it takes to link two members of different collectives",
        0.01,
        1e6,
    )


@dataclass(frozen=True)
class RegimeConfig:
    """The regime: lock-in, increasing returns and cost learning (keys per behaviour:
    ``resistance``, ``learning_rate``, ``price_floor``)."""

    lock_in: bool = key(
        True, "", "the regime's lock-in acts (behaviours' resistance lowers their hazard)"
    )
    increasing_returns: bool = key(
        True, "", "lock-in weakens as a behaviour spreads (an installer base, norms)"
    )
    returns: float = key(
        3.0,
        "",
        "how fast lock-in weakens with the behaviour's share s of eligible households: "
        "resistance (1 - s)^returns",
        0,
        100,
    )
    cost_learning: bool = key(
        True, "", "prices fall with cumulative adoption (behaviours' learning_rate)"
    )
    transition: str = key(
        "",
        "",
        "the behaviour whose spread is the transition (its tipping, pathway and time to "
        "10/50/90 %); empty: the costliest behaviour",
    )


@dataclass(frozen=True)
class MunicipalityConfig:
    """The municipality: a budget, policy instruments, and a policy that follows evidence."""

    enabled: bool = key(False, "", "the municipality acts (policy feedback)")
    budget: float = key(
        200_000.0, "EUR/year", "what it may spend a year on subsidies and funded hours", 0, 1e12
    )
    review_months: float = key(
        12.0, "months", "how often it reviews the evidence (without a dialogue channel)", 0.01, 1e4
    )
    dialogue: bool = key(
        False,
        "",
        "a dialogue channel with the collectives: it reviews the evidence at every hub release",
    )
    delay_months: float = key(
        6.0, "months", "from a decision to its taking effect (or ending)", 0, 1e4
    )
    threshold: float = key(
        0.004,
        "fraction",
        "the documented impact it needs: the saving the hubs published, summed over members, "
        "as a share of the town's households",
        0,
        1,
    )
    precision: float = key(
        2.0,
        "SE",
        "how many standard errors of the hubs' noise the documented impact must lie above 0",
        0,
        100,
    )
    representation_floor: float = key(
        0.0,
        "ratio",
        "the representation of disadvantaged households among members (their share among "
        "members over their share in the host neighbourhoods) it needs",
        0,
        10,
    )
    retrench: bool = key(False, "", "it cuts support when the evidence or the members' trust falls")
    retrench_share: float = key(
        0.5, "fraction", "with retrench: evidence below this share of the threshold ends support",
        0, 1,
    )  # fmt: skip
    trust_floor: float = key(
        0.0,
        "0..1",
        "the members' mean trust in their hub it needs (with retrench, trust below it ends "
        "support)",
        0,
        1,
    )
    subsidy: float = key(
        0.3, "fraction", "while it supports: the share of a subsidised behaviour's price it pays",
        0, 1,
    )  # fmt: skip
    subsidy_euros: float = key(
        0.0,
        "EUR",
        "while it supports: a fixed sum it pays for each adoption of a subsidised behaviour (on "
        "top of the share; never more than the price)",
        0,
        1e7,
    )
    subsidised: str = key(
        "", "", "the behaviour it subsidises (empty: every behaviour with a cost)"
    )
    funded_hours: float = key(
        0.0,
        "hours/month",
        "while it supports: volunteer hours it funds for each active collective",
        0,
        1e6,
    )
    hour_euros: float = key(25.0, "EUR/hour", "what a funded hour costs", 0, 1e6)
    standard: float = key(
        0.0,
        "fraction",
        "while it supports: a rule (a standard) that cuts the regime's resistance of the "
        "standard's behaviour by this share",
        0,
        1,
    )
    standard_behaviour: str = key(
        "", "", "the behaviour the standard is about (empty: every behaviour)"
    )


@dataclass(frozen=True)
class ModelConfig:
    """How the model is composed."""

    components: tuple[str, ...] = key(
        (),
        "",
        "extra components, each 'package.module:Class' (a bt_sim.Component subclass), added to "
        "the default ones in this order",
    )


@dataclass(frozen=True)
class Scenario:
    """One world: every section of a scenario file."""

    name: str = key("unnamed", "", "short name of the scenario")
    description: str = key("", "", "what the scenario is for")
    run: RunConfig = field(default_factory=RunConfig)
    population: PopulationConfig = field(default_factory=PopulationConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    behaviours: tuple[Behaviour, ...] = field(default=DEFAULT_BEHAVIOURS)
    social: SocialConfig = field(default_factory=SocialConfig)
    mastery: MasteryConfig = field(default_factory=MasteryConfig)
    collectives: CollectivesConfig = field(default_factory=CollectivesConfig)
    hub: HubConfig = field(default_factory=HubConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    organisation: OrganisationConfig = field(default_factory=OrganisationConfig)
    interventions: tuple[Intervention, ...] = field(default=DEFAULT_INTERVENTIONS)
    foundings: tuple[Founding, ...] = field(default=())
    landscape: tuple[Driver, ...] = field(default=())
    regime: RegimeConfig = field(default_factory=RegimeConfig)
    municipality: MunicipalityConfig = field(default_factory=MunicipalityConfig)
