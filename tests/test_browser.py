"""Headless Chromium: a served project's pages paint as they stream; the docs site reads well."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import TEMPLATE, ServedProject

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


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright (which downloads no browser of its own)."""
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
        yield browser
        browser.close()


def test_first_events_are_painted_before_the_response_ends(
    browser, served_project: ServedProject
) -> None:
    page = browser.new_page()
    try:
        page.add_init_script(RECORD_FIRST_EVENT)
        page.goto(f"{served_project.url}/timeline?limit=100000", timeout=120_000)
        times = page.evaluate(
            """() => ({
              added: window.firstEventAdded,
              painted: window.firstEventPainted,
              firstByte: performance.getEntriesByType("navigation")[0].responseStart,
              end: performance.getEntriesByType("navigation")[0].responseEnd,
              parsed: performance.getEntriesByType("navigation")[0].domInteractive,
              events: document.querySelectorAll("ol.events li").length,
            })"""
        )
    finally:
        page.close()
    assert times["events"] == 100_000
    print(f"Chromium timings (ms): {times}")
    # Buffered, the first event would enter the document after the last byte, and no frame
    # would be painted before the parser is done. (How soon a busy Chromium paints is its own
    # business: painted < end / 2 failed on a loaded machine.)
    assert times["firstByte"] < times["end"] / 10, times
    assert times["added"] < times["end"] / 2, times
    assert times["painted"] < times["parsed"], times


def test_the_import_form_shows_its_outcome_and_no_request_of_the_page_fails(
    browser, served_project: ServedProject, tmp_path: Path
) -> None:
    upload = tmp_path / "orders.csv"
    upload.write_text(
        "created_at,customer,product,quantity,amount,note\r\n"
        "2025-06-01 10:00:00,Ada,Widget,2,9.5,\r\n"
        "2025-06-01 10:00:01,Grace,Gadget,1,3.25,first\r\n"
    )
    page = browser.new_page()
    failed: list[str] = []
    # The browser's own requests too: the icon, the stylesheet.
    page.on(
        "response", lambda response: failed.append(response.url) if response.status >= 400 else None
    )
    try:
        page.goto(f"{served_project.url}/import")
        page.set_input_files("input[type=file]", str(upload))
        page.click("button[type=submit]")
        page.wait_for_selector("text=Imported 2 rows")
        # Still the form's page: another file can go at once.
        assert page.locator("input[type=file]").count() == 1
    finally:
        page.close()
    assert failed == []


def test_eventsource_receives_inserted_events(browser, served_project: ServedProject) -> None:
    page = browser.new_page()
    try:
        page.goto(f"{served_project.url}/events/demo")
        connected = "document.getElementById('status').textContent.startsWith('Connected')"
        page.wait_for_function(connected)
        with sqlite3.connect(served_project.database) as writer:
            event_id = writer.execute(
                "INSERT INTO events (created_at, kind, message) VALUES ('2025-06-01', 'alert', ?)",
                ("<b>Disk</b> full",),
            ).lastrowid
        item = page.locator(f"#event-{event_id}")
        item.wait_for(timeout=5_000)
        assert item.inner_text() == "alert<b>Disk</b> full"
        assert page.locator("#live-events b").count() == 0
    finally:
        page.close()


