"""The HTML report of a run or sweep."""

from negotiation_sim.report.html import build_report, write_report

__all__ = ["build_report", "write_report"]
