"""The Solara page: ``solara run bt_sim.view.app`` or ``bt-sim view``.

A custom page rather than Mesa's ``SolaraViz``: the model is built from a scenario and a seed
(``TransitionModel(scenario, seed=)``) where SolaraViz rebuilds with ``type(model)(**params)``,
the page switches language at run time, and it runs two models side by side. What SolaraViz
does (play, pause, step, reset, a speed control, parameter sliders) is here in the same form.

The starting scenario and language come from ``BT_SIM_VIEW_SCENARIO`` and ``BT_SIM_VIEW_LANG``
(set by ``bt-sim view``). Each browser tab gets its own models.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
import warnings

import reacton.ipyvuetify as rv
import solara

from bt_sim.view.i18n import LANGUAGE_NAMES, LANGUAGES, integer, name_of, number, short, t
from bt_sim.view.session import (
    DEFAULT_SCENARIO,
    STRATEGIES,
    Run,
    Settings,
    adoption_chart,
    chart_ranges,
    gap_chart,
    gap_text,
    hub_html,
    legend,
    model_hub_table,
    saving_chart,
    scenario_info,
    scenario_names,
    seed_of,
)


def _initial_scenario() -> str:
    return os.environ.get("BT_SIM_VIEW_SCENARIO") or DEFAULT_SCENARIO


def _initial_lang() -> str:
    lang = os.environ.get("BT_SIM_VIEW_LANG", "en")
    return lang if lang in LANGUAGES else "en"


class _QuietCookie(logging.Filter):
    """Drops Solara's "no session cookie" warning: harmless here (Solara gives the visitor a
    session of its own), and printed once per visitor."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "no session cookie" not in record.getMessage()


try:  # no usage statistics leave the computer, however the app was started
    import solara.server.settings

    solara.server.settings.telemetry.mixpanel_enable = False
    # the browser tab shows the page's title from the first byte (not "Solara" until it runs)
    solara.server.settings.theme.title = t(_initial_lang(), "title")
except (ImportError, AttributeError):  # pragma: no cover - another solara
    pass
logging.getLogger("solara.server.fastapi").addFilter(_QuietCookie())
# Solara warns, once per visitor, that a page served over plain http from an address other
# than "localhost" gets a samesite=lax session cookie: what a page on this computer wants
warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")


def warm(scenario: str | None = None) -> float:
    """Load what the first visitor would otherwise wait for: the model's compiled kernels,
    the starting scenario's layout and a first picture and chart (run once when the server
    starts, so every visitor gets the page in the same time). Returns the seconds it took."""
    t0 = time.perf_counter()
    run = Run.build(Settings(scenario=scenario or _initial_scenario()))
    if run.model is not None:
        run.step()
        run.network_png(None)
        adoption_chart(run, "en")
        model_hub_table(run.model)
    return time.perf_counter() - t0


if os.environ.get("SOLARA_APP") == "bt_sim.view.app":  # executed by the server, at its start
    warm()

CSS = """
.bt-app { font-size: 20px; line-height: 1.4; max-width: 1900px; }
.bt-app h1 { font-size: 32px; margin: 4px 0 8px 0; }
.bt-app h2 { font-size: 24px; margin: 12px 0 4px 0; }
.bt-app .v-btn { font-size: 18px !important; text-transform: none !important; }
.bt-app .v-label, .bt-app .v-select__selection, .bt-app .v-list-item__title,
.bt-app input { font-size: 18px !important; }
.bt-app .bt-label { font-size: 18px; margin-top: 10px; }
.bt-app .v-slider__thumb-label { font-size: 15px; }
.bt-app .bt-legend span.swatch { display: inline-block; width: 18px; height: 18px;
  border-radius: 9px; margin: 0 6px -3px 14px; border: 1px solid #777; }
.bt-app .bt-legend span.item { white-space: nowrap; }
.bt-app .bt-hub-scroll { overflow-x: auto; }
.bt-app table.bt-hub { border-collapse: collapse; font-size: 17px; margin-top: 6px; }
.bt-app table.bt-hub th, .bt-app table.bt-hub td { border: 1px solid #ccc; padding: 3px 6px;
  text-align: left; }
.bt-app td.withheld { color: #555; font-style: italic; background: #f4f4f4; }
.bt-app svg.bt-chart { max-width: 720px; }
.bt-app .bt-month { font-size: 24px; font-weight: bold; }
.bt-app .bt-langs .bt-label { margin-top: 0; }
.bt-app .v-select__selection--comma { white-space: normal; overflow: visible;
  text-overflow: clip; line-height: 1.3; }
.bt-app .v-select__selections { flex-wrap: nowrap; }
.bt-app img.bt-network, .bt-app .bt-network img { width: 100%; max-width: 760px; }
"""


