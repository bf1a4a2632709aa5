"""The explorer's Solara page: controls for a scenario's levers and what a rerun shows.

Thin by design: the levers, applying their values, running, scheduling reruns and the story in
words are ``explore.session``; this module draws a control per lever, asks for a rerun whenever
one moves (or on the Run button), takes typed values, keeps the levers moved in the page's
address, and shows the ``Explored`` result with whether it is the run of the levers as they are.
``negsim explore`` serves it (``explore.server``) and names the scenario file in
``NEGSIM_EXPLORE_SCENARIO`` (and ``NEGSIM_EXPLORE_RUNS``, ``NEGSIM_EXPLORE_SEED``,
``NEGSIM_EXPLORE_SAVE_DIR``).

Users' text (the scenario's name and description, issue labels, actors' names, lever labels,
format and event names, the file's path, error messages) reaches the page as text only: every
piece is the child of an element built here (``Html``), which the front end sets as a text node.
Nothing a scenario says goes through Markdown, raw HTML or a Vue template, where ``{{ ... }}``
would be evaluated as script, ``![](...)`` would load a remote image and ``[](javascript:...)``
would be a live link.

Mesa's SolaraViz is built to step one model instance and draw its agents and DataCollector
round by round; an ensemble rerun summarised as shares with intervals is not that, so the page
is made of plain Solara components.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot  # noqa: E402

import reacton.ipyvuetify as rv  # noqa: E402
import solara  # noqa: E402

from negotiation_sim.config.levers import group_title  # noqa: E402
from negotiation_sim.config.names import path_component, printable  # noqa: E402
from negotiation_sim.config.yamlio import InputError  # noqa: E402
from negotiation_sim.explore.session import (  # noqa: E402
    DEFAULT_RUNS,
    RUNS_ENV,
    SAVE_DIR_ENV,
    SCENARIO_ENV,
    SEED_ENV,
    Explored,
    Reruns,
    Session,
    Shown,
    placed_report,
    short_label,
    typed_value,
)


def _session() -> Session:
    path = os.environ.get(SCENARIO_ENV)
    if not path:
        raise RuntimeError(f"start the explorer with negsim explore SCENARIO ({SCENARIO_ENV} "
                           "is not set)")
    return Session.open(path, runs=int(os.environ.get(RUNS_ENV, DEFAULT_RUNS)),
                        seed=int(os.environ.get(SEED_ENV, 0)))


SESSION = _session()
SAVE_DIR = Path(os.environ.get(SAVE_DIR_ENV) or Path(SESSION.source).parent)
# The scenario as written, run once while the server starts: the page opens on it at once (and
# the figure code is warm for the first rerun).
FIRST = Shown(0, (dict(SESSION.values), SESSION.world), SESSION.run())
FIRST.outcome.terms_png()
values = solara.reactive(dict(SESSION.values))
world = solara.reactive(SESSION.world)
shown = solara.reactive(FIRST)
before = solara.reactive(None)  # the run shown before this one (what changed since)
requested = solara.reactive(0)  # the newest rerun asked for (Reruns.request's generation)
live = solara.reactive(True)
resets = solara.reactive(0)  # Reset or a link: the sliders are moved to the levers' values
link_problems = solara.reactive("")  # why parameters of the page's address were not applied
message = solara.reactive("")
save_as = solara.reactive(path_component(Path(SESSION.source).stem) + "_explored.yaml")


def Html(tag: str, *children, classes: str | None = None, style: str | None = None,
         **attributes):
    """An element whose string children are shown as text (``printable``: control characters
    as visible escapes); ``attributes`` are set as attributes (``data_x`` -> ``data-x``)."""
    return solara.v.Html(tag=tag, children=[printable(c) if isinstance(c, str) else c
                                            for c in children],
                         class_=classes, style_=style,
                         attributes={k.replace("_", "-"): str(v) for k, v in attributes.items()})


def slug(path: str) -> str:
    """A CSS class name for a lever (``lever-actors-us-pressure-russia``)."""
    return "lever-" + path.replace(".", "-").replace("_", "-")


def rerun(key: tuple[dict, int]) -> Explored | str:
    """One rerun of (lever values, traced world): what it shows, or why it cannot run."""
    settings, traced = key
    s = Session(SESSION.base, SESSION.source, dict(settings), runs=SESSION.runs,
                seed=SESSION.seed, world=traced)
    try:
        return s.run()
    except InputError as err:
        return "; ".join(str(p) for p in err.problems)


def _publish(result: Shown) -> None:
    """Show a rerun's result (called in the rerun thread).

    The kernel handles each message from the page (a lever moved) holding its lock, and the
    render that follows runs in that thread; the result takes the same lock, so the page is
    never rendered by two threads at once."""
    from solara.server import kernel_context

    with kernel_context.get_current_context().lock:
        if isinstance(shown.value.outcome, Explored) and result.key != shown.value.key:
            before.value = shown.value.outcome
        shown.value = result


def _ask(reruns: Reruns, settings: dict | None = None, traced: int | None = None) -> None:
    """Ask for a rerun of these settings (default: the levers as they are), then show them.

    The request is counted before the levers change, so the page never shows the new values
    with no rerun asked for (which would read "stale" for a moment)."""
    settings = dict(values.value if settings is None else settings)
    traced = world.value if traced is None else traced
    requested.value = reruns.request((settings, traced))
    values.value, world.value = settings, traced


def _number(value) -> str:
    try:
        return f"{value:g}"
    except (OverflowError, TypeError, ValueError):
        return str(value)[:12] + "…"


@solara.component
def LeverControl(lever, reruns: Reruns):
    placings, set_placings = solara.use_state(0)  # typed values: the slider is moved to them
    # The control's widget, taken when it first appears: an effect run after a handler that
    # changed state twice (a typed value: the levers and ``placings``) may hold an element of
    # a render already replaced, whose widget reacton no longer finds.
    slider = solara.use_ref(None)

    def move(v) -> None:
        now = values.value[lever.path]
        # the page placing the control, no change, or the slider's report of where it shows a
        # value off its grid (the file's 0.00025 at 0.0005): none of them moves the lever
        if v == now or (lever.kind != "choice" and placed_report(v, now, lever)):
            return
        if live.value:
            _ask(reruns, {**values.value, lever.path: v})
        else:
            values.value = {**values.value, lever.path: v}

    def typed(v) -> None:
        move(v)
        set_placings(lambda n: n + 1)

    with solara.Column(gap="0px", classes=["negsim-lever", slug(lever.path)]):
        if lever.kind == "choice":
            control = rv.Select(label=printable(short_label(SESSION.base, lever)),
                                items=list(lever.choices), on_v_model=move, dense=True)
        else:
            value = values.value[lever.path]
            now = _number(value) + ("" if value == lever.value
                                    else f" (file: {_number(lever.value)})")
            Html("div", f"{short_label(SESSION.base, lever)}: {now}", classes="negsim-lever-value",
                 style="font-size: 0.85em", title=lever.label)
            with solara.Row(gap="8px", style={"align-items": "center"}):
                # every value the slider takes asks for a rerun (Reruns runs only the newest),
                # so the last one shown is that of the slider where it stopped, however fast
                control = rv.Slider(on_v_model=move, min=lever.low, max=lever.high,
                                    step=lever.step, thumb_label=True, hide_details=True,
                                    dense=True)
                TypedValue(lever, typed)
            Html("span", f"range {_number(lever.low)} – {_number(lever.high)}",
                 classes="negsim-lever-range", style="font-size: 0.75em; color: #666")
            Html("span", lever.label, classes="negsim-lever-about",
                 style="font-size: 0.7em; color: #888")

        # The control owns its value: the page places it when it appears, on Reset and when a
        # value is typed only. Were the value a prop, every render would write it back, and a
        # render from the rerun thread could write a value the control has already left: it
        # would jump back (and rerun) there.
        def place() -> None:
            if slider.current is None:
                slider.current = solara.get_widget(control)
            slider.current.v_model = values.value[lever.path]

        solara.use_effect(place, [resets.value, placings])


@solara.component
def TypedValue(lever, typed):
    """A field beside a slider that takes a typed value (on Enter, or when it loses focus).

    Vuetify's text field sends ``change`` with its text on Enter and on leaving it changed; the
    handler reads that text from the event. Solara's ``InputFloat`` instead reads the widget's
    ``v_model`` when the key comes up, and renders its own last value back as the field's
    ``v_model`` prop: a render from the rerun thread while the user types (the page renders
    as results arrive) puts the old text back, so Enter then reads the old value and nothing
    reruns. Here the text is never a prop: the page writes it only when the lever's value
    changes (a slider move, Reset, a link), and a refused text stays, with why, until fixed.
    """
    refused, set_refused = solara.use_state(("", None))  # (why, the lever's value then)
    shown_text = solara.use_ref("")
    widget = solara.use_ref(None)  # the field's widget, taken when it appears (as the slider's)
    value = values.value[lever.path]

    def change(widget, event, text) -> None:
        text = "" if text is None else str(text)
        if text == shown_text.current:  # Enter on the value as shown: no change
            return
        try:
            v = typed_value(lever, text)
        except ValueError as err:
            set_refused((str(err), values.value[lever.path]))
            return
        set_refused(("", None))
        typed(v)

    def show() -> None:
        if widget.current is None:
            widget.current = solara.get_widget(field)
        shown_text.current = f"{value:.12g}"
        widget.current.v_model = shown_text.current

    # a refusal is shown until a text is taken or the lever moves (its text is then replaced)
    error = refused[0] if refused[1] == value else ""
    # one column whether or not a message shows: a component whose top-level elements change
    # in number is wrapped anew, and the field would be a new widget without its handler
    with solara.Column(gap="0px"):
        field = rv.TextField(dense=True, hide_details=True, single_line=True,
                             placeholder="value", class_="negsim-lever-typed",
                             style_="max-width: 8em; margin-top: 0", error=bool(error))
        rv.use_event(field, "change", change)
        if error:
            Html("span", f"not applied: {error}", classes="negsim-lever-error",
                 style="font-size: 0.75em; color: #b00020")
    solara.use_effect(show, [value])


@solara.component
def Levers(reruns: Reruns):
    def reset() -> None:
        _ask(reruns, {lever.path: lever.value for lever in SESSION.levers})
        resets.value += 1

    def trace(n: int | None) -> None:
        if live.value:
            _ask(reruns, traced=n or 0)
        else:
            world.value = n or 0

    def set_live(on: bool) -> None:
        live.value = on
        if on and shown.value.key != (values.value, world.value):
            _ask(reruns)

    with solara.Column():
        with solara.Row():
            solara.Button("Run", on_click=lambda: _ask(reruns), color="primary",
                          classes=["negsim-run"])
            solara.Checkbox(label="rerun as levers move", value=live.value, on_value=set_live)
            solara.Button("Reset", on_click=reset, text=True)
        for group, items in SESSION.groups():
            with solara.Details(summary=group_title(SESSION.base, group),
                                expand=group != "Audience costs"):
                for lever in items:
                    LeverControl(lever, reruns)
        solara.InputInt("world whose story is told", value=world.value, on_value=trace)
        SaveControls()


@solara.component
def SaveControls():
    with solara.Row():
        solara.InputText(printable(f"save in {SAVE_DIR} as"), value=save_as)
        solara.Button("Save YAML", on_click=_save, classes=["negsim-save"])
        solara.FileDownload(_download, filename=_download_name(), label="Download YAML")
    if message.value:
        solara.Text(printable(message.value), classes=["negsim-message"])


def _save() -> None:
    s = Session(SESSION.base, SESSION.source, dict(values.value))
    try:
        path = s.save(save_as.value, SAVE_DIR)
    except InputError as err:
        message.value = "not saved: " + "; ".join(str(p) for p in err.problems)
        return
    except (ValueError, OSError) as err:
        message.value = f"not saved: {err}"
        return
    message.value = f"saved {path}"


def _download_name() -> str:
    name = save_as.value
    return name if path_component(name) == name else path_component(name) + ".yaml"


def _download() -> bytes:
    s = Session(SESSION.base, SESSION.source, dict(values.value))
    try:
        return s.yaml().encode("utf-8")
    except InputError as err:  # a file that says why, rather than a button that does nothing
        return "".join(f"# not a valid scenario: {p}\n" for p in err.problems).encode("utf-8")


STATE_WORDS = {
    "current": "the run of the levers as they are",
    "running": "running the levers as they are now; the numbers below are for earlier settings",
    "stale": "stale: the levers moved since these numbers ran; press Run",
}


@solara.component
def Results(reruns: Reruns):
    result = shown.value
    state = result.state((values.value, world.value), requested.value)
    settings = result.key[0]
    with solara.Column(classes=["negsim-results"]):
        Html("div", STATE_WORDS[state], classes=f"negsim-state negsim-{state}", data_state=state,
             style="font-size: 0.85em; color: " + ("#555" if state == "current" else "#b35c00"))
        outcome = result.outcome
        if not isinstance(outcome, Explored):
            solara.Error(printable(f"These settings make the scenario invalid: {outcome}"
                                   if isinstance(outcome, str) else
                                   f"The rerun failed: {outcome}"), classes=["negsim-invalid"])
            return
        s = outcome.summary
        Html("p", Html("b", f"{s['runs']:,} worlds, seed {s['seed']}"),
             f" — ran in {outcome.seconds:.2f} s")
        if outcome.warnings:
            with solara.Column(classes=["negsim-warnings"]):
                for w in outcome.warnings:
                    Html("div", "warning: " + w, style="color:#8a5a00; font-size:0.85em")
        SharesTable(outcome, settings, state)
        Changes(outcome, settings)
        for t in outcome.tables():
            TextTableView(t, state)
        MeetingsTables(outcome, state)
        FormatsTable(outcome, state)
        TermsTable(outcome, state)
        TermsFigure(outcome, result.generation, reruns)
        with solara.Row():
            solara.FileDownload(outcome.csv, filename=_stem() + "_tables.csv",
                                label="Download tables (CSV)")
            solara.FileDownload(lambda: outcome.terms_png(dpi=150),
                                filename=_stem() + "_terms.png", label="Download figure (PNG)")
        with solara.Card("One world's story", classes=["negsim-story"]):
            Html("ul", *(Html("li", line) for line in outcome.story_lines()))


@solara.component
def SharesTable(result: Explored, settings: dict, state: str):
    """The outcome table, with the exact shares, the settings they came from and whether those
    are the levers as they are (``current``, ``running``, ``stale``) as data attributes (what
    the browser test reads); greyed out unless current."""
    cell = "text-align:right; padding-left: 1em"
    rows = [Html("tr", Html("th", "outcome"), Html("th", "share"), Html("th", "95% interval"))]
    rows += [Html("tr", Html("td", words), Html("td", Html("b", f"{share:.1%}"), style=cell),
                  Html("td", f"{lo:.1%} – {hi:.1%}", style=cell),
                  data_outcome=o, data_share=repr(share))
             for o, words, share, lo, hi in result.shares()]
    Html("table", *rows, classes="negsim-shares",
         style=None if state == "current" else "opacity: 0.45",
         data_values=json.dumps(settings, sort_keys=True), data_runs=result.summary["runs"],
         data_seed=result.summary["seed"], data_state=state)


def _stem() -> str:
    return path_component(Path(SESSION.source).stem)


@solara.component
def Changes(result: Explored, settings: dict):
    """What changed: the levers against the file, the outcome shares against the run shown
    before (in percentage points)."""
    s = Session(SESSION.base, SESSION.source, dict(settings))
    moved = s.changed_words()
    Html("p", "Against the file: " + ("; ".join(moved) if moved else "no lever moved"),
         classes="negsim-changed-file", style="font-size: 0.85em")
    deltas = result.changes(before.value)
    if deltas:
        Html("p", "Against the last run: " + ", ".join(
            f"{words.lower()} {d:+.1f} points" for _, words, d in deltas),
             classes="negsim-changed-run", style="font-size: 0.85em")


@solara.component
def TextTableView(t, state: str):
    """A ``report.tables.TextTable`` (will it hold, why worlds ended, reference solutions)."""
    cell = "text-align:right; padding-left: 1em"
    rows = [Html("tr", *(Html("th", c) for c in t.columns))]
    rows += [Html("tr", *(Html("td", c, style=None if i == 0 else cell)
                          for i, c in enumerate(row)), data_key=key)
             for key, row in zip(t.keys or [""] * len(t.rows), t.rows)]
    Html("p", Html("b", t.title))
    Html("table", *rows, classes="negsim-table", data_title=t.title,
         style=None if state == "current" else "opacity: 0.45")
    if t.caption:
        Html("p", t.caption, style="font-size: 0.8em; color: #555")


@solara.component
def FormatsTable(result: Explored, state: str):
    """The share of worlds whose last session of every principal each format was, with its
    Wilson 95% interval, and the share that held it at least once, of any members."""
    cell = "text-align:right; padding-left: 1em"
    met = result.formats_met()
    rows = [Html("tr", Html("th", "format"), Html("th", "last of every principal"),
                 Html("th", "95% interval"), Html("th", "held at least once"))]
    rows += [Html("tr", Html("td", f), Html("td", f"{v:.1%}", style=cell),
                  Html("td", f"{lo:.1%} – {hi:.1%}", style=cell),
                  Html("td", f"{met[f]:.1%}" if f in met else "–", style=cell),
                  data_format=f, data_share=repr(v))
             for f, v, lo, hi in result.formats_with_intervals()]
    Html("p", Html("b", f"{result.scenario.words.Meeting} formats held"),
         " (share of worlds; a format that leaves a principal out is never the last session of "
         "every principal)")
    Html("table", *rows, classes="negsim-formats",
         style=None if state == "current" else "opacity: 0.45")


@solara.component
def TermsTable(result: Explored, state: str):
    """Each issue's agreed terms (median, 5–95% across the worlds that agreed) and, flagged,
    the share of agreements that sit on a red line or at the guarantors' cap."""
    rows_of = result.terms()
    if not rows_of:
        return
    cell = "text-align:right; padding-left: 1em"
    rows = [Html("tr", Html("th", "issue"), Html("th", "median"), Html("th", "5–95%"),
                 Html("th", "sits on (share of agreements)", style="padding-left: 1em"))]
    rows += [Html("tr", Html("td", t.issue), Html("td", f"{t.median:.3f}", style=cell),
                  Html("td", f"{t.p05:.3f} – {t.p95:.3f}", style=cell),
                  Html("td", "; ".join(f"{what}: {share:.0%}" for what, share in t.flags)
                       or "–", style="padding-left: 1em"
                       + ("; color: #8a5a00; font-weight: bold" if t.flags else "")),
                  data_issue=t.issue, data_flagged=int(bool(t.flags)))
             for t in rows_of]
    Html("p", Html("b", "Agreed terms"), f" ({rows_of[0].agreements:,} worlds agreed)")
    Html("table", *rows, classes="negsim-terms-table",
         style=None if state == "current" else "opacity: 0.45")


