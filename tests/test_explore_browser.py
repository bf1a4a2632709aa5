"""The explorer served for real: ``negsim explore`` in a subprocess, read by a real browser and
by raw sockets.

Debian's Chromium (``/usr/bin/chromium``; ``.ci/run`` installs it) driven by the Python
``playwright`` package pointed at that executable (playwright's own browser download is never
used). Skipped, saying why, when either is missing. Every connection goes to 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

from negotiation_sim import api
from negotiation_sim.config.levers import lever_value
from negotiation_sim.config.scenario import load_scenario
from negotiation_sim.explore.session import Session, slider_position

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LEVER = "actors.us.pressure.russia"
NEGSIM = Path(sys.executable).with_name("negsim")


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


class Explorer:
    """A running ``negsim explore`` on 127.0.0.1."""

    def __init__(self, scenario: Path, *args: str) -> None:
        self.scenario, self.port = scenario, _free_port()
        self.url = f"http://localhost:{self.port}/"
        self.proc = subprocess.Popen(
            [str(NEGSIM), "explore", str(scenario), "--port", str(self.port), "--no-browser",
             "--runs", "4000", "--seed", "3", *args], cwd=scenario.parent,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, "NO_COLOR": "1"})
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(self.url, timeout=2).close()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    pytest.fail("negsim explore did not start:\n"
                                + self.proc.stdout.read().decode())
                time.sleep(0.2)

    def kernels(self) -> dict:
        with urllib.request.urlopen(self.url + "resourcez", timeout=10) as r:
            return json.load(r)["kernels"]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def explorer(tmp_path):
    scenario = tmp_path / "baseline.yaml"
    shutil.copy(ROOT / "scenarios" / "summit_baseline.yaml", scenario)
    server = Explorer(scenario)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _shares(page) -> tuple[dict[str, float], dict]:
    table = page.locator("table.negsim-shares")
    rows = table.locator("tr[data-outcome]")
    shares = {rows.nth(i).get_attribute("data-outcome"): float(rows.nth(i).get_attribute(
        "data-share")) for i in range(rows.count())}
    return shares, json.loads(table.get_attribute("data-values"))


CURRENT = "() => document.querySelector('table.negsim-shares')?.dataset.state === 'current'"
# every state the table passes through, as the page saw it
WATCH_STATES = """() => {
  window.__states = [];
  new MutationObserver(() => {
    const t = document.querySelector('table.negsim-shares');
    if (t && window.__states[window.__states.length - 1] !== t.dataset.state)
      window.__states.push(t.dataset.state);
  }).observe(document.body, {subtree: true, childList: true, attributes: true});
}"""


def _meetings(page) -> dict[str, float]:
    rows = page.locator("table.negsim-meetings tr[data-meeting]")
    return {rows.nth(i).get_attribute("data-meeting"): float(rows.nth(i).get_attribute(
        "data-share")) for i in range(rows.count())}


def _negsim_run(path: Path, what: str = "outcomes") -> dict[str, float]:
    """``negsim run``'s shares of the outcomes (or, ``what="meetings"``, of the meetings)."""
    out = subprocess.run([str(NEGSIM), "run", str(path), "--runs", "4000", "--seed", "3",
                          "--json"], capture_output=True, text=True, check=True)
    summary = json.loads(out.stdout)[what]
    return {o: summary[o]["share"] for o in (("talks", "leaders", "settled")
                                             if what == "meetings" else summary)}


