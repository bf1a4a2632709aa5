"""negsim plot, compare and report: figures and reports of results."""

from __future__ import annotations

from negotiation_sim.cli import app  # noqa: F401  (commands register on the shared app)