def _label(text: str) -> None:
    solara.HTML(tag="div", unsafe_innerHTML=text, classes=["bt-label"])


def _slider(
    name: str, label: str, value, lo, hi, step, on_value, disabled=False, lang: str = "en"
) -> None:
    """A slider under its label; a slider with fractional steps shows its value in the label,
    written in ``lang``'s way (the thumb's label could only write it the English way)."""
    whole = float(step).is_integer()
    _label(label if whole else f"{label}: <b>{short(lang, float(value))}</b>")
    rv.Slider(
        v_model=value,
        min=lo,
        max=hi,
        step=step,
        thumb_label="always" if whole else False,
        hide_details=True,
        disabled=disabled,
        on_v_model=on_value,
        class_=f"bt-slider bt-{name} mt-8",
    )


@solara.component
def SettingsPanel(lang: str, settings: Settings, on_settings, title: str | None = None):
    """The sliders of one setting; every change gives a new Settings (the run resets)."""
    try:
        info = scenario_info(settings.scenario)
    except Exception as exc:  # a bad scenario file gets a message
        solara.Error(f"{t(lang, 'error')} {exc}")
        return

    def set_(**changes):
        def handler(value):
            on_settings(dataclasses.replace(settings, **{k: f(value) for k, f in changes.items()}))

        return handler

    with solara.Column(gap="4px", classes=["bt-settings"]):
        if title:
            solara.HTML(tag="h2", unsafe_innerHTML=title)
        rv.Select(
            label=t(lang, "strategy"),
            items=[{"text": name_of(lang, "strategy", n), "value": n} for n in STRATEGIES],
            v_model=settings.strategy,
            on_v_model=lambda v: on_settings(dataclasses.replace(settings, strategy=v)),
            hide_details=True,
            class_="bt-strategy mt-2",
        )
        costly = info.costly
        if costly:
            target = settings.subsidy_behaviour or costly[0]
            if len(costly) > 1:
                rv.Select(
                    label=t(lang, "subsidy_behaviour"),
                    items=[{"text": name_of(lang, "behaviour", b), "value": b} for b in costly],
                    v_model=target,
                    on_v_model=lambda v: on_settings(
                        dataclasses.replace(settings, subsidy_behaviour=v)
                    ),
                    hide_details=True,
                    class_="bt-subsidy-behaviour mt-2",
                )
            label = t(lang, "subsidy", behaviour=name_of(lang, "behaviour", target))
            price = info.costs[target] * (1 - settings.subsidy / 100)
            _slider(
                "subsidy",
                f"{label}<br><small>{t(lang, 'price', price=number(lang, price, 0))}</small>",
                settings.subsidy,
                0,
                100,
                5,
                lambda v: on_settings(
                    dataclasses.replace(settings, subsidy=int(v), subsidy_behaviour=target)
                ),
            )
        else:
            _label(f"<small>{t(lang, 'subsidy_none')}</small>")
        inert = not info.collectives_matter
        _slider(
            "collectives",
            t(lang, "collectives"),
            info.collectives if settings.collectives is None else settings.collectives,
            0,
            min(info.neighbourhoods, 50),
            1,
            set_(collectives=int),
            disabled=inert,
        )
        _slider(
            "bias",
            t(lang, "bias"),
            info.bias if settings.bias is None else settings.bias,
            0,
            10,
            0.5,
            set_(bias=float),
            disabled=inert,
            lang=lang,
        )
        if inert:
            _label(f"<small class='bt-inert'>{t(lang, 'collectives_inert')}</small>")
        _slider(
            "k",
            t(lang, "k"),
            info.k if settings.k is None else settings.k,
            5,  # the hub refuses smaller groups (docs/hub-data.md)
            50,
            1,
            set_(k=int),
            disabled=not info.hub,
        )
        if info.committed_behaviour:
            _slider(
                "committed",
                t(
                    lang,
                    "committed",
                    behaviour=name_of(lang, "behaviour", info.committed_behaviour),
                ),
                info.committed if settings.committed is None else settings.committed,
                0,
                20,
                0.5,
                set_(committed=float),
                lang=lang,
            )


