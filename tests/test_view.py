"""The view's pieces without a browser: translations, layout, colours, pictures, the hub-safe
table, settings, and the page rendered with ``solara.render``."""

from __future__ import annotations

import re
import string

import numpy as np
import pandas as pd
import pytest

from bt_sim.view import drawing
from bt_sim.view.i18n import LANGUAGES, SIZE_CLASS_KEYS, STRINGS, name_of, t
from bt_sim.view.session import (
    Run,
    Settings,
    hub_html,
    hub_table,
    latest_release,
    legend,
    model_hub_table,
    overrides,
    scenario_info,
    scenario_names,
)


# ---- translations ----
def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def test_languages_have_the_same_keys_and_no_empty_strings():
    assert set(STRINGS) == set(LANGUAGES) == {"en", "nl"}
    assert set(STRINGS["en"]) == set(STRINGS["nl"])
    for lang in LANGUAGES:
        for key, text in STRINGS[lang].items():
            assert text.strip(), (lang, key)


def test_languages_fill_in_the_same_fields():
    for key, text in STRINGS["en"].items():
        assert _fields(text) == _fields(STRINGS["nl"][key]), key


def test_dutch_is_dutch():
    differ = [k for k in STRINGS["en"] if STRINGS["en"][k] != STRINGS["nl"][k]]
    assert len(differ) > 0.9 * len(STRINGS["en"])  # "Scenario", "%" may stay the same
    assert t("nl", "step") == "Stap" and t("en", "step") == "Step"


def test_every_bundled_scenario_and_behaviour_has_a_name_in_both_languages():
    for name in scenario_names():
        info = scenario_info(name)
        for lang in LANGUAGES:
            assert f"scenario.{name}" in STRINGS[lang]
            for b in info.behaviours:
                assert f"behaviour.{b}" in STRINGS[lang]
    assert name_of("nl", "behaviour", "solar_panels") == "solar panels"


def test_every_size_class_label_exists():
    for keys in SIZE_CLASS_KEYS.values():
        for key in keys:
            assert all(key in STRINGS[lang] for lang in LANGUAGES)


# ---- layout and colours ----
def test_layout_puts_households_in_their_neighbourhood_cell():
    bounds = (0, 200, 400, 600, 800, 1000)
    lay = drawing.layout(bounds)
    assert lay.xy.shape == (1000, 2)
    assert drawing.layout(bounds) is lay  # cached
    for nb in range(5):
        x0, y0, x1, y1 = lay.cells[nb]
        pts = lay.xy[bounds[nb] : bounds[nb + 1]]
        assert (pts[:, 0] >= x0).all() and (pts[:, 0] <= x1).all()
        assert (pts[:, 1] >= y0).all() and (pts[:, 1] <= y1).all()
    # cells do not overlap
    c = lay.cells
    for i in range(5):
        for j in range(i + 1, 5):
            assert (
                c[i, 2] <= c[j, 0] or c[j, 2] <= c[i, 0] or c[i, 3] <= c[j, 1] or c[j, 3] <= c[i, 1]
            )


def test_layout_spreads_households_apart():
    lay = drawing.layout((0, 2000))
    from scipy.spatial import cKDTree

    d, _ = cKDTree(lay.xy).query(lay.xy, k=2)
    assert np.median(d[:, 1]) > 0.5 * lay.spacing


def test_ring_layout_is_a_circle():
    lay = drawing.layout((0, 100), ring=True)
    centre = lay.xy.mean(axis=0)
    r = np.linalg.norm(lay.xy - centre, axis=1)
    assert r.std() < 1e-6


def test_colours_are_distinct_and_okabe_ito():
    assert len(set(drawing.OKABE_ITO)) == 8
    assert drawing.behaviour_colour(0) == "#0072B2"
    cc = drawing.count_colours(5)
    assert len(set(cc)) == 6
    # the sequential scale gets darker with more measures (luminance falls)
    lum = [sum(drawing.hex_to_rgb(c)) for c in cc[1:]]
    assert lum == sorted(lum, reverse=True)
    entries = legend("nl", ("a", "b"), None)
    assert [label for _, label in entries] == ["nog niets", "1 maatregel", "2 maatregelen"]


