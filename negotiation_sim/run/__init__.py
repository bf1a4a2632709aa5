"""Running the model: chunks of worlds, traces of one world, sweep tasks and the executors that
run them. Imports ``config`` and ``core``."""
