"""The gallery page in a real browser: headless Chromium (Debian's), driven by Playwright.

A sweep runs against the loopback test server (one request answered 400, one prompt full
of HTML), the page is written, then opened from ``file://``. The checks are the page's
promises: every thumbnail loads, the filter narrows the cards, the failure shows with
its error, the HTML in a prompt is shown as text and runs nothing. A screenshot is kept
in ``build/test-artifacts/`` (and is the one the docs show).

Skipped, with the reason, only where no browser can be had: no ``playwright`` package,
or no Chromium executable (``.ci/run`` installs both).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from friendli_images import FriendliImages
from friendli_images._views.gallery import write_gallery
from friendli_images._views.sweep import build_sweep, run_sweep
from friendli_images.testing import ErrorStatus, FriendliTestServer

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
"""Without the background-networking flags Chromium keeps calling home (no network here)."""

HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> & co'
ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "test-artifacts"


def _chromium() -> str | None:
    for candidate in (os.environ.get("FRIENDLI_IMAGES_CHROMIUM"), "chromium", "chromium-browser"):
        if candidate and (found := shutil.which(candidate)):
            return found
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="no browser: the playwright package is not installed"
    )
    executable = _chromium()
    if executable is None:
        pytest.skip("no browser: no chromium executable on PATH (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def sweep_dir(friendli_server: FriendliTestServer, tmp_path: Path) -> Path:
    out = tmp_path / "sweep"
    friendli_server.inject(ErrorStatus(400, message="the prompt was refused"))
    sweep = build_sweep(
        model="endpoint-1",
        axes={"seed": "1..3", "prompt": ["a lighthouse at dawn", HOSTILE]},
    )
    with FriendliImages(
        token=friendli_server.token, base_url=friendli_server.base_url, timeout=10
    ) as client:
        summary = run_sweep(sweep, out, client=client, concurrency=1, gallery=True)
    assert (5, 1) == (summary.done, summary.failed)
    return out


def test_gallery_in_chromium(browser: Any, sweep_dir: Path) -> None:
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto((sweep_dir / "index.html").as_uri())

    # Every thumbnail (lazy) loads once scrolled to, and the sweep's grid does too.
    images = page.locator("img")
    assert 6 == images.count()  # 5 thumbnails and grid.png
    for index in range(images.count()):
        image = images.nth(index)
        image.scroll_into_view_if_needed()
        image.evaluate("i => i.decode ? i.decode() : null")
        assert image.evaluate("i => i.complete && i.naturalWidth") > 0, image.get_attribute("src")
    thumbnails = page.locator("#images img")
    assert {"lazy"} == {thumbnails.nth(i).get_attribute("loading") for i in range(5)}
    assert all("/thumbs/" in (thumbnails.nth(i).evaluate("i => i.currentSrc")) for i in range(5))
    assert all(url.startswith("file://") for url in requested)  # no network at all

    # The failure shows, with its error class and message.
    failures = page.locator("#failures .failure")
    assert 1 == failures.count()
    assert failures.first.is_visible()
    assert "BadRequestError" in failures.first.inner_text()
    assert "the prompt was refused" in failures.first.inner_text()

    # The HTML in a prompt is text: shown verbatim, nothing ran, no element was made.
    prompts = page.locator("#images .prompt").all_inner_texts()
    assert HOSTILE in prompts
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert 0 == page.locator("body script").count() - 1  # only the page's own script
    assert 0 == page.locator('img[src="x"]').count()

    page.screenshot(path=str(sweep_dir / "screenshot.png"), full_page=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(sweep_dir / "screenshot.png", ARTIFACTS / "gallery.png")

    # The filter narrows the cards (failures included), and clearing it shows all again.
    cards = page.locator(".card")
    assert 6 == cards.count()
    page.fill("#filter", "lighthouse")
    visible = [cards.nth(i).is_visible() for i in range(6)]
    assert sum(visible) < 6
    lighthouse_cards = [
        cards.nth(i) for i in range(6) if "lighthouse" in cards.nth(i).inner_text().lower()
    ]
    assert sum(visible) == len(lighthouse_cards) >= 1
    assert all(card.is_visible() for card in lighthouse_cards)
    assert page.locator("#shown").inner_text().startswith(f"{sum(visible)} of 6")
    page.fill("#filter", "badrequesterror")
    assert [True] == [cards.nth(i).is_visible() for i in range(6) if cards.nth(i).is_visible()]
    assert failures.first.is_visible()
    page.fill("#filter", "")
    assert all(cards.nth(i).is_visible() for i in range(6))
    assert [] == [p for p in problems if "Content Security Policy" in p or "Error" in p]
    page.close()


def test_gallery_rewritten_after_more_images(browser: Any, sweep_dir: Path) -> None:
    """Writing the page again (a resumed run) keeps the thumbnails and replaces our page."""
    thumbs = sorted((sweep_dir / "thumbs").rglob("*.jpg"))
    before = {path: path.stat().st_mtime_ns for path in thumbs}
    write_gallery(sweep_dir)
    assert before == {path: path.stat().st_mtime_ns for path in thumbs}
    page = browser.new_page()
    page.goto((sweep_dir / "index.html").as_uri())
    assert 5 == page.locator("#images .card").count()
    page.close()
