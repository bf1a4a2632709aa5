"""Figures of a run: outcome shares, agreed terms against the parties' positions, utilities,
formats, durability, and the meetings over the calendar.

Every function takes result tables (``results.reader.RunResults``) and an optional ``ax``, and
returns the Figure. Outcomes, the no-deal state and meetings are named in the run's own words
(``config.words``, from its scenario or its summary).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from negotiation_sim.config.words import indefinite, words_of
from negotiation_sim.core.outcomes import OUTCOMES
from negotiation_sim.plots.style import (
    ACTOR_COLOURS,
    MARK_COLOUR,
    MEETING_COLOURS,
    MEETING_STYLES,
    OUTCOME_COLOURS,
    closes_on_error,
    headroom,
    issue_axis,
    meeting_labels,
    new_figure,
    panels,
    pct_axis,
    wrap_words,
)
from negotiation_sim.results.marks import IssueMarks
from negotiation_sim.results.reader import RunResults, caption


@closes_on_error
def outcome_shares(summaries: list[dict[str, Any]] | dict[str, Any], ax=None, *,
                   labels: list[str] | None = None, xlabel: str = "Scenario",
                   title: str | None = None, words=None):
    """Stacked bars of outcome shares, one bar per summary, with 95% Wilson intervals.

    Each segment carries an error bar: the 95% interval of that outcome's share, drawn at the
    segment's middle (left out when narrower than half a percentage point).

    Args:
        summaries: one run summary (the ``negsim run --json`` shape) or several (scenarios of a
            comparison, points of a sweep: see ``sweep_summaries``).
        ax: matplotlib Axes to draw on; a new figure when omitted.
        labels: bar labels (default: each summary's scenario name).
        xlabel: what the bars are.
        title: first title line (default "Summit outcomes", in the run's words).
        words: what names the outcomes (``config.words.words_of``: a scenario, ``Words``);
            default: the first summary's words.

    Returns:
        The matplotlib Figure.
    """
    if isinstance(summaries, dict):
        summaries = [summaries]
    w = words_of(words if words is not None else summaries[0])
    names = w.labels()
    n = len(summaries)
    width = max(5.5, 1.2 * n + 3.5) if n <= 6 else min(16.0, 6.0 + 0.4 * n)
    fig, ax = new_figure(ax, size=(width, 4.2))
    labels = labels or [s["scenario"] for s in summaries]
    x = np.arange(n)
    bottom = np.zeros(n)
    width = 0.6 if n < 12 else 0.8
    for name in OUTCOMES:
        share = np.array([s["outcomes"][name]["share"] for s in summaries]) * 100
        lo = np.array([s["outcomes"][name]["ci95"][0] for s in summaries]) * 100
        hi = np.array([s["outcomes"][name]["ci95"][1] for s in summaries]) * 100
        ax.bar(x, share, width, bottom=bottom, color=OUTCOME_COLOURS[name],
               label=names[name], edgecolor="white", linewidth=0.5)
        centre = bottom + share / 2
        # Intervals under half a point would draw as a stray dash: leave them out.
        shown = (hi - lo) >= 0.5
        ax.errorbar(x[shown], centre[shown],
                    yerr=[np.maximum(share - lo, 0)[shown], np.maximum(hi - share, 0)[shown]],
                    fmt="none", ecolor=MARK_COLOUR, elinewidth=1, capsize=3 if n < 12 else 1.5)
        if n <= 8:
            for xi, c, s, l, h in zip(x, centre, share, lo, hi):
                if s >= 4:
                    text = f"{s:.1f}%" if n > 1 else f"{s:.1f}% ({l:.1f}-{h:.1f})"
                    ax.text(xi + width / 2 + 0.03, c, text, va="center", ha="left", fontsize=8)
        bottom += share
    widest = max(len(str(lb)) for lb in labels)
    rotate = widest > 14 or (n > 4 and widest > 6) or n > 12
    ticks = [wrap_words(str(lb), 18) for lb in labels]
    if n <= 8:  # shares too small to label inside their segment are named under the bar
        ticks = [tick + "".join(f"\n{names[o].lower()} {share:.1f}%" for o, share in
                                small_shares(s)) for tick, s in zip(ticks, summaries)]
    ax.set_xticks(x, ticks, rotation=30 if rotate else 0, ha="right" if rotate else "center")
    ax.set_xlim(-0.6, n - 0.4 + (0.25 if n > 1 else 0.6) * (n <= 8))
    ax.set_ylim(0, 100)
    pct_axis(ax)
    ax.set_ylabel("Share of simulated worlds")
    ax.set_xlabel(xlabel)
    runs = sorted({s["runs"] for s in summaries})
    seeds = sorted({s["seed"] for s in summaries})
    head = title or (f"{w.Meeting} outcomes" if n > 1
                     else f"{w.Meeting} outcomes: {summaries[0]['scenario']}")
    ax.set_title(f"{head}\n{'/'.join(f'{r:,}' for r in runs)} worlds per bar, seed "
                 f"{'/'.join(map(str, seeds))}; error bars: 95% Wilson intervals", fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return fig


def small_shares(summary: dict[str, Any], below: float = 4.0) -> list[tuple[str, float]]:
    """(outcome, share in %) of the outcomes above 0 and below ``below`` % of a summary: the
    ones whose stacked segment is too thin to carry its label."""
    out = []
    for o in OUTCOMES:
        share = summary["outcomes"][o]["share"] * 100
        if 0 < share < below:
            out.append((o, share))
    return out


TERMS_HEADROOM = 2.0
"""The terms panels' y-axis is this many times the tallest bar: the bars fill the lower half,
and the marks' labels (caps, ideal points) the upper half, where no bar is."""

CAP_LABEL_ROWS = (0.57, 0.69)
"""Heights (axes fraction, above the bars) of the cap labels' rows, alternating between caps."""


@closes_on_error
def terms(results: RunResults, ax=None, *, issues: Sequence[str] | None = None, bins: int = 40):
    """Per issue, the distribution of agreed terms (and ceasefire packages) with reference marks.

    One panel per issue: a histogram of the agreed value over worlds that reached agreement
    (and, stacked on it in its own colour, the ceasefire package where talks ended in one), each
    principal's ideal point (triangle, with its 5-95% range when uncertain), red lines (dashed,
    the forbidden side shaded), guarantor caps (dash-dot, named above the bars on the side
    with room; an uncertain offer's 5-95% range hatched, with its own legend key), the status
    quo (dotted) and the Nash point (star). The marks are ``results.marks``, computed when the run was made (see
    ``negotiation_sim.results.marks``); without them only the histograms are drawn.

    Args:
        results: a run's tables.
        ax: one Axes per issue (a sequence), or None for a new figure.
        issues: which issues (default all, in scenario order).
        bins: histogram bins over [0, 1].

    Returns:
        The matplotlib Figure.
    """
    issues = list(issues or results.issues)
    fig, axes = panels(len(issues), ax)
    sc = results.scenario
    marks = results.marks or {}
    colours = _actor_colours(results)
    runs = results.sample
    n = len(runs)
    # Bins centred on multiples of 1/bins, so round values (a red line at 0.85, a status quo
    # at 0.8) sit in the middle of a bar rather than on an edge.
    half = 0.5 / bins
    edges = np.linspace(-half, 1 + half, bins + 2)
    package = _package(results)
    for axk, issue in zip(axes, issues):
        col = runs[f"terms.{issue}"].to_numpy()
        stacks, colors, labels = [], [], []
        for outcome in ("agreement", "ceasefire"):
            mask = (runs["outcome"] == outcome).to_numpy() & ~np.isnan(col)
            stacks.append(col[mask])
            colors.append(OUTCOME_COLOURS[outcome])
            labels.append("Agreed terms" if outcome == "agreement" else package)
        weights = [np.full(len(s), 100.0 / max(n, 1)) for s in stacks]
        # one filled outline per outcome, not one patch per bar: the same bars, drawn in a
        # fraction of the time (the explorer redraws this figure on every rerun)
        axk.hist(stacks, bins=edges, weights=weights, stacked=True, color=colors, label=labels,
                 histtype="stepfilled", edgecolor="white", linewidth=0.3)
        headroom(axk, TERMS_HEADROOM)  # room above the bars for the marks
        axk.set_ylabel("% of worlds")
        if issue in marks:
            _mark_issue(axk, marks[issue], colours, results)
        spec = sc.issues[issue] if sc is not None else None
        issue_axis(axk, spec.label("low") if spec else "0", spec.label("high") if spec else "1",
                    issue)
        agreed = stacks[0]
        note = (f"agreed in {len(agreed) / max(n, 1):.0%} of worlds; median {np.median(agreed):.2f}, "
                f"5-95% {np.quantile(agreed, 0.05):.2f}-{np.quantile(agreed, 0.95):.2f}"
                if len(agreed) else "no world reached agreement")
        axk.set_title(f"{issue}: {note}", fontsize=9, loc="left")
    uncertain_cap = any(hi - lo > 1e-9 for m in marks.values() for _, _, lo, hi in m.caps)
    handles, labels = _terms_legend(axes[0], colours, results, with_marks=bool(marks),
                                    uncertain_cap=uncertain_cap)
    fig.legend(handles, labels, loc="outside lower center", ncols=3, frameon=False, fontsize=8)
    fig.suptitle(f"Terms by issue\n{results.caption}", fontsize=10)
    return fig


def _actor_colours(results: RunResults) -> dict[str, str]:
    return {a: ACTOR_COLOURS[i % len(ACTOR_COLOURS)] for i, a in enumerate(results.actors)}


def _mark_issue(ax, m: IssueMarks, colours: dict[str, str], results: RunResults) -> None:
    import matplotlib.transforms as mtransforms

    trans = mtransforms.blended_transform_factory(ax.transData, ax.transAxes)
    for op_actor, op, value in m.red_lines:
        c = colours.get(op_actor, MARK_COLOUR)
        ax.axvline(value, color=c, linestyle="--", linewidth=1.2)
        span = (value, 1.02) if op in ("<=", "<") else (-0.02, value)
        ax.axvspan(*span, color=c, alpha=0.07, linewidth=0)
    # Guarantors with the same cap share one line. Each label touches its own line on the side
    # with more room before the next cap (or the axis edge), so with caps close together no
    # label sits between two lines where it could name either.
    by_value: dict[tuple, list[str]] = {}
    for gid, mid, lo, hi in m.caps:
        by_value.setdefault((round(mid, 6), round(lo, 6), round(hi, 6)), []).append(
            results.name_of(gid))
    lines = sorted(by_value.items())
    mids = [key[0] for key, _ in lines]
    for i, ((mid, lo, hi), names) in enumerate(lines):
        if hi - lo > 1e-9:  # an uncertain offer: its 5-95% range as a hatched band
            ax.axvspan(lo, hi, facecolor="none", edgecolor=MARK_COLOUR, hatch="////",
                       linewidth=0, alpha=0.35)
        ax.axvline(mid, color=MARK_COLOUR, linestyle="-.", linewidth=1)
        room_left = mid - (mids[i - 1] if i > 0 else 0.0)
        room_right = (mids[i + 1] if i + 1 < len(mids) else 1.0) - mid
        left = room_left >= room_right
        ax.annotate("cap: " + ", ".join(names), (mid, CAP_LABEL_ROWS[i % 2]), xycoords=trans,
                    bbox=dict(facecolor="white", edgecolor="none", alpha=0.75, pad=0.6),
                    textcoords="offset points", xytext=(-3 if left else 3, 0),
                    ha="right" if left else "left", va="center", fontsize=7, color="#444444")
    ax.axvline(m.status_quo, color=MARK_COLOUR, linestyle=":", linewidth=1.3)
    for i, (aid, (lo, mid, hi)) in enumerate(m.ideal.items()):
        y = 0.90 - 0.1 * i
        c = colours.get(aid, MARK_COLOUR)
        if hi - lo > 1e-9:
            ax.plot([lo, hi], [y, y], color=c, linewidth=2, transform=trans, alpha=0.6)
        ax.plot([mid], [y], marker="v", markersize=8, color=c, transform=trans, clip_on=False,
                linestyle="none")
        left = mid > 0.5  # write the name on the side with room
        ax.annotate(results.name_of(aid), (mid, y), xycoords=trans, textcoords="offset points",
                    xytext=(-8 if left else 8, 0), ha="right" if left else "left",
                    va="center", fontsize=8, color=c)
    if m.nash is not None:
        ax.plot([m.nash], [0.9], marker="*", markersize=12, color=MARK_COLOUR, transform=trans,
                linestyle="none", markeredgecolor="white")


def _package(results) -> str:
    """The ceasefire package's legend entry, in the run's words ("Ceasefire package")."""
    return f"{words_of(results).outcome('ceasefire')} package"


def _terms_legend(ax, colours, results: RunResults, *, with_marks: bool,
                  uncertain_cap: bool = False):
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [Patch(color=OUTCOME_COLOURS["agreement"]), Patch(color=OUTCOME_COLOURS["ceasefire"])]
    labels = ["Agreed terms", _package(results)]
    if not with_marks:
        return handles, labels
    for aid in results.principals:
        c = colours.get(aid, MARK_COLOUR)
        handles.append(Line2D([], [], marker="v", color=c, linestyle="none", markersize=8))
        labels.append(f"{results.name_of(aid)} ideal (5-95% range)")
        handles.append(Line2D([], [], color=c, linestyle="--"))
        labels.append(f"{results.name_of(aid)} red line (shaded: excluded)")
    handles.append(Line2D([], [], color=MARK_COLOUR, linestyle="-."))
    labels.append("Guarantor cap (median offer)" if uncertain_cap else "Guarantor cap")
    if uncertain_cap:  # the hatch's own key, as it is drawn: only where an offer is uncertain
        handles.append(Patch(facecolor="none", edgecolor=MARK_COLOUR, hatch="////",
                             linewidth=0, alpha=0.35))
        labels.append("Uncertain cap: 5-95% of offers")
    handles += [Line2D([], [], color=MARK_COLOUR, linestyle=":"),
                Line2D([], [], marker="*", color=MARK_COLOUR, linestyle="none", markersize=11)]
    labels += ["Status quo", "Nash point (true reservations)"]
    return handles, labels


@closes_on_error
def utilities(results: RunResults, ax=None):
    """Per actor, utility at the outcome by outcome (box: quartiles, whiskers: 5-95%), against
    a principal's value of war in the round its world ended (grey band: its 5-95% range over
    worlds; line: median): the value each outcome is compared with, after pressure and events.

    Returns:
        The matplotlib Figure.
    """
    actors = results.actors
    fig, ax = new_figure(ax, size=(7.5, 1.3 + 1.25 * len(actors)))
    runs = results.sample
    present = [o for o in OUTCOMES if (runs["outcome"] == o).any()]
    step = 0.8 / max(len(present), 1)
    for i, actor in enumerate(actors):
        base = len(actors) - 1 - i  # first actor on top
        res = _reservations(results, actor)
        if res is not None:
            lo, mid, hi = np.quantile(res, [0.05, 0.5, 0.95])
            ax.fill_betweenx([base - 0.45, base + 0.45], lo, max(hi, lo + 0.002), color="#bbbbbb",
                             alpha=0.45, linewidth=0)
            ax.plot([mid, mid], [base - 0.45, base + 0.45], color=MARK_COLOUR, linewidth=1.5)
        for j, outcome in enumerate(present):
            vals = runs.loc[runs["outcome"] == outcome, f"utility.{actor}"].dropna().to_numpy()
            if not len(vals):
                continue
            y = base + 0.4 - step * (j + 0.5)
            if np.ptp(vals) < 1e-6:  # one value (a fixed ceasefire package): a box would vanish
                ax.plot([vals[0]], [y], marker="D", markersize=7, linestyle="none",
                        color=OUTCOME_COLOURS[outcome], markeredgecolor=MARK_COLOUR,
                        markeredgewidth=0.6)
                continue
            bp = ax.boxplot(vals, positions=[y], widths=step * 0.8, orientation="horizontal",
                            whis=(5, 95), showfliers=False, patch_artist=True,
                            manage_ticks=False)
            for box in bp["boxes"]:
                box.set(facecolor=OUTCOME_COLOURS[outcome], edgecolor=MARK_COLOUR, linewidth=0.6)
            for part in ("whiskers", "caps", "medians"):
                for line in bp[part]:
                    line.set(color=MARK_COLOUR, linewidth=0.8)
    principals = set(results.principals)

    def tick(a: str) -> str:
        if a in principals:
            return results.name_of(a)
        role = results.scenario.actors[a].role if results.scenario is not None else "non-principal"
        return f"{results.name_of(a)}\n({role}: outcomes\nwith a text only)"

    ax.set_yticks(range(len(actors)), [tick(a) for a in reversed(actors)])
    ax.set_ylim(-0.55, len(actors) - 0.45)
    ax.set_xlim(0, 1)
    ax.set_xlabel("Utility at the outcome, per round (1 = the actor's own ideal text)")
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=OUTCOME_COLOURS[o], edgecolor=MARK_COLOUR, linewidth=0.6)
               for o in present]
    w = words_of(results)
    labels = [w.outcome(o) for o in present]
    handles += [Line2D([], [], color=MARK_COLOUR), Patch(color="#bbbbbb", alpha=0.45)]
    labels += [f"Value of {w.no_deal} at the end (median)",
               f"Value of {w.no_deal} at the end, 5-95%"]
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False,
              fontsize=8)
    ax.set_title(f"Utility at the outcome against the value of {w.no_deal}\n{results.caption}; "
                 "boxes: quartiles, whiskers: 5-95%", fontsize=10)
    return fig


