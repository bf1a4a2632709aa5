"""Events between rounds, carried out on the live worlds (the schema is ``config.events``).

Before every round from round 2 on, in file order, each event that fires changes its targets in
every world still negotiating and in the signed texts being followed (``SummitModel.between_rounds``
hands both ensembles over), except that nobody fights where a text holds: shocks skip the signed
texts and the worlds with a ceasefire in force (``core.durability``):

- a shock draws one value ``z`` per world from its distribution; target ``k`` moves by
  ``loading_k * z``;
- a scheduled event happens, once, in the worlds where a uniform draw falls below its
  probability, and sets or adds its values there.

Every change is public: a change to a value of war moves the public shift, so beliefs move with
it; setting a value of war makes it common knowledge. Values of war stay on ``[0, 1]``. What a
target is, where its numbers live and how they change comes from the one list of targets,
``config.events.TARGETS``: this module compiles each path to its entry and rows (``Change``) and
carries the change out as the entry says.

Randomness: event ``e`` of a chunk draws, each time it fires, ``BLOCK`` values per block from the
block's own stream ``SeedSequence(seed, spawn_key=(point, block, 3, e))``, whether or not the
block's worlds are still live, so a world's draws depend only on the seed, the point, its index
and the event: never on chunking or executors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from negotiation_sim.config.defaults import BLOCK
from negotiation_sim.config.distributions import draw_blocks
from negotiation_sim.config.events import EventTarget, Shock, placeholder_ids, target_of
from negotiation_sim.core.columns import writable
from negotiation_sim.core.state import Ensemble

if TYPE_CHECKING:
    from negotiation_sim.core.model import SummitModel

EVENT_STREAM = 3  # spawn_key[2] of event streams (0: inputs, 1: walk-outs, 2: Mesa's rng)


@dataclass(frozen=True)
class Change:
    """One target of one event, compiled: what it changes (``config.events.TARGETS``), at
    which rows of its array, and how.

    Attributes:
        target: the registry's entry for the path.
        rows: the rows of ``target.array`` (one per placeholder of its pattern).
        mode: ``load`` (a shock: the target moves by ``loading`` x the draw), ``set`` or
            ``add`` (a scheduled event: the per-world value ``slot`` of its ``set`` or ``add``,
            ``core.worlds.ScheduledValues``).
    """

    target: EventTarget
    rows: tuple[int, ...]
    mode: Literal["load", "set", "add"]
    loading: float = 0.0
    slot: int = 0


class EventRunner:
    """The scenario's events, compiled for one chunk of worlds."""

    def __init__(self, model: SummitModel, seed: int, point: int) -> None:
        self.model = model
        sc = model.spec
        first = model.first_world // BLOCK
        blocks = range(first, first + -(-model.n_worlds // BLOCK))
        self.events = list(sc.events)
        ids = placeholder_ids({a: actor.role for a, actor in sc.actors.items()}, sc.issue_ids)
        self.changes = [_compile(e, ids) for e in self.events]
        self.rngs = [[np.random.Generator(np.random.PCG64(np.random.SeedSequence(
            seed, spawn_key=(point, b, EVENT_STREAM, i)))) for b in blocks]
            for i in range(len(self.events))]
        self.width = len(blocks) * BLOCK  # the chunk's worlds, in whole blocks

    def _block_draws(self, i: int, sample) -> np.ndarray:
        """One firing's draws of event ``i``: ``sample(rng, BLOCK)`` per block, every block (the
        live worlds of each ensemble pick theirs out)."""
        return np.concatenate([sample(g, BLOCK) for g in self.rngs[i]])

    def _index(self, ensemble: Ensemble) -> np.ndarray:
        """Indices within the chunk of the worlds of ``ensemble``."""
        return ensemble.params.world - self.model.first_world

    def apply(self, rnd: int, talks: Ensemble, signed: Ensemble | None = None) -> None:
        """Fire every event due before round ``rnd``: each draws once, then changes its targets
        in the worlds of the talks and of the signed texts being followed (``signed``: the
        targets they carry, ``EventTarget.followed``)."""
        ensembles = [e for e in (talks, signed) if e is not None]
        for i, event in enumerate(self.events):
            if isinstance(event, Shock):
                if (rnd - 1) % event.every:
                    continue
                # Every block draws its uniforms; only the live worlds' are transformed.
                need = np.zeros(self.width, dtype=bool)
                for ensemble in ensembles:
                    need[self._index(ensemble)] = True
                need = np.flatnonzero(need)
                full = np.empty(self.width)
                full[need] = draw_blocks(event.draw, self.rngs[i], BLOCK, at=need)
            elif rnd == event.round:
                full = self._block_draws(i, lambda g, k: g.random(k))
            else:
                continue
            for ensemble in ensembles:
                if ensemble.n:
                    self._fire(rnd, i, full[self._index(ensemble)], ensemble,
                               followed=ensemble is not talks)

    def _fire(self, rnd: int, i: int, here: np.ndarray, ensemble: Ensemble,
              followed: bool) -> None:
        """Event ``i``'s changes in ``ensemble``, given its draws there (``here``)."""
        event, m = self.events[i], self.model
        if isinstance(event, Shock):
            if followed:
                return  # a signed text holds: nobody fights, nothing shocks
            # A ceasefire in force stops the fighting, and with it the battlefield's shocks.
            calm = ensemble.state.cease
            where = np.ones(here.shape, dtype=bool) if calm is None else ~calm
        else:
            values = ensemble.params.events[i]
            where = here < values.probability
        for c in self.changes[i]:
            if c.mode == "load":
                amount = c.loading * here
            else:
                amount = (values.set if c.mode == "set" else values.add)[c.slot]
            self._change(c, ensemble, where, amount, followed)
        if m.trace_enabled and not followed:
            m.history.append({"stage": "event", "round": rnd, "event": event.name,
                              "world": self._index(ensemble), "fired": where.copy(),
                              "reservation": ensemble.state.reservation.copy()})

    def _change(self, c: Change, ensemble: Ensemble, where: np.ndarray,
                amount: np.ndarray, followed: bool = False) -> None:
        """Change ``c``'s target in the worlds ``where`` of ``ensemble`` by ``amount``
        (``followed``: the signed texts being followed, which keep every parameter so that a
        broken text's world rejoins the talks as they are now)."""
        t = c.target
        if t.changes == "value_of_war":
            i = c.rows[0]
            if c.mode == "set":
                ensemble.set_values(i, where, amount)
            else:
                delta = np.zeros_like(ensemble.state.reservation)
                delta[i] = np.where(where, amount, 0.0)
                ensemble.move_values(delta)
            return
        prm = ensemble.params
        array = writable(getattr(prm, t.array))  # a constant becomes an array of its own
        setattr(prm, t.array, array)
        now = array[c.rows]
        new = _bounded(amount if c.mode == "set" else now + amount, t.low, t.high)
        array[c.rows] = np.where(where, new, now)
        if t.then == "sum_pressure":
            self.model.refresh_pressure(ensemble)
        elif t.then == "bound_texts" and not followed:
            self.model.rebound()  # a world rejoining the talks is rebounded then


def _compile(event, ids: dict[str, list[str]]) -> list[Change]:
    """The changes of one event, in file order (a scheduled event's ``set``, then ``add``)."""
    if isinstance(event, Shock):
        items = [(p, "load", v, 0) for p, v in event.effect.items()]
    else:
        items = ([(p, "set", 0.0, j) for j, p in enumerate(event.set)]
                 + [(p, "add", 0.0, j) for j, p in enumerate(event.add)])
    out = []
    for path, mode, loading, slot in items:
        target, rows = target_of(path, ids)  # validation refused every other path
        out.append(Change(target, rows, mode, loading, slot))
    return out


def _bounded(value: np.ndarray, low: float | None, high: float | None) -> np.ndarray:
    if low is not None and high is not None:
        return np.clip(value, low, high)
    if low is not None:
        return np.maximum(value, low)
    return value if high is None else np.minimum(value, high)
