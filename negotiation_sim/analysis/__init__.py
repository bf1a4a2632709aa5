"""Analyses of results, data only: comparisons of scenarios and sensitivity indices."""