def _reservations(results: RunResults, actor: str) -> np.ndarray | None:
    """A principal's value of war per world in the round its world ended (results written
    before that column existed: its drawn value, before pressure), if it has one."""
    for col in (f"war.{actor}", f"input.actors.{actor}.reservation"):
        if col in results.sample:
            values = results.sample[col].to_numpy()
            values = values[~np.isnan(values)]
            if values.size:
                return values
    sc = results.scenario
    if sc is not None and actor in sc.actors and sc.actors[actor].role == "principal":
        return np.array([float(sc.actors[actor].reservation)])
    return None


@closes_on_error
def formats(results: RunResults, ax=None):
    """How often each summit format was held, split by the outcome it ended in.

    One bar per format (in the order the mediator tries them) plus one for no summit; heights
    are shares of all worlds, so the bars add up to 100%.

    Returns:
        The matplotlib Figure.
    """
    runs = results.sample
    names = list(results.summary.get("formats", {})) or sorted(runs["format"].dropna().unique())
    groups = names + [None]
    fig, ax = new_figure(ax, size=(max(5.5, 1.3 * len(groups) + 3), 4.0))
    n = max(len(runs), 1)
    x = np.arange(len(groups))
    bottom = np.zeros(len(groups))
    fmt = runs["format"]
    w = words_of(results)
    for outcome in OUTCOMES:
        is_o = runs["outcome"] == outcome
        share = np.array([((fmt.isna() if g is None else fmt == g) & is_o).sum() for g in groups])
        share = share * 100.0 / n
        ax.bar(x, share, 0.6, bottom=bottom, color=OUTCOME_COLOURS[outcome],
               label=w.outcome(outcome), edgecolor="white", linewidth=0.5)
        bottom += share
    for xi, total in zip(x, bottom):
        ax.text(xi, total + 1.5, f"{total:.1f}%", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, [*names, w.in_sentence("no_summit")])
    ax.set_ylim(0, 108)
    pct_axis(ax)
    ax.set_ylabel("Share of simulated worlds")
    ax.set_xlabel(f"{w.Meeting} format held")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, title="Ended in",
              fontsize=8, title_fontsize=8)
    ax.set_title(f"{w.Meeting} formats and how they ended\n{results.caption}", fontsize=10)
    return fig


