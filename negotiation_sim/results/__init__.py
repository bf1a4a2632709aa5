"""Results: the column schema and file names, streaming summaries, atomic writers, manifests,
the sweep results directory and the one reader every consumer uses."""
