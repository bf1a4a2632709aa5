"""The explorer's Solara page: controls for a scenario's levers and what a rerun shows.

Thin by design: the levers, applying their values, running and the story in words are
``explore.session``; this module draws a control per lever, reruns when one is let go (or on
the Run button), and shows the ``Explored`` result. ``negsim explore`` serves it and names the
scenario file in ``NEGSIM_EXPLORE_SCENARIO`` (and ``NEGSIM_EXPLORE_RUNS``, ``NEGSIM_EXPLORE_SEED``).

Mesa's SolaraViz is built to step one model instance and draw its agents and DataCollector
round by round; an ensemble rerun summarised as shares with intervals is not that, so the page
is made of plain Solara components.
"""

from __future__ import annotations

import html
import json
import os
import threading
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot  # noqa: E402

import reacton.ipyvue as rvue  # noqa: E402
import reacton.ipyvuetify as rv  # noqa: E402
import solara  # noqa: E402

from negotiation_sim.config.yamlio import InputError  # noqa: E402
from negotiation_sim.explore.session import (  # noqa: E402
    DEFAULT_RUNS,
    RUNS_ENV,
    SCENARIO_ENV,
    SEED_ENV,
    Explored,
    Session,
)


def _session() -> Session:
    path = os.environ.get(SCENARIO_ENV)
    if not path:
        raise RuntimeError(f"start the explorer with negsim explore SCENARIO ({SCENARIO_ENV} "
                           "is not set)")
    return Session.open(path, runs=int(os.environ.get(RUNS_ENV, DEFAULT_RUNS)),
                        seed=int(os.environ.get(SEED_ENV, 0)))


SESSION = _session()
# The scenario as written, run once while the server starts: the page opens on it at once (and
# the figure code is warm for the first rerun).
FIRST = (dict(SESSION.values), SESSION.run())
FIRST[1].terms_png()
values = solara.reactive(dict(SESSION.values))
shown = solara.reactive(FIRST)
world = solara.reactive(SESSION.world)
live = solara.reactive(True)
message = solara.reactive("")
save_to = solara.reactive(str(Path(SESSION.source).with_name(
    Path(SESSION.source).stem + "_explored.yaml")))


def slug(path: str) -> str:
    """A CSS class name for a lever (``lever-actors-us-pressure-russia``)."""
    return "lever-" + path.replace(".", "-").replace("_", "-")


def rerun(settings: dict, traced: int) -> tuple[dict, Explored | str]:
    """One rerun with these lever values: (the values, what it shows or why it cannot run)."""
    s = Session(SESSION.base, SESSION.source, dict(settings), runs=SESSION.runs,
                seed=SESSION.seed, world=traced)
    try:
        return settings, s.run()
    except InputError as err:
        return settings, "; ".join(str(p) for p in err.problems)


def _go() -> None:
    # In the event handler: a rerun of a few thousand worlds takes a fraction of a second, and
    # the page shows the result of the values it was asked for, in order.
    shown.value = rerun(dict(values.value), world.value)


def _set(path: str, value) -> None:
    values.value = {**values.value, path: value}


@solara.component
def LeverControl(lever):
    with solara.Column(gap="0px", classes=["negsim-lever", slug(lever.path)]):
        if lever.kind == "choice":
            solara.Select(lever.label, values=list(lever.choices),
                          value=values.value[lever.path],
                          on_value=lambda v: (_set(lever.path, v), live.value and _go()))
        else:
            SliderControl(lever)


@solara.component
def SliderControl(lever):
    value = values.value[lever.path]
    cast = int if lever.kind == "int" else float
    shown = f"{value:g}" + ("" if value == lever.value else f" (file: {lever.value:g})")
    solara.Text(f"{lever.label}: {shown}", style={"font-size": "0.85em"},
                classes=["negsim-lever-value"])
    slider = rv.Slider(v_model=value, on_v_model=lambda v: _set(lever.path, cast(v)),
                       min=lever.low, max=lever.high, step=lever.step, thumb_label=True,
                       hide_details=True, dense=True)
    rvue.use_event(slider, "change", lambda *_: live.value and _go())


