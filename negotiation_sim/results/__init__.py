"""Results: the names of a results directory's files (``schema``), per-world tables (``tables``),
streaming summaries, atomic writers, manifests, the marks figures draw (``marks``), the sweep
results directory and the one reader every consumer uses (``reader``)."""
