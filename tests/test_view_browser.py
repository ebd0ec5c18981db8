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
