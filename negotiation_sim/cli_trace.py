"""negsim trace: one world's negotiation told round by round."""

from __future__ import annotations

from negotiation_sim.cli import app  # noqa: F401  (commands register on the shared app)
