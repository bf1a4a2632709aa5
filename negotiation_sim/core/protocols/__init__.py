"""Negotiation protocols: how the rounds of a summit are played.

A protocol is selected by ``protocol.kind`` in the scenario: one module per protocol, each with
its own state class and a ``play_round`` that returns a ``RoundResult`` (``base``). The calendar
(who comes to the table), pressure and the ending of worlds belong to the model
(``SummitModel.step``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from negotiation_sim.core.protocols.alternating import AlternatingOffersProtocol
from negotiation_sim.core.protocols.base import Protocol, RoundResult
from negotiation_sim.core.protocols.expected_utility import ExpectedUtilityProtocol
from negotiation_sim.core.protocols.mediated import MediatedProtocol

if TYPE_CHECKING:
    from negotiation_sim.core.model import SummitModel

__all__ = ["PROTOCOLS", "Protocol", "RoundResult", "make_protocol"]

PROTOCOLS: dict[str, type[Protocol]] = {
    "mediated": MediatedProtocol,
    "alternating_offers": AlternatingOffersProtocol,
    "expected_utility": ExpectedUtilityProtocol,
}


def make_protocol(kind: str, model: SummitModel) -> Protocol:
    """The protocol object for ``protocol.kind``."""
    try:
        cls = PROTOCOLS[kind]
    except KeyError:
        raise NotImplementedError(
            f"protocol '{kind}' is not available (available: {', '.join(PROTOCOLS)})"
        ) from None
    return cls(model)