def test_quick_slider_moves_end_on_the_run_of_the_last_value(explorer, browser):
    """Keys pressed faster than a rerun runs: the page says it is running while it is, and
    ends on the numbers ``negsim run`` gives for the saved file, the slider's last value."""
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    page.goto(explorer.url)
    page.wait_for_selector("table.negsim-shares", timeout=60_000)
    before, settings = _shares(page)
    lever = Session.open(explorer.scenario).lever(LEVER)
    assert settings[LEVER] == lever.value  # the distribution's mean in the file, off the grid
    page.evaluate(WATCH_STATES)
    thumb = page.locator(f".lever-{LEVER.replace('.', '-')} [role=slider]")
    thumb.focus()
    thumb.press("End")  # the slider's top: the most pressure the control offers
    for _ in range(3):  # then three steps back, each before the last rerun has finished
        thumb.press("ArrowLeft")
    last = round(lever.high - 3 * lever.step, 10)
    page.wait_for_function(
        f"() => ({CURRENT})() && Math.abs(JSON.parse(document.querySelector("
        f"'table.negsim-shares').dataset.values)['{LEVER}'] - {last}) < 1e-9", timeout=60_000)
    after, settings = _shares(page)
    states = page.evaluate("window.__states")
    label = page.locator(f".lever-{LEVER.replace('.', '-')} .negsim-lever-value").inner_text()
    page.click(".negsim-save")
    page.wait_for_selector(".negsim-message", timeout=60_000)
    saved_text = page.inner_text(".negsim-message")
    assert "running" in states  # said while the levers were ahead of the numbers
    assert label.endswith(f": {last:g} (file: {lever.value:g})")
    assert settings[LEVER] == pytest.approx(last)
    assert after["agreement"] > before["agreement"]  # more pressure on Moscow, more deals
    saved = explorer.scenario.with_name("baseline_explored.yaml")
    assert saved.name in saved_text and saved.is_file()
    assert after == _negsim_run(saved)
    # beside the outcomes, the meetings of the same run, and a table of them by round
    assert _meetings(page) == _negsim_run(saved, "meetings")
    by_round = page.locator("table.negsim-meetings-by-round tr[data-meeting]")
    assert by_round.count() == 3
    heads = page.locator("table.negsim-meetings-by-round th")
    rounds = load_scenario(saved).protocol.rounds
    assert heads.nth(1).inner_text().startswith("round ")  # the first round shown
    assert heads.nth(heads.count() - 1).inner_text().startswith(f"round {rounds}")  # the last
    # and the saved file holds the slider's value, the distribution scaled to it
    assert lever_value(load_scenario(saved), LEVER) == pytest.approx(last)


def test_the_page_opens_on_the_file_unchanged(explorer, browser):
    """Sliders whose file value is off their grid of steps (France's and the UK's support,
    0.00025 on a grid of 0.0005; a distribution's mean) show it at the nearest step and report
    that position back: the page opens on the file all the same, and shows its run."""
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    page.goto(explorer.url)
    page.wait_for_selector("table.negsim-shares", timeout=60_000)
    page.evaluate(WATCH_STATES)
    page.wait_for_timeout(3000)  # the sliders have placed themselves and reported back
    shown, settings = _shares(page)
    session = Session.open(explorer.scenario, runs=4000, seed=3)
    off_grid = [lv.path for lv in session.levers if lv.kind == "float"
                and slider_position(lv.value, lv) != lv.value]
    assert {"actors.france.support.ukraine", "actors.uk.support.ukraine", LEVER} <= set(off_grid)
    assert set(page.evaluate("window.__states")) <= {"current"}  # no rerun was asked for
    assert page.inner_text(".negsim-changed-file") == "Against the file: no lever moved"
    assert settings == session.values
    assert shown == {o: share for o, _, share, _, _ in session.run().shares()}
    css = ".lever-actors-france-support-ukraine"
    assert page.inner_text(f"{css} .negsim-lever-value").endswith(": 0.00025")


def _wait_for(page, path: str, value: float) -> None:
    """Until the table shows the run of the levers as they are, with ``path`` at ``value``."""
    page.wait_for_function(
        f"() => ({CURRENT})() && Math.abs(JSON.parse(document.querySelector("
        f"'table.negsim-shares').dataset.values)['{path}'] - {value}) < 1e-12", timeout=60_000)


def test_a_typed_value_reruns_even_while_a_rerun_renders(explorer, browser):
    """A value typed beside a slider (off its grid) is the lever's value and its run is shown,
    also when typed while an earlier rerun is being shown; a text that is not a number or is
    outside the range is refused with a message and changes nothing."""
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    page.goto(explorer.url)
    page.wait_for_selector("table.negsim-shares", timeout=60_000)
    css = f".lever-{LEVER.replace('.', '-')}"
    field = page.locator(f"{css} .negsim-lever-typed input")
    for text, says in (("abc", "'abc' is not a number"),
                       ("0.5", "0.5 is outside the range 0 – 0.1")):
        field.fill(text)
        field.press("Enter")
        page.wait_for_function("([css, says]) => document.querySelector(css + ' .negsim-lever-"
                               "error')?.innerText === 'not applied: ' + says", arg=[css, says],
                               timeout=30_000)
    assert page.inner_text(".negsim-changed-file") == "Against the file: no lever moved"
    # a slider moved, and while its rerun runs and is shown, a value typed for another lever
    other = ".lever-actors-us-pressure-ukraine"
    thumb = page.locator(f"{other} [role=slider]")
    thumb.focus()
    thumb.press("End")
    field.fill("0.0123")  # off the slider's grid of 0.001
    field.press("Enter")
    _wait_for(page, LEVER, 0.0123)
    page.wait_for_timeout(1000)  # the slider has placed itself at 0.012 and said so
    _wait_for(page, LEVER, 0.0123)
    shown, settings = _shares(page)
    session = Session.open(explorer.scenario, runs=4000, seed=3)
    assert settings[LEVER] == 0.0123 and settings["actors.us.pressure.ukraine"] == 0.1
    session.values.update(settings)
    assert shown == {o: share for o, _, share, _, _ in session.run().shares()}
    assert page.locator(f"{css} .negsim-lever-error").count() == 0
    assert page.input_value(f"{css} .negsim-lever-typed input") == "0.0123"


