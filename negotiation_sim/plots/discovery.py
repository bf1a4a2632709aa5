"""The figure of a scenario discovery: PRIM's trade-off and the chosen box.

Left: the peeling trajectory, coverage against density, each box coloured by how many inputs it
restricts (pasting steps drawn as triangles), the chosen one ringed and the ``min_share``
density drawn. Right: the chosen box, one row per restricted input, its range in the box over
the range the data span, with its quasi-p-values and a mark where it barely binds.
"""

from __future__ import annotations

from negotiation_sim.analysis.discovery import Discovery
from negotiation_sim.config.words import words_of
from negotiation_sim.plots.style import MARK_COLOUR, SHARE_COLOURS, pyplot, share_labels, wrap


def discovery(found: Discovery, axes=None, *, words=None):
    """Trade-off and box of a ``Discovery``; ``axes``: two Axes, or None for a new figure;
    ``words``: what names the outcome (the results, their scenario: ``config.words.words_of``).

    Returns:
        The matplotlib Figure.
    """
    plt = pyplot()
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.6), layout="constrained",
                                 gridspec_kw={"width_ratios": [1, 1.25]})
    left, right = axes
    fig = left.figure
    try:
        _tradeoff(left, found, words)
        _box(right, found)
    except BaseException:
        plt.close(fig)
        raise
    word = share_labels(words)[found.outcome].lower()
    fig.suptitle(f"Where is {word} likely? PRIM over {found.worlds:,} worlds "
                 f"({'sweep points' if found.kind == 'sweep' else 'drawn inputs'}); "
                 f"{word} in {found.base_share:.0%} of them", fontsize=11)
    return fig


def _tradeoff(ax, found: Discovery, words=None) -> None:
    cov = [b.coverage * 100 for b in found.boxes]
    den = [b.density * 100 for b in found.boxes]
    res = [b.restricted for b in found.boxes]
    ax.plot(cov, den, color="#bbbbbb", lw=0.8, zorder=1)
    steps = found.steps or ["peel"] * len(cov)
    vmax = max(max(res), 1)
    points = None
    for kind, marker, label in (("start", "o", None), ("peel", "o", None),
                                ("paste", "^", "pasting step")):
        at = [i for i, s in enumerate(steps) if s == kind]
        if at:
            drawn = ax.scatter([cov[i] for i in at], [den[i] for i in at],
                               c=[res[i] for i in at], cmap="viridis", s=22 if marker == "o"
                               else 40, marker=marker, zorder=2, vmin=0, vmax=vmax,
                               label=label)
            points = points or drawn
    bar = ax.figure.colorbar(points, ax=ax, pad=0.01)
    bar.set_label("inputs restricted")
    bar.set_ticks(range(0, vmax + 1))
    c = found.box
    ax.scatter([c.coverage * 100], [c.density * 100], s=140, facecolors="none",
               edgecolors=MARK_COLOUR, lw=1.5, zorder=3, label="chosen box")
    ax.axhline(found.min_share * 100, color=SHARE_COLOURS[found.outcome], ls="--", lw=1,
               label=f"density {found.min_share:.0%} (--min-share)")
    ax.set_xlabel(f"coverage: share of {words_of(words).share_word(found.outcome)} worlds in "
                  "the box (%)")
    ax.set_ylabel("density: outcome's share in the box (%)")
    ax.set_xlim(0, 102)
    ax.set_ylim(0, 102)
    ax.legend(loc="lower left", frameon=False, fontsize=8)
    ax.set_title("Peeling trajectory", fontsize=10)


def _box(ax, found: Discovery) -> None:
    box = found.box
    names = list(box.limits)
    ax.set_title(f"Chosen box: coverage {box.coverage:.0%}, density {box.density:.0%}"
                 + ("" if found.reached else f" (no box reaches {found.min_share:.0%})"),
                 fontsize=10)
    if not names:
        ax.text(0.5, 0.5, "no input restricted: the whole space", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
        return
    for row, p in enumerate(names):
        lo, hi = box.limits[p]
        full_lo, full_hi = found.ranges[p]
        span = (full_hi - full_lo) or 1.0
        a, b = (lo - full_lo) / span, (hi - full_lo) / span
        ax.barh(row, 1, left=0, color="#eeeeee", height=0.5)
        ax.barh(row, b - a, left=a, color=SHARE_COLOURS[found.outcome], height=0.5)
        ax.text(0, row - 0.3, f"{full_lo:.3g}", ha="left", va="bottom", fontsize=7,
                color="#666666")
        ax.text(1, row - 0.3, f"{full_hi:.3g}", ha="right", va="bottom", fontsize=7,
                color="#666666")
        ax.text((a + b) / 2, row + 0.3, f"box: {lo:.3g} – {hi:.3g}{_qualities(found, p)}",
                ha="center", va="top", fontsize=8)
    ax.set_yticks(range(len(names)), [wrap(found.labels.get(p, p), 40) for p in names],
                  fontsize=8)
    ax.set_ylim(-0.8, len(names) - 0.2)
    ax.set_xlim(-0.02, 1.02)
    ax.set_xticks([])
    ax.invert_yaxis()
    ax.set_xlabel("each input's range in the data (grey) and in the box (coloured)")


def _qualities(found: Discovery, name: str) -> str:
    """`` (qp 0.001; barely binds)``: what the restriction of ``name`` is worth, if known."""
    r = found.restrictions.get(name)
    if r is None:
        return ""
    sides = [q for q in r.qp if q is not None]
    worst = max(sides) if sides else None
    words = [] if worst is None else ["qp < 0.001" if worst < 0.001 else f"qp {worst:.2g}"]
    if not r.binds:
        words.append("barely binds")
    return f" ({'; '.join(words)})" if words else ""
