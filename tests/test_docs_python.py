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

    for name in ("scenarios", "experiments"):
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