@solara.component
def Levers():
    with solara.Column():
        with solara.Row():
            solara.Button("Run", on_click=_go, color="primary", classes=["negsim-run"])
            solara.Checkbox(label="rerun when a lever is let go", value=live)
            solara.Button("Reset", on_click=_reset, text=True)
        for group, items in SESSION.groups():
            with solara.Details(summary=group, expand=group != "Audience costs"):
                for lever in items:
                    LeverControl(lever)
        solara.InputInt("world whose story is told", value=world,
                        on_value=lambda _: live.value and _go())
        with solara.Row():
            solara.InputText("save the changed scenario as", value=save_to)
            solara.Button("Save YAML", on_click=_save, classes=["negsim-save"])
        if message.value:
            solara.Text(message.value, classes=["negsim-message"])


def _reset() -> None:
    values.value = {lever.path: lever.value for lever in SESSION.levers}
    _go()


def _save() -> None:
    s = Session(SESSION.base, SESSION.source, dict(values.value))
    try:
        path = s.save(save_to.value)
    except (InputError, OSError) as err:
        message.value = f"not saved: {err}"
        return
    message.value = f"saved {path}"


def shares_html(result: Explored, settings: dict) -> str:
    """The outcome table, with the exact shares and the settings they came from as data
    attributes (what the browser test reads)."""
    rows = "".join(
        f'<tr data-outcome="{o}" data-share="{share!r}"><td>{html.escape(words)}</td>'
        f'<td style="text-align:right"><b>{share:.1%}</b></td>'
        f'<td style="text-align:right">{lo:.1%} – {hi:.1%}</td></tr>'
        for o, words, share, lo, hi in result.shares())
    ran = html.escape(json.dumps(settings, sort_keys=True), quote=True)
    return (f'<table class="negsim-shares" data-values="{ran}" '
            f'data-runs="{result.summary["runs"]}" data-seed="{result.summary["seed"]}">'
            "<tr><th>outcome</th><th>share</th><th>95% interval</th></tr>"
            f"{rows}</table>")


@solara.component
def Results():
    settings, result = shown.value
    with solara.Column():
        if isinstance(result, str):
            solara.Error(f"These settings make the scenario invalid: {result}")
            return
        s = result.summary
        solara.Markdown(f"**{s['runs']:,} worlds, seed {s['seed']}** — ran in "
                        f"{result.seconds:.2f} s")
        solara.HTML(unsafe_innerHTML=shares_html(result, settings))
        solara.Markdown("**Summit formats held** (share of worlds): " + ", ".join(
            f"{f} {v:.1%}" for f, v in result.formats()))
        TermsFigure(result)
        with solara.Card("One world's story", classes=["negsim-story"]):
            solara.Markdown("\n".join(f"- {html.escape(line)}" for line in
                                      result.story_lines()))


_DRAWING = threading.Lock()  # pyplot's state is global: one figure drawn at a time


@solara.component
def TermsFigure(result: Explored):
    """The terms figure, drawn in a thread: the shares of a rerun show as soon as the worlds have
    run, and the figure (most of a rerun's time, in matplotlib's text layout) follows."""
    def draw() -> bytes:
        with _DRAWING:
            return result.terms_png()

    png = solara.use_thread(draw, dependencies=[id(result)], intrusive_cancel=False)
    if png.state == solara.ResultState.FINISHED:
        solara.Image(png.value, format="png", classes=["negsim-terms"])
    elif png.state == solara.ResultState.ERROR:
        solara.Error(f"The terms figure could not be drawn: {png.error}")
    else:
        solara.Text("drawing the terms figure ...", classes=["negsim-drawing"])


@solara.component
def Words():
    sc = SESSION.base
    lines = [f"**{html.escape(sc.name)}**" + (f": {html.escape(sc.description)}"
                                             if sc.description else ""), "", "Issues:"]
    for k, issue in sc.issues.items():
        lines.append(f"- **{k}**: 0 = {html.escape(issue.label('low'))}; 1 = "
                     f"{html.escape(issue.label('high'))} (status quo {issue.status_quo})")
    lines += ["", "Actors:"]
    for a, actor in sc.actors.items():
        who = f" ({html.escape(actor.leader)})" if actor.leader else ""
        lines.append(f"- **{html.escape(actor.display(a))}**{who}: {actor.role}")
    with solara.Details(summary="The scenario in its own words", expand=False):
        solara.Markdown("\n".join(lines))


@solara.component
def Page():
    solara.Title(f"negsim explore: {SESSION.base.name}")
    with solara.Columns([1, 2]):
        with solara.Column():
            solara.Markdown(f"## {html.escape(SESSION.base.name)}\n`{SESSION.source}`")
            Levers()
        with solara.Column():
            Words()
            Results()
