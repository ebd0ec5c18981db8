"""The view's logic without Solara: settings, runs, and what each panel shows.

A :class:`Settings` is what the controls set; :func:`overrides` turns it into the scenario's
``KEY=VALUE`` overrides; a :class:`Run` is one model built from it (or the message of why it
could not be built). The builders below return plain data, SVG or HTML for the page.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import lru_cache
from html import escape
from pathlib import Path

import numpy as np

from bt_sim.view import drawing
from bt_sim.view.i18n import SIZE_CLASS_KEYS, integer, name_of, number, short, t

DEFAULT_SCENARIO = "default"
#: Adoption rules under which a collective's members adopt as everyone else does.
SPECIAL_RULES = ("bass", "threshold")
# The scenarios a workshop picks from, in this order (others bundled later follow).
PREFERRED_ORDER = ("default", "tipping", "bass", "threshold", "complex_contagion")


#: The network organisation's strategies a workshop picks from: the settings of each (the
#: organisation's own budget and costs are the scenario's).
STRATEGIES: dict[str, tuple[str, ...]] = {
    "none": (),
    "out_ready": ("organisation.strategy=out", "organisation.found_order=ready"),
    "out_least_served": ("organisation.strategy=out", "organisation.found_order=least_served"),
    "deep": ("organisation.strategy=deep",),
    "linking": ("organisation.strategy=linking",),
    "out_and_deep": (
        "organisation.strategy=mix",
        "organisation.out_share=0.5",
        "organisation.deep_share=0.5",
        "organisation.found_order=least_served",
    ),
}


@dataclass(frozen=True)
class Settings:
    """What the controls set. ``None`` keeps the scenario's own value."""

    scenario: str = DEFAULT_SCENARIO
    seed: int | None = None  # None: the scenario's run.seed (the town bt-sim run shows first)
    subsidy_behaviour: str | None = None
    subsidy: int = 0  # percent off the behaviour's cost
    collectives: int | None = None
    bias: float | None = None
    k: int | None = None
    committed: float | None = None  # percent of eligible households
    strategy: str = "none"  # the network organisation's (a key of STRATEGIES)


@dataclass(frozen=True)
class ScenarioInfo:
    """What the controls need to know about a scenario as it comes."""

    name: str
    path: Path
    households: int
    neighbourhoods: int
    behaviours: tuple[str, ...]
    costs: dict[str, float]
    collectives: int
    bias: float
    k: int
    hub: bool
    committed_behaviour: str | None
    committed: float  # percent
    seed: int = 1  # run.seed: the page starts with the town replicate 0 of bt-sim run shows
    rule: str = "standard"  # social.rule
    title: str = ""  # the scenario's own name (a file's, where it is not bundled)

    @property
    def collectives_matter(self) -> bool:
        """Whether collectives can change adoption: not in the Bass and threshold special
        cases, whose adoption rule leaves membership out."""
        return self.rule not in SPECIAL_RULES

    @property
    def costly(self) -> tuple[str, ...]:
        """Behaviours that cost money (the ones a subsidy can lower), dearest first."""
        return tuple(sorted((b for b, c in self.costs.items() if c > 0), key=self.costs.get)[::-1])


def scenario_names() -> list[str]:
    """The bundled scenarios, workshop favourites first."""
    from bt_sim.scenario.loader import bundled_scenarios

    found = list(bundled_scenarios())
    return [n for n in PREFERRED_ORDER if n in found] + [
        n for n in found if n not in PREFERRED_ORDER
    ]


@lru_cache(maxsize=32)
def scenario_info(name: str) -> ScenarioInfo:
    """Read a bundled scenario (or a TOML file) once; raises ScenarioError if it is bad."""
    from bt_sim.scenario import load_scenario
    from bt_sim.scenario.loader import find_scenario

    path = Path(find_scenario(name))
    sc = load_scenario(path)
    committed = next((b for b in sc.behaviours if b.committed_share > 0), None)
    return ScenarioInfo(
        name=name,
        path=path,
        households=sc.population.households,
        neighbourhoods=sc.population.neighbourhoods,
        behaviours=tuple(b.name for b in sc.behaviours),
        costs={b.name: float(b.cost) for b in sc.behaviours},
        collectives=sc.collectives.count,
        bias=float(sc.collectives.usual_suspects_bias),
        k=int(sc.hub.k),
        hub=bool(sc.hub.enabled),
        committed_behaviour=committed.name if committed else None,
        committed=100.0 * committed.committed_share if committed else 0.0,
        seed=int(sc.run.seed),
        rule=str(sc.social.rule),
        title=str(sc.name or path.stem),
    )