def test_chat_demo_paints_tokens_as_they_arrive_and_stop_aborts(
    browser, served_project: ServedProject
) -> None:
    # The served project has no CHAT_UPSTREAM_URL: the built-in fake answers, a word every 50 ms.
    prompt = "one two three four five six seven eight nine ten <b>bold</b>"
    page = browser.new_page()
    try:
        page.goto(f"{served_project.url}/chat/demo")
        page.fill("#prompt", prompt)
        page.click("#send")
        # Part of the answer is on screen while the rest is still coming.
        page.wait_for_function("document.getElementById('answer').textContent.length > 0")
        assert page.inner_text("#status") == "Receiving…"
        page.wait_for_function("document.getElementById('status').textContent === 'Done.'")
        assert page.inner_text("#answer") == f"You said: {prompt}"
        # Markup in the answer is shown as text, never run.
        assert page.locator("#answer b").count() == 0

        page.click("#send")
        page.wait_for_function("document.getElementById('answer').textContent.length > 0")
        page.click("#stop")
        page.wait_for_function("document.getElementById('status').textContent === 'Stopped.'")
        assert len(page.inner_text("#answer")) < len(f"You said: {prompt}")

        # A stream cut before `done` or `error` must not look like a whole answer.
        cut = 'event: token\ndata: "Half an"\n\n: keep-alive\n\nevent: token\ndata: " answer"\n\n'
        page.route(
            "**/chat",
            lambda route: route.fulfill(status=200, content_type="text/event-stream", body=cut),
        )
        page.click("#send")
        ended = "The connection ended before the answer did."
        page.wait_for_function(f"document.getElementById('status').textContent === {ended!r}")
        assert page.inner_text("#answer") == "Half an answer"

        # Past the first heartbeat an upstream failure is an error event, before any token too:
        # the page shows its sentence, and keep-alives change nothing.
        failed = ": keep-alive\n\nevent: error\ndata: The chat upstream did not answer in time.\n\n"
        page.unroute("**/chat")
        page.route(
            "**/chat",
            lambda route: route.fulfill(status=200, content_type="text/event-stream", body=failed),
        )
        page.click("#send")
        sentence = "The chat upstream did not answer in time."
        page.wait_for_function(f"document.getElementById('status').textContent === {sentence!r}")
        assert page.inner_text("#answer") == ""

        # Cut before the first token: not an answer either.
        page.unroute("**/chat")
        page.route(
            "**/chat",
            lambda route: route.fulfill(
                status=200, content_type="text/event-stream", body=": keep-alive\n\n"
            ),
        )
        page.click("#send")
        page.wait_for_function(f"document.getElementById('status').textContent === {ended!r}")
    finally:
        page.close()


# Code blocks that would need a horizontal scroll bar or hold fewer than 100 characters a line,
# and names in table cells split between two word characters ("project_na" / "me"), as the page
# lays them out.
LAYOUT_FAULTS = r"""() => {
  const wide = [...document.querySelectorAll(".md-content pre > code")]
    .filter((code) => code.scrollWidth > code.clientWidth + 1)
    .map((code) => code.textContent.trim().split("\n")[0].slice(0, 60));
  const split = [];
  for (const code of document.querySelectorAll(".md-content td code, .md-content th code")) {
    const text = code.firstChild;
    if (!text || text.nodeType !== Node.TEXT_NODE) continue;
    const range = document.createRange();
    let top = null;
    for (let i = 0; i < text.length; i++) {
      range.setStart(text, i);
      range.setEnd(text, i + 1);
      const box = range.getClientRects()[0];
      if (!box) continue;
      if (top !== null && box.top > top + 2 && /\w\w/.test(text.data[i - 1] + text.data[i])) {
        split.push(text.data);
      }
      top = box.top;
    }
  }
  // Characters a line of code may hold before it wraps: 100 is ruff's line length here.
  const columns = [...document.querySelectorAll(".md-content pre > code")].map((code) => {
    const style = getComputedStyle(code);
    const context = document.createElement("canvas").getContext("2d");
    context.font = `${style.fontSize} ${style.fontFamily}`;
    const padding = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
    const inside = code.clientWidth - padding;
    return Math.floor(inside / context.measureText("M").width);
  });
  return {wide, split, narrow: columns.filter((count) => count < 100)};
}"""


def test_the_docs_need_no_horizontal_scrolling_at_1280px(browser, tmp_path: Path) -> None:
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--quiet", "--site-dir", str(site)],
        cwd=TEMPLATE,
        check=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    pages = sorted(path for path in site.rglob("index.html") if "search" not in path.parts)
    assert len(pages) >= 14, pages
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    faults = {}
    try:
        for html in pages:
            page.goto(html.as_uri())
            found = page.evaluate(LAYOUT_FAULTS)
            if found["wide"] or found["split"] or found["narrow"]:
                faults[str(html.relative_to(site))] = found
            if html.parent in (site, site / "recipes" / "csv-export"):
                shot = tmp_path / f"{html.parent.name or 'home'}.png"
                page.screenshot(path=shot, full_page=True)
                assert shot.stat().st_size > 50_000
    finally:
        page.close()
    assert not faults, faults
