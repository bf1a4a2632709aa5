"""One self-contained HTML report of a run or a sweep.

The report says what was simulated (the scenario in words: issues, actors, stated positions, red
lines, reservation values, pressure, guarantees, summit formats), what came out (the outcome
table and every figure ``negsim plot`` draws for these results) and how (the provenance from
``manifest.json``). Figures are embedded as base64 PNG and the styles are inline, so the file
opens offline in any browser with nothing beside it. Outcomes, the no-deal state and meetings
are named in the scenario's own words (``config.words``).
"""

from __future__ import annotations

import base64
import html
import io
import json
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from negotiation_sim.config.words import DEFAULT as DEFAULT_WORDS
from negotiation_sim.config.words import Words, indefinite, words_of
from negotiation_sim.core.outcomes import OUTCOMES
from negotiation_sim.report.tables import (
    TextTable,
    durability,
    end_reasons,
    solutions,
    utilities,
)
from negotiation_sim.results.schema import MANIFEST_FILE, REPORT_FILE, Figure

if TYPE_CHECKING:
    from negotiation_sim.config.scenario import Scenario

def figure_captions(words: Words = DEFAULT_WORDS) -> dict[str, str]:
    """What each figure shows, one sentence each, in the scenario's ``words``."""
    w = words
    cease = w.in_sentence("ceasefire")
    return {
        Figure.OUTCOMES: "How often each outcome happened, with 95% Wilson intervals.",
        Figure.TERMS: "Where agreements landed on each issue, against each side's ideal point, "
                      "red lines, the status quo and the Nash bargaining point.",
        Figure.UTILITIES: f"Each actor's utility at the outcome, against its value of "
                          f"{w.no_deal} when its world ended.",
        Figure.FORMATS: f"Which {w.meeting} format was held, and how it ended.",
        Figure.DURABILITY: "How long what was signed holds: the share of agreements and "
                           f"{_plural(cease)} unbroken against days since the signing, with 95% "
                           "intervals.",
        Figure.MEETINGS: "Who met, and by when: the cumulative share of worlds with talks, with "
                         f"a leaders' meeting and with a settlement or {cease} taking effect, "
                         "round by round, with 95% intervals.",
        Figure.SWEEP_LINE: "Outcome shares along a swept parameter, with 95% bands.",
        Figure.HEATMAP: "The agreement share over two swept parameters.",
        Figure.SENSITIVITY: "Which uncertain parameters drive the agreement share (Sobol or "
                            "Morris).",
        Figure.TRAJECTORY: "One world's talks round by round.",
    }


def _plural(noun: str) -> str:
    """An English plural good enough for a figure's caption ("ceasefires", "arrangements")."""
    return noun if noun.endswith("s") else noun + "s"