def test_painter_colours_households_and_rings_members():
    lay = drawing.layout((0, 50, 100))
    hosted = np.array([True, False])
    edges = (np.array([0, 1]), np.array([60, 70]))
    p = drawing.NetworkPainter(lay, edges, hosted, size=300)
    adopted = np.zeros((100, 1), bool)
    adopted[:10, 0] = True
    member = np.zeros(100, bool)
    member[5] = True
    img = p.paint(drawing.node_colour_index(adopted, None), drawing.count_colours(1), member)
    assert img.shape == (p.height, 300, 3)
    flat = img.reshape(-1, 3)
    blue = np.array(drawing.hex_to_rgb(drawing.OKABE_ITO[0]))
    assert (flat == blue).all(axis=1).sum() > 0
    assert (flat == 0).all(axis=1).sum() > 0  # the member's black ring
    png = p.png(drawing.node_colour_index(adopted, 0), drawing.count_colours(1), member)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_sample_edges_caps_and_dedups():
    n = 400
    rng = np.random.default_rng(0)
    rows = [np.sort(rng.choice(n, 20, replace=False)) for _ in range(n)]
    indptr = np.concatenate([[0], np.cumsum([len(r) for r in rows])])
    indices = np.concatenate(rows)
    u, v = drawing.sample_edges(indptr, indices, limit=500)
    assert len(u) == 500 and (u < v).all()


def test_svg_chart_is_well_formed_and_escaped():
    s = drawing.svg_line_chart(
        [
            drawing.Series("a<b", "#0072B2", np.array([0.0, 10.0, np.nan, 30.0])),
            drawing.Series("B", "#E69F00", np.array([5.0]), dashed=True),
        ],
        120,
        "Title & more",
        "Months",
        "%",
        y_range=(0, 100),
    )
    import xml.etree.ElementTree as ET

    root = ET.fromstring(s)
    ns = "{http://www.w3.org/2000/svg}"
    lines = root.findall(f".//{ns}polyline")
    assert len(lines) == 2
    assert len(lines[0].get("points").split()) == 3
    assert "a&lt;b" in s and "Title &amp; more" in s


# ---- the hub-safe table ----
def _panel(rows):
    cols = ["step", "month", "collective", "size_class", "n_households", "kpi_mean", "saving_mean"]
    return pd.DataFrame(rows, columns=cols)


def test_hub_table_withholds_missing_and_small_groups():
    panel = _panel(
        [
            (3, 3.0, 4, 0, 12, 200.0, 0.05),
            (3, 3.0, 4, 1, 7, 210.0, 0.09),  # below k: never shown, even if present
            (2, 2.0, 4, 2, 15, 220.0, 0.07),  # an older release: not the latest
        ]
    )
    table = hub_table(panel, [4, 7], k=10, size_classes=4, step=3, dt=1.0)
    assert table.rows[0] == (4, ((12, 0.05), None, None, None))
    assert table.rows[1] == (7, (None, None, None, None))
    html = hub_html(table, "en")
    assert html.count(">withheld<") == 7
    assert "5.0% (12)" in html
    assert "0.09" not in html and "9.0" not in html and "(7 " not in html
    nl = hub_html(table, "nl")
    assert nl.count(">achtergehouden<") == 7 and "Collectief, buurt 5" in nl


def test_hub_table_before_any_release_and_without_collectives():
    table = hub_table(_panel([]), [2], k=10, size_classes=2, step=None, dt=1.0)
    assert table.rows == ((2, (None, None)),)
    assert "No release yet." in hub_html(table, "en")
    empty = hub_table(_panel([]), [], k=10, size_classes=4, step=5, dt=1.0)
    assert "no collectives" in hub_html(empty, "en")


def test_latest_release_follows_the_report_interval():
    assert latest_release(0, 1.0, 1.0) is None
    assert latest_release(11, 3.0, 1.0) == 9
    assert latest_release(4, 0.5, 1.0) == 4


def test_model_hub_table_shows_only_published_groups():
    run = Run.build(Settings(scenario="default", k=5, collectives=10))
    for _ in range(24):
        run.step()
    m = run.model
    table = model_hub_table(m)
    panel = m.hub_panel()
    shown = [cell for _, cells in table.rows for cell in cells if cell is not None]
    assert shown, "with k = 5 some groups publish within two years"
    latest = panel[(panel["step"] == table.release_step) & (panel["size_class"] >= 0)]
    assert len(shown) == len(latest)


# ---- settings and runs ----
def test_overrides_follow_the_controls():
    info = scenario_info("default")
    assert overrides(Settings(), info) == []
    ov = overrides(
        Settings(subsidy=50, subsidy_behaviour="insulation", collectives=5, bias=0, k=20), info
    )
    assert ov == [
        "behaviours.insulation.cost=2000",
        "collectives.count=5",
        "collectives.usual_suspects_bias=0",
        "hub.k=20",
    ]
    tip = scenario_info("tipping")
    assert tip.committed_behaviour == "plant_based_meals"
    assert overrides(Settings(scenario="tipping", committed=8), tip) == [
        "behaviours.plant_based_meals.committed_share=0.08"
    ]
    assert scenario_info("default").costly[0] == "heat_pump"