# What began a first spell of peace, by the summary's key (``summary["durability"]``).
FIRST_TEXT = {"agreement": "a settlement", "ceasefire": "a ceasefire"}


@closes_on_error
def durability(results: RunResults, ax=None):
    """The share of first spells of peace still unbroken against days since the first text took
    effect, per kind of that text (a settlement, a ceasefire), with 95% Wilson intervals (from
    ``summary["durability"]``); the y-axis is fitted to the data.

    Returns:
        The matplotlib Figure; raises ValueError when the run did not follow signed texts.
    """
    from negotiation_sim.results.summary import wilson_interval

    dur = results.summary.get("durability")
    if not dur:
        raise ValueError("this run did not follow signed texts (set durability.rounds in the "
                         "scenario)")
    fig, ax = new_figure(ax, size=(7.5, 4.2))
    days = float((results.summary.get("rounds") or {}).get("round_days") or
                 (results.scenario.protocol.round_days if results.scenario else 14.0))
    drawn, lowest = False, 1.0
    first = {**FIRST_TEXT, "ceasefire": indefinite(words_of(results).in_sentence("ceasefire"))}
    for name, d in dur.items():
        if not d:
            continue
        holding = np.asarray(d["holding"])
        n = d["signed"]
        x = np.arange(holding.size) * days
        ci = d.get("holding_ci95") or [wilson_interval(h * n, n) for h in holding]
        lo, hi = np.array(ci).T
        lowest = min(lowest, float(lo.min()))
        colour = OUTCOME_COLOURS[name]
        ax.step(x, 100 * holding, where="post", color=colour, linewidth=2,
                label=f"began by {first.get(name, name)} ({n:,} worlds)")
        ax.fill_between(x, 100 * lo, 100 * hi, step="post", color=colour, alpha=0.25,
                        linewidth=0)
        drawn = True
    if not drawn:
        raise ValueError("no world signed a text: nothing to follow")
    # Fitted to the data: from a round 5 points below the lowest band (0 at most) to 100.
    bottom = max(0.0, 5 * np.floor(100 * lowest / 5) - 5)
    ax.set_ylim(bottom, 100.5)
    pct_axis(ax)
    ax.set_xlabel("Days since the first text took effect")
    ax.set_ylabel("First spells of peace still unbroken")
    ax.legend(loc="lower left", frameon=False)
    ax.set_title(f"Will what is signed hold?\n{results.caption}; bands: 95% Wilson intervals",
                 fontsize=10)
    return fig