FIGURE_CAPTIONS = figure_captions()
"""Each figure's caption in the default words."""

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;max-width:980px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;border-bottom:1px solid #ddd;
padding-bottom:.2em;margin-top:1.8em}h3{font-size:1.05em;margin-bottom:.3em}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}
th,td{border:1px solid #ddd;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:1.2em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{color:#555;font-size:.9em}.muted{color:#666}.warn{background:#fff3cd;padding:.5em}.swatch{display:inline-block;width:.9em;
height:.9em;border-radius:2px;margin-right:.4em;vertical-align:-.1em}
pre{background:#f7f7f7;padding:.8em;overflow:auto;font-size:.85em}
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def figure_png(fig) -> bytes:
    """A figure as PNG bytes (the figure is closed)."""
    from negotiation_sim import plots

    buf = io.BytesIO()
    plots.save(fig, buf, format="png")
    return buf.getvalue()


def _figures_html(makers: dict[str, Any], words: Words = DEFAULT_WORDS) -> str:
    parts = []
    captions = figure_captions(words)
    for kind, make in makers.items():
        data = base64.b64encode(figure_png(make())).decode("ascii")
        caption = captions.get(kind, "")
        parts.append(f'<figure id="figure-{_e(kind)}"><img alt="{_e(kind)} figure" '
                     f'src="data:image/png;base64,{data}"><figcaption>{_e(caption)}'
                     "</figcaption></figure>")
    return "\n".join(parts)


# -- the scenario in words ---------------------------------------------------------------------


def number_words(value: Any) -> str:
    """A scenario number in words: ``0.3`` or ``uniform 0.25-0.5`` and the like."""
    if isinstance(value, (int, float)):
        return f"{float(value):g}"
    d = value.model_dump()
    kind = d.pop("dist")
    if kind == "uniform":
        return f"uniform {d['low']:g}–{d['high']:g}"
    if kind == "normal":
        bounds = ""
        if d.get("low") is not None or d.get("high") is not None:
            bounds = f", within [{_g(d.get('low'))}, {_g(d.get('high'))}]"
        return f"normal, mean {d['mean']:g}, sd {d['sd']:g}{bounds}"
    if kind == "triangular":
        return f"triangular {d['low']:g}–{d['high']:g}, most likely {d['mode']:g}"
    if kind == "beta":
        return f"beta(a={d['a']:g}, b={d['b']:g})"
    if kind == "choice":
        vals = ", ".join(f"{v:g}" for v in d["values"])
        w = d.get("weights")
        return f"one of {vals}" + (f" (weights {', '.join(f'{x:g}' for x in w)})" if w else "")
    return json.dumps(d)


def _g(v: Any) -> str:
    return "–" if v is None else f"{v:g}"


def scenario_html(sc: Scenario) -> str:
    """Issues, actors and the summit of a scenario, in words (and in its own ``words``)."""
    out = []
    if sc.description:
        out.append(f"<p>{_e(sc.description)}</p>")
    out.append("<h3>Issues</h3><p class='muted'>Each issue runs from 0 to 1.</p><table>"
               "<tr><th>issue</th><th>0 means</th><th>1 means</th><th>status quo</th></tr>")
    for k, issue in sc.issues.items():
        out.append(f"<tr><td>{_e(k)}</td><td>{_e(issue.label('low'))}</td>"
                   f"<td>{_e(issue.label('high'))}</td>"
                   f"<td class='num'>{_e(number_words(issue.status_quo))}</td></tr>")
    out.append("</table><h3>Actors</h3>")
    for aid, actor in sc.actors.items():
        out.append(_actor_html(sc, aid, actor))
    meeting = sc.words.Meeting
    out.append(f"<h3>{_e(meeting)} and talks</h3><ul>" if meeting != "Talks" else
               "<h3>Talks</h3><ul>")
    for (name, members), level in zip(sc.formats(), sc.levels()):
        who = ", ".join(sc.actors[m].display(m) for m in members)
        out.append(f"<li>format <b>{_e(name)}</b> ({_e(level)} level): {_e(who)}</li>")
    if sc.summit is not None:
        out.append(f"<li>the mediator tries the formats in this order: "
                   f"{_e(', '.join(sc.summit.ordered()))}</li>")
    if sc.ceasefire is not None:
        terms = ", ".join(f"{k} at {v if v == 'status_quo' else number_words(v)}"
                          for k, v in sc.ceasefire.terms.items()) or "every issue at its status quo"
        cease = indefinite(sc.words.in_sentence("ceasefire"))
        out.append(f"<li>if talks fail, {_e(cease)} package: {_e(terms)} (other issues stay "
                   "at their status quo)</li>")
    start = sc.protocol.start
    out.append(f"<li>protocol <b>{_e(sc.protocol.kind)}</b> with a deadline of "
               f"{sc.protocol.rounds} rounds of {sc.protocol.round_days:g} days"
               + (f", round 1 opening on {start.isoformat()}" if start else "") + "</li></ul>")
    return "\n".join(out)


def _actor_html(sc: Scenario, aid: str, actor) -> str:
    title = actor.display(aid)
    if actor.leader:
        title += f" (led by {actor.leader})"
    rows = []
    for k, v in actor.position.items():
        issue = sc.issues[k]
        rows.append(("wants", f"{k} at {number_words(v)} (0 = {issue.label('low')}; "
                              f"1 = {issue.label('high')})"))
    if actor.salience:
        rows.append(("cares about", ", ".join(f"{k} {number_words(v)}"
                                              for k, v in actor.salience.items())))
    if actor.role == "principal":
        if actor.red_lines:
            rows.append(("red lines", "; ".join(str(c) for c in actor.red_lines)))
        rows.append(("value of no deal (reservation)", number_words(actor.reservation)))
        if _nonzero(actor.claim):
            rows.append(("overstates it by", f"{number_words(actor.claim)}, dropping "
                         f"{number_words(actor.concession)} of what is left per rejection"))
        if _nonzero(actor.walkout):
            rows.append(("walks out after a rejection with chance", number_words(actor.walkout)))
        if actor.patience != 1.0:
            rows.append(("patience (discount per round)", number_words(actor.patience)))
        if actor.audience_cost:
            rows.append(("audience cost of attending", ", ".join(
                f"{f} {number_words(v)}" for f, v in actor.audience_cost.items())))
        if actor.preconditions:
            rows.append(("preconditions", "; ".join(str(c) for c in actor.preconditions)))
    elif actor.role == "mediator":
        if actor.pressure:
            rows.append(("presses (fall in reservation per round)", ", ".join(
                f"{sc.actors[p].display(p)} {number_words(v)}" for p, v in actor.pressure.items())))
    elif actor.role == "guarantor" and actor.offer:
        rows.append(("backs at most", ", ".join(f"{k} {number_words(v)}"
                                                 for k, v in actor.offer.items())))
    if actor.clout != 1.0:
        rows.append(("clout", number_words(actor.clout)))
    body = "".join(f"<tr><th>{_e(a)}</th><td>{_e(b)}</td></tr>" for a, b in rows)
    return (f"<p><b>{_e(title)}</b> <span class='muted'>— {_e(actor.role)}</span></p>"
            f"<table>{body}</table>" if rows else
            f"<p><b>{_e(title)}</b> <span class='muted'>— {_e(actor.role)}</span></p>")


def _nonzero(v: Any) -> bool:
    from negotiation_sim.config.distributions import support

    return support(v) != (0.0, 0.0)


# -- tables ------------------------------------------------------------------------------------


def outcome_table_html(summary: dict[str, Any], scenario: Scenario | None = None) -> str:
    """The run's tables, as ``negsim run`` prints them: outcomes, meetings, formats, terms,
    reference solutions, why worlds ended, durability and utilities (actors by name when the
    scenario is known)."""
    from negotiation_sim.plots.style import OUTCOME_COLOURS

    w = words_of(scenario if scenario is not None else summary)
    rows = []
    for o in OUTCOMES:
        s = summary["outcomes"][o]
        lo, hi = s["ci95"]
        rows.append(f"<tr><td><span class='swatch' style='background:{OUTCOME_COLOURS[o]}'>"
                    f"</span>{_e(w.outcome(o))}</td><td class='num'>{s['share']:.1%}</td>"
                    f"<td class='num'>{lo:.1%} – {hi:.1%}</td></tr>")
    table = ("<table><tr><th>outcome</th><th>share of worlds</th><th>95% interval (Wilson)</th>"
             f"</tr>{''.join(rows)}</table>")
    table += meetings_table_html(summary)
    met = ((summary.get("meetings") or {}).get("sessions") or {}).get("by_format")
    formats = "".join(
        f"<tr><td>{_e(f)}</td>"
        + (f"<td class='num'>{met[f]['share']:.1%}</td><td class='num'>{met[f]['mean']:.2f}</td>"
           if met else "")
        + f"<td class='num'>{v:.1%}</td></tr>"
        for f, v in summary.get("formats", {}).items())
    if formats:
        heads = "<th>held at least once</th><th>sessions per world</th>" if met else ""
        table += (f"<h3>{_e(w.Meeting)} formats held</h3><table><tr><th>format</th>{heads}"
                  f"<th>last session of every principal</th></tr>{formats}</table>"
                  "<p class='muted'>Share of worlds. Held at least once: a session of the "
                  "format, of any members (the channels that leave a principal out too); "
                  "last session of every principal: the format of the last session all "
                  "principals sat at.</p>")
    terms = summary.get("terms") or {}
    if any(v is not None for v in terms.values()):
        r = summary.get("rounds") or {}
        table += (f"<h3>Terms of agreements</h3><p class='muted'>Over worlds that agreed; "
                  f"agreement came in round {r.get('mean', float('nan')):.1f} on average.</p>"
                  "<table><tr><th>issue</th><th>mean</th><th>5%</th><th>median</th><th>95%</th></tr>")
        for k, t in terms.items():
            if t is not None:
                table += (f"<tr><td>{_e(k)}</td>" + "".join(
                    f"<td class='num'>{t[c]:.3f}</td>" for c in ("mean", "p05", "p50", "p95"))
                    + "</tr>")
        table += "</table>"
    for t in (solutions(summary), end_reasons(summary), durability(summary),
              utilities(summary, scenario)):
        if t is not None:
            table += text_table_html(t)
    return table


def text_table_html(t: TextTable) -> str:
    """A ``report.tables.TextTable`` as a heading, a table (numbers right-aligned, each row's
    key as ``data-key``) and its caption."""
    head = "".join(f"<th>{_e(c)}</th>" for c in t.columns)
    body = "".join(
        f"<tr data-key='{_e(k)}'>" + "".join(
            f"<td{'' if i == 0 else ' class=num'}>{_e(c)}</td>" for i, c in enumerate(row))
        + "</tr>" for k, row in zip(t.keys or [""] * len(t.rows), t.rows))
    caption = f"<p class='muted'>{_e(t.caption)}</p>" if t.caption else ""
    return f"<h3>{_e(t.title)}</h3><table><tr>{head}</tr>{body}</table>{caption}"


def meetings_table_html(summary: dict[str, Any]) -> str:
    """Who met and by when: the share of worlds with talks, a leaders' meeting and a
    settlement (with intervals), when half of them had, and the mean sessions ('' for a summary
    written before meetings were summarised)."""
    from negotiation_sim.plots.style import MEETING_COLOURS, half_met, meeting_labels

    m = summary.get("meetings")
    if not m:
        return ""
    rows = []
    for name, words in meeting_labels(summary).items():
        e = m[name]
        lo, hi = e["ci95"]
        rows.append(f"<tr data-meeting='{name}'><td><span class='swatch' style='background:"
                    f"{MEETING_COLOURS[name]}'></span>{_e(words)}</td><td class='num'>"
                    f"{e['share']:.1%}</td><td class='num'>{lo:.1%} – {hi:.1%}</td>"
                    f"<td>{_e(half_met(e))}</td></tr>")
    return ("<h3>Meetings over the calendar</h3><p class='muted'>Half met by: the round by "
            "which half of the worlds that met had met (day: the end of that round). "
            f"{m['sessions']['mean']:.2f} sessions per world on average, of any format. "
            "Took effect: in some round, whether or not it held (the outcomes count what is "
            "in force at the horizon).</p>"
            "<table id='meetings'><tr><th>meeting</th><th>share of worlds</th><th>95% interval "
            f"(Wilson)</th><th>half met by</th></tr>{''.join(rows)}</table>")


SHOWN_POINTS = 5
"""Points shown above the figures at each end of the agreement share; the rest are collapsed."""


def sweep_summary_html(sweep) -> str:
    """The points with the highest and the lowest agreement share, and the sensitivity indices
    when the sweep saved them; every point in a collapsed table after the figures."""
    table = sweep.summary
    parts = []
    if len(table) > 2 * SHOWN_POINTS:
        ranked = table.sort_values("agreement", ascending=False, kind="stable")
        parts.append(f"<h3>The {SHOWN_POINTS} points with the highest agreement share</h3>")
        parts.append(sweep_table_html(sweep, ranked.head(SHOWN_POINTS)))
        parts.append(f"<h3>The {SHOWN_POINTS} points with the lowest agreement share</h3>")
        parts.append(sweep_table_html(sweep, ranked.tail(SHOWN_POINTS)))
    else:
        parts.append(sweep_table_html(sweep))
    if sweep.sensitivity is not None and len(sweep.sensitivity):
        parts.append("<h3>Sensitivity of the agreement share</h3>")
        parts.append(sensitivity_table_html(sweep))
    return "".join(parts)


def sensitivity_table_html(sweep) -> str:
    """The saved Sobol or Morris indices, one row per parameter, by the figures' labels."""
    ind = sweep.sensitivity
    cols = [c for c in ind.columns if c != "parameter"]
    head = "".join(f"<th>{_e(c)}</th>" for c in cols)
    rows = []
    for _, row in ind.iterrows():
        cells = "".join(f"<td class='num'>{_e(_fmt(float(row[c])))}</td>" for c in cols)
        rows.append(f"<tr><td>{_e(sweep.label(str(row['parameter']), units=False))}</td>"
                    f"{cells}</tr>")
    return f"<table><tr><th>parameter</th>{head}</tr>{''.join(rows)}</table>"


def all_points_html(sweep) -> str:
    """Every point's table, collapsed (a sweep of hundreds of points would fill the page)."""
    return (f"<details><summary>All {len(sweep.summary)} points</summary>"
            f"<div style='overflow-x:auto'>{sweep_table_html(sweep)}</div></details>")


def sweep_table_html(sweep, rows_of=None) -> str:
    """Per point: the swept values (headed by the figures' labels), the outcome shares and the
    meetings' (talks, leaders; when the sweep has them) with their intervals; ``rows_of``:
    which rows of the summary (default all)."""
    from negotiation_sim.plots.style import share_labels
    from negotiation_sim.results.summary import MEETING_COLUMNS

    names = share_labels(sweep)
    shares = {o: names[o] for o in OUTCOMES}
    shares |= {m: names[m] for m in MEETING_COLUMNS if m in sweep.summary}
    head = "".join(f"<th>{_e(sweep.label(p, units=False))}</th>" for p in sweep.params)
    head += "".join(f"<th>{_e(words)}</th>" for words in shares.values())
    rows = []
    for _, row in (sweep.summary if rows_of is None else rows_of).iterrows():
        cells = "".join(f"<td class='num'>{_e(_fmt(row[p]))}</td>" for p in sweep.params)
        cells += "".join(f"<td class='num'>{row[o]:.1%}<br><span class='muted'>"
                         f"{row[o + '.lo']:.1%}–{row[o + '.hi']:.1%}</span></td>"
                         for o in shares)
        rows.append(f"<tr><td class='num'>{int(row['point'])}</td>{cells}</tr>")
    return f"<table><tr><th>point</th>{head}</tr>{''.join(rows)}</table>"


def _fmt(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def provenance_html(manifest: dict[str, Any]) -> str:
    """The manifest's key facts as a table, then the whole manifest as JSON."""
    keys = [("scenario", "scenario"), ("scenario_file", "scenario file"),
            ("scenario_hash", "scenario hash (SHA-256)"), ("experiment", "experiment"),
            ("experiment_file", "experiment file"), ("seed", "seed"), ("runs", "worlds"),
            ("chunk_size", "chunk size"), ("protocol", "protocol"), ("seconds", "seconds"),
            ("platform", "platform")]
    rows = [f"<tr><th>{_e(label)}</th><td>{_e(manifest[k])}</td></tr>"
            for k, label in keys if manifest.get(k) is not None]
    if manifest.get("command"):
        cmd = manifest["command"]
        rows.append(f"<tr><th>command</th><td><code>{_e(' '.join(map(str, cmd)) if isinstance(cmd, list) else cmd)}</code></td></tr>")
    if manifest.get("versions"):
        rows.append("<tr><th>versions</th><td>" + _e(", ".join(
            f"{k} {v}" for k, v in manifest["versions"].items())) + "</td></tr>")
    raw = _e(json.dumps(manifest, indent=2))
    return (f"<table>{''.join(rows)}</table><details><summary>{MANIFEST_FILE}</summary>"
            f"<pre id='manifest'>{raw}</pre></details>")


# -- the report --------------------------------------------------------------------------------


def build_report(path: str | Path, scenario: Scenario | str | Path | None = None) -> str:
    """The HTML report of a run or sweep results directory."""
    from negotiation_sim import plots
    from negotiation_sim.results.reader import SweepResults, load_results

    path = Path(path)
    results = load_results(path, scenario)
    if isinstance(results, dict):
        raise ValueError(f"{path}: a report takes a run or sweep results directory, not a trace "
                         "(draw a trace with negsim plot)")
    if isinstance(results, SweepResults):
        sweep = results
        title = f"Sweep report: {sweep.name}"
        intro = (f"{len(sweep.summary)} points of {int(sweep.summary['runs'].iloc[0]):,} worlds "
                 f"each, seed {sweep.manifest.get('seed', '?')}, design "
                 f"{sweep.method}, swept: {', '.join(sweep.label(p) for p in sweep.params)}.")
        results_html = sweep_summary_html(sweep)
        if (note := sweep.status_note) is not None:  # say so, in the report and on stderr
            warnings.warn(f"{path}: {note}", UserWarning, stacklevel=2)
            results_html = (f"<p class='warn'><b>Not complete:</b> {_e(note)}.</p>"
                            + results_html)
        after_figures = f"<h2 id=\"points\">Every point</h2>{all_points_html(sweep)}"
        makers, manifest, sc = plots.sweep_figures(sweep), sweep.manifest, sweep.scenario
    else:
        run = results
        s = run.summary
        title = f"Run report: {s['scenario']}"
        intro = f"{s['runs']:,} simulated worlds, seed {s['seed']}."
        from negotiation_sim.report.evidence import evidence_html

        results_html = outcome_table_html(s, run.scenario) + evidence_html(path, run)
        after_figures = ""
        makers, manifest, sc = plots.run_figures(run), run.manifest, run.scenario
    changed = ""
    if sc is not None and manifest.get("scenario_hash") not in (None, sc.digest()):
        changed = ("<p class='muted'><b>Note:</b> the scenario file has changed since these "
                   "results were made (its hash differs from the manifest's); the description "
                   "and the marks in the figures are those of the file as it is now.</p>")
    words = changed + (scenario_html(sc) if sc is not None else
             "<p class='muted'>The scenario file was not found (or has changed since the run): "
             "pass <code>--scenario FILE</code> to describe it here.</p>")
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title><style>{_CSS}</style></head><body>
<h1>{_e(title)}</h1>
<p class="muted">{_e(intro)} Report written {stamp} by negsim from {_e(path)}.</p>
<h2 id="scenario">The scenario in words</h2>
{words}
<h2 id="outcomes">Outcomes</h2>
{results_html}
<h2 id="figures">Figures</h2>
{_figures_html(makers, words_of(results))}
{after_figures}
<h2 id="provenance">Provenance</h2>
{provenance_html(manifest)}
</body></html>
"""


def write_report(path: str | Path, out: str | Path | None = None,
                 scenario: Scenario | str | Path | None = None) -> Path:
    """Write the report of ``path`` to ``out`` (default ``path/report.html``); returns it."""
    target = Path(out) if out is not None else Path(path) / REPORT_FILE
    text = build_report(path, scenario)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target)
    except BaseException:  # a full disk, an interrupt: no temporary file stays behind
        tmp.unlink(missing_ok=True)
        raise
    return target
