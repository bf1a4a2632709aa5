"""The numerics the agents call: plain functions over ensembles of worlds, no Mesa.

- ``nash``, ``linear_nash`` (and its compiled kernel ``_linear_kernels``): the generalised Nash
  text, vectorised over worlds;
- ``proposer``: a proposer's best text leaving each other principal a floor, and the
  Kalai-Smorodinsky text;
- ``drafting``: the mediator's text, complete and private information (screening), and a
  biased drafter's;
- ``solutions``: the reference solution concepts and the Rubinstein and Stahl shares;
- ``backward``: subgame-perfect alternating offers under complete information;
- ``screening``: one-sided skimming under private information (the proposer's plan, and the
  mediator's plan of texts against a strategic informed principal).

Nothing here knows who decides: the agents (``core.agents``) call these functions on their
rows, and the protocols (``core.protocols``) orchestrate the rounds.
"""