@solara.component
def RunView(lang: str, run: Run, mode, tick: int, stacked: bool = False, ranges=None):
    """The pictures of one run: network, curves, inclusivity gap, hub; ``stacked`` (side by
    side with another run) puts the curves under the picture, on ``ranges`` shared with the
    other run."""
    if run.error is not None or run.model is None:
        solara.Error(f"{t(lang, 'error')} {run.error} {t(lang, 'error_detail')}")
        return
    m = run.model
    ranges = ranges or {}
    # solara.Columns repeats its widths for every child: one column each, or one for both
    layout = solara.Column if stacked else solara.Columns
    with layout(**({"gap": "6px"} if stacked else {"widths": [1, 1]}), classes=["bt-run"]):
        with solara.Column(gap="6px"):
            solara.HTML(tag="h2", unsafe_innerHTML=t(lang, "network_title"))
            solara.Image(run.network_png(mode), classes=["bt-network"])
            items = "".join(
                f'<span class="item"><span class="swatch" style="background:{c}"></span>'
                f"{label}</span> "
                for c, label in legend(lang, m.behaviour_names, mode)
            )
            solara.HTML(
                tag="div",
                unsafe_innerHTML=f"{items}<br>{t(lang, 'legend_member')}; "
                f"{t(lang, 'legend_hosted')}",
                classes=["bt-legend"],
            )
            members = int(m.state.member.sum())
            solara.HTML(
                tag="div", unsafe_innerHTML=t(lang, "members", members=integer(lang, members))
            )
            if run.settings.strategy != "none":
                org = m.organisation
                solara.HTML(
                    tag="div",
                    unsafe_innerHTML=t(
                        lang,
                        "organisation_now",
                        founded=len(org.founded),
                        links=integer(lang, org.totals["links"]),
                        hours=integer(lang, org.totals["staff_hours"]),
                    ),
                    classes=["bt-organisation"],
                )
            solara.HTML(tag="h2", unsafe_innerHTML=t(lang, "hub_title"))
            solara.HTML(
                tag="div",
                unsafe_innerHTML=f"<small>{t(lang, 'hub_help', k=m.config.hub.k)}</small>"
                + hub_html(model_hub_table(m), lang, m.config.hub.enabled),
                classes=["bt-hub-view"],
            )
        with solara.Column(gap="6px"):
            solara.HTML(
                tag="div", unsafe_innerHTML=adoption_chart(run, lang, ranges.get("adoption"))
            )
            solara.HTML(tag="div", unsafe_innerHTML=saving_chart(run, lang, ranges.get("saving")))
            solara.HTML(tag="div", unsafe_innerHTML=gap_chart(run, lang, ranges.get("gap")))
            solara.HTML(
                tag="div",
                unsafe_innerHTML=f"<b>{gap_text(run, lang)}</b><br>"
                f"<small>{t(lang, 'gap_help')}</small>",
                classes=["bt-gap-text"],
            )