def test_settings_change_the_model():
    base = Run.build(Settings(seed=3))
    cheap = Run.build(Settings(seed=3, subsidy=100, subsidy_behaviour="heat_pump", collectives=7))
    assert cheap.model.config.collectives.count == 7
    assert float(cheap.model.cost[cheap.model.behaviour_names.index("heat_pump")]) == 0.0
    # the same seed gives the same town
    assert np.array_equal(base.model.population.income, cheap.model.population.income)


def test_a_rejected_combination_becomes_a_message():
    run = Run.build(Settings(collectives=11))  # 10 neighbourhoods
    assert run.model is None and run.done and not run.step()
    assert "collectives.count" in run.error
    bad = Run.build(Settings(scenario="no_such_scenario"))
    assert "no such file" in bad.error


def test_run_steps_to_the_end_and_stops():
    run = Run.build(Settings(scenario="default"))
    steps = run.total_steps
    assert steps == 120
    for _ in range(3):
        assert run.step()
    assert run.step_count == 3
    png = run.network_png(None)
    assert run.network_png(None) is png  # cached per step and colouring


def test_two_strategies_side_by_side_meet_the_same_town():
    none = Run.build(Settings(seed=4))
    out = Run.build(Settings(seed=4, strategy="out_least_served"))
    assert "organisation.found_order=least_served" in overrides(
        Settings(strategy="out_least_served"), scenario_info("default")
    )
    assert np.array_equal(none.model.population.income, out.model.population.income)
    for _ in range(24):
        none.step()
        out.step()
    assert len(out.model.organisation.founded) > 0 and not none.model.organisation.founded
    bad = Run.build(Settings(strategy="sideways"))
    assert bad.model is None and "sideways" in bad.error


def test_every_strategy_has_a_name_in_both_languages():
    from bt_sim.view.i18n import STRINGS
    from bt_sim.view.session import STRATEGIES

    for lang in ("en", "nl"):
        for name in STRATEGIES:
            assert f"strategy.{name}" in STRINGS[lang], (lang, name)


# ---- the page, rendered without a browser ----
def test_page_renders_steps_translates_and_resets():
    import ipyvuetify as v
    import solara

    from bt_sim.view.app import Page

    _, rc = solara.render(Page(), handle_error=False)
    rc.find(unsafe_innerHTML="Month 0 of 120").assert_single()
    rc.find(v.Btn, class_="bt-step").widget.click()
    rc.find(v.Btn, class_="bt-step").widget.click()
    rc.find(unsafe_innerHTML="Month 2 of 120").assert_single()
    rc.find(v.Btn, class_="bt-lang-nl").widget.click()
    rc.find(unsafe_innerHTML="Maand 2 van 120").assert_single()
    assert rc.find(v.Btn, class_="bt-step").widget.children[-1] == "Stap"
    # a slider resets the run with its value
    slider = rc.find(v.Slider, class_="bt-slider bt-collectives mt-8").widget
    slider.v_model = 6
    rc.find(unsafe_innerHTML="Maand 0 van 120").assert_single()
    assert rc.find(v.Slider, class_="bt-slider bt-collectives mt-8").widget.v_model == 6
    # side by side: two runs, two networks
    rc.find(v.Switch, class_="bt-compare").widget.v_model = True
    assert len(rc.find(v.Slider, class_="bt-slider bt-collectives mt-8")) == 2
    rc.find(v.Btn, class_="bt-step").widget.click()
    assert len(rc.find(unsafe_innerHTML="Instelling B")) >= 1
    # a strategy for setting B: its run shows what the network organisation did
    rc.find(v.Select, class_="bt-strategy mt-2")[1].widget.v_model = "out_ready"
    rc.find(v.Btn, class_="bt-step").widget.click()
    from bt_sim.view.i18n import t

    # one month in: the organisation saves up for its first founding (80 staff hours)
    said = t("nl", "organisation_now", founded=0, links="0", hours="0")
    assert said.startswith("Netwerkorganisatie tot nu toe")
    rc.find(unsafe_innerHTML=said).assert_single()
    # another scenario
    rc.find(v.Select, class_="bt-scenario").widget.v_model = "tipping"
    assert len(rc.find(v.Slider, class_="bt-slider bt-committed mt-8")) == 2
    rc.close()


