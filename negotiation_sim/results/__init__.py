"""Results: the names of a results directory's files (``schema``), per-world tables (``tables``),
streaming summaries, atomic writers, manifests, the marks figures draw (``marks``) and the one
reader every consumer uses (``reader``). Imports ``config`` and the numpy-only parts of ``core``
(never the model, so figures and reports load without Mesa)."""