@solara.component
def MeetingsTables(result: Explored, state: str):
    """Beside the outcomes: the share of worlds with talks, a leaders' meeting and a settlement
    (intervals, when half of them had met; each row's exact share as ``data-share``), the mean
    sessions, and the cumulative shares by round; greyed out unless current."""
    cell = "text-align:right; padding-left: 1em"
    faded = None if state == "current" else "opacity: 0.45"
    rows = [Html("tr", Html("th", "meeting"), Html("th", "share"), Html("th", "95% interval"),
                 Html("th", "half met by", style="padding-left: 1em"))]
    rows += [Html("tr", Html("td", words), Html("td", Html("b", f"{share:.1%}"), style=cell),
                  Html("td", f"{lo:.1%} – {hi:.1%}", style=cell),
                  Html("td", when, style="padding-left: 1em"),
                  data_meeting=name, data_share=repr(share))
             for name, words, share, lo, hi, when in result.meetings()]
    Html("table", *rows, classes="negsim-meetings", style=faded, data_state=state)
    Html("p", f"{result.sessions():.2f} sessions per world on average (any format)",
         style="font-size: 0.85em", classes="negsim-sessions")
    heads, series = result.meetings_by_round()
    rows = [Html("tr", Html("th", "by the end of"), *(Html("th", h, style=cell) for h in heads))]
    rows += [Html("tr", Html("td", name), *(Html("td", f"{v:.1%}", style=cell) for v in shares),
                  data_meeting=name)
             for name, shares in series]
    Html("table", *rows, classes="negsim-meetings-by-round",
         style="font-size: 0.85em" + ("" if faded is None else "; " + faded))


