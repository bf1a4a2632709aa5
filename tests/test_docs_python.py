"""docs/python.md runs as written: every ```python block, in order, as one notebook session.

The blocks run in a fresh working directory that sees the repository's scenarios/ and
experiments/ (the doc is a session started at the repository's root), so whatever they write
(results/, figures) lands in a temporary directory.
"""

from __future__ import annotations

import os
import re

import matplotlib
import pytest
from conftest import ROOT

matplotlib.use("Agg")

DOC = ROOT / "docs" / "python.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def blocks(text: str) -> list[str]:
    return BLOCK.findall(text)


def test_the_extraction_finds_every_block():
    text = "x\n```python\na = 1\n```\n```\nnot python\n```\n```python\nb = a\n```\n"
    assert blocks(text) == ["a = 1\n", "b = a\n"]
    assert len(blocks(DOC.read_text())) >= 8  # load, run, pandas, figures, save, sweep, ...


def test_every_python_block_of_docs_python_md_runs(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    for name in ("scenarios", "experiments", "backtests"):
        os.symlink(ROOT / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    session: dict = {"__name__": "__main__"}
    try:
        for i, code in enumerate(blocks(DOC.read_text())):
            try:
                exec(compile(code, f"{DOC.name}, python block {i + 1}", "exec"), session)
            except Exception as err:  # name the block that failed
                pytest.fail(f"block {i + 1} of {DOC.name} raised {type(err).__name__}: {err}\n"
                            f"{code}")
    finally:
        plt.close("all")
    # What the session says it wrote is there.
    assert (tmp_path / "results" / "base" / "scenario.json").is_file()
    assert (tmp_path / "results" / "gvp" / "summary.parquet").is_file()
    assert (tmp_path / "results" / "sens" / "sensitivity.json").is_file()
    # what the examples write goes to results/, not beside the user's files
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backtests", "experiments", "results",
                                                          "scenarios"]


OTHER_DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("doc", OTHER_DOCS, ids=lambda p: p.name)
def test_python_in_the_other_docs_compiles_and_names_what_exists(doc):
    """Blocks too slow to run here (a full Sobol sweep, a SLURM cluster) still parse, and every
    ``ns.NAME`` and ``from negotiation_sim... import NAME`` they use exists."""
    import importlib

    import negotiation_sim as ns

    for i, code in enumerate(blocks(doc.read_text())):
        compile(code, f"{doc.name}, python block {i + 1}", "exec")
        for name in re.findall(r"\bns\.(\w+)", code):
            assert hasattr(ns, name), f"{doc.name}: ns.{name} does not exist"
        for module, names in re.findall(r"^from (negotiation_sim[\w.]*) import ([\w, ]+)", code,
                                        re.M):
            mod = importlib.import_module(module)
            for name in (n.strip() for n in names.split(",")):
                assert hasattr(mod, name), f"{doc.name}: {module}.{name} does not exist"


def test_a_newcomer_is_told_how_to_reach_negsim_after_make_demo():
    """`make demo` installs into .venv, which is not on PATH: its last line, the README and the
    tutorial say how to use negsim from there (the tutorial's first command failed otherwise)."""
    import subprocess

    dry = subprocess.run(["make", "-n", "demo"], cwd=ROOT, capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin", "PYTHON": "python3"})
    assert "source .venv/bin/activate" in dry.stdout, dry.stdout + dry.stderr
    for doc in (ROOT / "README.md", ROOT / "docs" / "tutorial.md"):
        assert "source .venv/bin/activate" in doc.read_text(), doc.name
    assert "make test` about" in (ROOT / "README.md").read_text()  # how long it takes
