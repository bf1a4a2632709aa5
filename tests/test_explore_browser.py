"""The explorer in a real browser: start ``negsim explore``, move a slider, read the page.

Debian's Chromium (``/usr/bin/chromium``; ``.ci/run`` installs it) driven by the Python
``playwright`` package pointed at that executable (playwright's own browser download is never
used). Skipped, saying why, when either is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LEVER = "actors.us.pressure.russia"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _why_not() -> str | None:
    if not CHROMIUM.exists():
        return f"no browser: {CHROMIUM} is not installed (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
        import solara  # noqa: F401
    except ImportError as err:
        return f"the browser test needs the test extras ({err.name} is not installed)"
    return None


pytestmark = pytest.mark.skipif(_why_not() is not None, reason=str(_why_not()))


@pytest.fixture
def server(tmp_path):
    scenario = tmp_path / "baseline.yaml"
    shutil.copy(ROOT / "scenarios" / "summit_baseline.yaml", scenario)
    port = _free_port()
    negsim = Path(sys.executable).with_name("negsim")
    proc = subprocess.Popen([str(negsim), "explore", str(scenario), "--port", str(port),
                             "--no-browser", "--runs", "4000", "--seed", "3"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**os.environ, "NO_COLOR": "1"})
    url = f"http://localhost:{port}/"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("negsim explore did not start:\n" + proc.stdout.read().decode())
            time.sleep(0.2)
    try:
        yield url, scenario
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _shares(page) -> tuple[dict[str, float], dict]:
    table = page.locator("table.negsim-shares")
    rows = table.locator("tr[data-outcome]")
    shares = {rows.nth(i).get_attribute("data-outcome"): float(rows.nth(i).get_attribute(
        "data-share")) for i in range(rows.count())}
    return shares, json.loads(table.get_attribute("data-values"))


def test_moving_a_slider_reruns_and_matches_negsim_run(server, tmp_path):
    from playwright.sync_api import sync_playwright

    url, scenario = server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            page.goto(url)
            page.wait_for_selector("table.negsim-shares", timeout=30_000)
            before, settings = _shares(page)
            assert settings[LEVER] == pytest.approx(0.011)  # the triangular's mean in the file
            thumb = page.locator(f".lever-{LEVER.replace('.', '-')} [role=slider]")
            thumb.focus()
            thumb.press("End")  # the slider's top: the most pressure the control offers
            page.wait_for_function(
                f"() => JSON.parse(document.querySelector('table.negsim-shares')"
                f".dataset.values)['{LEVER}'] > 0.05", timeout=20_000)
            after, settings = _shares(page)
            page.click(".negsim-save")
            page.wait_for_selector(".negsim-message", timeout=10_000)
            saved_text = page.inner_text(".negsim-message")
        finally:
            browser.close()
    assert after != before
    assert after["agreement"] > before["agreement"]  # more pressure on Moscow, more deals
    saved = tmp_path / "baseline_explored.yaml"
    assert saved.name in saved_text and saved.is_file()
    negsim = Path(sys.executable).with_name("negsim")
    out = subprocess.run([str(negsim), "run", str(saved), "--runs", "4000", "--seed", "3",
                          "--json"], capture_output=True, text=True, check=True)
    run = json.loads(out.stdout)["outcomes"]
    assert after == {o: v["share"] for o, v in run.items()}
    # and the saved file holds the slider's value, the distribution scaled to it
    from negotiation_sim.config.levers import lever_value
    from negotiation_sim.config.scenario import load_scenario

    assert lever_value(load_scenario(saved), LEVER) == pytest.approx(settings[LEVER])
