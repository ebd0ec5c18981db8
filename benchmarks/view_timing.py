"""Time the view in a real browser: first page load, and one step plus redraw.

Starts ``bt-sim view`` on a free port, drives Debian's chromium with Playwright and prints:

* first load: from ``page.goto`` until the network picture has been drawn and the curves are
  on the page, for the first visitor after the server started (who also pays for loading the
  model's compiled kernels) and for later visitors;
* step plus redraw: from the click on Step until the page shows the next month, the new network
  picture has loaded and the curves have the new point (the round trip a user sees), for one
  run and for two runs side by side (both pictures and both sets of curves).

The server warms the model's kernels when it starts (``bt_sim.view.app.warm``), so its start
is printed beside the first visitor's load.

The targets (docs/DESIGN section 4): first load under 5 s; step plus redraw at 2,000 households
under 250 ms.

    python benchmarks/view_timing.py                       # default scenario: 2,000 households
    python benchmarks/view_timing.py --steps 40 --screenshots docs   # also docs/view-{en,nl}.png
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from test_view_browser import CHROMIUM, free_port, start_view, stop_view

DRAWN = """() => {
  const img = document.querySelector('.bt-network img, img.bt-network');
  return img && img.complete && img.naturalWidth > 0 &&
         document.querySelector('svg.bt-adoption polyline.curve') !== null;
}"""

STEPPED = """([month, src]) => {
  const m = document.querySelector('.bt-month');
  const img = document.querySelector('.bt-network img, img.bt-network');
  const curve = document.querySelector('svg.bt-adoption polyline.curve');
  return m && m.textContent.trim().startsWith('Month ' + month + ' ') &&
         img && img.src !== src && img.complete && img.naturalWidth > 0 &&
         curve && curve.getAttribute('points').split(' ').length === month + 1;
}"""


STEPPED_BOTH = """([month, srcs]) => {
  const m = document.querySelector('.bt-month');
  if (!m || !m.textContent.trim().startsWith('Month ' + month + ' ')) return false;
  const imgs = [...document.querySelectorAll('.bt-network img, img.bt-network')];
  const curves = [...document.querySelectorAll('svg.bt-adoption')].map(
    s => s.querySelector('polyline.curve'));
  return imgs.length === 2 && curves.length === 2 &&
         imgs.every((img, i) => img.src !== srcs[i] && img.complete && img.naturalWidth > 0) &&
         curves.every(c => c && c.getAttribute('points').split(' ').length === month + 1);
}"""


def time_steps(page, steps: int, both: bool) -> list[float]:
    """Seconds from each click on Step until the page shows it (one run, or ``both``)."""
    images = page.locator(".bt-network img, img.bt-network")
    times = []
    start = int(page.locator(".bt-month").inner_text().split()[1])
    for k in range(start + 1, start + steps + 1):
        srcs = [images.nth(i).get_attribute("src") for i in range(images.count())]
        t = time.perf_counter()
        page.locator(".bt-step").click()
        if both:
            page.wait_for_function(STEPPED_BOTH, arg=[k, srcs], polling="raf")
        else:
            page.wait_for_function(STEPPED, arg=[k, srcs[0]], polling="raf")
        times.append(time.perf_counter() - t)
    return times


def summary(label: str, times: list[float]) -> str:
    ms = sorted(1000 * x for x in times)
    return (
        f"{label} ({len(ms)} steps): median {statistics.median(ms):.0f} ms, "
        f"90th percentile {ms[int(0.9 * (len(ms) - 1))]:.0f} ms, max {ms[-1]:.0f} ms"
    )


def load(browser, url: str, viewport) -> tuple[float, object, object]:
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(120_000)
    t0 = time.perf_counter()
    page.goto(url)
    page.wait_for_function(DRAWN, polling=10)
    return time.perf_counter() - t0, context, page


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario", nargs="?", default="default")
    ap.add_argument("--steps", type=int, default=30, help="steps to time (default 30)")
    ap.add_argument("--loads", type=int, default=3, help="page loads to time (default 3)")
    ap.add_argument("--screenshots", type=Path, help="folder for view-en.png and view-nl.png")
    ap.add_argument("--no-compare", dest="compare", action="store_false", help="time one run only")
    args = ap.parse_args()
    if not os.access(CHROMIUM, os.X_OK):
        print(f"no browser at {CHROMIUM}: run sh tests/setup_browser.sh", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    from bt_sim.view.session import scenario_info

    households = scenario_info(args.scenario).households
    port = free_port()
    t0 = time.perf_counter()
    proc = start_view(port, args.scenario)
    url = f"http://127.0.0.1:{port}/"
    print(f"scenario {args.scenario}: {households:,} households")
    print(f"server answering after {time.perf_counter() - t0:.2f} s")
    viewport = {"width": 1600, "height": 1000}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            loads = []
            for _ in range(args.loads):
                seconds, context, page = load(browser, url, viewport)
                loads.append(seconds)
                context.close()
            print(f"first load, first visitor: {loads[0]:.2f} s")
            if len(loads) > 1:
                later = ", ".join(f"{s:.2f}" for s in loads[1:])
                print(f"first load, later visitors: {later} s")
            _, context, page = load(browser, url, viewport)
            print(summary("step + redraw, one run", time_steps(page, args.steps, False)))
            if args.screenshots:
                args.screenshots.mkdir(parents=True, exist_ok=True)
                page.set_viewport_size({"width": 1600, "height": 1250})  # the whole page
                page.mouse.move(0, 0)
                page.screenshot(path=str(args.screenshots / "view-en.png"))
                page.locator(".bt-lang-nl").click()
                page.get_by_text(f"Maand {args.steps} van").wait_for()
                page.screenshot(path=str(args.screenshots / "view-nl.png"))
                page.locator(".bt-lang-en").click()
                page.get_by_text(f"Month {args.steps} of").wait_for()
                page.set_viewport_size(viewport)
            if args.compare:  # switching it on starts both runs again
                page.locator(".bt-compare input").check(force=True)
                page.locator(".bt-run-b .bt-network").wait_for()
                both = time_steps(page, args.steps, True)
                print(summary("step + redraw, two runs side by side", both))
                if args.screenshots:
                    page.set_viewport_size({"width": 1366, "height": 1500})
                    page.mouse.move(0, 0)
                    page.screenshot(path=str(args.screenshots / "view-side-by-side.png"))
            if args.screenshots:
                shots = ", ".join(
                    f"{args.screenshots}/{n}.png"
                    for n in ("view-en", "view-nl", "view-side-by-side")[: 2 + args.compare]
                )
                print(f"screenshots: {shots}")
            context.close()
            browser.close()
    finally:
        stop_view(proc)
    load1, load5, load15 = os.getloadavg()
    print(f"machine: {os.cpu_count()} CPUs, load average {load1:.2f} {load5:.2f} {load15:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