@solara.component
def Page():
    lang = solara.use_reactive(_initial_lang())
    settings = solara.use_reactive((Settings(scenario=_initial_scenario()),))
    runs = solara.use_reactive(solara.use_memo(lambda: (Run.build(settings.value[0]),), []))
    playing = solara.use_reactive(False)
    speed = solara.use_reactive(4)
    mode = solara.use_reactive(None)
    tick = solara.use_reactive(0)
    lock = solara.use_memo(threading.Lock, [])

    def rebuild(new_settings):
        playing.set(False)
        with lock:
            settings.set(tuple(new_settings))
            runs.set(tuple(Run.build(s) for s in new_settings))
        if mode.value is not None and not _valid_mode(runs.value, mode.value):
            mode.set(None)
        tick.set(tick.value + 1)

    def step_once():
        with lock:
            moved = [r.step() for r in runs.value]
        tick.set(tick.value + 1)
        return any(moved)

    def play_loop(cancel: threading.Event):
        while playing.value and not cancel.is_set():
            t0 = time.perf_counter()
            if not step_once():
                playing.set(False)
                return
            cancel.wait(max(1.0 / max(speed.value, 1) - (time.perf_counter() - t0), 0.005))

    solara.use_thread(play_loop, dependencies=[playing.value, runs.value], intrusive_cancel=False)

    L = lang.value
    first = runs.value[0]
    solara.Title(t(L, "title"))
    solara.Style(CSS)
    with solara.Column(classes=["bt-app"], style={"padding": "12px"}):
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.HTML(tag="h1", unsafe_innerHTML=t(L, "title"))
            solara.v.Spacer()
            # the label and its buttons wrap as one (under the title on a narrow screen)
            with solara.Row(
                style={"align-items": "center", "flex-wrap": "nowrap"}, classes=["bt-langs"]
            ):
                _label(f"{t(L, 'language')}:")
                for code in LANGUAGES:
                    solara.Button(
                        LANGUAGE_NAMES[code],
                        on_click=lambda code=code: lang.set(code),
                        outlined=code != L,
                        color="primary",
                        classes=[f"bt-lang-{code}"],
                    )
        with solara.Columns([1, 3]):
            with solara.Column(gap="8px", classes=["bt-controls"]):
                names = scenario_names()
                current = settings.value[0].scenario
                if current not in names:
                    names = [current, *names]
                rv.Select(
                    label=t(L, "scenario"),
                    items=[{"text": _scenario_label(L, n), "value": n} for n in names],
                    v_model=current,
                    on_v_model=lambda v: rebuild(
                        [Settings(scenario=v, strategy=s.strategy) for s in settings.value]
                    ),
                    hide_details=True,
                    class_="bt-scenario",
                )
                with solara.Row(style={"flex-wrap": "wrap"}):
                    done = all(r.done for r in runs.value)
                    if playing.value:
                        solara.Button(
                            t(L, "pause"),
                            on_click=lambda: playing.set(False),
                            icon_name="mdi-pause",
                            color="primary",
                            classes=["bt-pause"],
                        )
                    else:
                        solara.Button(
                            t(L, "play"),
                            on_click=lambda: playing.set(True),
                            icon_name="mdi-play",
                            color="primary",
                            disabled=done,
                            classes=["bt-play"],
                        )
                    solara.Button(
                        t(L, "step"),
                        on_click=step_once,
                        icon_name="mdi-step-forward",
                        disabled=done or playing.value,
                        classes=["bt-step"],
                    )
                    solara.Button(
                        t(L, "reset"),
                        on_click=lambda: rebuild(settings.value),
                        icon_name="mdi-restore",
                        classes=["bt-reset"],
                    )
                total = first.total_steps * (first.model.config.run.dt if first.model else 1)
                month = first.step_count * (first.model.config.run.dt if first.model else 1)
                solara.HTML(
                    tag="div",
                    unsafe_innerHTML=t(L, "month_of", month=short(L, month), total=short(L, total)),
                    classes=["bt-month"],
                )
                if done and first.model is not None:
                    solara.Info(t(L, "finished"))
                _slider("speed", t(L, "speed"), speed.value, 1, 20, 1, speed.set)
                if first.model is not None:
                    behaviours = first.model.behaviour_names
                    rv.Select(
                        label=t(L, "colour_by"),
                        items=[{"text": t(L, "colour_count"), "value": -1}]
                        + [
                            {"text": name_of(L, "behaviour", b), "value": j}
                            for j, b in enumerate(behaviours)
                        ],
                        v_model=-1 if mode.value is None else mode.value,
                        on_v_model=lambda v: mode.set(None if v is None or v < 0 else int(v)),
                        hide_details=True,
                        class_="bt-colour mt-4",
                    )
                _label(t(L, "seed"))
                solara.InputInt(
                    "",
                    value=_seed_shown(settings.value[0]),
                    on_value=lambda v: rebuild(
                        [dataclasses.replace(s, seed=max(int(v or 0), 0)) for s in settings.value]
                    ),
                    classes=["bt-seed"],
                )
                solara.Switch(
                    label=t(L, "compare"),
                    value=len(settings.value) == 2,
                    on_value=lambda on: rebuild(
                        [settings.value[0]] * 2 if on else [settings.value[0]]
                    ),
                    classes=["bt-compare"],
                )
                if len(settings.value) == 2:
                    solara.HTML(tag="small", unsafe_innerHTML=t(L, "compare_help"))
                for i, s in enumerate(settings.value):

                    def on_settings(new, i=i):
                        rebuild([new if j == i else o for j, o in enumerate(settings.value)])

                    SettingsPanel(
                        L,
                        s,
                        on_settings,
                        title=t(L, "setting", name="AB"[i])
                        if len(settings.value) == 2
                        else t(L, "settings"),
                    )
                solara.HTML(tag="small", unsafe_innerHTML=t(L, "offline"))
            ranges = chart_ranges(runs.value)
            with solara.Columns([1] * len(runs.value)):
                for i, run in enumerate(runs.value):
                    with solara.Column(classes=[f"bt-run-{'ab'[i]}"]):
                        if len(runs.value) == 2:
                            solara.HTML(tag="h2", unsafe_innerHTML=t(L, "setting", name="AB"[i]))
                        RunView(
                            L,
                            run,
                            _mode_for(run, mode.value),
                            tick.value,
                            len(runs.value) == 2,
                            ranges,
                        )


def _scenario_label(lang: str, name: str) -> str:
    """A bundled scenario's name in ``lang``; a scenario file by its own name, not its path."""
    if name in scenario_names():
        return name_of(lang, "scenario", name)
    try:
        return scenario_info(name).title
    except Exception:  # a file that went bad: its name is all there is
        return os.path.basename(name)


def _seed_shown(settings: Settings) -> int:
    try:
        return seed_of(settings, scenario_info(settings.scenario))
    except Exception:  # a bad scenario: the page says why elsewhere
        return settings.seed or 0


def _valid_mode(runs, mode) -> bool:
    return all(r.model is None or mode < len(r.model.behaviour_names) for r in runs)


def _mode_for(run: Run, mode):
    if mode is None or run.model is None or mode >= len(run.model.behaviour_names):
        return None
    return mode