def seed_of(settings: Settings, info: ScenarioInfo) -> int:
    """The town number a run uses: the one set, or the scenario's own seed (then the page
    shows the town that replicate 0 of ``bt-sim run`` does).

    >>> info = scenario_info("default")
    >>> seed_of(Settings(), info), seed_of(Settings(seed=3), info)
    (20240612, 3)
    """
    return info.seed if settings.seed is None else settings.seed


def overrides(settings: Settings, info: ScenarioInfo) -> list[str]:
    """The ``KEY=VALUE`` overrides that give the scenario these settings.

    >>> info = scenario_info("default")
    >>> overrides(Settings(subsidy=25, subsidy_behaviour="heat_pump", k=5), info)
    ['behaviours.heat_pump.cost=6750', 'hub.k=5']
    """
    out = []
    if settings.subsidy and settings.subsidy_behaviour in info.costs:
        cost = info.costs[settings.subsidy_behaviour] * (1 - settings.subsidy / 100)
        out.append(f"behaviours.{settings.subsidy_behaviour}.cost={cost:g}")
    if settings.collectives is not None:
        out.append(f"collectives.count={settings.collectives}")
    if settings.bias is not None:
        out.append(f"collectives.usual_suspects_bias={settings.bias:g}")
    if settings.k is not None:
        out.append(f"hub.k={settings.k}")
    if settings.committed is not None and info.committed_behaviour:
        share = settings.committed / 100
        out.append(f"behaviours.{info.committed_behaviour}.committed_share={share:g}")
    if settings.strategy != "none":
        if settings.strategy not in STRATEGIES:
            raise ValueError(f"no strategy {settings.strategy!r} (have: {', '.join(STRATEGIES)})")
        out.extend(STRATEGIES[settings.strategy])
    return out


@dataclass
class Run:
    """One model built from settings, or why it could not be built (``error``)."""

    settings: Settings
    model: object = None
    error: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _painter: object = field(default=None, repr=False)
    _png: dict = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, settings: Settings) -> Run:
        """Build the model; a rejected combination becomes a message, never an exception."""
        from bt_sim.errors import BtSimError

        run = cls(settings)
        try:
            from bt_sim.model import TransitionModel
            from bt_sim.scenario import load_scenario

            info = scenario_info(settings.scenario)
            scenario = load_scenario(info.path, overrides(settings, info))
            run.model = TransitionModel(scenario, seed=seed_of(settings, info))
        except BtSimError as exc:
            run.error = str(exc)
        except Exception as exc:  # the page stays up, whatever the model says
            run.error = f"{type(exc).__name__}: {exc}"
        return run

    @property
    def step_count(self) -> int:
        return 0 if self.model is None else self.model.steps_done

    @property
    def total_steps(self) -> int:
        return 0 if self.model is None else self.model.config.run.steps

    @property
    def done(self) -> bool:
        return self.model is None or self.step_count >= self.total_steps

    def step(self) -> bool:
        """One step; False if the run is over or broken."""
        with self.lock:
            if self.done:
                return False
            try:
                self.model.step()
            except Exception as exc:
                self.error = f"{type(exc).__name__}: {exc}"
                self.model = None
                return False
            return True

    # ---- the network picture ------------------------------------------------------------
    def painter(self) -> drawing.NetworkPainter:
        if self._painter is None:
            m = self.model
            lay = drawing.layout(
                tuple(m.population.neighbourhood_bounds()),
                ring=m.config.network.kind == "ring_lattice",
            )
            edges = (
                None
                if m.network.complete
                else drawing.sample_edges(m.network.indptr, m.network.indices)
            )
            hosted = np.zeros(m.population.n_neighbourhoods, bool)
            hosted[m.collectives.nbhd[m.collectives.founded]] = True
            self._painter = drawing.NetworkPainter(lay, edges, hosted)
        return self._painter

    def network_png(self, mode: int | None) -> bytes:
        """The network coloured by ``mode`` (None: number of behaviours; j: behaviour j)."""
        key = (self.step_count, mode)
        if key not in self._png:
            with self.lock:
                s = self.model.state
                palette = legend_colours(len(self.model.behaviour_names), mode)
                png = self.painter().png(
                    drawing.node_colour_index(s.adopted, mode), palette, s.member
                )
            self._png = {key: png}
        return self._png[key]


