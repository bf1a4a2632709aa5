"""``python -m negotiation_sim`` runs the ``negsim`` command line."""

from negotiation_sim.cli import main

if __name__ == "__main__":
    main()
