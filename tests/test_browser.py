"""Headless Chromium paints the first events of /timeline before the response has ended."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import ServedProject

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's chromium is not installed (apt-get install chromium; .ci/run does this)",
    ),
]

# Runs in the page before any of it arrives: note when the first event enters the document and
# when a frame that contains it has been painted (the second animation frame after it).
RECORD_FIRST_EVENT = """
new MutationObserver((changes, observer) => {
  if (document.getElementById("event-1")) {
    window.firstEventAdded = performance.now();
    requestAnimationFrame(() => requestAnimationFrame(() => {
      window.firstEventPainted = performance.now();
    }));
    observer.disconnect();
  }
}).observe(document, {childList: true, subtree: true});
"""


def test_first_events_are_painted_before_the_response_ends(served_project: ServedProject) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            # Without these, Chromium tries to reach Google's hosts, which this network refuses.
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            page = browser.new_page()
            page.add_init_script(RECORD_FIRST_EVENT)
            page.goto(
                f"{served_project.url}/timeline?limit=100000", wait_until="load", timeout=120_000
            )
            times = page.evaluate(
                """() => ({
                  added: window.firstEventAdded,
                  painted: window.firstEventPainted,
                  firstByte: performance.getEntriesByType("navigation")[0].responseStart,
                  end: performance.getEntriesByType("navigation")[0].responseEnd,
                  events: document.querySelectorAll("ol.events li").length,
                })"""
            )
        finally:
            browser.close()
    assert times["events"] == 100_000
    print(f"Chromium timings (ms): {times}")
    assert times["painted"] < times["end"] / 2, times
    assert times["firstByte"] < times["end"] / 10, times
