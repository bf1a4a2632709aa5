"""Events between rounds, carried out on the live worlds (the schema is ``config.events``).

Before every round from round 2 on, in file order, each event that fires changes its targets in
every world still negotiating:

- a shock draws one value ``z`` per world from its distribution; target ``k`` moves by
  ``loading_k * z``;
- a scheduled event happens, once, in the worlds where a uniform draw falls below its
  probability, and sets or adds its values there.

Every change is public: a change to a value of war moves the public shift, so beliefs move with
it; setting a value of war makes it common knowledge. Values of war stay on ``[0, 1]``.

Randomness: event ``e`` of a chunk draws, each time it fires, ``BLOCK`` values per block from the
block's own stream ``SeedSequence(seed, spawn_key=(point, block, 3, e))``, whether or not the
block's worlds are still live, so a world's draws depend only on the seed, the point, its index
and the event: never on chunking or executors.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from negotiation_sim.config.defaults import BLOCK
from negotiation_sim.config.distributions import draw_blocks
from negotiation_sim.config.events import Shock
from negotiation_sim.core.columns import writable

if TYPE_CHECKING:
    from negotiation_sim.core.model import SummitModel

EVENT_STREAM = 3  # spawn_key[2] of event streams (0: inputs, 1: walk-outs, 2: Mesa's rng)


@dataclass
class Target:
    """One thing an event changes: where it lives in the model, and how much."""

    path: str
    kind: str  # reservation | walkout | concession | pressure | backlash | offer | ceasefire
    index: tuple[int, ...]  # row indices into the array it changes
    mode: str  # add | set | load (shock loading)
    amount: Any  # float loading, or the dotted path of a per-world value in params.events


class EventRunner:
    """The scenario's events, compiled for one chunk of worlds."""

    def __init__(self, model: SummitModel, seed: int, point: int) -> None:
        self.model = model
        sc = model.spec
        first = model.first_world // BLOCK
        blocks = range(first, first + -(-model.n_worlds // BLOCK))
        self.events = list(sc.events)
        self.targets = [self._compile(i, e) for i, e in enumerate(self.events)]
        self.rngs = [[np.random.Generator(np.random.PCG64(np.random.SeedSequence(
            seed, spawn_key=(point, b, EVENT_STREAM, i)))) for b in blocks]
            for i in range(len(self.events))]

    def _compile(self, i: int, event) -> list[Target]:
        sc = self.model.spec
        principals, issues = sc.principals, sc.issue_ids
        mediators, guarantors = sc.ids("mediator"), sc.ids("guarantor")
        out = []
        if isinstance(event, Shock):
            items = [(p, "load", v) for p, v in event.effect.items()]
        else:
            items = ([(p, "set", f"events.{i}.set.{p}") for p in event.set]
                     + [(p, "add", f"events.{i}.add.{p}") for p in event.add])
        for path, mode, amount in items:
            parts = path.split(".")
            if parts[0] == "ceasefire":
                out.append(Target(path, "ceasefire", (issues.index(parts[2]),), mode, amount))
                continue
            actor, field = parts[1], parts[2]
            if field in ("reservation", "walkout", "concession"):
                out.append(Target(path, field, (principals.index(actor),), mode, amount))
            elif field == "pressure":
                out.append(Target(path, "pressure", (mediators.index(actor),
                                                     principals.index(parts[3])), mode, amount))
            elif field == "backlash":
                out.append(Target(path, "backlash", (mediators.index(actor),), mode, amount))
            else:  # offer
                out.append(Target(path, "offer", (guarantors.index(actor),
                                                  issues.index(parts[3])), mode, amount))
        return out

    def _block_draws(self, i: int, sample) -> np.ndarray:
        """One firing's draws of event ``i``: ``sample(rng, BLOCK)`` per block, every block (the
        live worlds of each ensemble pick theirs out)."""
        return np.concatenate([sample(g, BLOCK) for g in self.rngs[i]])

    def _live(self, views) -> np.ndarray:
        """Indices within the chunk of the worlds live in some ensemble of ``views``."""
        m = self.model
        live = np.zeros(len(self.rngs[0]) * BLOCK if self.rngs else 0, dtype=bool)
        for view in views:
            with view():
                live[m.live] = True
        return np.flatnonzero(live)

    def apply(self, rnd: int, views=(contextlib.nullcontext,)) -> None:
        """Fire every event due before round ``rnd``: each draws once, then changes its targets
        in the live worlds of every ensemble in ``views`` (context managers that point the
        model at it: the talks, and the signed texts being followed)."""
        m = self.model
        for i, event in enumerate(self.events):
            if isinstance(event, Shock):
                if (rnd - 1) % event.every:
                    continue
                # Every block draws its uniforms; only the live worlds' are transformed.
                need = self._live(views)
                full = np.empty(len(self.rngs[i]) * BLOCK)
                full[need] = draw_blocks(event.draw, self.rngs[i], BLOCK, at=need)
            elif rnd == event.round:
                full = self._block_draws(i, lambda g, k: g.random(k))
            else:
                continue
            for j, view in enumerate(views):
                with view():
                    if m.params.n == 0:
                        continue
                    here = full[m.live]
                    if isinstance(event, Shock):
                        where = np.ones(here.shape, dtype=bool)
                        for t in self.targets[i]:
                            self._change(t, where, t.amount * here)
                    else:
                        where = here < m.params.events[f"events.{i}.probability"]
                        for t in self.targets[i]:
                            self._change(t, where, m.params.events[t.amount])
                    if m.trace_enabled and j == 0:
                        m.history.append({"stage": "event", "round": rnd, "event": event.name,
                                          "world": m.live.copy(), "fired": where.copy(),
                                          "reservation": m.state.reservation.copy()})

    def _change(self, t: Target, where: np.ndarray, amount: np.ndarray) -> None:
        m, prm = self.model, self.model.params
        if t.kind == "reservation":
            i = t.index[0]
            if t.mode == "set":
                m.set_values(i, where, amount)
            else:
                delta = np.zeros_like(m.state.reservation)
                delta[i] = np.where(where, amount, 0.0)
                m.move_values(delta)
            return
        name = {"walkout": "walkout", "concession": "concession", "pressure": "pressure",
                "backlash": "backlash", "offer": "offers", "ceasefire": "ceasefire_terms"}[t.kind]
        array = writable(getattr(prm, name))  # a constant becomes an array of its own
        setattr(prm, name, array)
        now = array[t.index]
        new = amount if t.mode == "set" else now + amount
        if t.kind in ("walkout", "concession", "offer", "ceasefire"):
            new = np.clip(new, 0.0, 1.0)
        elif t.kind == "backlash":
            new = np.maximum(new, 0.0)
        array[t.index] = np.where(where, new, now)
        if t.kind in ("pressure", "backlash"):
            m.refresh_pressure()
        elif t.kind in ("offer", "ceasefire"):
            m.rebound()
