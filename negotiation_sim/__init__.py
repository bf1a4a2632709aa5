"""negotiation_sim: ensemble simulation of negotiations between states.

The Python API (``negotiation_sim.api``, docs/python.md) is exported here and loaded on first
use, so that importing the package, its figures (``negotiation_sim.plots``) or the command line's
``--help`` loads neither numpy nor Mesa::

    import negotiation_sim as ns
    res = ns.run("scenarios/summit_baseline.yaml", runs=20_000, seed=0)

The package is one subpackage per layer, imports running one way (README "Layout"): config ->
core -> results -> run -> analysis -> plots -> report -> cli, and the API beside the cli.
"""

import importlib
import sys
import types

__version__ = "0.1.0"

_API = ("InputError", "OutDirError", "Run", "RunsNotKept", "SensitivityWarning", "Sweep",
        "SweepError", "SweepFailed", "SweepInterrupted", "backtest", "compare", "condition",
        "load_experiment", "load_results", "load_scenario", "sensitivity", "sweep", "target",
        "trace", "variance")
_SUBPACKAGES = ("analysis", "api", "cli", "config", "core", "plots", "report", "results")

__all__ = ["__version__", "run", *_API]


def __getattr__(name: str):
    # PEP 562: the API and the subpackages are imported when first asked for.
    if name in _API:
        return getattr(importlib.import_module("negotiation_sim.api"), name)
    if name in _SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, *_SUBPACKAGES})


class _Run:
    """``negotiation_sim.run``: the API's ``run`` (``ns.run(scenario, runs=..., seed=...)``, see
    ``negotiation_sim.api.run``) under the name of the layer that runs the model.

    ``ns.run(...)`` calls the API; any attribute (``ns.run.chunks``, ``ns.run.executors``) is the
    ``negotiation_sim/run/`` subpackage's, so ``import negotiation_sim.run.chunks`` and its uses
    keep working.
    """

    def __call__(self, scenario, **options):
        from negotiation_sim.api import run

        return run(scenario, **options)

    def __getattr__(self, name: str):
        return getattr(importlib.import_module(f"{__name__}.run"), name)

    def __dir__(self) -> list[str]:
        return sorted({*object.__dir__(self), *dir(importlib.import_module(f"{__name__}.run"))})

    @property
    def __signature__(self):
        import inspect

        from negotiation_sim.api import run

        return inspect.signature(run)

    @property
    def __doc__(self) -> str:  # help(ns.run): the API's signature and docstring, not this class
        import inspect

        from negotiation_sim.api import run

        return f"run{inspect.signature(run)}\n\n{inspect.getdoc(run)}"

    def __repr__(self) -> str:
        return "<function negotiation_sim.run (the Python API) and package negotiation_sim.run>"


_Run.__name__ = _Run.__qualname__ = "run"  # what help() and tracebacks call it
run = _Run()


class _Package(types.ModuleType):
    """This package's module: importing the ``run`` subpackage must not replace the API's
    ``run`` (the import system sets each subpackage as an attribute of its parent)."""

    def __setattr__(self, name: str, value) -> None:
        if name == "run" and isinstance(value, types.ModuleType):
            return  # the subpackage stays in sys.modules; ``run``'s attributes reach it
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