def test_the_levers_live_in_the_address(explorer, browser):
    """A moved lever goes into the page's address; a reload keeps it (lever and numbers), and
    a link with values opens on them, its unknown or bad parameters named and left out."""
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    page.goto(explorer.url)
    page.wait_for_selector("table.negsim-shares", timeout=60_000)
    css = f".lever-{LEVER.replace('.', '-')}"
    thumb = page.locator(f"{css} [role=slider]")
    thumb.focus()
    thumb.press("End")
    _wait_for(page, LEVER, 0.1)
    page.wait_for_function("() => location.search.includes('actors.us.pressure.russia=0.1')",
                           timeout=30_000)
    assert page.evaluate("location.search") == "?actors.us.pressure.russia=0.1"
    moved, _ = _shares(page)
    page.reload()
    page.wait_for_selector("table.negsim-shares", timeout=60_000)
    _wait_for(page, LEVER, 0.1)
    assert _shares(page)[0] == moved
    assert page.inner_text(f"{css} .negsim-lever-value").endswith(": 0.1 (file: 0.00433333)")
    assert page.get_attribute(f"{css} [role=slider]", "aria-valuenow") == "0.1"
    # a link made by hand: one good value, an unknown lever and a bad number
    other = "actors.us.pressure.ukraine"
    page.goto(explorer.url + f"?{other}=0.02&bogus=1&protocol.rounds=abc")
    page.wait_for_selector("table.negsim-shares", timeout=60_000)
    _wait_for(page, other, 0.02)
    shown, settings = _shares(page)
    session = Session.open(explorer.scenario, runs=4000, seed=3)
    assert settings == {**session.values, other: 0.02}
    session.set(other, 0.02)
    assert shown == {o: share for o, _, share, _, _ in session.run().shares()}
    said = page.inner_text(".negsim-link-problems")
    assert "'bogus' is not a lever of this scenario" in said
    assert "protocol.rounds: 'abc' is not a number" in said


def test_formats_and_terms_show_intervals_flags_and_short_labels(explorer, browser):
    """The formats with their 95% intervals, the agreed terms with their 5–95% range and the
    red lines and caps they sit on (flagged), as a ``Session`` run of the file gives them; a
    lever's short label, with its full description beside it and as its tooltip."""
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    page.goto(explorer.url)
    page.wait_for_selector("table.negsim-formats", timeout=60_000)
    shown = Session.open(explorer.scenario, runs=4000, seed=3).run()
    rows = page.locator("table.negsim-formats tr[data-format]")
    got = {rows.nth(i).get_attribute("data-format"): rows.nth(i).locator("td").nth(2)
           .inner_text() for i in range(rows.count())}
    assert got == {f: f"{lo:.1%} – {hi:.1%}" for f, _, lo, hi in shown.formats_with_intervals()}
    for t in shown.terms():
        row = page.locator(f"table.negsim-terms-table tr[data-issue='{t.issue}']")
        cells = [row.locator("td").nth(i).inner_text() for i in range(4)]
        assert cells[1:3] == [f"{t.median:.3f}", f"{t.p05:.3f} – {t.p95:.3f}"]
        assert row.get_attribute("data-flagged") == str(int(bool(t.flags)))
        for what, share in t.flags:
            assert f"{what}: {share:.0%}" in cells[3]
    flagged = page.locator("table.negsim-terms-table tr[data-flagged='1']")
    assert flagged.count() >= 2  # sanctions at the cap, Kyiv's territory red line
    css = f".lever-{LEVER.replace('.', '-')}"
    lever = Session.open(explorer.scenario).lever(LEVER)
    assert page.inner_text(f"{css} .negsim-lever-value").startswith(
        "United States pressure on Russia: ")
    assert page.get_attribute(f"{css} .negsim-lever-value", "title") == lever.label
    assert page.inner_text(f"{css} .negsim-lever-about") == lever.label