_DRAWING = threading.Lock()  # pyplot's state is global: one figure drawn at a time


@solara.component
def TermsFigure(result: Explored, generation: int, reruns: Reruns):
    """The terms figure, drawn in a thread: the shares of a rerun show as soon as the worlds have
    run, and the figure (most of a rerun's time, in matplotlib's text layout) follows. A run
    already superseded (a newer rerun asked for: the levers are moving) has its figure left
    undrawn: drawing it would take the processor from the rerun that replaces it (after three
    quick presses, that rerun took 1.3-2.5 s beside the figure, 0.6 s without it, on a loaded
    two-core machine)."""
    def draw() -> bytes | None:
        if reruns.requested > generation:
            return None
        with _DRAWING:
            return result.terms_png()

    png = solara.use_thread(draw, dependencies=[id(result)], intrusive_cancel=False)
    if png.state == solara.ResultState.FINISHED and png.value is None:
        solara.Text("the terms figure is drawn for the newest run", classes=["negsim-drawing"])
    elif png.state == solara.ResultState.FINISHED:
        solara.Image(png.value, format="png", classes=["negsim-terms"])
    elif png.state == solara.ResultState.ERROR:
        solara.Error(f"The terms figure could not be drawn: {png.error}")
    else:
        solara.Text("drawing the terms figure ...", classes=["negsim-drawing"])


