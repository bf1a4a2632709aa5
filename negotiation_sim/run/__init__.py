"""Running the model: chunks of worlds, traces of one world, sweep tasks and the sweep driver,
and the executors that run them. Imports ``config``, ``core`` and ``results`` (where a run's
summaries and files go)."""
