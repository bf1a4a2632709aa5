"""negsim sweep and negsim sensitivity: experiments over many scenario variants."""

from __future__ import annotations

from negotiation_sim.cli import app  # noqa: F401  (commands register on the shared app)
