"""The view in a real browser: ``bt-sim view`` in a subprocess, driven by Playwright.

Needs Debian's chromium at /usr/bin/chromium (``sh tests/setup_browser.sh`` installs it; set
``BT_SIM_CHROMIUM`` for another path). Without it these tests fail; they never skip.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

CHROMIUM = os.environ.get("BT_SIM_CHROMIUM", "/usr/bin/chromium")
LOAD_TIMEOUT_MS = 60_000
TIMEOUT_MS = 20_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_view(port: int, *extra: str) -> subprocess.Popen:
    """``bt-sim view`` on 127.0.0.1:port, returned once it answers HTTP."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bt_sim.cli", "view", "--port", str(port), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"bt-sim view stopped: {proc.stdout.read().decode()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.25)
    stop_view(proc)
    raise RuntimeError("bt-sim view did not answer within 60 s")


def stop_view(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()


@pytest.fixture(scope="module")
def server():
    port = free_port()
    proc = start_view(port)
    yield f"http://127.0.0.1:{port}/"
    stop_view(proc)


@pytest.fixture(scope="module")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"no browser at {CHROMIUM}: run `sh tests/setup_browser.sh` (installs Debian's "
            "chromium) or set BT_SIM_CHROMIUM"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # --no-sandbox: CI containers run as root, where chromium's sandbox refuses to start
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    outside, failed = [], []
    page.on(
        "request",
        lambda r: (
            outside.append(r.url)
            if not r.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:"))
            else None
        ),
    )
    page.on("response", lambda r: failed.append((r.status, r.url)) if r.status >= 400 else None)
    page.goto(server)
    page.locator(".bt-network").first.wait_for(timeout=LOAD_TIMEOUT_MS)
    page.outside, page.failed = outside, failed
    yield page
    context.close()


def month(page, text: str) -> None:
    page.locator(".bt-month", has_text=re.compile(f"^{re.escape(text)}$")).wait_for()


def curve_points(page) -> int:
    pts = page.locator("svg.bt-adoption polyline.curve").first.get_attribute("points")
    return len(pts.split())


def test_page_loads_offline(page):
    assert page.locator("h1").first.inner_text().startswith("Neighbourhood collectives")
    month(page, "Month 0 of 120")
    expect(page.locator("svg.bt-adoption polyline.curve")).to_have_count(5)  # one per behaviour
    expect(page.get_by_text("withheld").first).to_be_visible()  # the hub publishes nothing yet
    assert page.outside == [], "the page reached outside this computer"
    assert page.failed == []


def test_step_moves_the_curves(page):
    assert curve_points(page) == 1
    for _ in range(3):
        page.locator(".bt-step").click()
    month(page, "Month 3 of 120")
    page.wait_for_function(
        "() => document.querySelector('svg.bt-adoption polyline.curve')"
        ".getAttribute('points').split(' ').length === 4"
    )
    assert curve_points(page) == 4


def test_play_and_pause(page):
    page.locator(".bt-play").click()
    page.locator(".bt-month", has_text=re.compile(r"^Month ([3-9]|\d\d+) of 120$")).wait_for()
    page.locator(".bt-pause").click()
    page.locator(".bt-play").wait_for()
    time.sleep(0.5)  # a step that was under way when Pause was pressed may still show
    shown = page.locator(".bt-month").inner_text()
    time.sleep(1.0)
    assert page.locator(".bt-month").inner_text() == shown  # paused


def test_switch_to_dutch(page):
    page.locator(".bt-lang-nl").click()
    month(page, "Maand 0 van 120")
    for text in ("Stap", "Afspelen", "Opnieuw", "De wijk: elke stip is een huishouden"):
        expect(page.get_by_text(text, exact=True).first).to_be_visible()
    expect(page.locator("svg.bt-adoption title").first).to_have_text(
        "Huishoudens die een maatregel nemen (%)"
    )
    expect(page.locator("svg.bt-adoption")).to_contain_text("Maanden")
    expect(page.get_by_text("achtergehouden").first).to_be_visible()
    page.locator(".bt-lang-en").click()
    month(page, "Month 0 of 120")


def test_slider_resets_the_run(page):
    page.locator(".bt-step").click()
    page.locator(".bt-step").click()
    month(page, "Month 2 of 120")
    thumb = page.locator(".bt-collectives [role=slider]")
    assert thumb.get_attribute("aria-valuenow") == "3"
    thumb.focus()
    thumb.press("ArrowRight")
    month(page, "Month 0 of 120")
    page.wait_for_function(
        "() => document.querySelector('.bt-collectives [role=slider]')"
        ".getAttribute('aria-valuenow') === '4'"
    )
    expect(page.locator(".bt-hub tr")).to_have_count(1 + 4)  # a header and four collectives


def test_pick_another_scenario(page):
    page.locator(".bt-scenario .v-input__slot").click()
    page.locator(".v-menu__content .v-list-item", has_text="Tipping point").click()
    page.get_by_text("Committed early adopters of Plant-based meals").wait_for()
    month(page, "Month 0 of 120")
    expect(page.locator("svg.bt-adoption polyline.curve")).to_have_count(1)
    page.locator(".bt-step").click()
    month(page, "Month 1 of 120")


def test_side_by_side(page):
    page.locator(".bt-compare input").check(force=True)
    page.locator(".bt-run-b .bt-network").wait_for()
    expect(page.locator(".bt-network")).to_have_count(2)
    expect(page.locator(".bt-collectives [role=slider]")).to_have_count(2)
    page.locator(".bt-step").click()
    month(page, "Month 1 of 120")


# ---- the workshop's screens: each check at two screen sizes, in both languages ----------
SCREENS = [(1366, 768), (1920, 1080)]
SHOWN = [(w, h, lang) for w, h in SCREENS for lang in ("en", "nl")]
TITLES = {
    "en": "Neighbourhood collectives: how fast does change spread?",
    "nl": "Buurtcollectieven: hoe snel verspreidt verandering zich?",
}
MONTH = {"en": "Month {m} of {n}", "nl": "Maand {m} van {n}"}


@pytest.fixture(params=SHOWN, ids=lambda p: f"{p[0]}x{p[1]}-{p[2]}")
def shown(request, browser, server):
    """The page at a workshop's screen size, in one language."""
    w, h, lang = request.param
    context = browser.new_context(viewport={"width": w, "height": h})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(server)
    page.locator(".bt-network").first.wait_for(timeout=LOAD_TIMEOUT_MS)
    if lang == "nl":
        page.locator(".bt-lang-nl").click()
        page.get_by_text(MONTH["nl"].format(m=0, n=120)).wait_for()
    page.lang = lang
    yield page
    context.close()


def _box(locator):
    box = locator.bounding_box()
    assert box is not None, "not on the page"
    return box


def _ticks(page, run: str, chart: str) -> list[str]:
    texts = _texts(page.locator(f".bt-run-{run} svg.{chart} text[text-anchor=end]"))
    assert texts, f"no y ticks on {chart} of run {run}"
    return texts


def test_side_by_side_stacks_each_run_and_shares_the_axes(shown):
    page = shown
    page.locator(".bt-compare input").check(force=True)
    page.locator(".bt-run-b .bt-network").wait_for()
    # setting B: every collective a neighbourhood can have, so its curves differ from A's
    thumb = page.locator(".bt-collectives [role=slider]").nth(1)
    thumb.focus()
    thumb.press("End")
    page.wait_for_function(
        "() => document.querySelectorAll('.bt-collectives [role=slider]')[1]"
        ".getAttribute('aria-valuenow') === '10'"
    )
    for _ in range(6):
        page.locator(".bt-step").click()
    month(page, MONTH[page.lang].format(m=6, n=120))
    for run in "ab":
        picture = _box(page.locator(f".bt-run-{run} .bt-network").first)
        chart = _box(page.locator(f".bt-run-{run} svg.bt-adoption"))
        # stacked: the curves under the picture, not beside it
        assert chart["y"] >= picture["y"] + picture["height"] - 2
        # axis text drawn at 18 of 600 units: at least 12 px on the screen
        assert chart["width"] * 18 / 600 >= 12, f"axis text {chart['width'] * 18 / 600:.1f} px"
    for chart in ("bt-adoption", "bt-saving", "bt-gap"):
        assert _ticks(page, "a", chart) == _ticks(page, "b", chart), chart


def test_numbers_are_written_in_the_language(shown):
    page = shown
    price = {"en": "EUR 9,000", "nl": "EUR 9.000"}[page.lang]
    expect(page.get_by_text(price, exact=False).first).to_be_visible()
    ticks = _saving_ticks(page)
    decimal = {"en": ".", "nl": ","}[page.lang]
    other = {"en": ",", "nl": "."}[page.lang]
    assert any(decimal in x for x in ticks), ticks
    assert not any(other in x for x in ticks), ticks
    # a fractional slider's value is in its label (a thumb could only write it the English way)
    thumb = page.locator(".bt-bias [role=slider]")
    thumb.focus()
    thumb.press("ArrowRight")  # 1 -> 1.5
    expect(page.locator(".bt-label b").first).to_have_text({"en": "1.5", "nl": "1,5"}[page.lang])


def _saving_ticks(page) -> list[str]:
    return _texts(page.locator("svg.bt-saving text[text-anchor=end]"))


def _texts(locator) -> list[str]:
    """The text of SVG elements (which have no inner text)."""
    return locator.evaluate_all("els => els.map(e => e.textContent)")


@pytest.mark.parametrize("scenario", ["bass", "threshold"])
def test_sliders_that_cannot_change_adoption_are_off(page, scenario):
    names = {"bass": "Bass model", "threshold": "Watts model"}
    page.locator(".bt-scenario .v-input__slot").click()
    page.locator(".v-menu__content .v-list-item", has_text=names[scenario]).click()
    page.get_by_text("collectives and whom they recruit cannot change it").wait_for()
    for name in ("collectives", "bias"):
        expect(page.locator(f".bt-{name}")).to_have_class(re.compile("v-input--is-disabled"))
    page.locator(".bt-lang-nl").click()
    page.get_by_text("collectieven en wie zij werven veranderen daar niets aan").wait_for()
    page.locator(".bt-lang-en").click()


def test_the_collectives_slider_works_where_collectives_matter(page):
    expect(page.locator(".bt-collectives")).not_to_have_class(re.compile("v-input--is-disabled"))
    expect(page.get_by_text("cannot change it")).to_have_count(0)


def test_the_tab_has_the_page_title_from_the_first_byte(shown, server):
    assert shown.title() == TITLES[shown.lang]
    with urllib.request.urlopen(server, timeout=10) as r:
        html = r.read().decode()
    assert f"<title>{TITLES['en']}</title>" in html, "the page's HTML has another title"
    assert "Solara" not in html.split("<title>")[1].split("</title>")[0]


def test_the_page_starts_with_the_scenarios_town(shown):
    from bt_sim.view.session import scenario_info

    seed = str(scenario_info("default").seed)
    assert shown.locator(".bt-seed input").input_value() == seed


def test_the_hub_table_scrolls_inside_its_frame(shown):
    table = shown.locator(".bt-hub-scroll > table.bt-hub")
    expect(table).to_have_count(1)
    frame = _box(shown.locator(".bt-hub-scroll"))
    last = _box(shown.locator("table.bt-hub tr").first.locator("th").last)
    # the last column is inside the frame or reachable by scrolling it
    scrolls = shown.locator(".bt-hub-scroll").evaluate("e => e.scrollWidth > e.clientWidth")
    assert last["x"] + last["width"] <= frame["x"] + frame["width"] + 1 or scrolls


def test_a_narrow_screen_keeps_the_language_buttons_by_their_label(browser, server):
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(server)
    page.locator(".bt-network").first.wait_for(timeout=LOAD_TIMEOUT_MS)
    for lang in ("en", "nl"):
        page.locator(f".bt-lang-{lang}").click()
        page.get_by_text(MONTH[lang].format(m=0, n=120)).wait_for()
        label = _box(page.locator(".bt-langs .bt-label"))
        for code in ("en", "nl"):
            button = _box(page.locator(f".bt-lang-{code}"))
            assert (
                abs((button["y"] + button["height"] / 2) - (label["y"] + label["height"] / 2)) < 12
            )
        # the scenario's name is shown whole, not cut off
        cut = page.locator(".bt-scenario .v-select__selection").evaluate(
            "e => e.scrollWidth > e.clientWidth + 1"
        )
        assert not cut
    context.close()


def test_a_scenario_file_is_shown_by_its_name_and_no_warning_is_printed(browser, tmp_path):
    town = tmp_path / "my_town.toml"
    default = Path(__file__).resolve().parents[1] / "scenarios" / "default.toml"
    town.write_text(f'extends = "{default}"\nname = "our_street"\n[population]\nhouseholds = 600\n')
    port = free_port()
    proc = start_view(port, str(town))
    try:
        context = browser.new_context(viewport={"width": 1366, "height": 768})
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(f"http://127.0.0.1:{port}/")
        page.locator(".bt-network").first.wait_for(timeout=LOAD_TIMEOUT_MS)
        expect(page.locator(".bt-scenario .v-select__selection")).to_have_text("our_street")
        context.close()
    finally:
        stop_view(proc)
    log = proc.stdout.read().decode()
    assert "samesite" not in log and "no session cookie" not in log, log
