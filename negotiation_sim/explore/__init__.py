"""The explorer (``negsim explore``): a scenario's levers in the browser, rerun as they move.

``session`` holds the logic, testable without a browser; ``app`` is the thin Solara page.
"""