def legend_colours(b: int, mode: int | None) -> list[str]:
    """The colours of the legend entries (index = colour index of a household)."""
    if mode is None:
        return drawing.count_colours(b)
    return [drawing.NOT_ADOPTED, drawing.behaviour_colour(mode)]


def legend(lang: str, behaviours: tuple[str, ...], mode: int | None) -> list[tuple[str, str]]:
    """(colour, label) entries of the network's legend."""
    colours = legend_colours(len(behaviours), mode)
    if mode is None and len(behaviours) > 1:
        labels = [t(lang, "legend_none"), t(lang, "legend_one")] + [
            t(lang, "legend_many", n=i) for i in range(2, len(behaviours) + 1)
        ]
    else:
        labels = [t(lang, "legend_no"), t(lang, "legend_yes")]
    return list(zip(colours, labels, strict=True))


# ---- curves ----
def _adoption(model) -> np.ndarray:
    return model.recorder.overall_adoption * 100


def _saving(model) -> np.ndarray:
    return model.recorder.overall["kpi_saving"] * 100


def adoption_range(arrays) -> tuple[float, float]:
    """0 to the highest adoption rounded up to 10 points (0-100 % would flatten a behaviour
    that stays rare), at most 100."""
    top = max((float(np.nanmax(a)) for a in arrays if a.size), default=0.0)
    return 0.0, min(100.0, max(10.0, 10.0 * np.ceil(top * 1.05 / 10.0)))


def chart_ranges(runs) -> dict[str, tuple[float, float]]:
    """The y range of each chart shared by ``runs`` (side by side, so that their curves can
    be compared by eye): the union of their values. Empty for fewer than two runs."""
    models = [r.model for r in runs if r.model is not None]
    if len(models) < 2:
        return {}
    return {
        "adoption": adoption_range([_adoption(m) for m in models]),
        "saving": drawing.span([_saving(m) for m in models]),
        "gap": drawing.span([gap_series(m) for m in models]),
    }


def adoption_chart(run: Run, lang: str, y_range: tuple[float, float] | None = None) -> str:
    m = run.model
    adoption = _adoption(m)
    series = [
        drawing.Series(name_of(lang, "behaviour", b), drawing.behaviour_colour(j), adoption[:, j])
        for j, b in enumerate(m.behaviour_names)
    ]
    return drawing.svg_line_chart(
        series,
        m.config.run.steps * m.config.run.dt,
        t(lang, "adoption_title"),
        t(lang, "axis_months"),
        t(lang, "axis_percent"),
        y_range=y_range or adoption_range([adoption]),
        css_class="bt-adoption",
        tick_format=lambda v: short(lang, v),
    )


def saving_chart(run: Run, lang: str, y_range: tuple[float, float] | None = None) -> str:
    m = run.model
    return drawing.svg_line_chart(
        [drawing.Series(t(lang, "series_saving"), drawing.OKABE_ITO[2], _saving(m))],
        m.config.run.steps * m.config.run.dt,
        t(lang, "saving_title"),
        t(lang, "axis_months"),
        t(lang, "axis_percent"),
        y_range=y_range,
        css_class="bt-saving",
        tick_format=lambda v: short(lang, v),
    )


def gap_series(model) -> np.ndarray:
    """Other minus disadvantaged households adopting at least one behaviour, in points."""
    if not model.population.disadvantaged.any() or model.population.disadvantaged.all():
        return np.full(model.steps_done + 1, np.nan)
    g = model.recorder.group["any_adoption"]
    return (g[:, 0] - g[:, 1]) * 100


def gap_chart(run: Run, lang: str, y_range: tuple[float, float] | None = None) -> str:
    m = run.model
    return drawing.svg_line_chart(
        [drawing.Series(t(lang, "series_gap"), drawing.OKABE_ITO[5], gap_series(m))],
        m.config.run.steps * m.config.run.dt,
        t(lang, "gap_title"),
        t(lang, "axis_months"),
        t(lang, "axis_points"),
        y_range=y_range,
        css_class="bt-gap",
        tick_format=lambda v: short(lang, v),
    )