def test_save_writes_only_a_file_name_in_the_scenario_folder(explorer, browser, tmp_path):
    outside = tmp_path.parent / f"{tmp_path.name}-outside.yaml"
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    page.goto(explorer.url)
    page.wait_for_selector("table.negsim-shares", timeout=60_000)
    field = page.get_by_label("save in")
    said = []
    for name in (f"../{outside.name}", str(outside), "sub/x.yaml", "baseline.yaml"):
        field.fill(name)
        field.press("Enter")
        page.click(".negsim-save")
        # The kernel answers the click once the rerun it is in has finished: wait as long as
        # the first table does, not less.
        page.wait_for_function("n => document.querySelector('.negsim-message')?.innerText"
                               ".includes(n)", arg=name, timeout=60_000)
        said.append(page.inner_text(".negsim-message"))
    assert all(s.startswith("not saved:") for s in said), said
    assert not outside.exists()
    original = (ROOT / "scenarios" / "summit_baseline.yaml").read_text()
    assert explorer.scenario.read_text() == original
    with page.expect_download() as download:
        page.get_by_text("Download YAML").click()
    got = Path(download.value.path()).read_text()
    assert "name: putin-zelensky-summit" in got and not outside.exists()


HOSTILE = ("{{ constructor.constructor('window.__pwned=1')() }} {{ 123456*8 }} "
           "![i](http://evil.invalid/pwned.png) [l](javascript:window.__pwned=2) "
           "<img src=/pwned.png onerror=window.__pwned=3> <script>window.__pwned=4</script> "
           "**b** &amp; ${123456*8}")


def _hostile_scenario(folder: Path) -> tuple[Path, list[str]]:
    """The baseline with every name, label and description hostile; the texts to find."""
    data = yaml.safe_load((ROOT / "scenarios" / "summit_baseline.yaml").read_text())
    data["name"], data["description"] = "N " + HOSTILE, "D " + HOSTILE
    for k, issue in data["issues"].items():
        issue["low"], issue["high"] = f"L{k} {HOSTILE}", f"H{k} {HOSTILE}"
    for a, actor in data["actors"].items():
        actor["name"], actor["leader"] = f"A{a} {HOSTILE}", f"P{a} {HOSTILE}"
    for event in data["events"]:
        event["name"] = f"E {HOSTILE}"
    path = folder / "x{{123456*8}}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return path, ["N " + HOSTILE, "D " + HOSTILE, f"Lterritory {HOSTILE}",
                  f"Aus {HOSTILE}'s pressure on Arussia {HOSTILE}", f"Pus {HOSTILE}", str(path)]


def test_hostile_names_reach_the_page_as_text_only(tmp_path, browser):
    scenario, texts = _hostile_scenario(tmp_path)
    server = Explorer(scenario)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 3000})
        foreign = []

        def only_local(route):
            if route.request.url.startswith(server.url):
                route.continue_()
            else:
                foreign.append(route.request.url)
                route.abort()

        page.route("**/*", only_local)
        page.goto(server.url)
        page.wait_for_selector("table.negsim-shares", timeout=60_000)
        page.get_by_text("The scenario in its own words").click()
        page.wait_for_selector(".negsim-words", timeout=10_000)
        thumb = page.locator(f".lever-{LEVER.replace('.', '-')} [role=slider]")
        thumb.focus()
        thumb.press("End")  # and the page shown again for a rerun
        page.wait_for_function(f"() => JSON.parse(document.querySelector('table.negsim-shares')"
                               f".dataset.values)['{LEVER}'] > 0.05", timeout=60_000)
        page.wait_for_timeout(500)  # the terms figure and story lines settle
        text = page.evaluate("document.body.innerText")
        pwned = page.evaluate("window.__pwned")
        links = page.evaluate("[...document.querySelectorAll('a[href]')].map(a => a.href)")
        images = page.evaluate("[...document.images].map(i => i.src)")
        requested = list(foreign) + page.evaluate(
            "performance.getEntriesByType('resource').map(e => e.name)"
            ".filter(n => n.includes('pwned'))")
    finally:
        server.stop()
    assert pwned is None  # no template, handler or script ran
    assert requested == []  # no image or anything else fetched from elsewhere
    assert not [u for u in links if u.startswith("javascript:") or "evil" in u]
    assert not [u for u in images if "pwned" in u]
    assert "987648" not in text  # {{ 123456*8 }} and ${123456*8} were not evaluated
    for piece in texts:
        assert piece in text, piece


