"""What every protocol shares: summit formation and the end of talks that fail.

Formation (stage 1): the mediator tries the scenario's formats in order; a principal attends a
format when the text it expects from talks (``opening_text``) is worth more to it than its true
reservation by at least its audience cost for that format (ties attend, as indifferent
responders accept), and that text meets its preconditions. The first format
every principal attends is held. Failed talks (deadline or walk-out) end in the ceasefire
package when every principal values it at least at its true reservation, else in breakdown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from negotiation_sim.core.outcomes import BREAKDOWN, CEASEFIRE, NO_SUMMIT
from negotiation_sim.core.preferences import FEASIBILITY_TOL, utilities
from negotiation_sim.core.worlds import constraint_box

if TYPE_CHECKING:
    from negotiation_sim.core.model import SummitModel


class Protocol:
    """Base class: formation, failure and the working arrays a protocol reads."""

    def __init__(self, model: SummitModel) -> None:
        self.model = model

    # -- stage 1 -------------------------------------------------------------------------
    def opening_text(self) -> np.ndarray:
        """The text principals expect from talks when deciding to attend.

        The Nash text on the true reservations: the settlement that complete information would
        bring (each side knows its own value of war; the mediator's draft converges there as
        overstatements are given up). Where no text is acceptable to all, the utilitarian
        fallback leaves some principal below its reservation, and it stays away.
        """
        m = self.model
        x, _ = m.solver.solve(m.reservation)
        return x

    def form(self) -> None:
        """Decide in every world which format is held, if any; end the others as no_summit."""
        m, prm = self.model, self.model.params
        x0 = self.opening_text()
        gain = utilities(x0, prm.prefs) - m.reservation  # (P, n)
        pre_ok = self._preconditions_met(x0)
        held = np.full(prm.n, -1, dtype=np.int64)
        if m.spec.summit is None:
            held[:] = 0
            attend = np.ones((len(m.formats),) + gain.shape, dtype=bool)
        else:
            # Ties attend, as indifferent responders accept a text.
            surplus = gain[None] - prm.audience.transpose(1, 0, 2)
            attend = (surplus >= -FEASIBILITY_TOL) & pre_ok[None]  # (F, P, n)
            for f in range(len(m.formats)):
                held = np.where((held < 0) & attend[f].all(axis=0), f, held)
        m.held_format[m.live] = held
        if m.trace_enabled:
            m.history.append({"stage": "formation", "text": x0.copy(), "gain": gain.copy(),
                              "preconditions": pre_ok.copy(), "attend": attend.copy(),
                              "held": held.copy()})
        m.finish(held < 0, NO_SUMMIT, 0, value=m.reservation)
        f = np.maximum(held, 0)[None, None]
        m.state["pressure"] = np.take_along_axis(prm.pressure, f, axis=0)[0]
        m.state["backlash"] = np.take_along_axis(prm.backlash, f, axis=0)[0]

    def _preconditions_met(self, x: np.ndarray) -> np.ndarray:
        """``(P, n)``: whether text ``x`` meets each principal's preconditions."""
        m = self.model
        ok = np.ones((len(m.principals), x.shape[1]), dtype=bool)
        for agent in m.principals:
            if agent.spec.preconditions:
                lo, hi = constraint_box(agent.spec.preconditions, m.issues)
                inside = (x >= lo[:, None] - FEASIBILITY_TOL) & (x <= hi[:, None] + FEASIBILITY_TOL)
                ok[agent.index] = inside.all(axis=0)
        return ok

    # -- stage 2 -------------------------------------------------------------------------
    def play_round(self, rnd: int) -> None:
        """Play round ``rnd`` in every working world; end the worlds that end in it."""
        raise NotImplementedError

    def apply_pressure(self) -> None:
        """Mediators present lower (or raise) the pressured principals' value of the war."""
        self.model.state["reservation"] = self.model.reservation - self.model.state["pressure"]

    def walk_chance(self) -> np.ndarray:
        """``(P, n)`` probability that a principal who rejected leaves the talks."""
        prm = self.model.params
        return np.clip(prm.walkout + self.model.state["backlash"], 0.0, 1.0)

    # -- stage 3 -------------------------------------------------------------------------
    def end_talks(self, mask: np.ndarray, rnd: int, walked: np.ndarray) -> None:
        """Worlds in ``mask`` failed in round ``rnd``: ceasefire if all prefer it, else breakdown."""
        m, prm = self.model, self.model.params
        mask = mask & m.open
        if not mask.any():
            return
        m.walked_out[m.params.world[mask & walked] - m.first_world] = True
        if prm.ceasefire is not None:
            value, ok = self.ceasefire_value(rnd, m.reservation)
            m.finish(mask & ok, CEASEFIRE, rnd, text=prm.ceasefire, value=value)
        m.finish(mask, BREAKDOWN, rnd, value=m.reservation)

    def ceasefire_value(self, rnd: int, reservation: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(value (P, n), taken (n,))``: the ceasefire package's worth to each principal if
        talks fail in round ``rnd``, and whether every principal prefers it to ``reservation``.
        The scenario must have a ceasefire."""
        prm = self.model.params
        value = self.model.discount(rnd) * utilities(prm.ceasefire, prm.prefs)
        return value, (value >= reservation - FEASIBILITY_TOL).all(axis=0)
