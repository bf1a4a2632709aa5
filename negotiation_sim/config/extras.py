"""Optional dependencies: which extra of the package installs each, and the one line that says so.

SALib (sobol and morris designs, sensitivity indices) and dask.distributed (the dask executor)
are optional: they are imported where they are used (``require``), never at package import. A
missing one is a ``MissingExtra``, an ``ImportError`` whose message is the line the command line
prints, naming the extra to install::

    a sobol design needs SALib, which is not installed: pip install 'negotiation_sim[sensitivity]'

``missing_extra`` turns a bare ``ModuleNotFoundError`` of an optional module, raised anywhere,
into the same message.
"""

from __future__ import annotations

import importlib
from types import ModuleType

EXTRAS = {  # top-level module -> (distribution to name, extra of negotiation_sim that installs it)
    "SALib": ("SALib", "sensitivity"),
    "dask": ("dask.distributed", "dask"),
    "distributed": ("dask.distributed", "dask"),
}


class MissingExtra(ImportError):
    """An optional dependency is not installed; the message names the extra to install."""


def install_hint(module: str) -> str:
    """``pip install 'negotiation_sim[EXTRA]'`` for a top-level module, or a plain pip line."""
    top = module.split(".")[0]
    extra = EXTRAS.get(top, (top, None))[1]
    return f"pip install 'negotiation_sim[{extra}]'" if extra else f"pip install {top}"


def missing(module: str, what: str) -> MissingExtra:
    """The error for ``what`` (e.g. "a sobol design") needing the absent ``module``."""
    top = module.split(".")[0]
    package = EXTRAS.get(top, (top, None))[0]
    return MissingExtra(f"{what} needs {package}, which is not installed: "
                        f"{install_hint(module)}", name=top)


def require(module: str, what: str) -> ModuleType:
    """Import an optional module, or raise ``MissingExtra`` saying what needs it.

    Args:
        module: the module to import (``SALib.sample.sobol``).
        what: what needs it, for the message (``a sobol design``).
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        if err.name is None or module.split(".")[0] != err.name.split(".")[0]:
            raise  # the optional package is there but something it imports is not
        raise missing(module, what) from err


def missing_extra(err: ImportError) -> MissingExtra | None:
    """``err`` as a ``MissingExtra`` when it is the absence of an optional module, else None."""
    if isinstance(err, MissingExtra):
        return err
    name = getattr(err, "name", None)
    if isinstance(err, ModuleNotFoundError) and name and name.split(".")[0] in EXTRAS:
        return missing(name, "this command")
    return None
