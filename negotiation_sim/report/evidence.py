"""The report's sections on what the record taught and where the variance comes from.

``negsim run --out DIR`` writes ``conditioning.json`` (a scenario with a ``history:``:
``api.condition``) and, with ``--variance``, ``variance.json`` (``api.variance``) beside the
summary; ``report.html`` then shows them as tables (``evidence_html``). A results directory
without them gets no section.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

CONDITIONING_FILE = "conditioning.json"
VARIANCE_FILE = "variance.json"


def _e(text: Any) -> str:
    return html.escape(str(text))


def _read(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def variance_html(split: dict[str, Any], words: Any = None) -> str:
    """Each headline share's variance split between the drawn inputs and the process (the
    outcomes a scenario names in its words)."""
    from negotiation_sim.config.words import words_of

    w = words_of(words)
    rows = []
    for name, r in split["shares"].items():
        cells = ("<td class='num'>–</td>" * 3 if r is None else
                 f"<td class='num'>{r['mean']:.3f}</td><td class='num'>{r['inputs']:.0%}</td>"
                 f"<td class='num'>{r['process']:.0%}</td>")
        rows.append(f"<tr><td>{_e(w.shown(name))}</td>{cells}</tr>")
    return (f"<h3>Where the variance over worlds comes from</h3><p class='muted'>Law of total "
            f"variance over {split['runs']:,} worlds and {len(split['inputs'])} drawn inputs: "
            "Var(Y) = Var(E[Y | inputs]) + E[Var(Y | inputs)], the second by nearest neighbours "
            "in the inputs (Devroye et al. 2018); with many inputs the inputs' part is a lower "
            "bound (docs/model.md).</p><table id='variance'><tr><th>share of worlds</th>"
            "<th>mean</th><th>from the drawn inputs</th><th>from events and choices</th></tr>"
            f"{''.join(rows)}</table>")


def posterior_html(got: dict[str, Any]) -> str:
    """Each drawn input's prior beside its posterior given the record."""
    rows = []
    for r in got["posterior"]:
        a, b = r["prior"], r["posterior"]
        rows.append(f"<tr><td>{_e(r['input'])}</td><td class='num'>{a['mean']:.3f}</td>"
                    f"<td class='num'>{a['q'][0]:.3f} – {a['q'][-1]:.3f}</td>"
                    f"<td class='num'>{b['mean']:.3f}</td>"
                    f"<td class='num'>{b['q'][0]:.3f} – {b['q'][-1]:.3f}</td></tr>")
    return (f"<h3>What the record taught the drawn inputs</h3><p class='muted'>The worlds "
            f"weighted by their agreement with the {got['observations']} observations known on "
            f"{_e(got['day'])}: {got['ess']:,.0f} effective worlds of {got['worlds']:,} "
            f"(mismatch weight {got['mismatch']:g}; docs/model.md, conditioning on the "
            "record).</p><table id='posterior'><tr><th>input</th><th>prior mean</th>"
            "<th>prior 5–95%</th><th>posterior mean</th><th>posterior 5–95%</th></tr>"
            f"{''.join(rows)}</table>")


def evidence_html(results_dir: str | Path, words: Any = None) -> str:
    """The sections a run directory's conditioning.json and variance.json make ('' when
    neither is there); ``words``: what names the outcomes (``config.words.words_of``)."""
    base = Path(results_dir)
    parts = []
    if (got := _read(base / CONDITIONING_FILE)) is not None:
        parts.append(posterior_html(got))
    if (split := _read(base / VARIANCE_FILE)) is not None:
        parts.append(variance_html(split, words))
    return "".join(parts)
