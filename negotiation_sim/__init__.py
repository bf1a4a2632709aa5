"""negotiation_sim: ensemble simulation of negotiations between states.

The package owns the scenario format (``scenario``), the ensemble Mesa model (``model``,
``agents``, ``protocols``), the solution concepts of bargaining theory (``solutions``), running
ensembles of worlds (``runner``), result tables (``results``) and the command line (``cli``).
"""

__version__ = "0.1.0"