@solara.component
def Words():
    sc = SESSION.base
    issues = [Html("li", Html("b", k), f": 0 = {issue.label('low')}; 1 = "
                   f"{issue.label('high')} (status quo {issue.status_quo})")
              for k, issue in sc.issues.items()]
    actors = [Html("li", Html("b", actor.display(a)),
                   (f" ({actor.leader})" if actor.leader else "") + f": {actor.role}")
              for a, actor in sc.actors.items()]
    with solara.Details(summary="The scenario in its own words", expand=False):
        with solara.Column(classes=["negsim-words"]):
            Html("p", Html("b", sc.name), f": {sc.description}" if sc.description else "")
            Html("p", "Issues:")
            Html("ul", *issues)
            Html("p", "Actors:")
            Html("ul", *actors)


@solara.component
def UrlState(reruns: Reruns):
    """The levers moved from the file live in the page's address (``Session.query``): a
    reload or a shared link opens on them, and the address follows the levers as they move.

    Both ways go through Solara's router: its ``search`` is the query string of the address
    the browser shows (it arrives once the page is connected, and again on Back/Forward), and
    ``push`` writes a new one into the browser's history. The lever values are read live in
    the second effect, so the link's values applied by the first (both run when the page
    opens) are not pushed away by the file's."""
    router = solara.use_router()

    def follow_address() -> None:
        wanted, problems = SESSION.from_query(router.search)
        if problems:
            link_problems.value = ("the page's address was not applied in part: "
                                   + "; ".join(problems) + " (the file's values kept there)")
        if wanted != values.value:
            link_problems.value = link_problems.value if problems else ""
            if live.value:
                _ask(reruns, wanted)
            else:
                values.value = wanted
            resets.value += 1

    def follow_levers() -> None:
        query = Session(SESSION.base, SESSION.source, dict(values.value)).query()
        if query != (router.search or ""):
            path = router.path or "/"
            router.push(f"{path}?{query}" if query else path)

    solara.use_effect(follow_address, [router.search])
    solara.use_effect(follow_levers, [values.value])
    if link_problems.value:
        Html("div", link_problems.value, classes="negsim-link-problems",
             style="color:#b00020; font-size:0.85em")


@solara.component
def Page():
    # one scheduler per page (a kernel): its worker thread sets this page's reactive values
    reruns = solara.use_memo(lambda: Reruns(rerun, _publish), [])
    UrlState(reruns)
    solara.Title(f"negsim explore: {SESSION.base.name}")
    with solara.Columns([1, 2]):
        with solara.Column():
            Html("h2", SESSION.base.name, classes="negsim-name")
            Html("code", SESSION.source)
            Levers(reruns)
        with solara.Column():
            Words()
            Results(reruns)