def _handshake(port: int, origin: str | None, host: str | None = None) -> str:
    """The status line a raw websocket handshake to a kernel gets."""
    headers = ["GET /jupyter/api/kernels/k-test/channels?session_id=s-test HTTP/1.1",
               f"Host: {host or f'localhost:{port}'}", "Upgrade: websocket",
               "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
               "Sec-WebSocket-Version: 13"] + ([f"Origin: {origin}"] if origin else [])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(("\r\n".join(headers) + "\r\n\r\n").encode())
        return s.recv(4096).decode("latin-1").split("\r\n")[0]


def test_the_websocket_refuses_other_origins(explorer):
    port = explorer.port
    assert " 403 " in _handshake(port, "http://evil.example") + " "
    assert " 403 " in _handshake(port, f"http://evil.example:{port}") + " "
    assert " 403 " in _handshake(port, None) + " "
    # a name pointed at 127.0.0.1 (DNS rebinding) is its own origin, and still refused
    assert " 403 " in _handshake(port, f"http://evil.example:{port}",
                                 host=f"evil.example:{port}") + " "
    assert " 101 " in _handshake(port, f"http://localhost:{port}") + " "
    assert " 101 " in _handshake(port, f"http://127.0.0.1:{port}",
                                 host=f"127.0.0.1:{port}") + " "
    request = urllib.request.Request(explorer.url, headers={"Host": "evil.example"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 403
    # and only 127.0.0.1 is served
    with socket.socket() as s:
        s.settimeout(5)
        try:
            outside = socket.gethostbyname(socket.gethostname())
        except OSError:
            outside = None
        if outside and not outside.startswith("127."):
            assert s.connect_ex((outside, port)) != 0


def test_abandoned_page_loads_do_not_keep_their_kernels(explorer, browser):
    """Pages that go without saying so (their close beacon never arrives) leave at most a few
    idle kernels behind, however many loads there were."""
    from negotiation_sim.explore.server import MAX_IDLE_KERNELS

    for _ in range(MAX_IDLE_KERNELS + 6):
        context = browser.new_context()
        context.route("**/_solara/api/close/**", lambda route: route.abort())
        page = context.new_page()
        page.goto(explorer.url)
        page.wait_for_selector("table.negsim-shares", timeout=60_000)
        context.close()
    deadline = time.monotonic() + 30
    # the last page's websocket is closing, and the kernels beyond the bound are closed off the
    # event loop after it: wait for both, as a returning user would find them
    while (((kernels := explorer.kernels())["has_connected"]
            or kernels["total"] > MAX_IDLE_KERNELS) and time.monotonic() < deadline):
        time.sleep(0.2)
    assert kernels["has_connected"] == 0
    assert kernels["total"] <= MAX_IDLE_KERNELS


def test_the_page_answers_what_a_run_answers_and_downloads_its_tables(explorer, browser):
    """Beside the outcomes, the tables negsim run prints (why worlds ended with the same
    shares), each slider's range, what changed against the file and the last run after a
    move, a warning when a setting leaves the scale, and a CSV of the tables shown."""
    import csv
    import io

    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    page.goto(explorer.url)
    page.wait_for_selector("table.negsim-shares", timeout=60_000)
    titles = page.locator("table.negsim-table")
    first, second = [titles.nth(i).get_attribute("data-title") for i in range(2)]
    assert first.startswith("Will what is signed hold?") and second == "Why worlds ended"
    page.wait_for_function(CURRENT, timeout=60_000)
    _, settings = _shares(page)
    session = Session.open(explorer.scenario, runs=4000, seed=3)
    session.values.update(settings)
    reasons = api.run(session.scenario(), runs=4000, seed=3).summary["end_reasons"]
    rows = page.locator("table[data-title='Why worlds ended'] tr[data-key]")
    shown = {rows.nth(i).get_attribute("data-key"): rows.nth(i).locator("td").nth(1).inner_text()
             for i in range(rows.count())}
    assert shown == {k: f"{v:.1%}" for k, v in reasons.items() if v > 0}
    assert _shares(page)[1] == settings
    css = f".lever-{LEVER.replace('.', '-')}"
    assert page.inner_text(f"{css} .negsim-lever-range") == "range 0 – 0.1"
    assert page.inner_text(".negsim-changed-file").startswith("Against the file: ")
    thumb = page.locator(f"{css} [role=slider]")
    thumb.focus()
    thumb.press("End")
    page.wait_for_function(
        f"() => ({CURRENT})() && JSON.parse(document.querySelector("
        f"'table.negsim-shares').dataset.values)['{LEVER}'] == 0.1", timeout=60_000)
    label = Session.open(explorer.scenario).lever(LEVER).label
    assert f"{label}: 0.00433333 -> 0.1" in page.inner_text(".negsim-changed-file")
    assert page.inner_text(".negsim-changed-run").startswith("Against the last run: agreement +")
    assert LEVER in page.inner_text(".negsim-warnings")
    with page.expect_download() as download:
        page.click("text=Download tables (CSV)")
    text = Path(download.value.path()).read_text()
    table = list(csv.reader(io.StringIO(text)))
    after, _ = _shares(page)
    assert {r[0]: float(r[1]) for r in table[2:6]} == after


# In the page: the time of the last key pressed on a slider, and of the first moment after it
# that the table shows the run of the slider's value (current, with that value).
WATCH_LATENCY = """lever => {
  window.__key = null; window.__done = null;
  document.addEventListener('keydown', () => { window.__key = performance.now();
                                               window.__done = null; }, true);
  new MutationObserver(() => {
    const t = document.querySelector('table.negsim-shares');
    const s = document.querySelector('.lever-' + lever.replaceAll('.', '-') + ' [role=slider]');
    if (window.__key === null || window.__done !== null || !t || !s) return;
    const shown = JSON.parse(t.dataset.values)[lever];
    if (t.dataset.state === 'current'
        && Math.abs(shown - Number(s.getAttribute('aria-valuenow'))) < 1e-12)
      window.__done = performance.now();
  }).observe(document.body, {subtree: true, childList: true, attributes: true});
}"""


def test_timings_of_three_quick_presses(explorer, browser):
    """Ten bursts of three arrow presses: each ends on the run of the slider's last value;
    the time from the last press to those numbers shown is printed (median and p95), never
    asserted (it is the machine's, not the page's)."""
    import statistics

    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    page.goto(explorer.url)
    page.wait_for_selector("table.negsim-shares", timeout=60_000)
    page.evaluate(WATCH_LATENCY, LEVER)
    thumb = page.locator(f".lever-{LEVER.replace('.', '-')} [role=slider]")
    thumb.focus()
    latencies = []
    for burst in range(10):
        key = "ArrowRight" if burst % 2 == 0 else "ArrowLeft"
        for _ in range(3):
            thumb.press(key)
        page.wait_for_function("() => window.__done !== null", timeout=60_000)
        latencies.append(page.evaluate("window.__done - window.__key") / 1000)
        value = float(thumb.get_attribute("aria-valuenow"))
        assert _shares(page)[1][LEVER] == pytest.approx(value, abs=1e-12)
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))]
    print(f"\nlast press to shown numbers over {len(latencies)} bursts of 3 presses "
          f"(4000 worlds): median {statistics.median(latencies):.2f} s, p95 {p95:.2f} s, "
          f"max {latencies[-1]:.2f} s")
    assert len(latencies) == 10


def test_a_river_treatys_page_speaks_its_own_words(tmp_path, browser):
    """The river treaty's file names its outcomes, meetings and no-deal state (``words:``):
    the page's shares, meetings, formats, lever labels and story say neither 'war' nor
    'summit', and name its outcomes as the file does."""
    import re

    import yaml

    scenario = tmp_path / "river.yaml"
    shutil.copy(ROOT / "docs" / "tutorial" / "river.yaml", scenario)
    named = yaml.safe_load(scenario.read_text())["words"]["outcomes"]
    server = Explorer(scenario)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 3000})
        page.goto(server.url)
        page.wait_for_selector("table.negsim-shares", timeout=60_000)
        page.get_by_text("The scenario in its own words").click()
        page.wait_for_selector(".negsim-words", timeout=10_000)
        page.wait_for_timeout(500)
        text = page.evaluate("document.body.innerText")
    finally:
        server.stop()
    assert not re.search(r"\bwar\b|summit", text, re.IGNORECASE), \
        re.findall(r".{0,40}(?:\bwar\b|summit).{0,40}", text, re.IGNORECASE)
    for word in named.values():
        assert word in text, word