def gap_text(run: Run, lang: str) -> str:
    s = run.model.summary()
    town, hosted = s["inclusivity_gap"], s["inclusivity_gap_hosted"]
    if not np.isfinite(town):
        return t(lang, "gap_unknown")
    if not np.isfinite(hosted):
        return t(lang, "gap_now_town", town=number(lang, 100 * town))
    return t(lang, "gap_now", town=number(lang, 100 * town), hosted=number(lang, 100 * hosted))


# ---- the hub's published panel ----
@dataclass(frozen=True)
class HubTable:
    """What the hubs published at their latest release: per collective (its neighbourhood id),
    one cell per size class, ``None`` where the group was withheld."""

    release_step: int | None
    month: float | None
    k: int
    size_classes: int
    rows: tuple[tuple[int, tuple[tuple[int, float] | None, ...]], ...]


def latest_release(step: int, report_months: float, dt: float) -> int | None:
    """The last step, up to ``step``, in which the hub released (None: no release yet).

    >>> latest_release(7, 3.0, 1.0), latest_release(2, 3.0, 1.0), latest_release(5, 1.0, 1.0)
    (6, None, 5)
    """
    from bt_sim.rules.hub import release_due

    for s in range(step, 0, -1):
        if release_due(report_months, (s - 1) * dt, s * dt):
            return s
    return None


def hub_table(panel, collectives, k: int, size_classes: int, step: int | None, dt: float):
    """Build the hub view from the published panel (``model.hub_panel()``) only.

    A group with no row at the release step, or (defensively) a row whose published count is
    below ``k`` (the hub never publishes one), is withheld: its cell is ``None``
    and no number of it is kept. The collective's own progress rows (``size_class = -1``) are
    not peer groups.
    """
    published = {}
    if step is not None and len(panel):
        now = panel[panel["step"] == step]
        for c, sc, n, saving in zip(
            now["collective"],
            now["size_class"],
            now["n_households"],
            now["saving_mean"],
            strict=True,
        ):
            if sc >= 0 and n >= k:
                published[(int(c), int(sc))] = (int(n), float(saving))
    rows = tuple(
        (int(c), tuple(published.get((int(c), j)) for j in range(size_classes)))
        for c in collectives
    )
    month = None if step is None else step * dt
    return HubTable(step, month, k, size_classes, rows)


def model_hub_table(model) -> HubTable:
    sc = model.config
    step = latest_release(model.steps_done, sc.hub.report_months, sc.run.dt)
    colls = model.collectives
    return hub_table(
        model.hub_panel(),
        colls.nbhd[colls.founded],  # (room for collectives founded later has no row)
        sc.hub.k,
        sc.hub.size_classes,
        step,
        sc.run.dt,
    )


def hub_html(table: HubTable, lang: str, hub_enabled: bool = True) -> str:
    """The hub view as an HTML table; withheld groups say so and show no number."""
    if not table.rows:
        return f'<p class="bt-hub-none">{escape(t(lang, "hub_none"))}</p>'
    if not hub_enabled:
        return f'<p class="bt-hub-none">{escape(t(lang, "hub_off"))}</p>'
    head = "".join(
        f"<th>{escape(t(lang, key))}</th>" for key in SIZE_CLASS_KEYS[table.size_classes]
    )
    parts = [
        '<div class="bt-hub-scroll"><table class="bt-hub">',
        f"<tr><th>{escape(t(lang, 'hub_group'))}</th>{head}</tr>",
    ]
    for c, cells in table.rows:
        tds = []
        for cell in cells:
            if cell is None:
                tds.append(f'<td class="withheld">{escape(t(lang, "hub_withheld"))}</td>')
            else:
                n, saving = cell
                text = t(lang, "hub_cell", saving=number(lang, 100 * saving), n=integer(lang, n))
                tds.append(f'<td class="published">{escape(text)}</td>')
        label = escape(t(lang, "hub_collective", n=c + 1))
        parts.append(f"<tr><th>{label}</th>{''.join(tds)}</tr>")
    parts.append("</table></div>")
    when = (
        t(lang, "hub_no_release")
        if table.month is None
        else t(lang, "hub_release", month=short(lang, table.month))
    )
    parts.append(f'<p class="bt-hub-when">{escape(when)}</p>')
    return "".join(parts)