@closes_on_error
def meetings(results: RunResults | dict[str, Any], ax=None):
    """The cumulative share of worlds with talks (a session of every principal), with a
    leaders' meeting and with a settlement or ceasefire taking effect, by the end of each round of
    the calendar, with 95% Wilson bands (from ``summary["meetings"]``). The x-axis is rounds,
    or dates when the scenario has ``protocol.start`` (each round's end: start + r x round_days).

    Args:
        results: a run's results, or its summary (the ``negsim run --json`` shape).
        ax: matplotlib Axes to draw on; a new figure when omitted.

    Returns:
        The matplotlib Figure; raises ValueError for a summary written before meetings were
        summarised.
    """
    import datetime

    from negotiation_sim.results.summary import wilson_interval

    summary = results if isinstance(results, dict) else results.summary
    m = summary.get("meetings")
    if not m:
        raise ValueError("these results hold no meetings (a summary written before they were "
                         "summarised): run the scenario again")
    fig, ax = new_figure(ax, size=(7.5, 4.2))
    n, days = int(summary["runs"]), float(m["round_days"])
    rounds = len(m["by_round"]["talks"])
    # 0, the end of each round, and half a round more: the last round's level stays visible
    at = [*range(rounds + 1), rounds + 0.5]
    x: Any = np.array(at)
    if m.get("start"):
        start = datetime.date.fromisoformat(m["start"])
        x = np.array([start + datetime.timedelta(days=r * days) for r in at])
    for name, words in meeting_labels(summary).items():
        by_round = m["by_round"][name]
        share = np.array([0.0, *by_round, by_round[-1]])
        lo, hi = np.array([wilson_interval(s * n, n) for s in share]).T
        e = m[name]
        ax.step(x, 100 * share, where="post", color=MEETING_COLOURS[name],
                linestyle=MEETING_STYLES[name], linewidth=2,
                label=f"{words}: {e['share']:.1%} ({e['ci95'][0]:.1%}–{e['ci95'][1]:.1%})")
        ax.fill_between(x, 100 * lo, 100 * hi, step="post", color=MEETING_COLOURS[name],
                        alpha=0.18, linewidth=0)
    ax.set_ylim(0, 100)
    ax.set_xlim(x[0], x[-1])
    pct_axis(ax)
    ax.set_ylabel("Share of simulated worlds, cumulative")
    if m.get("start"):
        import matplotlib.dates as mdates

        locator = mdates.AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        ax.set_xlabel(f"Date (round 1 opens {m['start']}; each round {days:g} days)")
    else:
        ax.set_xlabel(f"Round (each {days:g} days; a step at r: by the end of round r)")
    ax.legend(loc="upper left", frameon=False, fontsize=8,
              title="By the horizon (95% interval)", title_fontsize=8)
    ax.set_title(f"Meetings over the calendar: {m['sessions']['mean']:.2f} sessions per world\n"
                 f"{caption(summary['scenario'], n, summary['seed'])}; bands: 95% Wilson "
                 "intervals", fontsize=10)
    return fig