# ---- the command line ----
def test_view_command_rejects_a_bad_scenario(capsys):
    from bt_sim.cli import main

    assert main(["view", "no_such_scenario"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_view_command_rejects_a_busy_port(capsys):
    import socket

    from bt_sim.cli import main

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["view", "--port", str(port)]) == 2
    assert "choose another port" in capsys.readouterr().err


def test_view_command_line(tmp_path):
    from bt_sim.cli import _parser, view_command

    args = _parser().parse_args(["view", "tipping", "--port", "9001", "--lang", "nl"])
    cmd, env = view_command(args)
    assert cmd[1:5] == ["-m", "solara", "run", "bt_sim.view.app"]
    assert re.search(r"--port 9001", " ".join(cmd)) and "--no-check-version" in cmd
    assert env["BT_SIM_VIEW_SCENARIO"] == "tipping" and env["BT_SIM_VIEW_LANG"] == "nl"
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"
    with pytest.raises(SystemExit):
        _parser().parse_args(["view", "--port", "0"])


@pytest.mark.parametrize("name", ["bt_sim.view.drawing", "bt_sim.view.i18n", "bt_sim.view.session"])
def test_docstring_examples(name):
    import doctest
    import importlib

    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"


def test_page_shows_a_rejected_combination_and_recovers():
    import ipyvuetify as v
    import solara

    from bt_sim.view.app import Page

    _, rc = solara.render(Page(), handle_error=False)
    slider = rc.find(v.Slider, class_="bt-slider bt-collectives mt-8").widget
    slider.v_model = 11  # more collectives than neighbourhoods: the model refuses
    error = rc.find(v.Alert)
    assert len(error) == 1 and "collectives.count" in str(error.widget.children)
    rc.find(v.Btn, class_="bt-step").assert_single()  # the page is still there
    rc.find(v.Slider, class_="bt-slider bt-collectives mt-8").widget.v_model = 4
    assert len(rc.find(v.Alert)) == 0
    rc.find(v.Btn, class_="bt-step").widget.click()
    rc.find(unsafe_innerHTML="Month 1 of 120").assert_single()
    rc.close()


# ---- the workshop's fixes (issue: side by side, Dutch numbers, inert sliders, start) ----
def test_argument_errors_are_one_line(capsys):
    import subprocess
    import sys

    for argv in (["view", "--lang", "fr"], ["view", "--port", "0"]):
        out = subprocess.run(
            [sys.executable, "-m", "bt_sim.cli", *argv], capture_output=True, text=True
        )
        assert out.returncode == 2
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("bt-sim view: error: argument")
        assert "(see bt-sim view --help)" in lines[0]


def test_a_wrong_host_is_blamed_on_the_host(capsys):
    from bt_sim.cli import main

    assert main(["view", "--host", "no-such-host.invalid", "--port", "8799"]) == 2
    err = capsys.readouterr().err
    assert "cannot listen on no-such-host.invalid (" in err and "--host" in err
    assert "--port" not in err
    assert main(["view", "--host", "192.0.2.77", "--port", "8799"]) == 2  # TEST-NET: not ours
    err = capsys.readouterr().err
    assert "not an address of this computer" in err and "--host" in err


def test_runs_side_by_side_share_their_chart_ranges():
    from bt_sim.view.session import adoption_chart, chart_ranges

    a = Run.build(Settings(collectives=0))
    b = Run.build(Settings(collectives=10, subsidy=100, subsidy_behaviour="heat_pump"))
    for _ in range(12):
        a.step()
        b.step()
    assert chart_ranges([a]) == {}
    ranges = chart_ranges([a, b])
    top = max(float(np.nanmax(r.model.recorder.overall_adoption)) * 100 for r in (a, b))
    lo, hi = ranges["adoption"]
    assert lo == 0 and top <= hi <= 100
    ticks = [
        re.findall(r'text-anchor="end">([^<]*)<', adoption_chart(r, "en", ranges["adoption"]))
        for r in (a, b)
    ]
    assert ticks[0] == ticks[1]
    for name in ("saving", "gap"):
        lo, hi = ranges[name]
        assert lo <= 0 <= hi and hi > lo


def test_charts_write_their_ticks_in_the_language():
    from bt_sim.view.session import saving_chart

    run = Run.build(Settings())
    nl = re.findall(r'text-anchor="end">([^<]*)<', saving_chart(run, "nl"))
    en = re.findall(r'text-anchor="end">([^<]*)<', saving_chart(run, "en"))
    assert "0,2" in nl and "0.2" in en and "0.2" not in nl


def test_collectives_cannot_change_adoption_in_the_special_cases():
    assert scenario_info("default").collectives_matter
    assert not scenario_info("bass").collectives_matter
    assert not scenario_info("threshold").collectives_matter


def test_a_page_starts_from_the_scenarios_own_town():
    from bt_sim.streams import replicate_root

    run = Run.build(Settings())
    root = replicate_root(scenario_info("default").seed, 0)
    assert run.model.seed_entropy == root.entropy and run.model.seed_spawn_key == tuple(
        root.spawn_key
    )


def test_the_server_warms_up_when_it_starts():
    import subprocess
    import sys

    code = (
        "import os, time; os.environ['SOLARA_APP'] = 'bt_sim.view.app';"
        "import bt_sim.view.drawing as d; import bt_sim.view.app;"
        "print(d._layout.cache_info().currsize)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "1"  # the starting scenario's layout is made
