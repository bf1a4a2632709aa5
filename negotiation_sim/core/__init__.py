"""The model: outcome codes, preferences and solution concepts, drawing worlds, the ensemble
Mesa model, its agents and its protocols. Imports only ``config``."""
