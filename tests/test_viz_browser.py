"""The classroom page in a real browser: ``spheres viz`` served offline and driven by Chromium.

Playwright drives Debian's ``chromium`` (``/usr/bin/chromium``). Every request to a host other
than 127.0.0.1 is blocked and recorded: there must be none.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

import spheres

CHROMIUM = Path("/usr/bin/chromium")
LOCAL_HOSTS = {"127.0.0.1"}


@pytest.fixture(scope="module", autouse=True)
def chromium() -> None:
    """The browser is required, never skipped: the README's test command installs it."""
    assert CHROMIUM.exists(), (
        "needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spheres_env() -> dict[str, str]:
    """The environment of a ``spheres`` subprocess that imports this checkout's package."""
    env = dict(os.environ)
    src = str(Path(spheres.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    return env


def wait_until_served(url: str, server: subprocess.Popen[str], timeout: float = 90) -> float:
    """Seconds until ``url`` answers 200 (fails if the server exits or the time runs out)."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if server.poll() is not None:
            pytest.fail(f"spheres viz exited with {server.returncode}: {server.stderr.read()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.perf_counter() - start
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"spheres viz did not answer at {url} within {timeout} s")


@pytest.fixture
def served() -> Iterator[tuple[str, subprocess.Popen[str], float]]:
    """``spheres viz`` on a free port: its URL, the process and the seconds until it answered."""
    port = free_port()
    started = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "spheres.cli", "viz", "--port", str(port)],
                              env=spheres_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    try:
        first = server.stdout.readline()
        url = f"http://127.0.0.1:{port}/"
        assert url in first, first
        print(f"\nspheres viz answered HTTP after {wait_until_served(url, server):.1f} s")
        yield url, server, started
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def headline_step(page) -> int:  # type: ignore[no-untyped-def]
    """The step shown in the headline panel."""
    text = page.get_by_text(re.compile(r"^step \d+$")).first.inner_text()
    return int(text.split()[1])


def plots_image(page) -> str:  # type: ignore[no-untyped-def]
    """The source of the live plots' image (a data URL that changes when the plots change)."""
    return page.locator("img").nth(1).get_attribute("src") or ""


def test_classroom_page_in_chromium(served, tmp_path: Path) -> None:
    """Load the page offline, move a slider, Step, Play and pause; no outside requests, no
    console errors; Ctrl-C stops the server cleanly."""
    from playwright.sync_api import expect, sync_playwright

    url, server, started = served
    outside: list[str] = []
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1500, "height": 1100})

        def guard(route) -> None:  # type: ignore[no-untyped-def]
            host = urlparse(route.request.url).hostname
            if host is not None and host not in LOCAL_HOSTS:
                outside.append(route.request.url)
                route.abort()
            else:
                route.continue_()

        context.route("**/*", guard)
        page = context.new_page()
        page.on("websocket", lambda ws: outside.append(ws.url)
                if urlparse(ws.url).hostname not in LOCAL_HOSTS else None)
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda err: errors.append(str(err)))
        page.set_default_timeout(30_000)

        loaded = time.perf_counter()
        page.goto(url)
        # The first page of a fresh server builds the market and its layout; on a busy machine
        # (the whole suite on two cores) that takes a while.
        expect(page.get_by_text("step 0", exact=True)).to_be_visible(timeout=120_000)
        expect(page.locator("img")).to_have_count(2)
        now = time.perf_counter()
        print(f"page interactive {now - started:.1f} s after spheres viz started "
              f"({now - loaded:.1f} s after the browser asked for it)")

        # A slider: n_buyers from 300 to 400 (two steps of 50), then Reset builds that market.
        expect(page.get_by_text("300 buyers")).to_be_visible()
        slider = page.locator(".v-input", has_text="n_buyers").locator("[role=slider]")
        slider.focus()
        slider.press("ArrowRight")
        slider.press("ArrowRight")
        page.get_by_role("button", name="Reset").click()
        expect(page.get_by_text("400 buyers")).to_be_visible()

        # Step: time advances and the plots change; then the median of a few more steps.
        before = plots_image(page)
        page.get_by_role("button", name="Step").click()
        expect(page.get_by_text("step 1", exact=True)).to_be_visible()
        expect(page.get_by_text("Time: 1.0")).to_be_visible()
        expect(page.locator("img").nth(1)).not_to_have_attribute("src", before)
        took = []
        for step in range(2, 7):
            t0 = time.perf_counter()
            page.get_by_role("button", name="Step").click()
            # Checked at every animation frame (expect() polls at growing intervals).
            page.wait_for_function(f"() => document.body.innerText.includes('step {step}\\n')",
                                   polling="raf")
            took.append(time.perf_counter() - t0)
            expect(page.get_by_text(f"step {step}", exact=True)).to_be_visible()
        print(f"one Step updated the page in {statistics.median(took):.2f} s (median of 5; "
              f"{min(took):.2f}-{max(took):.2f} s)")

        # A seed that is not a number is refused with a message naming it.
        # The seed field (a strategy is also called seed: its slider is sellers.mix.seed).
        seed = page.get_by_role("textbox", name="seed", exact=True)
        seed.fill("abc")
        seed.press("Enter")
        page.get_by_role("button", name="Reset").click()
        expect(page.get_by_text("seed = 'abc' is not allowed: an integer >= 0")).to_be_visible()
        seed.fill("7")
        seed.press("Enter")
        page.get_by_role("button", name="Reset").click()
        expect(page.get_by_text("seed 7", exact=False)).to_be_visible()
        expect(page.get_by_text("Refused")).to_have_count(0)
        expect(page.get_by_text("step 0", exact=True)).to_be_visible()

        # Play, let it run, pause: time moves while playing and stops after.
        page.get_by_role("button", name="▶").click()
        # The headline's own "step N" (a legend may also say "left at step N").
        expect(page.get_by_text(re.compile(r"^step ([8-9]|\d\d+)$")).first).to_be_visible(
            timeout=60_000)
        page.get_by_role("button", name="❚❚").click()
        # The pause waits for the step under way; on a busy machine that can take a while.
        expect(page.get_by_role("button", name="▶")).to_be_visible(timeout=90_000)
        time.sleep(1.0)  # a step already under way when pausing still shows
        paused = headline_step(page)
        time.sleep(1.5)
        assert headline_step(page) == paused >= 8

        shot = tmp_path / "classroom.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot: {shot}")
        assert outside == [], f"requests to outside hosts: {outside}"
        assert errors == [], f"console errors: {errors}"

        # Ctrl-C stops the server cleanly, even with the page still open and playing.
        page.get_by_role("button", name="▶").click()
        expect(page.get_by_role("button", name="❚❚")).to_be_visible()
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=60) == 0
        context.unroute_all(behavior="ignoreErrors")
        browser.close()

    assert shot.stat().st_size > 10_000
    stderr = server.stderr.read()
    assert "Traceback" not in stderr, stderr
    assert stderr.strip().endswith("spheres viz: stopped")
